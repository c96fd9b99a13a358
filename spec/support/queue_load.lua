-- spec.support.queue_load: N queued requests against a mock that enforces a request limit
-- (spec/queue_volume_spec.lua asserts on it, bench/queue.lua reports it).
--
--   local load = require "spec.support.queue_load"
--   local r = load.run { n = 1000, limit = 100, window_ms = 200, max_in_flight = 16 }
--   r.results, r.errs (q:results()), r.elapsed (s), r.minimum (s), r.server (GET /_mock/ratelimit)
--
-- The minimum time the limit allows: every window takes `limit` requests, so the last one
-- cannot start before (ceil(n / limit) - 1) windows have passed since the first.

local anthropic = require "anthropic"
local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"

local M = {}

function M.run(o)
  local m = mock.spawn { "--rate-limit-requests", tostring(o.limit), "--rate-limit-window-ms", tostring(o.window_ms) }
  local client = anthropic.new { api_key = mock.KEYS.free, base_url = m.url, max_retries = 2 }
  local q = client:queue { max_in_flight = o.max_in_flight }
  local t0 = socket.gettime()
  for i = 1, o.n do
    q:create { model = mock.MODELS.haiku, max_tokens = 16, messages = { { role = "user", content = "n" .. i } } }
  end
  local results, errs = q:results()
  local elapsed = socket.gettime() - t0
  local _, _, body = mock.request("GET", "/_mock/ratelimit", {}, nil, { url = m.url })
  client:close()
  m.stop()
  return { results = results, errs = errs, elapsed = elapsed, server = cjson.decode(body),
    minimum = (math.ceil(o.n / o.limit) - 1) * o.window_ms / 1000 }
end

return M
