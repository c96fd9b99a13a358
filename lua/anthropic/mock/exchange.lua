-- anthropic.mock.exchange: one request/response on a connection.
--
-- Handlers answer through this object so that every reply gets the same
-- treatment: a request-id header (and the same id in error bodies), the
-- fault's delay before the headers, the fault's extra headers, the status
-- recorded in the request log, and Connection: close when the connection
-- cannot be reused. Error bodies always have the real shape
-- {"type":"error","error":{"type":...,"message":...},"request_id":...}.

local json = require "anthropic.mock.json"
local http = require "anthropic.mock.http"
local ids = require "anthropic.mock.ids"
local sched = require "anthropic.mock.sched"
local faults = require "anthropic.mock.faults"

local M = {}
M.__index = M

local ORG_ID = "00000000-0000-4000-8000-00000000a0c0"
local ERROR_BODY = json.order({ "type", "error", "request_id" })
local ERROR_INNER = json.order({ "type", "message" })

function M.new(ctx, conn, req, entry)
  local ex = setmetatable({
    ctx = ctx, conn = conn, req = req, entry = entry, request_id = ids.next("req"),
    fault = nil, keep_alive = req.keep_alive, started = false,
  }, M)
  if entry then entry.request_id = ex.request_id end
  return ex
end

function M.error_body(etype, message, request_id)
  return json.encode(json.obj(ERROR_BODY, {
    type = "error", error = json.obj(ERROR_INNER, { type = etype, message = message }),
    request_id = request_id or json.null,
  }))
end

function M:headers(content_type, extra)
  local h = {
    { "date", ids.http_date(ids.now()) },
    { "content-type", content_type },
    { "request-id", self.request_id },
    { "anthropic-organization-id", ORG_ID },
    { "server", "anthropic-mock" },
  }
  for _, x in ipairs(extra or {}) do h[#h + 1] = x end
  local fh = self.fault and self.fault.headers
  if fh then
    local names = {}
    for k in pairs(fh) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
      local lk = k:lower()
      for i = #h, 1, -1 do
        if h[i][1] == lk then table.remove(h, i) end
      end
      h[#h + 1] = { lk, tostring(fh[k]) }
    end
  end
  return h
end

-- begin(status): the fault's delay_ms, once, before anything is written.
function M:begin(status)
  if self.started then return end
  self.started = true
  if self.entry then self.entry.status = status end
  local d = self.fault and self.fault.delay_ms
  if d and d > 0 then sched.sleep(d / 1000) end
end

function M:send(status, content_type, body, extra)
  self:begin(status)
  return http.respond(self.conn, status, self:headers(content_type, extra), body, self.keep_alive)
end

function M:json(status, value, extra)
  local body = type(value) == "string" and value or json.encode(value)
  return self:send(status, "application/json", body, extra)
end

-- error(status, type, message [, extra]) : a reply the mock itself decided
-- (validation, auth, ...): x-should-retry as the real API sends it.
function M:error(status, etype, message, extra)
  extra = extra or {}
  local retry = (status == 408 or status == 409 or status == 429 or status >= 500) and "true" or "false"
  extra[#extra + 1] = { "x-should-retry", retry }
  return self:send(status, "application/json", M.error_body(etype, message, self.request_id), extra)
end

local function html_page(status)
  local title = string.format("%d ", status) .. (http.REASONS[status] or "Error")
  return "<html>\r\n<head><title>" .. title .. "</title></head>\r\n<body>\r\n<center><h1>" .. title ..
    "</h1></center>\r\n<hr><center>anthropic-mock</center>\r\n</body>\r\n</html>\r\n"
end

-- fault_error(f): the error reply a fault asked for; only the fault's headers.
function M:fault_error(f)
  local status = f.status
  if f.not_json then
    return self:send(status, "text/html", f.body or html_page(status))
  end
  if f.body then
    local ct = f.body:match("^%s*[{%[]") and "application/json" or "text/plain; charset=utf-8"
    return self:send(status, ct, f.body)
  end
  local etype, msg = faults.status_defaults(status)
  etype = f.error_type or etype
  if f.error_type and not f.message then msg = faults.message_for_type(etype) end
  return self:send(status, "application/json", M.error_body(etype, f.message or msg, self.request_id))
end

-- not_json(): a 200 whose body claims to be JSON but is not.
function M:not_json()
  return self:send(200, "application/json", self.fault.body or html_page(200))
end

-- chunked(status, content_type, extra) -> http chunked writer (delay applied)
function M:chunked(status, content_type, extra)
  self:begin(status)
  return http.chunked(self.conn, status, self:headers(content_type, extra), self.keep_alive)
end

-- fixed(status, content_type, length, extra) -> http fixed-length writer (delay applied)
function M:fixed(status, content_type, length, extra)
  self:begin(status)
  return http.fixed(self.conn, status, self:headers(content_type, extra), length, self.keep_alive)
end

function M:sse(extra)
  local h = { { "cache-control", "no-cache" } }
  for _, x in ipairs(extra or {}) do h[#h + 1] = x end
  return self:chunked(200, "text/event-stream; charset=utf-8", h)
end

-- base_url(): scheme://host + the prefix before /v1/, as the client sees it.
function M:base_url()
  local host = self.req.headers.host or ("127.0.0.1:" .. tostring(self.ctx.port))
  return "http://" .. host .. (self.prefix or "")
end

return M
