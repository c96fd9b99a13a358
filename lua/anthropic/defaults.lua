-- anthropic.defaults: a client's request defaults beyond the transport options: headers
-- from ANTHROPIC_CUSTOM_HEADERS, `default_query` in every URL, and derived clients
-- (client:with_options) that share the engine but have other defaults.

local errors = require "anthropic.errors"
local validate = require "anthropic.validate"
local observe = require "anthropic.observe"
local usage = require "anthropic.usage"
local log = require "anthropic.log"

local M = {}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- M.custom_headers(text) -> { name = value }: ANTHROPIC_CUSTOM_HEADERS as Claude Code reads
--- it: one "Name: value" a line (LF or CRLF), name and value trimmed, blank lines skipped. A
--- line that is not a header is a UsageError naming the variable and the line: a header that
--- silently went missing (a gateway's key) would be found much later, and harder.
---@param text? string
---@return table<string, string>
function M.custom_headers(text)
  local out = {}
  if text == nil then return out end
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = trim(line:gsub("\r$", ""))
    if line ~= "" then
      local name, value = line:match("^([^:]*):(.*)$")
      name = name and trim(name)
      if not name or name == "" then
        errors.usage("ANTHROPIC_CUSTOM_HEADERS", string.format("line %d is not \"Name: value\"", n))
      end
      out[name] = trim(value)
    end
  end
  return validate.headers(out, "ANTHROPIC_CUSTOM_HEADERS")
end

--- M.check_query(q, name) -> a plain copy of a table of string keys and scalar values (nil
--- for nil), for default_query.
---@param q any
---@param name string
---@return table<string, string|number|boolean>|nil
function M.check_query(q, name)
  if q == nil then return nil end
  if type(q) ~= "table" then errors.usage(name, "must be a table of name = value") end
  q = validate.plain(q, name)
  for k, v in pairs(q) do
    if type(k) ~= "string" or k == "" then errors.usage(name, "keys must be non-empty strings") end
    local t = type(v)
    if t ~= "string" and t ~= "number" and t ~= "boolean" then
      errors.usage(name .. "." .. k, "must be a string, number or boolean")
    end
  end
  return q
end

local function query_keys(url)
  local keys = {}
  local q = url:match("%?([^#]*)")
  if q then
    for pair in q:gmatch("[^&]+") do keys[(pair:match("^[^=]*"))] = true end
  end
  return keys
end

--- M.add_query(url, q, escape) -> url with q's pairs appended (sorted, escaped by `escape`),
--- after any query the URL already has; a name the URL already carries keeps its own value.
---@param url string
---@param q table
---@param escape fun(s: any): string
---@return string
function M.add_query(url, q, escape)
  local have = query_keys(url)
  local names = {}
  for k in pairs(q) do
    if not have[escape(k)] then names[#names + 1] = k end
  end
  if #names == 0 then return url end
  table.sort(names)
  local parts = {}
  for i, k in ipairs(names) do parts[i] = escape(k) .. "=" .. escape(tostring(q[k])) end
  local fragment = url:match("#.*$") or ""
  local base = url:sub(1, #url - #fragment)
  local sep = base:find("?", 1, true) and (base:sub(-1) == "?" and "" or "&") or "?"
  return base .. sep .. table.concat(parts, "&") .. fragment
end

--- M.ms(seconds) -> the whole milliseconds the core takes: 0 stays 0 ("no limit"), anything else is at
--- least 1 ms (0.0001 s must not become "no limit") and at most 2^31-1 ms (~24.8 days; the core
--- refuses more, and validate allows up to a year).
---@param seconds? number
---@return integer
function M.ms(seconds)
  if not seconds or seconds <= 0 then return 0 end
  return math.min(math.max(math.ceil(seconds * 1000), 1), 2147483647)
end

--- M.configure(client, opts, base, env): a client's request defaults, from opts over `base`
--- (the client a derived one comes from) or client.DEFAULTS, and the environment (env: what
--- client.from_env read; only for a new client).
---@param self anthropic.Client
---@param opts table
---@param base? anthropic.Client
---@param env? table
function M.configure(self, opts, base, env)
  local d = base and {
    timeout = base.timeout_s, connect_timeout = base.connect_timeout, idle_timeout = base.idle_timeout,
    max_retries = base.max_retries, retry_cap = base.retry_cap, max_response_bytes = base.max_response_bytes,
  } or require("anthropic.client").DEFAULTS
  self.timeout_explicit = opts.timeout ~= nil or (base ~= nil and base.timeout_explicit)
  self.timeout_s = validate.seconds(opts.timeout, "timeout", d.timeout)   -- not .timeout: that is the method
  self.connect_timeout = validate.seconds(opts.connect_timeout, "connect_timeout", d.connect_timeout)
  self.idle_timeout = validate.seconds(opts.idle_timeout, "idle_timeout", d.idle_timeout, true)
  self.max_retries = validate.count(opts.max_retries, "max_retries", d.max_retries, 100)
  self.retry_cap = validate.seconds(opts.retry_cap, "retry_cap", d.retry_cap)
  self.max_response_bytes = validate.count(opts.max_response_bytes, "max_response_bytes",
    d.max_response_bytes, 2^31 - 1, 1)
  -- Headers: ANTHROPIC_CUSTOM_HEADERS, then default_headers (a derived client's over its
  -- parent's), then each request's own.
  local h = base and {} or M.custom_headers(env.custom_headers)
  for k, v in pairs(base and base.default_headers or {}) do h[k] = v end
  for k, v in pairs(validate.headers(opts.default_headers, "default_headers")) do h[k] = v end
  self.default_headers = h
  local q = M.check_query(opts.default_query, "default_query")
  if base and base.default_query then
    local merged = {}
    for k, v in pairs(base.default_query) do merged[k] = v end
    for k, v in pairs(q or {}) do merged[k] = v end
    q = merged
  end
  self.default_query = q and next(q) ~= nil and q or nil
  self._watch = observe.watch(opts, env and env.log, base and base._watch)
  self._timeout_ms = M.ms(self.timeout_s)
  self._connect_ms = M.ms(self.connect_timeout)
  self._idle_ms = M.ms(self.idle_timeout)
  self._retry_cap_ms = M.ms(self.retry_cap)
end

--- M.header_secrets(headers, list) -> list (a new one, without holes) with the value of every
--- header that carries a credential (a gateway key from ANTHROPIC_CUSTOM_HEADERS), so that it
--- is scrubbed wherever the key is.
---@param headers table<string, string>
---@param list (string|nil)[] the client's credentials (nil for an absent one)
---@return string[]
function M.header_secrets(headers, list)
  local out = {}
  for i = 1, 2 do if list[i] then out[#out + 1] = list[i] end end
  for name, value in pairs(headers) do
    if value ~= "" and log.secret_header(name) then out[#out + 1] = value end
  end
  return out
end

--- M.join(a, b) -> a new list: a's items, then b's.
---@param a string[]
---@param b string[]
---@return string[]
function M.join(a, b)
  local out = {}
  for i = 1, #a do out[#out + 1] = a[i] end
  for i = 1, #b do out[#out + 1] = b[i] end
  return out
end

-- What client:with_options takes: the request defaults (the rest, credentials and the base
-- URL, belong to the engine and its connections).
M.DERIVED_OPTIONS = {
  timeout = true, connect_timeout = true, idle_timeout = true, max_retries = true, retry_cap = true,
  max_response_bytes = true, default_headers = true, default_query = true, on_request = true,
  on_response = true, log_level = true, logger = true,
}

-- Fields of a client that are its own (made again for a derived one): its usage ledger and
-- every public table but its defaults: the API resources (client.messages,
-- ...) are closures over their client, so the derived one gets its own.
local OWN = { _usage = true, _closed = true }
local SHARED_TABLES = { default_headers = true, default_query = true }

--- M.derive(parent, opts, keep_secrets) -> client:with_options(opts): a client of the same
--- class that shares parent's core client (engine, connections, operations) and credentials
--- (keep_secrets(child), client.lua, gives it its own redactor and header cache), with opts
--- over parent's defaults: timeout, connect_timeout, idle_timeout, max_retries, retry_cap,
--- max_response_bytes, default_headers and default_query (merged over parent's), on_request,
--- on_response (false: none), log_level, logger. Its usage ledger is its own; what it counts
--- is counted in parent's too. client.messages and the other resources are its own, bound to it.
---@param parent anthropic.Client
---@param opts table
---@param keep_secrets fun(child: anthropic.Client)
---@return anthropic.Client
function M.derive(parent, opts, keep_secrets)
  if opts ~= nil and type(opts) ~= "table" then errors.usage("options", "must be a table") end
  opts = validate.plain(opts or {}, "options")
  validate.known_keys(opts, M.DERIVED_OPTIONS, "")
  local child = {}
  for k, v in pairs(parent) do
    local public_table = type(v) == "table" and type(k) == "string" and k:sub(1, 1) ~= "_"
    if not OWN[k] and not (public_table and not SHARED_TABLES[k]) then child[k] = v end
  end
  setmetatable(child, getmetatable(parent))
  M.configure(child, opts, parent)
  keep_secrets(child)
  child._usage = usage.ledger(parent._usage)
  require("anthropic.resources").attach(child)
  if child._platform then require("anthropic.platforms").restrict(child, child._platform.name) end
  return child
end

return M
