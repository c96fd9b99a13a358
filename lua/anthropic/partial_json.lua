-- anthropic.partial_json: completes a JSON text cut off at any byte and decodes it: a port of
-- the TypeScript SDK's vendored partial-json-parser (partialParse), so that a tool input seen
-- before its block stops is exactly the SDK's view. Decoding goes through anthropic.json, so
-- integers stay integers on Lua 5.3+ and "nan"/"inf"/hex numbers are refused as JSON.parse
-- refuses them.
--
--   partial_json.complete('{"a": [1, 2')                       --> { a = { 1, 2 } }
--   partial_json.complete('{"a": "b', { keep_truncated = true }) --> { a = "b" }
--   partial_json.decode(text)   -- complete JSON text -> value, or nil
-- Pure Lua, no I/O.

local json = require "anthropic.json"

local concat, byte, sub, find, format = table.concat, string.byte, string.sub, string.find, string.format
local type = type

local M = {}

-- Partial JSON completion: a port of the SDK's vendored partial-json-parser (partialParse), so
-- that a tool input seen before its block stops is exactly the SDK's view. With
-- opts.keep_truncated a value cut off at the end (string, number) is kept instead of dropped,
-- for showing a value as it is being typed.

local LITERALS = { "true", "false", "null" }
local IS_LITERAL = { ["true"] = true, ["false"] = true, ["null"] = true }
local SINGLE = {
  [123] = "brace", [125] = "brace", [91] = "paren", [93] = "paren",
  [58] = "separator", [44] = "delimiter",
}

local function is_ws(c) return c == 32 or c == 9 or c == 10 or c == 13 end
local function is_digit(c) return c ~= nil and c >= 48 and c <= 57 end
local function is_letter(c) return c ~= nil and ((c >= 65 and c <= 90) or (c >= 97 and c <= 122)) end

