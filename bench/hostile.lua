-- bench/hostile.lua: the costs issue 15 bounds, measured in one process, no server needed.
--
--   LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lua5.4/?.so;;' lua5.4 bench/hostile.lua
--
-- 1. Turning a 2 MB error body that holds the key 100,000 times into an error (scrubbing).
-- Prints the best of 5 runs in ms.
local client = require "anthropic.client"

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
