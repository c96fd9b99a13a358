-- One thread, many connections: slow streams never hold up other requests;
-- keep-alive throughput is comfortably above a few hundred requests per second.
local mock = require "spec.support.mock"
local cjson = require "cjson"
local socket = require "socket"

local BODY = cjson.encode({ model = mock.MODELS.haiku, max_tokens = 10,
  messages = { { role = "user", content = "hi" } } })
local STREAM = (BODY:gsub("^{", '{"stream":true,'))

local function quick_requests(n)
  local c = mock.connect()
  local worst = 0
  for _ = 1, n do
    local t0 = socket.gettime()
    local status = c:request("POST", "/v1/messages", mock.headers(), BODY)
    assert.equal(200, status)
    worst = math.max(worst, socket.gettime() - t0)
  end
  c:close()
  return worst
end

describe("mock concurrency", function()
  it("answers other requests promptly while a pings_only stream is open", function()
    local slow = mock.connect()
    slow:send("POST", "/v1/messages", mock.headers({ ["x-mock-fault"] = '{"pings_only":true,"ping_interval_ms":20}' }),
      STREAM)
    local status = slow:read({ head_only = true })
    assert.equal(200, status)
    local worst = quick_requests(20)
    assert.is_true(worst < 0.3, "slowest reply took " .. worst .. " s")
    -- the ping stream is still flowing
    local size = slow.sock:receive("*l")
    assert.is_not_nil(size)
    slow:close()
  end)

  it("answers other requests while a stream waits between events and another waits before its headers", function()
    local a = mock.connect()
    a:send("POST", "/v1/messages", mock.headers({ ["x-mock-fault"] = '{"event_delay_ms":60}' }), STREAM)
    local b = mock.connect()
    b:send("POST", "/v1/messages", mock.headers({ ["x-mock-fault"] = '{"delay_ms":1000}' }), BODY)
    local t0 = socket.gettime()
    local worst = quick_requests(10)
    assert.is_true(worst < 0.3, "slowest reply took " .. worst .. " s")
    assert.is_true(socket.gettime() - t0 < 0.9, "quick requests were held up")
    local sa, _, raw = a:read()
    local sb = b:read()
    assert.equal(200, sa)
    assert.equal(200, sb)
    assert.equal("message_stop", mock.sse(raw)[#mock.sse(raw)].event)
    a:close()
    b:close()
  end)

  it("serves 50 connections at once", function()
    local conns = {}
    for i = 1, 50 do
      conns[i] = mock.connect()
      conns[i]:send("POST", "/v1/messages", mock.headers(), BODY)
    end
    for i = 1, 50 do
      local status, _, raw = conns[i]:read()
      assert.equal(200, status)
      assert.equal("You said: hi", cjson.decode(raw).content[1].text)
      conns[i]:close()
    end
  end)

  it("handles several hundred keep-alive requests per second", function()
    local c = mock.connect()
    local n = 600
    local t0 = socket.gettime()
    for _ = 1, n do
      assert.equal(200, (c:request("POST", "/v1/messages", mock.headers(), BODY)))
    end
    local rate = n / (socket.gettime() - t0)
    c:close()
    assert.is_true(rate > 200, string.format("%.0f requests/s", rate))
  end)
end)
