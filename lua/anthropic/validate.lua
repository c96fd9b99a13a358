-- anthropic.validate: checks on what callers pass in, before a byte is sent.
--
-- Every check raises a UsageError whose message starts with the parameter's name, so
-- "max_tokens: must be a positive integer" tells the caller exactly what to fix.

local errors = require "anthropic.errors"
local json = require "anthropic.json"

local validate = {}

local usage = errors.usage
local floor, huge = math.floor, math.huge
-- A length that runs no __len of the caller's (Lua 5.1 and LuaJIT's # on a table runs none).
local rawlen = rawget(_G, "rawlen") or function(t) return #t end

validate.CLIENT_OPTIONS = {
  api_key = true, auth_token = true, base_url = true, timeout = true, connect_timeout = true,
  idle_timeout = true, max_retries = true, retry_cap = true, max_response_bytes = true,
  default_headers = true, insecure_skip_tls_verify = true, ca_file = true, proxy = true,
  allow_insecure_http = true, files_beta = true, default_query = true, log_level = true, logger = true,
  on_request = true, on_response = true,
}

---@class anthropic.RequestOptions
---@field timeout? number seconds for this request (streams: none unless given)
---@field connect_timeout? number seconds
---@field idle_timeout? number|false seconds a stream may stay silent (false or 0: no limit)
---@field max_retries? integer retries of 429/5xx/529 and connection failures
---@field headers? table<string, string> extra request headers
---@field on_done? fun(err: anthropic.AnthropicError|nil, result: any) non-blocking: called from client:poll()
---@field on_event? fun(event: table) streams: every decoded event
---@field on_text? fun(delta: string, snapshot: string) streams: text as it arrives
---@field betas? string[] (models.retrieve, batches, ...) sent as the anthropic-beta header
validate.REQUEST_OPTIONS = {
  timeout = true, connect_timeout = true, idle_timeout = true, max_retries = true, headers = true,
  on_done = true, on_event = true, on_text = true,
}
-- The typed stream callbacks (anthropic.stream_callbacks) are request options of a stream too.
for _, name in ipairs(require("anthropic.stream_callbacks").NAMES) do validate.REQUEST_OPTIONS[name] = true end

--- Rejects keys not in `known` (a typo such as `max_retry` must not be silently ignored).
---@param t table
---@param known table<string, boolean>
---@param prefix string put before a key in the error ("options.")
function validate.known_keys(t, known, prefix)
  for k in next, t do
    if not known[k] then
      usage(prefix .. validate.describe_key(k), "unknown option")
    end
  end
end

--- A key as text for a message. Only strings and numbers are shown: a caller's table or
--- userdata key could have a __tostring that raises.
---@param k any
---@return string
function validate.describe_key(k)
  local tk = type(k)
  if tk == "string" or tk == "number" then return tostring(k) end
  return "<" .. tk .. " key>"
end

--- validate.plain(t, name) -> a plain copy of the table t (see anthropic.json.plain): what the
--- checks read is then what is used, and no metamethod of the caller runs (or raises) in them.
---@param t table
---@param name string the field, for errors
---@return table copy
function validate.plain(t, name)
  return json.plain(t, name, name)
end

local function is_integer(v)
  return type(v) == "number" and v == v and v ~= huge and v ~= -huge and floor(v) == v
end
validate.is_integer = is_integer

---A credential: a non-empty string without CR, LF or NUL (it becomes a header).
---@param v any
---@param name string
function validate.secret(v, name)
  if type(v) ~= "string" or v == "" then usage(name, "must be a non-empty string") end
  if v:find("[%z\r\n]") then usage(name, "must not contain CR, LF or NUL") end
end

---nil, or a non-empty string without CR, LF or NUL.
---@param v any
---@param name string
---@return string|nil
function validate.optional_string(v, name)
  if v ~= nil and (type(v) ~= "string" or v == "") then usage(name, "must be a non-empty string") end
  if v and v:find("[%z\r\n]") then usage(name, "must not contain CR, LF or NUL") end
  return v
