-- anthropic.schema: checks a decoded JSON value against a JSON Schema.
--
--   local schema = require "anthropic.schema"
--   local ok, errs = schema.check({ city = 3 }, { type = "object",
--     properties = { city = { type = "string" } }, required = { "city" } })
--   -- ok == false, errs == { { path = "$.city", reason = "expected string, got integer" } }
--   print(schema.describe(errs))    --> $.city: expected string, got integer
--
-- The keywords are those the API accepts in tool input schemas and structured outputs: type
-- (integer is a number without a fraction; a list of types), properties, required,
-- additionalProperties, patternProperties is NOT checked, items, prefixItems, enum, const,
-- anyOf, allOf, oneOf, not, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
-- minLength, maxLength (in UTF-8 characters), minItems, maxItems, uniqueItems, minProperties,
-- maxProperties, and local $ref ("#", "#/$defs/name", "#/definitions/name", any JSON pointer
-- into the root schema). Annotations (title, description, default, examples, format) and
-- `pattern` (an ECMA regex, which Lua patterns cannot honour) are accepted and not checked.
--
-- Values are what anthropic.json.decode returns: json.null is null; an empty table is both an
-- empty object and an empty array (JSON's {} and [] decode alike) unless it carries
-- json.array_mt or json.object_mt. Every error is { path, reason }; the path is JSONPath-like:
-- "$" the root, "$.city", "$.stops[2].name" (0-based indices, as the JSON text counts).

local json = require "anthropic.json"

local schema = {}

-- Deeper than this a $ref chain is taken to be a cycle that consumes no input.
local MAX_DEPTH = 64

local null, array_mt, object_mt = json.null, json.array_mt, json.object_mt
local type, pairs, ipairs, tostring, floor, huge = type, pairs, ipairs, tostring, math.floor, math.huge

local function is_array(v)
  local mt = getmetatable(v)
  if mt == array_mt then return true end
  if mt == object_mt then return false end
  local n = 0
  for k in pairs(v) do
    if type(k) ~= "number" or k < 1 or k ~= floor(k) then return false end
    n = n + 1
  end
  return n == #v
end

local function is_object(v)
  local mt = getmetatable(v)
  if mt == object_mt then return true end
  if mt == array_mt then return false end
  if next(v) == nil then return true end
  for k in pairs(v) do
    if type(k) ~= "string" then return false end
  end
  return true
end

local function is_integer(v)
  return v == v and v ~= huge and v ~= -huge and floor(v) == v
end

--- schema.type_of(value) -> the JSON type name: "null", "boolean", "integer", "number",
--- "string", "array", "object" ("object" for an unmarked empty table), or the Lua type for
--- what JSON cannot hold.
function schema.type_of(v)
  local t = type(v)
  if v == null then return "null" end
  if t == "number" then return is_integer(v) and "integer" or "number" end
  if t == "table" then
    if is_array(v) and (next(v) ~= nil or getmetatable(v) == array_mt) then return "array" end
    if is_object(v) then return "object" end
    return "table"
  end
  return t
end

local function has_type(v, name)
  local t = type(v)
  if name == "null" then return v == null end
  if name == "boolean" then return t == "boolean" end
  if name == "string" then return t == "string" end
  if name == "number" then return t == "number" and v == v and v ~= huge and v ~= -huge end
  if name == "integer" then return t == "number" and is_integer(v) end
  if name == "array" then return t == "table" and v ~= null and is_array(v) end
  if name == "object" then return t == "table" and v ~= null and is_object(v) end
  return false
end

--- schema.equal(a, b) -> true when a and b are the same JSON value (deep; 1 equals 1.0).
function schema.equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" or a == null or b == null then return false end
  for k, v in pairs(a) do
    if not schema.equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local function utf8_len(s)
  local n = 0
  for i = 1, #s do
    local c = s:byte(i)
    if c < 0x80 or c >= 0xC0 then n = n + 1 end
  end
  return n
end

local function show(v)
  if type(v) == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  if v == null then return "null" end
  if type(v) == "table" then
    local ok, text = pcall(json.encode, v)
    return ok and text or tostring(v)
  end
  return tostring(v)
end

local function key_path(path, k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return path .. "." .. k end
  if type(k) == "string" then return path .. "[" .. show(k) .. "]" end
  return path .. "[" .. tostring(k - 1) .. "]"
end

-- Resolves a local $ref against the root schema: "#", "#/a/b" (JSON pointer, ~0 ~1 escapes,
-- array indices 0-based).
local function resolve(root, ref)
  if type(ref) ~= "string" or ref:sub(1, 1) ~= "#" then
    return nil, "$ref " .. show(ref) .. " is not a local reference (only \"#...\" is supported)"
  end
  local node = root
  local pointer = ref:sub(2)
  if pointer == "" then return node end
  if pointer:sub(1, 1) ~= "/" then return nil, "$ref " .. show(ref) .. " is not a JSON pointer" end
  for part in (pointer:sub(2) .. "/"):gmatch("([^/]*)/") do
    part = part:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
    part = part:gsub("~1", "/"):gsub("~0", "~")
    if type(node) ~= "table" then node = nil break end
    local idx = tonumber(part)
    if is_array(node) and idx then node = node[idx + 1] else node = node[part] end
    if node == nil then break end
  end
  if node == nil then return nil, "$ref " .. show(ref) .. " points at nothing" end
  return node
end

local check   -- forward

local function fail(errs, path, reason)
  errs[#errs + 1] = { path = path, reason = reason }
end

local function check_number(v, s, path, errs)
  if type(s.minimum) == "number" and v < s.minimum then
    fail(errs, path, "must be >= " .. show(s.minimum) .. ", got " .. show(v))
  end
  if type(s.maximum) == "number" and v > s.maximum then
    fail(errs, path, "must be <= " .. show(s.maximum) .. ", got " .. show(v))
  end
  if type(s.exclusiveMinimum) == "number" and v <= s.exclusiveMinimum then
    fail(errs, path, "must be > " .. show(s.exclusiveMinimum) .. ", got " .. show(v))
  end
  if type(s.exclusiveMaximum) == "number" and v >= s.exclusiveMaximum then
    fail(errs, path, "must be < " .. show(s.exclusiveMaximum) .. ", got " .. show(v))
  end
  local m = s.multipleOf
  if type(m) == "number" and m > 0 then
    local q = v / m
    if math.abs(q - floor(q + 0.5)) > 1e-9 then
      fail(errs, path, "must be a multiple of " .. show(m) .. ", got " .. show(v))
    end
  end
end

local function check_string(v, s, path, errs)
  local n
  if type(s.minLength) == "number" then
    n = utf8_len(v)
    if n < s.minLength then
      fail(errs, path, "must be at least " .. show(s.minLength) .. " characters long, got " .. n)
    end
  end
  if type(s.maxLength) == "number" then
    n = n or utf8_len(v)
    if n > s.maxLength then
      fail(errs, path, "must be at most " .. show(s.maxLength) .. " characters long, got " .. n)
    end
  end
end

local function check_array(v, s, path, errs, ctx, depth)
  local n = #v
  if type(s.minItems) == "number" and n < s.minItems then
    fail(errs, path, "must have at least " .. show(s.minItems) .. " items, got " .. n)
  end
  if type(s.maxItems) == "number" and n > s.maxItems then
    fail(errs, path, "must have at most " .. show(s.maxItems) .. " items, got " .. n)
  end
  local prefix = type(s.prefixItems) == "table" and s.prefixItems or {}
  for i = 1, n do
    local sub = prefix[i]
    if sub == nil then sub = s.items end
    if sub ~= nil then check(v[i], sub, key_path(path, i), errs, ctx, depth + 1) end
  end
  if s.uniqueItems == true then
    for i = 2, n do
      for j = 1, i - 1 do
        if schema.equal(v[i], v[j]) then
          fail(errs, path, "items " .. (j - 1) .. " and " .. (i - 1) .. " are equal (uniqueItems)")
        end
      end
    end
  end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

local function check_object(v, s, path, errs, ctx, depth)
  local props = type(s.properties) == "table" and s.properties or {}
  if type(s.required) == "table" then
    for _, name in ipairs(s.required) do
      if v[name] == nil then fail(errs, path, "missing required property " .. show(name)) end
    end
  end
  local count = 0
  for _, k in ipairs(sorted_keys(v)) do
    count = count + 1
    local sub = props[k]
    if sub ~= nil then
      check(v[k], sub, key_path(path, k), errs, ctx, depth + 1)
    elseif s.additionalProperties == false then
      fail(errs, path, "unexpected property " .. show(k))
    elseif type(s.additionalProperties) == "table" then
      check(v[k], s.additionalProperties, key_path(path, k), errs, ctx, depth + 1)
    end
  end
  if type(s.minProperties) == "number" and count < s.minProperties then
    fail(errs, path, "must have at least " .. show(s.minProperties) .. " properties, got " .. count)
  end
  if type(s.maxProperties) == "number" and count > s.maxProperties then
    fail(errs, path, "must have at most " .. show(s.maxProperties) .. " properties, got " .. count)
  end
end

-- Number of the branches of `list` that v matches (and the errors of the first that fails).
local function matching(v, list, path, ctx, depth)
  local n, first_errs = 0, nil
  for _, sub in ipairs(list) do
    local sub_errs = {}
    check(v, sub, path, sub_errs, ctx, depth + 1)
    if #sub_errs == 0 then n = n + 1 elseif not first_errs then first_errs = sub_errs end
  end
  return n, first_errs
end

local function type_names(t)
  if type(t) == "table" then return table.concat(t, " or ") end
  return tostring(t)
end

function check(v, s, path, errs, ctx, depth)
  if depth > MAX_DEPTH then return fail(errs, path, "schema nests deeper than " .. MAX_DEPTH .. " levels") end
  if s == true or s == nil then return end
  if s == false then return fail(errs, path, "no value is allowed here") end
  if type(s) ~= "table" then return fail(errs, path, "the schema here is not an object") end
  if s["$ref"] ~= nil then
    local target, rerr = resolve(ctx.root, s["$ref"])
    if not target then return fail(errs, path, rerr) end
    check(v, target, path, errs, ctx, depth + 1)
  end

  local t = s.type
  if t ~= nil then
    local ok = false
    if type(t) == "table" then
      for _, name in ipairs(t) do if has_type(v, name) then ok = true break end end
    else
      ok = has_type(v, t)
    end
    if not ok then
      -- Nothing else can be said usefully about a value of the wrong type.
      return fail(errs, path, "expected " .. type_names(t) .. ", got " .. schema.type_of(v))
    end
  end
  if s.const ~= nil and not schema.equal(v, s.const) then
    fail(errs, path, "must be " .. show(s.const) .. ", got " .. show(v))
  end
  if type(s.enum) == "table" then
    local found = false
    for _, e in ipairs(s.enum) do if schema.equal(v, e) then found = true break end end
    if not found then
      local shown = {}
      for i, e in ipairs(s.enum) do shown[i] = show(e) end
      fail(errs, path, "must be one of " .. table.concat(shown, ", ") .. ", got " .. show(v))
    end
  end

  local tv = type(v)
  if tv == "number" then check_number(v, s, path, errs)
  elseif tv == "string" then check_string(v, s, path, errs)
  elseif tv == "table" and v ~= null then
    if is_array(v) and (next(v) ~= nil or not is_object(v) or s.type == "array") then
      check_array(v, s, path, errs, ctx, depth)
    end
    if is_object(v) and s.type ~= "array" then check_object(v, s, path, errs, ctx, depth) end
  end

  if type(s.allOf) == "table" then
    for _, sub in ipairs(s.allOf) do check(v, sub, path, errs, ctx, depth + 1) end
  end
  if type(s.anyOf) == "table" and #s.anyOf > 0 then
    local n, first = matching(v, s.anyOf, path, ctx, depth)
    if n == 0 then
      fail(errs, path, "matches none of the anyOf schemas (first: " .. schema.describe(first) .. ")")
    end
  end
  if type(s.oneOf) == "table" and #s.oneOf > 0 then
    local n, first = matching(v, s.oneOf, path, ctx, depth)
    if n == 0 then
      fail(errs, path, "matches none of the oneOf schemas (first: " .. schema.describe(first) .. ")")
    elseif n > 1 then
      fail(errs, path, "matches " .. n .. " of the oneOf schemas, expected exactly one")
    end
  end
  if s["not"] ~= nil then
    local sub_errs = {}
    check(v, s["not"], path, sub_errs, ctx, depth + 1)
    if #sub_errs == 0 then fail(errs, path, "must not match the schema under \"not\"") end
  end
end

--- schema.check(value, S) -> true, or false and the list of { path, reason } (in a stable
--- order: the value's keys sorted). S is a schema table or a boolean.
function schema.check(value, s)
  local errs = {}
  check(value, s, "$", errs, { root = s }, 0)
  if #errs == 0 then return true end
  return false, errs
end

--- schema.describe(errs) -> one line: "path: reason; path: reason".
function schema.describe(errs)
  local parts = {}
  for i, e in ipairs(errs or {}) do parts[i] = e.path .. ": " .. e.reason end
  return table.concat(parts, "; ")
end

-- ---------------------------------------------------------------------------------------
-- Is the schema itself well formed?

local TYPES = { null = true, boolean = true, integer = true, number = true, string = true,
  array = true, object = true }
local NUMBERS = { "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf" }
local COUNTS = { "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties" }
local SUBSCHEMA = { "additionalProperties", "items", "not" }
local LISTS = { "anyOf", "allOf", "oneOf", "prefixItems" }
local MAPS = { "properties", "$defs", "definitions" }

local meta
meta = function(s, path, errs, root, depth)
  if s == true or s == false then return end
  if type(s) ~= "table" or is_array(s) and next(s) ~= nil then
    return fail(errs, path, "a schema must be an object or a boolean")
  end
  if depth > MAX_DEPTH then return fail(errs, path, "schema nests deeper than " .. MAX_DEPTH .. " levels") end
  local t = s.type
  if t ~= nil then
    local list = type(t) == "table" and t or { t }
    if type(t) == "table" and #t == 0 then fail(errs, path .. ".type", "must not be an empty list") end
    for _, name in ipairs(list) do
      if not TYPES[name] then fail(errs, path .. ".type", "unknown type " .. show(name)) end
    end
  end
  for _, k in ipairs(NUMBERS) do
    if s[k] ~= nil and (type(s[k]) ~= "number" or not has_type(s[k], "number")) then
      fail(errs, key_path(path, k), "must be a number")
    end
  end
  if type(s.multipleOf) == "number" and s.multipleOf <= 0 then fail(errs, path .. ".multipleOf", "must be > 0") end
  for _, k in ipairs(COUNTS) do
    if s[k] ~= nil and not (has_type(s[k], "integer") and s[k] >= 0) then
      fail(errs, key_path(path, k), "must be an integer >= 0")
    end
  end
  if s.required ~= nil then
    if type(s.required) ~= "table" or not is_array(s.required) then
      fail(errs, path .. ".required", "must be a list of property names")
    else
      for i, name in ipairs(s.required) do
        if type(name) ~= "string" then fail(errs, key_path(path .. ".required", i), "must be a string") end
      end
    end
  end
  if s.enum ~= nil and (type(s.enum) ~= "table" or not is_array(s.enum)) then
    fail(errs, path .. ".enum", "must be a list")
  end
  if s["$ref"] ~= nil then
    local _, rerr = resolve(root, s["$ref"])
    if rerr then fail(errs, key_path(path, "$ref"), rerr) end
  end
  if s.items ~= nil and type(s.items) == "table" and is_array(s.items) and next(s.items) ~= nil then
    fail(errs, path .. ".items", "must be one schema (a list of schemas is prefixItems)")
  else
    for _, k in ipairs(SUBSCHEMA) do
      if s[k] ~= nil then meta(s[k], key_path(path, k), errs, root, depth + 1) end
    end
  end
  for _, k in ipairs(LISTS) do
    local list = s[k]
    if list ~= nil then
      if type(list) ~= "table" or not is_array(list) or next(list) == nil then
        fail(errs, key_path(path, k), "must be a non-empty list of schemas")
      else
        for i, sub in ipairs(list) do meta(sub, key_path(key_path(path, k), i), errs, root, depth + 1) end
      end
    end
  end
  for _, k in ipairs(MAPS) do
    local map = s[k]
    if map ~= nil then
      if type(map) ~= "table" or not is_object(map) then
        fail(errs, key_path(path, k), "must be an object of schemas")
      else
        for _, name in ipairs(sorted_keys(map)) do
          meta(map[name], key_path(key_path(path, k), name), errs, root, depth + 1)
        end
      end
    end
  end
end

--- schema.check_schema(S) -> true, or false and the list of { path, reason } saying where S
--- is not a well-formed schema (an unknown type name, `required` not a list of names, a bound
--- that is not a number, a $ref that points at nothing, ...). Keywords it does not know are
--- left alone. Paths start at "$" (the schema's root): "$.properties.city.type".
function schema.check_schema(s)
  local errs = {}
  meta(s, "$", errs, s, 0)
  if #errs == 0 then return true end
  return false, errs
end

--- schema.for_api(S) -> S as the API accepts it (anthropic.schema_api: the SDKs' transform).
function schema.for_api(s, where) return require("anthropic.schema_api").for_api(s, where) end

return schema
