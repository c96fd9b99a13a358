-- anthropic.log: the client's log lines (ANTHROPIC_LOG, or the log_level / logger options).
--
-- Off by default. When off, a client holds no logger at all and a request builds no string
-- and no closure for it (anthropic.observe checks one field). When on, each request writes
--   info   "request"   when it starts (method, url)
--   warn   "retry"     each time the core scheduled another attempt (the attempt that ended,
--                      the delay, the cause: the core's decision, read after poll through
--                      req:last_retry(), never recomputed here)
--   info   "response"  when it ends (status, request_id, attempts, ms); "failed" at error
--                      level when it ends in an error
-- and at debug the request's and the reply's headers and body too. Every value is scrubbed of
-- the client's credentials (client.redact), and the value of every header that carries a
-- credential (authorization, x-api-key, a token, a signature, a cookie, ...) is replaced
-- whole, so no part of a key reaches a log, whatever the logger does with the fields.

local errors = require "anthropic.errors"

local M = {}

M.LEVELS = { debug = 1, info = 2, warn = 3, error = 4 }
M.NAMES = { "debug", "info", "warn", "error" }
-- The longest body written at debug: a debug log is for reading, not for archiving requests.
M.MAX_BODY = 16 * 1024
M.REDACTED = "[redacted]"

--- M.parse_level(v, where) -> a level number, false for "off", nil for unset. Anything else
--- is a UsageError naming `where`.
---@param v any
---@param where string
---@return integer|false|nil
function M.parse_level(v, where)
  if v == nil then return nil end
  if v == false or v == "off" then return false end
  local n = type(v) == "string" and M.LEVELS[v]
  if not n then
    errors.usage(where, "must be one of \"debug\", \"info\", \"warn\", \"error\", \"off\", got "
      .. (type(v) == "string" and string.format("%q", v:sub(1, 40)) or type(v)))
  end
  return n
end

-- Header names whose value is a credential, and the words of a name (split at - and _) that
-- say it holds one: x-auth-token, x-litellm-api-key, x-client-secret, ... but not
-- anthropic-ratelimit-tokens-remaining ("tokens" are counted, not carried).
local SECRET_HEADERS = {
  authorization = true, ["proxy-authorization"] = true, ["x-api-key"] = true, cookie = true,
  ["set-cookie"] = true, ["x-amz-security-token"] = true, ["x-goog-api-key"] = true,
}
local SECRET_WORDS = {
  key = true, apikey = true, token = true, secret = true, auth = true, signature = true,
  credential = true, credentials = true, password = true, passwd = true, cookie = true,
}

--- M.secret_header(name) -> true when a header (or query parameter) of this name carries a
--- credential.
---@param name string
---@return boolean
function M.secret_header(name)
  local l = name:lower()
  if SECRET_HEADERS[l] then return true end
  for word in l:gmatch("[^%-_]+") do
    if SECRET_WORDS[word] then return true end
  end
  return false
end

