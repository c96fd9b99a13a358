-- tools/soak.lua: the long run of issue 9. Sends N requests (default 10,000) from one client in
-- one process against the mock and samples the resident set size (VmRSS in /proc/self/status)
-- and the Lua heap every 1,000 requests. The first sample (after 1,000 requests: connections,
-- buffers, easy-handle pool and module caches warmed up) is the baseline; the run fails when
-- the last sample is more than --max-growth-kb above it.
--
-- The mix covers every path that allocates in C: blocking create (most of the traffic),
-- streams read event by event, count_tokens, error replies (4xx and a 529 retried once),
-- non-blocking requests four at a time, a cancelled stream, and a second client created and
-- closed (a fresh engine, connection and pool each time).
--
--   make soak                                    (uses the Makefile's LUA_PATH/LUA_CPATH)
--   lua5.4 tools/soak.lua [--requests N] [--every N] [--max-growth-kb KB] [--url URL]
--
-- Without --url (or ANTHROPIC_MOCK_URL) a mock is started for the run (spec/support/mock.lua).

local anthropic = require "anthropic"
local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"

local function parse(argv)
  local o = { requests = 10000, every = 1000, max_growth_kb = 1024 }
  local i = 1
  while i <= #argv do
    local a, v = argv[i], argv[i + 1]
    if a == "--requests" then o.requests = assert(tonumber(v), "--requests N")
    elseif a == "--every" then o.every = assert(tonumber(v), "--every N")
    elseif a == "--max-growth-kb" then o.max_growth_kb = assert(tonumber(v), "--max-growth-kb KB")
    elseif a == "--url" then o.url = v
    else
      io.stderr:write("usage: soak.lua [--requests N] [--every N] [--max-growth-kb KB] [--url URL]\n")
      os.exit(2)
    end
    i = i + 2
  end
  return o
end

local function rss_kb()
  for line in io.lines("/proc/self/status") do
    local v = line:match("^VmRSS:%s+(%d+)")
    if v then return tonumber(v) end
  end
end

local opts = parse(arg or {})
local url = opts.url or mock.url()
local HAIKU = "claude-haiku-4-5"
local KEY = "sk-ant-mock-free"

local function params(i)
  return { model = HAIKU, max_tokens = 64,
    messages = { { role = "user", content = "soak request number " .. i .. " with some text" } } }
end
local function fault(t) return { headers = { ["x-mock-fault"] = cjson.encode(t) } } end
-- Each error fault header is made unique per request so that its one-element sequence fires.
local function once(i, t) t.delay_ms = 0; t.seed = i; return fault(t) end

local client = anthropic.new { api_key = KEY, base_url = url, max_retries = 1, retry_cap = 1 }
local counts = { create = 0, stream = 0, count_tokens = 0, error = 0, retried = 0, nonblocking = 0,
  cancelled = 0, new_client = 0 }

-- One unit of work for request number i; returns how many requests it sent.
local function step(i)
  local kind = i % 100
  if kind == 7 or kind == 37 or kind == 67 or kind == 97 then
    local s = client.messages.stream(params(i))
    local n = 0
    for ev in s:events() do if ev.type == "content_block_delta" then n = n + 1 end end
    assert(n > 0, "stream without deltas")
    counts.stream = counts.stream + 1
    return 1
  elseif kind == 13 or kind == 63 then
    local r = client.messages.count_tokens(params(i))
    assert(r.input_tokens > 0)
    counts.count_tokens = counts.count_tokens + 1
    return 1
  elseif kind == 21 or kind == 71 then
    local ok, err = pcall(client.messages.create, params(i), once(i, { status = 400, message = "bad " .. i }))
    assert(not ok and err.class_name == "BadRequest", tostring(err))
    counts.error = counts.error + 1
    return 1
  elseif kind == 43 then
    -- a 529 then success: the retry timer path (retry-after-ms 1)
    local msg = client.messages.create(params(i), once(i, { sequence = { { status = 529,
      headers = { ["retry-after-ms"] = "1" } } } }))
    assert(msg.type == "message")
    counts.retried = counts.retried + 1
    return 2
  elseif kind == 55 then
    local done = 0
    for j = 1, 4 do
      client.messages.create(params(i + j), { on_done = function(err, msg)
        assert(not err and msg.type == "message", tostring(err))
        done = done + 1
      end })
    end
    while client:poll(50) > 0 do end
    assert(done == 4, "non-blocking requests lost")
    counts.nonblocking = counts.nonblocking + 4
    return 4
  elseif kind == 88 then
    local s = client.messages.stream(params(i), fault { deltas = 40, event_delay_ms = 1 })
    local it = s:events()
    it()
    s:close()
    counts.cancelled = counts.cancelled + 1
    return 1
  elseif kind == 99 then
    local c2 = anthropic.new { api_key = KEY, base_url = url, max_retries = 0 }
    assert(c2.messages.create(params(i)).type == "message")
    c2:close()
    counts.new_client = counts.new_client + 1
    return 1
  end
  local msg = client.messages.create(params(i))
  assert(msg.type == "message")
  counts.create = counts.create + 1
  return 1
end

local samples = {}
local t0 = socket.gettime()
local sent, i, next_sample = 0, 0, opts.every
io.write(string.format("soak: %d requests against %s (%s)\n", opts.requests, url,
  rawget(_G, "jit") and rawget(_G, "jit").version or _VERSION))
io.write(string.format("%10s %10s %10s %9s\n", "requests", "rss_kb", "lua_kb", "seconds"))
while sent < opts.requests do
  i = i + 1
  sent = sent + step(i)
  if sent >= next_sample then
    collectgarbage("collect")
    collectgarbage("collect")
    local s = { sent = sent, rss = rss_kb(), lua = math.floor(collectgarbage("count")), t = socket.gettime() - t0 }
    samples[#samples + 1] = s
    io.write(string.format("%10d %10d %10d %9.1f\n", s.sent, s.rss, s.lua, s.t))
    io.flush()
    next_sample = next_sample + opts.every
  end
end
client:close()

local first, last = samples[1], samples[#samples]
local growth = last.rss - first.rss
local parts = {}
for k, v in pairs(counts) do parts[#parts + 1] = k .. "=" .. v end
table.sort(parts)
io.write(string.format("soak: mix %s\n", table.concat(parts, " ")))
io.write(string.format("soak: RSS %d KiB after %d requests, %d KiB after %d: growth %+d KiB "
  .. "(limit %d KiB); Lua heap %d -> %d KiB; %.1f s, %.0f requests/s\n",
  first.rss, first.sent, last.rss, last.sent, growth, opts.max_growth_kb, first.lua, last.lua, last.t,
  last.sent / last.t))
if #samples < 2 then
  io.write("soak: FAILED: fewer than two samples (use --requests >= 2 x --every)\n")
  os.exit(1)
end
if growth > opts.max_growth_kb then
  io.write("soak: FAILED: RSS grew by more than the limit\n")
  os.exit(1)
end
io.write("soak: ok\n")
