-- core.fix_integers (src/numbers.c): the integers of a decoded JSON value restored in place,
-- as math.tointeger would, by the walk anthropic.json runs over every reply and event.
local core = require "anthropic.core"
local json = require "anthropic.json"
local cjson = require "cjson"

local fix = core.fix_integers

-- The reference: the walk as Lua (what json.lua falls back to without the core).
local function lua_fix(v)
  for k, item in pairs(v) do
    if type(item) == "table" then
      lua_fix(item)
    elseif type(item) == "number" then
      local i = math.tointeger(item)
      if i then v[k] = i end
    end
  end
  return v
end

-- Deep equality that also compares math.type of every number.
local function same(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" then
    if a ~= a then return b ~= b end
    return a == b and math.type(a) == math.type(b)
  end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

describe("core.fix_integers", function()
  it("returns a value that is not a table as it is, and its one argument's table itself", function()
    assert.are.equal("3", fix("3"))
    assert.are.equal(true, fix(true))
    local t = {}
    assert.are.equal(t, fix(t))
    assert.has_error(function() fix() end)
  end)

  if not math.type then
    it("leaves every number as it is on " .. _VERSION .. " (numbers are doubles)", function()
      local t = fix(cjson.decode('{"a":[1,2.5,{"b":3}]}'))
      assert.are.same({ a = { 1, 2.5, { b = 3 } } }, t)
    end)
    return
  end

  it("turns each float with an exact integer value into that integer, at any depth", function()
    local t = fix(cjson.decode('{"usage":{"input_tokens":12,"output_tokens":0},"list":[1,2.5,[3,[4]]],'
      .. '"big":1e15,"neg":-7,"frac":0.1,"s":"5","z":-0.0}'))
    assert.are.equal("integer", math.type(t.usage.input_tokens))
    assert.are.equal("integer", math.type(t.usage.output_tokens))
    assert.are.equal(12, t.usage.input_tokens)
    assert.are.equal("integer", math.type(t.list[1]))
    assert.are.equal("float", math.type(t.list[2]))
    assert.are.equal("integer", math.type(t.list[3][2][1]))
    assert.are.equal("integer", math.type(t.big))
    assert.are.equal(-7, t.neg)
    assert.are.equal("float", math.type(t.frac))
    assert.are.equal("5", t.s)
    assert.are.equal("integer", math.type(t.z))
  end)

  it("leaves floats without an integer value as they are: NaN, the infinities, 2^63", function()
    local t = fix { 0 / 0, math.huge, -math.huge, 2.0 ^ 63, -(2.0 ^ 64) }
    assert.is_true(t[1] ~= t[1])
    assert.are.equal(math.huge, t[2])
    assert.are.equal(-math.huge, t[3])
    assert.are.equal("float", math.type(t[4]))
    assert.are.equal("float", math.type(t[5]))
    assert.are.equal(math.mininteger, fix { -(2.0 ^ 63) }[1])
  end)

  it("walks raw: a metatable's __pairs or __index does not run, keys stay as they are", function()
    local inner = setmetatable({ 2.0 }, { __pairs = function() error("ran __pairs") end,
      __index = function() error("ran __index") end })
    local t = fix { [1.5] = 1.0, x = inner }
    assert.are.equal("integer", math.type(t[1.5]))
    assert.are.equal("integer", math.type(rawget(inner, 1)))
  end)

  it("gives what the Lua walk gives, over 300 random decoded values", function()
    local seed = 4242
    local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
    local function value(depth)
      local r = rnd(depth > 4 and 4 or 7)
      if r == 0 then return tostring(rnd(1000)) end
      if r == 1 then return rnd(2) == 0 and "true" or "null" end
      if r == 2 then return ("%d"):format(rnd(2000000) - 1000000) end
      if r == 3 then return ("%.3f"):format(rnd(100000) / 7) end
      if r == 4 then return ("%de%d"):format(rnd(90) + 1, rnd(20)) end
      local parts = {}
      for i = 1, rnd(6) do
        parts[i] = r == 5 and value(depth + 1) or ('"k%d":%s'):format(i, value(depth + 1))
      end
      return r == 5 and "[" .. table.concat(parts, ",") .. "]" or "{" .. table.concat(parts, ",") .. "}"
    end
    for _ = 1, 300 do
      local text = "[" .. value(0) .. "]"
      assert.is_true(same(lua_fix(cjson.decode(text)), fix(cjson.decode(text))), text)
    end
  end)

  it("is what json.decode runs: a decoded reply's counts are integers", function()
    local t = json.decode('{"content":[{"type":"tool_use","input":{"n":3,"x":1.25}}],"usage":{"input_tokens":9}}')
    assert.are.equal("integer", math.type(t.usage.input_tokens))
    assert.are.equal("integer", math.type(t.content[1].input.n))
    assert.are.equal("float", math.type(t.content[1].input.x))
  end)
end)
