-- The mock's pure modules, without a server: JSON encoding, reply planning,
-- schema values, fault parsing, pagination, config merging, CLI parsing.
local json = require "anthropic.mock.json"
local reply = require "anthropic.mock.reply"
local schema = require "anthropic.mock.schema"
local faults = require "anthropic.mock.faults"
local paginate = require "anthropic.mock.paginate"
local config = require "anthropic.mock.config"
local cli = require "anthropic.mock.cli"
local replay = require "anthropic.mock.replay"
local cjson = require "cjson"

describe("anthropic.mock.json", function()
  local rows = {
    { "integers without fraction", { a = 3.0, b = -2 }, '{"a":3,"b":-2}' },
    { "fractions", { 1.5, 0.25 }, "[1.5,0.25]" },
    { "sorted keys by default", { z = 1, a = 2, m = 3 }, '{"a":2,"m":3,"z":1}' },
    { "empty table is an object", {}, "{}" },
    { "marked empty array", json.array(), "[]" },
    { "null", { a = json.null }, '{"a":null}' },
    { "escapes", { "q\"b\\n\n\t\1" }, '["q\\"b\\\\n\\n\\t\\u0001"]' },
    { "UTF-8 passes through", { "héllo 👋" }, '["héllo 👋"]' },
    { "declared order first", json.obj(json.order({ "type", "id" }), { id = 1, type = "x", extra = true }),
      '{"type":"x","id":1,"extra":true}' },
  }
  for _, row in ipairs(rows) do
    it(row[1], function() assert.equal(row[3], json.encode(row[2])) end)
  end

  it("has a spaced form like Python's json.dumps", function()
    assert.equal('{"a": 1, "b": [1, 2]}', json.encode_spaced({ a = 1, b = { 1, 2 } }))
  end)

  it("decodes without raising", function()
    assert.same({ a = 1 }, json.decode('{"a":1}'))
    local v, err = json.decode("{")
    assert.is_nil(v)
    assert.equal("Expected object key string but found T_END at character 2", err)
  end)
end)

