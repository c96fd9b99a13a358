-- A property of every messages.create call (issue 15): for any params table the caller can
-- build (nested, mixed types, cycles, metatables, odd numbers, odd strings), the result is a
-- UsageError with nothing sent, or one request whose body decodes to exactly what the table
-- holds (read raw, as validation read it); never a crash, a raw Lua error or a broken client.
--
-- The tables are random but reproducible: ANTHROPIC_PROPERTY_SEED (default 15) and
-- ANTHROPIC_PROPERTY_CASES (default 400; 60 under the valgrind run, which sets
-- ANTHROPIC_GC_STRESS). A failing case prints its seed and number.

local cjson = require("cjson").new()
local json = require "anthropic.json"
local hostile = require "spec.support.hostile"

local SEED = tonumber(os.getenv("ANTHROPIC_PROPERTY_SEED") or "") or 15
local CASES = tonumber(os.getenv("ANTHROPIC_PROPERTY_CASES") or "")
  or (os.getenv("ANTHROPIC_GC_STRESS") and 60 or 400)

-- A small PRNG of our own (an LCG in plain arithmetic, exact in doubles): the same cases on
-- every Lua version.
local state = SEED
local function rand(n)           -- 1..n
  state = (state * 1103515245 + 12345) % 2147483648
  return math.floor(state / 65536) % n + 1
