-- anthropic.cli_config: the `anthropic-lua` configuration file, so a user picks their model
-- (and a few defaults) once instead of on every command line:
--   $XDG_CONFIG_HOME/anthropic-lua/config.lua   a Lua file returning a table, run with no
--                                               access to anything (an empty environment)
--   $XDG_CONFIG_HOME/anthropic-lua/config.json  the same as JSON
-- ($XDG_CONFIG_HOME defaults to ~/.config.) Command line flags override the environment
-- (ANTHROPIC_MODEL, ANTHROPIC_BASE_URL), which overrides the file. Credentials are never read
-- from it: a key in a file ends up in backups and dotfile repositories.

local json = require "anthropic.json"

local M = {}

---@class anthropic.cli.Config
---@field model? string the default model (ANTHROPIC_MODEL and --model override it)
---@field fallback? string|string[] models to fall back to ("" or {} for none)
---@field max_tokens? integer
---@field temperature? number
---@field system? string
---@field base_url? string
---@field timeout? number seconds
---@field max_retries? integer

-- Field -> check(value) returning an error text, or nil when the value is fine.
local function string_field(v) if type(v) ~= "string" then return "must be a string" end end
local function number_field(min, max, integer)
  return function(v)
    if type(v) ~= "number" or v ~= v or v < min or (max and v > max) or (integer and v ~= math.floor(v)) then
      return "must be " .. (integer and "an integer" or "a number") .. " >= " .. min
        .. (max and (" and <= " .. max) or "")
    end
  end
end
local FIELDS = {
  model = string_field, system = string_field, base_url = string_field,
  fallback = function(v)
    if type(v) == "string" then return nil end
    if type(v) ~= "table" then return "must be a list of models or a comma-separated string" end
    for _, m in ipairs(v) do if type(m) ~= "string" then return "must list models as strings" end end
  end,
  max_tokens = number_field(1, nil, true), temperature = number_field(0, 1),
  timeout = number_field(0.001), max_retries = number_field(0, 100, true),
}
local SECRETS = { api_key = true, auth_token = true, key = true, token = true }

---The configuration files looked for, in order.
---@param env fun(name: string): string?
---@return string[] paths (none when neither XDG_CONFIG_HOME nor HOME is set)
function M.paths(env)
  local dir = env("XDG_CONFIG_HOME") or (env("HOME") and env("HOME") .. "/.config")
  if not dir then return {} end
  return { dir .. "/anthropic-lua/config.lua", dir .. "/anthropic-lua/config.json" }
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

-- Runs a config.lua chunk with nothing in reach (text only: no bytecode).
local function run_lua(text, path)
  local env = {}
  local chunk, err
  local setfenv = rawget(_G, "setfenv")       -- Lua 5.1 and LuaJIT
  if setfenv then
    if text:byte(1) == 27 then return nil, "is precompiled: write it as text" end
    chunk, err = rawget(_G, "loadstring")(text, "@" .. path)
    if chunk then setfenv(chunk, env) end
  else
    chunk, err = load(text, "@" .. path, "t", env)
  end
  if not chunk then return nil, err end
  local ok, value = pcall(chunk)
  if not ok then return nil, tostring(value) end
  return value
end

---Reads the configuration file, if there is one.
---@param env fun(name: string): string?
---@return anthropic.cli.Config|nil config (nil: no file)
---@return string|nil path the file read
---@return string|nil problem what is wrong with it (the file's name first)
function M.load(env)
  local found = {}
  for _, path in ipairs(M.paths(env)) do
    local text = read(path)
    if text then found[#found + 1] = { path = path, text = text } end
  end
  if #found == 0 then return nil end
  if #found > 1 then
    return nil, nil, found[1].path .. " and " .. found[2].path .. " both exist: keep one"
  end
  local path, text = found[1].path, found[1].text
  local value, err
  if path:sub(-4) == ".lua" then value, err = run_lua(text, path)
  else
    value, err = json.decode(text)
    if value == nil then err = "is not valid JSON (" .. tostring(err) .. ")" end
  end
  if err then return nil, path, path .. ": " .. err end
  if type(value) ~= "table" then return nil, path, path .. ": must " .. (path:sub(-4) == ".lua"
    and "return a table" or "hold a JSON object") end
  for k, v in pairs(value) do
    if SECRETS[k] then
      return nil, path, path .. ": " .. tostring(k) .. ": credentials are read from ANTHROPIC_API_KEY "
        .. "(or ANTHROPIC_AUTH_TOKEN) only, never from a file"
    end
    local check = FIELDS[k]
    if not check then
      return nil, path, path .. ": unknown setting '" .. tostring(k) .. "' (known: base_url, fallback, "
        .. "max_retries, max_tokens, model, system, temperature, timeout)"
    end
    local problem = check(v)
    if problem then return nil, path, path .. ": " .. k .. " " .. problem end
  end
  if value.model == "" then return nil, path, path .. ": model must not be empty" end
  return value, path
end

return M
