-- bench/clients/luaprof.lua: which Lua functions a client script spends its VM instructions in.
--
--   lua5.4 bench/clients/luaprof.lua OUT.txt SCRIPT ARGS...
-- Runs SCRIPT with ARGS as its `arg`, with a count hook every 100 VM instructions that charges
-- the running Lua function, and writes the top functions to OUT.txt when the script ends (or
-- calls os.exit). The hook counts Lua instructions only: time inside C functions (cjson.decode,
-- the core's poll) is not seen here; callgrind (bench/run) covers that side. For LuaJIT use
-- `luajit -jp=...` instead (hooks do not run in compiled code).
local out_path, script = arg[1], arg[2]
assert(out_path and script, "usage: luaprof.lua OUT.txt SCRIPT ARGS...")

local script_arg = { [0] = script }
for i = 3, #arg do script_arg[i - 2] = arg[i] end
_G.arg = script_arg

local counts, names, total = {}, {}, 0
local getinfo = debug.getinfo
local function hook()
  local info = getinfo(2, "S")
  if not info then return end
  local key = info.source:gsub("^@", ""):gsub("^.*/lua/", "lua/"):gsub("^.*/bench/", "bench/") ..
    ":" .. tostring(info.linedefined)
  counts[key] = (counts[key] or 0) + 1
  total = total + 1
  if not names[key] then
    local n = getinfo(2, "n")
    names[key] = n and n.name or "?"
  end
end

local dumped = false
local function dump()
  if dumped then return end
  dumped = true
  debug.sethook()
  local keys = {}
  for k in pairs(counts) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return counts[a] > counts[b] end)
  local f = assert(io.open(out_path, "w"))
  f:write(("%d samples of 100 Lua VM instructions\n"):format(total))
  for i = 1, math.min(#keys, 30) do
    local k = keys[i]
    f:write(("%6.2f%%  %s  (%s)\n"):format(100 * counts[k] / math.max(total, 1), names[k], k))
  end
  f:close()
end

local real_exit = os.exit
os.exit = function(...) -- luacheck: ignore 122
  dump()
  return real_exit(...)
end

local chunk = assert(loadfile(script))
debug.sethook(hook, "", 100)
local ok, err = pcall(chunk, table.unpack(script_arg))
dump()
if not ok then
  io.stderr:write(tostring(err), "\n")
  real_exit(1)
end
