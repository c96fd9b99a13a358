-- "stream": true: the real SSE sequence, text and tool_use, chunked framing, long streams.
local mock = require "spec.support.mock"
local cjson = require "cjson"
local socket = require "socket"

local function stream(body, overrides)
  body.stream = true
  local status, h, raw, err = mock.request("POST", "/v1/messages", mock.headers(overrides), cjson.encode(body))
  return status, h, raw, err
end

local function names(events)
  local out = {}
  for i, e in ipairs(events) do out[i] = e.event end
  return out
end

local function body(text, extra)
  local b = { model = mock.MODELS.haiku, max_tokens = 1000, messages = { { role = "user", content = text } } }
  for k, v in pairs(extra or {}) do b[k] = v end
  return b
end

describe("mock streaming", function()
  it("sends the real event sequence for a text reply, chunked", function()
    local status, h, raw = stream(body("hi there"))
    assert.equal(200, status)
    assert.equal("text/event-stream; charset=utf-8", h["content-type"])
    assert.equal("chunked", h["transfer-encoding"])
    assert.equal("no-cache", h["cache-control"])
    assert.is_nil(h["content-length"])
    assert.matches("^req_mock_", h["request-id"])
    assert.matches("^%d+$", h["anthropic-ratelimit-requests-remaining"])
    local ev = mock.sse(raw)
    assert.same({ "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
      "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop" },
      names(ev))
    for _, e in ipairs(ev) do assert.equal(e.event, e.data.type) end
    local start = ev[1].data.message
    assert.matches("^msg_mock_", start.id)
    assert.same({}, start.content)
    assert.equal(cjson.null, start.stop_reason)
    assert.equal(1, start.usage.output_tokens)
    assert.is_true(start.usage.input_tokens > 0)
    assert.same({ type = "text", text = "" }, ev[2].data.content_block)
    assert.equal('{"type": "ping"}', ev[3].raw)
    local text = ev[4].data.delta.text .. ev[5].data.delta.text .. ev[6].data.delta.text .. ev[7].data.delta.text
    assert.equal("You said: hi there", text)
    assert.same({ type = "text_delta", text = "You" }, ev[4].data.delta)
    assert.same({ type = "text_delta", text = " said:" }, ev[5].data.delta)
    assert.same({ type = "content_block_stop", index = 0 }, ev[8].data)
    assert.same({ stop_reason = "end_turn", stop_sequence = cjson.null }, ev[9].data.delta)
    assert.equal(4, ev[9].data.usage.output_tokens)
    assert.equal(start.usage.input_tokens, ev[9].data.usage.input_tokens)
  end)

  it("agrees with the non-streaming reply", function()
    local b = body("compare me please")
    local _, plain = mock.json_request("POST", "/v1/messages", b)
    local _, _, raw = stream(b)
    local ev = mock.sse(raw)
    local text = ""
    for _, e in ipairs(ev) do
      if e.event == "content_block_delta" then text = text .. e.data.delta.text end
    end
    assert.equal(plain.content[1].text, text)
    assert.equal(plain.usage.output_tokens, ev[#ev - 1].data.usage.output_tokens)
    assert.equal(plain.usage.input_tokens, ev[1].data.message.usage.input_tokens)
  end)

  it("streams a tool_use block as input_json_delta fragments split in several places", function()
    local tool = { name = "get_weather", input_schema = { type = "object", required = { "city" },
      properties = { city = { type = "string" }, units = { type = "string", enum = { "celsius", "fahrenheit" } } } } }
    local _, _, raw = stream(body("weather?", { tools = { tool }, tool_choice = { type = "any" } }))
    local ev = mock.sse(raw)
    assert.same({ "message_start", "content_block_start", "ping" }, { ev[1].event, ev[2].event, ev[3].event })
    local cb = ev[2].data.content_block
    assert.equal("tool_use", cb.type)
    assert.equal("get_weather", cb.name)
    assert.matches("^toolu_mock_%d+$", cb.id)
    assert.same({}, cb.input)
    local parts = {}
    for _, e in ipairs(ev) do
      if e.event == "content_block_delta" then
        assert.equal("input_json_delta", e.data.delta.type)
        parts[#parts + 1] = e.data.delta.partial_json
      end
    end
    assert.equal("", parts[1])
    assert.is_true(#parts >= 5)
    local joined = table.concat(parts)
    assert.equal('{"city": "mock-city", "units": "celsius"}', joined)
    assert.same({ city = "mock-city", units = "celsius" }, cjson.decode(joined))
    assert.equal("tool_use", ev[#ev - 1].data.delta.stop_reason)
  end)

  it("indexes blocks: text 0 then tool_use 1 when the prompt names the tool", function()
    local tool = { name = "lookup", input_schema = { type = "object", properties = { q = { type = "string" } } } }
    local _, _, raw = stream(body("please lookup cats", { tools = { tool } }))
    local ev = mock.sse(raw)
    local starts = {}
    for _, e in ipairs(ev) do
      if e.event == "content_block_start" then starts[#starts + 1] = { e.data.index, e.data.content_block.type } end
    end
    assert.same({ { 0, "text" }, { 1, "tool_use" } }, starts)
  end)

  it("streams thinking with thinking_delta and signature_delta", function()
    local _, _, raw = stream(body("deep", { max_tokens = 2000, thinking = { type = "enabled", budget_tokens = 1024 } }))
    local kinds = {}
    for _, e in ipairs(mock.sse(raw)) do
      if e.event == "content_block_delta" and e.data.index == 0 then kinds[e.data.delta.type] = true end
    end
    assert.same({ thinking_delta = true, signature_delta = true }, kinds)
  end)

  it("streams 20,000 deltas quickly (x-mock-fault deltas)", function()
    local t0 = socket.gettime()
    local _, _, raw = stream(body("go"), { ["x-mock-fault"] = '{"deltas":20000}' })
    local elapsed = socket.gettime() - t0
    local n, text = 0, {}
    for _, e in ipairs(mock.sse(raw)) do
      if e.event == "content_block_delta" then n = n + 1; text[#text + 1] = e.data.delta.text end
    end
    assert.equal(20000, n)
    assert.equal("You said: go You said: go", table.concat(text):sub(1, 25))
    assert.is_true(elapsed < 5, "took " .. elapsed .. " s")
  end)

  it("reports max_tokens as the stop reason of a cut stream", function()
    local _, _, raw = stream(body("a b c d e f", { max_tokens = 2 }))
    local ev = mock.sse(raw)
    assert.equal("max_tokens", ev[#ev - 1].data.delta.stop_reason)
    assert.equal(2, ev[#ev - 1].data.usage.output_tokens)
  end)
end)
