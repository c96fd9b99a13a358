-- bench/clients/luasocket.lua: a pure-Lua client on LuaSocket's socket.http and lua-cjson, the
-- way lua-openai and most Lua API wrappers are written.
--
--   lua5.4 bench/clients/luasocket.lua [--close] a|b BASE_URL N  (contract: bench/clients/common.lua)
-- Stock socket.http sends "connection: close" and opens a TCP connection per request
-- (--close measures exactly that). By default we go one step further than lua-openai and keep
-- one connection alive: a create() hook hands socket.http a wrapper whose connect() and close()
-- are no-ops once connected. That only works because nginx sends Content-Length or chunked
-- bodies that socket.http reads exactly to their end.
-- What it cannot do: concurrency (c; socket.http blocks the thread), HTTP/2, non-blocking use in
-- a frame loop (e), retries or timeouts per phase. Streams go through the pure-Lua SSE decoder.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local common = require "common"
local cjson = common.cjson
local http = require "socket.http"
local ltn12 = require "ltn12"
local socket = require "socket"

local close_mode = arg[1] == "--close"
if close_mode then table.remove(arg, 1) end
local name = close_mode and "luasocket-close" or "luasocket"
local w, base, n = common.args(name, arg)

-- One real TCP socket, reused across requests.
local conn
local function create()
  if not conn then conn = assert(socket.tcp()) end
  local real, connected = conn, false
  local proxy = {}
  function proxy.connect(_, host, port)
    if connected then return 1 end
    local ok, err = real:connect(host, port)
    connected = ok and true or false
    -- socket.http writes request line, headers and body in separate sends; on a reused
    -- connection Nagle holds the body back until the delayed ACK (40 ms) without this.
    if ok then real:setoption("tcp-nodelay", true) end
    return ok, err
  end
  function proxy.close() return 1 end
  return setmetatable(proxy, { __index = function(_, k)
    local f = real[k]
    return function(_, ...) return f(real, ...) end
  end })
end
-- socket.http calls create() per request; the wrapper must remember that it is connected.
local keepalive_proxy
local function create_keepalive()
  keepalive_proxy = keepalive_proxy or create()
  return keepalive_proxy
end

local function request(stream, sink)
  local body = cjson.encode(common.params(stream))
  local headers = {
    ["content-type"] = "application/json",
    ["content-length"] = tostring(#body),
    ["anthropic-version"] = "2023-06-01",
    ["x-api-key"] = common.API_KEY,
  }
  if not close_mode then headers.connection = "keep-alive" end
  local ok, code = http.request {
    url = base .. "/v1/messages",
    method = "POST",
    headers = headers,
    source = ltn12.source.string(body),
    sink = sink,
    create = (not close_mode) and create_keepalive or nil,
  }
  if not ok then error("http: " .. tostring(code), 0) end
  if code ~= 200 then error("status " .. tostring(code), 0) end
end

local function once()
  local parts = {}
  request(false, ltn12.sink.table(parts))
  local msg = cjson.decode(table.concat(parts))
  return #msg.content[1].text
end

local function stream()
  local feed, finish = common.sse_accumulator()
  request(true, function(chunk)
    if chunk then feed(chunk) end
    return 1
  end)
  return finish()
end

common.main(name, w, n, function()
  if w == "a" then return common.timed(n, once) end
  if w == "b" then return common.timed(n, stream) end
  common.unsupported(w)
end)