end

--- A duration in seconds (> 0, at most a year). `allow_off`: false or 0 disables (returns nil).
---@param v any
---@param name string
---@param default? number
---@param allow_off? boolean
---@return number|nil seconds
function validate.seconds(v, name, default, allow_off)
  if v == nil then return default end
  if allow_off and (v == false or v == 0) then return nil end
  if type(v) ~= "number" or v ~= v or v <= 0 or v > 31536000 then
    usage(name, "must be a number of seconds > 0 and at most 31536000")
  end
  return v
end

---An integer from min (default 0) to max, or the default when v is nil.
---@param v any
---@param name string
---@param default? integer
---@param max integer
---@param min? integer
---@return integer|nil
function validate.count(v, name, default, max, min)
  if v == nil then return default end
  min = min or 0
  if not is_integer(v) or v < min or v > max then
    usage(name, string.format("must be an integer from %d to %d", min, max))
  end
  return v
end

local function is_loopback(host)
  host = host:lower()
  return host == "localhost" or host == "[::1]" or host:match("^127%.%d+%.%d+%.%d+$") ~= nil
end

--- base_url: http(s) only; plain http only to loopback unless allow_insecure_http is true,
--- so a key never travels in clear by accident. A path prefix is kept; a trailing / dropped.
--- Returns the URL and whether it is plain http:// to a loopback host.
---@param url any
---@param allow_http? boolean
---@return string url
---@return boolean loopback_http
function validate.base_url(url, allow_http)
  if allow_http ~= nil and type(allow_http) ~= "boolean" then usage("allow_insecure_http", "must be a boolean") end
  if type(url) ~= "string" then usage("base_url", "must be a string") end
  if url:find("[%z\r\n%s]") then usage("base_url", "must not contain whitespace, CR, LF or NUL") end
  local scheme, host = url:match("^(%a[%w+.-]*)://([^/?#]+)")
  scheme = scheme and scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    usage("base_url", "must be an http:// or https:// URL, got " .. string.format("%q", url))
  end
  if url:find("[?#]") then usage("base_url", "must not contain a query or fragment") end
  host = host:gsub("^.*@", ""):gsub(":%d+$", "")
  if scheme == "http" and not is_loopback(host) and allow_http ~= true then
    usage("base_url", "plain http:// is only allowed to a loopback host; pass "
      .. "allow_insecure_http = true to send the key unencrypted to " .. host)
  end
  return (url:gsub("/+$", "")), scheme == "http" and is_loopback(host)
end

local TOKEN = "^[!#$%%&'*+%-.^_`|~%w]+$"   -- RFC 9110 field-name characters
-- Per table: default_headers and options.headers together with the library's own headers stay
-- under the core's limit of 128 request headers.
validate.MAX_HEADERS = 50

--- A header table { name = value }: names are tokens, values are strings without CR/LF/NUL.
---@param h any
---@param name string
---@return table<string, string>
function validate.headers(h, name)
  if h == nil then return {} end
  if type(h) ~= "table" then usage(name, "must be a table of name = value strings") end
  h = validate.plain(h, name)
  local out, n = {}, 0
  for k, v in pairs(h) do
    n = n + 1
    if n > validate.MAX_HEADERS then
      usage(name, "must not have more than " .. validate.MAX_HEADERS .. " headers")
    end
    if type(k) ~= "string" or not k:match(TOKEN) then
      usage(name, "header name " .. string.format("%q", validate.describe_key(k)) .. " is not a valid token")
    end
    if type(v) == "number" then v = tostring(v) end
    if type(v) ~= "string" then usage(name .. "." .. k, "header value must be a string") end
    if v:find("[%z\r\n]") then usage(name .. "." .. k, "header value must not contain CR, LF or NUL") end
    out[k] = v
  end
  return out
end

