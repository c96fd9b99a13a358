-- anthropic.mock.sched: one thread, many tasks.
--
-- Every connection is a coroutine. A task blocks by yielding what it waits for
-- (a socket to read, a socket to write, a wake-up time, or a mix); the loop
-- gathers those into one socket.select call and resumes whoever is ready.
-- So a stream that sleeps between events, or a pings-only stream that lasts a
-- minute, never holds up another connection.
-- Invariants: a task waits on at most one socket per direction; a task is
-- resumed only by this loop (or by sched.pcall forwarding its yields).

local socket = require "socket"

local M = {}
M.__index = M

local gettime = socket.gettime
local unpack = table.unpack or unpack -- luacheck: ignore 143

local function pack(...)
  return { n = select("#", ...), ... }
end

M.now = gettime

function M.new(opts)
  opts = opts or {}
  return setmetatable({
    waiting = {},       -- task -> true
    listeners = {},     -- listening socket -> on_readable(sock)
    max_wait = opts.max_wait or 0.5,
    on_tick = opts.on_tick,
    on_error = opts.on_error or function(msg) io.stderr:write(msg, "\n") end,
    stopped = false,
  }, M)
end

-- wait(r, w, at) -> "read" | "write" | "timeout". Called from inside a task.
function M.wait(r, w, at)
  return coroutine.yield(r, w, at)
end

function M.sleep(seconds)
  return coroutine.yield(nil, nil, gettime() + seconds)
end

-- Give the other tasks a turn (long streams call this now and then).
function M.pass()
  return coroutine.yield(nil, nil, gettime())
end

-- The standalone interpreter turns SIGINT into an "interrupted!" error. On
-- LuaJIT its hook is VM-wide, so the error can surface inside any task; it
-- must stop the loop, not just that task.
function M.is_interrupt(err)
  return tostring(err):find("interrupted!", 1, true) ~= nil
end

function M:_resume(task, ...)
  local ok, r, w, at = coroutine.resume(task.co, ...)
  if not ok then
    if M.is_interrupt(r) then error(r, 0) end
    self.waiting[task] = nil
    self.on_error(debug.traceback(task.co, tostring(r)))
    if task.on_dead then task.on_dead() end
    return
  end
  if coroutine.status(task.co) == "dead" then
    self.waiting[task] = nil
    return
  end
  task.r, task.w, task.at = r, w, at
  self.waiting[task] = true
end

function M:spawn(fn, ...)
  local task = { co = coroutine.create(fn) }
  self:_resume(task, ...)
  return task
end

function M:listen(sock, on_readable)
  self.listeners[sock] = on_readable
end

function M:unlisten(sock)
  self.listeners[sock] = nil
end

function M:step()
  local rl, wl, rmap, wmap = {}, {}, {}, {}
  local now = gettime()
  local nearest = now + self.max_wait
  for sock in pairs(self.listeners) do rl[#rl + 1] = sock end
  for task in pairs(self.waiting) do
    if task.r then rl[#rl + 1] = task.r; rmap[task.r] = task end
    if task.w then wl[#wl + 1] = task.w; wmap[task.w] = task end
    if task.at and task.at < nearest then nearest = task.at end
  end
  local timeout = nearest - now
  if timeout < 0 then timeout = 0 end
  local rr, ww = socket.select(rl, wl, timeout)
  now = gettime()
  local ready = {}
  for sock, on_readable in pairs(self.listeners) do
    if rr[sock] then on_readable(sock) end
  end
  for sock in pairs(rmap) do
    if rr[sock] then ready[rmap[sock]] = "read" end
  end
  for sock in pairs(wmap) do
    if ww[sock] and not ready[wmap[sock]] then ready[wmap[sock]] = "write" end
  end
  for task in pairs(self.waiting) do
    if not ready[task] and task.at and task.at <= now then ready[task] = "timeout" end
  end
  for task, why in pairs(ready) do
    if self.waiting[task] then
      self.waiting[task] = nil
      self:_resume(task, why)
    end
  end
  if self.on_tick then self.on_tick(now) end
end

function M:run()
  while not self.stopped do self:step() end
end

-- sched.pcall(fn, ...): like pcall, but fn may yield to the loop (Lua 5.1
-- cannot yield across pcall). Returns true, results... or false, traceback.
function M.pcall(fn, ...)
  local co = coroutine.create(fn)
  local res = pack(coroutine.resume(co, ...))
  while true do
    if not res[1] then
      return false, debug.traceback(co, tostring(res[2]))
    end
    if coroutine.status(co) == "dead" then
      return true, unpack(res, 2, res.n)
    end
    res = pack(coroutine.resume(co, coroutine.yield(unpack(res, 2, res.n))))
  end
end

return M
