-- anthropic.access: which models may this key use? Concurrent probes, cached per client.
--
--   local access = require "anthropic.access"
--   local results, models = access.check(client, { "claude-sonnet-4-6", "claude-haiku-4-5" })
--   for _, m in ipairs(models) do print(m, results[m].ok, results[m].error) end
--   local model = access.best(client, { "claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5" })
--
-- The probe. The API has no "may I use model X" endpoint: GET /v1/models lists the models that
-- exist, not the ones this key's tier may use. What is gated on the model is sending it work,
-- so the default probe is the smallest such request: POST /v1/messages with max_tokens = 1 and
-- the user message "hi" (about 8 input tokens and 1 output token, a tiny fraction of a cent even
-- on Opus; a denied model is not billed at all). It is authoritative: it is the very request
-- that returns 403 permission_error when the tier lacks the model, so ✓ means "create works".
-- The free alternative, opts.probe = "count_tokens" (POST /v1/messages/count_tokens: free, with
-- its own rate limit), checks the model id (404 for unknown models), but the API does not
-- document that it applies the same per-tier model permissions as message creation, so a ✓
-- from it is weaker; use it when probing often and cost matters more than certainty.
--
-- Concurrency: every probe is started at once (non-blocking ops on the client's one engine),
-- then each is waited for, so N models take about one round trip. Inside anthropic.spawn the
-- waits yield to the host loop.
--
-- Results per model: { ok = true, model, request_id } or { ok = false, model, error = err,
-- request_id }; err's class tells PermissionDenied (tier) from NotFound (no such model for this
-- key) from ConnectionError/Timeout (network) from anything else.
--
-- A bad key is not a model problem: when any probe (or the model list) answers 401, check()
-- raises that AuthenticationFailed error once, with err.hint set ("check ANTHROPIC_API_KEY"),
-- instead of reporting every model as inaccessible.
--
-- Cache: definitive answers (ok, PermissionDenied, NotFound) are kept per client and probe for
-- opts.ttl seconds (default 600); transient failures (network, 429, 529, 5xx) are never cached.
-- With the default probe, denials also feed anthropic.fallback's memory (fallback.remember), and a
-- ✓ clears it, so fallback.create skips a model check() found denied.

local compat = require "anthropic.compat"
local errors = require "anthropic.errors"
local engine = require "anthropic.engine"
local validate = require "anthropic.validate"
local fallback = require "anthropic.fallback"

local access = {}

access.DEFAULT_TTL = 600
access.PROBES = { messages = true, count_tokens = true }
access.DEFAULT_PREFERENCES = { "claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5" }
access.AUTH_HINT = "the API key was rejected (401 authentication_error): check ANTHROPIC_API_KEY "
  .. "(set, complete, not revoked). This is not a model permission problem: a valid key that "
  .. "may not use a model gets 403 PermissionDenied for that model instead."

local OPTIONS = { ttl = true, probe = true, refresh = true, options = true }
local usage = errors.usage
local pcall = compat.pcall

-- client -> probe -> model -> { result =, expiry = }. Weak keys: dies with the client.
local cache = setmetatable({}, { __mode = "k" })

local function probe_params(model)
  return { model = model, max_tokens = 1, messages = { { role = "user", content = "hi" } } }
end

local function check_client(client)
  if getmetatable(client) ~= require("anthropic.client").Client then
    usage("client", "expected a Client from anthropic.new")
  end
end

local function check_opts(opts)
  if opts ~= nil and type(opts) ~= "table" then usage("opts", "must be a table") end
  opts = validate.plain(opts or {}, "opts")
  validate.known_keys(opts, OPTIONS, "opts.")
  local probe = opts.probe or "messages"
  if not access.PROBES[probe] then usage("opts.probe", "must be \"messages\" or \"count_tokens\"") end
  local ttl = opts.ttl
  if ttl == nil then ttl = access.DEFAULT_TTL
  elseif ttl == false then ttl = 0
  elseif type(ttl) ~= "number" or ttl ~= ttl or ttl < 0 then
    usage("opts.ttl", "must be a number of seconds >= 0 (0 or false: no cache)")
  end
  local options = {}
  if opts.options ~= nil then
    if type(opts.options) ~= "table" then usage("opts.options", "must be a table") end
    for k, v in pairs(opts.options) do
      if k == "on_done" or k == "on_event" or k == "on_text" then
        usage("opts.options." .. k, "is set by access.check")
      end
      options[k] = v
    end
  end
  return probe, ttl, options, opts.refresh == true
end

-- Adds the key hint to an AuthenticationFailed error and raises it.
local function raise_auth(err)
  err.hint = access.AUTH_HINT
  error(err, 0)
end

local function is_auth(err)
  return errors.AuthenticationFailed.is_class_of(err)
end

