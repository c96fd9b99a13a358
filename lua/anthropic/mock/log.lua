-- anthropic.mock.log: the request log behind GET/DELETE /_mock/requests.
--
-- One entry per request received on an API route, in arrival order, with
-- credentials masked at the moment the entry is made: the x-api-key and
-- authorization (and proxy-authorization, cookie) values are stored as "***",
-- so a key can never leak through the log. Bounded: past `limit` entries the
-- oldest half is dropped.

local json = require "anthropic.mock.json"

local M = {}
M.__index = M

local MASKED = { ["x-api-key"] = true, authorization = true, ["proxy-authorization"] = true, cookie = true,
  ["x-amz-security-token"] = true }
M.MASKED = MASKED

local ENTRY_ORDER = json.order({ "method", "path", "query", "headers", "body", "time", "connection", "auth",
  "route", "status", "request_id", "body_bytes" })

function M.new(limit)
  return setmetatable({ entries = {}, limit = limit or 50000 }, M)
end

-- auth_kind(headers) -> "x-api-key" | "bearer" | "sigv4" | "none"
function M.auth_kind(headers)
  if headers["x-api-key"] then return "x-api-key" end
  local a = headers["authorization"]
  if a and a:match("^[Bb]earer%s") then return "bearer" end
  if a and a:match("^AWS4%-HMAC%-SHA256%s") then return "sigv4" end
  return "none"
end

-- add(req, conn_id, route) -> entry (the caller fills in status/request_id)
function M:add(req, conn_id, route)
  local headers = {}
  for k, v in pairs(req.headers) do
    headers[k] = MASKED[k] and "***" or v
  end
  local entry = json.obj(ENTRY_ORDER, {
    method = req.method, path = req.path, query = req.query, headers = headers,
    body = req.body, time = req.time, connection = conn_id, auth = M.auth_kind(req.headers),
    route = route or json.null, body_bytes = req.body_bytes,
  })
  local e = self.entries
  e[#e + 1] = entry
  if #e > self.limit then
    local keep = {}
    for i = #e - math.floor(self.limit / 2) + 1, #e do keep[#keep + 1] = e[i] end
    self.entries = keep
  end
  return entry
end

function M:clear()
  local n = #self.entries
  self.entries = {}
  return n
end

-- to_json() -> '{"requests":[...]}' with `time` at microsecond precision.
function M:to_json()
  local parts = {}
  for i, e in ipairs(self.entries) do parts[i] = json.encode(e) end
  return '{"requests":[' .. table.concat(parts, ",") .. "]}"
end

return M
