-- bench/clients/ours_env.lua: points package.path/cpath at this checkout, so the benchmark runs
-- the library as built in place: lua/ for the Lua modules, build/<interpreter>/ for core.so
-- (`make LUA=lua5.4`, `make LUA=luajit`). BENCH_OURS_CPATH, when set, is tried first.
-- Returns the interpreter's name ("lua5.4", "luajit").
local root = arg[0]:gsub("[^/]*$", "") .. "../../"
local interp = jit and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
package.path = root .. "lua/?.lua;" .. root .. "lua/?/init.lua;" .. package.path
package.cpath = (os.getenv("BENCH_OURS_CPATH") or "") .. ";" .. root .. "build/" .. interp .. "/?.so;" ..
  package.cpath
return interp
