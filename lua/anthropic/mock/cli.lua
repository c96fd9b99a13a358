-- anthropic.mock.cli: the anthropic-mock command.
--
--   anthropic-mock [--host 127.0.0.1] [--port N] [--config FILE]
--                  [--watch-pid PID] [--batch-end-ms MS] [--verbose] [--help] [--version]
--                  [--rate-limit-requests N] [--rate-limit-input-tokens N]
--                  [--rate-limit-output-tokens N] [--rate-limit-window-ms MS]
--
-- First stdout line, printed once connections are accepted:
-- "listening http://HOST:PORT". Bad flags or a bad config file: one line on
-- stderr and exit code 2; the port cannot be bound: exit code 1. SIGINT and
-- SIGTERM end the process (LuaSocket has no signal API; nothing is left to
-- clean up: no files are written). --watch-pid makes the mock exit when that
-- process is gone (test harnesses use it so no mock outlives them).

local config_mod = require "anthropic.mock.config"
local server_mod = require "anthropic.mock.server"

local M = {}

M.VERSION = "0.1.0"

local USAGE = [[
usage: anthropic-mock [--host HOST] [--port N] [--config FILE] [--watch-pid PID]
                      [--batch-end-ms MS] [--verbose]

An offline mock of the Anthropic API (see docs/mock.md).
  --host HOST       address to listen on (default 127.0.0.1)
  --port N          port (default 8787; 0 picks a free one)
  --config FILE     JSON file adding models, tiers, keys, faults, limits
  --watch-pid PID   exit when process PID is gone
  --batch-end-ms MS a Message Batch ends MS ms after its creation (overrides the config)
  --verbose         one line per request on stderr
  --rate-limit-requests N, --rate-limit-input-tokens N, --rate-limit-output-tokens N
                    enforce this limit per key and window (429 rate_limit_error past it)
  --rate-limit-window-ms MS   the rate-limit window (default 60000)
  --help, --version
]]

-- --rate-limit-* flag -> the ratelimit setting it sets (and the least value it takes)
local RATE_FLAGS = {
  ["rate-limit-requests"] = { "requests", 0 }, ["rate-limit-input-tokens"] = { "input_tokens", 0 },
  ["rate-limit-output-tokens"] = { "output_tokens", 0 }, ["rate-limit-window-ms"] = { "window_ms", 1 },
}

local function parse(argv)
  local o = { host = "127.0.0.1", port = 8787 }
  local takes = { host = true, port = true, config = true, ["watch-pid"] = true, ["batch-end-ms"] = true }
  for flag in pairs(RATE_FLAGS) do takes[flag] = true end
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^%-%-([%w%-]+)=(.*)$")
    if not name then name = a:match("^%-%-([%w%-]+)$") end
    if not name then return nil, "unexpected argument '" .. a .. "' (try --help)" end
    local v
    if takes[name] then
      v = inline
      if v == nil then
        i = i + 1
        v = argv[i]
        if v == nil then return nil, "--" .. name .. " needs a value" end
      end
    elseif inline ~= nil then
      return nil, "--" .. name .. " takes no value"
    end
    if name == "host" then
      if v == "" then return nil, "--host needs a value" end
      o.host = v
    elseif name == "port" then
      local n = v:match("^%d+$") and tonumber(v)
      if not n or n > 65535 then return nil, "--port needs a number from 0 to 65535, got '" .. v .. "'" end
      o.port = n
    elseif name == "config" then
      o.config = v
    elseif name == "watch-pid" then
      local n = v:match("^%d+$") and tonumber(v)
      if not n or n < 1 then return nil, "--watch-pid needs a process id, got '" .. v .. "'" end
      o.watch_pid = n
    elseif name == "batch-end-ms" then
      local n = v:match("^%d+%.?%d*$") and tonumber(v)
      if not n then return nil, "--batch-end-ms needs a number of milliseconds >= 0, got '" .. v .. "'" end
      o.batch_end_ms = n
    elseif RATE_FLAGS[name] then
      local n = v:match("^%d+$") and tonumber(v)
      if not n or n < RATE_FLAGS[name][2] then
        return nil, "--" .. name .. " needs an integer >= " .. RATE_FLAGS[name][2] .. ", got '" .. v .. "'"
      end
      o.ratelimit = o.ratelimit or { enforce = true }
      o.ratelimit[RATE_FLAGS[name][1]] = n
    elseif name == "verbose" then
      o.verbose = true
    elseif name == "help" then
      o.help = true
    elseif name == "version" then
      o.version = true
    else
      return nil, "unknown option '--" .. name .. "' (try --help)"
    end
    i = i + 1
  end
  return o
end
M.parse = parse

local function alive_checker(pid)
  local f = io.open("/proc/self/stat", "r")
  if f then
    f:close()
    return function()
      local p = io.open("/proc/" .. pid .. "/stat", "r")
      if not p then return false end
      local stat = p:read("*l") or ""
      p:close()
      local state = stat:match("%)%s+(%a)")
      return state ~= "Z" and state ~= "X" -- a zombie is gone for our purpose
    end
  end
  return function()
    local r = os.execute("kill -0 " .. pid .. " 2>/dev/null")
    return r == true or r == 0
  end
end

local function fail(msg, code)
  io.stderr:write("anthropic-mock: ", msg, "\n")
  return code or 2
end

-- main(argv) -> exit code (only returns on error: the server runs until killed)
function M.main(argv)
  local o, err = parse(argv or {})
  if not o then return fail(err) end
  if o.help then io.stdout:write(USAGE); return 0 end
  if o.version then io.stdout:write("anthropic-mock ", M.VERSION, "\n"); return 0 end
  local cfg
  cfg, err = config_mod.load(o.config)
  if not cfg then return fail(err) end
  if o.batch_end_ms then cfg.batch_end_ms = o.batch_end_ms end
  for k, v in pairs(o.ratelimit or {}) do cfg.ratelimit[k] = v end   -- flags over the file
  local on_tick
  if o.watch_pid then
    local alive, last = alive_checker(o.watch_pid), 0
    on_tick = function(now)
      if now - last >= 0.25 then
        last = now
        if not alive() then os.exit(0) end
      end
    end
  end
  local srv = server_mod.new(cfg, { verbose = o.verbose, on_tick = on_tick })
  local ok, lerr = srv:listen(o.host, o.port)
  if not ok then return fail("cannot listen on " .. o.host .. ":" .. o.port .. ": " .. tostring(lerr), 1) end
  local shown = o.host:find(":", 1, true) and ("[" .. o.host .. "]") or o.host
  io.stdout:write("listening http://", shown, ":", tostring(srv.port), "\n")
  io.stdout:flush()
  -- The standalone interpreter turns SIGINT into an "interrupted!" error in
  -- the main thread: that is a clean stop, not a crash. SIGTERM just ends
  -- the process (default action); there is nothing to flush or remove.
  local rok, rerr = pcall(srv.run, srv)
  if not rok then
    if require("anthropic.mock.sched").is_interrupt(rerr) then return 0 end
    error(rerr, 0)
  end
  return 0
end

return M