-- Query parameters of a URL whose value is a credential (a presigned URL's signature).
local function scrub_url(url)
  return (url:gsub("([?&])([^=&#]+)=([^&#]*)", function(sep, k, v)
    if M.secret_header(k) or k:lower():find("^x%-amz%-") then return sep .. k .. "=" .. M.REDACTED end
    return sep .. k .. "=" .. v
  end))
end

--- M.url(client, url) -> url with the client's credentials and any signature-like query value
--- redacted.
---@param client anthropic.Client
---@param url string
---@return string
function M.url(client, url)
  return scrub_url(client:_scrub(url))
end

--- M.headers(client, list) -> { name = value }: a header list ("Name: value" strings) or the
--- core's parsed reply headers ({ name = value | { values } }) with every credential redacted.
---@param client anthropic.Client
---@param h table
---@return table<string, string>
function M.headers(client, h)
  local out = {}
  local function put(name, value)
    if M.secret_header(name) and value ~= "" then value = M.REDACTED
    else value = client:_scrub(value) end
    local prev = out[name]
    out[name] = prev and (prev .. ", " .. value) or value
  end
  if h[1] ~= nil then
    for i = 1, #h do
      local name, value = h[i]:match("^([^:]+):%s*(.*)$")
      if name and not (name:lower() == "expect" and value == "") then put(name:lower(), value) end
    end
  else
    for name, value in pairs(h) do
      if type(value) == "table" then
        for i = 1, #value do put(name, tostring(value[i])) end
      else
        put(name, tostring(value))
      end
    end
  end
  return out
end

--- M.body(client, body) -> the body scrubbed of credentials and cut at M.MAX_BODY bytes.
---@param client anthropic.Client
---@param body string
---@return string
function M.body(client, body)
  local text = client:_scrub(body)
  if #text > M.MAX_BODY then
    text = text:sub(1, M.MAX_BODY) .. string.format("... (%d bytes in all)", #body)
  end
  return text
end

-- ---------------------------------------------------------------------------------------
-- The default logger: one line on stderr per call.

local ORDER = { "id", "method", "url", "status", "request_id", "attempt", "attempts", "delay_ms",
                "reason", "ms", "error" }
local ORDERED = {}
for i, k in ipairs(ORDER) do ORDERED[k] = i end

local function render(v)
  if type(v) == "table" then
    local keys, parts = {}, {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do parts[i] = k .. ": " .. tostring(v[k]) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  local s = tostring(v)
  if s:find("[%s\"=]") or s == "" then s = string.format("%q", s):gsub("\\\n", "\\n") end
  return s
end

--- M.format(level, message, fields) -> the default logger's line (no newline):
--- `anthropic info response id=1 status=200 request_id=req_... attempts=1 ms=42`.
---@param level string
---@param message string
---@param fields? table
---@return string
function M.format(level, message, fields)
  local keys = {}
  for k in pairs(fields or {}) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ia, ib = ORDERED[a] or #ORDER + 1, ORDERED[b] or #ORDER + 1
    if ia ~= ib then return ia < ib end
    return tostring(a) < tostring(b)
  end)
  local parts = { "anthropic", level, message }
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. render(fields[k]) end
  return table.concat(parts, " ")
end

--- M.stderr(level, message, fields): the default logger.
---@param level string
---@param message string
---@param fields? table
function M.stderr(level, message, fields)
  io.stderr:write(M.format(level, message, fields), "\n")
end

--- M.new(opts, env_level [, base]) -> the client's log { level, logger }, or nil when logging
--- is off. opts.log_level wins over ANTHROPIC_LOG (env_level); a logger given alone logs at
--- "info", or at the level of `base` (the log of the client a derived client comes from).
--- A value of ANTHROPIC_LOG that names no level is ignored with one warning line (as the
--- official SDKs do): an environment typo must not stop a program.
---@param opts table { log_level?, logger? }
---@param env_level? string
---@param base? table
---@return table|nil
function M.new(opts, env_level, base)
  if opts.logger ~= nil and type(opts.logger) ~= "function" then
    errors.usage("logger", "must be a function(level, message, fields)")
  end
  local level = M.parse_level(opts.log_level, "log_level")
  local logger = opts.logger or (base and base.logger) or M.stderr
  if level == nil and env_level ~= nil then
    if env_level == "off" then level = false
    elseif M.LEVELS[env_level] then level = M.LEVELS[env_level]
    else
      logger("warn", "ANTHROPIC_LOG ignored", { value = env_level:sub(1, 40),
        expected = "debug, info, warn, error or off" })
    end
  end
  if level == nil and base then level = base.level end
  if level == nil and opts.logger and env_level == nil then level = M.LEVELS.info end
  if not level then return nil end
  return { level = level, logger = logger }
end

--- M.emit(log, level, message, fields): calls the logger when `level` is enabled. An error in
--- the logger must not break the request it reports on: the line goes to stderr instead,
--- with the logger's error.
---@param log table
---@param level string
---@param message string
---@param fields table
function M.emit(log, level, message, fields)
  if M.LEVELS[level] < log.level then return end
  local ok, err = pcall(log.logger, level, message, fields)
  if not ok then
    fields.logger_error = tostring(err)
    M.stderr(level, message, fields)
  end
end

return M
