-- anthropic.tools: Lua functions as tools. Definitions, ToolError, and the tool_result blocks
-- the runner (anthropic.tool_runner) sends back.
--
--   local weather = anthropic.tool {
--     name = "get_weather", description = "Current weather for a city",
--     input_schema = { type = "object", properties = { city = { type = "string" } }, required = { "city" } },
--     run = function(input, ctx) return "sunny in " .. input.city end,
--   }
--
-- A tool is its API definition as a plain table (name, description, input_schema, and any other
-- field the API takes, such as cache_control or strict): json.encode(tool) is exactly what is
-- sent. `run` and every other function-valued field are Lua-only: they live outside the table
-- (read through its metatable), so no encoder sees them and runner.params can be sent again
-- as it is.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local schema = require "anthropic.schema"
local validate = require "anthropic.validate"

local tools = {}

local usage = errors.usage

-- tool -> its Lua-only fields ({ run = fn, ... }). Weak keys: a tool nobody holds goes away.
local hidden = setmetatable({}, { __mode = "k" })

local Tool = {
  __name = "anthropic.Tool",
  __index = function(t, k)
    local h = hidden[t]
    return h and h[k]
  end,
  __tostring = function(t) return "anthropic.Tool(" .. tostring(rawget(t, "name")) .. ")" end,
}
tools.Tool = Tool
json.send_raw(Tool)   -- what a tool holds is its definition; run stays behind __index

--- tools.NAME_MAX: the API's limit on a custom tool's name (pattern ^[a-zA-Z0-9_-]{1,128}$).
tools.NAME_MAX = 128

local function check_name(name, where)
  if type(name) ~= "string" or #name == 0 or #name > tools.NAME_MAX or name:find("[^%w_%-]")
    or name:find("[\128-\255]") then
    usage(where .. ".name", "must be 1 to " .. tools.NAME_MAX .. " characters of A-Z a-z 0-9 _ -, got "
      .. (type(name) == "string" and string.format("%q", name) or type(name)))
  end
end

--- tools.define(def [, where]) -> tool (anthropic.tool): checks the definition (name pattern,
--- input_schema a well-formed object schema, run a function) and returns a new tool; def is
--- not changed. With strict = true the tool is sent with anthropic.schema.for_api(input_schema)
--- (what the API takes in strict mode), and inputs are still checked against def's own schema,
--- which keeps the constraints the transform moved into descriptions.
---@param def table { name, description?, input_schema, run = fun(input, ctx), strict? }
---@param where? string the name of def in error messages
---@return table tool
function tools.define(def, where)
  where = where or "tool"
  if type(def) ~= "table" then usage(where, "must be a table") end
  check_name(def.name, where)
  if def.description ~= nil and type(def.description) ~= "string" then
    usage(where .. ".description", "must be a string")
  end
  local s = def.input_schema
  if type(s) ~= "table" or s.type ~= "object" then
    usage(where .. ".input_schema", 'must be an object schema: { type = "object", properties = { ... } }')
  end
  local ok_schema, serrs = schema.check_schema(s)
  if not ok_schema then
    usage(where .. ".input_schema", "is not a valid JSON Schema: " .. schema.describe(serrs))
  end
  if type(def.run) ~= "function" then usage(where .. ".run", "must be a function (input, ctx) -> result") end
  if def.strict ~= nil and type(def.strict) ~= "boolean" then usage(where .. ".strict", "must be a boolean") end
  local tool, lua_only = {}, {}
  for k, v in pairs(def) do
    if type(v) == "function" then lua_only[k] = v else tool[k] = v end
  end
  if def.strict then
    tool.input_schema = schema.for_api(s, where .. ".input_schema")
    lua_only.checked_schema = s
  end
  hidden[tool] = lua_only
  return setmetatable(tool, Tool)
end

--- tools.input_schema_of(tool) -> the schema a tool's input is checked against: the one its
--- definition gave (for a strict tool, not the transformed one that is sent).
---@param t table a tool
---@return table|nil schema
function tools.input_schema_of(t)
  local h = hidden[t]
  return h and h.checked_schema or rawget(t, "input_schema")