-- -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
local function is_json_number(v)
  local int, rest = v:match("^%-?(%d+)(.*)$")
  if not int or (#int > 1 and byte(int, 1) == 48) then return false end
  rest = rest:match("^%.%d+(.*)$") or rest
  return rest == "" or rest:match("^[eE][%-+]?%d+$") ~= nil
end

-- A word cut off by the end of the text, like `nul`.
local function truncated_literal(word, s, after)
  if not find(s, "^%s*$", after) then return false end
  for _, lit in ipairs(LITERALS) do
    if lit ~= word and sub(lit, 1, #word) == word then return true end
  end
  return false
end

-- Unescaped backslashes immediately before position i.
local function backslashes_before(s, i, start)
  local n = 0
  while i - 1 >= start and byte(s, i - 1) == 92 do
    n = n + 1
    i = i - 1
  end
  return n
end

-- The raw content of a cut-off string, minus an escape sequence the cut split
-- (a lone `\`, `\u12`, or a high surrogate whose low half never came).
local function trim_escape(raw)
  if backslashes_before(raw, #raw + 1, 1) % 2 == 1 then
    return sub(raw, 1, -2)
  end
  local at = raw:match("()\\u%x?%x?%x?$")
  if not at then
    at = raw:match("()\\u[dD][89abAB]%x%x$")
  end
  if at and backslashes_before(raw, at, 1) % 2 == 0 then
    return sub(raw, 1, at - 1)
  end
  return raw
end

local function tokenize(s, keep)
  local tokens, n = {}, 0
  local i, len = 1, #s
  while i <= len do
    local c = byte(s, i)
    local single = SINGLE[c]
    if single then
      n = n + 1
      tokens[n] = { type = single, value = sub(s, i, i) }
      i = i + 1
    elseif c == 34 then -- '"': closed by a quote after an even number of backslashes
      local start, j, close = i + 1, i + 1, nil
      while true do
        local q = find(s, '"', j, true)
        if not q then break end
        if backslashes_before(s, q, start) % 2 == 0 then
          close = q
          break
        end
        j = q + 1
      end
      if close then
        n = n + 1
        tokens[n] = { type = "string", value = sub(s, start, close - 1) }
        i = close + 1
      else
        if keep then
          n = n + 1
          tokens[n] = { type = "string", value = trim_escape(sub(s, start)), truncated = true }
        end
        i = len + 1
      end
    elseif is_ws(c) then
      i = i + 1
    elseif is_digit(c) or c == 45 or c == 46 then -- digit, '-', '.'
      local j = i
      if c == 45 then j = j + 1 end
      while j <= len do
        local d = byte(s, j)
        if is_digit(d) or d == 46 or d == 101 or d == 69 then
          j = j + 1
        elseif (d == 45 or d == 43) and j > i and (byte(s, j - 1) == 101 or byte(s, j - 1) == 69) then
          j = j + 1
        else
          break
        end
      end
      n = n + 1
      tokens[n] = { type = "number", value = sub(s, i, j - 1), unterminated = j > len }
      i = j
    elseif is_letter(c) then
      local j = i
      while is_letter(byte(s, j)) do j = j + 1 end
      local word = sub(s, i, j - 1)
      if IS_LITERAL[word] then
        n = n + 1
        tokens[n] = { type = "name", value = word }
      elseif not truncated_literal(word, s, j) then
        return nil
      end
      i = j
    else
      return nil
    end
  end
  return tokens, n
end

-- Drop what cannot be complete at the end: a separator, a cut-off number, a key without
-- its value, a trailing comma.
local function strip(tokens, n, keep)
  local open, depth = {}, 0
  for k = 1, n do
    local t = tokens[k]
    if t.type == "brace" or t.type == "paren" then
      if t.value == "{" or t.value == "[" then
        depth = depth + 1
        open[depth] = t.value
      elseif depth > 0 then
        open[depth] = nil
        depth = depth - 1
      end
    end
  end
  local innermost = open[depth]
  while n > 0 do
    local last = tokens[n]
    local kind = last.type
    if kind == "separator" then
      n = n - 1
    elseif kind == "number" then
      if (last.unterminated and not keep) or not is_json_number(last.value) then
        n = n - 1
      else
        break
      end
    elseif kind == "string" then
      local before = tokens[n - 1]
      if innermost == "{" and before
        and (before.type == "delimiter" or (before.type == "brace" and before.value == "{")) then
        n = n - 1
      else
        break
      end
    elseif kind == "delimiter" then
      n = n - 1
      break
    else
      break
    end
  end
  return n
end

-- Close what is still open; nil when a closer does not match.
local function unstrip(tokens, n)
  local tail, depth = {}, 0
  for k = 1, n do
    local v = tokens[k].value
    local kind = tokens[k].type
    if kind == "brace" or kind == "paren" then
      if v == "{" then
        depth = depth + 1
        tail[depth] = "}"
      elseif v == "[" then
        depth = depth + 1
        tail[depth] = "]"
      else
        if depth == 0 or tail[depth] ~= v then return nil end
        tail[depth] = nil
        depth = depth - 1
      end
    end
  end
  return tail, depth
end

local SCALAR = { string = true, number = true, name = true }

-- The completed text; nil for what JSON.parse would reject but cjson accepts
-- (numbers like `01` or `1.`, raw control characters in strings).
local function generate(tokens, n, tail, depth)
  local out, m = {}, 0
  for k = 1, n do
    local t = tokens[k]
    if k > 1 and SCALAR[t.type] and SCALAR[tokens[k - 1].type] then
      m = m + 1
      out[m] = " "
    end
    m = m + 1
    if t.type == "string" then
      local at = find(t.value, "%c")
      while at do
        if byte(t.value, at) < 32 then return nil end
        at = find(t.value, "%c", at + 1)
      end
      out[m] = '"' .. t.value .. '"'
    else
      if t.type == "number" and not is_json_number(t.value) then return nil end
      out[m] = t.value
    end
  end
  for k = depth, 1, -1 do
    m = m + 1
    out[m] = tail[k]
  end
  return concat(out, "", 1, m)
end

--- M.decode(text) -> the value of a complete JSON text, or nil when it is not JSON.
function M.decode(text)
  local v = json.decode(text)
  return v
end
local decode = M.decode

--- Complete truncated JSON and decode it. Returns the value, or nil when the text holds
--- anything but (truncated) JSON, or nothing at all.
--- opts.keep_truncated: keep a string or number cut off at the end (closing the string)
--- instead of dropping it: '{"a": "b' -> {a = "b"} rather than {}.
function M.complete(s, opts)
  if type(s) ~= "string" then
    error(format("bad argument #1 to 'complete' (string expected, got %s)", type(s)), 2)
  end
  local keep = opts ~= nil and opts.keep_truncated == true
  local tokens, n = tokenize(s, keep)
  if not tokens then return nil end
  n = strip(tokens, n, keep)
  local tail, depth = unstrip(tokens, n)
  if not tail then return nil end
  local text = generate(tokens, n, tail, depth)
  if not text then return nil end
  return decode(text)
end

return M