-- Every model id, through client.models.list (anthropic.models), every page.
local function model_ids(client, options)
  local ids = {}
  local page = client.models.list({ limit = 1000 }, options)
  for m in page:iter() do
    if type(m) == "table" and type(m.id) == "string" then ids[#ids + 1] = m.id end
  end
  return ids
end

---@class anthropic.AccessOptions
---@field probe? "messages"|"count_tokens" the request that probes a model (default messages)
---@field ttl? number|false seconds a result is remembered (0/false: not at all)
---@field refresh? boolean ignore remembered results
---@field options? anthropic.RequestOptions for every probe

---@class anthropic.AccessResult
---@field ok boolean
---@field model string
---@field error? anthropic.AnthropicError why not (PermissionDenied, NotFound, ...)
---@field request_id? string
---@field cached? boolean

--- access.list_models(client [, options]) -> list of model ids from GET /v1/models (every page).
--- Raises AuthenticationFailed with err.hint on a bad key.
---@param client anthropic.Client
---@param options? anthropic.RequestOptions
---@return string[] ids
function access.list_models(client, options)
  check_client(client)
  local ok, ids = pcall(model_ids, client, options)
  if not ok then
    if is_auth(ids) then raise_auth(ids) end
    error(ids, 0)
  end
  return ids
end

-- Which results are facts about the key and the model (cacheable), not about the moment.
local function definitive(result)
  if result.ok then return true end
  local err = result.error
  return errors.PermissionDenied.is_class_of(err)
    or (errors.NotFound.is_class_of(err) and err.type == "not_found_error")
end

local function row(model, err, value)
  if err == nil then
    return { ok = true, model = model, request_id = type(value) == "table" and value._request_id or nil }
  end
  return { ok = false, model = model, error = err, request_id = type(err) == "table" and err.request_id or nil }
end

--- access.check(client [, models] [, opts]) -> results, models
--- results[model] = { ok = true, model, request_id [, cached] }
---                | { ok = false, model, error = err, request_id [, cached] }
--- models: the list checked, in order (the given one, deduplicated, or GET /v1/models's).
--- opts: probe ("messages" | "count_tokens"), ttl (cache seconds; 0/false: none), refresh (ignore
--- the cache), options (request options for every probe: timeout, max_retries, headers, ...).
--- Raises AuthenticationFailed (err.hint set) once when the key itself is rejected.
---@param client anthropic.Client
---@param models? string[] default: every model of GET /v1/models
---@param opts? anthropic.AccessOptions
---@return table<string, anthropic.AccessResult> results
---@return string[] models the models checked, in order
function access.check(client, models, opts)
  check_client(client)
  local probe, ttl, options, refresh = check_opts(opts)
  local list, seen = {}, {}
  if models == nil then
    models = access.list_models(client, opts and opts.options)
  elseif type(models) ~= "table" then
    usage("models", "must be a list of model ids")
  end
  for i, m in ipairs(models) do
    if type(m) ~= "string" or m == "" then usage("models[" .. i .. "]", "must be a non-empty string") end
    if not seen[m] then
      seen[m] = true
      list[#list + 1] = m
    end
  end

  cache[client] = cache[client] or {}
  local store = cache[client][probe] or {}
  cache[client][probe] = store
  local now = fallback.now()
  local results, ops = {}, {}

  for _, model in ipairs(list) do
    local hit = store[model]
    if hit and not refresh and hit.expiry > now then
      local copy = {}
      for k, v in pairs(hit.result) do copy[k] = v end
      copy.cached = true
      results[model] = copy
    else
      local o = {}
      for k, v in pairs(options) do o[k] = v end
      o.on_done = function() end
      local fn = probe == "messages" and client.messages.create or client.messages.count_tokens
      local ok, op = pcall(fn, probe_params(model), o)
      if ok then ops[#ops + 1] = { model = model, op = op }
      else results[model] = row(model, op) end       -- a UsageError before any request
    end
  end

  -- All probes are in flight; wait for each (they progress together).
  for _, p in ipairs(ops) do
    engine.wait(p.op)
    results[p.model] = row(p.model, p.op.err, p.op.result)
  end

  local auth_err
  for _, model in ipairs(list) do
    local r = results[model]
    if not r.ok and is_auth(r.error) then
      auth_err = auth_err or r.error
    elseif not r.cached then
      if ttl > 0 and definitive(r) then store[model] = { result = r, expiry = now + ttl } end
      if probe == "messages" then
        if r.ok then fallback.forget(client, model)
        elseif definitive(r) then fallback.remember(client, model, r.error, ttl) end
      end
    end
  end
  if auth_err then raise_auth(auth_err) end
  return results, list
end

--- access.clear(client) forgets every cached probe result of client.
---@param client anthropic.Client
function access.clear(client)
  cache[client] = nil
end

--- access.best(client [, preferences] [, opts]) -> the first model of preferences this key may
--- use, or nil; and the results of access.check. preferences defaults to
--- access.DEFAULT_PREFERENCES (Opus, Sonnet, Haiku). opts as for access.check.
---@param client anthropic.Client
---@param preferences? string[] default access.DEFAULT_PREFERENCES
---@param opts? anthropic.AccessOptions
---@return string|nil model
---@return table<string, anthropic.AccessResult> results
function access.best(client, preferences, opts)
  preferences = preferences or access.DEFAULT_PREFERENCES
  local results, list = access.check(client, preferences, opts)
  for _, model in ipairs(list) do
    if results[model].ok then return model, results end
  end
  return nil, results
end

return access
