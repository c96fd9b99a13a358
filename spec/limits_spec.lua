-- Limits (issue 9): a reply larger than max_response_bytes is cut off with ResponseTooLarge (a
-- ConnectionError) instead of being buffered whole; the cap bounds a JSON reply, an error reply,
-- the reply's headers and each stream event (not a stream's total length); a cut-off reply is
-- not retried and the client keeps working. Timeouts at the edges of their range behave as
-- timeouts: a sub-millisecond one is not "no limit".

local anthropic = require "anthropic"
local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local errors = anthropic.errors
local HAIKU = "claude-haiku-4-5"
-- The mock echoes the last user message; one long word, repeated by "deltas", makes big replies.
local WORD = string.rep("a", 2000)

local function params(text)
  return { model = HAIKU, max_tokens = 16, messages = { { role = "user", content = text or "Hi" } } }
end

local function fault(t) return { headers = { ["x-mock-fault"] = cjson.encode(t) } } end

local new_client = support.new_client

local raises = support.raises

-- Resident set size of this process in KiB (Linux).
local function rss_kb()
  for line in io.lines("/proc/self/status") do
    local v = line:match("^VmRSS:%s+(%d+)")
    if v then return tonumber(v) end
  end
end

local function too_large(err, cap)
  assert.are.equal("ResponseTooLarge", err.class_name, tostring(err))
  assert.is_true(err:is(errors.ResponseTooLarge))
  assert.is_true(err:is(errors.ConnectionError))
  assert.are.equal("too_large", err.transport)
  assert.are.equal(string.format("reply larger than max_response_bytes (%d bytes)", cap), err.message)
  assert.truthy(tostring(err):find("^ResponseTooLarge: "))
  assert.truthy(tostring(err):find("reply larger than max_response_bytes (" .. cap .. " bytes)", 1, true))
end