describe("anthropic.mock.reply", function()
  local rows = {
    { "Hello world", { "Hello", " world" } },
    { "  lead and trail  ", { "  lead", " and", " trail  " } },
    { "a\nb", { "a", "\nb" } },
    { "", {} },
    { "   ", { "   " } },
  }
  for _, row in ipairs(rows) do
    it("pieces(" .. cjson.encode(row[1]) .. ")", function()
      local p = reply.pieces(row[1])
      assert.same(row[2], p)
      assert.equal(row[1], table.concat(p))
    end)
  end

  it("fragments JSON at several places and loses nothing", function()
    local s = '{"city": "Paris", "units": "celsius"}'
    local f = reply.fragments(s)
    assert.same({ '{"city"', ': "Pa', 'ris", "un', 'its', '": "celsius', '"}' }, f)
    assert.equal(s, table.concat(f))
  end)

  it("plans the same reply for the same params", function()
    local p = { model = "m", max_tokens = 10, messages = { { role = "user", content = "x y" } } }
    local a, b = reply.plan(p), reply.plan(p)
    assert.same(a, b)
    assert.equal(4 + math.ceil(#json.encode({ messages = p.messages }) / 4), a.input_tokens)
  end)

  it("honours deltas exactly, whatever max_tokens says", function()
    local plan = reply.plan({ max_tokens = 5, messages = { { role = "user", content = "a b" } } }, { deltas = 12 })
    assert.equal(12, #plan.blocks[1].pieces)
    assert.equal(12, plan.output_tokens)
    assert.equal("end_turn", plan.stop_reason)
  end)

  it("cuts a tool_use input at max_tokens and leaves the JSON input empty", function()
    local p = { max_tokens = 4, tool_choice = { type = "any" }, messages = { { role = "user", content = "go" } },
      tools = { { name = "t", input_schema = { type = "object", properties = { long_name = { type = "string" } } } } } }
    local plan = reply.plan(p)
    assert.equal("max_tokens", plan.stop_reason)
    assert.equal(4, #plan.blocks[1].pieces)
    assert.same({}, reply.message(plan, "id", "m").content[1].input)
  end)
end)

describe("anthropic.mock.schema", function()
  local rows = {
    { { type = "string" }, "mock-value" },
    { { type = "string", minLength = 15 }, "mock-valuexxxxx" },
    { { type = "string", maxLength = 4 }, "mock" },
    { { type = "integer" }, 1 },
    { { type = "integer", minimum = 10, maximum = 20 }, 10 },
    { { type = "integer", exclusiveMinimum = 10 }, 11 },
    { { type = "number", maximum = 0.5 }, 0.5 },
    { { type = "boolean" }, true },
    { { enum = { "b", "a" } }, "b" },
    { { const = 42 }, 42 },
    { { type = { "null", "integer" } }, 1 },
    { { anyOf = { { type = "boolean" }, { type = "string" } } }, true },
    { { type = "array", items = { type = "integer" }, minItems = 3 }, { 1, 1, 1 } },
    { { type = "object", properties = { a = { type = "string" } } }, { a = "mock-a" } },
    { { ["$defs"] = { P = { type = "integer", default = 7 } }, type = "object",
      properties = { p = { ["$ref"] = "#/$defs/P" } } }, { p = 7 } },
  }
  for i, row in ipairs(rows) do
    it("row " .. i .. ": " .. cjson.encode(row[1]), function()
      assert.same(row[2], schema.value(row[1]))
    end)
  end

  it("terminates on a recursive schema", function()
    local s = { type = "object", properties = { child = { ["$ref"] = "#" } } }
    local v = schema.value(s)
    assert.equal("table", type(v.child.child.child))
  end)
end)

describe("anthropic.mock.faults", function()
  it("turns the status shorthand into a one-element sequence", function()
    local state = faults.new_state()
    local h = '{"status":529,"delay_ms":5}'
    local a = faults.pick(state, h, {}, { method = "POST", path = "/v1/messages" }, "/v1/messages")
    local b = faults.pick(state, h, {}, { method = "POST", path = "/v1/messages" }, "/v1/messages")
    assert.equal(529, a.status)
    assert.equal(5, a.delay_ms)
    assert.is_nil(b.status)
    assert.equal(5, b.delay_ms)
  end)

  it("makes JSON numbers integers (Lua 5.3+ decodes floats)", function()
    local f = assert(faults.parse('{"status":529,"headers":{"retry-after":2}}'))
    assert.equal("529", tostring(f.sequence[1].status))
    assert.equal("2", f.base.headers["retry-after"])
  end)

  it("matches config entries by path suffix, method and model", function()
    local cfg = { assert(faults.parse({ path = "/v1/models", method = "get", status = 500 }, true)),
      assert(faults.parse({ model = "m2", status = 529 }, true)) }
    local state = faults.new_state()
    assert.is_nil(faults.pick(state, nil, cfg, { method = "POST", path = "/v1/models", body = "" }, "/v1/models"))
    assert.equal(500, faults.pick(state, nil, cfg, { method = "GET", path = "/x/v1/models" }, "/v1/models").status)
    assert.equal(529, faults.pick(state, nil, cfg, { method = "POST", path = "/v1/messages", body = '{"model":"m2"}' },
      "/v1/messages").status)
    assert.is_nil(faults.pick(state, nil, cfg, { method = "POST", path = "/v1/messages", body = '{"model":"m1"}' },
      "/v1/messages"))
  end)
end)

describe("anthropic.mock.paginate", function()
  it("parses queries with escapes", function()
    assert.same({ a = "x y", b = "é&", c = "" }, paginate.query("a=x+y&b=%C3%A9%26&c=&a=second"))
  end)
end)

describe("anthropic.mock.replay", function()
  it("sizes cover the file exactly", function()
    local total = 0
    for n in replay.sizes(1000, "random", 3) do
      assert.is_true(n >= 1 and n <= 64)
      total = total + n
    end
    assert.equal(1000, total)
    local k = 0
    for n in replay.sizes(10, 4) do k = k + n end
    assert.equal(10, k)
  end)
end)

describe("anthropic.mock.config", function()
  it("has the three tiers and their keys", function()
    local c = config.defaults()
    assert.equal("free", c.keys["sk-ant-mock-free"].tier)
    assert.equal("claude-opus-4-7", c.model_list[1].id)
    assert.equal(c.model_by_name["claude-3-5-haiku-20241022"], c.model_by_name["claude-3-5-haiku-latest"])
    assert.equal(32 * 1024 * 1024, c.max_body_bytes)
  end)

  it("replaces a model with the same id", function()
    local c = assert(config.apply(config.defaults(), { models = { { id = "claude-haiku-4-5", tier = "scale" } } }))
    assert.equal("scale", c.model_by_name["claude-haiku-4-5"].tier)
    local n = 0
    for _, m in ipairs(c.model_list) do if m.id == "claude-haiku-4-5" then n = n + 1 end end
    assert.equal(1, n)
  end)

  it("never names a key in its messages", function()
    local _, err = config.apply(config.defaults(), { keys = { ["sk-secret-123"] = { tier = "nope" } } })
    assert.equal("keys.<13-character key>.tier: unknown tier 'nope'", err)
  end)
end)

describe("anthropic.mock.cli parse", function()
  it("accepts --flag value and --flag=value", function()
    local o = assert(cli.parse({ "--port=0", "--host", "::1", "--verbose", "--watch-pid", "12" }))
    assert.same({ 0, "::1", true, 12 }, { o.port, o.host, o.verbose, o.watch_pid })
  end)
end)
