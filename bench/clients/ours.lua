-- bench/clients/ours.lua: this library (require "anthropic"), run by lua5.4 and by luajit.
--
--   lua5.4 bench/clients/ours.lua a|b|c|e|f BASE_URL N       (contract: bench/clients/common.lua)
-- a: client.messages.create() n times; b: client.messages.stream() + final_message() n times;
-- c: n streams started with callbacks at once, then client:poll() until none is in flight;
-- e: n streams from the rate-limited route in a 60 fps frame loop: each frame calls
--    client:poll(0) once and sleeps the rest of its 16 ms; reports the cost of each poll;
-- f: the same with unthrottled 20,000-event streams and no sleep (poll as fast as possible),
--    the worst case for the work a single poll can be handed.
-- m: as c with n = 1,000 (HTTP/1.1); h: the same over TLS + HTTP/2 (BENCH_CA_FILE trusts the
--    run's certificate); g: as b on Bedrock's route (AWS event-stream framing, BENCH_AWS_*);
-- s: n fresh processes that only `require "anthropic"` + anthropic.new{} (startup_child.lua);
-- q: n whole `anthropic-lua ask --no-stream` processes against the server;
-- k: no request: the schema check of n tool calls (bench/clients/paths.lua);
-- r: the tool runner's overhead per turn, against the offline mock (bench/clients/paths.lua);
-- p: as e, with a frame budget: client:poll(0, 48) hands out at most 48 events a frame;
-- t: as e, with a time budget: client:poll(0, { max_ms = 0.3 }) (BUDGET below).
-- u: as t, with a host that steps its own collector once a frame, after the poll and outside
--    the timed part (collectgarbage("step"), as games do in a frame's idle time).
-- The module is loaded from this checkout as built in place (see ours_env.lua).
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local interp = require "ours_env"
local common = require "common"
local anthropic = require "anthropic"

local name = "ours-" .. interp
local w, base, n = common.args(name, arg)

local client
if w == "g" then
  -- Bedrock's stream framing served by nginx; static credentials, so nothing is looked up.
  client = anthropic.bedrock {
    base_url = base, region = "us-east-1", max_retries = 0,
    access_key_id = "AKIDBENCHNOTAKEY", secret_access_key = "bench-not-a-secret",
  }
elseif w ~= "s" and w ~= "q" and w ~= "k" and w ~= "r" then
  client = anthropic.new {
    api_key = common.API_KEY,
    base_url = base,
    max_retries = 0,
    ca_file = w == "h" and os.getenv("BENCH_CA_FILE") or nil,
  }
end

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
  local st = { done = 0, bytes = 0, streams = {} }
  for i = 1, count do
    st.streams[i] = client.messages.stream(common.params(), {
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

-- Workloads t and u: the time budget of one poll, in ms. 0.3 since session 12, when an event
-- got cheap enough for the streams to keep the server's pace under it (within a few polls of
-- e, which has no budget; bench/report_scale.lua checks that); 0.4 before.
local BUDGET = { max_ms = 0.3 }

-- One client:poll(0) per frame, timed on its own (wall and CPU time); `frame` seconds per
-- frame (0: no sleep).
local function frame_loop(frame, budget, host_gc)
  local st = start_streams(n)
  local samples, cpu, now, clock, sleep = {}, {}, common.now, os.clock, common.sleep
  -- Polls made while some stream still waits for its reply's headers are the frames in which
  -- connections open (connect, send, first bytes): reported apart as well (open_*).
  local opening, waiting = {}, st.streams
  local t_start, c_start = now(), clock()
  repeat
    local open = false
    for i = 1, #waiting do
      if waiting[i].status == nil and not waiting[i]:is_done() then open = true; break end
    end
    local c0, t0 = clock(), now()
    local left = client:poll(0, budget)
    local t1, c1 = now(), clock()
    samples[#samples + 1] = (t1 - t0) * 1e6
    cpu[#cpu + 1] = (c1 - c0) * 1e6
    if open then opening[#opening + 1] = (t1 - t0) * 1e6 end
    if host_gc then collectgarbage("step", 0) end
    if frame > 0 and left > 0 then
      local rest = frame - (now() - t0)
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
    open_polls = #opening, open_max_us = #opening > 0 and common.percentile(opening, 100) or 0,
  }
end

-- s and q: whole processes, n of them, each timed from spawn to exit.
local here = arg[0]:gsub("[^/]*$", "")
local function processes(argv)
  return common.spawn_timed(n, argv)
end

common.main(name, w, n, function()
  if w == "a" then return common.timed(n, create) end
  if w == "b" or w == "g" then return common.timed(n, stream) end
  if w == "c" or w == "m" or w == "h" then return concurrent() end
  if w == "k" then return require("paths").k(n) end
  if w == "r" then return require("paths").r(n, base) end
  if w == "s" then return processes({ interp, here .. "startup_child.lua" }) end
  if w == "q" then
    return processes({ "env", "ANTHROPIC_API_KEY=" .. common.API_KEY, "ANTHROPIC_BASE_URL=" .. base,
      interp, here .. "../../bin/anthropic-lua", "ask", "--no-stream", "Hello, Claude" })
  end
  if w == "e" then return frame_loop(1 / 60) end
  if w == "p" then return frame_loop(1 / 60, 48) end
  if w == "t" then return frame_loop(1 / 60, BUDGET) end
  if w == "u" then return frame_loop(1 / 60, BUDGET, true) end
  if w == "f" then return frame_loop(0) end
  common.unsupported(w)
end)
