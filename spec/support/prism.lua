--[[ spec.support.prism: a schema-validating mock of the API for specs (@stoplight/prism-cli).

Prism serves the API's OpenAPI description (spec/fixtures/conformance/spec/anthropic-openapi.json) with
request validation on: a request that breaks the schema gets 422 and an `sl-violations` header
listing what is wrong. It is a test dependency only, installed into tools/prism/node_modules by
tools/prism/install (npm, the version pinned in tools/prism/package-lock.json).

  local prism = require "spec.support.prism"
  prism.skip()          -> nil, or why the schema spec is skipped: ANTHROPIC_SKIP_PRISM=1, or no
                           usable Node.js (tools/prism/node-ok) unless ANTHROPIC_REQUIRE_PRISM=1
  prism.missing()       -> nil, or why prism cannot run (not installed, no node) and what to do
  local p = prism.start()   -> { url =, pid =, stop = function, log = function -> text }
  p.stop()              -- also done at exit

ANTHROPIC_PRISM_URL=http://127.0.0.1:PORT uses a prism that is already running (faster while
iterating: `tools/prism/node_modules/.bin/prism mock -h 127.0.0.1 -p 4010 <spec>`).
start() picks a free loopback port, waits for prism to answer (it takes seconds to start), and
runs a watchdog that stops prism when this process is gone, even after a crash.
]]

local socket = require "socket"
local conformance = require "spec.support.conformance"

local M = {}

M.INSTALL = "tools/prism/install"
M.START_TIMEOUT = 90          -- seconds; prism parses the whole description before listening

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- os.execute returns true/nil on 5.2+ and an exit status on 5.1.
local function sh_ok(cmd)
  local r = os.execute(cmd)
  return r == true or r == 0
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

function M.bin()
  return conformance.repo_path("tools/prism/node_modules/.bin/prism")
end

function M.spec_path()
  return conformance.dir() .. "/spec/anthropic-openapi.json"
end

function M.url_from_env()
  local url = os.getenv("ANTHROPIC_PRISM_URL")
  if url and url ~= "" then return (url:gsub("/+$", "")) end
  return nil
end

function M.skip()
  if os.getenv("ANTHROPIC_SKIP_PRISM") == "1" then return "ANTHROPIC_SKIP_PRISM=1" end
  if os.getenv("ANTHROPIC_REQUIRE_PRISM") == "1" or M.url_from_env() then return nil end
  local p = io.popen("sh " .. quote(conformance.repo_path("tools/prism/node-ok")) .. " 2>&1")
  local why = p:read("*a")
  local ok = p:close()
  if ok == true or ok == 0 then return nil end
  return "the schema check " .. (why:gsub("%s+$", ""))
end

function M.missing()
  if M.url_from_env() then return nil end
  if not exists(M.spec_path()) then return "the OpenAPI description is missing: " .. M.spec_path() end
  if not exists(M.bin()) then
    return "prism is not installed: run " .. M.INSTALL .. " (npm ci into tools/prism/node_modules), "
      .. "or set ANTHROPIC_SKIP_PRISM=1 to skip the schema spec"
  end
  if not sh_ok("command -v node >/dev/null 2>&1") then
    return "prism needs node on PATH (node 18.20+); or set ANTHROPIC_SKIP_PRISM=1 to skip the schema spec"
  end
  return nil
end

-- A free loopback port: bind port 0, read it, release it (prism binds it right after).
local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function answers(port)
  local c = socket.tcp()
  c:settimeout(0.5)
  local ok = c:connect("127.0.0.1", port)
  c:close()
  return ok ~= nil
end

local started = {}

local function kill(pid) os.execute("kill " .. pid .. " 2>/dev/null") end

-- At exit: 5.2+ and LuaJIT run __gc when busted closes the state; on 5.1 the watchdog does it.
local function sentinel()
  local function gc() for pid in pairs(started) do kill(pid) end end
  if _VERSION == "Lua 5.1" and rawget(_G, "newproxy") then
    local p = rawget(_G, "newproxy")(true)
    getmetatable(p).__gc = gc
    return p
  end
  return setmetatable({}, { __gc = gc })
end
M._sentinel = sentinel()

--- prism.start() -> handle { url, pid, stop, log }. Raises with the reason when prism cannot run
--- or does not answer within START_TIMEOUT seconds (its output is in the message).
function M.start()
  local url = M.url_from_env()
  if url then return { url = url, stop = function() end, log = function() return "" end } end
  local why = M.missing()
  if why then error(why, 2) end
  local port = free_port()
  local logfile = os.tmpname()
  -- The subshell's $PPID is this Lua process: the watchdog stops prism once it is gone.
  local cmd = string.format("%s mock -h 127.0.0.1 -p %d %s >%s 2>&1 </dev/null & p=$!; echo \"pid $p\"; "
    .. "( while kill -0 $PPID 2>/dev/null && kill -0 $p 2>/dev/null; do sleep 1; done; kill $p 2>/dev/null ) "
    .. ">/dev/null 2>&1 </dev/null &",
    quote(M.bin()), port, quote(M.spec_path()), quote(logfile))
  local p = assert(io.popen(cmd, "r"))
  local pid = tonumber((p:read("*l") or ""):match("^pid (%d+)$"))
  p:close()
  assert(pid, "could not start prism")
  started[pid] = true
  local h = { url = "http://127.0.0.1:" .. port, pid = pid, port = port }
  function h.log()
    local f = io.open(logfile, "rb")
    if not f then return "" end
    local text = f:read("*a")
    f:close()
    return text
  end
  function h.stop()
    if started[pid] then
      started[pid] = nil
      kill(pid)
      os.remove(logfile)
    end
  end
  local deadline = socket.gettime() + M.START_TIMEOUT
  while not answers(port) do
    if socket.gettime() > deadline or not sh_ok("kill -0 " .. pid .. " 2>/dev/null") then
      local out = h.log()
      h.stop()
      error("prism did not start on port " .. port .. ":\n" .. out, 2)
    end
    socket.sleep(0.2)
  end
  return h
end

return M
