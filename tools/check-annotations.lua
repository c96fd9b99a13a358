-- tools/check-annotations.lua: fails when a public function of the client library lacks its
-- LuaLS annotations, so editors (lua-language-server) complete and check every call.
--
--   lua5.4 tools/check-annotations.lua [FILE...]     (default: lua/anthropic/**/*.lua but mock/)
--
-- A public function is a function statement with a dotted or method name whose last part does
-- not start with "_" (`function M.new(opts)`, `function Client:poll(ms)`, also when nested, as
-- in `function messages.create(...)` inside an attach function). The `---` lines right above
-- it must hold either `---@private` / `---@package` (not part of the API), or:
--   * `---@param NAME` for each parameter (not `self`; `...` as `---@param ...`);
--   * `---@return` when its body returns a value (a `return` with an expression at the
--     function's own level, not in a nested function).
-- Functions of an UPPER_CASE table (two letters or more) are entries of a dispatch table
-- (EVENTS.message_start), not API, and need nothing.
-- A class (a local table that becomes its own __index: `X.__index = X`) needs `---@class`
-- in the `---` lines right above `local X = {}`.
-- It reads the code with a small tokenizer (strings, long strings and comments skipped), so
-- `end` inside a string does not confuse it. Exit status 1 lists every problem as FILE:LINE.

local KEYWORD_OPENS = { ["function"] = true, ["if"] = true, ["do"] = true, ["repeat"] = true }

-- Tokens of Lua source: { kind = "name"|"keyword"|"op"|"string"|"number", text, line }.
-- Comments are kept apart, by line: comments[line] = text ("---@param x" style lines).
local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or repeat
  return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function tokenize(src)
  local tokens, comments = {}, {}
  local i, line, n = 1, 1, #src
  local function add(kind, text) tokens[#tokens + 1] = { kind = kind, text = text, line = line } end
  local function long_bracket(at)
    local eq = src:match("^%[(=*)%[", at)
    if not eq then return nil end
    local close = "]" .. eq .. "]"
    local _, stop = src:find(close, at + #eq + 2, true)
    return stop or n
  end
  while i <= n do
    local c = src:sub(i, i)
    if c == "\n" then
      line = line + 1
      i = i + 1
    elseif c:match("%s") then
      i = i + 1
    elseif src:sub(i, i + 1) == "--" then
      local stop = long_bracket(i + 2)
      if stop then
        local text = src:sub(i, stop)
        local _, nl = text:gsub("\n", "")
        line = line + nl
        i = stop + 1
      else
        local e = src:find("\n", i, true) or (n + 1)
        comments[line] = src:sub(i, e - 1)
        i = e
      end
    elseif c == "[" and long_bracket(i) then
      local stop = long_bracket(i)
      local text = src:sub(i, stop)
      add("string", text)
      local _, nl = text:gsub("\n", "")
      line = line + nl
      i = stop + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then
          if src:sub(j + 1, j + 1) == "\n" then line = line + 1 end
          j = j + 2
        elseif d == c then break
        else
          if d == "\n" then line = line + 1 end
          j = j + 1
        end
      end
      add("string", src:sub(i, j))
      i = j + 1
    elseif c:match("[%a_]") then
      local word = src:match("^[%w_]+", i)
      add(KEYWORDS[word] and "keyword" or "name", word)
      i = i + #word
    elseif c:match("%d") or (c == "." and src:sub(i + 1, i + 1):match("%d")) then
      local num = src:match("^0[xX][%x%.pP+-]+", i) or src:match("^[%d%.]+[eE][+-]?%d+", i)
        or src:match("^[%d%.]+", i)
      add("number", num)
      i = i + #num
    else
      local op = src:match("^%.%.%.", i) or src:match("^[=~<>]=", i) or src:match("^%.%.", i)
        or src:match("^::", i) or src:match("^//", i) or c
      add("op", op)
      i = i + #op
    end
  end
  return tokens, comments
end

-- The `---` lines right above `line` (contiguous, nearest first).
local function doc_block(comments, line)
  local out = {}
  local l = line - 1
  while comments[l] and comments[l]:match("^%s*%-%-%-") do
    out[#out + 1] = comments[l]
    l = l - 1
  end
  return out
end

-- Walks a function body from the token after its parameter list to its `end`; returns whether
-- it returns a value at its own level (a `return` inside a nested function does not count).
local function scan_function(tokens, k)
  local stack = { "function" }
  local returns = false
  while k <= #tokens do
    local t = tokens[k]
    if t.kind == "keyword" then
      if KEYWORD_OPENS[t.text] then
        stack[#stack + 1] = t.text
      elseif t.text == "end" or t.text == "until" then
        stack[#stack] = nil
        if #stack == 0 then return returns, k end
      elseif t.text == "return" then
        local in_nested = false
        for s = 2, #stack do if stack[s] == "function" then in_nested = true end end
        local nxt = tokens[k + 1]
        if not in_nested and nxt and not (nxt.kind == "keyword" and (nxt.text == "end" or nxt.text == "else"
          or nxt.text == "elseif" or nxt.text == "until")) and nxt.text ~= ";" then
          returns = true
        end
      end
    end
    k = k + 1
  end
  return returns, k
end

local function check_file(path, problems)
  local f = assert(io.open(path, "rb"))
  local src = f:read("*a")
  f:close()
  local tokens, comments = tokenize(src)
  local function problem(line, msg) problems[#problems + 1] = string.format("%s:%d: %s", path, line, msg) end
  local classes = {}     -- name -> line of `local X = {}`
  for k, t in ipairs(tokens) do
    -- local X = {}  ...  X.__index = X
    if t.text == "local" and tokens[k + 1] and tokens[k + 1].kind == "name" and tokens[k + 2]
      and tokens[k + 2].text == "=" and tokens[k + 3] and tokens[k + 3].text == "{" and tokens[k + 4]
      and tokens[k + 4].text == "}" then
      classes[tokens[k + 1].text] = classes[tokens[k + 1].text] or tokens[k + 1].line
    end
    if t.kind == "name" and classes[t.text] and tokens[k + 1] and tokens[k + 1].text == "."
      and tokens[k + 2] and tokens[k + 2].text == "__index" and tokens[k + 3] and tokens[k + 3].text == "="
      and tokens[k + 4] and tokens[k + 4].text == t.text then
      local line = classes[t.text]
      local has = false
      for _, c in ipairs(doc_block(comments, line)) do if c:find("---@class", 1, true) then has = true end end
      if not has then problem(line, "class " .. t.text .. " has no ---@class annotation") end
      classes[t.text] = nil
    end
    if t.text == "function" and t.kind == "keyword" and not (tokens[k - 1] and tokens[k - 1].text == "local")
      and tokens[k + 1] and tokens[k + 1].kind == "name" then
      -- name: a.b.c or a.b:c
      local parts, j, method = { tokens[k + 1].text }, k + 2, false
      while tokens[j] and (tokens[j].text == "." or tokens[j].text == ":") and tokens[j + 1]
        and tokens[j + 1].kind == "name" do
        if tokens[j].text == ":" then method = true end
        parts[#parts + 1] = tokens[j + 1].text
        j = j + 2
      end
      if #parts > 1 and tokens[j] and tokens[j].text == "(" then
        local name = table.concat(parts, method and ":" or ".")
        local params = {}
        j = j + 1
        while tokens[j] and tokens[j].text ~= ")" do
          if tokens[j].kind == "name" or tokens[j].text == "..." then params[#params + 1] = tokens[j].text end
          j = j + 1
        end
        local returns = scan_function(tokens, j + 1)
        -- (Two letters at least: M, the module table, is API.)
        local dispatch = #parts == 2 and parts[1]:match("^[%u_][%u%d_]+$") ~= nil
        if parts[#parts]:sub(1, 1) ~= "_" and not dispatch then
          local doc = doc_block(comments, t.line)
          local text = table.concat(doc, "\n")
          if not (text:find("---@private", 1, true) or text:find("---@package", 1, true)) then
            if #doc == 0 then
              problem(t.line, "public function " .. name .. " has no --- annotations")
            else
              for _, p in ipairs(params) do
                local pat = "%-%-%-@param%s+" .. (p == "..." and "%.%.%." or p) .. "[%s?]"
                if not (text .. "\n"):find(pat) then
                  problem(t.line, "public function " .. name .. ": no ---@param " .. p)
                end
              end
              if returns and not text:find("---@return", 1, true) then
                problem(t.line, "public function " .. name .. " returns a value: no ---@return")
              end
            end
          end
        end
      end
    end
  end
end

local files = { ... }
if #files == 0 then
  local p = assert(io.popen("find lua/anthropic -name '*.lua' -not -path 'lua/anthropic/mock/*' | sort"))
  for line in p:lines() do files[#files + 1] = line end
  p:close()
end
local problems = {}
for _, path in ipairs(files) do check_file(path, problems) end
if #problems > 0 then
  io.stderr:write(table.concat(problems, "\n"), "\n")
  io.stderr:write(string.format("check-annotations: %d problem%s in %d file%s\n", #problems,
    #problems == 1 and "" or "s", #files, #files == 1 and "" or "s"))
  os.exit(1)
end
print(string.format("check-annotations: ok (%d files)", #files))
