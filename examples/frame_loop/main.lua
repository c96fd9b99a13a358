-- examples/frame_loop/main.lua: a game, shaped like a LÖVE main.lua, that streams replies from
-- Claude while it keeps drawing frames. Nothing here blocks: the streams are started with
-- callbacks, and love.update(dt) gives the client one client:poll(0) per frame.
--
-- Under LÖVE this is the game's main.lua (put the library on package.path/cpath). Without
-- LÖVE, examples/frame_loop/run.lua stands in for love.run and supplies love.timer/event/graphics:
--
--   lua5.4 examples/frame_loop/run.lua --url http://127.0.0.1:PORT --streams 10
--
-- When every stream is done it prints one line (frames, the longest love.update, the cost of
-- poll(0) at p50/p99, the longest gap between frames) and quits with status 0, or 1 if a
-- stream failed or came back with the wrong text.

local anthropic = require "anthropic"

love = love or {}

local game = {
  streams = {},        -- { prompt, expected, text = { deltas }, done, err, msg }
  poll_ms = {},        -- the cost of client:poll(0), one sample per frame
  update_ms = {},      -- the whole love.update (wall time), one sample per frame
  longest_cpu_ms = 0,  -- the longest love.update in CPU time (os.clock): the library's own cost,
                       -- apart from time a loaded machine gave to other processes
  frames = 0,
  longest_dt = 0,
}

local function options(args)
  local o = { url = os.getenv("ANTHROPIC_BASE_URL"), streams = 10, event_delay_ms = 20,
              key = os.getenv("ANTHROPIC_API_KEY") or "sk-ant-mock-free", max_seconds = 30 }
  local i = 1
  while args and args[i] do
    local k, v = args[i], args[i + 1]
    if k == "--url" then o.url = v
    elseif k == "--streams" then o.streams = tonumber(v)
    elseif k == "--event-delay-ms" then o.event_delay_ms = tonumber(v)
    elseif k == "--max-seconds" then o.max_seconds = tonumber(v)
    else error("unknown argument " .. tostring(k)) end
    i = i + 2
  end
  assert(o.url, "pass --url (the mock: bin/anthropic-mock prints it) or set ANTHROPIC_BASE_URL")
  return o
end

-- The mock answers "You said: <the user message>", one text delta per word.
local function prompt_for(i)
  local words = {}
  for w = 1, 24 do words[w] = "f" .. i .. "w" .. w end
  return "frame stream " .. i .. ": " .. table.concat(words, " ")
end

function love.load(args)
  local o = options(args)
  game.opts = o
  game.started = love.timer.getTime()
  game.client = anthropic.new { api_key = o.key, base_url = o.url, max_retries = 0 }
  local fault = anthropic.json.encode { event_delay_ms = o.event_delay_ms }
  for i = 1, o.streams do
    local s = { prompt = prompt_for(i), text = {} }
    s.expected = "You said: " .. s.prompt
    game.streams[i] = s
    game.client.messages.stream({
      model = "claude-haiku-4-5", max_tokens = 1024,
      messages = { { role = "user", content = s.prompt } },
    }, {
      headers = { ["x-mock-fault"] = fault },
      on_text = function(delta) s.text[#s.text + 1] = delta end,
      on_done = function(err, msg) s.done, s.err, s.msg = true, err, msg end,
    })
  end
end

function love.update(dt)
  local c0 = os.clock()
  local t0 = love.timer.getTime()
  local inflight = game.client:poll(0)
  local t1 = love.timer.getTime()
  game.frames = game.frames + 1
  game.poll_ms[#game.poll_ms + 1] = (t1 - t0) * 1000
  if game.frames > 1 and dt > game.longest_dt then game.longest_dt = dt end
  -- A game would animate here; the text so far is in game.streams[i].text.
  game.update_ms[#game.update_ms + 1] = (love.timer.getTime() - t0) * 1000
  local cpu_ms = (os.clock() - c0) * 1000
  if cpu_ms > game.longest_cpu_ms then game.longest_cpu_ms = cpu_ms end
  if inflight == 0 then
    love.event.quit(game.check() and 0 or 1)
  elseif t1 - game.started > game.opts.max_seconds then
    game.problem = "streams still in flight after " .. game.opts.max_seconds .. " s"
    love.event.quit(1)
  end
end

function love.draw()
  local done = 0
  for _, s in ipairs(game.streams) do if s.done then done = done + 1 end end
  love.graphics.print(string.format("%d/%d streams done, frame %d", done, #game.streams, game.frames), 10, 10)
end

-- Every stream ended without error and with exactly the expected text?
function game.check()
  local good = 0
  for i, s in ipairs(game.streams) do
    local final = s.msg and s.msg.content and s.msg.content[1] and s.msg.content[1].text
    if s.err then
      game.problem = "stream " .. i .. ": " .. tostring(s.err)
    elseif not s.done then
      game.problem = "stream " .. i .. " never finished"
    elseif table.concat(s.text) ~= s.expected or final ~= s.expected then
      game.problem = string.format("stream %d: got %q, expected %q", i, table.concat(s.text), s.expected)
    else
      good = good + 1
    end
  end
  game.good = good
  return good == #game.streams
end

local function quantile(list, q)
  local sorted = {}
  for i, v in ipairs(list) do sorted[i] = v end
  table.sort(sorted)
  if #sorted == 0 then return 0 end
  local k = math.max(1, math.min(#sorted, math.ceil(q * #sorted)))
  return sorted[k]
end

function love.quit()
  local ok = game.problem == nil and game.good == #game.streams
  print(string.format("frame_loop: %s streams=%d frames=%d longest_frame_ms=%.3f longest_frame_cpu_ms=%.3f "
    .. "p50_frame_ms=%.3f p99_frame_ms=%.3f p50_poll_ms=%.3f p99_poll_ms=%.3f longest_dt_ms=%.1f texts=%d/%d lua=%s%s",
    ok and "ok" or "FAILED", #game.streams, game.frames, quantile(game.update_ms, 1), game.longest_cpu_ms,
    quantile(game.update_ms, 0.5), quantile(game.update_ms, 0.99), quantile(game.poll_ms, 0.5),
    quantile(game.poll_ms, 0.99), game.longest_dt * 1000, game.good or 0, #game.streams,
    rawget(_G, "jit") and rawget(_G, "jit").version or _VERSION,
    game.problem and (" problem: " .. game.problem) or ""))
  game.client:close()
end

return game
