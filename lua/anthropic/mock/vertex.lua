-- anthropic.mock.vertex: Claude on Google Vertex AI, as the aiplatform API answers it:
--   POST /v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict
--        (:streamRawPredict streams the same SSE as the first-party API)
--   POST .../publishers/anthropic/models/count-tokens:rawPredict   token counting (model in
--        the body)
--   POST /token   the OAuth token endpoint of the service-account flow: a JWT bearer grant
--        (RFC 7523) whose RS256 signature is checked against config.vertex.service_accounts
-- Checks: the bearer token (config.vertex.tokens, or one this mock issued and that has not
-- expired; else 401 UNAUTHENTICATED), the request's fault, the model (404 NOT_FOUND unknown,
-- 403 PERMISSION_DENIED not allowed for the token's tier), then the body
-- (anthropic_version "vertex-2023-10-16", no `model`). Errors of Google's front end have
-- Google's shape {"error": {"code", "message", "status"}}; the model's own errors
-- (validation) have the Anthropic shape, as on Vertex.

local core = require "anthropic.mock.crypto"
local json = require "anthropic.mock.json"
local ids = require "anthropic.mock.ids"
local validate = require "anthropic.mock.validate"
local reply = require "anthropic.mock.reply"
local turns = require "anthropic.mock.turns"
local sse = require "anthropic.mock.sse"
local auth = require "anthropic.mock.auth"
local faults = require "anthropic.mock.faults"

local M = {}

M.ANTHROPIC_VERSION = "vertex-2023-10-16"
M.MODEL_PATH = "^/v1/projects/([^/]+)/locations/([^/]+)/publishers/anthropic/models/([^/:]+):(%a+)$"

local STATUS = { [400] = "INVALID_ARGUMENT", [401] = "UNAUTHENTICATED", [403] = "PERMISSION_DENIED",
  [404] = "NOT_FOUND", [429] = "RESOURCE_EXHAUSTED", [500] = "INTERNAL", [503] = "UNAVAILABLE" }

function M.google_error(ex, status, message)
  return ex:send(status, "application/json", json.encode({ error = {
    code = status, message = message, status = STATUS[status] or "UNKNOWN" } }))
end

local function issued(ctx)
  ctx.vertex_issued = ctx.vertex_issued or {}
  return ctx.vertex_issued
end

