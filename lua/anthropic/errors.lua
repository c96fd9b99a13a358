-- anthropic.errors: the error class tree (ARCHITECTURE.md "The error model").
--
-- Every failure the library raises is a table whose metatable is one of these classes, so
-- callers branch on the class, never on message text:
--
--   local ok, err = pcall(client.messages.create, params)
--   if not ok and errors.PermissionDenied:is_class_of(err) then ... end
--   -- or: err:is(errors.PermissionDenied)
--
-- The C core decides the class name (anthropic.core.classify); this module only builds the
-- objects. tostring(err) is one line: class, status, type, message, request id. It never holds
-- the API key: the client scrubs its own credentials from any text it puts in an error.

local errors = {}

-- { name, parent, default status } -- read once; the tree is data, not a chain of ifs.
local TREE = {
  { "AnthropicError" },
  { "APIError", "AnthropicError" },
  { "APIStatusError", "APIError" },
  { "BadRequest", "APIStatusError", 400 },
  { "AuthenticationFailed", "APIStatusError", 401 },
  { "BillingError", "APIStatusError", 402 },
  { "PermissionDenied", "APIStatusError", 403 },
  { "NotFound", "APIStatusError", 404 },
  { "Conflict", "APIStatusError", 409 },
  { "RequestTooLarge", "APIStatusError", 413 },
  { "UnprocessableEntity", "APIStatusError", 422 },
  { "RateLimited", "APIStatusError", 429 },
  { "InternalServerError", "APIStatusError", 500 },
  { "GatewayTimeout", "APIStatusError", 504 },
  { "Overloaded", "APIStatusError", 529 },
  { "StreamError", "APIError" },
  { "ConnectionError", "AnthropicError" },
  { "Timeout", "ConnectionError" },
  { "ResponseTooLarge", "ConnectionError" },
  { "UsageError", "AnthropicError" },
  { "ParseError", "AnthropicError" },
}

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
function methods:is(class)
  local c = getmetatable(self)
  while c do
    if c == class then return true end
    c = c.parent
  end
  return false
end

errors.classes = {}

for _, row in ipairs(TREE) do
  local name, parent_name, status = row[1], row[2], row[3]
  local parent = parent_name and errors[parent_name] or nil
  local class = {
    class_name = name,
    parent = parent,
    default_status = status,
    __tostring = describe,
    -- Lua 5.4 and LuaJIT print non-string error objects through __tostring; 5.1's
    -- interpreter does too. __name helps debuggers.
    __name = "anthropic.errors." .. name,
  }
  class.__index = setmetatable({ class_name = name }, { __index = methods })
  class.is = methods.is
  --- Class:is_class_of(value) -> true when value is an error of this class or a subclass.
  function class.is_class_of(value)
    return type(value) == "table" and getmetatable(value) ~= nil
      and type(getmetatable(value)) == "table" and getmetatable(value).class_name ~= nil
      and methods.is(value, class)
  end
  setmetatable(class, {
    __tostring = function() return "class anthropic.errors." .. name end,
    __call = function(cls, fields) return errors.new(cls, fields) end,
  })
  errors[name] = class
  errors.classes[#errors.classes + 1] = class
end

--- errors.new(Class or class name, fields) -> error object (not raised).
function errors.new(class, fields)
  if type(class) == "string" then class = errors[class] or errors.AnthropicError end
  local err = fields or {}
  err.class_name = class.class_name
  if err.status == nil and class.default_status then err.status = class.default_status end
  return setmetatable(err, class)
end

--- errors.is(value, Class) -> true when value is an anthropic error of Class (or a subclass).
function errors.is(value, class)
  return class.is_class_of(value)
end

--- errors.usage(param, message) raises a UsageError naming the parameter, at the caller's level.
function errors.usage(param, message)
  local text = param and (param .. ": " .. message) or message
  error(errors.new(errors.UsageError, { message = text, param = param }), 0)
end

return errors
