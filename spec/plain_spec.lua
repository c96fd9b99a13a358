-- core.plain_copy (src/plain.c), the raw walk behind json.plain on PUC Lua: the same answers as
-- the walk in Lua that LuaJIT and a process without the core take (json._plain_in_lua), table
-- for table and refusal for refusal, on hand-made cases and random trees with every kind of
-- metatable. Both walks run on every Lua, whichever json.plain picks there.
local core = require "anthropic.core"
local json = require "anthropic.json"
local trees = require "spec.support.trees"

-- The core's walk and the Lua one, as json.plain raises: ok, copy or ok=false, the error.
local function with_core(v) return pcall(json._plain_in_c, v, "p") end
local function with_lua(v) return pcall(json._plain_in_lua, v, "p") end

local function message(err) return type(err) == "table" and err.message or tostring(err) end

-- a and b are copies of the same tree: the same raw contents, the same marks, shared where
-- the other is shared, and neither is a table of the original.
local function same_copy(a, b, orig, seen_a, seen_b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b or (a ~= a and b ~= b) end
  if a == orig or b == orig then return false, "the copy is the original" end
  if seen_a[a] or seen_b[b] then return seen_a[a] == b and seen_b[b] == a, "shared differently" end
  seen_a[a], seen_b[b] = b, a
  if getmetatable(a) ~= getmetatable(b) then return false, "marks differ" end
  for k, v in next, a do
    local ok, why = same_copy(v, rawget(b, k), rawget(orig, k), seen_a, seen_b)
    if not ok then return false, why end
  end
  for k in next, b do if rawget(a, k) == nil then return false, "extra key" end end
  return true
end

local function agree(v)
  local ok1, r1 = with_core(v)
  local ok2, r2 = with_lua(v)
  assert.equal(ok2, ok1, "one walk refused, the other did not: " .. message(ok1 and r2 or r1))
  if not ok1 then
    assert.equal("UsageError", r1.class_name)
    assert.equal(message(r2), message(r1))
    return false, message(r1)
  end
  local same, why = same_copy(r1, r2, v, {}, {})
  assert.is_true(same, why)
  return true, r1
end

local proxy_pairs = { __pairs = function(t) return next, t, nil end }
local proxy_index = { __index = function() return 1 end }

describe("core.plain_copy", function()
  it("needs a table and the sent_raw set", function()
    assert.has_error(function() core.plain_copy(1, {}, {}, {}) end)
    assert.has_error(function() core.plain_copy({}, {}, {}, nil) end)
  end)

  it("copies tables at any depth, keeping keys, values and the json marks", function()
    local key = {}
    local v = { a = { 1, 2, { x = "y" } }, [key] = true, list = json.array(), obj = json.object({ k = 1 }) }
    local ok, copy = agree(v)
    assert.is_true(ok)
    assert.equal(true, copy[key], "a table key is kept as the same key")
    assert.equal(json.array_mt, getmetatable(copy.list))
    assert.equal(json.object_mt, getmetatable(copy.obj))
    assert.are_not.equal(v.a[3], copy.a[3])
  end)

  it("drops a metatable that shows what the table holds, refuses one that does not", function()
    local ok, copy = agree({ m = setmetatable({ 1 }, { __tostring = function() return "x" end }) })
    assert.is_true(ok)
    assert.is_nil(getmetatable(copy.m))
    assert.is_true(agree({ m = setmetatable({}, { __index = { hidden = 1 } }) }))
    for _, mt in ipairs { proxy_pairs, proxy_index, { __len = function() return 0 end },
                          { __ipairs = function() end } } do
      local refused, msg = agree({ a = { b = setmetatable({}, mt) } })
      assert.is_false(refused)
      assert.truthy(msg:find("^p%.a%.b: is a proxy table %(its metatable has __%a+%)"), msg)
    end
  end)

  it("sends a table of a registered metatable as it holds (json.send_raw)", function()
    local mt = json.send_raw({ __index = function() return "lua-only" end })
    local ok, copy = agree({ tool = setmetatable({ name = "t" }, mt) })
    assert.is_true(ok)
    assert.equal("t", copy.tool.name)
    assert.is_nil(getmetatable(copy.tool))
  end)

  it("refuses cycles and copies shared tables once, shared the same way", function()
    local t = { n = 1 }
    t.self = { back = t }
    local ok, msg = agree({ x = { t } })
    assert.is_false(ok)
    assert.equal("p.x[1].self.back: table contains itself (a cycle)", msg)
    local shared = { 1 }
    local ok2, copy = agree({ shared, { shared }, s = shared })
    assert.is_true(ok2)
    assert.equal(copy[1], copy[2][1])
    assert.equal(copy[1], copy.s)
  end)

  it("refuses the top table itself by an empty path", function()
    local ok, msg = agree(setmetatable({}, proxy_pairs))
    assert.is_false(ok)
    assert.truthy(msg:find("^p: is a proxy table"), msg)
  end)

  it("refuses a table nested deeper than 900 levels, and takes one at 900", function()
    assert.is_true(agree(trees.nest(900)))
    local ok, msg = agree(trees.nest(901))
    assert.is_false(ok)
    assert.truthy(msg:find(": nested too deeply$"), msg)
    assert.equal(901, select(2, msg:gsub("%.c", "")))
  end)

  it("agrees with the Lua walk on 500 random trees", function()
    local rand = trees.rand(22)
    local pool, marks = {}, { json.array_mt, json.object_mt, proxy_pairs, proxy_index,
      { __name = "plain" }, json.send_raw({ __pairs = function() end }) }
    local function tree(depth)
      local t = {}
      for i = 1, rand(4) - 1 do
        local r = rand(10)
        local k = rand(2) == 1 and i or ("k" .. rand(5))
        if r <= 4 and depth < 5 then t[k] = tree(depth + 1)
        elseif r == 5 and #pool > 0 then t[k] = pool[rand(#pool)]     -- shared, or a cycle
        elseif r == 6 then t[k] = rand(100) / 7
        else t[k] = "s" .. rand(9) end
      end
      if rand(6) == 1 then setmetatable(t, marks[rand(#marks)]) end
      pool[#pool + 1] = t
      return t
    end
    local refused = 0
    for _ = 1, 500 do
      pool = {}
      if not agree(tree(0)) then refused = refused + 1 end
    end
    -- Both outcomes were exercised, not only one of them.
    assert.is_true(refused > 20 and refused < 480, "refused " .. refused .. " of 500")
  end)
end)
