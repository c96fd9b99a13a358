-- anthropic.mock.control: the mock's own endpoints under /_mock/.
--
--   GET    /_mock/requests   the request log: {"requests":[...]}
--   DELETE /_mock/requests   clear the log, every fault sequence counter and
--                            the rate-limit windows
--   GET    /_mock/ratelimit  the rate-limit settings and counts: {"enforce","window_ms",
--                            "requests","input_tokens","output_tokens","counted","limited"}
--   PUT    /_mock/ratelimit  new settings (the same fields but the counts); windows and
--                            counts start afresh
--   GET    /_mock/batches    {"batch_pending_polls","batch_end_ms","created","requests"}: how
--                            batches end, and how many batches and requests were created
--   PUT    /_mock/batches    new timing for batches created from then on (fields left out stay)
--   GET    /_mock/health     {"ok":true}
--   POST   /_mock/files      { filename, mime_type, size_bytes [, content] }: a downloadable
--                            file, as the API makes them (anthropic.mock.files); its metadata
--   GET    /_mock/files/{id} the bytes the mock holds for any file (an upload as it arrived)
-- No authentication; never logged themselves. Any path prefix works.

local faults = require "anthropic.mock.faults"
local ratelimit = require "anthropic.mock.ratelimit"
local files = require "anthropic.mock.files"
local batches = require "anthropic.mock.batches"
local json = require "anthropic.mock.json"

local M = {}

-- route(path) -> "requests" | "health" | "files" | "ratelimit" | "batches" | "file", id | nil
function M.route(path)
  local id = path:match("/_mock/files/([^/]+)$")
  if id then return "file", id end
  return path:match("/_mock/(requests)/?$") or path:match("/_mock/(health)/?$") or path:match("/_mock/(files)/?$")
    or path:match("/_mock/(ratelimit)/?$") or path:match("/_mock/(batches)/?$")
    or (path:find("/_mock/", 1, true) == 1 and "unknown") or nil
end

function M.handle(ex, which, id)
  local ctx, method = ex.ctx, ex.req.method
  if which == "requests" and method == "GET" then
    return ex:json(200, ctx.log:to_json())
  elseif which == "requests" and method == "DELETE" then
    local n = ctx.log:clear()
    faults.reset(ctx.faults)
    ratelimit.reset(ctx.ratelimit)
    return ex:json(200, '{"cleared":' .. n .. "}")
  elseif which == "ratelimit" and method == "GET" then
    return ex:json(200, json.encode(ratelimit.stats(ctx.ratelimit)))
  elseif which == "ratelimit" and (method == "PUT" or method == "POST") then
    local settings = json.decode(ex.req.body or "")
    local err = settings == nil and "the body is not valid JSON" or ratelimit.check(settings)
    if err then return ex:error(400, "invalid_request_error", "ratelimit: " .. err) end
    ratelimit.configure(ctx.ratelimit, settings)
    return ex:json(200, json.encode(ratelimit.stats(ctx.ratelimit)))
  elseif which == "batches" and method == "GET" then
    return ex:json(200, json.encode(batches.settings(ctx)))
  elseif which == "batches" and (method == "PUT" or method == "POST") then
    local settings = json.decode(ex.req.body or "")
    local err = settings == nil and "the body is not valid JSON" or batches.configure(ctx, settings)
    if err then return ex:error(400, "invalid_request_error", "batches: " .. err) end
    return ex:json(200, json.encode(batches.settings(ctx)))
  elseif which == "health" and method == "GET" then
    return ex:json(200, '{"ok":true}')
  elseif which == "files" and method == "POST" then
    local spec = json.decode(ex.req.body)
    local value, err = files.make(ctx, spec)
    if not value then return ex:error(400, "invalid_request_error", err) end
    return ex:json(200, value)
  elseif which == "file" and method == "GET" then
    local f = ctx.files.by_id[id]
    if not f then return ex:error(404, "not_found_error", "File not found: " .. id) end
    return ex:send(200, "application/octet-stream", files.content_of(f))
  elseif which == "unknown" then
    return ex:error(404, "not_found_error", "Not Found")
  end
  return ex:error(405, "invalid_request_error", "Method Not Allowed")
end

return M
