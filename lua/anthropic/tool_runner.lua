-- anthropic.tool_runner: the agent loop (client.messages.tool_runner).
--
--   local runner = client.messages.tool_runner(params, { max_iterations = 10 })
--   for message in runner:messages() do ... end     -- each assistant message as it completes
--   local final = runner:run_until_done()
--
-- One turn: send runner.params, append the assistant message to runner.params.messages, then
-- decide: tool_use blocks -> one tool_result each, in order, in one user message, and go on;
-- pause_turn -> send the turn back as it is; anything else -> stop with that stop_reason. Built
-- on the public API only (messages.create/stream, fallback.create/stream, anthropic.spawn), so
-- every request is an ordinary operation: blocking, yielding inside a task, or driven by
-- client:poll() with on_message/on_done (the loop then runs in a task of its own, and tools run
-- from poll, never inside libcurl).

local compat = require "anthropic.compat"
local engine = require "anthropic.engine"
local errors = require "anthropic.errors"
local json = require "anthropic.json"
local reader = require "anthropic.reader"
local schema = require "anthropic.schema"
local tools = require "anthropic.tools"
local validate = require "anthropic.validate"
local stream_callbacks = require "anthropic.stream_callbacks"

local M = {}

M.DEFAULT_MAX_ITERATIONS = 10
M.OPTIONS = {
  max_iterations = true, on_tool_call = true, on_message = true, on_done = true, stream = true,
  parallel = true, on_event = true, on_text = true, fallback = true, options = true,
}
-- The typed stream callbacks (anthropic.stream_callbacks) but on_message, which the runner has
-- of its own (each turn's message, with the runner): they go to every turn's stream.
M.STREAM_CALLBACKS = {}
for _, name in ipairs(stream_callbacks.NAMES) do
  if name ~= "on_message" then
    M.OPTIONS[name] = true
    M.STREAM_CALLBACKS[#M.STREAM_CALLBACKS + 1] = name
  end
end

local usage, pcall = errors.usage, compat.pcall

local Runner = {}
Runner.__index = Runner
Runner.__name = "anthropic.ToolRunner"
M.Runner = Runner

local function tool_uses(content)
  local out = {}
  for _, b in ipairs(type(content) == "table" and content or {}) do
    if type(b) == "table" and b.type == "tool_use" then out[#out + 1] = b end
  end
  return out
end

-- Takes params as the runner's own: a shallow copy with its own messages list, and the tools
-- prepared (checked, run functions out of sight of the encoder).
function Runner:_take(params)
  if type(params) ~= "table" then usage("params", "must be a table") end
  local p = {}
  for k, v in pairs(params) do p[k] = v end
  if p.stream ~= nil then usage("stream", "use the runner option { stream = true }") end
  validate.message_params(p, true)
  local msgs = json.array()
  for i, m in ipairs(p.messages) do msgs[i] = m end
  p.messages = msgs
  p.tools, self.by_name = tools.prepare(p.tools)
  self.params = p
end

-- The request options of every turn (timeout, headers, max_retries, ...): no callbacks, the
-- runner owns those.
local function request_options(o)
  if o == nil then return nil end
  validate.request_options(o)
  for _, cb in ipairs { "on_done", "on_event", "on_text" } do
    if o[cb] ~= nil then usage("opts.options." .. cb, "give on_message/on_done/on_event/on_text to the runner") end
  end
  return o
end

--- M.new(client, params [, opts]) -> runner. See docs/tools.md.
function M.new(client, params, opts)
  if opts ~= nil and type(opts) ~= "table" then usage("opts", "must be a table") end
  opts = opts or {}
  validate.known_keys(opts, M.OPTIONS, "opts.")
  local max = opts.max_iterations
  if max == nil then max = M.DEFAULT_MAX_ITERATIONS
  elseif not validate.is_integer(max) or max < 1 then usage("opts.max_iterations", "must be an integer >= 1") end
  for _, cb in ipairs { "on_tool_call", "on_message", "on_done", "on_event", "on_text" } do
    if opts[cb] ~= nil and type(opts[cb]) ~= "function" then usage("opts." .. cb, "must be a function") end
  end
  local fb = opts.fallback
  if fb ~= nil and fb ~= true and fb ~= false and type(fb) ~= "table" then
    usage("opts.fallback", "must be true or a table of fallback options (models, on, ttl, on_fallback)")
  end
  if type(fb) == "table" and fb.options ~= nil then usage("opts.fallback.options", "use opts.options") end
  stream_callbacks.check(opts, "opts.")
  local stream_options = request_options(opts.options)
  for _, name in ipairs(M.STREAM_CALLBACKS) do
    if opts[name] ~= nil then
      if not opts.stream then usage("opts." .. name, "needs the runner option { stream = true }") end
      local o = {}
      for k, v in pairs(stream_options or {}) do o[k] = v end
      o[name] = opts[name]
      stream_options = o
    end
  end
  local self = setmetatable({
    client = client, opts = opts, max_iterations = max, iterations = 0, finished = false,
    stop_reason = nil, last = nil, last_entry = nil, stream = nil,
    fallback = fb and (fb == true and {} or fb) or nil, request_options = request_options(opts.options),
    stream_options = stream_options,
  }, Runner)
  self:_take(params)
  if opts.on_message or opts.on_done then self:_start_task() end
  return self
end

-- ---------------------------------------------------------------------------------------
-- Changing course

--- runner:push_messages(...) appends messages to the conversation; the next turn sends them
--- (a finished runner starts a new run: iterations count from 0 again).
function Runner:push_messages(...)
  local msgs = self.params.messages
  for i = 1, select("#", ...) do
    local m = select(i, ...)
    if type(m) ~= "table" then usage("push_messages", "argument " .. i .. " must be a message table") end
    msgs[#msgs + 1] = m
  end
  self:_changed()
end

--- runner:set_params(params | function(p) return p2 end) replaces the parameters of the next turn.
function Runner:set_params(p)
  if type(p) == "function" then p = p(self.params) end
  self:_take(p)
  self:_changed()
end

function Runner:_changed()
  if self.finished then
    self.finished, self.stop_reason, self.iterations = false, nil, 0
  end
end

--- runner:is_done() -> true once the loop has ended (runner.stop_reason says why).
function Runner:is_done() return self.finished end

-- ---------------------------------------------------------------------------------------
-- Tools

local function denied(verdict)
  if verdict == false then return "denied: not approved" end
  return "denied: " .. verdict
end

-- One tool_use -> its tool_result block.
function Runner:_call_tool(tu)
  local tool = self.by_name[tu.name]
  local run = tool and tools.run_of(tool)
  if not run then
    local names = {}
    for name in pairs(self.by_name) do names[#names + 1] = name end
    table.sort(names)
    return tools.result(tu.id, string.format("unknown tool %q (tools: %s)", tostring(tu.name),
      #names > 0 and table.concat(names, ", ") or "none"), true)
  end
  local input = tu.input
  if input == nil then input = {} end
  local ok_in, errs = schema.check(input, tools.input_schema_of(tool))
  if not ok_in then
    return tools.result(tu.id, "invalid input: " .. schema.describe(errs), true)
  end
  if self.opts.on_tool_call then
    local verdict = self.opts.on_tool_call(tu, tool)
    if verdict == false or type(verdict) == "string" then return tools.result(tu.id, denied(verdict), true) end
  end
  local ok, value = pcall(run, input, { tool_use = tu, runner = self, client = self.client })
  if ok then return tools.result(tu.id, tools.content(value)) end
  if tools.is_tool_error(value) then return tools.result(tu.id, tools.content(value.content), true) end
  return tools.result(tu.id, tools.error_text(value), true)
end

-- Runs jobs (functions) each in a task of its own, so the ones that wait (a request, a prompt)
-- wait together; returns their results in order. Inside a task this task sleeps meanwhile;
-- outside one, the client is polled until they are done.
function Runner:_parallel(jobs)
  local results, tasks, left = {}, {}, #jobs
  local function run_all(resume)
    for i, job in ipairs(jobs) do
      local t = engine.spawn(function() results[i] = job() end)
      tasks[i] = t
      if t:is_done() then left = left - 1
      else t.on_done = function() left = left - 1; if left == 0 and resume then resume() end end end
    end
    if left == 0 and resume then resume() end
  end
  if engine.in_task() then
    engine.await(run_all)
  else
    run_all(nil)
    while left > 0 do
      if self.client:inflight() == 0 then
        usage("opts.parallel", "tools are waiting for something other than this client's requests: "
          .. "run the runner inside anthropic.spawn")
      end
      self.client:poll(1000)
    end
  end
  for _, t in ipairs(tasks) do
    if t.err ~= nil then error(t.err, 0) end
  end
  return results
end

-- The tool step after `msg`: the user message of tool_results, or nil and the stop_reason when
-- the runner cannot answer (a tool without run: the caller answers it).
function Runner:_tool_results(msg)
  local uses = tool_uses(msg.content)
  for _, tu in ipairs(uses) do
    local tool = self.by_name[tu.name]
    if tool and not tools.run_of(tool) then return nil, "tool_use" end
  end
  local results
  if self.opts.parallel and #uses > 1 then
    local jobs = {}
    for i, tu in ipairs(uses) do jobs[i] = function() return self:_call_tool(tu) end end
    results = self:_parallel(jobs)
  else
    results = {}
    for i, tu in ipairs(uses) do results[i] = self:_call_tool(tu) end
  end
  return { role = "user", content = json.array(results) }
end

-- ---------------------------------------------------------------------------------------
-- Turns

-- Decides, before a new turn, whether the loop goes on. Runs the tools of the last turn.
function Runner:_proceed()
  if self.finished then return false end
  local msg = self.last
  if msg then
    local msgs = self.params.messages
    -- The caller changed the conversation's end (push_messages, set_params): send it as it is.
    if msgs[#msgs] == self.last_entry then
      local reason = msg.stop_reason
      if reason == "max_tokens" then
        -- A tool input cut short is never run.
        return self:_finish("max_tokens")
      elseif reason ~= "pause_turn" then
        if #tool_uses(msg.content) == 0 then return self:_finish(reason or "end_turn") end
        local reply, stop = self:_tool_results(msg)
        if not reply then return self:_finish(stop) end
        msgs[#msgs + 1] = reply
      end
    end
  end
  if self.iterations >= self.max_iterations then return self:_finish("max_iterations") end
  return true
end

function Runner:_finish(reason)
  self.finished, self.stop_reason = true, reason
  return false
end

-- Sends the next turn: returns a stream (stream mode) or the message.
function Runner:_send()
  local client, p = self.client, self.params
  self.iterations = self.iterations + 1
  local ok, result, report = pcall(function()
    if self.fallback then
      local fallback = require "anthropic.fallback"
      local fopts = {}
      for k, v in pairs(self.fallback) do fopts[k] = v end
      fopts.options = self.request_options
      if self.opts.stream then
        fopts.options = self.stream_options
        return fallback.stream(client, p, fopts)
      end
      return fallback.create(client, p, fopts)
    end
    if self.opts.stream then return client.messages.stream(p, self.stream_options) end
    return client.messages.create(p, self.request_options)
  end)
  if not ok then
    self.iterations = self.iterations - 1
    self:_raise(result)
  end
  self.report = report
  return result
end

function Runner:_raise(err)
  if type(err) == "table" and errors.AnthropicError.is_class_of(err) then err.runner = self end
  error(err, 0)
end

-- Appends the assistant message of a finished turn to the conversation.
function Runner:_record(msg)
  local report = self.report
  if report and report.used_model and report.used_model ~= self.params.model then
    -- Fallback moved this turn to another model: the rest of the conversation stays there.
    self.params.model = report.used_model
    local chain = self.fallback.models
    if chain then
      local fb, rest, found = {}, {}, false
      for k, v in pairs(self.fallback) do fb[k] = v end
      for _, m in ipairs(chain) do
        found = found or m == report.used_model
        if found then rest[#rest + 1] = m end
      end
      fb.models = rest
      self.fallback = fb
    end
  end
  -- A turn that ran code (code execution, programmatic tool calls) lives in a container; the
  -- next turns must reuse it, as the SDKs do.
  local container = msg.container
  if type(container) == "table" and type(container.id) == "string" then self.params.container = container.id end
  local entry = { role = "assistant", content = msg.content }
  local msgs = self.params.messages
  msgs[#msgs + 1] = entry
  self.last, self.last_entry = msg, entry
  if self.opts.on_message then self.opts.on_message(msg, self) end
  return msg
end

-- Waits for the open stream's final message and records it.
function Runner:_close_stream(feed)
  local s = self.stream
  if not s then return nil end
  if feed and (self.opts.on_event or self.opts.on_text) then
    local on_event, on_text, snapshot, at = self.opts.on_event, self.opts.on_text, "", nil
    while true do
      local ev = s:next_event()
      if not ev then break end
      if on_event then on_event(ev, self) end
      local d = ev.delta
      if on_text and ev.type == "content_block_delta" and type(d) == "table" and d.type == "text_delta" then
        if at ~= ev.index then at, snapshot = ev.index, "" end
        snapshot = snapshot .. d.text
        on_text(d.text, snapshot)
      end
    end
  end
  local ok, msg = pcall(s.final_message, s)
  self.stream = nil
  if not ok then self:_raise(msg) end
  return self:_record(msg)
end

-- Runs step(self) as the one turn in progress: a second caller (the host while the runner's
-- own task waits, a callback re-entering it) would interleave two turns of one conversation.
local function exclusive(self, step)
  if self.running then
    usage(nil, self.task and "this runner is driven by client:poll() (on_message/on_done): "
      .. "wait for on_done" or "this runner is already running a turn")
  end
  self.running = true
  local ok, result = pcall(step, self)
  self.running = false
  if not ok then error(result, 0) end
  return result
end

local function stream_step(self)
  self:_close_stream(false)
  if not self:_proceed() then return nil end
  self.stream = self:_send()
  return self.stream
end

local function message_step(self)
  if self.opts.stream then
    if self.stream then self:_close_stream(true) end
    if not self:_proceed() then return nil end
    self.stream = self:_send()
    return self:_close_stream(true)
  end
  if not self:_proceed() then return nil end
  return self:_record(self:_send())
end

--- runner:next_stream() -> the stream of the next turn (stream = true), or nil when done. The
--- previous turn's stream is read to its end first and its tools run. A plain method call,
--- so it can yield inside a task on every Lua.
function Runner:next_stream()
  if not self.opts.stream then usage(nil, "runner:streams() needs the runner option { stream = true }") end
  return exclusive(self, stream_step)
end

--- runner:next_message() -> the next assistant message, or nil once the loop has ended.
function Runner:next_message()
  return exclusive(self, message_step)
end

local function iterator(self, method, loop)
  reader.check_iterable("runner:" .. loop .. "() cannot yield",
    "while true do local x = runner:" .. method .. "(); if not x then break end ... end")
  return function() return self[method](self) end
end

--- for message in runner:messages() do ... end
function Runner:messages() return iterator(self, "next_message", "messages") end
--- for stream in runner:streams() do ... end  (with { stream = true })
function Runner:streams()
  if not self.opts.stream then usage(nil, "runner:streams() needs the runner option { stream = true }") end
  return iterator(self, "next_stream", "streams")
end

--- runner:run_until_done() -> the last assistant message (runs what is left of the loop).
function Runner:run_until_done()
  while self:next_message() do end
  return self.last
end

-- on_message / on_done: the loop runs in a task of its own, driven by client:poll().
function Runner:_start_task()
  local on_done, client = self.opts.on_done, self.client
  local task = engine.spawn(function() return self:run_until_done() end)
  self.task = task
  local function finished(err, result)
    if not on_done then return end
    local ok, cb_err = compat.pcall(on_done, err, result, self)
    if not ok then client._callback_errors[#client._callback_errors + 1] = cb_err end
  end
  if task:is_done() then
    -- It ended before its first request went out: a usage problem, raised here.
    if task.err ~= nil then error(task.err, 0) end
    return finished(nil, task.result)
  end
  task.on_done = finished
end

return M
