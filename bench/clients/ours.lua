-- bench/clients/ours.lua: this library (require "anthropic"), run by lua5.4 and by luajit.
--
--   lua5.4 bench/clients/ours.lua a|b|c|e|f BASE_URL N       (contract: bench/clients/common.lua)
-- a: client.messages.create() n times; b: client.messages.stream() + final_message() n times;
-- c: n streams started with callbacks at once, then client:poll() until none is in flight;
-- e: n streams from the rate-limited route in a 60 fps frame loop: each frame calls
--    client:poll(0) once and sleeps the rest of its 16 ms; reports the cost of each poll;
-- f: the same with unthrottled 20,000-event streams and no sleep (poll as fast as possible),
--    the worst case for the work a single poll can be handed.
-- The module is loaded from this checkout as built in place (see ours_env.lua).
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local interp = require "ours_env"
local common = require "common"
local anthropic = require "anthropic"

local name = "ours-" .. interp
local w, base, n = common.args(name, arg)

local client = anthropic.new {
  api_key = common.API_KEY,
  base_url = base,
  max_retries = 0,
}

local function text_bytes(msg)
  local n_ = 0
  for _, block in ipairs(msg.content) do
    if block.type == "text" then n_ = n_ + #block.text end
  end
  return n_
end

local function create()
  return text_bytes(client.messages.create(common.params()))
end

local function stream()
  local s = client.messages.stream(common.params())
  return text_bytes(s:final_message())
end

-- Starts `count` streams with callbacks; returns a table tracking their completion.
local function start_streams(count)
  local st = { done = 0, bytes = 0 }
  for _ = 1, count do
    client.messages.stream(common.params(), {
      on_done = function(err, msg)
        if err then st.err = st.err or err end
        if msg then st.bytes = st.bytes + text_bytes(msg) end
        st.done = st.done + 1
      end,
    })
  end
  return st
end

local function check(st, count)
  if st.err then error(st.err, 0) end
  if st.done ~= count then error(("%d of %d streams finished"):format(st.done, count), 0) end
end

local function concurrent()
  local c0, t0 = os.clock(), common.now()
  local st = start_streams(n)
  while client:poll(1000) > 0 do end
  local dt, cpu = common.now() - t0, os.clock() - c0
  check(st, n)
  return { seconds = dt, cpu_seconds = cpu, text_bytes = st.bytes }
end

-- One client:poll(0) per frame, timed on its own (wall and CPU time); `frame` seconds per
-- frame (0: no sleep).
local function frame_loop(frame)
  local st = start_streams(n)
  local samples, cpu, now, clock, sleep = {}, {}, common.now, os.clock, common.sleep
  local t_start, c_start = now(), clock()
  repeat
    local c0, t0 = clock(), now()
    local left = client:poll(0)
    local t1, c1 = now(), clock()
    samples[#samples + 1] = (t1 - t0) * 1e6
    cpu[#cpu + 1] = (c1 - c0) * 1e6
    if frame > 0 and left > 0 then
      local rest = frame - (t1 - t0)
      if rest > 0 then sleep(rest) end
    end
  until left == 0
  local dt, dcpu = now() - t_start, clock() - c_start
  check(st, n)
  local max = 0
  for _, v in ipairs(samples) do if v > max then max = v end end
  return {
    seconds = dt, cpu_seconds = dcpu, text_bytes = st.bytes, polls = #samples,
    p50_us = common.percentile(samples, 50), p99_us = common.percentile(samples, 99), max_us = max,
    p99_cpu_us = common.percentile(cpu, 99),
  }
end

common.main(name, w, n, function()
  if w == "a" then return common.timed(n, create) end
  if w == "b" then return common.timed(n, stream) end
  if w == "c" then return concurrent() end
  if w == "e" then return frame_loop(1 / 60) end
  if w == "f" then return frame_loop(0) end
  common.unsupported(w)
end)
