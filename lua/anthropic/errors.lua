-- anthropic.errors: the error class tree (README "Errors").
--
-- Every failure the library raises is a table whose metatable is one of these classes, so
-- callers branch on the class, never on message text:
--
--   local ok, err = pcall(client.messages.create, params)
--   if not ok and errors.PermissionDenied.is_class_of(err) then ... end
--   -- or errors.PermissionDenied:is_class_of(err), or err:is(errors.PermissionDenied)
--
-- The classes of failures the C core types (every API and transport failure) come from the
-- core's kind table (anthropic.core.kinds(): name, parent, status, error type, retryable), the
-- one place those facts are written. This module adds only the roots (AnthropicError,
-- APIError) and what C cannot know: UsageError, for bad arguments caught before any request,
-- and ParseError, for a structured answer that breaks its schema, and HookError, for a
-- request hook that failed.
-- tostring(err) is one line: class, status, type, message, request id. It never holds the API
-- key: the client scrubs its own credentials from any text it puts in an error.

local core = require "anthropic.core"

---@class anthropic.AnthropicError
---@field class_name string the class, e.g. "PermissionDenied"
---@field message? string what went wrong (never holds the API key or token)
---@field status? integer the HTTP status (APIStatusError and subclasses)
---@field type? string the API's error.type ("permission_error", "overloaded_error", ...)
---@field request_id? string the request-id of the reply: quote it to support
---@field headers? table<string, string> the reply's headers (lower-case names)
---@field body? any the decoded error body (or its text)
---@field attempts? integer how many attempts were made (retries + 1)
---@field transport? string ConnectionError/Timeout: what failed ("connect", "timeout_idle", ...)
---@field retryable? boolean whether the engine would retry this (429, 5xx, 529, connection)
---@field retry_after? number seconds the server asked to wait (retry-after headers)
---@field partial? table a stream that failed after content: the message so far
---@field param? string UsageError: the parameter or option at fault
---@field hint? string what to do about it (AuthenticationFailed from access checks)
---@field fallback? table fallback: the report of every attempt (anthropic.fallback)

---@class anthropic.ErrorClass
---@field class_name string
---@field parent? anthropic.ErrorClass
---@field default_status? integer
---@field is_class_of fun(value: any): boolean true when value is an error of this class or a subclass

---@class anthropic.errors
---@field AnthropicError anthropic.ErrorClass
---@field APIError anthropic.ErrorClass
---@field APIStatusError anthropic.ErrorClass
---@field BadRequest anthropic.ErrorClass
---@field AuthenticationFailed anthropic.ErrorClass
---@field BillingError anthropic.ErrorClass
---@field PermissionDenied anthropic.ErrorClass
---@field NotFound anthropic.ErrorClass
---@field Conflict anthropic.ErrorClass
---@field RequestTooLarge anthropic.ErrorClass
---@field UnprocessableEntity anthropic.ErrorClass
---@field RateLimited anthropic.ErrorClass
---@field InternalServerError anthropic.ErrorClass
---@field GatewayTimeout anthropic.ErrorClass
---@field Overloaded anthropic.ErrorClass
---@field StreamError anthropic.ErrorClass
---@field ConnectionError anthropic.ErrorClass
---@field Timeout anthropic.ErrorClass
---@field ResponseTooLarge anthropic.ErrorClass
---@field UsageError anthropic.ErrorClass
---@field classes anthropic.ErrorClass[] every class, parents first
local errors = {}

