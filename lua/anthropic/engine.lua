-- anthropic.engine: operations on top of anthropic.core requests, and the one poll loop.
--
-- An operation (op) wraps one core Request plus a handler that turns its bytes and events into
-- a result. Every request is an op; a blocking call is "start the op, then wait for it":
--   * outside any library task, wait() drives client:poll() until the op is done;
--   * inside a task started by anthropic.spawn(), wait() yields, and whoever polls the client
--     resumes the task when its op made progress. So host code reads top to bottom and never
--     blocks a frame loop or an editor.
--
-- User callbacks (on_event, on_text, on_done) run here, from client:poll(), after libcurl has
-- returned, and always under pcall. An error in on_event/on_text cancels that op, which then
-- finishes with that error (on_done(err) receives it; a blocking caller gets it raised). An
-- error in on_done is re-raised from poll() once every other op has been serviced.

local compat = require "anthropic.compat"
local errors = require "anthropic.errors"
local timers = require "anthropic.timers"

local engine = {}

local pcall, type, error = compat.pcall, type, error
local core = require "anthropic.core"
local core_sleep_ms, now_ms = core.sleep_ms, core.now_ms
local co_running, co_yield, co_resume, co_status, co_create =
  coroutine.running, coroutine.yield, coroutine.resume, coroutine.status, coroutine.create

-- ---------------------------------------------------------------------------------------
-- Tasks (anthropic.spawn)

local current_task = nil      -- the task whose coroutine is running now, if any
---@class anthropic.Task
---@field result any what the task's function returned
---@field err any the error that ended it, if any
local Task = {}
Task.__index = Task

