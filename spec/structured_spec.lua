-- Structured outputs: messages.parse and messages.stream with a json_schema format against the
-- mock (which answers such requests with a schema-satisfying document, or a broken one on
-- request), ParseError, on_parsed; the request carries anthropic.schema.for_api(S).

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local errors = anthropic.errors
local HAIKU = "claude-haiku-4-5"

local QUEST = {
  type = "object",
  properties = {
    title = { type = "string", minLength = 3 },
    reward = { type = "integer", minimum = 10 },
    steps = { type = "array", items = { type = "string" }, minItems = 2 },
    kind = { enum = { "fetch", "slay" } },
  },
  required = { "title", "reward", "steps", "kind" },
}

local function params(s, extra)
  local p = { model = HAIKU, max_tokens = 256, messages = { { role = "user", content = "A quest, please" } },
    output_config = { format = { type = "json_schema", schema = s or QUEST } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function fault(t) return { headers = { ["x-mock-fault"] = cjson.encode(t) } } end

local EXPECTED = { title = "mock-title", reward = 10, steps = { "mock-steps", "mock-steps" }, kind = "fetch" }

describe("messages.parse", function()
  local client
  setup(function() client = support.new_client() end)
  teardown(function() client:close() end)
  before_each(function() mock.clear() end)

  it("returns the Message with parsed_output: the first text block's JSON, checked", function()
    local msg = client.messages.parse(params())
    assert.same(EXPECTED, msg.parsed_output)
    assert.equal("text", msg.content[1].type)
    assert.same(EXPECTED, cjson.decode(msg.content[1].text))
    assert.is_string(msg._request_id)
  end)

  it("sends the schema transformed for the API, the rest of the params as given", function()
    local p = params(nil, { temperature = 0 })
    client.messages.parse(p)
    local body = mock.bodies("/v1/messages")[1]
    assert.same(anthropic.schema.for_api(QUEST), body.output_config.format.schema)
    assert.equal(false, body.output_config.format.schema.additionalProperties)
    assert.equal("json_schema", body.output_config.format.type)
    assert.equal(0, body.temperature)
    assert.is_nil(QUEST.additionalProperties, "the caller's schema is not changed")
    assert.equal(3, p.output_config.format.schema.properties.title.minLength)
  end)

  it("raises ParseError with raw, errors, message and request id when the answer breaks the schema", function()
    local err = support.raises(client.messages.parse, params(), fault { break_schema = true })
    assert.is_true(errors.ParseError.is_class_of(err))
    assert.is_true(err:is(errors.AnthropicError))
    assert.is_false(err:is(errors.APIError))
    assert.same({ { path = "$", reason = 'missing required property "title"' } }, err.errors)
    assert.equal("the reply does not match the schema: $: missing required property \"title\"", err.message)
    assert.is_nil(cjson.decode(err.raw).title)
    assert.is_string(err.request_id)
    assert.matches("^ParseError: the reply does not match the schema", tostring(err))
  end)

  it("raises ParseError for text that is not JSON", function()
    local err = support.raises(client.messages.parse, params(), fault { text = "Sure! Here is a quest." })
    assert.is_true(errors.ParseError.is_class_of(err))
    assert.equal("Sure! Here is a quest.", err.raw)
    assert.equal(1, #err.errors)
    assert.equal("$", err.errors[1].path)
    assert.matches("^not JSON", err.errors[1].reason)
  end)

  it("says when the JSON was cut off by max_tokens", function()
    local err = support.raises(client.messages.parse, params(nil, { max_tokens = 3 }))
    assert.is_true(errors.ParseError.is_class_of(err))
    assert.equal("max_tokens", err.stop_reason)
    assert.matches("%(stop_reason max_tokens%)$", err.errors[1].reason)
  end)

  it("checks constraints the API does not enforce (moved into the description)", function()
    -- The API form carries `minimum` only in the description: a model that ignores it is
    -- caught by the local check against the caller's schema.
    local s = { type = "object", properties = { n = { type = "integer", minimum = 50 } }, required = { "n" } }
    assert.equal("{minimum: 50}", anthropic.schema.for_api(s).properties.n.description)
    assert.same({ n = 50 }, client.messages.parse(params(s)).parsed_output, "the mock reads it back")
    local err = support.raises(client.messages.parse, params(s), fault { text = '{"n": 1}' })
    assert.same({ { path = "$.n", reason = "must be >= 50, got 1" } }, err.errors)
  end)

  it("without a json_schema format is a UsageError, before any request", function()
    local p = params()
    p.output_config = nil
    local err = support.raises(client.messages.parse, p)
    assert.is_true(errors.UsageError.is_class_of(err))
    assert.equal("output_config.format", err.param)
    p.output_config = { format = { type = "text" } }
    assert.is_true(errors.UsageError.is_class_of(support.raises(client.messages.parse, p)))
    assert.equal(0, #mock.bodies("/v1/messages"))
  end)

  it("with on_done hands the parsed Message or the ParseError to it", function()
    local got = {}
    client.messages.parse(params(), { on_done = function(err, msg) got[1] = { err = err, msg = msg } end })
    client.messages.parse(params(), { on_done = function(err, msg) got[2] = { err = err, msg = msg } end,
      headers = { ["x-mock-fault"] = cjson.encode { break_schema = true } } })
    while client:poll(100) > 0 do end
    assert.is_nil(got[1].err)
    assert.same(EXPECTED, got[1].msg.parsed_output)
    assert.is_true(errors.ParseError.is_class_of(got[2].err))
    assert.is_nil(got[2].msg)
  end)
end)

describe("messages.stream with a json_schema format", function()
  local client
  setup(function() client = support.new_client() end)
  teardown(function() client:close() end)
  before_each(function() mock.clear() end)

  it("final_message().parsed_output is the checked value", function()
    local s = client.messages.stream(params())
    assert.same(EXPECTED, s:final_message().parsed_output)
    local body = mock.bodies("/v1/messages")[1]
    assert.same(anthropic.schema.for_api(QUEST), body.output_config.format.schema)
  end)

  it("a broken answer fails final_message() with ParseError", function()
    local s = client.messages.stream(params(), fault { break_schema = true })
    local ok, err = pcall(s.final_message, s)
    assert.is_false(ok)
    assert.is_true(errors.ParseError.is_class_of(err))
    assert.equal("title", err.errors[1].reason:match('"(%w+)"'))
    assert.is_string(err.request_id)
  end)

  it("on_parsed hands best-effort values as the JSON grows; on_message the checked one", function()
    local seen, texts, final = {}, {}, nil
    local s = client.messages.stream(params(), {
      on_parsed = function(v, text) seen[#seen + 1] = v; texts[#texts + 1] = text end,
      on_message = function(m) final = m.parsed_output end,
    })
    local msg = s:final_message()
    assert.is_true(#seen > 5, "one value per small delta")
    assert.same(EXPECTED, seen[#seen])
    assert.same(EXPECTED, final)
    assert.equal(msg.content[1].text, texts[#texts])
    for i = 2, #texts do
      assert.equal(texts[i - 1], texts[i]:sub(1, #texts[i - 1]), "each text extends the one before")
    end
    -- an early value: the title as far as it came
    local partial_title
    for _, v in ipairs(seen) do
      if type(v.title) == "string" and #v.title < #"mock-title" then partial_title = v.title end
    end
    assert.is_string(partial_title)
    assert.equal(partial_title, ("mock-title"):sub(1, #partial_title))
  end)

  it("the mock streams the document in small text deltas", function()
    local sizes = {}
    local s = client.messages.stream(params(), { on_event = function(ev)
      if ev.type == "content_block_delta" then sizes[#sizes + 1] = #ev.delta.text end
    end })
    local text = s:final_message().content[1].text
    assert.is_true(#sizes > 5)
    for _, n in ipairs(sizes) do assert.is_true(n >= 1 and n <= 11) end
    assert.same(EXPECTED, cjson.decode(text))
  end)

  it("on_parsed without a json_schema format is a UsageError", function()
    local p = params()
    p.output_config = nil
    local err = support.raises(client.messages.stream, p, { on_parsed = function() end })
    assert.is_true(errors.UsageError.is_class_of(err))
    assert.equal("options.on_parsed", err.param)
  end)
end)
