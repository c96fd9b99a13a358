-- anthropic.mock.schema: a deterministic value that satisfies a simple JSON
-- Schema, used as the input of a mock tool_use block.
--
-- Rules (documented in docs/mock.md): default, const, first enum value;
-- strings "mock-<property>" (padded to minLength); integers/numbers the
-- minimum or 1 / 1.5; booleans true; arrays max(minItems, 1) items; objects
-- every declared property (sorted by name); anyOf/oneOf/allOf take the first
-- branch; local $ref (#/$defs/..., #/definitions/...) is followed. Depth is
-- bounded so a recursive schema still terminates. Constraints that the SDKs' schema transform
-- moved into a description ("Count.\n\n{maximum: 5, minimum: 1}") are read back first, as a
-- model reading the description honours them.

local json = require "anthropic.mock.json"

local M = {}

local function resolve(root, s)
  local seen = 0
  while type(s) == "table" and type(s["$ref"]) == "string" and seen < 16 do
    if s["$ref"] == "#" then s = root; break end
    local path = s["$ref"]:match("^#/(.*)$")
    if not path then return {} end
    local node = root
    for part in path:gmatch("[^/]+") do
      part = part:gsub("~1", "/"):gsub("~0", "~")
      node = type(node) == "table" and node[part] or nil
    end
    s = node or {}
    seen = seen + 1
  end
  return s
end

-- The keywords in a description's trailing "{key: <JSON>, ...}", merged under s's own.
local function described(s)
  local d = type(s.description) == "string" and s.description:match("{([^\n]*)}$")
  if not d then return s end
  local out = {}
  for k, v in pairs(s) do out[k] = v end
  local rest = d
  while rest ~= "" do
    local key, after = rest:match("^([%w_$]+): (.*)$")
    if not key then return out end
    local value, tail, from = nil, nil, 1
    repeat -- the shortest prefix that is JSON and ends at ", " or at the end
      local stop = after:find(", ", from, true)
      local piece = stop and after:sub(1, stop - 1) or after
      local v = json.decode(piece)
      if v ~= nil then value, tail = v, stop and after:sub(stop + 2) or "" end
      if not stop and value == nil then return out end
      from = stop and stop + 1
    until value ~= nil
    if out[key] == nil then out[key] = value end
    rest = tail
  end
  return out
end

local gen

local function first_type(t)
  if type(t) == "string" then return t end
  if type(t) == "table" then
    for _, x in ipairs(t) do if x ~= "null" then return x end end
    return t[1]
  end
end

gen = function(root, s, name, depth)
  s = resolve(root, s)
  if type(s) ~= "table" then return "mock-" .. name end
  s = described(s)
  if s.default ~= nil then return s.default end
  if s.const ~= nil then return s.const end
  if type(s.enum) == "table" and s.enum[1] ~= nil then return s.enum[1] end
  for _, k in ipairs({ "anyOf", "oneOf", "allOf" }) do
    if type(s[k]) == "table" and s[k][1] ~= nil then
      return gen(root, s[k][1], name, depth)
    end
  end
  local t = first_type(s.type)
  if not t then
    if s.properties then t = "object" elseif s.items then t = "array" else t = "string" end
  end
  if t == "string" then
    local v = "mock-" .. name
    local min = tonumber(s.minLength) or 0
    if #v < min then v = v .. string.rep("x", min - #v) end
    local max = tonumber(s.maxLength)
    if max and #v > max then v = v:sub(1, max) end
    return v
  elseif t == "integer" then
    local v = tonumber(s.minimum) or (tonumber(s.exclusiveMinimum) and tonumber(s.exclusiveMinimum) + 1) or 1
    if tonumber(s.maximum) and v > tonumber(s.maximum) then v = tonumber(s.maximum) end
    return math.ceil(v)
  elseif t == "number" then
    local v = tonumber(s.minimum) or (tonumber(s.exclusiveMinimum) and tonumber(s.exclusiveMinimum) + 0.5) or 1.5
    if tonumber(s.maximum) and v > tonumber(s.maximum) then v = tonumber(s.maximum) end
    return v
  elseif t == "boolean" then
    return true
  elseif t == "null" then
    return json.null
  elseif t == "array" then
    local out = json.array()
    if depth > 8 then return out end
    local n = math.max(tonumber(s.minItems) or 1, 1)
    local max = tonumber(s.maxItems)
    if max and n > max then n = max end
    for i = 1, n do out[i] = gen(root, s.items, name, depth + 1) end
    return out
  else -- object
    local out = {}
    if depth > 8 or type(s.properties) ~= "table" then return out end
    local names = {}
    for k in pairs(s.properties) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do out[k] = gen(root, s.properties[k], k, depth + 1) end
    return out
  end
end

-- value(schema) -> a Lua value (tables marked for anthropic.mock.json)
function M.value(schema)
  return gen(schema, schema, "value", 0)
end

return M
