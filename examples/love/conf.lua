-- examples/love/conf.lua: LÖVE's configuration, read before main.lua. Audio is off (a CI machine
-- has no sound card, and the game needs none); so are the modules it does not use.
function love.conf(t)
  t.identity = "lua-anthropic-love-example"
  t.version = "11.4"
  t.console = false
  t.window.title = "lua-anthropic: streaming while drawing"
  t.window.width = 960
  t.window.height = 600
  t.window.vsync = 1            -- frames paced by the display, as a game's are
  t.modules.audio = false
  t.modules.sound = false
  t.modules.joystick = false
  t.modules.physics = false
  t.modules.video = false
  t.modules.touch = false
end
