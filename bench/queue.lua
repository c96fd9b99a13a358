-- bench/queue.lua: how close a rate-limited queue comes to the minimum time its limit allows.
--
--   make bench-queue   (or, with LUA_PATH/LUA_CPATH as make sets them: lua5.4 bench/queue.lua [N LIMIT WINDOW_MS])
--
-- N requests (default 1000) through client:queue{ max_in_flight = 16 } against the mock
-- enforcing LIMIT requests (default 100) per WINDOW_MS (default 200). Prints the elapsed
-- time, the minimum ((ceil(N / LIMIT) - 1) windows), their ratio, and the 429s the server
-- sent (none reach the caller: the core retries them).
local load = require "spec.support.queue_load"

local n, limit, window = tonumber(arg[1]) or 1000, tonumber(arg[2]) or 100, tonumber(arg[3]) or 200
local r = load.run { n = n, limit = limit, window_ms = window, max_in_flight = 16 }
local failed = 0
for _ in pairs(r.errs) do failed = failed + 1 end
print(string.format("queue: %d requests, %d per %d ms: %.3f s (minimum %.3f s), ratio %.3f; "
  .. "429s sent by the server %d, errors for the caller %d", n, limit, window, r.elapsed, r.minimum,
  r.elapsed / r.minimum, r.server.limited, failed))
