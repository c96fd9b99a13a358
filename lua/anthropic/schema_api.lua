-- anthropic.schema_api: a JSON Schema turned into what the API accepts for structured outputs
-- (output_config.format) and strict tools. Exposed as anthropic.schema.for_api(S).
--
-- The rules are those of the official SDKs' transform (TypeScript src/lib/transform-json-schema.ts):
--   * $ref stands alone (its siblings are dropped, as the SDKs do: the API resolves the target);
--   * $defs / definitions: each definition is transformed;
--   * anyOf and oneOf become anyOf (each variant transformed), allOf stays allOf; without any of
--     them the schema must have a type (or be an enum or const);
--   * kept as they are: type, description, title, const, enum;
--   * objects: properties transformed, required kept, additionalProperties = false (whatever
--     was given: the API requires it in strict mode);
--   * strings: format kept when the API supports it (date-time, time, date, duration, email,
--     hostname, uri, ipv4, ipv6, uuid);
--   * arrays: items transformed, minItems kept when it is 0 or 1;
--   * every other keyword (minimum, maxLength, pattern, default, an unsupported format, a
--     minItems above 1, ...) is refused by the API, so it moves into the description as
--     `{key: <JSON>, ...}` (keys sorted; after the description and a blank line, if there was
--     one). The model still reads the constraint, and the checker (anthropic.schema.check
--     against the original schema) still enforces it.
-- The input is not changed. The result is checked with anthropic.schema.check_schema.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local schema = require "anthropic.schema"

local M = {}

M.STRING_FORMATS = {
  ["date-time"] = true, time = true, date = true, duration = true, email = true, hostname = true,
  uri = true, ipv4 = true, ipv6 = true, uuid = true,
}

local type, pairs, ipairs, sort, concat = type, pairs, ipairs, table.sort, table.concat

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- JSON text with object keys sorted, so a description reads the same on every Lua and run.
-- Scalars go through anthropic.json (cjson); only the nesting is composed here. cjson writes
-- "/" as "\/" (valid, but noise in a description the model reads): every "/" in its output
-- is so escaped, so taking the backslash off each is exact.
local function scalar(v, path) return (json.encode(v, path):gsub("\\/", "/")) end

local function canonical(v, path)
  if type(v) ~= "table" then return scalar(v, path) end
  local mt, n = getmetatable(v), 0
  for _ in pairs(v) do n = n + 1 end
  if mt ~= json.object_mt and (mt == json.array_mt or (n > 0 and n == #v)) then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = canonical(x, path) end
    return "[" .. concat(parts, ",") .. "]"
  end
  local parts = {}
  for _, k in ipairs(sorted_keys(v)) do
    parts[#parts + 1] = scalar(tostring(k)) .. ":" .. canonical(v[k], path)
  end
  return "{" .. concat(parts, ",") .. "}"
end

local transform

local function each(list, path)
  if type(list) ~= "table" or #list == 0 then
    errors.usage(path, "must be a non-empty list of schemas")
  end
  local out = json.array()
  for i, sub in ipairs(list) do out[i] = transform(sub, path .. "[" .. (i - 1) .. "]") end
  return out
end

local function take(rest, k)
  local v = rest[k]
  rest[k] = nil
  return v
end

transform = function(s, path)
  if type(s) ~= "table" then errors.usage(path, "must be a schema object") end
  local rest = {}
  for k, v in pairs(s) do rest[k] = v end
  local out = {}

  local ref = take(rest, "$ref")
  if ref ~= nil then
    out["$ref"] = ref
    return out
  end
  for _, k in ipairs { "$defs", "definitions" } do
    local defs = take(rest, k)
    if defs ~= nil then
      if type(defs) ~= "table" then errors.usage(path .. "." .. k, "must be an object of schemas") end
      local d = {}
      for _, name in ipairs(sorted_keys(defs)) do d[name] = transform(defs[name], path .. "." .. k .. "." .. name) end
      out[k] = d
    end
  end

  local t = take(rest, "type")
  local any_of, one_of, all_of = take(rest, "anyOf"), take(rest, "oneOf"), take(rest, "allOf")
  if any_of ~= nil then
    out.anyOf = each(any_of, path .. ".anyOf")
  elseif one_of ~= nil then
    out.anyOf = each(one_of, path .. ".oneOf")
  elseif all_of ~= nil then
    out.allOf = each(all_of, path .. ".allOf")
  else
    -- The SDKs insist on a type here; a schema of only enum or const is already exact, so it
    -- is taken as it is.
    if t == nil and rest.enum == nil and rest.const == nil then
      errors.usage(path, "needs a type (or anyOf, oneOf, allOf, enum, const)")
    end
    out.type = t
  end
  -- A schema with both a type and anyOf keeps the type out of the anyOf branch, as the SDKs:
  -- it goes to the description with the rest.
  if any_of ~= nil or one_of ~= nil or all_of ~= nil then rest.type = t end
  if one_of ~= nil and any_of ~= nil then rest.oneOf = one_of end
  if all_of ~= nil and (any_of ~= nil or one_of ~= nil) then rest.allOf = all_of end

  for _, k in ipairs { "description", "title", "const", "enum" } do out[k] = take(rest, k) end

  if out.type == "object" then
    local props = take(rest, "properties")
    local p = {}
    if type(props) == "table" then
      for _, name in ipairs(sorted_keys(props)) do
        p[name] = transform(props[name], path .. ".properties." .. name)
      end
    end
    out.properties = json.object(p)
    take(rest, "additionalProperties")
    out.additionalProperties = false
    out.required = take(rest, "required")
  elseif out.type == "string" then
    if M.STRING_FORMATS[rest.format] then out.format = take(rest, "format") end
  elseif out.type == "array" then
    local items = take(rest, "items")
    if items ~= nil then out.items = transform(items, path .. ".items") end
    if rest.minItems == 0 or rest.minItems == 1 then out.minItems = take(rest, "minItems") end
  end

  if next(rest) ~= nil then
    local parts = {}
    for _, k in ipairs(sorted_keys(rest)) do parts[#parts + 1] = k .. ": " .. canonical(rest[k], path .. "." .. k) end
    local moved = "{" .. concat(parts, ", ") .. "}"
    out.description = type(out.description) == "string" and out.description ~= ""
      and (out.description .. "\n\n" .. moved) or moved
  end
  return out
end

--- M.for_api(S) -> a new schema the API accepts (the rules at the top of this file). S is not
--- changed. Raises a UsageError naming the path ("schema.properties.x: needs a type ...") for
--- a schema the transform cannot take, or when the result is not a well-formed schema.
function M.for_api(s, where)
  where = where or "schema"
  local ok_in, in_errs = schema.check_schema(s)
  if not ok_in then errors.usage(where, "is not a valid JSON Schema: " .. schema.describe(in_errs)) end
  local out = transform(s, where)
  local ok, errs = schema.check_schema(out)
  if not ok then
    errors.usage(where, "transformed for the API, is not a valid JSON Schema: " .. schema.describe(errs))
  end
  return out
end

return M
