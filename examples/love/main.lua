-- examples/love/main.lua: a LÖVE 11 game that streams several answers from Claude into panels
-- while it keeps drawing at the display's rate. Nothing blocks: the streams are started with
-- callbacks (one every STAGGER seconds, mid-game), love.update gives the client one
-- client:poll(0, { max_ms = 1 }) per frame, and love.draw shows each answer as it grows, with
-- a spinner that would stutter if a frame were held up.
--
--   make LUA=luajit                       # LÖVE runs LuaJIT: the core built for it
--   love examples/love --url http://127.0.0.1:PORT [--streams 4] [--event-delay-ms 20]
--
-- The library is found from the repository this game lies in (../../lua, ../../build/luajit);
-- a shipped game would put lua/anthropic/ and anthropic/core.so beside its main.lua instead.
-- When every stream is done it prints one report line and quits with status 0 (1 if a stream
-- failed, came back with the wrong text, or did not finish in --max-seconds):
--   love: ok streams=4 done=4/4 frames=... p50_frame_ms=... p99_frame_ms=... longest_frame_ms=...
--     p50_poll_ms=... p99_poll_ms=... longest_update_cpu_ms=... texts=4/4 lua=... love=11.4
-- examples/love/test.sh runs it under Xvfb against the mock and checks that line.

local function add_library_paths(root)
  package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
  package.cpath = root .. "/build/luajit/?.so;" .. package.cpath
end

local STAGGER = 0.25          -- seconds between the starts of two streams
-- The client's share of a frame: a burst (four streams delivering at once, a connection
-- opening) is spread over the next frames instead of landing in this one (docs/async.md).
local POLL_BUDGET = { max_ms = 1 }
local game = { streams = {}, frame_ms = {}, poll_ms = {}, longest_cpu_ms = 0, frames = 0, spin = 0 }
local anthropic

local function options(args)
  local o = { url = os.getenv("ANTHROPIC_BASE_URL"), key = os.getenv("ANTHROPIC_API_KEY") or "sk-ant-mock-free",
    streams = 4, event_delay_ms = 20, max_seconds = 30, root = nil }
  local i = 1
  while args[i] do
    local k, v = args[i], args[i + 1]
    if k == "--url" then o.url = v
    elseif k == "--streams" then o.streams = tonumber(v)
    elseif k == "--event-delay-ms" then o.event_delay_ms = tonumber(v)
    elseif k == "--max-seconds" then o.max_seconds = tonumber(v)
    elseif k == "--root" then o.root = v
    else error("unknown argument " .. tostring(k)) end
    i = i + 2
  end
  assert(o.url, "pass --url (the mock: bin/anthropic-mock prints it) or set ANTHROPIC_BASE_URL")
  return o
end

-- The mock answers "You said: <the user message>", one text delta per word.
local function prompt_for(i)
  local words = {}
  for w = 1, 30 do words[w] = "l" .. i .. "w" .. w end
  return "game stream " .. i .. ": " .. table.concat(words, " ")
end