--- The options of a request given none: one shared table, not one made per request. Read
--- only (a write raises), so no request can leave anything in it for the next.
validate.NO_OPTIONS = setmetatable({}, {
  __newindex = function() error("anthropic: validate.NO_OPTIONS is read-only", 2) end,
  __metatable = false,
})

--- Per-request options (the second argument of create/stream/...).
---@param o? anthropic.RequestOptions
---@return table validated the checked timeouts, retries and headers
function validate.request_options(o)
  if o == nil then return validate.NO_OPTIONS end
  if type(o) ~= "table" then usage("options", "must be a table") end
  o = validate.plain(o, "options")
  validate.known_keys(o, validate.REQUEST_OPTIONS, "options.")
  local out = {}
  out.timeout = validate.seconds(o.timeout, "options.timeout", nil)
  out.connect_timeout = validate.seconds(o.connect_timeout, "options.connect_timeout", nil)
  out.idle_timeout = validate.seconds(o.idle_timeout, "options.idle_timeout", nil, true)
  if o.idle_timeout == false or o.idle_timeout == 0 then out.idle_timeout = false end
  out.max_retries = validate.count(o.max_retries, "options.max_retries", nil, 100)
  out.headers = o.headers and validate.headers(o.headers, "options.headers") or nil
  for _, cb in ipairs { "on_done", "on_event", "on_text" } do
    if o[cb] ~= nil and type(o[cb]) ~= "function" then usage("options." .. cb, "must be a function") end
  end
  require("anthropic.stream_callbacks").check(o, "options.")
  return out
end

--- A list (table with keys 1..n, possibly empty) or raise.
---@param v any
---@param name string
---@return integer n the number of items
function validate.list(v, name)
  if type(v) ~= "table" then usage(name, "must be a list (a table with items 1..n)") end
  -- The common case first: as many keys as the length, and 1..n all set, is exactly 1..n.
  local count, n = 0, rawlen(v)
  for _ in pairs(v) do count = count + 1 end
  if count == n then
    local i = 1
    while i <= n and v[i] ~= nil do i = i + 1 end
    if i > n then return n end
  end
  -- Otherwise find what is wrong, to say so.
  n = 0
  for k in pairs(v) do
    if not is_integer(k) or k < 1 then
      usage(name, "must be a list (a table with items 1..n), found key " .. validate.describe_key(k))
    end
    if k > n then n = k end
  end
  for i = 1, n do if v[i] == nil then usage(name, "must be a list without holes (item " .. i .. " is nil)") end end
  return n
end

--- validate.betas(v, name) -> the list or nil. Each item becomes one comma-separated entry of
--- the anthropic-beta header, so it must be a non-empty string without CR, LF, NUL or comma.
---@param v any
---@param name string
---@return string[]|nil
function validate.betas(v, name)
  if v == nil then return nil end
  local n = validate.list(v, name)
  for i = 1, n do
    if type(v[i]) ~= "string" or v[i] == "" or v[i]:find("[%z\r\n,]") then
      usage(name .. "[" .. i .. "]", "must be a non-empty string without CR, LF, NUL or comma")
    end
  end
  return v
end

--- Messages API parameters shared by create, stream and count_tokens.
---@param p anthropic.MessageParams
---@param need_max_tokens boolean
function validate.message_params(p, need_max_tokens)
  if type(p) ~= "table" then usage("params", "must be a table") end
  if type(p.model) ~= "string" or p.model == "" then usage("model", "must be a non-empty string") end
  if need_max_tokens and (not is_integer(p.max_tokens) or p.max_tokens < 1 or p.max_tokens > 2^31 - 1) then
    usage("max_tokens", "must be a positive integer")
  end
  local n = validate.list(p.messages, "messages")
  for i = 1, n do
    local m = p.messages[i]
    if type(m) ~= "table" then usage("messages[" .. i .. "]", "must be a table { role = ..., content = ... }") end
  end
  if p.stream ~= nil then usage("stream", "use client.messages.stream(params) instead of stream = true") end
  validate.betas(p.betas, "betas")
end

return validate
