-- core.json_preparer (src/json_prepare.c), the walk json.encode takes on PUC Lua before cjson
-- prints a table: the same text and the same refusals as the walk in Lua that LuaJIT and a
-- process without the core take (json._encode_in_lua), on hand-made cases and on random trees
-- of every kind of value, key and mark. Both walks run on every Lua, whichever json.encode
-- picks there.
local core = require "anthropic.core"
local json = require "anthropic.json"
local trees = require "spec.support.trees"

local function message(err) return type(err) == "table" and err.message or tostring(err) end

-- A deep, raw picture of v: what the walks may read and must not write.
local function snapshot(v, seen)
  if type(v) ~= "table" then return v end
  seen = seen or {}
  if seen[v] then return seen[v] end
  local s = {}
  seen[v] = s
  for k, item in next, v do s[k] = snapshot(item, seen) end
  s["\1mt"] = debug.getmetatable(v)
  return s
end

local function same(a, b, seen)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b or (a ~= a and b ~= b) end
  seen = seen or {}
  if seen[a] then return seen[a] == b end
  seen[a] = b
  for k, item in next, a do if not same(item, rawget(b, k), seen) then return false end end
  for k in next, b do if rawget(a, k) == nil then return false end end
  return true
end

-- Both walks encode v the same way, or refuse it with the same UsageError; neither writes v.
-- Returns ok, and the text or the message.
local function agree(v, path)
  local before = snapshot(v)
  local ok1, r1 = pcall(json._encode_in_c, v, path)
  assert.is_true(same(before, snapshot(v)), "the core's walk wrote the caller's table")
  local ok2, r2 = pcall(json._encode_in_lua, v, path)
  assert.equal(ok2, ok1, "one walk refused, the other did not: " .. message(ok1 and r2 or r1))
  if not ok1 then
    assert.equal("UsageError", r1.class_name, message(r1))
    assert.equal(message(r2), message(r1))
    return false, message(r1)
  end
  assert.equal(r2, r1)
  return true, r1
end

