-- anthropic.json: lua-cjson with the three things a Messages client needs on top of it.
--
-- 1. Empty lists stay lists. cjson 2.1.0 encodes every empty table as {}. The API wants
--    `"messages": []`, `"content": []`, `"tools": []`. An empty table becomes [] when it is
--    marked with json.array(t), or when it sits under a key the API defines as a list
--    (ARRAY_KEYS) outside user data (tool inputs and JSON-schema `properties`). Mark a table
--    json.object(t) to force {}.
-- 2. Integers stay integers. On Lua 5.3+ cjson decodes every number as a float; numbers
--    without a fraction or exponent that fit in 2^53 are turned back into integers.
-- 3. JSON null is json.null (cjson.null, also exported as anthropic.null), so a field that is
--    present but null is distinguishable from an absent one.
--
-- Bad values (functions, NaN, sparse tables, mixed keys, invalid UTF-8) raise a UsageError that
-- names the parameter path, e.g. "messages[2].content: invalid UTF-8 at byte 7".

-- A private cjson instance: our settings must not change the caller's cjson.
local cjson = require("cjson").new()
local errors = require "anthropic.errors"

local json = {}

json.null = cjson.null
json.array_mt = { __name = "anthropic.json.array" }
json.object_mt = { __name = "anthropic.json.object" }

local array_mt, object_mt = json.array_mt, json.object_mt
local null = cjson.null
local encode_raw, decode_raw = cjson.encode, cjson.decode
local type, pairs, next, tostring = type, pairs, next, tostring
local math_type, tointeger = math.type, math.tointeger
local floor, huge = math.floor, math.huge

cjson.encode_sparse_array(false)        -- sparse tables are an error, reported by our walk
cjson.decode_invalid_numbers(false)     -- "nan", "inf", hex are not JSON (JSON.parse refuses them)
cjson.encode_keep_buffer(true)

--- json.array([t]) marks t (or a new table) as a JSON array, even when empty.
function json.array(t)
  if t ~= nil and type(t) ~= "table" then errors.usage("t", "must be a table or nil") end
  return setmetatable(t or {}, array_mt)
end
--- json.object([t]) marks t (or a new table) as a JSON object, even when empty.
function json.object(t)
  if t ~= nil and type(t) ~= "table" then errors.usage("t", "must be a table or nil") end
  return setmetatable(t or {}, object_mt)
end

-- Keys whose value the API defines as a list.
local ARRAY_KEYS = {
  messages = true, content = true, tools = true, stop_sequences = true, system = true,
  citations = true, requests = true, required = true, enum = true, data = true,
  allowed_domains = true, blocked_domains = true, betas = true, mcp_servers = true,
  container_uploads = true, anyOf = true, oneOf = true, allOf = true,
}
-- Keys whose value is user data: no list guessing below them.
local OPAQUE_KEYS = { input = true, properties = true, metadata = true, ["$defs"] = true }

local SENTINEL = "\0anthropic.json.empty_array\0"
local SENTINEL_PATTERN = encode_raw(SENTINEL):gsub("%p", "%%%0")

local function path_join(path, key)
  if type(key) == "number" then return (path or "") .. "[" .. key .. "]" end
  if path == nil or path == "" then return tostring(key) end
  return path .. "." .. tostring(key)
end

local function fail(path, message)
  errors.usage(path ~= "" and path or "body", message)
end

-- The keys from the encoded value down to the one being prepared: the path of a bad value is
-- built from it only when there is an error, so the happy path allocates no path strings.
local stack, base_path = {}, ""

local function fail_at(depth, message)
  local path = base_path
  for i = 1, depth do path = path_join(path, stack[i]) end
  fail(path, message)
end

local function bad_leaf(item, ti, depth)
  if ti == "number" then
    if item ~= item or item == huge or item == -huge then fail_at(depth, "number must be finite") end
  elseif ti ~= "string" and ti ~= "boolean" and item ~= null then
    fail_at(depth, "cannot encode a " .. ti .. " as JSON")
  end
end

