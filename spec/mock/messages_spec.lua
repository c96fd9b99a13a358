-- POST /v1/messages and /v1/messages/count_tokens: the reply's exact shape,
-- usage, ids, headers, tool use, stop conditions.
local mock = require "spec.support.mock"
local cjson = require "cjson"

local function create(body, overrides)
  return mock.json_request("POST", "/v1/messages", body, overrides)
end

local function user(text, extra)
  local b = { model = mock.MODELS.haiku, max_tokens = 100, messages = { { role = "user", content = text } } }
  for k, v in pairs(extra or {}) do b[k] = v end
  return b
end

local WEATHER = { name = "get_weather", description = "Get weather", input_schema = {
  type = "object", required = { "city" },
  properties = { city = { type = "string" }, units = { type = "string", enum = { "celsius", "fahrenheit" } } } } }
local CLOCK = { name = "get_time", description = "Time", input_schema = { type = "object",
  properties = { zone = { type = "string" } } } }

describe("mock POST /v1/messages", function()
  it("replies with the real Message shape, byte for byte deterministic", function()
    local status, h, body = mock.request("POST", "/v1/messages", mock.headers(),
      '{"model":"claude-haiku-4-5","max_tokens":100,"messages":[{"role":"user","content":"Hello there"}]}')
    assert.equal(200, status)
    assert.equal("application/json", h["content-type"])
    local m = cjson.decode(body)
    assert.matches("^msg_mock_%d+$", m.id)
    local expected = '{"model":"claude-haiku-4-5","id":"' .. m.id .. '","type":"message","role":"assistant",' ..
      '"content":[{"type":"text","text":"You said: Hello there"}],"stop_reason":"end_turn","stop_sequence":null,' ..
      '"usage":{"input_tokens":18,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,' ..
      '"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":4,' ..
      '"service_tier":"standard"}}'
    assert.equal(expected, body)
  end)

  it("gives every message a new id from a counter", function()
    local _, a = create(user("one"))
    local _, b = create(user("two"))
    local na, nb = tonumber(a.id:match("%d+$")), tonumber(b.id:match("%d+$"))
    assert.is_true(nb > na)
  end)

  it("sets request-id and the anthropic-ratelimit-* headers", function()
    local status, _, h = create(user("hi"), { ["x-api-key"] = mock.KEYS.free })
    assert.equal(200, status)
    assert.matches("^req_mock_%d+$", h["request-id"])
    for _, kind in ipairs({ "requests", "tokens", "input-tokens", "output-tokens" }) do
      assert.matches("^%d+$", h["anthropic-ratelimit-" .. kind .. "-limit"])
      assert.matches("^%d+$", h["anthropic-ratelimit-" .. kind .. "-remaining"])
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", h["anthropic-ratelimit-" .. kind .. "-reset"])
    end
    assert.equal("50", h["anthropic-ratelimit-requests-limit"])
    assert.equal("30000", h["anthropic-ratelimit-input-tokens-limit"])
  end)

  it("counts remaining requests down per key", function()
    mock.clear()
    local _, _, h1 = create(user("a"), { ["x-api-key"] = mock.KEYS.build })
    local _, _, h2 = create(user("b"), { ["x-api-key"] = mock.KEYS.build })
    assert.equal("999", h1["anthropic-ratelimit-requests-remaining"])
    assert.equal("998", h2["anthropic-ratelimit-requests-remaining"])
  end)

  it("answers the same request with the same text and usage", function()
    local _, a = create(user("same words"))
    local _, b = create(user("same words"))
    a.id, b.id = nil, nil
    assert.same(a, b)
  end)

  it("derives input_tokens from the request size and count_tokens agrees", function()
    local long = string.rep("word ", 400)
    local _, small = create(user("x"))
    local _, big = create(user(long))
    assert.is_true(big.usage.input_tokens > small.usage.input_tokens + 400)
    local status, counted = mock.json_request("POST", "/v1/messages/count_tokens",
      { model = mock.MODELS.haiku, messages = { { role = "user", content = long } } })
    assert.equal(200, status)
    assert.same({ input_tokens = big.usage.input_tokens }, counted)
  end)

  it("counts output tokens as the reply's word pieces", function()
    local _, m = create(user("a b c d e"))
    assert.equal("You said: a b c d e", m.content[1].text)
    assert.equal(7, m.usage.output_tokens)
  end)

  it("resolves an alias to the model's id", function()
    local status, m = create({ model = "claude-3-5-haiku-latest", max_tokens = 10,
      messages = { { role = "user", content = "hi" } } })
    assert.equal(200, status)
    assert.equal("claude-3-5-haiku-20241022", m.model)
  end)

  it("uses the text blocks of the last user message", function()
    local _, m = create({ model = mock.MODELS.haiku, max_tokens = 50, messages = {
      { role = "user", content = "first" }, { role = "assistant", content = "ok" },
      { role = "user", content = { { type = "text", text = "second" }, { type = "text", text = "part" } } } } })
    assert.equal("You said: second part", m.content[1].text)
  end)

  it("cuts the reply at max_tokens with stop_reason max_tokens", function()
    local _, m = create(user("one two three four five six", { max_tokens = 3 }))
    assert.equal("max_tokens", m.stop_reason)
    assert.equal("You said: one", m.content[1].text)
    assert.equal(3, m.usage.output_tokens)
  end)

  it("stops at a stop sequence", function()
    local _, m = create(user("alpha beta STOP gamma", { stop_sequences = { "zzz", "STOP" } }))
    assert.equal("stop_sequence", m.stop_reason)
    assert.equal("STOP", m.stop_sequence)
    assert.equal("You said: alpha beta ", m.content[1].text)
  end)

  it("adds a thinking block when thinking is enabled", function()
    local _, m = create(user("ponder this",
      { max_tokens = 2000, thinking = { type = "enabled", budget_tokens = 1024 } }))
    assert.equal("thinking", m.content[1].type)
    assert.equal("Thinking about: ponder this", m.content[1].thinking)
    assert.matches("^sig_mock_%d+$", m.content[1].signature)
    assert.equal("You said: ponder this", m.content[2].text)
  end)

  describe("tool use", function()
    local rows = {
      { "tool_choice any picks the first tool", { WEATHER, CLOCK }, { type = "any" }, "hello",
        "get_weather", false },
      { "tool_choice any prefers a mentioned tool", { WEATHER, CLOCK }, { type = "any" }, "use get_time",
        "get_time", false },
      { "tool_choice tool names it", { WEATHER, CLOCK }, { type = "tool", name = "get_time" }, "hello",
        "get_time", false },
      { "auto + mention gives text then tool_use", { WEATHER, CLOCK }, nil, "please get_weather in Paris",
        "get_weather", true },
      { "auto without mention gives text only", { WEATHER }, nil, "hello", nil, true },
      { "tool_choice none never calls", { WEATHER }, { type = "none" }, "get_weather", nil, true },
    }
    for _, row in ipairs(rows) do
      it(row[1], function()
        local status, m = create(user(row[4], { tools = row[2], tool_choice = row[3] }))
        assert.equal(200, status)
        local last = m.content[#m.content]
        if row[5] then
          assert.equal("tool_use", m.stop_reason)
          assert.equal("tool_use", last.type)
          assert.equal(row[5], last.name)
          assert.matches("^toolu_mock_%d+$", last.id)
          assert.equal(row[6] and 2 or 1, #m.content)
          if row[6] then assert.equal("I'll use the " .. row[5] .. " tool.", m.content[1].text) end
        else
          assert.equal("end_turn", m.stop_reason)
          assert.equal("text", last.type)
        end
      end)
    end

    it("fills the input from the schema (required, enum first value, defaults)", function()
      local _, m = create(user("x", { tools = { WEATHER }, tool_choice = { type = "any" } }))
      assert.same({ city = "mock-city", units = "celsius" }, m.content[1].input)
      local _, m2 = create(user("x", { tool_choice = { type = "any" }, tools = { { name = "t", input_schema = {
        type = "object", properties = {
          n = { type = "integer", minimum = 3 }, f = { type = "number" }, b = { type = "boolean" },
          list = { type = "array", items = { type = "string" }, minItems = 2 },
          d = { type = "string", default = "dflt" },
          nested = { type = "object", properties = { x = { type = "integer" } } },
        } } } } }))
      assert.same({ n = 3, f = 1.5, b = true, list = { "mock-list", "mock-list" }, d = "dflt", nested = { x = 1 } },
        m2.content[1].input)
    end)

    it("answers a tool_result with text (no new tool call)", function()
      local _, m = create({ model = mock.MODELS.haiku, max_tokens = 100, tools = { WEATHER }, messages = {
        { role = "user", content = "get_weather please" },
        { role = "assistant", content = { { type = "tool_use", id = "toolu_1", name = "get_weather",
          input = { city = "Paris" } } } },
        { role = "user", content = { { type = "tool_result", tool_use_id = "toolu_1", content = "sunny, 21C" } } },
      } })
      assert.equal("end_turn", m.stop_reason)
      assert.equal("The tool returned: sunny, 21C", m.content[1].text)
    end)
  end)
end)

describe("mock POST /v1/messages/count_tokens", function()
  it("returns input_tokens only and needs no max_tokens", function()
    local status, body, h = mock.json_request("POST", "/v1/messages/count_tokens",
      { model = mock.MODELS.opus, messages = { { role = "user", content = "Hello" } } })
    assert.equal(200, status)
    assert.same({ input_tokens = 16 }, body)
    assert.matches("^req_mock_", h["request-id"])
  end)

  it("validates like /v1/messages", function()
    local status, body = mock.json_request("POST", "/v1/messages/count_tokens", { model = mock.MODELS.opus })
    assert.equal(400, status)
    assert.equal("messages: Field required", body.error.message)
  end)
end)
