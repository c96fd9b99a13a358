-- anthropic.queue: Messages requests that start when the rate limits allow, never more than
-- max_in_flight at once.
--
--   local q = client:queue{ max_in_flight = 16 }
--   for i, prompt in ipairs(prompts) do q:create{ model = ..., max_tokens = 256, messages = ... } end
--   local results, errs = q:results()        -- waits (or yields, in a task); submission order
--
-- q:create / q:stream return at once with an operation (on_done, poll, engine.wait, tasks as
-- for any request). Until the queue starts it, the operation counts as in flight for
-- client:poll() and can be canceled; once started, it is an ordinary request, retried by the
-- core as any other (a 429 never surfaces while retries remain). What may start is the pacer's
-- decision (anthropic.pacing, fed by every reply's rate-limit headers); the queue holds the
-- rest, with a wake-up (anthropic.timers) at the time the pacer names, so a poll sleeps
-- until then and client:timeout() reports it to an event loop. Nothing queued, nothing costs:
-- a wake-up is only set while something is held.

local compat = require "anthropic.compat"
local engine = require "anthropic.engine"
local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local pacing = require "anthropic.pacing"
local timers = require "anthropic.timers"
local core = require "anthropic.core"

local wall = core.wall_seconds

local M = {}

M.DEFAULT_MAX_IN_FLIGHT = 16
local OPTIONS = { max_in_flight = true, pacing = true }

---@class anthropic.Queue
local Queue = {}
Queue.__index = Queue
Queue.__name = "anthropic.Queue"

-- A queued request: an Operation that has no transfer until the queue starts it.
---@class anthropic.QueuedOperation: anthropic.Operation
---@field stream? anthropic.Stream q:stream's stream, once started
local QueuedOp = setmetatable({}, { __index = engine.Op })
QueuedOp.__index = QueuedOp

--- M.new(client, opts) -> a Queue (client:queue(opts)).
---@param client anthropic.Client
---@param opts? { max_in_flight?: integer, pacing?: boolean }
---@return anthropic.Queue
function M.new(client, opts)
  if opts ~= nil and type(opts) ~= "table" then errors.usage("opts", "must be a table") end
  opts = opts and validate.plain(opts, "opts") or {}
  validate.known_keys(opts, OPTIONS, "opts.")
  if opts.pacing ~= nil and type(opts.pacing) ~= "boolean" then errors.usage("opts.pacing", "must be a boolean") end
  local q = setmetatable({
    client = client,
    max_in_flight = validate.count(opts.max_in_flight, "opts.max_in_flight", M.DEFAULT_MAX_IN_FLIGHT, 100000, 1),
    pacer = opts.pacing ~= false and pacing.new() or nil,
    ops = {},            -- every operation submitted, in order
    waiting = {}, head = 1, tail = 0,   -- the ones not started yet (FIFO)
    running = 0,
    wake_at = nil,       -- the pending wake-up (timers' clock, ms), if any
    held = false,        -- the head of the line waits for a time (not for a reply)
  }, Queue)
  q.on_wake = function()
    q.wake_at = nil
    q:_pump()
  end
  return q
end

-- ---------------------------------------------------------------------------------------
-- Submitting

local function submit(self, kind, params, options)
  if getmetatable(self) ~= Queue then errors.usage("queue", "expected a Queue (use q:" .. kind .. "(...))") end
  local p = require("anthropic.messages").checked(params, true)
  validate.request_options(options)
  if kind == "create" and options and (options.on_event or options.on_text) then
    errors.usage("options", "on_event/on_text need q:stream")
  end
  -- The op belongs to the root, as every op the engine starts does (a derived client polls
  -- through its root): counted, finished and polled there.
  local root = self.client._root or self.client
  local op = setmetatable({
    client = root, done = false, queue = self, kind = kind, params = p, options = options,
    on_done = options and options.on_done,
    cost = pacing.cost(#json.encode(p), p.max_tokens),
  }, QueuedOp)
  -- Counted as in flight from now on: client:poll() returns > 0 while it waits its turn.
  root._ops[op] = true
  root._nops = root._nops + 1
  self.ops[#self.ops + 1] = op
  self.tail = self.tail + 1
  self.waiting[self.tail] = op
  self:_pump()
  return op
end

--- q:create(params [, options]) -> an operation whose result is the Message. params and
--- options as for messages.create (checked now: a UsageError is raised here, before anything
--- is queued); options.on_done(err, message) is called from client:poll().
---@param params anthropic.MessageParams
---@param options? anthropic.RequestOptions
---@return anthropic.QueuedOperation
function Queue:create(params, options) return submit(self, "create", params, options) end

--- q:stream(params [, options]) -> an operation whose result is the final Message; on_event,
--- on_text and the typed stream callbacks fire as the stream arrives, once it has started
--- (op.stream is then the anthropic.Stream).
---@param params anthropic.MessageParams
---@param options? anthropic.RequestOptions
---@return anthropic.QueuedOperation
function Queue:stream(params, options) return submit(self, "stream", params, options) end

-- ---------------------------------------------------------------------------------------
-- Starting and finishing

local function reply_of(err, result)
  local resp = type(result) == "table" and result._response or nil
  if resp then return { headers = resp.headers, status = resp.status, attempts = resp.attempts } end
  if type(err) == "table" and err.status then
    return { headers = err.headers, status = err.status, attempts = err.attempts,
      retry_after = err.retry_after }
  end
  return { attempts = type(err) == "table" and err.attempts or nil }
end

function Queue:_finished(op, seq, err, result)
  self.running = self.running - 1
  if self.pacer then self.pacer:observe(seq, reply_of(err, result), wall()) end
  op.inner = nil
  self:_pump()            -- refill first: the next request is on its way while on_done runs
  op:finish(err, result)
end

function Queue:_start(op)
  local root = self.client._root or self.client
  if root._ops[op] then
    root._ops[op] = nil
    root._nops = root._nops - 1
  end
  local seq = self.pacer and self.pacer:started(op.cost) or 0
  self.running = self.running + 1
  local o = {}
  for k, v in pairs(op.options or {}) do o[k] = v end
  local started = false
  o.on_done = function(err, result)
    if started then self:_finished(op, seq, err, result) else op.early = { err, result } end
  end
  local ok, res = compat.pcall(self.client.messages[op.kind], op.params, o)
  started = true
  if not ok then
    -- Refused before anything was sent (a closed client): nothing reached the server.
    if self.pacer then self.pacer.flight[seq] = nil end
    self.running = self.running - 1
    op:finish(res, nil)
    return
  end
  if op.kind == "stream" then op.stream, op.inner = res, res.op else op.inner = res end
  if op.early then
    local early = op.early
    op.early = nil
    self:_finished(op, seq, early[1], early[2])
  end
end

-- Seconds the head of the line must still wait (0: it may start), false: until a reply.
function Queue:_head_wait(op)
  if not self.pacer then return 0 end
  return self.pacer:wait(op.cost, wall())
end

--- Starts what may start; holds the rest, with a wake-up for when to ask again.
function Queue:_pump()
  self.held = false
  while self.running < self.max_in_flight and self.head <= self.tail do
    local op = self.waiting[self.head]
    if op.done then            -- canceled while it waited
      self.waiting[self.head], self.head = nil, self.head + 1
    else
      local wait = self:_head_wait(op)
      if wait ~= 0 then
        if wait then self:_wake_in(wait) end
        break
      end
      self.waiting[self.head], self.head = nil, self.head + 1
      self:_start(op)
    end
  end
end

-- One wake-up at a time: a later one is not added while an earlier one is pending (that one
-- pumps, and sets the next if the line is still held).
function Queue:_wake_in(seconds)
  self.held = true
  local at = timers.now_ms() + seconds * 1000
  if self.wake_at and self.wake_at <= at then return end
  self.wake_at = at
  timers.add(self.client, at, self.on_wake)
end

--- op:cancel([err]) for a queued operation: not started yet, it is dropped from the queue;
--- started, its request is canceled.
---@param err? anthropic.AnthropicError
function QueuedOp:cancel(err)
  if self.done then return end
  self.canceled = true
  if self.inner then
    self.inner:cancel(err)
    return
  end
  self:finish(err or errors.new(errors.ConnectionError, { message = "canceled by the caller",
    transport = "aborted" }), nil)
end

-- ---------------------------------------------------------------------------------------
-- Waiting and results

--- q:drain() waits until every operation submitted so far is done (inside a task it yields;
--- outside, it polls the client). Returns the queue.
---@return anthropic.Queue
function Queue:drain()
  local ops = self.ops
  for i = 1, #ops do engine.wait(ops[i]) end
  return self
end

--- q:results() -> results, errs: drains, then results[i] is the Message of the i-th
--- submission (false when it failed) and errs[i] its error; submission order.
---@return (anthropic.Message|false)[] results
---@return table<integer, anthropic.AnthropicError> errs
function Queue:results()
  self:drain()
  local results, errs = {}, {}
  for i, op in ipairs(self.ops) do
    if op.err ~= nil then results[i], errs[i] = false, op.err else results[i] = op.result end
  end
  return results, errs
end

--- q:stats() -> { queued, running, done, submitted, held_ms }: held_ms is how long the
--- head of the line still waits for a budget (nil: not held by time).
---@return table
function Queue:stats()
  local done = 0
  for _, op in ipairs(self.ops) do if op.done then done = done + 1 end end
  local held = self.held and self.wake_at and math.max(0, self.wake_at - timers.now_ms()) or nil
  return { queued = #self.ops - done - self.running, running = self.running, done = done,
    submitted = #self.ops, held_ms = held }
end

Queue.__tostring = function(self)
  return string.format("anthropic.Queue (%d submitted, %d running)", #self.ops, self.running)
end

return M