local function start_stream(i)
  local s = game.streams[i]
  s.started = true
  s.op = game.client.messages.stream({
    model = "claude-haiku-4-5", max_tokens = 1024,
    messages = { { role = "user", content = s.prompt } },
  }, {
    headers = { ["x-mock-fault"] = anthropic.json.encode { event_delay_ms = game.opts.event_delay_ms } },
    on_text = function(delta, snapshot) s.text[#s.text + 1] = delta; s.shown = snapshot end,
    on_done = function(err, msg) s.done, s.err, s.msg = true, err, msg end,
  })
end

function love.load(args)
  local o = options(args or {})
  add_library_paths(o.root or (love.filesystem.getSource() .. "/../.."))
  anthropic = require "anthropic"
  game.opts = o
  game.client = anthropic.new { api_key = o.key, base_url = o.url, max_retries = 0 }
  for i = 1, o.streams do
    local p = prompt_for(i)
    game.streams[i] = { prompt = p, expected = "You said: " .. p, text = {}, shown = "" }
  end
  game.started = love.timer.getTime()
  love.graphics.setBackgroundColor(0.08, 0.09, 0.12)
end

local function all_done()
  for _, s in ipairs(game.streams) do if not s.done then return false end end
  return true
end

function love.update(dt)
  local c0, t0 = os.clock(), love.timer.getTime()
  local elapsed = t0 - game.started
  for i, s in ipairs(game.streams) do
    if not s.started and elapsed >= (i - 1) * STAGGER then start_stream(i) end
  end
  game.client:poll(0, POLL_BUDGET)
  local t1 = love.timer.getTime()
  game.frames = game.frames + 1
  if game.frames > 1 then game.frame_ms[#game.frame_ms + 1] = dt * 1000 end
  game.poll_ms[#game.poll_ms + 1] = (t1 - t0) * 1000
  game.spin = game.spin + dt * 4
  local cpu_ms = (os.clock() - c0) * 1000
  if cpu_ms > game.longest_cpu_ms then game.longest_cpu_ms = cpu_ms end
  if all_done() then
    love.event.quit(game.check() and 0 or 1)
  elseif elapsed > game.opts.max_seconds then
    game.problem = "streams still in flight after " .. game.opts.max_seconds .. " s"
    love.event.quit(1)
  end
end

function love.draw()
  local g = love.graphics
  local w, h = g.getDimensions()
  local cols = 2
  local rows = math.ceil(#game.streams / cols)
  local pw, ph = (w - 30) / cols, (h - 60 - 10 * rows) / rows
  for i, s in ipairs(game.streams) do
    local x = 10 + ((i - 1) % cols) * (pw + 10)
    local y = 50 + math.floor((i - 1) / cols) * (ph + 10)
    g.setColor(0.16, 0.18, 0.24)
    g.rectangle("fill", x, y, pw, ph, 6)
    local progress = #s.shown / #s.expected
    g.setColor(s.err and { 0.9, 0.3, 0.3 } or (s.done and { 0.3, 0.8, 0.4 } or { 0.4, 0.6, 0.9 }))
    g.rectangle("fill", x, y + ph - 4, pw * math.min(progress, 1), 4)
    g.setColor(0.92, 0.92, 0.95)
    g.printf(s.err and tostring(s.err) or s.shown, x + 8, y + 8, pw - 16)
  end
  g.push()
  g.translate(w - 30, 25)
  g.rotate(game.spin)
  g.rectangle("fill", -8, -8, 16, 16)
  g.pop()
  local done = 0
  for _, s in ipairs(game.streams) do if s.done then done = done + 1 end end
  g.print(string.format("%d/%d answers done   frame %d   %d fps", done, #game.streams, game.frames,
    love.timer.getFPS()), 10, 15)
end

-- Every stream ended without error and with exactly the expected text?
function game.check()
  local good = 0
  for i, s in ipairs(game.streams) do
    local final = s.msg and s.msg.content and s.msg.content[1] and s.msg.content[1].text
    if s.err then game.problem = "stream " .. i .. ": " .. tostring(s.err)
    elseif table.concat(s.text) ~= s.expected or final ~= s.expected then
      game.problem = string.format("stream %d: got %q, expected %q", i, table.concat(s.text), s.expected)
    else good = good + 1 end
  end
  game.good = good
  return good == #game.streams
end

local function quantile(list, q)
  local sorted = {}
  for i, v in ipairs(list) do sorted[i] = v end
  table.sort(sorted)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.min(#sorted, math.ceil(q * #sorted)))]
end

function love.quit()
  local done = 0
  for _, s in ipairs(game.streams) do if s.done then done = done + 1 end end
  local ok = game.problem == nil and game.good == #game.streams
  local major, minor = love.getVersion()
  print(string.format("love: %s streams=%d done=%d/%d frames=%d p50_frame_ms=%.2f p99_frame_ms=%.2f "
    .. "longest_frame_ms=%.2f p50_poll_ms=%.3f p99_poll_ms=%.3f longest_update_cpu_ms=%.3f texts=%d/%d "
    .. "lua=%s love=%d.%d%s", ok and "ok" or "FAILED", #game.streams, done, #game.streams, game.frames,
    quantile(game.frame_ms, 0.5), quantile(game.frame_ms, 0.99), quantile(game.frame_ms, 1),
    quantile(game.poll_ms, 0.5), quantile(game.poll_ms, 0.99), game.longest_cpu_ms, game.good or 0,
    #game.streams, rawget(_G, "jit") and rawget(_G, "jit").version:gsub(" ", "_") or _VERSION, major, minor,
    game.problem and (" problem: " .. game.problem) or ""))
  io.stdout:flush()
  if game.client then game.client:close() end
  return false           -- let LÖVE quit
end

-- A Lua error would otherwise leave LÖVE's blue error screen up, waiting for a key press that
-- never comes on a test machine: report it on the report line and quit with status 1.
function love.errorhandler(msg)
  print(string.format("love: FAILED streams=%d error: %s", #game.streams, tostring(msg)))
  io.stdout:flush()
  if game.client then pcall(game.client.close, game.client) end
  return function() return 1 end
end