-- Resumes a task. A task's on_done (if the caller set one) runs under pcall; an error it raises
-- goes to `errs` (the client's callback errors, re-raised by poll) or, with no list, is raised
-- here. Errors inside the task itself end it with task.err.
local function resume_task(task, errs, ...)
  local previous = current_task
  current_task = task
  local ok, err = co_resume(task.co, ...)
  current_task = previous
  local finished = false
  if not ok then
    task.done, task.err, finished = true, err, true
  elseif co_status(task.co) == "dead" then
    task.done, finished = true, true
  end
  if finished and task.on_done then
    local cb_ok, cb_err = pcall(task.on_done, task.err, task.result)
    if not cb_ok then
      if errs then errs[#errs + 1] = cb_err else error(cb_err, 0) end
    end
  end
end

--- engine.spawn(fn, ...) runs fn in a task: blocking library calls inside it yield instead of
--- blocking. Returns the task (task:is_done(), task.result, task.err).
---@param fn function
---@param ... any its arguments
---@return anthropic.Task
function engine.spawn(fn, ...)
  if type(fn) ~= "function" then errors.usage("fn", "must be a function") end
  local task = setmetatable({ done = false }, Task)
  local args, n = { ... }, select("#", ...)
  task.co = co_create(function()
    task.result = fn(compat.unpack(args, 1, n))
  end)
  resume_task(task, nil)
  return task
end

---@return boolean
function Task:is_done() return self.done end

--- engine.await(start) -> the values given to resume. Inside a task: calls start(resume) and
--- suspends the task until resume(...) is called, at once or later from any callback of the
--- host (a prompt's answer, a timer); only the first call counts. This is how a task waits for
--- something that is not a request, without blocking the host.
---@param start fun(resume: fun(...)) called at once with the function that wakes the task
---@return any ... what resume was given
function engine.await(start)
  if type(start) ~= "function" then errors.usage("start", "must be a function (resume)") end
  if not engine.in_task() then
    errors.usage(nil, "anthropic.await works inside a task (anthropic.spawn): outside one nothing "
      .. "could run while it waits")
  end
  local task, state, values = current_task, "starting", nil
  local function resume(...)
    if state == "done" then return end
    local waiting = state == "waiting"
    state, values = "done", compat.pack(...)
    if waiting then resume_task(task, nil) end
  end
  start(resume)
  while state ~= "done" do
    state = "waiting"
    co_yield()
  end
  return compat.unpack(values, 1, values.n)
end

--- engine.in_task() -> true when called from a task's coroutine (waits would yield).
---@return boolean
function engine.in_task()
  if current_task == nil then return false end
  local co, is_main = co_running()       -- 5.1 returns nil on the main thread, 5.2+ a flag
  return co ~= nil and not is_main
end

-- ---------------------------------------------------------------------------------------
-- Operations

-- How many events one op hands to Lua per poll: bounds the work of a single poll(0) in a
-- frame loop however fast the server sends. The rest wait in C (flow control pauses the
-- transfer), and the next poll does not sleep while they are there.
engine.MAX_EVENTS_PER_POLL = 128
-- Under a time budget an op takes its events in batches this size and looks at the clock
-- between them: small enough that a batch is a fraction of a frame's budget (about 10 us an
-- event with cold caches), large enough that the clock costs nothing.
local BUDGET_BATCH = 8

-- What handing one event to Lua has lately cost under a budget (ms; a moving average over
-- batches, kept per client as client._event_ms): a batch past the first runs only if the time
-- left covers a full one, so a poll ends near its budget instead of a batch past it.
local function batch_ms(client)
  return (client._event_ms or 0) * BUDGET_BATCH
end

---@class anthropic.Operation
---@field done boolean
---@field err? anthropic.AnthropicError
---@field result any
local Op = {}
Op.__index = Op
engine.Op = Op

--- Creates an op for `req` on `client` with `handler` (a table: events(op, batch, n) for a
--- streamed reply's events, which every streamed request's handler must have; progress(op)
--- for transfer progress; finish(op) when the request is done). The op joins the active set.
---@param client anthropic.Client
---@param req userdata an anthropic.core Request
---@param handler table { events?, progress?, finish }
---@param callbacks? table on_done, on_event, on_text
---@return anthropic.Operation
function engine.start(client, req, handler, callbacks)
  local op = setmetatable({
    client = client, req = req, handler = handler, done = false,
    on_done = callbacks and callbacks.on_done,
    on_event = callbacks and callbacks.on_event,
    on_text = callbacks and callbacks.on_text,
    waiters = nil, buf = nil,   -- the event batch table, made on the first batch (streams only)
  }, Op)
  client._ops[op] = true
  client._nops = client._nops + 1
  -- An event-loop driver (anthropic.uv) re-arms its watchers: the new transfer wants a poll.
  if client._wake then client._wake() end
  return op
end

---@return boolean
function Op:is_done() return self.done end

--- op:cancel([err]) aborts the transfer; the op finishes with err, by default the core's
--- outcome of the cancel: a ConnectionError "canceled by the caller" (transport "aborted").
---@param err? anthropic.AnthropicError what the operation finishes with
function Op:cancel(err)
  if self.done then return end
  self.canceled = true
  local req = self.req
  if req then
    req:cancel()
    if err == nil then
      local transport, message = req:outcome()
      err = errors.new(errors.ConnectionError, { message = message, transport = transport })
    end
  end
  self:finish(err, nil)
end

-- Ends the op with (err, result), releases the transfer and queues on_done.
---@private
function Op:finish(err, result)
  if self.done then return end
  -- Usage, on_response and the end line (anthropic.observe), before anyone sees the result.
  local observe = self.observe
  if observe then
    self.observe = nil   -- once, even if a hook closes the client (which cancels this op)
    err, result = observe(self, err, result)
  end
  self.done, self.err, self.result = true, err, result
  local client = self.client
  if client._ops[self] then
    client._ops[self] = nil
    client._nops = client._nops - 1
  end
  if self.req then
    self.req:close()
    self.req = nil
  end
  if self.on_done then
    local ok, cb_err = pcall(self.on_done, err, result)
    if not ok then client._callback_errors[#client._callback_errors + 1] = cb_err end
  end
  self:wake()
end

-- Resumes tasks waiting on this op.
---@private
function Op:wake()
  local waiters = self.waiters
  if waiters then
    self.waiters = nil
    for i = 1, #waiters do resume_task(waiters[i], self.client._callback_errors) end
  end
end

--- Runs a user callback under pcall; on error cancels the op with that error. Returns ok.
---@param fn function a user callback
---@param ... any its arguments
---@return boolean ok
function Op:call(fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    self:cancel(err)
    return false
  end
  return true
end

local function service(op, req, limit, deadline)
  -- Headers first: events and completion may refer to them (request id, status).
  if op.handler.progress then
    op.handler.progress(op)
    if op.done then return end     -- a callback it ran (on_progress) failed and canceled the op
  end
  local events = op.handler.events
  -- A handler without `events` is for a reply that is not streamed: the core queues nothing
  -- for it (every streamed request's handler takes events), so only the end is looked for.
  if not events then
    if req:is_done() then op.handler.finish(op) end
    return
  end
  local buf = op.buf
  if not buf then
    buf = {}
    op.buf = buf
  end
  local more
  if deadline == nil then
    local n
    n, more = req:take_events(buf, limit)
    if n > 0 then
      events(op, buf, n)
      if op.done then return end
    end
  else
    -- The first batch is always taken, so a poll whose budget libcurl spent still moves on.
    local client, t = op.client, now_ms()
    repeat
      local n
      n, more = req:take_events(buf, limit < BUDGET_BATCH and limit or BUDGET_BATCH)
      limit = limit - n
      if n > 0 then
        events(op, buf, n)
        if op.done then return end
      end
      local t2 = now_ms()
      if n > 0 then
        local per = client._event_ms or 0
        client._event_ms = per + ((t2 - t) / n - per) * 0.25
      end
      t = t2
    until not more or limit <= 0 or t + batch_ms(client) >= deadline
  end
  op.more = more
  if not more and req:is_done() then
    op.handler.finish(op)
  end
  if op.progressed then
    op.progressed = false
    op:wake()
  end
end

-- Moves the op along after a core poll: hands queued events to the handler, and finishes the
-- op once its request is done. Never re-entered: a callback of this op may make a blocking
-- call, which polls and services every op while this op's batch is still being handed out
-- (op.buf would be overwritten, later events delivered first, the end seen before them).
-- deadline (core.now_ms's clock), when given, ends the op's turn once passed.
---@private
function Op:service(limit, deadline)
  local req = self.req
  if not req or self.servicing then return end
  self.servicing = true
  local ok, err = pcall(service, self, req, limit or engine.MAX_EVENTS_PER_POLL, deadline)
  self.servicing = false
  if not ok then error(err, 0) end
end

-- Raises the oldest on_done error not yet raised. One per call, so none is dropped: a poll
-- whose ops raised several hands them out one by one to the polls that follow.
local function raise_pending(client)
  local errs = client._callback_errors
  if #errs > 0 then error(table.remove(errs, 1), 0) end
end

--- engine.poll_budget(budget) -> max_events, max_ms: a poll budget checked (see client:poll);
--- nil for no budget. Raises a UsageError naming the bad field. (anthropic.uv checks its option
--- here.)
---@param budget? integer|{ max_events?: integer, max_ms?: number }
---@return integer|nil max_events
---@return number|nil max_ms
function engine.poll_budget(budget)
  local max_events, max_ms = budget, nil
  if type(budget) == "table" then
    for k in pairs(budget) do
      if k ~= "max_events" and k ~= "max_ms" then
        errors.usage("budget." .. tostring(k), "is not a poll budget field (max_events, max_ms)")
      end
    end
    max_events, max_ms = budget.max_events, budget.max_ms
    if max_ms ~= nil and (type(max_ms) ~= "number" or not (max_ms > 0 and max_ms < math.huge)) then
      errors.usage("budget.max_ms", "must be a number > 0 (milliseconds of work)")
    end
  end
  if max_events ~= nil and (type(max_events) ~= "number" or max_events < 1 or max_events % 1 ~= 0) then
    errors.usage(type(budget) == "table" and "budget.max_events" or "max_events", "must be an integer >= 1")
  end
  return max_events, max_ms
end

--- engine.poll(client, timeout_ms [, max_events [, max_ms]]) -> number of ops still in
--- flight. Bounded: waits at most timeout_ms for network activity, then services every op.
--- max_events bounds the events handed to Lua in this poll (the work of a frame): each op gets
--- an equal share (at least one), the rest stay queued in order. max_ms bounds the time of
--- the work after the wait, libcurl's reads and the ops' events together: the core reads a
--- further socket, and an op takes a further batch, only while the time left covers one at
--- its recent cost, and the ops are served in turn (starting one further each poll); the
--- first op served always takes one batch, so every poll makes progress. The next poll does
--- not sleep while anything a budget left is waiting.
--- Raises (after all ops are serviced) the first error thrown by an on_done callback; further
--- ones are raised by the polls that follow, one each, so no callback error is lost.
---@param client anthropic.Client
---@param timeout_ms number
---@param max_events? integer
---@param max_ms? number
---@return integer inflight
function engine.poll(client, timeout_ms, max_events, max_ms)
  raise_pending(client)       -- left over from an earlier poll: raise it before waiting
  local wait, ops, nops = timeout_ms or 0, nil, client._nops
  -- Work a budget cut short is waiting (in C queues or unread sockets): don't sleep.
  if client._cut then wait, client._cut = 0, false end
  -- The ops to serve after the core's poll, as they are before it: one op (a blocking
  -- request, the common case) needs no list made.
  local only = nops == 1 and next(client._ops) or nil
  if not only then
    ops = {}
    for op in pairs(client._ops) do ops[#ops + 1] = op end
    nops = #ops
  end
  for i = 1, nops do
    local op = only or ops[i]
    -- Events already decoded wait for this op (one poll hands out MAX_EVENTS_PER_POLL): don't
    -- sleep. Unless its callback is running now (a blocking call inside it polls here): it
    -- cannot take them, and waiting for it would spin.
    if op.more and not op.servicing then wait = 0 end
  end
  if timers.count(client) > 0 then
    wait = timers.bound(client, wait)
    -- With nothing in flight the core's poll returns at once: sleep here for the wake-up.
    if client._core:inflight() == 0 then
      if wait > 0 then core_sleep_ms(wait) end
      wait = 0
    end
  end
  local _, work_start = client._core:poll(wait, max_ms)
  local share
  if max_events then
    share = math.min(engine.MAX_EVENTS_PER_POLL, math.max(1, math.floor(max_events / math.max(1, nops))))
  end
  if only then
    if max_ms then client._turn = 1 end   -- as the turn below: the op after the one served
    only:service(share, max_ms and work_start + max_ms)
  elseif max_ms == nil then
    for i = 1, nops do ops[i]:service(share) end
  elseif nops > 0 then
    local deadline = work_start + max_ms
    local turn = (client._turn or 0) % nops
    client._turn = turn + 1
    for k = 1, nops do
      local at = (turn + k - 1) % nops
      if k > 1 and now_ms() + batch_ms(client) >= deadline then
        client._cut, client._turn = true, at    -- the next poll starts with the first op left
        break
      end
      ops[at + 1]:service(share, deadline)
    end
  end
  timers.run_due(client)
  -- Whoever polled, the sockets and the next deadline may have changed: the driver resyncs.
  if client._wake then client._wake() end
  raise_pending(client)
  return client._nops + timers.count(client)
end

--- engine.timeout(client) -> milliseconds until the client next needs a poll (-1: nothing
--- pending): the core's timers (libcurl's, retries, idle checks) and the wake-ups of
--- anthropic.timers (a held queue, a sleeping bulk job), whichever comes first.
---@param client anthropic.Client
---@return integer ms
function engine.timeout(client)
  local t = client._core:timeout()
  if timers.count(client) == 0 then return t end
  local w = timers.bound(client, math.huge)
  if t < 0 or w < t then t = w end
  return t
end

--- engine.sleep(client, seconds): inside a task, suspends it and lets client:poll() wake it
--- (poll counts the sleeping task as in flight, so a host loop keeps polling); outside one,
--- blocks, still servicing the client's operations meanwhile.
---@param client anthropic.Client
---@param seconds number
function engine.sleep(client, seconds)
  client = client._root or client   -- the engine's poll and timers are the root client's
  local at = timers.now_ms() + seconds * 1000
  if engine.in_task() then
    engine.await(function(resume) timers.add(client, at, resume) end)
    return
  end
  while true do
    local left = math.ceil(at - timers.now_ms())
    if left <= 0 then return end
    if client._nops > 0 then engine.poll(client, left) else core_sleep_ms(left) end
  end
end

--- engine.wait(op [, until_fn]) blocks (or yields, inside a task) until op is done or
--- until_fn(op) returns true.
---@param op anthropic.Operation
---@param until_fn? fun(op: anthropic.Operation): boolean
---@return anthropic.Operation op
function engine.wait(op, until_fn)
  while not op.done and not (until_fn and until_fn(op)) do
    if engine.in_task() then
      local task = current_task
      op.waiters = op.waiters or {}
      op.waiters[#op.waiters + 1] = task
      co_yield()
    else
      -- The core poll returns as soon as a socket is ready or a timer is due.
      engine.poll(op.client, 1000)
    end
  end
  return op
end

return engine
