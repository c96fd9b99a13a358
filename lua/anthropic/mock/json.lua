-- anthropic.mock.json: deterministic JSON for the mock's replies.
--
-- Decoding is lua-cjson. Encoding is done here because the mock promises
-- byte-identical replies for identical requests: cjson walks tables in hash
-- order, which Lua 5.4 randomises per process. Objects are written with their
-- keys in a declared order (the real API's order where it matters), remaining
-- keys sorted. Arrays are tables marked with json.array() or non-empty
-- sequences; an unmarked empty table is the empty object.
-- Integral numbers are written without a fraction on every Lua version
-- (cjson decodes every number as a float on 5.3+).

local cjson = require "cjson"

local M = {}

M.null = cjson.null

local array_mt = { __jsontype = "array" }
M.array_mt = array_mt

function M.array(t)
  return setmetatable(t or {}, array_mt)
end

-- Order tables are shared metatables: { __order = {k1, k2, ...} }, with the
-- quoted keys precomputed (encoding is on the hot path of every reply).
function M.order(keys)
  local rank, q = {}, {}
  for i, k in ipairs(keys) do rank[k] = i end
  local mt = { __order = keys, __rank = rank, __q = q }
  return mt
end

-- obj(mt, t) marks t as an object written in mt's key order.
function M.obj(mt, t)
  return setmetatable(t, mt)
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
for i = 0, 31 do
  local c = string.char(i)
  if not escapes[c] then escapes[c] = string.format("\\u%04x", i) end
end
escapes[string.char(127)] = "\\u007f"

local find, gsub = string.find, string.gsub

local function quote(s)
  if not find(s, '[%c"\\]') then return '"' .. s .. '"' end
  return '"' .. gsub(s, '[%c"\\]', escapes) .. '"'
end
M.quote = quote

local floor, huge = math.floor, math.huge
local fmt, concat, sort = string.format, table.concat, table.sort

local function number(n)
  if n ~= n or n == huge or n == -huge then return "null" end
  if floor(n) == n and n > -2^53 and n < 2^53 then return fmt("%d", n) end
  return fmt("%.17g", n)
end
M.number = number

-- a plain table is an array when it is a non-empty sequence and nothing else
local function is_seq(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do
    count = count + 1
    if count > n then return false end
  end
  return count == n
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt == array_mt then return true end
  if mt and mt.__order then return false end
  return is_seq(t)
end

local null = cjson.null

-- encode(v, out, n, sep, depth) -> n: appends to out[n+1 ...]
-- sep: "" compact, " " like Python's json.dumps.
local encode
encode = function(v, out, n, sep, depth)
  local tv = type(v)
  if tv == "string" then
    n = n + 1; out[n] = quote(v)
  elseif tv == "number" then
    n = n + 1; out[n] = number(v)
  elseif tv == "boolean" then
    n = n + 1; out[n] = v and "true" or "false"
  elseif v == nil or v == null then
    n = n + 1; out[n] = "null"
  elseif tv == "table" then
    if depth > 200 then error("json: nesting too deep", 0) end
    local mt = getmetatable(v)
    if mt == array_mt or (not (mt and mt.__order) and is_seq(v)) then
      n = n + 1; out[n] = "["
      for i = 1, #v do
        if i > 1 then n = n + 1; out[n] = "," .. sep end
        n = encode(v[i], out, n, sep, depth + 1)
      end
      n = n + 1; out[n] = "]"
      return n
    end
    n = n + 1; out[n] = "{"
    local first, emitted = true, 0
    local order = mt and mt.__order
    if order then
      local q = mt.__q
      for i = 1, #order do
        local k = order[i]
        local val = v[k]
        if val ~= nil then
          local qk = q[sep]
          if not qk then qk = {}; q[sep] = qk end
          local key = qk[i]
          if not key then key = quote(k) .. ":" .. sep; qk[i] = key end
          if first then first = false else n = n + 1; out[n] = "," .. sep end
          n = n + 1; out[n] = key
          n = encode(val, out, n, sep, depth + 1)
          emitted = emitted + 1
        end
      end
    end
    local total = 0
    for _ in pairs(v) do total = total + 1 end
    if total > emitted then
      local rank = order and mt.__rank
      local keys, strings = {}, true
      for k in pairs(v) do
        if not (rank and rank[k]) then
          keys[#keys + 1] = k
          if type(k) ~= "string" then strings = false end
        end
      end
      if not strings then
        for i = 1, #keys do keys[i] = tostring(keys[i]) end
      end
      sort(keys)
      for i = 1, #keys do
        local k = keys[i]
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        if first then first = false else n = n + 1; out[n] = "," .. sep end
        n = n + 1; out[n] = quote(k) .. ":" .. sep
        n = encode(val, out, n, sep, depth + 1)
      end
    end
    n = n + 1; out[n] = "}"
  else
    error("json: cannot encode a " .. tv, 0)
  end
  return n
end

-- LuaJIT 2.1 (Debian 12's 2.1.0-beta3 build) sometimes compiles a trace through encode() that
-- writes a decoded request object as "{}" although pairs() over the same table a moment later
-- sees its keys: seen in about one mock process in five, on the first encodes of a request's
-- messages (count_tokens_spec). The interpreter is always right, so the encoder runs
-- interpreted on LuaJIT; the mock is a test server and its replies are small.
local jit = rawget(_G, "jit")
if jit and jit.off then jit.off(encode, true) end

function M.encode(v)
  local out = {}
  encode(v, out, 0, "", 0)
  return concat(out)
end

-- Python-style spacing ({"a": 1, "b": 2}), as in the real input_json_delta text.
function M.encode_spaced(v)
  local out = {}
  encode(v, out, 0, " ", 0)
  return concat(out)
end

-- decode(s) -> value | nil, message. Never raises.
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if ok then return v end
  local msg = tostring(v):gsub("^[^:]*%.lua:%d+: ", "")
  return nil, msg
end

-- Helpers for decoded request values.
function M.is_object(v)
  return type(v) == "table" and (next(v) == nil or not is_array(v))
end

function M.is_list(v)
  return type(v) == "table" and (next(v) == nil or is_array(v))
end

return M
