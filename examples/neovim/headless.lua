-- examples/neovim/headless.lua: what the headless Neovim test drivers share (driver.lua,
-- agent_driver.lua). Loaded with dofile, before package.path knows the checkout:
--
--   local here = debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/[^/]*$") or "."
--   local headless = dofile(here .. "/headless.lua")
--   headless.use_checkout(here)     -- lua/ and build/luajit/ of this checkout come first
--   local finish = headless.reporter(20000, "x: FAILED still running", cleanup)
--   ... finish(true, "x: ok ...")   -- prints the one report line, exits 0 (or 1)

local uv = vim.uv or vim.loop

local M = {}

--- M.use_checkout(here) puts the checkout's Lua modules and LuaJIT build (and `here`) first on
--- the module paths.
function M.use_checkout(here)
  local root = here .. "/../.."
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. here .. "/?.lua;" .. package.path
  package.cpath = root .. "/build/luajit/?.so;" .. package.cpath
end

--- M.reporter(limit_ms, timeout_line [, before_exit]) -> finish(ok, line). finish prints `line`
--- once, calls before_exit, and quits Neovim with status 0 (ok) or 1. Without a finish within
--- limit_ms, it finishes with (false, timeout_line).
function M.reporter(limit_ms, timeout_line, before_exit)
  local finished = false
  local guard = uv.new_timer()
  local function finish(ok, line)
    if finished then return end
    finished = true
    guard:stop()
    io.stdout:write(line, "\n")
    io.stdout:flush()
    if before_exit then before_exit() end
    vim.schedule(function() vim.cmd("cquit " .. (ok and 0 or 1)) end)
  end
  guard:start(limit_ms, 0, function() finish(false, timeout_line) end)
  return finish
end

return M
