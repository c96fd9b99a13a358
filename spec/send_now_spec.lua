-- core:request's send_now: a caller that blocks on its request next has it sent before the call
-- returns, so the server works while the caller sets up its wait (bench/PROFILES.md, (a)). The
-- server here is in this process (LuaSocket, never blocking), so what reached it by the time
-- core:request returned is seen exactly, with no poll run in between.

local anthropic = require "anthropic"
local core = require "anthropic.core"
local socket = require "socket"
local mock = require "spec.support.mock"

local REPLY_BODY = '{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5",'
  .. '"content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,'
  .. '"usage":{"input_tokens":1,"output_tokens":1}}'
local REPLY = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #REPLY_BODY
  .. "\r\n\r\n" .. REPLY_BODY

-- A listening socket on a free loopback port, and its base URL.
local function listen()
  local srv = assert(socket.bind("127.0.0.1", 0))
  srv:settimeout(0)
  local _, port = srv:getsockname()
  return srv, "http://127.0.0.1:" .. port
end

local function opts(url, send_now)
  return { method = "POST", url = url .. "/v1/messages", body = "{}", send_now = send_now,
    headers = { "content-type: application/json" }, timeout_ms = 10000 }
end

-- The request head that has reached conn, without waiting for more: its first line, or nil.
local function request_line(conn)
  conn:settimeout(0)
  local line = conn:receive("*l")
  return line
end

-- Reads one request (head and Content-Length body) from conn, polling c meanwhile so that the
-- client side moves, and answers it on the same connection (kept alive).
local function serve_one(c, conn)
  conn:settimeout(0)
  local head, len = {}, 0
  local deadline = socket.gettime() + 10
  while true do
    assert(socket.gettime() < deadline, "no request arrived")
    local line = conn:receive("*l")
    if line == "" then break end
    if line then
      head[#head + 1] = line
      len = tonumber(line:lower():match("^content%-length:%s*(%d+)")) or len
    else
      c:poll(5)
    end
  end
  local body = ""
  while #body < len do
    local got, _, part = conn:receive(len - #body)
    body = body .. (got or part or "")
    if #body < len then c:poll(5) end
  end
  assert(conn:send(REPLY))
  return head[1]
end

local function poll_until(c, pred)
  local deadline = socket.gettime() + 10
  while not pred() do
    assert(socket.gettime() < deadline, "timed out waiting")
    c:poll(20)
  end
end

describe("core:request send_now", function()
  local c, srv, url
  before_each(function()
    c = core.client()
    srv, url = listen()
  end)
  after_each(function()
    c:close()
    srv:close()
  end)

  it("opens the connection before it returns; without it, nothing connects until a poll", function()
    local quiet = c:request(opts(url, false))
    assert.is_nil(srv:accept(), "a request without send_now connected before any poll")
    quiet:close()
    c:request(opts(url, true))
    local conn = srv:accept()
    assert.truthy(conn, "send_now did not open the connection")
    conn:close()
  end)

  it("writes the request on a kept-alive connection before it returns", function()
    local first = c:request(opts(url, true))
    local conn = assert(srv:accept())
    assert.are.equal("POST /v1/messages HTTP/1.1", serve_one(c, conn))
    poll_until(c, function() return first:is_done() end)
    assert.are.equal(200, first:status())

    local quiet = c:request(opts(url, false))
    assert.is_nil(request_line(conn), "a request without send_now was written before any poll")
    assert.are.equal("POST /v1/messages HTTP/1.1", serve_one(c, conn))
    poll_until(c, function() return quiet:is_done() end)

    local sent = c:request(opts(url, true))
    assert.are.equal("POST /v1/messages HTTP/1.1", request_line(conn),
      "send_now did not write the request on the kept-alive connection")
    assert.is_nil(srv:accept(), "the request opened a second connection")
    assert(conn:send(REPLY))
    poll_until(c, function() return sent:is_done() end)
    assert.are.equal(200, sent:status())
    conn:close()
  end)

  -- libcurl refuses the scheme when the transfer starts, inside core:request: the poll after it
  -- must return at once, not wait its timeout on the other request's silent socket.
  it("a request it ended makes the next poll return without waiting", function()
    local silent = c:request(opts(url, true))
    local conn = assert(srv:accept())
    -- The silent request is sent and libcurl's short timers have run: only its reply is awaited.
    poll_until(c, function() return request_line(conn) ~= nil end)
    while c:timeout() < 1000 do c:poll(c:timeout()) end
    local refused = c:request { method = "POST", url = "foo://127.0.0.1/v1/messages", body = "{}", send_now = true }
    assert.is_true(refused:is_done())
    assert.are.equal(0, c:timeout(), "an event loop would not be told to poll at once")
    local t0 = socket.gettime()
    c:poll(3000)
    assert.is_true(socket.gettime() - t0 < 1.5, "the poll waited on a request that had ended")
    assert.are.equal("other", (refused:outcome()))
    assert.is_false(silent:is_done())
    assert.is_true(c:timeout() ~= 0, "the news outlived the poll that took it")
    conn:close()
  end)
end)

-- The Lua side asks for send_now only where the caller blocks next: a create without on_done,
-- outside a task. The core is wrapped to see the options each request was made with.
describe("send_now from the client", function()
  local client, seen
  before_each(function()
    client = anthropic.new { api_key = mock.KEYS.free, base_url = mock.url(), max_retries = 0 }
    local real = client._core
    seen = {}
    client._core = setmetatable({}, { __index = function(_, name)
      return function(_, o, ...)
        if name == "request" then seen[#seen + 1] = o.send_now end
        return real[name](real, o, ...)
      end
    end })
  end)
  after_each(function() client:close() end)

  local params = { model = mock.MODELS.haiku, max_tokens = 16, messages = { { role = "user", content = "Hi" } } }

  it("is asked for by a blocking create, not by one with on_done, a stream or a task", function()
    assert.are.equal("message", client.messages.create(params).type)
    local done
    client.messages.create(params, { on_done = function(err, m) done = err or m end })
    while not done do client:poll(20) end
    assert.are.equal("message", done.type)
    assert.are.equal("message", client.messages.stream(params):final_message().type)
    local t = anthropic.spawn(function() return client.messages.create(params).type end)
    while not t:is_done() do client:poll(20) end
    assert.are.equal("message", t.result)
    assert.are.same({ true, false, false, false }, seen)
  end)
end)