describe("core.json_preparer", function()
  it("checks its constants once, and each call's arguments", function()
    local mt = {}
    assert.has_error(function() core.json_preparer(mt, mt, json.null, {}, {}, "e", "n", "") end)
    assert.has_error(function() core.json_preparer(mt, mt, json.null, nil, {}, "e", "n", "r") end)
    local prepare = core.json_preparer(mt, mt, json.null, {}, {}, "e", "n", "r")
    assert.has_error(function() prepare("not a table", {}) end)
    assert.has_error(function() prepare({}, nil) end)
  end)

  it("returns the table itself when nothing in it must change", function()
    local t = { model = "m", messages = { { role = "user", content = "hi" } }, max_tokens = 16 }
    local ok, text = agree(t)
    assert.is_true(ok)
    assert.same(t, json.decode(text))
  end)

  it("sends empty lists as [] by mark or by key, and {} under user data or json.object", function()
    local ok, text = agree({
      messages = {}, stop_sequences = {}, marked = json.array(), obj = json.object(),
      tools = { { name = "t", input_schema = { type = "object", properties = {}, required = {} } } },
      metadata = { content = {} }, input = { messages = {} },
      hidden = setmetatable({}, { __metatable = json.array_mt }),
      masked = setmetatable({}, { __metatable = false, __index = json.array_mt }),
    })
    assert.is_true(ok)
    local back = json.decode(text)
    for _, k in ipairs { "messages", "stop_sequences", "marked", "hidden" } do
      assert.truthy(text:find('"' .. k .. '":[]', 1, true), k .. " in " .. text)
    end
    assert.truthy(text:find('"required":[]', 1, true), text)
    assert.truthy(text:find('"properties":{}', 1, true), text)
    assert.truthy(text:find('"obj":{}', 1, true), text)
    assert.truthy(text:find('"masked":{}', 1, true), text)
    assert.same({ content = {} }, back.metadata)
    assert.same({ messages = {} }, back.input)
  end)

  it("writes numbers cjson would print inexactly exactly, and the next encode starts afresh", function()
    local big = math.tointeger and math.tointeger(2 ^ 53) + 1 or 2 ^ 53
    local ok, text = agree({ a = 0.1 + 0.2, b = big, c = { 1e300, -123456789012345.5, 3, 1e14 } })
    assert.is_true(ok)
    assert.truthy(text:find('"a":0.30000000000000004', 1, true), text)
    assert.truthy(text:find('"b":' .. (math.tointeger and "9007199254740993" or "9007199254740992"), 1, true),
      text)
    assert.truthy(text:find('1e+300', 1, true), text)
    assert.truthy(text:find('-123456789012345.5', 1, true), text)
    assert.is_true(agree({ 1, 2, 3 }))
    local _, plain = agree({ x = "\0" .. "anthropic" })
    assert.equal('{"x":"\\u0000anthropic"}', plain)
  end)

  it("refuses what JSON cannot hold with the path and the reason", function()
    local cases = {
      { { a = { b = { 1, 2, function() end } } }, "p.a.b[3]: cannot encode a function as JSON" },
      { { a = { 1, nil, 3 } }, "p.a: list has holes (a nil in the middle?)" },
      { { a = { [true] = 1 } }, "p.a: table key of type boolean cannot be encoded" },
      { { a = { [{}] = 1 } }, "p.a: table key of type table cannot be encoded" },
      { { a = { x = 1, 2 } }, "p.a: table mixes list items and named fields" },
      { { a = { [0] = 1 } }, "p.a: table has a non-positive or fractional key" },
      { { a = { [1.5] = 1 } }, "p.a: table has a non-positive or fractional key" },
      { { a = { 0 / 0 } }, "p.a[1]: number must be finite" },
      { { a = { n = -math.huge } }, "p.a.n: number must be finite" },
      { { a = { "\0anthropic.json.empty_array\0" } }, "p.a[1]: string is reserved by anthropic.json" },
      { { a = { ["\0anthropic.json.x"] = 1 } }, "p.a: key is reserved by anthropic.json" },
      { { a = { co = coroutine.create(function() end) } }, "p.a.co: cannot encode a thread as JSON" },
      { { u = io.stdout }, "p.u: cannot encode a userdata as JSON" },
      { { [1] = { [2] = { x = print } } }, "p[1][2].x: cannot encode a function as JSON" },
      { { 1, 2, k = 3 }, "p: table mixes list items and named fields" },
    }
    for _, case in ipairs(cases) do
      local ok, msg = agree(case[1], "p")
      assert.is_false(ok, case[2])
      assert.equal(case[2], msg)
    end
    local ok, msg = agree({ x = print })
    assert.is_false(ok)
    assert.equal("x: cannot encode a function as JSON", msg)
    local ok2, msg2 = agree({ [true] = 1 })
    assert.is_false(ok2)
    assert.equal("body: table key of type boolean cannot be encoded", msg2)
  end)

  it("takes a table nested 900 levels deep and refuses one at 901", function()
    assert.is_true(agree(trees.nest(900)))
    local ok, msg = agree(trees.nest(901))
    assert.is_false(ok)
    assert.truthy(msg:find(": nested too deeply$"), msg)
    assert.equal(901, select(2, msg:gsub("c", "")))
  end)

  it("agrees with the Lua walk on 1,000 random trees", function()
    local rand = trees.rand(7)
    local big = math.tointeger and math.tointeger(2 ^ 60) + 7 or 2 ^ 60
    local leaves = { 1, -7, 0.5, 1 / 3, 1e14, 1e15 + 0.5, big, 2 ^ 63, -0.0, 0 / 0, math.huge, true, false,
      json.null, "s", "", "\0x", "\0anthropic.json.", print, io.stdout }
    local key_names = { "messages", "content", "tools", "required", "input", "properties", "metadata",
      "$defs", "enum", "k", "\0anthropic.json.k" }
    local marks = { json.array_mt, json.object_mt, { __metatable = json.array_mt }, { __name = "other" } }
    local function tree(depth)
      local t = {}
      local list = rand(2) == 1
      for i = 1, rand(4) - 1 do
        local r = rand(12)
        local k = list and i or key_names[rand(#key_names)]
        if rand(40) == 1 then k = ({ 0, 2.5, true, i + 1 })[rand(4)] end -- a key JSON cannot hold
        if r <= 4 and depth < 5 then t[k] = tree(depth + 1)
        elseif r == 5 then t[k] = {}
        else t[k] = leaves[rand(#leaves)] end
      end
      if rand(5) == 1 then setmetatable(t, marks[rand(#marks)]) end
      return t
    end
    local refused = 0
    for _ = 1, 1000 do
      if not agree(tree(0)) then refused = refused + 1 end
    end
    -- Both outcomes were exercised, not only one of them.
    assert.is_true(refused > 50 and refused < 950, "refused " .. refused .. " of 1000")
  end)
end)