end
local function pick(list) return list[rand(#list)] end

local MAXINT = math.type and math.tointeger(2 ^ 53) or 2 ^ 53
local NUMBERS = { 0, 1, -1, 7, 2 ^ 31, -2 ^ 31, MAXINT, -MAXINT, 0.5, -0.0, 0.1 + 0.2, 1 / 3, 1e308, -1e-308,
  5e-324, 123456789.123456789, 1e14, 1e15 + 0.5, 3.14159 }
local BAD_NUMBERS = { 0 / 0, math.huge, -math.huge }
local STRINGS = { "", "hi", "héllo", "日本語", "\0", "a\0b", "\"quoted\"", "back\\slash", "\r\n\t", "\127",
  "\226\128\168", "\240\159\152\128", ("x"):rep(3000), "</script>", "null", "[]", "{}", "1e5", "-0" }
local BAD_STRINGS = { "\255", "\192\128", "\237\160\128", "abc\200", "\0anthropic.json.empty_array\0",
  "\0anthropic.json.number:1\0" }

local gen
local function gen_table(depth)
  local kind = rand(9)
  local t = {}
  if kind <= 3 then                                  -- a list
    for i = 1, rand(4) - 1 do t[i] = gen(depth + 1) end
  elseif kind <= 6 then                              -- an object
    for _ = 1, rand(4) - 1 do t[pick(STRINGS) .. rand(50)] = gen(depth + 1) end
  elseif kind == 7 then                              -- keys JSON has no place for
    local k = pick { 0, -1, 1.5, true, {}, 3 }
    t[k] = gen(depth + 1)
    if rand(2) == 1 then t.name = "x" end            -- mixes list items and names
  elseif kind == 8 then                              -- marked empty
    t = pick { json.array(), json.object(), {} }
  else                                               -- a hole
    t[1], t[3] = 1, 3
  end
  return t
end

local function boom() error("raised by a metamethod") end
local function gen_odd_table(depth)
  local t = gen_table(depth)
  local k = rand(8)
  if k == 1 then return setmetatable(t, { __pairs = function() return next, { "other" }, nil end }) end
  if k == 2 then return setmetatable(t, { __pairs = boom }) end
  if k == 3 then return setmetatable(t, { __index = function() return "ghost" end }) end
  if k == 4 then return setmetatable(t, { __len = function() return 99 end }) end
  if k == 5 then return setmetatable(t, { __index = { ghost = true } }) end   -- raw walk: fine
  if k == 6 then return setmetatable(t, { __tostring = boom, __metatable = false }) end
  if k == 7 then t.self = t return t end                                      -- a cycle
  local chain = t
  for _ = 1, 905 do chain = { chain } end                                     -- too deep
  return chain
end

gen = function(depth)
  local k = rand(depth > 4 and 6 or 12)
  if k == 1 then return pick(NUMBERS) end
  if k == 2 then return pick(STRINGS) end
  if k == 3 then return rand(2) == 1 end
  if k == 4 then return json.null end
  if k == 5 then return rand(1000) - 500 end
  if k == 6 then return pick(STRINGS) .. pick(STRINGS) end
  if k <= 9 then return gen_table(depth) end
  if k == 10 then return rand(20) == 1 and gen_odd_table(depth) or gen_table(depth) end
  if k == 11 then                                    -- something JSON cannot hold
    return rand(3) == 1 and pick { print, coroutine.create(function() end), io.stdout } or
      (rand(2) == 1 and pick(BAD_NUMBERS) or pick(BAD_STRINGS))
  end
  local shared = gen_table(depth + 1)                -- the same table twice: fine, sent twice
  return { shared, shared }
end

local function gen_params()
  local p = { model = "claude-haiku-4-5", max_tokens = 1 + rand(64), messages = {} }
  for i = 1, rand(3) do
    p.messages[i] = { role = pick { "user", "assistant" }, content = rand(3) == 1 and pick(STRINGS) or gen(2) }
  end
  local fields = { "metadata", "system", "tools", "x_extra", "temperature", "stop_sequences" }
  for _ = 1, rand(4) - 1 do p[pick(fields)] = gen(1) end
  if rand(25) == 1 then p.max_tokens = pick { 0, 1.5, "16", -1 } end
  if rand(25) == 1 then p.messages = gen_odd_table(1) end
  return p
end

-- What a table holds, read raw: the spec's own walk (next and rawget only), independent of
-- the library's. Returns a plain copy.
local function raw_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, item in next, v do out[k] = raw_copy(item) end
  return out
end

local function same(a, b, path)
  if type(a) == "table" and type(b) == "table" then
    for k, v in next, a do
      local ok, why = same(v, b[k], path .. "." .. tostring(k))
      if not ok then return false, why end
    end
    for k in next, b do
      if a[k] == nil then return false, path .. "." .. tostring(k) .. " was sent but is not in the params" end
    end
    return true
  end
  if a == b or (a == json.null and b == cjson.null) then return true end
  return false, string.format("%s: params hold %s, the body %s", path, tostring(a), tostring(b))
end

local TITLE = "property: every params table is refused or sent as it is (" .. CASES .. " cases, seed " .. SEED .. ")"
describe(TITLE, function()
  local srv, c
  setup(function()
    srv, c = hostile.capturing()
  end)
  teardown(function()
    c:close()
    srv.stop()
  end)

  it("holds for every case, and the client still works after them", function()
    local sent, refused = 0, 0
    for case = 1, CASES do
      local where = string.format("case %d (seed %d)", case, SEED)
      local params = gen_params()
      local ok_expect, expect = pcall(raw_copy, params)  -- a cycle: no expectation, must be refused
      if not ok_expect then expect = nil end
      local before = srv.count()
      local ok, res = pcall(c.messages.create, params)
      if ok then
        sent = sent + 1
        assert.is_not_nil(expect, where .. ": a table with a cycle was sent")
        local reqs = srv.requests()
        assert.equal(before + 1, #reqs, where .. ": one request")
        local body = cjson.decode(reqs[#reqs].body)
        local equal, why = same(expect, body, "params")
        assert(equal, where .. ": " .. tostring(why))
        assert.equal("ok", res.content[1].text)
      else
        refused = refused + 1
        assert.equal("table", type(res), where .. ": a raw Lua error: " .. tostring(res))
        assert.equal("UsageError", res.class_name, where .. ": " .. tostring(res))
        assert.equal("string", type(res.message))
        assert.equal(before, srv.count(), where .. ": refused, yet something was sent")
      end
    end
    -- Both outcomes must actually occur, or the property proved nothing.
    assert.is_true(sent >= CASES / 10, "only " .. sent .. " cases were sent")
    assert.is_true(refused >= CASES / 10, "only " .. refused .. " cases were refused")
    assert.equal("ok", c.messages.create { model = "m", max_tokens = 1,
      messages = { { role = "user", content = "still fine" } } }.content[1].text)
  end)
end)
