-- anthropic.client: the Client object. Configuration (options, then the environment, as in
-- the official SDKs), the headers every request carries, and sending a request through the
-- core. A finished request becomes a result or a typed error in anthropic.outcome, which is
-- lent this client's redact function and nothing else of its credentials.
--
-- Credentials never leave this file except as request headers: they live in a private table
-- keyed by the client (not in the client table, so pairs() and inspectors don't see them),
-- tostring(client) omits them, and any server text placed in an error is scrubbed of them.

local core = require "anthropic.core"
local errors = require "anthropic.errors"
local engine = require "anthropic.engine"
local compat = require "anthropic.compat"
local validate = require "anthropic.validate"
local observe = require "anthropic.observe"
local usage = require "anthropic.usage"
local defaults = require "anthropic.defaults"
local outcome = require "anthropic.outcome"

local M = {}

M.VERSION = "0.1.0"
M.API_VERSION = "2023-06-01"
M.DEFAULT_BASE_URL = "https://api.anthropic.com"

-- Defaults in seconds. The idle timeout ends a stream that sends nothing but pings for this
-- long: pings keep a dead generation looking alive.
M.DEFAULTS = {
  timeout = 600, connect_timeout = 5, idle_timeout = 60, max_retries = 2, retry_cap = 60,
  max_response_bytes = 64 * 1024 * 1024,
}

---@class anthropic.ClientOptions
---@field api_key? string default $ANTHROPIC_API_KEY (sent as x-api-key; never printed)
---@field auth_token? string default $ANTHROPIC_AUTH_TOKEN (sent as Authorization: Bearer)
---@field base_url? string default $ANTHROPIC_BASE_URL or https://api.anthropic.com
---@field timeout? number seconds per request (default 600; streams: idle_timeout instead)
---@field connect_timeout? number seconds (default 5)
---@field idle_timeout? number|false seconds a stream may send nothing but pings (default 60)
---@field max_retries? integer retries of 429/5xx/529 and connection failures (default 2)
---@field retry_cap? number the longest wait between retries, seconds (default 60)
---@field max_response_bytes? integer the largest reply kept (default 64 MiB)
---@field default_headers? table<string, string> sent with every request
---@field insecure_skip_tls_verify? boolean never in production
---@field ca_file? string a CA bundle to verify the server with
---@field proxy? string a proxy URL (default: libcurl's environment variables)
---@field allow_insecure_http? boolean plain http:// to a host that is not loopback
---@field files_beta? boolean send anthropic-beta: files-api-2025-04-14 on Files calls (default true)
---@field default_query? table<string, string|number|boolean> appended to every URL
---@field log_level? "debug"|"info"|"warn"|"error"|"off" default $ANTHROPIC_LOG, else off
---@field logger? fun(level: string, message: string, fields: table) default: a line on stderr
---@field on_request? fun(req: table) before a request is sent (may set req.headers)
---@field on_response? fun(res: table) when a request ended

---@class anthropic.Client
---@field base_url string
---@field messages anthropic.Messages
---@field models table list, retrieve (anthropic.models)
---@field batches table create, retrieve, list, cancel, delete, results, ... (anthropic.batches)
local Client = {}
Client.__index = Client
M.Client = Client

local secrets = setmetatable({}, { __mode = "k" })   -- client -> { api_key=, auth_token= }

local USER_AGENT = string.format("lua-anthropic/%s (%s; libcurl %s)", M.VERSION,
  rawget(_G, "jit") and rawget(_G, "jit").version or _VERSION, core.curl_version)

Client.__tostring = function(self)
  return string.format("anthropic.Client(%s%s)", self.base_url, self._core:is_closed() and ", closed" or "")
end

local ms = defaults.ms   -- seconds -> the whole milliseconds the core takes

--- M.from_env([getenv]) -> { api_key, auth_token, base_url, custom_headers, log } from
--- ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN, ANTHROPIC_BASE_URL, ANTHROPIC_CUSTOM_HEADERS and
--- ANTHROPIC_LOG (an empty value counts as unset); getenv defaults to os.getenv. The one place
--- the environment is read for a client.
---@param getenv? fun(name: string): string?
---@return { api_key: string?, auth_token: string?, base_url: string?, custom_headers: string?, log: string? }
function M.from_env(getenv)
  getenv = getenv or os.getenv
  local function get(name)
    local v = getenv(name)
    if v == nil or v == "" then return nil end
    return v
  end
  return { api_key = get("ANTHROPIC_API_KEY"), auth_token = get("ANTHROPIC_AUTH_TOKEN"),
           base_url = get("ANTHROPIC_BASE_URL"), custom_headers = get("ANTHROPIC_CUSTOM_HEADERS"),
           log = get("ANTHROPIC_LOG") }
end

-- The client's credentials, out of its sight, with the header cache (it holds them too) and
-- the redactor. Values of default headers that carry a credential (a gateway's key from
-- ANTHROPIC_CUSTOM_HEADERS) are scrubbed like the key. A platform keeps its credentials to
-- itself; the redactor asks it for them each time (so a refreshed token is scrubbed too).
local function keep_secrets(self, api_key, auth_token)
  local list = defaults.header_secrets(self.default_headers, { api_key, auth_token })
  local platform = self._platform
  secrets[self] = { api_key = api_key, auth_token = auth_token, list = list,
                    headers = {}, body_headers = {} }
  secrets[self].redact = function(text)
    if type(text) ~= "string" then return text end
    return M.redact(text, platform and defaults.join(platform:secrets(), list) or list)
  end
end

--- M.new(opts [, platform]) -> Client. Every option is optional; see README "Configuration".
--- `platform` (anthropic.platforms.*: Bedrock, Vertex) brings its own credentials, URL and
--- request mapping; opts then holds only the transport options, and no API key is read.
---@param opts? anthropic.ClientOptions
---@param platform? table a platform object from anthropic.platforms (Bedrock, Vertex)
---@return anthropic.Client
function M.new(opts, platform)
  if opts ~= nil and type(opts) ~= "table" then errors.usage("options", "must be a table") end
  opts = validate.plain(opts or {}, "options")
  validate.known_keys(opts, validate.CLIENT_OPTIONS, "")
  local api_key = opts.api_key
  local auth_token = opts.auth_token
  local from_env = M.from_env()
  if platform then
    if api_key ~= nil or auth_token ~= nil then
      errors.usage(api_key ~= nil and "api_key" or "auth_token", "is not used by the "
        .. platform.name .. " client, which signs requests with its own credentials")
    end
  elseif api_key == nil and auth_token == nil then
    api_key, auth_token = from_env.api_key, from_env.auth_token
  end
  if api_key ~= nil then validate.secret(api_key, "api_key") end
  if auth_token ~= nil then validate.secret(auth_token, "auth_token") end
  if api_key == nil and auth_token == nil and not platform then
    errors.usage("api_key", "no credentials: set ANTHROPIC_API_KEY (or pass api_key = ...), "
      .. "or ANTHROPIC_AUTH_TOKEN (or auth_token = ...) for Authorization: Bearer")
  end

  local self = setmetatable({}, Client)
  local loopback_http
  -- A platform's own default URL wins over ANTHROPIC_BASE_URL, which names a first-party API.
  local default_url = platform and platform.base_url or from_env.base_url or M.DEFAULT_BASE_URL
  self.base_url, loopback_http = validate.base_url(opts.base_url or default_url, opts.allow_insecure_http)
  -- Plain http:// is allowed to loopback because that traffic never leaves the machine; a proxy
  -- from the environment (http_proxy, ALL_PROXY) must not carry it, key and all, elsewhere.
  -- libcurl takes an empty proxy string as "no proxy, whatever the environment says".
  self._direct = loopback_http
  defaults.configure(self, opts, nil, from_env)
  if opts.insecure_skip_tls_verify ~= nil and type(opts.insecure_skip_tls_verify) ~= "boolean" then
    errors.usage("insecure_skip_tls_verify", "must be a boolean")
  end
  self.insecure_skip_tls_verify = opts.insecure_skip_tls_verify == true
  self.ca_file = validate.optional_string(opts.ca_file, "ca_file")
  self.proxy = validate.optional_string(opts.proxy, "proxy")
  if opts.files_beta ~= nil and type(opts.files_beta) ~= "boolean" then
    errors.usage("files_beta", "must be a boolean")
  end
  self.files_beta = opts.files_beta ~= false

  -- The header cache holds the key too, so it lives here, out of the client's sight.
  self._platform = platform
  keep_secrets(self, api_key, auth_token)
  self._core = core.client()
  self._ops = {}
  self._nops = 0
  self._callback_errors = {}
  self._root = self   -- whose core and operations this client uses (client:with_options)
  self._usage = usage.ledger()
  require("anthropic.resources").attach(self)
  return self
end

local function check_open(self)
  if getmetatable(self) ~= Client then errors.usage("client", "expected a Client (use client:method())") end
  if self._closed or self._core:is_closed() then errors.usage(nil, "attempt to use a closed client") end
end

--- client:with_options(opts) -> a client on this one's engine, connections and credentials,
--- with other request defaults (anthropic.defaults.derive; docs/observability.md).
---@param opts table
---@return anthropic.Client
function Client:with_options(opts)
  check_open(self)
  local s = secrets[self]
  return defaults.derive(self, opts, function(child) keep_secrets(child, s.api_key, s.auth_token) end)
end

--- client:usage([{ reset = true }]) -> { total = counts, models = { [model] = counts } }: what
--- this client's Messages requests spent (anthropic.usage; docs/observability.md).
---@param opts? { reset?: boolean }
---@return anthropic.UsageReport
function Client:usage(opts)
  if getmetatable(self) ~= Client then errors.usage("client", "expected a Client (use client:method())") end
  return usage.of(self._usage, opts)
end

--- client:poll([timeout_ms [, budget]]) -> operations still in flight. Waits at most
--- timeout_ms (default 0) for network activity, then does the work that arrived. budget bounds
--- that work (a frame's share): an integer is the most events handed out, shared among the
--- operations; a table is { max_events = n, max_ms = t }, where max_ms bounds the time spent
--- after the wait (connects, socket reads, batches of 8 events): a step starts only while the
--- time left covers its recent cost, one of each always runs. What a budget leaves waits, for
--- the next poll (in order), which then does not sleep; every poll makes some progress, so
--- none is lost or reordered.
---@param timeout_ms? number the longest wait for network activity (default 0: none)
---@param budget? integer|{ max_events?: integer, max_ms?: number } the most work this poll does
---@return integer inflight operations not yet finished
function Client:poll(timeout_ms, budget)
  check_open(self)
  if timeout_ms ~= nil and (type(timeout_ms) ~= "number" or timeout_ms ~= timeout_ms or timeout_ms < 0) then
    errors.usage("timeout_ms", "must be a number >= 0")
  end
  local max_events, max_ms = engine.poll_budget(budget)
  return engine.poll(self._root, timeout_ms or 0, max_events, max_ms)
end

--- client:sockets() -> { [fd] = "r" | "w" | "rw" }: what libcurl wants watched right now.
---@return table<integer, "r"|"w"|"rw"> sockets
function Client:sockets()
  check_open(self)
  return self._core:sockets()
end

--- client:timeout() -> milliseconds until the client next needs a poll (-1: nothing pending).
---@return integer ms
function Client:timeout()
  check_open(self)
  return engine.timeout(self._root)
end

--- client:queue{ max_in_flight = 16 } -> a queue that paces requests by the rate-limit
--- headers (docs/queue.md).
---@param opts? table
---@return anthropic.Queue
function Client:queue(opts) check_open(self); return require("anthropic.queue").new(self, opts) end

--- client:inflight() -> operations not yet finished.
---@return integer
function Client:inflight()
  check_open(self)
  return self._root._nops
end

--- client:close() cancels every operation and frees the connections. Idempotent. A derived
--- client (with_options) cancels only its own operations; the connections stay its parent's.
function Client:close()
  if getmetatable(self) ~= Client then errors.usage("client", "expected a Client (use client:method())") end
  if self._closed or self._core:is_closed() then return end
  local derived = self._root ~= self
  local ops = {}
  for op in pairs(self._ops) do
    if not derived or op.obs == self then ops[#ops + 1] = op end
  end
  for i = 1, #ops do
    ops[i]:cancel(errors.new(errors.ConnectionError, { message = "client closed", transport = "aborted" }))
  end
  if derived then self._closed = true else self._core:close() end
end
Client.__close = Client.close   -- Lua 5.4: local client <close> = anthropic.new{}
-- No __gc here: the core userdata frees the connections when the client is collected.

-- ---------------------------------------------------------------------------------------
-- Sending

--- M.url_escape(s) -> s percent-encoded except for RFC 3986's unreserved characters.
---@param s any
---@return string
function M.url_escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end
local urlencode = M.url_escape

--- Builds the query string from a table of scalars, in sorted key order (stable URLs).
local function query_string(q)
  if not q then return "" end
  local keys = {}
  for k, v in pairs(q) do if v ~= nil then keys[#keys + 1] = k end end
  if #keys == 0 then return "" end
  table.sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = urlencode(k) .. "=" .. urlencode(q[k]) end
  return "?" .. table.concat(parts, "&")
end

local function add_header(list, seen, name, value)
  local lname = name:lower()
  if seen[lname] then list[seen[lname]] = name .. ": " .. value
  else
    list[#list + 1] = name .. ": " .. value
    seen[lname] = #list
  end
end

-- The request's header list ("Name: value" strings). Later entries replace earlier ones of the
-- same name, so default_headers and per-request headers override ours.
local function build_headers(self, accept, has_body, betas, extra)
  local s = secrets[self]
  local list, seen = {}, {}
  if s.api_key then add_header(list, seen, "x-api-key", s.api_key) end
  if s.auth_token then add_header(list, seen, "Authorization", "Bearer " .. s.auth_token) end
  add_header(list, seen, "anthropic-version", M.API_VERSION)
  add_header(list, seen, "accept", accept)
  add_header(list, seen, "user-agent", USER_AGENT)
  if has_body then add_header(list, seen, "content-type", "application/json") end
  add_header(list, seen, "Expect", "")   -- no 100-continue round trip for large bodies
  if betas and #betas > 0 then add_header(list, seen, "anthropic-beta", table.concat(betas, ",")) end
  for name, value in pairs(self.default_headers) do add_header(list, seen, name, value) end
  if extra then for name, value in pairs(extra) do add_header(list, seen, name, value) end end
  -- "Expect:" with an empty value tells libcurl to drop the header entirely.
  list[seen["expect"]] = "Expect:"
  return list
end

-- The options of core:request: one table, filled anew for each request. The core reads them
-- before it returns and keeps none of them (it anchors the strings it points into itself), and
-- a new 17-field table was a ninth of what a create allocated. Nothing runs between filling and
-- the call, so requests from hooks, coroutines or other clients cannot interleave. What a
-- request hands over is cleared after the call (a raise there, for input the Lua side has
-- already checked, leaves it until the next request).
local request_opts = {}

--- client:_send(spec) -> op. spec = { method, path, query, body (string), stream, accept,
--- headers (extra, validated), betas, options (per-request overrides), handler, callbacks,
--- multipart (a list of parts the core sends as multipart/form-data: anthropic.files),
--- download_path (a 2xx body streamed to this file), max_ok_bytes (the cap of this request's
--- 2xx body in memory; headers and error replies keep max_response_bytes), text_deltas (the
--- core hands plain text deltas over by index: stream.lua) }.
--- A file the core cannot use (multipart path, download_path) is a UsageError naming
--- spec.file_param. now: the caller blocks on the op next (core:request's send_now).
function Client:_send(spec, now)
  check_open(self)
  local o = spec.options or validate.NO_OPTIONS
  local accept = spec.accept or "application/json"
  local list
  if spec.headers or (spec.betas and #spec.betas > 0) then
    list = build_headers(self, accept, spec.body ~= nil, spec.betas, spec.headers)
  else
    -- The common case has the same headers every time: build them once per client, per
    -- accept and per whether a body goes with them.
    local s = secrets[self]
    local cache = spec.body and s.body_headers or s.headers
    list = cache[accept]
    if not list then
      list = build_headers(self, accept, spec.body ~= nil)
      cache[accept] = list
    end
  end

  local timeout_ms = o.timeout and ms(o.timeout) or self._timeout_ms
  -- Streams are bounded by the idle timeout; the total applies only when asked for.
  if spec.stream and o.timeout == nil and not self.timeout_explicit then timeout_ms = 0 end
  local idle_ms = 0
  if spec.stream then
    if o.idle_timeout == nil then idle_ms = self._idle_ms else idle_ms = ms(o.idle_timeout) end
  end
  local url = spec.url or (self.base_url .. spec.path .. query_string(spec.query))
  if self.default_query then url = defaults.add_query(url, self.default_query, urlencode) end
  -- Hooks and the log (anthropic.observe) run here, in Lua, before the core request exists.
  local watch, trace = self._watch, nil
  if watch then
    list, trace = observe.before(self, watch, spec, url, list)
    if not list then return observe.failed(self, spec, url, trace) end
  end
  -- A cloud platform signs or authorises each request (SigV4 needs the URL and the body).
  if self._platform then list = self._platform:authorize(self, spec, url, list) end
  if watch then observe.started(self, watch, trace, spec, url, list) end
  local ro = request_opts
  ro.method, ro.url, ro.headers, ro.body, ro.stream = spec.method, url, list, spec.body, spec.stream
  ro.timeout_ms, ro.idle_timeout_ms = timeout_ms, idle_ms
  ro.connect_timeout_ms = o.connect_timeout and ms(o.connect_timeout) or self._connect_ms
  ro.max_retries, ro.retry_cap_ms = o.max_retries or self.max_retries, self._retry_cap_ms
  ro.max_response_bytes, ro.max_ok_bytes = self.max_response_bytes, spec.max_ok_bytes
  ro.insecure, ro.ca_file = self.insecure_skip_tls_verify, self.ca_file
  ro.proxy = self.proxy or (self._direct and "" or nil)
  ro.multipart, ro.download_path = spec.multipart, spec.download_path
  ro.send_now, ro.text_deltas = now == true, spec.text_deltas
  local req, file_err = self._core:request(ro)
  ro.headers, ro.body, ro.multipart = nil, nil, nil   -- no request's data outlives its call
  if req == nil then errors.usage(spec.file_param or "path", file_err) end
  local logs = watch and watch.log and watch.log.level <= 3   -- warn: retry lines
  local op = engine.start(self._root, req, logs and observe.handler(spec.handler) or spec.handler, spec.callbacks)
  -- Seen by op:finish: the usage of a Messages request (spec.model), hooks and the end line.
  op.obs = self
  if spec.model or watch then op.observe, op.model, op.trace = observe.finish, spec.model, trace end
  return op
end

-- ---------------------------------------------------------------------------------------
-- Results and errors (anthropic.outcome; the client lends it only its redact function)

--- Removes this client's credentials from server-provided data (a proxy might echo them):
--- a string is returned scrubbed; a table is scrubbed in place, keys and values, at any depth.
function Client:_scrub(text)
  return outcome.scrub(text, secrets[self].redact)
end

--- M.redact(text, secrets) -> text in which no run of 8 or more characters of any secret (a
--- list of non-empty strings; a shorter secret: the whole of it) is left, wherever it sits:
--- each such run becomes "[redacted]". Linear in #text (anthropic.core does the matching).
---@param text string
---@param list string[] the secrets
---@return string
function M.redact(text, list)
  return core.redact(text, compat.unpack(list))
end

--- client:_error(fields) -> the typed error for a finished request's outcome (outcome.error).
function Client:_error(f)
  return outcome.error(f, secrets[self].redact)
end

--- client:_call(spec) sends spec and, unless spec.callbacks.on_done is given, waits for the
--- result: returns it, or raises the typed error. With on_done, returns the op at once.
function Client:_call(spec)
  local async = spec.callbacks and spec.callbacks.on_done
  -- A caller that blocks has its request sent at once, so the server works while the op and
  -- the wait are set up here. An on_done request goes out on the host's next poll, and so does
  -- a task's: its wait is the host's poll, which may be working to a frame budget.
  local op = self:_send(spec, not async and not engine.in_task())
  if async then return op end
  engine.wait(op)
  if self:_reauthorize(op.err, spec) then return self:_call(spec) end
  if op.err ~= nil then error(op.err, 0) end
  return op.result
end

--- client:_reauthorize(err, spec) -> true when err is a 401 that a fresh platform token may
--- cure (Vertex); then spec is marked, so a request is sent again at most once.
function Client:_reauthorize(err, spec)
  local p = self._platform
  if err == nil or not p or not p.unauthorized or spec.raw or spec.reauthorized then return false end
  if not (errors.AuthenticationFailed.is_class_of(err) and err.status == 401) then return false end
  spec.reauthorized = true
  return p:unauthorized()
end

return M
