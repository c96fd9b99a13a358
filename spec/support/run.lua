-- Runs Lua code or commands in a subprocess, for specs that need a fresh environment
-- (environment variables, exit codes, what a script prints). The interpreter is the one the
-- specs run under (ANTHROPIC_TEST_LUA, set by the Makefile), so LUA_PATH/LUA_CPATH match.

local run = {}

function run.interpreter()
  local lua = os.getenv("ANTHROPIC_TEST_LUA")
  if lua and lua ~= "" then return lua end
  if rawget(_G, "jit") then return "luajit" end
  return "lua" .. _VERSION:match("%d+%.%d+")
end

--- Quotes s for /bin/sh.
function run.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- run.command(cmd [, env]) -> stdout+stderr, exit code. env: { NAME = value } ("" clears).
function run.command(cmd, env)
  local prefix = {}
  for k, v in pairs(env or {}) do prefix[#prefix + 1] = k .. "=" .. run.quote(v) end
  local full = (#prefix > 0 and ("env " .. table.concat(prefix, " ") .. " ") or "") .. cmd
  local p = assert(io.popen(full .. " 2>&1; echo \"__exit=$?\""))
  local out = p:read("*a")
  p:close()
  local body, code = out:match("^(.*)__exit=(%d+)%s*$")
  return body, tonumber(code)
end

--- run.read_file(path) -> the file's bytes (the spec fails when it cannot be read).
function run.read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

--- run.lua(code [, env]) -> output, exit code of `<interpreter> <file with code>`.
function run.lua(code, env)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  local out, code_ = run.command(run.interpreter() .. " " .. run.quote(path), env)
  os.remove(path)
  return out, code_
end

return run
