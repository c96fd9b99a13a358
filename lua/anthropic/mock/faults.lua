-- anthropic.mock.faults: scripted misbehaviour.
--
-- A fault is a JSON object, from the x-mock-fault request header or from the
-- config file's "faults" list. parse() validates it (unknown fields are an
-- error, so a typo never silently does nothing); pick() decides what one
-- request gets. Sequence counters are keyed by the exact header text (or the
-- config entry) and live until DELETE /_mock/requests resets them.
-- The effective fault for one request is a flat table: the top-level fields,
-- overlaid with this request's sequence element (if any); status < 400 or no
-- status means "the normal reply" (with the other fields still applied).

local json = require "anthropic.mock.json"
local turns = require "anthropic.mock.turns"

local M = {}

-- field -> accepted Lua type(s)
local FIELDS = {
  sequence = "list", status = "number", headers = "object", body = "string",
  error_type = "string", message = "string",
  delay_ms = "number", event_delay_ms = "number", deltas = "number",
  error_after = "number", close_after = "number", close_mode = "string",
  no_stop = "boolean", pings_only = "boolean", ping_interval_ms = "number",
  not_json = "boolean", replay = "string", chunk = "chunk", seed = "number",
  write_delay_ms = "number", content_type = "string", text = "string", stop_reason = "string",
  batch_pending_polls = "number", batch_end_ms = "number", turns = "turns",
  break_schema = "boolean",
}
-- extra fields allowed in config entries: which requests the entry applies to
local MATCH = { path = "string", method = "string", model = "string" }
M.FIELDS = FIELDS

local STATUS_DEFAULTS = {
  [400] = { "invalid_request_error", "Invalid request" },
  [401] = { "authentication_error", "invalid x-api-key" },
  [402] = { "billing_error", "Billing error" },
  [403] = { "permission_error", "Permission denied" },
  [404] = { "not_found_error", "Not found" },
  [408] = { "timeout_error", "Request timeout" },
  [409] = { "invalid_request_error", "Conflict" },
  [413] = { "request_too_large", "Request exceeds the maximum size" },
  [422] = { "invalid_request_error", "Unprocessable entity" },
  [429] = { "rate_limit_error", "Rate limited" },
  [500] = { "api_error", "Internal server error" },
  [502] = { "api_error", "Bad gateway" },
  [503] = { "api_error", "Service unavailable" },
  [504] = { "timeout_error", "Request timeout" },
  [529] = { "overloaded_error", "Overloaded" },
}
M.STATUS_DEFAULTS = STATUS_DEFAULTS

local TYPE_MESSAGES = {
  invalid_request_error = "Invalid request", authentication_error = "Authentication error",
  billing_error = "Billing error", permission_error = "Permission denied", not_found_error = "Not found",
  request_too_large = "Request exceeds the maximum size", rate_limit_error = "Rate limited",
  api_error = "Internal server error", timeout_error = "Request timeout", overloaded_error = "Overloaded",
}

-- message_for_type(error_type) -> the default message for that error type
function M.message_for_type(t)
  return TYPE_MESSAGES[t] or "Error"
end

function M.status_defaults(status)
  local d = STATUS_DEFAULTS[status]
  if d then return d[1], d[2] end
  if status >= 500 then return "api_error", "Internal server error" end
  return "invalid_request_error", "Invalid request"
end

local function is_int(v) return type(v) == "number" and v == math.floor(v) end

local function check_field(name, v, kind)
  local ok
  if kind == "list" then ok = json.is_list(v)
  elseif kind == "object" then ok = json.is_object(v)
  elseif kind == "chunk" then ok = (is_int(v) and v >= 1) or v == "random"
  elseif kind == "turns" then
    local err = turns.check(v)
    if err then return nil, err end
    return true
  else ok = type(v) == kind end
  if not ok then
    local want = ({ list = "a list", object = "an object", chunk = "a positive integer or \"random\"",
      number = "a number", string = "a string", boolean = "true or false" })[kind]
    return nil, name .. ": expected " .. want
  end
  if kind == "number" then
    if v < 0 then return nil, name .. ": must not be negative" end
    if name ~= "delay_ms" and name ~= "event_delay_ms" and name ~= "ping_interval_ms"
      and name ~= "write_delay_ms" and name ~= "batch_end_ms" and not is_int(v) then
      return nil, name .. ": expected an integer"
    end
    if name == "status" and (v < 100 or v > 599) then return nil, "status: expected an HTTP status (100-599)" end
  end
  if name == "content_type" and v:find("[%c]") then return nil, "content_type: not a valid header value" end
  if name == "close_mode" and v ~= "fin" and v ~= "reset" then
    return nil, "close_mode: expected \"fin\" or \"reset\""
  end
  if name == "headers" then
    for hk, hv in pairs(v) do
      if type(hv) ~= "string" and type(hv) ~= "number" then
        return nil, "headers." .. tostring(hk) .. ": expected a string"
      end
      if tostring(hk):find("[%c:]") or tostring(hv):find("[\r\n]") then
        return nil, "headers." .. tostring(hk) .. ": not a valid header"
      end
    end
  end
  return true
