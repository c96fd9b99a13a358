-- examples/frame_loop/run.lua: a stand-in for LÖVE's love.run, in plain Lua with LuaSocket, so
-- main.lua runs (and is tested) without LÖVE. It provides only what main.lua uses:
-- love.timer.getTime, love.event.quit, love.graphics.print (a no-op), and a 60 Hz frame loop
-- that calls love.update(dt) and love.draw(), then sleeps to the next 16 ms boundary, as vsync
-- would. Usage: lua examples/frame_loop/run.lua --url URL [--streams N] [--event-delay-ms MS]

local socket = require "socket"

local FRAME = 0.016
local exit_code

love = {
  timer = { getTime = socket.gettime },
  event = { quit = function(code) exit_code = code or 0 end },
  graphics = { print = function() end },
}

local here = (arg and arg[0] or ""):match("^(.*)[/\\][^/\\]*$") or "."
dofile(here .. "/main.lua")

love.load(arg)
local last = love.timer.getTime()
local next_frame = last
while exit_code == nil do
  local now = love.timer.getTime()
  local dt = now - last
  last = now
  love.update(dt)
  if exit_code ~= nil then break end
  love.draw()
  next_frame = next_frame + FRAME
  local wait = next_frame - love.timer.getTime()
  if wait > 0 then socket.sleep(wait) else next_frame = love.timer.getTime() end
end
love.quit()
os.exit(exit_code)
