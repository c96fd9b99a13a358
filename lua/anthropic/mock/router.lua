-- anthropic.mock.router: from a parsed request to a handler.
--
-- Routes match the path suffix from a "/v1/" segment, so any prefix works
-- (http://host/gw/x/v1/messages, as behind a gateway). Checks run in the
-- real API's order: body size (413), route (404/405), credentials (401),
-- anthropic-version (400), then the fault for this request (x-mock-fault or
-- the config), then the endpoint's own validation.

local exchange = require "anthropic.mock.exchange"
local auth = require "anthropic.mock.auth"
local faults = require "anthropic.mock.faults"
local replay = require "anthropic.mock.replay"
local control = require "anthropic.mock.control"
local messages = require "anthropic.mock.messages"
local models = require "anthropic.mock.models"
local batches = require "anthropic.mock.batches"
local files = require "anthropic.mock.files"
local bedrock = require "anthropic.mock.bedrock"
local vertex = require "anthropic.mock.vertex"

local M = {}

local ROUTES = {
  { "POST", "^/v1/messages$", messages.create },
  { "POST", "^/v1/messages/count_tokens$", messages.count_tokens },
  { "GET", "^/v1/models$", models.list },
  { "GET", "^/v1/models/([^/]+)$", models.get },
  { "POST", "^/v1/messages/batches$", batches.create },
  { "GET", "^/v1/messages/batches$", batches.list },
  { "GET", "^/v1/messages/batches/([^/]+)$", batches.get },
  { "DELETE", "^/v1/messages/batches/([^/]+)$", batches.delete },
  { "POST", "^/v1/messages/batches/([^/]+)/cancel$", batches.cancel },
  { "GET", "^/v1/messages/batches/([^/]+)/results$", batches.results },
  { "POST", "^/v1/files/?$", files.upload },
  { "GET", "^/v1/files/?$", files.list },
  { "GET", "^/v1/files/([^/]+)$", files.get },
  { "DELETE", "^/v1/files/([^/]+)$", files.delete },
  { "GET", "^/v1/files/([^/]+)/content$", files.content },
}

-- resolve(method, path) -> handler, captures, prefix, suffix | nil, status
function M.resolve(method, path)
  local wrong_method = false
  local start = 1
  while true do
    local at = path:find("/v1/", start, true)
    if not at then break end
    local suffix = path:sub(at)
    for _, r in ipairs(ROUTES) do
      local caps = { suffix:match(r[2]) }
      if caps[1] ~= nil then
        if r[1] == method then
          if caps[1] == suffix then caps = {} end
          return r[3], caps, path:sub(1, at - 1), suffix
        end
        wrong_method = true
      end
    end
    start = at + 1
  end
  return nil, wrong_method and 405 or 404
end

-- platform_route(req) -> handler, args | nil: Bedrock's /model/{id}/invoke[-with-response-
-- stream], Vertex's .../publishers/anthropic/models/{model}:{action} and its token endpoint.
function M.platform_route(req)
  if req.method ~= "POST" then return nil end
  local seg, action = req.path:match("^/model/([^/]+)/([%w-]+)$")
  if seg and (action == "invoke" or action == "invoke-with-response-stream") then
    return bedrock.handle, { seg, action }
  end
  local project, region, model, verb = req.path:match(vertex.MODEL_PATH)
  if project then return vertex.handle, { project, region, model, verb } end
  if req.path == "/token" then return vertex.token, {} end
  return nil
end

-- limit_for(config) -> function(path) -> max body bytes
function M.limit_for(config)
  return function(path)
    if path:match("/v1/messages/batches/?$") then return config.max_batch_body_bytes end
    -- An upload's multipart envelope (boundaries, part headers) on top of the file itself.
    if path:match("/v1/files/?$") then return config.max_file_bytes + 64 * 1024 end
    return config.max_body_bytes
  end
end

-- handle(ctx, conn, req) -> exchange (its keep_alive says if the connection lives on)
function M.handle(ctx, conn, req)
  local which, id = control.route(req.path)
  if which then
    local ex = exchange.new(ctx, conn, req, nil)
    control.handle(ex, which, id)
    return ex
  end
  -- The cloud platforms' routes check their own credentials (anthropic.mock.bedrock, .vertex).
  local platform, args = M.platform_route(req)
  if platform then
    local ex = exchange.new(ctx, conn, req, ctx.log:add(req, conn.id, req.path))
    if req.too_large then
      ex:error(413, "request_too_large", "Request exceeds the maximum size")
    elseif not require("anthropic.mock.crypto") then
      ex:error(501, "api_error", "the mock's Bedrock and Vertex routes need anthropic.core "
        .. "(install the anthropic rock beside anthropic-mock)")
    else
      platform(ex, (table.unpack or unpack)(args)) -- luacheck: ignore 143
    end
    return ex
  end
  local handler, caps, prefix, suffix = M.resolve(req.method, req.path)
  local entry = ctx.log:add(req, conn.id, suffix)
  local ex = exchange.new(ctx, conn, req, entry)
  ex.prefix = prefix
  if req.too_large then
    ex:error(413, "request_too_large", "Request exceeds the maximum size")
    return ex
  end
  if not handler then
    if caps == 405 then ex:error(405, "invalid_request_error", "Method Not Allowed")
    else ex:error(404, "not_found_error", "Not Found") end
    return ex
  end
  local rec, key_or_status, etype, msg = auth.identify(ctx.config, req.headers)
  if not rec then
    ex:error(key_or_status, etype, msg)
    return ex
  end
  ex.key_rec, ex.key = rec, key_or_status
  local vok, verr = auth.check_version(req.headers)
  if not vok then
    ex:error(400, "invalid_request_error", verr)
    return ex
  end
  local f, ferr = faults.pick(ctx.faults, req.headers["x-mock-fault"], ctx.config.faults, req, suffix)
  if ferr then
    ex:error(400, "invalid_request_error", "x-mock-fault: " .. ferr)
    return ex
  end
  ex.fault = f
  if f then
    if faults.is_error(f) then
      ex:fault_error(f)
      return ex
    end
    if f.replay then
      local data, rerr = replay.read(f.replay)
      if not data then
        ex.fault = nil
        ex:error(400, "invalid_request_error", "x-mock-fault: " .. rerr)
        return ex
      end
      replay.serve(ex, f, data)
      return ex
    end
    if f.not_json then
      ex:not_json()
      return ex
    end
  end
  handler(ex, (table.unpack or unpack)(caps)) -- luacheck: ignore 143
  return ex
end

return M
