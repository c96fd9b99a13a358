-- bench/hostile.lua: the costs issue 15 bounds.
--
--   make bench-hostile   (or, with LUA_PATH/LUA_CPATH as make sets them: lua5.4 bench/hostile.lua)
--
-- 1. Turning a 2 MB error body that holds the key 100,000 times into an error (scrubbing; no
--    server): the best of 5 runs, in ms.
-- 2. A stream of 1 MiB of text in 16-byte deltas (65,536 events) from the specs' loopback
--    server (spec/support/hostile.lua), with on_text(delta) and with on_text(delta, snapshot):
--    wall time of one run each, in s.
local anthropic = require "anthropic"
local client = require "anthropic.client"
local socket = require "socket"
local hostile = require "spec.support.hostile"

local KEY = "sk-ant-mock-free"
local c = client.new { api_key = KEY, base_url = "http://127.0.0.1:9" }
local clock = os.clock

local function best_of(n, fn)
  local best = math.huge
  for _ = 1, n do
    local t0 = clock()
    fn()
    best = math.min(best, clock() - t0)
  end
  return best * 1000
end

local body = (KEY .. " \r\n,"):rep(100000)
local ms = best_of(5, function()
  local err = c:_error { transport = "none", status = 500, body = body, attempts = 1 }
  assert(#err.message == 300 and not err.body:find("mock", 1, true))
end)
print(string.format("scrub: %d-byte error body holding the key 100,000 times -> error in %.1f ms", #body, ms))
c:close()

local text = ("0123456789abcdef"):rep(65536)
local reply = hostile.text_stream(text, 16)
local PARAMS = { model = "m", max_tokens = 1, messages = { { role = "user", content = "x" } } }
for _, case in ipairs {
  { "on_text(delta)", function(_) end },
  { "on_text(delta, snapshot)", function(_, snapshot) return snapshot end },
} do
  local srv = hostile.start { replies = { reply } }
  local cl = anthropic.new { api_key = KEY, base_url = srv.url, max_retries = 0 }
  local t0 = socket.gettime()
  local s = cl.messages.stream(PARAMS, { on_text = case[2], on_done = function() end })
  while not s:is_done() do cl:poll(50) end
  assert(s.op.result, "the stream failed")
  print(string.format("on_text: 1 MiB in 16-byte deltas with %s: %.2f s", case[1], socket.gettime() - t0))
  cl:close()
  srv.stop()
end
