-- anthropic.json: lua-cjson with the three things a Messages client needs on top of it.
--
-- 1. Empty lists stay lists. cjson 2.1.0 encodes every empty table as {}. The API wants
--    `"messages": []`, `"content": []`, `"tools": []`. An empty table becomes [] when it is
--    marked with json.array(t), or when it sits under a key the API defines as a list
--    (ARRAY_KEYS) outside user data (tool inputs and JSON-schema `properties`). Mark a table
--    json.object(t) to force {}.
-- 2. Integers stay integers. On Lua 5.3+ cjson decodes every number as a float; every float
--    with an exact integer value is turned back into that integer (as math.tointeger does;
--    the walk is the core's, src/numbers.c).
-- 3. JSON null is json.null (cjson.null, also exported as anthropic.null), so a field that is
--    present but null is distinguishable from an absent one.
--
-- 4. Numbers are sent as they are. cjson 2.1.0 prints every number with 14 significant digits,
--    so 2^53 + 1, 123456789012345678 or 0.1 + 0.2 would reach the API as another number; those
--    few are written exactly (%d for integers, %.17g for floats) instead.
-- 5. What is checked is what is sent. json.plain(value) is the one walk over the caller's
--    tables: raw (no __index, __pairs or __len runs), refusing proxy tables and cycles, it
--    returns a plain copy that validation reads and json.encode encodes, so no metamethod of
--    the caller can make the two see different things, or raise in the middle. (The walk is
--    the core's, src/plain.c, on PUC Lua; the same walk in Lua on LuaJIT and without the core.
--    So is json.encode's check of its value, src/json_prepare.c.)
--
-- Bad values (functions, NaN, sparse tables, mixed keys, invalid UTF-8) raise a UsageError that
-- names the parameter path, e.g. "messages[2].content: invalid UTF-8 at byte 7".

-- A private cjson instance: our settings must not change the caller's cjson.
local cjson = require("cjson").new()
local errors = require "anthropic.errors"
-- The core's walks (fix_integers, plain_copy, json_preparer) where it is loaded; anthropic-mock
-- runs without it.
local has_core, core = pcall(require, "anthropic.core")

local json = {}

json.null = cjson.null
json.array_mt = { __name = "anthropic.json.array" }
json.object_mt = { __name = "anthropic.json.object" }

local array_mt, object_mt = json.array_mt, json.object_mt
local null = cjson.null
local encode_raw, decode_raw = cjson.encode, cjson.decode
local type, pairs, next, tostring, rawget, rawequal = type, pairs, next, tostring, rawget, rawequal
local math_type, tointeger = math.type, math.tointeger
local floor, huge = math.floor, math.huge
local format, byte = string.format, string.byte
-- The metatable itself, even behind a __metatable field (which getmetatable would return).
local real_metatable = (rawget(_G, "debug") and debug.getmetatable) or getmetatable

cjson.encode_sparse_array(false)        -- sparse tables are an error, reported by our walk
cjson.decode_invalid_numbers(false)     -- "nan", "inf", hex are not JSON (JSON.parse refuses them)
cjson.encode_keep_buffer(true)

--- json.array([t]) marks t (or a new table) as a JSON array, even when empty.
---@param t? table
---@return table t
function json.array(t)
  if t ~= nil and type(t) ~= "table" then errors.usage("t", "must be a table or nil") end
  return setmetatable(t or {}, array_mt)
end
--- json.object([t]) marks t (or a new table) as a JSON object, even when empty.
---@param t? table
---@return table t
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
-- A number cjson would print inexactly travels as the string NUMBER_PREFIX .. i .. "\0" and is
-- put back as numbers[i] after encoding. Caller strings that start like a sentinel are refused,
-- so no caller text can be replaced by accident.
local NUMBER_PREFIX = "\0anthropic.json.number:"
-- What the sentinels start with (RESERVED_PREFIX; RESERVED as a pattern, %z for Lua 5.1).
local RESERVED_PREFIX = "\0anthropic.json."
local RESERVED = "^%z" .. RESERVED_PREFIX:sub(2):gsub("%p", "%%%0")
local NUMBER_PATTERN = encode_raw(NUMBER_PREFIX):sub(1, -2):gsub("%p", "%%%0") .. "(%d+)"
  .. encode_raw("\0"):sub(2):gsub("%p", "%%%0")
local numbers, nnumbers = {}, 0

-- cjson prints numbers with "%.14g": exact for every integer below 10^14 in magnitude (the
-- common case, checked without formatting) and for floats whose 14-digit form reads back equal.
local function exact_in_cjson(x)
  if x == floor(x) and x > -1e14 and x < 1e14 then return true end
  return tonumber(format("%.14g", x)) == x
end

local function number_sentinel(x)
  nnumbers = nnumbers + 1
  if math_type and math_type(x) == "integer" then
    numbers[nnumbers] = format("%d", x)
  else
    numbers[nnumbers] = format("%.17g", x)
  end
  return NUMBER_PREFIX .. nnumbers .. "\0"
end

local function path_join(path, key)
  local tk = type(key)
  if tk == "number" then return (path or "") .. "[" .. key .. "]" end
  -- Never tostring() a caller's table or userdata key: its __tostring could raise.
  if tk ~= "string" then return (path or "") .. "[<" .. tk .. ">]" end
  if path == nil or path == "" then return key end
  return path .. "." .. key
end

-- What the top of the value is called in a message when the path is empty.
local top_name = "body"

local function fail(path, message)
  errors.usage(path ~= "" and path or top_name, message)
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
  elseif ti == "string" then
    if byte(item, 1) == 0 and item:find(RESERVED) then fail_at(depth, "string is reserved by anthropic.json") end
  elseif ti ~= "boolean" and item ~= null then
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
  for k, item in next, v do
    nkeys = nkeys + 1
    local tk = type(k)
    if tk == "string" then
      has_string = true
      if byte(k, 1) == 0 and k:find(RESERVED) then fail_at(depth, "key is reserved by anthropic.json") end
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
          for k2, v2 in next, v do copy[k2] = v2 end
        end
        copy[k] = nv
      end
    elseif ti == "number" then
      stack[d1] = k
      bad_leaf(item, ti, d1)
      if not exact_in_cjson(item) then
        if not copy then
          copy = {}
          for k2, v2 in next, v do copy[k2] = v2 end
        end
        copy[k] = number_sentinel(item)
      end
    elseif ti ~= "string" or byte(item, 1) == 0 then
      stack[d1] = k
      bad_leaf(item, ti, d1)
    end
  end
  if has_string and n > 0 then fail_at(depth, "table mixes list items and named fields") end
  if n > 0 and n ~= nkeys then fail_at(depth, "list has holes (a nil in the middle?)") end
  if copy then return copy, true end
  return v, false
end

-- A metatable that makes a table show something else than it holds: pairs() through __pairs,
-- # through __len, missing fields through an __index function. (An __index table is fine: the
-- walk is raw, and what a result inherits through it, like _request_id, is not sent.)
local PROXY_EVENTS = { "__pairs", "__ipairs", "__len" }
-- Metatables registered with json.send_raw: their tables are sent as they hold, whatever the
-- metatable (anthropic.tools' Tool keeps its Lua-only fields, run, behind an __index function).
local sent_raw = setmetatable({}, { __mode = "k" })

--- json.send_raw(mt) -> mt: tables with this metatable are walked and sent raw, as they hold;
--- for a library's own types whose metatable only adds what is not sent.
---@param mt table
---@return table mt
function json.send_raw(mt)
  sent_raw[mt] = true
  return mt
end

local function proxy_event(mt)
  if type(mt) ~= "table" or sent_raw[mt] then return nil end
  for i = 1, #PROXY_EVENTS do
    if rawget(mt, PROXY_EVENTS[i]) ~= nil then return PROXY_EVENTS[i] end
  end
  local index = rawget(mt, "__index")
  if index ~= nil and type(index) ~= "table" then return "__index" end
end

-- walked[t] is true while t is being copied (seeing it again is a cycle), then its copy.
local plain_copy
plain_copy = function(v, depth, walked)
  if depth > 900 then fail_at(depth, "nested too deeply") end
  local mt = real_metatable(v)
  -- rawequal: a metatable can have a metatable of its own, with an __eq that raises
  local marker = rawequal(mt, array_mt) or rawequal(mt, object_mt)
  if mt ~= nil and not marker then
    local event = proxy_event(mt)
    if event then
      fail_at(depth, "is a proxy table (its metatable has " .. event .. "), so what it shows is not "
        .. "what it holds: pass a plain table")
    end
  end
  local done = walked[v]
  if done == true then fail_at(depth, "table contains itself (a cycle)") end
  if done then return done end   -- shared, not cyclic: the copy is shared the same way
  walked[v] = true
  local copy, d1 = {}, depth + 1
  for k, item in next, v do
    if type(item) == "table" then
      stack[d1] = k
      item = plain_copy(item, d1, walked)
    end
    copy[k] = item
  end
  if marker then setmetatable(copy, mt) end
  walked[v] = copy
  return copy
end

-- Raises what a core walk refused (src/plain.c, src/json_prepare.c): `keys` lead from the walked
-- value down to the refused one, and name it as the Lua walks would.
local function refuse_at(why, keys)
  for i = 1, #keys do stack[i] = keys[i] end
  fail_at(#keys, why)
end

-- json.plain over one of the two walks: values that are not tables pass as they are, and the
-- path and name are set for the errors of the walk.
local function plain_by(walk)
  return function(value, path, name)
    if type(value) ~= "table" then return value end
    base_path, top_name = path or "", name or "params"
    return walk(value)
  end
end

-- The walk in Lua: json.plain where the core is absent, and on LuaJIT.
local plain_in_lua = plain_by(function(value) return plain_copy(value, 0, {}) end)

-- The same walk as the core's (src/plain.c); what it refuses is raised here, named the same way.
local plain_in_c = plain_by(function(value)
  local copy, why, keys = core.plain_copy(value, array_mt, object_mt, sent_raw)
  if copy == nil then refuse_at(why, keys) end
  return copy
end)

-- PUC Lua takes the core's walk (0.69 against 1.45 us for a create's params); LuaJIT runs the
-- Lua one faster than it crosses the C API for the core's (0.55 against 0.71 us).
local plain_walk = (has_core and not rawget(_G, "jit")) and plain_in_c or plain_in_lua

--- json.plain(value [, path]) -> a plain copy of value, made by one raw walk (next and rawget:
--- no __index, __pairs or __len of the caller runs): tables are copied (json.array/json.object
--- marks kept, other metatables dropped), everything else is returned as it is. Proxy tables
--- (__pairs, __ipairs, __len or an __index function) and cycles raise a UsageError naming the
--- path (`name` stands for an empty path, default "params"). Validate and encode the copy:
--- both then see exactly the same data.
---@param value any
---@param path? string where value sits, for errors
---@param name? string what an empty path is called (default "params")
---@return any copy
function json.plain(value, path, name)
  return plain_walk(value, path, name)
end

-- Both walks by name, for the spec that holds them to the same answers (spec/plain_spec.lua).
json._plain_in_lua, json._plain_in_c = plain_in_lua, has_core and plain_in_c or nil

local utf8_invalid
local function find_bad_utf8(v, path)
  if type(v) == "string" then
    local at = utf8_invalid(v)
    if at then return path, at end
  elseif type(v) == "table" then
    for k, item in next, v do
      if type(k) == "string" and utf8_invalid(k) then return path_join(path, "<key>"), utf8_invalid(k) end
      local p, at = find_bad_utf8(item, path_join(path, k))
      if p then return p, at end
    end
  end
end

-- json.encode over one of the two walks of a table (the Lua `prepare`, the core's preparer):
-- prepare_table(t) -> the value to encode in its place, whether it differs from t.
local function encode_by(prepare_table)
  return function(value, path)
    path = path or ""
    local prepared, changed = value, false
    base_path, top_name = path, "body"
    nnumbers = 0
    if type(value) == "table" then
      prepared, changed = prepare_table(value)
    else
      bad_leaf(value, type(value), 0)
      if type(value) == "number" and not exact_in_cjson(value) then
        prepared, changed = number_sentinel(value), true
      end
    end
    local ok, text = pcall(encode_raw, prepared)
    if not ok then fail(path, tostring(text)) end
    if changed then
      text = text:gsub(SENTINEL_PATTERN, "[]")
      if nnumbers > 0 then
        text = text:gsub(NUMBER_PATTERN, function(i) return numbers[tonumber(i)] end)
        for i = 1, nnumbers do numbers[i] = nil end
      end
    end
    utf8_invalid = utf8_invalid or require("anthropic.core").utf8_invalid
    if utf8_invalid(text) then
      local where, at = find_bad_utf8(value, path)
      fail(where or path, "invalid UTF-8" .. (at and (" at byte " .. at) or ""))
    end
    return text
  end
end

-- The walk in Lua: json.encode where the core is absent, and on LuaJIT.
local encode_in_lua = encode_by(function(t) return prepare(t, nil, true, 0) end)

-- The same walk as the core's (src/json_prepare.c), which fills `numbers` as prepare does;
-- what it refuses is raised here, named the same way.
local preparer = has_core and core.json_preparer(array_mt, object_mt, null, ARRAY_KEYS, OPAQUE_KEYS,
  SENTINEL, NUMBER_PREFIX, RESERVED_PREFIX)
local encode_in_c = preparer and encode_by(function(t)
  local prepared, changed, count = preparer(t, numbers)
  if prepared == nil then refuse_at(changed, count) end   -- nil, why, keys
  nnumbers = count
  return prepared, changed
end)

-- PUC Lua takes the core's walk; LuaJIT runs the Lua one faster than it crosses the C API.
local encode_walk = (encode_in_c and not rawget(_G, "jit")) and encode_in_c or encode_in_lua

--- json.encode(value [, path]) -> JSON text. Raises a UsageError naming the path on bad input.
---@param value any
---@param path? string the name of value in error messages
---@return string json
function json.encode(value, path)
  return encode_walk(value, path)
end

-- Both walks by name, for the spec that holds them to the same answers
-- (spec/json_prepare_spec.lua).
json._encode_in_lua, json._encode_in_c = encode_in_lua, encode_in_c or nil

-- Turns integral floats back into integers (Lua 5.3+ only; a no-op elsewhere): the core's walk
-- in C (src/numbers.c) where the core is loaded, this one otherwise (the same result).
local fix_integers
if math_type and has_core and core.fix_integers then
  fix_integers = core.fix_integers
elseif math_type then
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
---@param text string
---@return any value
---@return string|nil err
function json.decode_raw(text)
  local ok, value = pcall(decode_raw, text)
  if not ok then return nil, value end
  return value
end

--- json.decode_string(text) -> the string when text is one JSON string (a quoted literal,
--- escapes and all) and nothing else but whitespace; else nil. For hot paths that have already
--- cut a string out of a document of known shape (stream.lua's text deltas): cjson decodes it
--- and no table is made.
---@param text string
---@return string|nil value
function json.decode_string(text)
  local ok, value = pcall(decode_raw, text)
  if ok and type(value) == "string" then return value end
  return nil
end

--- json.decode(text) -> value, or nil and an error message for text that is not JSON.
---@param text string
---@return any value
---@return string|nil err
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
