-- anthropic.mock.ids: deterministic identifiers and RFC 3339 times.
--
-- Ids are a per-prefix counter ("msg_mock_000001"), so two runs that send the
-- same requests in the same order get the same ids. Counters survive
-- DELETE /_mock/requests on purpose: a batch id or message id is never reused
-- within one process.

local socket = require "socket"

local M = {}

local counters = {}

-- next(kind) -> "<kind>_mock_000042"
function M.next(kind)
  local n = (counters[kind] or 0) + 1
  counters[kind] = n
  return string.format("%s_mock_%06d", kind, n)
end

function M.now()
  return socket.gettime()
end

-- iso(t) -> "2024-08-20T18:37:24.100435Z" (microseconds, like batch times).
function M.iso_micro(t)
  local sec = math.floor(t)
  local micro = math.floor((t - sec) * 1e6 + 0.5)
  if micro >= 1000000 then sec, micro = sec + 1, 0 end
  return os.date("!%Y-%m-%dT%H:%M:%S", sec) .. string.format(".%06dZ", micro)
end

-- iso_sec(t) -> "2025-10-30T16:17:36Z" (seconds, like rate-limit resets).
function M.iso_sec(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t))
end

-- http_date(t) -> "Thu, 30 Oct 2025 16:17:37 GMT"
function M.http_date(t)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(t))
end

return M
