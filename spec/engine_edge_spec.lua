-- Edge cases of the transfer engine and the Lua binding (review before release): input
-- conversion at the binding's edge, lifetimes (client close and collection from inside
-- callbacks), retries and in-flight accounting through anthropic.core, flow control, replies the
-- mock cannot script (1xx interim replies, a redirect, odd headers: served by a raw socket
-- server started here), and the Lua layer's re-entrancy, stream request ids and error payloads.
-- C-level counterparts (poll bounds, EINTR, pause + retry/cancel) are in spec/c/test_transport.c.

local anthropic = require "anthropic"
local core = require "anthropic.core"
local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"
local hostile = require "spec.support.hostile"
local support = require "spec.support.client"

local HAIKU = "claude-haiku-4-5"
local FREE = "sk-ant-mock-free"

local function params(text, extra)
  local p = { model = HAIKU, max_tokens = 64, messages = { { role = "user", content = text or "Hi" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function fault(t, extra)
  local o = { headers = { ["x-mock-fault"] = cjson.encode(t) } }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function new_client(extra)
  local opts = { api_key = FREE, base_url = mock.url() }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return anthropic.new(opts)
end

local raises = support.raises

-- anthropic.core request options against the mock: a stream of `deltas` text deltas.
local function core_opts(extra, fault_t)
  local o = {
    method = "POST", url = mock.url() .. "/v1/messages", stream = true,
    body = cjson.encode { model = HAIKU, max_tokens = 64000, stream = true,
      messages = { { role = "user", content = "one two three four" } } },
    headers = { "x-api-key: " .. FREE, "anthropic-version: 2023-06-01", "content-type: application/json" },
  }
  if fault_t then o.headers[#o.headers + 1] = "x-mock-fault: " .. cjson.encode(fault_t) end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local function poll_until(c, pred, secs)
  local deadline = socket.gettime() + (secs or 10)
  while not pred() do
    assert(socket.gettime() < deadline, "timed out waiting")
    c:poll(20)
  end
end

-- ---------------------------------------------------------------------------------------
-- Replies the mock cannot script come from spec.support.hostile: one scripted reply per
-- connection, in order; each connection is closed after its reply.

local tmpfile = hostile.tmpfile

-- raw_server({ reply, ... }) -> base URL, stop(). Each reply is the exact bytes to send.
local function raw_server(replies)
  local srv = hostile.start { replies = replies }
  return srv.url, srv.stop
end

local MESSAGE = cjson.encode {
  id = "msg_raw", type = "message", role = "assistant", model = HAIKU,
  content = { { type = "text", text = "ok" } }, stop_reason = "end_turn", stop_sequence = cjson.null,
  usage = { input_tokens = 1, output_tokens = 1 },
}

local function reply(status_line, header_lines, body)
  body = body or ""
  return status_line .. "\r\n" .. table.concat(header_lines, "\r\n") .. (#header_lines > 0 and "\r\n" or "")
    .. "Content-Length: " .. #body .. "\r\nConnection: close\r\n\r\n" .. body
end

-- ---------------------------------------------------------------------------------------

describe("anthropic.core request options", function()
  local c
  before_each(function() c = core.client() end)
  after_each(function() c:close() end)

  local function with(extra)
    local o = core_opts()
    for k, v in pairs(extra) do o[k] = v end
    return o
  end

  local many = {}
  for i = 1, 129 do many[i] = "x-h" .. i .. ": v" end

  local refused = {
    { "timeout_ms 2^31", { timeout_ms = 2 ^ 31 }, "request: timeout_ms out of range" },
    { "timeout_ms -1", { timeout_ms = -1 }, "request: timeout_ms out of range" },
    { "connect_timeout_ms inf", { connect_timeout_ms = math.huge }, "request: connect_timeout_ms out of range" },
    { "idle_timeout_ms NaN", { idle_timeout_ms = 0 / 0 }, "request: idle_timeout_ms out of range" },
    { "max_response_bytes 2^31", { max_response_bytes = 2 ^ 31 }, "request: max_response_bytes out of range" },
    { "max_response_bytes 2^63", { max_response_bytes = 2 ^ 63 }, "request: max_response_bytes out of range" },
    { "max_retries 1001", { max_retries = 1001 }, "request: max_retries out of range" },
    { "retry_cap_ms -inf", { retry_cap_ms = -math.huge }, "request: retry_cap_ms out of range" },
    { "timeout_ms a numeric string", { timeout_ms = "10" }, "request: timeout_ms must be a number" },
    { "body a table", { body = {} }, "request: body must be a string" },
    { "no url", { url = false }, "request: url must be a string" },
    { "url with LF", { url = mock.url() .. "/v1/messages\nx" }, "request: url contains CR, LF or NUL" },
    { "header not a string", { headers = { "a: b", 5 } }, "request: headers[2] must be a string" },
    { "header with CR", { headers = { "a: b\r\nc: d" } }, "request: headers[1] contains CR, LF or NUL" },
    { "129 headers", { headers = many }, "request: too many headers" },
  }
  if math.maxinteger then
    refused[#refused + 1] = { "timeout_ms maxinteger", { timeout_ms = math.maxinteger },
      "request: timeout_ms out of range" }
    refused[#refused + 1] = { "max_retries mininteger", { max_retries = math.mininteger },
      "request: max_retries out of range" }
  end
  for _, row in ipairs(refused) do
    it("refuses " .. row[1] .. " with an exact message, nothing started", function()
      local ok, err = pcall(c.request, c, with(row[2]))
      assert.is_false(ok)
      assert.are.equal(row[3], err)
      assert.are.equal(0, c:inflight())
    end)
  end

  it("accepts the largest values of every integer option", function()
    local r = c:request(with { timeout_ms = 2 ^ 31 - 1, connect_timeout_ms = 2 ^ 31 - 1,
      idle_timeout_ms = 2 ^ 31 - 1, max_response_bytes = 2 ^ 31 - 1, max_retries = 1000, retry_cap_ms = 2 ^ 31 - 1 })
    assert.are.equal(1, c:inflight())
    poll_until(c, function() return r:is_done() end)
    assert.are.equal(200, r:status())
    assert.are.equal(0, c:inflight())
  end)

  -- A transfer put on libcurl has its timer due at once, and that action sends the request on a
  -- kept-alive connection: the poll runs it before its wait, so the wait is for the reply and a
  -- blocking request is one poll, not one to send and one to receive (the mock writes a reply
  -- in one piece).
  it("one poll sends a request on a kept-alive connection and waits for its whole reply", function()
    local body = cjson.encode { model = HAIKU, max_tokens = 16, messages = { { role = "user", content = "one" } } }
    local warm = c:request(with { stream = false, body = body })
    poll_until(c, function() return warm:is_done() end)
    for _ = 1, 5 do
      local r = c:request(with { stream = false, body = body })
      assert.are.equal(0, c:poll(10000))
      assert.is_true(r:is_done())
      assert.are.equal(200, r:status())
    end
  end)

  it("poll clamps a huge timeout and returns at once with nothing in flight", function()
    local t0 = socket.gettime()
    assert.are.equal(0, c:poll(2 ^ 53))
    assert.is_true(socket.gettime() - t0 < 0.5)
  end)

  -- The option strings must stay anchored while C uses them. A proxy table whose __index makes
  -- a fresh string on each read (and collects garbage meanwhile) must not make libcurl send
  -- freed memory: the body sent is the body the core read.
  it("a proxy options table: the body sent is the string the core read", function()
    mock.clear()
    local real = core_opts()
    real.stream, real.url = false, mock.url() .. "/v1/messages/count_tokens"
    local function body(n)
      return cjson.encode { model = HAIKU, messages = { { role = "user", content = string.rep("a", 200) .. n } } }
    end
    local reads = 0
    -- each read of .body makes a new string that nothing else references
    local opts = setmetatable({}, { __index = function(_, k)
      if k ~= "body" then return real[k] end
      reads = reads + 1
      if reads > 1 then
        collectgarbage()
        collectgarbage()
      end
      return body(reads)
    end })
    local r = c:request(opts)
    poll_until(c, function() return r:is_done() end)
    assert.are.equal(200, r:status())
    local log = mock.requests()
    assert.are.equal(body(1), log[#log].body)
  end)
end)

describe("retries and in-flight accounting through anthropic.core", function()
  local c
  before_each(function()
    c = core.client()
    mock.clear()
  end)
  after_each(function() c:close() end)

  -- The core decides: retry_unseen() follows the outcome's retryable, retry_stream_error()
  -- the error type; the caller only says that nothing of the attempt reached anyone.
  it("retry_stream_error() on a DONE request counts it in flight again, then not", function()
    local r = c:request(core_opts({ max_retries = 1 }, { deltas = 2 }))
    poll_until(c, function() return r:is_done() end)
    local buf = {}
    r:take_events(buf)
    assert.are.equal(0, c:inflight())
    assert.is_nil(r:retry_unseen())                         -- a complete 200 is not retryable
    assert.is_nil(r:retry_stream_error("invalid_request_error"))
    assert.is_nil(r:retry_stream_error(nil))
    assert.are.equal("done", r:state())
    assert.is_number(r:retry_stream_error("overloaded_error"))
    assert.are.equal("waiting", r:state())
    assert.are.equal(1, c:inflight())
    poll_until(c, function() return r:is_done() end)
    assert.are.equal(2, r:attempts())
    assert.are.equal(0, c:inflight())
    assert.is_nil(r:retry_stream_error("overloaded_error"))  -- no attempt left
    assert.are.equal("done", r:state())
    assert.are.equal(0, c:inflight())
  end)

  it("retry_unseen() retries a stream cut short, as the outcome says", function()
    local r = c:request(core_opts({ max_retries = 1 }, { deltas = 10, close_after = 4 }))
    poll_until(c, function() return r:is_done() end)
    local transport, _, _, retryable = r:outcome()
    assert.are.equal("partial", transport)
    assert.is_true(retryable)
    assert.is_number(r:retry_unseen())
    assert.are.equal(1, c:inflight())
    poll_until(c, function() return r:is_done() end)
    assert.are.equal(2, r:attempts())
  end)

  it("retry_stream_error() on a WAITING request keeps one in flight and the attempt count", function()
    local r = c:request(core_opts({ max_retries = 2 },
      { sequence = { { status = 529, headers = { ["retry-after-ms"] = "300" } } } }))
    poll_until(c, function() return r:state() == "waiting" and r:attempts() == 1 end)
    assert.is_number(r:retry_stream_error("api_error"))
    assert.are.equal("waiting", r:state())
    assert.are.equal(1, r:attempts())
    assert.are.equal(1, c:inflight())
    poll_until(c, function() return r:is_done() end)
    assert.are.equal(200, r:status())
    assert.are.equal(2, r:attempts())
    assert.are.equal(0, c:inflight())
  end)

  it("cancel() of a WAITING request and close() of a RUNNING one leave nothing in flight", function()
    local w = c:request(core_opts({ max_retries = 2 },
      { sequence = { { status = 529, headers = { ["retry-after-ms"] = "5000", ["x-row"] = "w" } } } }))
    local run = c:request(core_opts(nil, { delay_ms = 3000 }))
    poll_until(c, function() return w:state() == "waiting" and w:attempts() == 1 end)
    assert.are.equal(2, c:inflight())
    w:cancel()
    assert.are.equal("aborted", (w:outcome()))
    assert.are.equal(1, c:inflight())
    run:close()
    assert.are.equal(0, c:inflight())
    assert.are.equal(0, c:poll(0))
  end)

  it("take_events honours max, says whether more wait, and clears stale slots", function()
    local r = c:request(core_opts(nil, { deltas = 50 }))
    poll_until(c, function() return r:is_done() end)
    local buf = {}
    for i = 1, 40 do buf[i] = "stale" .. i end
    local n, more = r:take_events(buf, 5)
    assert.are.same({ 5, true }, { n, more })
    assert.are.same({ "message_start", "content_block_start", "ping", "content_block_delta" },
      { buf[1], buf[3], buf[5], buf[7] })
    assert.is_nil(buf[11])
    assert.is_nil(buf[40])
    n, more = r:take_events(buf)
    assert.are.same({ 56 - 5, false }, { n, more })
    assert.are.equal("message_stop", buf[2 * n - 1])
    assert.is_nil(buf[2 * n + 1])
    assert.are.same({ 0, false }, { r:take_events(buf) })
    assert.is_nil(buf[1])
  end)

  -- text_deltas = true (stream.lua's requests): a text delta in the API's frame whose text has
  -- no escape comes by its block index, with its text; the rest as the SSE decoder gave them.
  it("take_events with text_deltas hands plain text deltas over as index, text", function()
    local text = 'plain words, then "quotes" and a\nnew line, then plain again'
    local function take(extra)
      local r = c:request(core_opts(extra, { text = text }))
      poll_until(c, function() return r:is_done() end)
      local buf, got, kinds = {}, {}, { number = 0, string = 0 }
      local n = r:take_events(buf)
      for i = 1, n do
        local name, data = buf[2 * i - 1], buf[2 * i]
        if type(name) == "number" then
          kinds.number = kinds.number + 1
          assert.are.equal(0, name)
          assert.are.equal(math.type and "integer" or "number", math.type and math.type(name) or type(name))
          got[#got + 1] = data
        elseif name == "content_block_delta" then
          kinds.string = kinds.string + 1
          got[#got + 1] = cjson.decode(data).delta.text
        end
      end
      r:close()
      return table.concat(got), kinds
    end
    local with, kinds = take({ text_deltas = true })
    assert.are.equal(text, with)
    assert.is_true(kinds.number > 0 and kinds.string > 0, "both kinds: " .. kinds.number .. ", " .. kinds.string)
    local without, plain_kinds = take(nil)
    assert.are.equal(text, without)
    assert.are.equal(0, plain_kinds.number)
    assert.are.equal(kinds.number + kinds.string, plain_kinds.string)
  end)

  it("requests of a closed client raise on use and close harmlessly", function()
    local r = c:request(core_opts(nil, { delay_ms = 2000 }))
    c:close()
    local ok, err = pcall(r.state, r)
    assert.is_false(ok)
    assert.are.equal("attempt to use a closed request (or a request of a closed client)", err)
    r:close()
    r = nil -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
  end)
end)

describe("flow control", function()
  -- A frame loop that stalls (a modal dialog, a slow frame) longer than the idle timeout while
  -- a stream's backlog is paused by flow control: the server never went quiet, so no Timeout.
  it("a host stall longer than idle_timeout while the backlog is paused is not an idle timeout", function()
    local client = new_client { idle_timeout = 0.3 }
    local events, done_err, done_msg, fired = 0, nil, nil, 0
    client.messages.stream(params("one two three", { max_tokens = 20000 }), {
      headers = { ["x-mock-fault"] = cjson.encode { deltas = 3000 } },
      on_event = function() events = events + 1 end,
      on_done = function(err, msg) fired, done_err, done_msg = fired + 1, err, msg end,
    })
    poll_until(client, function() return events > 0 end)
    socket.sleep(0.2)          -- the server fills the socket buffers
    client:poll(0)             -- reads past the high-water mark: paused, 128 events handed out
    socket.sleep(0.6)          -- the host is busy: twice the idle timeout
    poll_until(client, function() return fired > 0 end, 20)
    assert.is_nil(done_err, tostring(done_err))
    assert.are.equal(3006 - 1, events)      -- every event but the ping
    assert.are.equal("end_turn", done_msg.stop_reason)
    client:close()
  end)
end)

describe("replies the mock cannot script", function()
  local client, stop
  after_each(function()
    if client then client:close() end
    if stop then stop() end
    client, stop = nil, nil
  end)

  local function serve(...)
    local url
    url, stop = raw_server { ... }
    client = anthropic.new { api_key = FREE, base_url = url, max_retries = 0 }
    return client
  end

  it("1xx interim replies before the final one are skipped, with their headers", function()
    serve("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
      .. reply("HTTP/1.1 200 OK", { "Content-Type: application/json", "request-id: req_raw_1" }, MESSAGE))
    local msg = client.messages.create(params())
    assert.are.equal("ok", msg.content[1].text)
    assert.are.equal(200, msg._response.status)
    assert.are.equal("req_raw_1", msg._request_id)
    assert.is_nil(msg._response.headers.link)
  end)

  it("a 2xx reply's Retry-After is no delay the engine honours: outcome() names none", function()
    local url
    url, stop = raw_server { reply("HTTP/1.1 200 OK", { "Content-Type: application/json",
      "retry-after-ms: 1500", "retry-after: 7" }, MESSAGE) }
    local c = core.client()
    local r = c:request { method = "POST", url = url .. "/v1/messages", body = "{}", headers = {} }
    poll_until(c, function() return r:is_done() end)
    local transport, _, _, retryable, retry_after = r:outcome()
    assert.are.equal("none", transport)
    assert.are.equal(200, r:status())
    assert.are.equal("1500", r:header("retry-after-ms"))   -- the header itself is kept
    assert.is_false(retryable)
    assert.is_nil(retry_after)
    r:close()
    c:close()
  end)

  it("a redirect is not followed: APIStatusError with the 3xx status and its Location", function()
    serve(reply("HTTP/1.1 302 Found", { "Location: http://127.0.0.1:9/v1/messages", "request-id: req_raw_2" }))
    local err = raises(client.messages.create, params())
    assert.are.equal("APIStatusError", err.class_name)
    assert.are.equal(302, err.status)
    assert.are.equal(1, err.attempts)
    assert.are.equal("http://127.0.0.1:9/v1/messages", err.headers.location)
    assert.are.equal("req_raw_2", err.request_id)
  end)

  -- The engine decides on the first of repeated x-should-retry / retry-after-ms headers; the
  -- error must say what the engine did, not read the joined "false, false" as absent.
  it("repeated x-should-retry and retry-after-ms: the error agrees with the engine", function()
    local url
    url, stop = raw_server { reply("HTTP/1.1 529 Overloaded", { "Content-Type: application/json",
      "x-should-retry: false", "x-should-retry: false", "retry-after-ms: 10", "retry-after-ms: 20" },
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}') }
    client = anthropic.new { api_key = FREE, base_url = url, max_retries = 2 }
    local err = raises(client.messages.create, params())
    assert.are.equal("Overloaded", err.class_name)
    assert.are.equal(1, err.attempts)           -- the engine did not retry
    assert.are.equal(false, err.retryable)
    assert.are.equal(0.01, err.retry_after)
  end)

  local long_a = "x-" .. string.rep("a", 300)
  local long_b = "x-" .. string.rep("a", 299) .. "b"
  local header_rows = {
    { "an empty value is kept as \"\"", "x-empty", "" },
    { "repeated headers are joined with \", \"", "x-rep", "one, two" },
    { "surrounding blanks are trimmed", "x-pad", "v a l" },
    { "a name over 255 bytes is kept whole", long_a, "first" },
    { "two long names that share 255 bytes stay apart", long_b, "second" },
  }
  for _, row in ipairs(header_rows) do
    it("reply headers: " .. row[1], function()
      serve(reply("HTTP/1.1 200 OK", { "Content-Type: application/json", "X-Empty:", "X-Rep: one",
        "X-Rep: two", "X-Pad: \t v a l \t", "X-" .. string.rep("A", 300) .. ": first",
        "X-" .. string.rep("A", 299) .. "B: second" }, MESSAGE))
      local msg = client.messages.create(params())
      assert.are.equal(row[3], msg._response.headers[row[2]])
    end)
  end
end)

describe("the Lua layer", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  -- README/docs/async.md: a blocking call polls internally. Made from inside a callback, that
  -- inner poll must not service the op whose callback is running: its batch is half handed out.
  it("a blocking call inside on_event leaves the calling stream intact", function()
    local function run(nested)
      local seen, fired, done_err, done_msg, did = {}, 0, nil, nil, false
      client.messages.stream(params("one two three four five"), {
        on_event = function(ev)
          seen[#seen + 1] = ev.type
          if nested and not did and ev.type == "content_block_delta" then
            did = true
            local n = client.messages.count_tokens { model = HAIKU, messages = { { role = "user", content = "x" } } }
            assert(n.input_tokens > 0)
          end
        end,
        on_done = function(err, msg) fired, done_err, done_msg = fired + 1, err, msg end,
      })
      poll_until(client, function() return fired > 0 end)
      assert.are.equal(1, fired)
      return seen, done_err, done_msg
    end
    local want_seen, _, want_msg = run(false)
    local seen, err, msg = run(true)
    assert.is_nil(err, tostring(err))
    assert.are.equal("You said: one two three four five", want_msg.content[1].text)
    assert.are.equal(want_msg.content[1].text, msg.content[1].text)
    assert.are.same(want_seen, seen)
  end)

  -- ... and while that blocking call waits, the calling stream's undelivered events (it is
  -- mid-batch, it cannot take them) must not turn the wait into a busy loop.
  it("a blocking call inside on_event waits without spinning", function()
    local did, cpu, wall, fired = false, nil, nil, 0
    client.messages.stream(params("one two", { max_tokens = 20000 }), fault({ deltas = 2000 }, {
      on_event = function(ev)
        if not did and ev.type == "content_block_delta" then
          did = true
          local c0, w0 = os.clock(), socket.gettime()
          client.messages.count_tokens({ model = HAIKU, messages = { { role = "user", content = "x" } } },
            fault { delay_ms = 600 })
          cpu, wall = os.clock() - c0, socket.gettime() - w0
        end
      end,
      on_done = function(err) assert.is_nil(err); fired = fired + 1 end,
    }))
    poll_until(client, function() return fired > 0 end, 20)
    assert.is_true(wall >= 0.55, "the nested call took " .. wall .. " s")
    assert.is_true(cpu < 0.25 * wall, string.format("%.2f s of CPU in a %.2f s wait", cpu, wall))
  end)

  -- The core retries by itself an attempt that failed before any event, even after its 200
  -- headers arrived; the stream must not keep the first attempt's request id.
  it("stream.request_id names the attempt that delivered the stream", function()
    local transcript = tmpfile(table.concat({
      'event: message_start',
      'data: {"type":"message_start","message":{"id":"msg_x","type":"message","role":"assistant",'
        .. '"content":[],"model":"claude-haiku-4-5","stop_reason":null,"stop_sequence":null,'
        .. '"usage":{"input_tokens":1,"output_tokens":1}}}', '', '' }, "\n"))
    local c2 = new_client { idle_timeout = 0.3 }
    -- attempt 1: 200, then one byte a second (no whole event before the idle timeout)
    local s = c2.messages.stream(params(), fault { sequence = { { replay = transcript, chunk = 1,
      write_delay_ms = 1000 } } })
    local msg = s:final_message()
    os.remove(transcript)
    c2:close()
    assert.are.equal(2, msg._response.attempts)
    assert.are.equal(msg._request_id, s.request_id)
  end)

  -- A reply cut off at max_response_bytes: the error says so; it does not carry the partial
  -- reply (up to 64 MiB by default) for as long as the caller keeps the error.
  it("ResponseTooLarge does not keep the partial body", function()
    local c2 = new_client { max_retries = 0, max_response_bytes = 64 * 1024 }
    local err = raises(c2.messages.create, params(string.rep("a", 2000)), fault { deltas = 1000 })
    c2:close()
    assert.are.equal("ResponseTooLarge", err.class_name)
    assert.is_true(err.body == nil, "err.body holds " .. #tostring(err.body) .. " bytes of the cut-off reply")
  end)

  it("client:close() from one on_done while another op finished in the same poll", function()
    local calls = {}
    local function cb(name)
      return function(err, msg)
        calls[#calls + 1] = { name = name, err = err, msg = msg }
        if #calls == 1 then client:close() end
      end
    end
    client.messages.create(params("a"), fault({ delay_ms = 200 }, { on_done = cb("a") }))
    client.messages.create(params("b"), fault({ delay_ms = 200, deltas = 1 }, { on_done = cb("b") }))
    local deadline = socket.gettime() + 10
    while not client._core:is_closed() and socket.gettime() < deadline do client:poll(50) end
    assert.are.equal(2, #calls)
    assert.are_not.equal(calls[1].name, calls[2].name)
    assert.is_nil(calls[1].err)
    -- the other one either completed in the same poll or was cancelled by the close
    if calls[2].err then assert.are.equal("client closed", calls[2].err.message) end
    local err = raises(client.poll, client, 0)
    assert.are.equal("attempt to use a closed client", err.message)
  end)

  it("a callback that drops the last reference to other clients and collects garbage mid-poll", function()
    local others = {}
    for i = 1, 3 do
      local o = new_client()
      o.messages.stream(params("x" .. i), fault({ deltas = 50, event_delay_ms = 5 }, { on_done = function() end }))
      o.messages.create(params("y" .. i), fault({ delay_ms = 500 }, { on_done = function() end }))
      o:poll(0)
      others[i] = o
    end
    local fired = 0
    client.messages.stream(params("z"), fault({ deltas = 20 }, {
      on_event = function()
        if others then
          others = nil        -- the last references: clients, ops and requests become garbage
          collectgarbage()
          collectgarbage()
        end
      end,
      on_done = function(err)
        assert.is_nil(err)
        fired = fired + 1
      end,
    }))
    poll_until(client, function() return fired == 1 end)
    collectgarbage()
    collectgarbage()
    assert.are.equal("message", client.messages.create(params()).type)
  end)
end)