describe("max_response_bytes", function()
  before_each(function() mock.clear() end)

  it("a JSON reply larger than the cap is cut off, not buffered: memory stays flat", function()
    local cap = 64 * 1024
    local client = new_client { max_retries = 2, max_response_bytes = cap }
    client.messages.create(params())       -- warm up: connection, buffers, modules
    collectgarbage()
    collectgarbage()
    local before = rss_kb()
    -- ~6.7 MB of JSON: the client must stop reading after 64 KiB.
    local err = raises(client.messages.create, params(WORD), fault { deltas = 10000 })
    too_large(err, cap)
    assert.are.equal(200, err.status)
    collectgarbage()
    collectgarbage()
    local grew = rss_kb() - before
    assert.is_true(grew < 4096, "RSS grew by " .. grew .. " KiB while refusing a 6.7 MB reply")
    -- not retried (max_retries = 2), and the client still works
    assert.are.equal(2, #mock.requests())
    assert.are.equal("message", client.messages.create(params()).type)
    client:close()
  end)

  it("the same reply under the default cap (64 MiB) arrives whole", function()
    local client = new_client()
    local msg = client.messages.create(params(WORD), fault { deltas = 10000 })
    assert.is_true(#msg.content[1].text > 6000000)
    client:close()
  end)

  it("an error reply larger than the cap is ResponseTooLarge, not a truncated APIError", function()
    local cap = 2048
    local client = new_client { max_response_bytes = cap }
    local err = raises(client.messages.create, params(),
      fault { status = 500, body = "<html>" .. string.rep("x", 4000) .. "</html>" })
    too_large(err, cap)
    assert.are.equal(500, err.status)
    client:close()
  end)

  it("reply headers larger than the cap are cut off too", function()
    local cap = 2048
    local client = new_client { max_response_bytes = cap }
    local err = raises(client.messages.create, params(), fault { headers = { ["x-big"] = string.rep("b", 3000) } })
    too_large(err, cap)
    client:close()
  end)

  it("a stream event larger than the cap: ResponseTooLarge after the events before it", function()
    local cap = 1500
    local client = new_client { max_response_bytes = cap }
    -- deltas "You", " said:", " aaaa...(2000)": the third delta event is ~2.1 KB
    local s = client.messages.stream(params(WORD), fault { deltas = 3 })
    local texts = {}
    local err = raises(function()
      for ev in s:events() do
        if ev.type == "content_block_delta" then texts[#texts + 1] = ev.delta.text end
      end
    end)
    too_large(err, cap)
    assert.are.same({ "You", " said:" }, texts)
    assert.are.equal("You said:", err.partial.content[1].text)
    assert.are.equal("message", client.messages.create(params()).type)
    client:close()
  end)

  it("a stream longer than the cap in total is fine: the cap bounds each event", function()
    local cap = 4096
    local client = new_client { max_response_bytes = cap }
    local s = client.messages.stream(params("word"), fault { deltas = 10000 })
    local text = s:final_text()
    assert.is_true(#text > 10 * cap, "the stream carried only " .. #text .. " bytes")
    client:close()
  end)

  it("a batch results line (JSONL) larger than the cap: ResponseTooLarge, even when it arrives whole", function()
    local cap = 2000
    local client = new_client { max_response_bytes = cap }
    local batches = client.messages.batches
    local batch = batches.create({ requests = {
      { custom_id = "small", params = params("Hi") },
      { custom_id = "big", params = params(string.rep("b", 1900)) },   -- a result line of ~2.4 KB
    } }, fault { batch_pending_polls = 0 })
    assert.are.equal("ended", batches.retrieve(batch.id).processing_status)
    local ids = {}
    local err = raises(function()
      for entry in batches.results(batch.id) do ids[#ids + 1] = entry.custom_id end
    end)
    too_large(err, cap)
    assert.are.same({ "small" }, ids)
    client:close()
  end)

  it("a blocking final_message() on an oversized stream raises the same error", function()
    local client = new_client { max_response_bytes = 1500 }
    local err = raises(function() return client.messages.stream(params(WORD), fault { deltas = 3 }):final_message() end)
    too_large(err, 1500)
    client:close()
  end)
end)

-- A loopback port that never completes a TCP handshake: a listener with a backlog of 1 whose
-- queue is filled by connections nobody accepts, so the kernel drops further SYNs.
local function unconnectable()
  local srv = assert(socket.tcp())
  assert(srv:bind("127.0.0.1", 0))
  assert(srv:listen(1))
  local _, port = srv:getsockname()
  local fillers = {}
  for i = 1, 4 do
    fillers[i] = socket.tcp()
    fillers[i]:settimeout(0)
    fillers[i]:connect("127.0.0.1", port)
  end
  socket.sleep(0.05)
  return tonumber(port), function()
    for _, f in ipairs(fillers) do f:close() end
    srv:close()
  end
end

-- A loopback port that accepts TCP (the kernel does) but never says a word: a TLS handshake
-- to it never completes.
local function silent()
  local srv = assert(socket.tcp())
  assert(srv:bind("127.0.0.1", 0))
  assert(srv:listen(16))
  local _, port = srv:getsockname()
  return tonumber(port), function() srv:close() end
end

-- Under a slow host (valgrind) even a loopback connection can take more than 1 ms, so a 1 ms
-- timeout may strike while connecting or after: either way it must say "after 1 ms".
local function assert_after_1ms(err)
  assert.truthy(err.message == "request timeout: no complete reply after 1 ms"
    or err.message == "connect timeout: no connection after 1 ms", err.message)
end

describe("timeouts at the edges of their range", function()
  before_each(function() mock.clear() end)

  -- { label, base URL scheme, server, client options, expected message }
  local connect_rows = {
    { "TCP connect, connect_timeout the smaller", "http", unconnectable, { connect_timeout = 0.3, timeout = 60 },
      "connect timeout: no connection after 300 ms" },
    { "TCP connect, the total timeout the smaller", "http", unconnectable, { connect_timeout = 60, timeout = 0.3 },
      "connect timeout: no connection after 300 ms" },
    { "TLS handshake, connect_timeout the smaller", "https", silent, { connect_timeout = 0.3, timeout = 60 },
      "connect timeout: no connection after 300 ms" },
    { "TLS handshake, the total timeout the smaller", "https", silent, { connect_timeout = 60, timeout = 0.3 },
      "connect timeout: no connection after 300 ms" },
  }
  for _, row in ipairs(connect_rows) do
    it("a connect that never completes (" .. row[1] .. ") names the limit that struck", function()
      local port, close = row[3]()
      local opts = { base_url = row[2] .. "://127.0.0.1:" .. port }
      for k, v in pairs(row[4]) do opts[k] = v end
      local client = new_client(opts)
      local t0 = socket.gettime()
      local err = raises(client.messages.create, params())
      local took = socket.gettime() - t0
      close()
      client:close()
      assert.are.equal("Timeout", err.class_name, tostring(err))
      assert.are.equal("timeout_connect", err.transport)
      assert.are.equal(row[5], err.message)
      -- well under the 60 s limit that did not strike (loose: TLS set-up alone takes seconds
      -- under valgrind, and libcurl checks its timers only after it)
      assert.is_true(took < 30, "took " .. took .. " s")
    end)
  end

  it("a sub-millisecond client timeout is a Timeout, not 'no limit'", function()
    local client = new_client { timeout = 0.0001 }
    local t0 = socket.gettime()
    local err = raises(client.messages.create, params(), fault { delay_ms = 1500 })
    assert.are.equal("Timeout", err.class_name, tostring(err))
    assert_after_1ms(err)
    assert.is_true(socket.gettime() - t0 < 1.0)
    client:close()
  end)

  it("a sub-millisecond per-request timeout is a Timeout too", function()
    local client = new_client()
    local t0 = socket.gettime()
    local err = raises(client.messages.create, params(), { timeout = 0.0004,
      headers = { ["x-mock-fault"] = cjson.encode { delay_ms = 1500 } } })
    assert.are.equal("Timeout", err.class_name, tostring(err))
    assert_after_1ms(err)
    assert.is_true(socket.gettime() - t0 < 1.0)
    client:close()
  end)

  it("a sub-millisecond idle timeout ends a stream that only pings", function()
    -- the 3 s total timeout only bounds the test when the idle timeout does not work
    local client = new_client { idle_timeout = 0.0001, timeout = 3 }
    local t0 = socket.gettime()
    local err = raises(function()
      return client.messages.stream(params(), fault { pings_only = true, ping_interval_ms = 50 }):final_message()
    end)
    assert.are.equal("Timeout", err.class_name, tostring(err))
    assert.are.equal("stream idle timeout: no event other than ping for 1 ms", err.message)
    assert.is_true(socket.gettime() - t0 < 1.0)
    client:close()
  end)

  it("timeouts beyond the core's 24.8-day limit (up to a year) are accepted and work", function()
    local client = new_client { timeout = 31536000, connect_timeout = 31536000, idle_timeout = 31536000,
      retry_cap = 31536000 }
    assert.are.equal("message", client.messages.create(params()).type)
    assert.are.equal("You said: Hi", client.messages.stream(params()):final_text())
    client:close()
  end)
end)
