-- anthropic.observe: what runs around a request besides sending it: the on_request and
-- on_response hooks, the log lines (anthropic.log) and the usage count (anthropic.usage).
--
-- client:_send asks `client._watch` (nil when there are no hooks and no log: then nothing
-- here runs for a request but the usage count of a Messages request) and calls, in Lua,
--   M.before(...)   before the core request starts: on_request may add, replace or remove
--                   headers; its error fails the request (M.failed) before anything is sent;
--   M.handler(h)    wraps the op's handler while logging, to write a line for each retry the
--                   core scheduled (read after poll, from req:last_retry());
--   M.finish(...)   from op:finish, once, when the request ended however it ended (result,
--                   error, cancel): on_response, whose error replaces the result, then the
--                   usage count and the end line.
-- None of it runs inside libcurl: the hooks run from the caller's call and from poll.

local errors = require "anthropic.errors"
local validate = require "anthropic.validate"
local engine = require "anthropic.engine"
local log = require "anthropic.log"
local usage = require "anthropic.usage"
local headers_mod = require "anthropic.headers"

local M = {}

--- M.watch(opts, env_level [, base]) -> { on_request, on_response, log }, or nil when there
--- is none. `base` is the watch of the client a derived one comes from: what opts does not
--- name is kept from it (false removes a hook).
---@param opts table client options (on_request, on_response, log_level, logger)
---@param env_level? string ANTHROPIC_LOG
---@param base? table
---@return table|nil
function M.watch(opts, env_level, base)
  local w = {}
  for _, name in ipairs { "on_request", "on_response" } do
    local fn = opts[name]
    if fn ~= nil and fn ~= false and type(fn) ~= "function" then
      errors.usage(name, "must be a function (or false: none)")
    end
    if fn == nil and base then fn = base[name] end
    w[name] = fn or nil
  end
  if base and opts.log_level == nil and opts.logger == nil then w.log = base.log
  else w.log = log.new(opts, env_level, base and base.log) end
  if not (w.on_request or w.on_response or w.log) then return nil end
  return w
end

-- An error raised by a hook, as the request's error: an anthropic error stays itself (a hook
-- that refuses a request with errors.new(...) decides its class); anything else becomes a
-- HookError naming the hook, with the raised value as .cause.
local function hook_error(client, name, err)
  if errors.AnthropicError.is_class_of(err) then return err end
  return errors.new(errors.HookError, {
    hook = name, cause = err,
    message = name .. " hook failed: " .. client:_scrub(tostring(err)),
  })
end

local CREDENTIAL = { ["x-api-key"] = true, authorization = true }