local function describe(err)
  local head = {}
  if err.status and err.status ~= 0 then head[#head + 1] = tostring(err.status) end
  if err.type then head[#head + 1] = tostring(err.type) end
  local line = err.class_name .. ":"
  if #head > 0 then line = line .. " " .. table.concat(head, " ") end
  if err.message and err.message ~= "" then
    line = line .. (#head > 0 and ": " or " ") .. tostring(err.message)
  end
  local extra = {}
  if err.request_id then extra[#extra + 1] = "request_id=" .. tostring(err.request_id) end
  if err.attempts and err.attempts > 1 then extra[#extra + 1] = "attempts=" .. err.attempts end
  if #extra > 0 then line = line .. " (" .. table.concat(extra, ", ") .. ")" end
  return (line:gsub("[\r\n]+", " "))
end

-- Instance methods, shared by every class.
local methods = {}

--- err:is(Class) -> true when err is an instance of Class or of one of its subclasses.
---@param class anthropic.ErrorClass
---@return boolean
function methods:is(class)
  local c = getmetatable(self)
  while c do
    if c == class then return true end
    c = c.parent
  end
  return false
end

local function is_error(value)
  local mt = type(value) == "table" and getmetatable(value)
  return type(mt) == "table" and rawget(mt, "class_name") ~= nil and rawget(mt, "__tostring") == describe
end

errors.classes = {}

local function define(row)
  local name = row.name
  local parent = row.parent and errors[row.parent] or nil
  local class = {
    class_name = name,
    parent = parent,
    default_status = row.status,
    error_type = row.type,           -- the API's error.type for this class, if it has one
    retryable = row.retryable,       -- the class default; an error's own .retryable decides
    __tostring = describe,
    -- Lua 5.4 and LuaJIT print non-string error objects through __tostring; 5.1's
    -- interpreter does too. __name helps debuggers.
    __name = "anthropic.errors." .. name,
  }
  class.__index = setmetatable({ class_name = name }, { __index = methods })
  class.is = methods.is
  --- Class.is_class_of(value) and Class:is_class_of(value) -> true when value is an error of
  --- this class or a subclass. (With the colon the class itself comes first: it is skipped.)
  ---@param a any the value (or, with a colon, the class)
  ---@param b? any the value, with a colon
  ---@return boolean
  function class.is_class_of(a, b)
    local value = a
    if a == class and b ~= nil then value = b end
    return is_error(value) and methods.is(value, class)
  end
  setmetatable(class, {
    __tostring = function() return "class anthropic.errors." .. name end,
    __call = function(cls, fields) return errors.new(cls, fields) end,
  })
  errors[name] = class
  errors.classes[#errors.classes + 1] = class
end

-- The roots, then the core's kinds parent first (the table lists a parent where it likes),
-- then what only Lua knows.
define { name = "AnthropicError" }
define { name = "APIError", parent = "AnthropicError" }
do
  local pending = core.kinds()
  while #pending > 0 do
    local rest = {}
    for _, row in ipairs(pending) do
      if errors[row.parent] then define(row) else rest[#rest + 1] = row end
    end
    if #rest == #pending then
      error("anthropic.errors: the core's kind table names an unknown parent: " .. rest[1].parent)
    end
    pending = rest
  end
end
define { name = "UsageError", parent = "AnthropicError" }
-- A structured answer (messages.parse, a json_schema stream) that is not JSON or breaks its
-- schema: the request succeeded, so it is no APIError.
define { name = "ParseError", parent = "AnthropicError" }
-- An on_request / on_response hook (anthropic.new{ on_request = ... }) raised something other
-- than an anthropic error: .hook names it, .cause holds what it raised.
define { name = "HookError", parent = "AnthropicError" }

--- errors.new(Class or class name, fields) -> error object (not raised).
---@param class anthropic.ErrorClass|string
---@param fields? table the error's fields (message, status, type, ...); becomes the object
---@return anthropic.AnthropicError
function errors.new(class, fields)
  if type(class) == "string" then class = errors[class] or errors.AnthropicError end
  local err = fields or {}
  err.class_name = class.class_name
  if err.status == nil and class.default_status then err.status = class.default_status end
  return setmetatable(err, class)
end

--- errors.is(value, Class) -> true when value is an anthropic error of Class (or a subclass).
---@param value any
---@param class anthropic.ErrorClass
---@return boolean
function errors.is(value, class)
  return class.is_class_of(value)
end

--- errors.usage(param, message) raises a UsageError naming the parameter, at the caller's level.
---@param param string|nil the parameter or option at fault
---@param message string
function errors.usage(param, message)
  local text = param and (param .. ": " .. message) or message
  error(errors.new(errors.UsageError, { message = text, param = param }), 0)
end

return errors