-- Returns the value to encode in place of the table v (a copy only where an empty list had to
-- be replaced), and whether it differs from v. Validates as it goes, in one pass per table.
local prepare
prepare = function(v, key, guess, depth)
  if depth > 900 then fail_at(depth, "nested too deeply") end
  local mt = getmetatable(v)
  if next(v) == nil then
    if mt == array_mt or (mt ~= object_mt and guess and ARRAY_KEYS[key]) then
      return SENTINEL, true
    end
    return v, false
  end
  local n, nkeys, has_string, copy = 0, 0, false, nil
  local child_guess = guess and not OPAQUE_KEYS[key]
  local d1 = depth + 1
  for k, item in pairs(v) do
    nkeys = nkeys + 1
    local tk = type(k)
    if tk == "string" then
      has_string = true
    elseif tk == "number" then
      if k ~= floor(k) or k < 1 then fail_at(depth, "table has a non-positive or fractional key") end
      if k > n then n = k end
    else
      fail_at(depth, "table key of type " .. tk .. " cannot be encoded")
    end
    local ti = type(item)
    if ti == "table" then
      stack[d1] = k
      local nv, changed = prepare(item, k, child_guess, d1)
      if changed then
        if not copy then
          copy = {}
          for k2, v2 in pairs(v) do copy[k2] = v2 end
        end
        copy[k] = nv
      end
    elseif ti ~= "string" then
      stack[d1] = k
      bad_leaf(item, ti, d1)
    end
  end
  if has_string and n > 0 then fail_at(depth, "table mixes list items and named fields") end
  if n > 0 and n ~= nkeys then fail_at(depth, "list has holes (a nil in the middle?)") end
  if copy then return copy, true end
  return v, false
end

local utf8_invalid
local function find_bad_utf8(v, path)
  if type(v) == "string" then
    local at = utf8_invalid(v)
    if at then return path, at end
  elseif type(v) == "table" then
    for k, item in pairs(v) do
      if type(k) == "string" and utf8_invalid(k) then return path_join(path, "<key>"), utf8_invalid(k) end
      local p, at = find_bad_utf8(item, path_join(path, k))
      if p then return p, at end
    end
  end
end

--- json.encode(value [, path]) -> JSON text. Raises a UsageError naming the path on bad input.
function json.encode(value, path)
  path = path or ""
  local prepared, changed = value, false
  base_path = path
  if type(value) == "table" then
    prepared, changed = prepare(value, nil, true, 0)
  else
    bad_leaf(value, type(value), 0)
  end
  local ok, text = pcall(encode_raw, prepared)
  if not ok then fail(path, tostring(text)) end
  if changed then text = text:gsub(SENTINEL_PATTERN, "[]") end
  utf8_invalid = utf8_invalid or require("anthropic.core").utf8_invalid
  if utf8_invalid(text) then
    local where, at = find_bad_utf8(value, path)
    fail(where or path, "invalid UTF-8" .. (at and (" at byte " .. at) or ""))
  end
  return text
end

-- Turns integral floats back into integers (Lua 5.3+ only; a no-op elsewhere).
local fix_integers
if math_type then
  fix_integers = function(v)
    for k, item in pairs(v) do
      local ti = type(item)
      if ti == "table" then
        fix_integers(item)
      elseif ti == "number" then
        local i = tointeger(item)       -- nil for 1.5, for NaN, for what has no integer
        if i then v[k] = i end          -- assigning an existing field is safe inside pairs
      end
    end
    return v
  end
else
  fix_integers = function(v) return v end
end
json.fix_integers = fix_integers

--- json.decode_raw(text) -> value, or nil and a message: cjson alone, numbers left as floats
--- on 5.3+ (for hot paths that fix the few numbers they know of themselves).
function json.decode_raw(text)
  local ok, value = pcall(decode_raw, text)
  if not ok then return nil, value end
  return value
end

--- json.decode(text) -> value, or nil and an error message for text that is not JSON.
function json.decode(text)
  local ok, value = pcall(decode_raw, text)
  if not ok then return nil, value end
  if type(value) == "table" then fix_integers(value) end
  if math_type and type(value) == "number" and value == floor(value) and value < 2^53 and value > -2^53 then
    value = tointeger(value)
  end
  return value
end

return json