local function b64url_decode(s)
  s = s:gsub("-", "+"):gsub("_", "/")
  s = s .. string.rep("=", (4 - #s % 4) % 4)
  return core.base64_decode(s)
end

local function form(body)
  local out = {}
  for k, v in (body or ""):gmatch("([^&=]+)=([^&]*)") do
    out[k] = v:gsub("+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end)
  end
  return out
end

local function grant_error(ex, desc)
  return ex:send(400, "application/json", json.encode({ error = "invalid_grant", error_description = desc }))
end

-- POST /token: a signed JWT in, an access token out.
function M.token(ex)
  local cfg, now = ex.ctx.config, ids.now()
  local f = form(ex.req.body)
  if f.grant_type ~= "urn:ietf:params:oauth:grant-type:jwt-bearer" or not f.assertion then
    return ex:send(400, "application/json", json.encode({ error = "unsupported_grant_type",
      error_description = "expected grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and an assertion" }))
  end
  local h64, c64, s64 = f.assertion:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$")
  local header = h64 and json.decode(b64url_decode(h64) or "")
  local claims = c64 and json.decode(b64url_decode(c64) or "")
  if type(header) ~= "table" or type(claims) ~= "table" or header.alg ~= "RS256" then
    return grant_error(ex, "Invalid JWT: expected an RS256 JWT")
  end
  local sa = type(claims.iss) == "string" and cfg.vertex.service_accounts[claims.iss]
  if not sa then return grant_error(ex, "Invalid JWT: unknown issuer") end
  if not core.rs256_verify(sa.public_key, h64 .. "." .. c64, b64url_decode(s64) or "") then
    return grant_error(ex, "Invalid JWT Signature.")
  end
  if type(claims.exp) ~= "number" or type(claims.iat) ~= "number" or claims.exp <= now
    or claims.exp - claims.iat > 3600 or claims.iat > now + 300 then
    return grant_error(ex, "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
  end
  if type(claims.scope) ~= "string" or not claims.scope:find("cloud-platform", 1, true) then
    return grant_error(ex, "Invalid JWT: scope must include https://www.googleapis.com/auth/cloud-platform")
  end
  local token = ids.next("ya29.mock-sa")
  issued(ex.ctx)[token] = { tier = sa.tier, expires = now + cfg.vertex.token_ttl_s }
  return ex:json(200, { access_token = token, expires_in = cfg.vertex.token_ttl_s, token_type = "Bearer" })
end

-- token_record(ex) -> record | nil (401 sent)
local function token_record(ex)
  local a = ex.req.headers.authorization
  local token = a and a:match("^[Bb]earer%s+(%S+)%s*$")
  local rec = token and ex.ctx.config.vertex.tokens[token]
  if not rec and token then
    local i = issued(ex.ctx)[token]
    if i and i.expires > ids.now() then rec = i end
  end
  if not rec then
    M.google_error(ex, 401, "Request had invalid authentication credentials. Expected OAuth 2 access "
      .. "token, login cookie or other valid authentication credential.")
  end
  return rec
end

-- handle(ex, project, region, model, action)
function M.handle(ex, project, region, name, action)
  local cfg = ex.ctx.config
  if action ~= "rawPredict" and action ~= "streamRawPredict" then
    return M.google_error(ex, 404, "Method not found: " .. action)
  end
  local rec = token_record(ex)
  if not rec then return end
  local f, ferr = faults.pick(ex.ctx.faults, ex.req.headers["x-mock-fault"], cfg.faults, ex.req, ex.req.path)
  if ferr then return ex:error(400, "invalid_request_error", "x-mock-fault: " .. ferr) end
  ex.fault = f
  if f and faults.is_error(f) then
    if f.status == 401 or f.status == 403 or f.status == 404 then
      return M.google_error(ex, f.status, f.message or "fault")
    end
    return ex:fault_error(f)
  end
  local where = "projects/" .. project .. "/locations/" .. region .. "/publishers/anthropic/models/" .. name
  local p, perr = json.decode(ex.req.body)
  local counting = name == "count-tokens" and action == "rawPredict"
  -- count-tokens names the model in the body, the other methods in the path
  if counting and type(p) == "table" and type(p.model) == "string" then name = p.model end
  local model = cfg.model_by_name[(name:gsub("@.*$", ""))]
  if not model then return M.google_error(ex, 404, "Publisher Model `" .. where .. "` not found.") end
  if not auth.may_use(cfg, rec, model) then
    return M.google_error(ex, 403, "Permission 'aiplatform.endpoints.predict' denied on resource "
      .. "'//aiplatform.googleapis.com/" .. where .. "' (or it may not exist).")
  end
  if type(p) ~= "table" then
    return ex:error(400, "invalid_request_error", "The request body is not valid JSON: " .. tostring(perr))
  end
  if p.anthropic_version ~= M.ANTHROPIC_VERSION then
    return ex:error(400, "invalid_request_error", "anthropic_version: expected " .. M.ANTHROPIC_VERSION)
  end
  if p.model ~= nil and not counting then
    return ex:error(400, "invalid_request_error", "model: Extra inputs are not permitted")
  end
  p.anthropic_version = nil
  p.model = model.id
  if counting then
    local cerr = validate.check(p, "count")
    if cerr then return ex:error(400, "invalid_request_error", cerr) end
    return ex:json(200, '{"input_tokens":' .. reply.input_tokens(p) .. "}")
  end
  local verr = validate.check(p, "create")
  if verr then return ex:error(400, "invalid_request_error", verr) end
  if (p.stream == true) ~= (action == "streamRawPredict") then
    return ex:error(400, "invalid_request_error",
      "stream: must be true for :streamRawPredict and absent or false for :rawPredict")
  end
  f = f or {}
  local plan = reply.plan(p, { deltas = f.deltas, text = f.text, stop_reason = f.stop_reason, make_id = ids.next,
    turn = f.turns and turns.pick(f.turns, p) })
  local id = ids.next("msg")
  if action == "rawPredict" then return ex:json(200, reply.message(plan, id, name)) end
  local outcome = sse.write(ex:sse(), ex.conn, sse.events(plan, id, name), f)
  if outcome == "closed" or outcome == "gone" then ex.keep_alive = false end
end

return M