end

local function check_object(t, allow_match, in_sequence)
  for k, v in pairs(t) do
    local kind = FIELDS[k] or (allow_match and MATCH[k])
    if not kind then return nil, "unknown field '" .. tostring(k) .. "'" end
    if in_sequence and (k == "sequence" or MATCH[k]) then
      return nil, "sequence elements cannot contain '" .. k .. "'"
    end
    local ok, err = check_field(k, v, kind)
    if not ok then return nil, err end
  end
  return true
end

-- cjson gives floats on Lua 5.3+: make counts and statuses integers, and
-- header values strings ("2", not "2.0").
local function normalize(t)
  for k, v in pairs(t) do
    if type(v) == "number" and v == math.floor(v) and FIELDS[k] == "number" then
      t[k] = math.floor(v)
    end
  end
  if type(t.chunk) == "number" then t.chunk = math.floor(t.chunk) end
  if type(t.headers) == "table" then
    for hk, hv in pairs(t.headers) do
      if type(hv) == "number" then t.headers[hk] = json.number(hv) end
    end
  end
  return t
end

-- parse(value, allow_match) -> fault | nil, message
-- value: a decoded JSON object (config) or the header text.
function M.parse(value, allow_match)
  local t = value
  if type(value) == "string" then
    local err
    t, err = json.decode(value)
    if t == nil then return nil, "not valid JSON: " .. tostring(err) end
  end
  if not json.is_object(t) then return nil, "expected a JSON object" end
  local ok, err = check_object(t, allow_match, false)
  if not ok then return nil, err end
  if t.sequence and t.status then return nil, "use either \"sequence\" or \"status\", not both" end
  normalize(t)
  local fault = { base = {}, sequence = nil, match = nil }
  for k, v in pairs(t) do
    if MATCH[k] and allow_match then
      fault.match = fault.match or {}
      fault.match[k] = v
    elseif k ~= "sequence" then
      fault.base[k] = v
    end
  end
  local seq = t.sequence
  if not seq and t.status then seq = { t.status } end
  if seq then
    fault.sequence = {}
    for i, el in ipairs(seq) do
      local where = "sequence." .. (i - 1)
      if type(el) == "number" then
        local eok, eerr = check_field("status", el, "number")
        if not eok then return nil, where .. "." .. eerr end
        el = { status = math.floor(el) }
      elseif json.is_object(el) then
        local eok, eerr = check_object(el, false, true)
        if not eok then return nil, where .. ": " .. eerr end
        normalize(el)
      else
        return nil, where .. ": expected a status number or an object"
      end
      fault.sequence[i] = el
    end
  end
  -- with a sequence, top-level status-ish fields are element defaults
  if fault.sequence then fault.base.status = nil end
  return fault
end

-- state: { counts = {}, cache = {} }
function M.new_state()
  return { counts = {}, cache = {} }
end

function M.reset(state)
  state.counts = {}
end

local function overlay(base, el)
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  if el then for k, v in pairs(el) do out[k] = v end end
  if base.headers and el and el.headers then
    local h = {}
    for k, v in pairs(base.headers) do h[k] = v end
    for k, v in pairs(el.headers) do h[k] = v end
    out.headers = h
  end
  return out
end

-- Fields that describe the error reply itself: with a sequence they are
-- defaults for its elements and stop applying once the sequence is used up.
local ELEMENT_FIELDS = { status = true, headers = true, body = true, error_type = true,
  message = true, not_json = true }

local function next_for(state, key, fault)
  local n = (state.counts[key] or 0) + 1
  state.counts[key] = n
  local out
  if fault.sequence then
    local el = fault.sequence[n]
    if el then
      out = overlay(fault.base, el)
    else
      out = {}
      for k, v in pairs(fault.base) do
        if not ELEMENT_FIELDS[k] then out[k] = v end
      end
    end
  else
    out = overlay(fault.base, nil)
  end
  out.n = n
  return out
end

local function matches(m, req, route)
  if not m then return true end
  if m.method and m.method:upper() ~= req.method then return false end
  if m.path then
    local p = req.path
    if route ~= m.path and p ~= m.path and p:sub(-#m.path) ~= m.path then return false end
  end
  if m.model then
    local body = req.body or ""
    local ok, t = pcall(require("cjson").decode, body)
    if not ok or type(t) ~= "table" or t.model ~= m.model then return false end
  end
  return true
end

-- pick(state, header_value, config_faults, req, route) -> effective | nil, error
function M.pick(state, header, config_faults, req, route)
  if header then
    local fault = state.cache[header]
    if not fault then
      local err
      fault, err = M.parse(header, false)
      if not fault then return nil, err end
      state.cache[header] = fault
    end
    return next_for(state, "h:" .. header, fault)
  end
  for i, fault in ipairs(config_faults or {}) do
    if matches(fault.match, req, route) then
      return next_for(state, "c:" .. i, fault)
    end
  end
  return nil
end

-- is_error(effective) -> true when this request gets an error status.
function M.is_error(f)
  return f ~= nil and f.status ~= nil and f.status >= 400
end

return M
