-- anthropic.mock.conn: buffered, non-blocking socket I/O for one connection.
--
-- Owns one accepted TCP socket (timeout 0). Reads and writes never block the
-- process: when the socket is not ready the calling task yields to the
-- scheduler (sched.wait) and carries on when select says so.
-- Invariants: self.buf holds bytes received but not yet consumed (only small:
-- headers, chunk-size lines; bodies are gathered into tables, not appended);
-- once closed, every operation fails with "closed".

local sched = require "anthropic.mock.sched"

local M = {}
M.__index = M

local RECV = 65536

function M.new(sock, id)
  sock:settimeout(0)
  pcall(sock.setoption, sock, "tcp-nodelay", true)
  return setmetatable({ sock = sock, id = id, buf = "", closed = false, eof = false }, M)
end

-- recv_some(max, deadline) -> string | nil, "closed" | "timeout"
-- Returns whatever is available (at most max bytes), waiting if nothing is.
function M:recv_some(max, deadline)
  if self.closed then return nil, "closed" end
  while true do
    if self.eof then return nil, "closed" end
    local data, err, partial = self.sock:receive(max)
    local got = data or partial
    if err == "closed" then self.eof = true end
    if got and #got > 0 then return got end
    if self.eof then return nil, "closed" end
    if err and err ~= "timeout" then self.eof = true; return nil, "closed" end
    if sched.wait(self.sock, nil, deadline) == "timeout" then return nil, "timeout" end
  end
end

-- fill(deadline): append what arrives to self.buf.
function M:fill(deadline)
  local got, err = self:recv_some(RECV, deadline)
  if not got then return nil, err end
  self.buf = self.buf .. got
  return true
end

-- read_line(limit, deadline) -> line without CRLF | nil, err ("too_long").
function M:read_line(limit, deadline)
  while true do
    local i = self.buf:find("\n", 1, true)
    if i then
      local line = self.buf:sub(1, i - 1):gsub("\r$", "")
      self.buf = self.buf:sub(i + 1)
      return line
    end
    if #self.buf > limit then return nil, "too_long" end
    local ok, err = self:fill(deadline)
    if not ok then return nil, err end
  end
end

-- read_exact(n, sink, deadline): deliver exactly n bytes to sink(piece)
-- (sink may be nil to discard). Returns true | nil, err.
function M:read_exact(n, sink, deadline)
  if #self.buf > 0 then
    local take = math.min(n, #self.buf)
    if sink then sink(self.buf:sub(1, take)) end
    self.buf = self.buf:sub(take + 1)
    n = n - take
  end
  while n > 0 do
    local got, err = self:recv_some(math.min(n, RECV), deadline)
    if not got then return nil, err end
    if sink then sink(got) end
    n = n - #got
  end
  return true
end

-- write(data) -> true | nil, "closed"
function M:write(data)
  if self.closed then return nil, "closed" end
  self.wrote = true
  local i, n = 1, #data
  while i <= n do
    local last, err, partial = self.sock:send(data, i)
    if last then
      i = last + 1
    elseif err == "timeout" then
      i = (partial or i - 1) + 1
      if i <= n then sched.wait(nil, self.sock, nil) end
    else
      self:close()
      return nil, "closed"
    end
  end
  return true
end

-- wait_gone(seconds) -> true if the peer closed the connection meanwhile.
-- Bytes that arrive (a pipelined request) are kept in the buffer.
function M:wait_gone(seconds)
  local deadline = sched.now() + seconds
  while true do
    if self.closed or self.eof then return true end
    local why = sched.wait(self.sock, nil, deadline)
    if why == "timeout" then return false end
    local data, err, partial = self.sock:receive(RECV)
    local got = data or partial
    if got and #got > 0 then self.buf = self.buf .. got end
    if err == "closed" or (err and err ~= "timeout") then
      self.eof = true
      return true
    end
  end
end

-- close(reset): reset=true sends a TCP RST instead of an orderly FIN.
function M:close(reset)
  if self.closed then return end
  self.closed = true
  if reset then pcall(self.sock.setoption, self.sock, "linger", { on = true, timeout = 0 }) end
  self.sock:close()
end

return M
