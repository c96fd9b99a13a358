-- anthropic.mock.server: the listening socket, the accept loop, and one task
-- per connection (read a request, route it, repeat while keep-alive holds).
--
-- State shared by all connections lives in ctx: config, request log, fault
-- counters, rate-limit windows, batches. A Lua error inside a handler becomes
-- a 500 api_error for that request (or a closed connection if the reply had
-- started) and a traceback on stderr; the server keeps serving.

local socket = require "socket"
local sched = require "anthropic.mock.sched"
local conn_mod = require "anthropic.mock.conn"
local http = require "anthropic.mock.http"
local router = require "anthropic.mock.router"
local exchange = require "anthropic.mock.exchange"
local log_mod = require "anthropic.mock.log"
local faults = require "anthropic.mock.faults"
local ratelimit = require "anthropic.mock.ratelimit"
local batches = require "anthropic.mock.batches"
local files = require "anthropic.mock.files"

local M = {}
M.__index = M

-- new(config, opts) -> server. opts.verbose: one line per request on stderr.
function M.new(config, opts)
  opts = opts or {}
  local self = setmetatable({ opts = opts, next_conn = 0 }, M)
  self.ctx = {
    config = config, log = log_mod.new(config.log_limit), faults = faults.new_state(),
    ratelimit = ratelimit.new_state(config.ratelimit), batches = batches.new_store(), files = files.new_store(),
  }
  self.sched = sched.new({ on_tick = opts.on_tick })
  return self
end

-- listen(host, port) -> self | nil, message
function M:listen(host, port)
  local sock, err
  if host:find(":", 1, true) and socket.tcp6 then sock, err = socket.tcp6() else sock, err = socket.tcp() end
  if not sock then return nil, err end
  sock:setoption("reuseaddr", true)
  local ok
  ok, err = sock:bind(host, port)
  if not ok then sock:close(); return nil, err end
  ok, err = sock:listen(128)
  if not ok then sock:close(); return nil, err end
  sock:settimeout(0)
  self.sock = sock
  local _, bound_port = sock:getsockname()
  self.host, self.port = host, tonumber(bound_port)
  self.ctx.port = self.port
  self.sched:listen(sock, function(s) self:accept(s) end)
  return self
end

function M:accept(s)
  while true do
    local c = s:accept()
    if not c then return end
    self.next_conn = self.next_conn + 1
    local id = self.next_conn
    self.sched:spawn(function() self:serve(c, id) end)
  end
end

local function log_line(req, ex)
  io.stderr:write(string.format("anthropic-mock: conn %d %s %s -> %s %s\n", ex.conn.id, req.method, req.path,
    tostring(ex.entry and ex.entry.status or "-"), ex.request_id))
end

function M:serve(sock, id)
  local conn = conn_mod.new(sock, id)
  local cfg = self.ctx.config
  local opts = { idle = cfg.keepalive_timeout_ms / 1000, limit_for = router.limit_for(cfg),
    stream_for = files.stream_for(cfg) }
  while not conn.closed do
    local req, _, status = http.read_request(conn, opts)
    if not req then
      if status and not conn.closed then
        local ex = exchange.new(self.ctx, conn, { headers = {}, keep_alive = false }, nil)
        ex:error(status, "invalid_request_error", status == 431 and "Request headers too large" or "Bad request")
      end
      break
    end
    conn.wrote = false
    local ok, res = sched.pcall(router.handle, self.ctx, conn, req)
    if not ok then
      if sched.is_interrupt(res) then error(res, 0) end
      io.stderr:write("anthropic-mock: internal error: ", tostring(res), "\n")
      -- the request's exchange is not reachable from here: answer if nothing was sent yet
      if not conn.closed and not conn.wrote then
        local ex = exchange.new(self.ctx, conn, { headers = {}, keep_alive = false }, nil)
        ex:error(500, "api_error", "Internal server error")
      end
      break
    end
    if self.opts.verbose then log_line(req, res) end
    if not res.keep_alive then break end
  end
  conn:close()
end

function M:run()
  self.sched:run()
end

function M:stop()
  self.sched.stopped = true
  if self.sock then self.sock:close() end
end

return M
