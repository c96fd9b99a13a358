-- anthropic.fallback: try a chain of models, moving on only when another model can help.
--
--   local fallback = require "anthropic.fallback"
--   local msg, report = fallback.create(client, { model = "claude-sonnet-4-6", max_tokens = 512,
--     messages = { { role = "user", content = "Hello" } } })
--   print(report.used_model)        -- "claude-haiku-4-5" when this key may not use Sonnet
--
-- The problem it solves: a key that is valid for Haiku gets permission_error (403) for a model
-- its account tier does not include. That is not a bad key (401 authentication_error) and the
-- usual fix is hand-written: "on PermissionDenied, use Haiku". This module is that fix:
--   * the chain is opts.models, by default { params.model, "claude-haiku-4-5" } (deduplicated);
--   * triggers: PermissionDenied and NotFound always (the model is not available to this key);
--     Overloaded and RateLimited only when listed in opts.on (they are raised after the core's
--     own retries, so falling back trades model quality for an answer now);
--   * everything else raises at once: AuthenticationFailed (no model works with a bad key),
--     BadRequest (the same request is as wrong for the next model), network errors, ...;
--   * a model found denied (403, or a 404 not_found_error) is remembered for the client
--     (opts.ttl seconds, default 600; fallback.denied(client, model) reads it) so later calls
--     skip it without a round trip. fallback.forget(client[, model]) clears that memory.
--
-- Invariant: a stream falls back only while nothing of it has reached the caller. stream()
-- waits for the reply's headers, so a 403/404 surfaces there; an `event: error` before the
-- first content event (after the core's retries) also falls back, inside events() or
-- final_message(); after the first content event, errors are raised as they are.
--
-- Blocking calls only; they may run inside anthropic.spawn tasks (every protected call goes
-- through compat.pcall, which a task can yield through on plain Lua 5.1).

local compat = require "anthropic.compat"
local stream_mod = require "anthropic.stream"
local validate = require "anthropic.validate"
local errors = require "anthropic.errors"
local client_mod = require "anthropic.client"

local fallback = {}

fallback.DEFAULT_MODEL = "claude-haiku-4-5"
fallback.DEFAULT_TTL = 600

-- Error classes that may trigger a fallback: true = always on, false = only via opts.on.
fallback.TRIGGERS = { PermissionDenied = true, NotFound = true, Overloaded = false, RateLimited = false }

-- A StreamError carries the API's error type; map it to the class a status would have had.
local STREAM_TYPES = {
  permission_error = "PermissionDenied", not_found_error = "NotFound",
  overloaded_error = "Overloaded", rate_limit_error = "RateLimited",
}

local OPTIONS = { models = true, on = true, ttl = true, options = true, on_fallback = true }

local pcall = compat.pcall
local usage = errors.usage

local gettime
do
  local ok, socket = pcall(require, "socket")
  gettime = ok and type(socket) == "table" and socket.gettime or os.time
end

--- fallback.now() -> seconds (socket.gettime when LuaSocket is there, else os.time).
--- Tests may replace it to move time forward.
---@return number seconds
function fallback.now() return gettime() end

--- fallback.trigger_class(err) -> the trigger class name this error counts as, or nil.
---@param err any
---@return string|nil class
function fallback.trigger_class(err)
  if not errors.AnthropicError.is_class_of(err) then return nil end
  local name = err.class_name
  if name == "StreamError" then return STREAM_TYPES[err.type] end
  if fallback.TRIGGERS[name] ~= nil then return name end
  return nil
end

-- A denial worth remembering is about the model, not about the moment: 403, or a 404 with the
-- API's not_found_error body (a 404 from a wrong base_url path has no such body).
local function is_denial(class, err)
  return class == "PermissionDenied" or (class == "NotFound" and err.type == "not_found_error")
end

-- The one memory of denied models: client -> { model -> { expiry = t, err = error } }, weak
-- by client so a dropped client takes its memory along. access.check feeds it too.
local memory = setmetatable({}, { __mode = "k" })

--- fallback.denied(client, model) -> the remembered error (or true) while model is skipped,
--- and the time it expires.
---@param client anthropic.Client
---@param model string
---@return anthropic.AnthropicError|true|nil
function fallback.denied(client, model)
  local m = memory[client]
  local entry = m and m[model]
  if entry == nil then return nil end
  if entry.expiry <= fallback.now() then
    m[model] = nil
    return nil
  end
  return entry.err or true, entry.expiry
end

--- fallback.remember(client, model, err, ttl) marks model denied for ttl seconds.
---@param client anthropic.Client
---@param model string
---@param err anthropic.AnthropicError
---@param ttl number|false|nil seconds
function fallback.remember(client, model, err, ttl)
  if not ttl or ttl <= 0 then return end
  local m = memory[client]
  if not m then
    m = {}
    memory[client] = m
  end
  m[model] = { expiry = fallback.now() + ttl, err = err }
end

--- fallback.forget(client[, model]) clears the remembered denial of model (or of all models).
---@param client anthropic.Client
---@param model? string
function fallback.forget(client, model)
  if model == nil then
    memory[client] = nil
  elseif memory[client] then
    memory[client][model] = nil
  end
end

-- Checks opts; returns chain (list of model ids), enabled triggers (set), ttl, request options.
local function prepare(client, params, opts)
  if getmetatable(client) ~= client_mod.Client then
    usage("client", "expected a Client from anthropic.new")
  end
  if type(params) ~= "table" then usage("params", "must be a table") end
  if opts ~= nil and type(opts) ~= "table" then usage("opts", "must be a table") end
  opts = validate.plain(opts or {}, "opts")
  validate.known_keys(opts, OPTIONS, "opts.")

  local chain, seen = {}, {}
  local function add(m, where)
    if type(m) ~= "string" or m == "" then usage(where, "must be a non-empty string (a model id)") end
    if not seen[m] then
      seen[m] = true
      chain[#chain + 1] = m
    end
  end
  if opts.models ~= nil then
    if type(opts.models) ~= "table" or opts.models[1] == nil then
      usage("opts.models", "must be a non-empty list of model ids")
    end
    for i, m in ipairs(opts.models) do add(m, "opts.models[" .. i .. "]") end
  else
    add(params.model, "model")
    add(fallback.DEFAULT_MODEL, "fallback.DEFAULT_MODEL")
  end

  local on = {}
  for name, always in pairs(fallback.TRIGGERS) do on[name] = always or nil end
  if opts.on ~= nil then
    if type(opts.on) ~= "table" then usage("opts.on", "must be a list of error class names") end
    for i, name in ipairs(opts.on) do
      if fallback.TRIGGERS[name] == nil then
        usage("opts.on[" .. i .. "]", string.format("%s cannot trigger a fallback "
          .. "(allowed: Overloaded, RateLimited; PermissionDenied and NotFound are always on)", tostring(name)))
      end
      on[name] = true
    end
  end

  local ttl = opts.ttl
  if ttl == nil then ttl = fallback.DEFAULT_TTL
  elseif ttl == false then ttl = 0
  elseif type(ttl) ~= "number" or ttl ~= ttl or ttl < 0 then
    usage("opts.ttl", "must be a number of seconds >= 0 (0 or false: don't remember denials)")
  end

  local options = opts.options
  if options ~= nil then
    if type(options) ~= "table" then usage("opts.options", "must be a table") end
    for _, cb in ipairs { "on_done", "on_event", "on_text" } do
      if options[cb] ~= nil then
        usage("opts.options." .. cb, "fallback calls are blocking (run them in anthropic.spawn to not block)")
      end
    end
  end
  if opts.on_fallback ~= nil and type(opts.on_fallback) ~= "function" then
    usage("opts.on_fallback", "must be a function")
  end
  return chain, on, ttl, options, opts.on_fallback
end

local function with_model(params, model)
  local p = {}
  for k, v in pairs(params) do p[k] = v end
  p.model = model
  return p
end

-- A copy of err (same class) carrying the report, so a remembered error is never mutated.
local function final_error(err, report)
  if not errors.AnthropicError.is_class_of(err) then return err end
  local copy = {}
  for k, v in pairs(err) do copy[k] = v end
  copy.fallback = report
  return setmetatable(copy, getmetatable(err))
end

-- The attempt loop shared by create and stream. `call(p)` performs one attempt and returns
-- its result or raises. Returns result, report; raises the error that ended the chain.
---@class anthropic.fallback.Runner
local Runner = {}
Runner.__index = Runner

local function new_runner(client, params, opts)
  local chain, on, ttl, options, on_fallback = prepare(client, params, opts)
  return setmetatable({
    client = client, params = params, chain = chain, on = on, ttl = ttl, options = options,
    on_fallback = on_fallback, pos = 0,
    report = { used_model = nil, attempts = {}, chain = chain },
  }, Runner)
end

-- Records a failed attempt; returns true when the chain should move on, false to raise.
---@private
function Runner:failed(model, err)
  local class = fallback.trigger_class(err)
  local attempt = { model = model, error = err,
    error_class = errors.AnthropicError.is_class_of(err) and err.class_name or "error",
    request_id = type(err) == "table" and err.request_id or nil }
  local attempts = self.report.attempts
  attempts[#attempts + 1] = attempt
  if not (class and self.on[class]) then return false end
  if is_denial(class, err) then fallback.remember(self.client, model, err, self.ttl) end
  attempt.fell_back, attempt.trigger = true, class
  return true
end

-- Next model to try (skipping remembered denials), or nil with the error that ends the chain.
---@private
function Runner:next_model()
  local last_err
  while self.pos < #self.chain do
    self.pos = self.pos + 1
    local model = self.chain[self.pos]
    local known = fallback.denied(self.client, model)
    if not known then return model end
    local err = known ~= true and known or errors.new(errors.PermissionDenied,
      { message = "remembered as denied for this key", type = "permission_error" })
    local attempt = { model = model, error = err, error_class = err.class_name, skipped = true,
      fell_back = true, request_id = err.request_id }
    local attempts = self.report.attempts
    attempts[#attempts + 1] = attempt
    self:notify(attempt)
    last_err = err
  end
  return nil, last_err
end

-- Tells opts.on_fallback (if any) that `attempt` failed and the chain moves on.
---@private
function Runner:notify(attempt)
  if self.on_fallback and self.pos < #self.chain then
    self.on_fallback(attempt, self.chain[self.pos + 1])
  end
end

-- Runs attempts with call(p, options) until one succeeds. Returns result, model.
---@private
function Runner:run(call)
  local err
  while true do
    local model, skipped_err = self:next_model()
    if not model then error(final_error(skipped_err or err, self.report), 0) end
    local ok, result = pcall(call, with_model(self.params, model), self.options)
    if ok then
      self.report.used_model = model
      local attempts = self.report.attempts
      attempts[#attempts + 1] = { model = model, ok = true, request_id = result._request_id or result.request_id }
      return result, model
    end
    err = result
    if not self:failed(model, err) then error(final_error(err, self.report), 0) end
    self:notify(self.report.attempts[#self.report.attempts])
  end
end

--- fallback.create(client, params [, opts]) -> message, report
--- opts: models (the chain), on (extra triggers: "Overloaded", "RateLimited"), ttl (seconds a
--- denial is remembered; 0/false: not at all), options (request options for every attempt:
--- timeout, max_retries, headers, ...), on_fallback(attempt, next_model) (called before each
--- move to the next model). report = { used_model, chain, attempts = { { model, ok | error,
--- error_class, request_id, skipped (remembered denial, no request sent), fell_back, trigger
--- (the trigger class: differs from error_class for a StreamError) } } }.
--- When the chain ends without an answer, the last error is raised with err.fallback = report.
---@param client anthropic.Client
---@param params anthropic.MessageParams (model: the first of the chain unless opts.models)
---@param opts? anthropic.FallbackOptions
---@return anthropic.Message message
---@return anthropic.FallbackReport report
function fallback.create(client, params, opts)
  local runner = new_runner(client, params, opts)
  local msg = runner:run(function(p, o) return client.messages.create(p, o) end)
  return msg, runner.report
end

-- ---------------------------------------------------------------------------------------
-- Streams

---@class anthropic.FallbackOptions
---@field models? string[] the chain (default: params.model, then fallback.DEFAULT_MODEL)
---@field on? string[] more triggers: "Overloaded", "RateLimited"
---@field ttl? number|false seconds a denial is remembered (0/false: not at all)
---@field options? anthropic.RequestOptions for every attempt
---@field on_fallback? fun(attempt: table, next_model: string) before each move to the next model

---@class anthropic.FallbackReport
---@field used_model? string the model that answered
---@field chain string[]
---@field attempts table[] { model, ok, error, error_class, request_id, skipped, fell_back, trigger }

---@class anthropic.FallbackStream
---@field model string the model streaming now
---@field request_id? string
local FallbackStream = {}
FallbackStream.__index = function(self, k)
  local m = FallbackStream[k]
  if m ~= nil then return m end
  if k == "request_id" then return rawget(self, "inner").request_id end
  return nil
end
fallback.FallbackStream = FallbackStream

-- Opens the next stream of the chain; raises when the chain ends.
function FallbackStream:_open()
  local runner = self.runner
  local client = runner.client
  self.inner, self.model = runner:run(function(p, o) return client.messages.stream(p, o) end)
end

-- Called with a failure of the inner stream. Falls back (returns true) while nothing reached
-- the caller and the error is a trigger; otherwise returns false (the caller raises err).
function FallbackStream:_recover(err)
  local runner = self.runner
  local attempts = runner.report.attempts
  if self.delivered or self.inner:has_content() or self.closed then
    -- The content so far came from this model (report.used_model stays); the attempt failed.
    local last = attempts[#attempts]
    last.ok, last.error = nil, err
    last.error_class = errors.AnthropicError.is_class_of(err) and err.class_name or "error"
    return false
  end
  attempts[#attempts] = nil                 -- the attempt is no longer a success
  runner.report.used_model = nil
  if not runner:failed(self.model, err) then return false end
  runner:notify(attempts[#attempts])
  self:_open()                              -- raises (with the report) when the chain ends
  return true
end

--- stream:next_event() -> the next event of the model that answers, or nil after the last.
--- A plain method call, so it can yield inside a task on every Lua, including plain 5.1.
---@return table|nil event
function FallbackStream:next_event()
  while true do
    local ok, ev = pcall(self.inner.next_event, self.inner)
    if ok then
      if ev ~= nil then self.delivered = true end
      return ev
    end
    if not self:_recover(ev) then error(final_error(ev, self.runner.report), 0) end
  end
end

--- stream:events() -> iterator over the events of the model that answers. As with
--- client.messages.stream, plain Lua 5.1 cannot yield from a for-in iterator, so inside a task
--- there use next_event() in a while loop.
---@return fun(): table|nil
function FallbackStream:events()
  return stream_mod.event_iterator(self)
end
--- stream:final_message() -> the accumulated Message of the model that answers.
---@return anthropic.Message
function FallbackStream:final_message()
  while true do
    local ok, msg = pcall(self.inner.final_message, self.inner)
    if ok then return msg end
    if not self:_recover(msg) then error(final_error(msg, self.runner.report), 0) end
  end
end

---@return string
function FallbackStream:final_text()
  return stream_mod.text_of(self:final_message())
end
---@return anthropic.Message snapshot
function FallbackStream:current_message() return self.inner:current_message() end
---@return boolean
function FallbackStream:is_done() return self.inner:is_done() end

---Aborts the stream; events() then ends without an error.
function FallbackStream:close()
  self.closed = true
  self.inner:close()
end
FallbackStream.cancel = FallbackStream.close
FallbackStream.__close = FallbackStream.close

--- fallback.stream(client, params [, opts]) -> stream, report
--- Like client.messages.stream (blocking: returns once a model's reply headers arrived), with
--- the same opts as fallback.create. The stream has next_event(), events(), final_message(),
--- final_text(), current_message(), close(), request_id, model. The report is live: when an `event: error`
--- before any content moves the stream to the next model, report.used_model and stream.model
--- follow.
---@param client anthropic.Client
---@param params anthropic.MessageParams
---@param opts? anthropic.FallbackOptions
---@return anthropic.FallbackStream stream
---@return anthropic.FallbackReport report (live)
function fallback.stream(client, params, opts)
  local runner = new_runner(client, params, opts)
  local s = setmetatable({ runner = runner, report = runner.report }, FallbackStream)
  s:_open()
  return s, runner.report
end

-- ---------------------------------------------------------------------------------------
-- Tool runners

--- fallback.tool_runner(client, params [, opts]) -> runner: client.messages.tool_runner with
--- every turn sent through fallback.create (or fallback.stream with { stream = true }).
--- opts are the runner's; opts.fallback (optional) holds this module's options (models, on,
--- ttl, on_fallback). A turn that falls back moves the whole conversation to that model.
---@param client anthropic.Client
---@param params anthropic.MessageParams
---@param opts? table the runner's options, and fallback = anthropic.FallbackOptions
---@return anthropic.ToolRunner
function fallback.tool_runner(client, params, opts)
  if opts ~= nil and type(opts) ~= "table" then usage("opts", "must be a table") end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  if o.fallback == nil or o.fallback == false then o.fallback = true end
  return require("anthropic.tool_runner").new(client, params, o)
end

return fallback
