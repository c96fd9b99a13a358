-- Streaming end to end: the C SSE decoder, the stream layer and the accumulator, fed by the
-- mock with recorded API traffic under hostile chunking, compared with what the official
-- TypeScript SDK's finalMessage() gives for the same bytes (spec/fixtures/sse-expected, made
-- by tools/sse-expected/generate.mjs). Plus the failure modes of issue 5.

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local conformance = require "spec.support.conformance"
local support = require "spec.support.client"

local errors = anthropic.errors
local HAIKU = "claude-haiku-4-5"

local function params(extra)
  local p = { model = HAIKU, max_tokens = 64, messages = { { role = "user", content = "Hello there" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local new_client = support.new_client

local function fault(t) return { headers = { ["x-mock-fault"] = cjson.encode(t) } } end

-- Reads a stream to the end; returns the message, or nil and the error.
local function read_all(client, p, opts)
  local ok, res = pcall(function()
    local s = client.messages.stream(p, opts)
    return s:final_message()
  end)
  if ok then return res end
  return nil, res
end

describe("stream parity with the official SDK on recorded traffic", function()
  local client
  setup(function() client = new_client() end)
  teardown(function() client:close() end)

  local chunkings = {
    { name = "one byte per write", chunk = 1 },
    { name = "random splits", chunk = "random", seed = 7 },
    { name = "random splits (another seed)", chunk = "random", seed = 1234 },
  }
  for _, t in ipairs(conformance.sse_transcripts()) do
    for _, c in ipairs(chunkings) do
      for _, beta in ipairs { false, true } do
        local label = t.name .. ", " .. c.name .. (beta and ", beta" or "")
        it(label, function()
          local expected = conformance.expected(t.name, beta and "beta" or nil)
          local p = params(beta and { betas = { "test-beta-2025-01-01" } } or nil)
          local msg, err = read_all(client, p, fault { replay = t.path, chunk = c.chunk, seed = c.seed })
          if expected.error ~= cjson.null then
            assert.is_nil(msg, "expected an error like the SDK's: " .. expected.error.message)
            assert.is_true(errors.StreamError.is_class_of(err), tostring(err))
            if expected.error.type and expected.error.type ~= cjson.null then
              assert.are.equal(expected.error.type, err.type)
            else
              assert.truthy(err.message:find("stream ended before message_stop", 1, true), err.message)
            end
            if expected.partial and expected.partial ~= cjson.null then
              assert.is_nil(conformance.diff(expected.partial, err.partial))
            end
          else
            assert.is_not_nil(msg, tostring(err))
            assert.is_nil(conformance.diff(expected.message, msg))
          end
        end)
      end
    end
  end
end)

describe("client.messages.stream", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("yields each event in order and accumulates the same message as final_message", function()
    local s = client.messages.stream(params())
    assert.truthy(s.request_id:match("^req_"))
    local types = {}
    for ev in s:events() do types[#types + 1] = ev.type end
    assert.are.equal("message_start", types[1])
    assert.are.equal("content_block_start", types[2])
    assert.are.equal("message_stop", types[#types])
    assert.is_nil(table.concat(types, " "):find("ping"), "pings are not delivered")
    local msg = s:final_message()
    assert.are.equal("end_turn", msg.stop_reason)
    assert.is_true(#s:final_text() > 0)
    local sent = mock.requests()[1]
    assert.truthy(sent.body:find('"stream":true', 1, true))
    assert.are.equal("text/event-stream", sent.headers.accept)
  end)

  it("fires on_text with each delta and the block's text so far", function()
    local deltas, last = {}, nil
    local s = client.messages.stream(params(), {
      on_text = function(delta, snapshot) deltas[#deltas + 1] = delta; last = snapshot end,
    })
    while not s:is_done() do client:poll(50) end
    local text = s:final_text()
    assert.is_true(#deltas > 1)
    assert.are.equal(text, table.concat(deltas))
    assert.are.equal(text, last)
  end)

  it("an HTTP error before the stream starts raises the normal class", function()
    local err = select(2, read_all(client, params { model = "claude-opus-4-7" }))
    assert.are.equal("PermissionDenied", err.class_name)
    err = select(2, read_all(client, params(), fault { status = 429 }))
    assert.are.equal("RateLimited", err.class_name)
  end)

  it("event: error after content is a StreamError carrying the type, request id and partial", function()
    local s = client.messages.stream(params(), fault { deltas = 6, error_after = 3 })
    local got = {}
    local ok, err = pcall(function() for ev in s:events() do got[#got + 1] = ev.type end end)
    assert.is_false(ok)
    assert.are.equal("StreamError", err.class_name)
    assert.is_true(err:is(errors.APIError))
    assert.are.equal("overloaded_error", err.type)
    assert.are.equal(s.request_id, err.request_id)
    assert.are.equal("message", err.partial.type)
    assert.is_true(#err.partial.content[1].text > 0)
    assert.truthy(table.concat(got, " "):find("content_block_delta"))
  end)

  it("a stream that ends without message_stop is a StreamError with the partial message", function()
    local _, err = read_all(client, params(), fault { no_stop = true })
    assert.are.equal("StreamError", err.class_name)
    assert.truthy(err.message:find("stream ended before message_stop", 1, true), err.message)
    assert.are.equal("message", err.partial.type)
  end)

  -- README: a stream cut short after its 200 is a StreamError with .partial; .transport names
  -- how it broke. The chunked body ends early on a FIN ("partial"), the socket breaks on a RST.
  for _, row in ipairs { { "fin", { partial = true } }, { "reset", { reset = true, partial = true } } } do
    local label = "a connection closed mid-stream (" .. row[1] .. ") is a StreamError with the partial message"
    it(label .. ", no hang", function()
      local _, err = read_all(client, params(), fault { deltas = 10, close_after = 4, close_mode = row[1] })
      assert.are.equal("StreamError", err.class_name, tostring(err))
      assert.is_true(err:is(errors.APIError))
      assert.is_false(err:is(errors.ConnectionError))
      assert.is_true(row[2][err.transport] == true, "transport: " .. tostring(err.transport))
      assert.are.equal(200, err.status)
      assert.are.equal("message", err.partial.type)
      assert.is_true(#err.partial.content[1].text > 0)
      assert.truthy(err.message:find("stream cut short (" .. err.transport .. ")", 1, true), err.message)
    end)
  end

  it("a stream cut short before any content is retried unseen", function()
    local c = new_client { max_retries = 1 }
    mock.clear()
    local msg = read_all(c, params(), fault { sequence = { { status = 200, deltas = 10, close_after = 0 } } })
    assert.are.equal("message", msg and msg.type)
    assert.are.equal(2, #mock.requests())
    c:close()
  end)

  it("tool input is decoded with integers kept integers (as from create)", function()
    local p = params { tools = { { name = "count", description = "count things",
      input_schema = { type = "object", properties = {
        n = { type = "integer", minimum = 3 }, x = { type = "number" },
        list = { type = "array", items = { type = "integer" }, minItems = 2 } } } } },
      tool_choice = { type = "tool", name = "count" } }
    local streamed = assert(read_all(client, p))
    local created = client.messages.create(p)
    local si, ci = streamed.content[1].input, created.content[1].input
    assert.are.same(ci, si)
    assert.are.equal(3, si.n)
    assert.are.equal(1.5, si.x)
    if math.type then
      for _, v in ipairs { ci.n, si.n, si.list[2], streamed.usage.output_tokens } do
        assert.are.equal("integer", math.type(v))
      end
      assert.are.equal("float", math.type(si.x))
    end
  end)

  it("close() aborts the transfer; events() then ends quietly", function()
    local s = client.messages.stream(params(), fault { deltas = 50, event_delay_ms = 20 })
    local n = 0
    for _ in s:events() do
      n = n + 1
      if n == 3 then s:close() end
    end
    assert.are.equal(3, n)
    assert.is_true(s:is_done())
    assert.are.equal("message", client.messages.create(params()).type, "client still usable")
  end)

  it("memory stays bounded by the message, not the transfer (20,000 events)", function()
    local s = client.messages.stream(params { max_tokens = 30000 }, fault { deltas = 20000 })
    local peak, n = 0, 0
    collectgarbage()
    local base = collectgarbage("count")
    for _ in s:events() do
      n = n + 1
      if n % 2000 == 0 then
        collectgarbage()
        peak = math.max(peak, collectgarbage("count") - base)
      end
    end
    local msg = s:final_message()
    local text_kb = #msg.content[1].text / 1024
    assert.is_true(n >= 20000)
    -- events already iterated are dropped: what stays is about the message being built
    local report = string.format("peak %.0f KiB for %.0f KiB of text", peak, text_kb)
    if os.getenv("ANTHROPIC_SPEC_VERBOSE") then print(report) end
    assert.is_true(peak < text_kb * 4 + 512, report)
  end)
end)
