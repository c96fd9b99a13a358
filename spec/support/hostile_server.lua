-- spec/support/hostile_server.lua: the process behind spec.support.hostile. Not a module.
--
--   lua hostile_server.lua REPLIES_FILE LOG_FILE WATCH_PID
--
-- REPLIES_FILE returns { replies = { bytes, ... }, repeat_last = bool }: the exact bytes of one
-- reply per request, in order (after the last one: the last again when repeat_last, else the
-- connection is closed unanswered). Every request is appended to LOG_FILE as
-- "<n>\n<bytes>" records (request line, headers, blank line, body) so the spec can read what
-- was sent. One request per connection; the reply ends the connection. The server exits when
-- the process WATCH_PID is gone, or after 60 s without a connection.

local socket = require "socket"

local spec = dofile(arg[1])
local log = assert(io.open(arg[2], "ab"))
local watch = arg[3]
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
io.stdout:write("port ", port, "\n")
io.stdout:flush()
srv:settimeout(1)

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if f then f:close() return true end
  return false
end

local function read_request(c)
  local lines, len = {}, 0
  while true do
    local line = c:receive("*l")
    if not line then return nil end
    lines[#lines + 1] = line
    if line == "" then break end
    local v = line:lower():match("^content%-length:%s*(%d+)")
    if v then len = tonumber(v) end
  end
  local body = len > 0 and c:receive(len) or ""
  return table.concat(lines, "\r\n") .. "\r\n" .. (body or "")
end

local n, idle = 0, 0
while idle < 60 do
  local c = srv:accept()
  if not c then
    idle = idle + 1
    if watch and not alive(watch) then break end
  else
    idle = 0
    c:settimeout(10)
    local req = read_request(c)
    if req then
      n = n + 1
      log:write(#req, "\n", req)
      log:flush()
      local reply = spec.replies[n] or (spec.repeat_last and spec.replies[#spec.replies])
      if reply then
        local i = 1
        while i <= #reply do           -- large replies in pieces: a slow reader must not fail us
          local sent, err, last = c:send(reply, i)
          if not sent then
            if err ~= "timeout" then break end
            sent = last
          end
          i = sent + 1
        end
      end
    end
    c:close()
  end
end
srv:close()
log:close()