-- Runs on_request on { method, url, headers = { name = value } (names lower-case), body } and
-- returns the header list it leaves. The credential headers are shown as "[redacted]" (a hook
-- for tracing must not see the key): left so, the real value is sent; replaced, the hook's.
local function run_on_request(hook, spec, url, list)
  local headers, real = {}, {}
  for i = 1, #list do
    local name, value = list[i]:match("^([^:]+):%s*(.*)$")
    local l = name and name:lower()
    if l and l ~= "expect" then
      if CREDENTIAL[l] then real[l], value = value, log.REDACTED end
      headers[l] = value
    end
  end
  local req = { method = spec.method, url = url, headers = headers, body = spec.body, stream = spec.stream }
  hook(req)
  if type(req.headers) ~= "table" then errors.usage("on_request: req.headers", "must be a table") end
  -- Our names are lower-case: a name the hook set in another case replaces ours.
  local merged = {}
  for k, v in pairs(req.headers) do
    if type(k) ~= "string" or k == k:lower() then merged[k] = v end
  end
  for k, v in pairs(req.headers) do
    if type(k) == "string" and k ~= k:lower() then merged[k:lower()] = v end
  end
  merged = validate.headers(merged, "on_request: req.headers")
  local out = {}
  for name, value in pairs(merged) do
    if CREDENTIAL[name] and value == log.REDACTED then value = real[name] or value end
    out[#out + 1] = name .. ": " .. value
  end
  table.sort(out)   -- a stable order, so a signature over them is reproducible
  out[#out + 1] = "Expect:"
  return out, req
end

--- M.before(client, watch, spec, url, list) -> list, trace | nil, err: on_request, before the
--- core request is made (and before a platform signs it).
---@param client anthropic.Client
---@param watch table
---@param spec table
---@param url string
---@param list string[]
---@return string[]|nil list
---@return table trace_or_err
function M.before(client, watch, spec, url, list)
  local trace = { retries = 0 }
  if watch.on_request then
    local ok, out, req = pcall(run_on_request, watch.on_request, spec, url, list)
    if not ok then return nil, hook_error(client, "on_request", out) end
    list, trace.request = out, req
  end
  return list, trace
end

--- M.started(client, watch, trace, spec, url, list): the start line (after the platform
--- signed the request: what is logged is what is sent, credentials redacted).
---@param client anthropic.Client
---@param watch table
---@param trace table
---@param spec table
---@param url string
---@param list string[]
function M.started(client, watch, trace, spec, url, list)
  local lg = watch.log
  if not lg then return end
  local root = client._root   -- one sequence for every client on the same engine
  root._log_seq = (root._log_seq or 0) + 1
  trace.id = root._log_seq
  log.emit(lg, "info", "request", { id = trace.id, method = spec.method, url = log.url(client, url) })
  if lg.level <= log.LEVELS.debug then
    log.emit(lg, "debug", "request headers", { id = trace.id, headers = log.headers(client, list) })
    if spec.body then log.emit(lg, "debug", "request body", { id = trace.id, body = log.body(client, spec.body) }) end
  end
end

-- A line for each retry the core scheduled since the last look.
local function note_retries(op)
  local req, trace = op.req, op.trace
  if not req or not trace then return end
  local n, delay, why = req:last_retry()
  if n <= trace.retries then return end
  trace.retries = n
  log.emit(op.obs._watch.log, "warn", "retry", { id = trace.id, attempt = n, reason = why,
    delay_ms = math.floor(delay * 1000 + 0.5) })
end

local wrapped = setmetatable({}, { __mode = "k" })

--- M.handler(h) -> h with a retry line after each step (cached: one wrapper per handler).
---@param h table
---@return table
function M.handler(h)
  local w = wrapped[h]
  if w then return w end
  w = {
    progress = function(op)
      note_retries(op)
      if h.progress then h.progress(op) end
    end,
    finish = function(op)
      note_retries(op)
      h.finish(op)
      if not op.done then note_retries(op) end   -- the handler asked the core to retry
    end,
  }
  if h.events then
    w.events = function(op, buf, n)
      h.events(op, buf, n)
      if not op.done then note_retries(op) end
    end
  end
  wrapped[h] = w
  return w
end

-- What on_response sees: the request (as on_request saw it, when there is one), the reply's
-- status, headers (a read-only view, credentials scrubbed), request id, attempts, ms, error.
local function response_of(op, err)
  local req = op.req
  local res = { request = op.trace and op.trace.request, error = err }
  if req then
    res.status = req:status()
    res.attempts = req:attempts()
    res.ms = req:elapsed_ms()
    res.request_id = req:header("request-id") or req:header("x-amzn-requestid")
    res.headers = headers_mod.view(req:headers(), function(t) return op.obs:_scrub(t) end)
  end
  return res
end

--- M.finish(op, err, result) -> err, result: from op:finish, before anything else sees them.
---@param op anthropic.Operation
---@param err any
---@param result any
---@return any err
---@return any result
function M.finish(op, err, result)
  local client = op.obs
  local watch = client._watch
  local hook = watch and watch.on_response
  local spent = result
  -- The caller's own stop (stream:close(), client:close()) is no failure of the request.
  local stopped = type(err) == "table" and rawget(err, "transport") == "aborted"
  if hook then
    local ok, herr = pcall(hook, response_of(op, err))
    if not ok then err, result, stopped = hook_error(client, "on_response", herr), nil, false end
  end
  if op.model then
    -- A stream stopped after content spent the tokens of what it delivered.
    local s = stopped and op.stream
    if s and s.committed then spent = s.acc:message() end
    usage.record_result(client._usage, op.model, not stopped and err or nil, spent)
  end
  local lg = watch and watch.log
  if lg and op.trace then
    local req = op.req
    local f = { id = op.trace.id }
    if req then
      note_retries(op)
      f.status = req:status() ~= 0 and req:status() or nil
      f.request_id = req:header("request-id") or req:header("x-amzn-requestid")
      f.attempts = req:attempts()
      f.ms = math.floor(req:elapsed_ms() + 0.5)
    end
    if stopped then
      log.emit(lg, "info", "canceled", f)
    elseif err ~= nil then
      f.error = client:_scrub(tostring(err))
      log.emit(lg, "error", "failed", f)
    else
      log.emit(lg, "info", "response", f)
    end
    if req and lg.level <= log.LEVELS.debug then
      local h = req:headers()
      log.emit(lg, "debug", "response headers", { id = f.id, headers = log.headers(client, h and h() or {}) })
      local body = req:body()
      if body and body ~= "" then
        log.emit(lg, "debug", "response body", { id = f.id, body = log.body(client, body) })
      end
    end
  end
  return err, result
end

--- M.failed(client, spec, url, err) -> an op that ended with err before anything was sent (an
--- on_request hook refused it); its on_done gets the error, a blocking caller raises it.
---@param client anthropic.Client
---@param spec table
---@param url string
---@param err any
---@return anthropic.Operation
function M.failed(client, spec, url, err)
  local op = engine.start(client._root, nil, spec.handler, spec.callbacks)
  op.obs, op.observe = client, M.finish
  if client._watch.log then
    op.trace = { retries = 0 }
    M.started(client, client._watch, op.trace, spec, url, {})
  end
  op:finish(err, nil)
  return op
end

return M
