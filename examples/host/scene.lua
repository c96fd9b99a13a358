-- examples/host/scene.lua: the Lua half of the C host (host.c).
--
-- host.c owns the frame loop and calls, in order:
--   scene.start(url, n, event_delay_ms)   start n streams with callbacks; returns at once
--   scene.tick() -> in-flight count        once per 16 ms frame (or per wake-up): one client:poll(0)
--   scene.watch() -> sockets, timeout_ms    events mode: what to wait for before the next tick
--   scene.finish() -> ok, summary          did every stream end with exactly the right text?
--
-- The host put its compiled-in anthropic.core in package.preload before this file ran, and
-- require tries preload before package.cpath; `static_core` records that nothing had loaded
-- another core first, so the test fails if a core.so from package.cpath could have been used.

local static_core = package.preload["anthropic.core"] ~= nil and package.loaded["anthropic.core"] == nil
local anthropic = require "anthropic"

local scene = {}

local client
local streams = {}
local events = 0            -- every on_event call: wake-ups are compared with this

-- The mock's reply is "You said: " followed by the last user message, one delta per word.
local function prompt_for(i)
  local words = {}
  for w = 1, 24 do words[w] = string.format("s%dw%d", i, w) end
  return "host stream " .. i .. ": " .. table.concat(words, " ")
end

function scene.start(url, n, event_delay_ms)
  client = anthropic.new { api_key = "sk-ant-mock-free", base_url = url, max_retries = 0 }
  local fault = anthropic.json.encode { event_delay_ms = event_delay_ms }
  for i = 1, n do
    local s = { text = {}, expected = "You said: " .. prompt_for(i) }
    streams[i] = s
    s.handle = client.messages.stream({
      model = "claude-haiku-4-5", max_tokens = 1024,
      messages = { { role = "user", content = prompt_for(i) } },
    }, {
      headers = { ["x-mock-fault"] = fault },
      on_event = function() events = events + 1 end,
      on_text = function(delta) s.text[#s.text + 1] = delta end,
      on_done = function(err, msg)
        s.done, s.err, s.msg = true, err, msg
      end,
    })
  end
end

function scene.tick()
  return client:poll(0)
end

function scene.watch()
  return client:sockets(), client:timeout()
end

function scene.finish()
  local good, problems = 0, {}
  for i, s in ipairs(streams) do
    local text = table.concat(s.text)
    local final = s.msg and s.msg.content and s.msg.content[1] and s.msg.content[1].text
    if not s.done then
      problems[#problems + 1] = "stream " .. i .. " never finished"
    elseif s.err then
      problems[#problems + 1] = "stream " .. i .. ": " .. tostring(s.err)
    elseif text ~= s.expected or final ~= s.expected then
      problems[#problems + 1] = string.format("stream %d: text %q, final %q, expected %q",
        i, text, tostring(final), s.expected)
    else
      good = good + 1
    end
  end
  if not static_core then problems[#problems + 1] = "anthropic.core was not the statically linked one" end
  client:close()
  local summary = string.format("events=%d texts=%d/%d core=%s", events, good, #streams,
    static_core and "static" or "shared")
  if #problems > 0 then summary = summary .. " problems: " .. table.concat(problems, "; ") end
  return #problems == 0, summary
end

return scene