end

--- tools.run_of(tool) -> the tool's run function, or nil (a server tool, or one you handle).
---@param t table
---@return function|nil
function tools.run_of(t)
  local h = hidden[t]
  if h then return h.run end
  local run = type(t) == "table" and rawget(t, "run") or nil
  return type(run) == "function" and run or nil
end

--- tools.prepare(list) -> wire, by_name. wire: the list to send (tools as they are; plain tables
--- with `run` turned into tools; tables without `run` passed through), by_name: name -> tool.
--- Duplicate names are a UsageError (the API refuses them, and a runner could not tell which
--- one to run).
---@param list table[]
---@return table[] wire
---@return table<string, table> by_name
function tools.prepare(list)
  if list == nil then return nil, {} end
  if type(list) ~= "table" then usage("tools", "must be a list of tools") end
  validate.list(list, "tools")
  local wire, by_name = json.array(), {}
  for i, t in ipairs(list) do
    local where = "tools[" .. i .. "]"
    if type(t) ~= "table" then usage(where, "must be a table") end
    if hidden[t] == nil and rawget(t, "run") ~= nil then t = tools.define(t, where) end
    local name = rawget(t, "name")
    if type(name) == "string" then
      if by_name[name] then usage("tools", "duplicate tool name " .. string.format("%q", name)) end
      by_name[name] = t
    end
    wire[i] = t
  end
  return wire, by_name
end

-- ---------------------------------------------------------------------------------------
-- ToolError and results

local ToolError = { __name = "anthropic.ToolError" }
ToolError.__index = ToolError
ToolError.__tostring = function(e)
  if type(e.content) == "string" then return "ToolError: " .. e.content end
  return "ToolError"
end
setmetatable(ToolError, {
  --- anthropic.ToolError{ content = ... } (or ToolError("text")): raise it from run to send
  --- that content as the error result (a string, or a list of content blocks).
  __call = function(_, fields)
    if type(fields) == "string" then fields = { content = fields } end
    if type(fields) ~= "table" or fields.content == nil then
      usage("ToolError", "needs content: ToolError{ content = \"text\" | { blocks } }")
    end
    return setmetatable({ content = fields.content }, ToolError)
  end,
})
tools.ToolError = ToolError

---@param v any
---@return boolean
function tools.is_tool_error(v)
  return type(v) == "table" and getmetatable(v) == ToolError
end

local BLOCK_TYPES = { text = true, image = true, document = true, search_result = true }

-- A list of content blocks (text, image, document, search_result) is sent as it is.
local function is_blocks(v)
  if getmetatable(v) == json.array_mt and next(v) == nil then return true end
  if #v == 0 then return false end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n ~= #v then return false end
  for _, b in ipairs(v) do
    if type(b) ~= "table" or not BLOCK_TYPES[b.type] then return false end
  end
  return true
end

--- tools.content(value) -> what a tool_result's content is for run's return value: a string
--- as it is, a list of content blocks as it is, nil as nothing, anything else as its JSON text.
---@param v any
---@return string|table[]|nil
function tools.content(v)
  if v == nil or type(v) == "string" then return v end
  if type(v) == "table" and is_blocks(v) then return v end
  local ok, text = pcall(json.encode, v)
  if ok then return text end
  return tostring(v)
end

--- tools.result(tool_use_id, content [, is_error]) -> a tool_result block.
---@param id string
---@param content any
---@param is_error? boolean
---@return table block
function tools.result(id, content, is_error)
  local block = { type = "tool_result", tool_use_id = id }
  if content ~= nil then block.content = content end
  if is_error then block.is_error = true end
  return block
end

--- tools.error_text(err) -> the text of what run raised (a string as it is; an error object
--- through tostring).
---@param err any
---@return string
function tools.error_text(err)
  if type(err) == "string" then return err end
  local ok, text = pcall(tostring, err)
  return ok and text or "error"
end

return tools
