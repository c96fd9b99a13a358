-- anthropic.platforms.vertex: Claude on Google Vertex AI (anthropic.vertex{}).
--
-- The same client as anthropic.new, with Vertex's mapping (as the official SDKs' Vertex
-- packages do it):
--   * POST {base}/v1/projects/{project}/locations/{region}/publishers/anthropic/models/
--     {model}:rawPredict (:streamRawPredict for streams), base
--     https://{region}-aiplatform.googleapis.com, or https://aiplatform.googleapis.com for the
--     region "global";
--   * the body without `model`, with anthropic_version = "vertex-2023-10-16" (and
--     `stream: true` for streams); betas stay in the anthropic-beta header; streams are SSE;
--   * Authorization: Bearer <access token>: the access_token option, else token_provider(),
--     else a service-account key file (credentials_file, else GOOGLE_APPLICATION_CREDENTIALS)
--     exchanged for a token at its token_uri (or the token_url option) with a JWT bearer grant
--     (RFC 7523) signed RS256 by libcrypto. Tokens are cached until 60 s before they expire;
--     a 401 drops the cached token and the request is sent once more with a fresh one.
-- A token fetch is a blocking request on the client's engine (inside anthropic.spawn it
-- yields); it happens about once an hour. Errors are typed as first party (by error.type, else
-- status). messages.count_tokens works (count-tokens:rawPredict); Models and Message Batches
-- are not available here.

local core = require "anthropic.core"
local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local platforms = require "anthropic.platforms"

local M = {}

M.ANTHROPIC_VERSION = "vertex-2023-10-16"
M.SCOPE = "https://www.googleapis.com/auth/cloud-platform"
M.REFRESH_MARGIN_S = 60
M.OPTIONS = {
  project_id = true, region = true, access_token = true, token_provider = true,
  credentials_file = true, token_url = true,
}

---@class anthropic.VertexPlatform Vertex AI's URL, body and bearer-token mapping behind a client
local Platform = {}
Platform.__index = Platform
Platform.__tostring = function(p)
  return "anthropic.platforms.vertex(" .. p.project_id .. ", " .. p.region .. ")"
end

-- platform -> { token, expires, provider, account }: credentials stay out of the platform table.
local secrets = setmetatable({}, { __mode = "k" })

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  return v
end


local function b64url(s)
  return (core.base64_encode(s):gsub("+", "-"):gsub("/", "_"):gsub("=+$", ""))
end

--- The secrets every error, log line and tostring of this client must never show.
---@return string[]
function Platform:secrets()
  local s, list = secrets[self], {}
  if s.token then list[#list + 1] = s.token end
  if s.old_token then list[#list + 1] = s.old_token end
  if s.account then list[#list + 1] = s.account.private_key end
  return list
end

--- The Messages mapping (anthropic.messages.route): :rawPredict, or :streamRawPredict.
---@param params anthropic.MessageParams
---@param stream? boolean
---@return table route
function Platform:messages(params, stream)
  local body = platforms.body(params)
  body.anthropic_version = M.ANTHROPIC_VERSION
  local path = "/v1/projects/" .. platforms.escape(self.project_id) .. "/locations/"
    .. platforms.escape(self.region) .. "/publishers/anthropic/models/" .. platforms.escape(params.model, "@")
  if stream then
    body.stream = true
    return { path = path .. ":streamRawPredict", body = json.encode(body), betas = params.betas,
      accept = "text/event-stream", stream = true }
  end
  return { path = path .. ":rawPredict", body = json.encode(body), betas = params.betas }
end

--- Token counting: POST .../publishers/anthropic/models/count-tokens:rawPredict, the model
--- in the body (as the official SDKs' Vertex clients send it).
---@param params anthropic.MessageParams
---@param drop table<string, boolean> the create-only fields left out
---@return table route
function Platform:count_tokens(params, drop)
  local body = {}
  for k, v in pairs(params) do
    if k ~= "betas" and not drop[k] then body[k] = v end
  end
  body.anthropic_version = M.ANTHROPIC_VERSION
  return "/v1/projects/" .. platforms.escape(self.project_id) .. "/locations/"
    .. platforms.escape(self.region) .. "/publishers/anthropic/models/count-tokens:rawPredict", json.encode(body)
end

-- The service-account flow: a signed JWT exchanged for an access token.
local function fetch_service_account_token(self, client)
  local a = secrets[self].account
  local now = os.time()
  local header = json.encode({ alg = "RS256", typ = "JWT", kid = a.private_key_id })
  local claims = json.encode({ iss = a.client_email, scope = M.SCOPE, aud = self.token_url,
    iat = now, exp = now + 3600 })
  local unsigned = b64url(header) .. "." .. b64url(claims)
  local sig, serr = core.rs256_sign(a.private_key, unsigned)
  if not sig then errors.usage("credentials_file", serr) end
  local ok, reply = require("anthropic.compat").pcall(client._call, client, {
    method = "POST", url = self.token_url, raw = true,
    body = "grant_type=" .. platforms.escape("urn:ietf:params:oauth:grant-type:jwt-bearer")
      .. "&assertion=" .. unsigned .. "." .. b64url(sig),
    headers = { ["content-type"] = "application/x-www-form-urlencoded" },
    handler = require("anthropic.outcome").json_handler,
  })
  if not ok then
    if not errors.APIStatusError.is_class_of(reply) then error(reply, 0) end
    -- The token endpoint's own error (invalid_grant, ...) is a credential problem.
    local body = type(reply.body) == "table" and reply.body or {}
    error(errors.new(errors.AuthenticationFailed, { status = reply.status, type = body.error,
      message = "service-account token request failed: " .. tostring(body.error_description
        or reply.message), request_id = reply.request_id }), 0)
  end
  if type(reply) ~= "table" or type(reply.access_token) ~= "string" then
    error(errors.new(errors.AuthenticationFailed,
      { message = "the token endpoint answered without an access_token" }), 0)
  end
  return reply.access_token, tonumber(reply.expires_in)
end

--- The current access token, fetched (or refreshed) when needed.
---@param client anthropic.Client
---@param force? boolean fetch a new one even when the cached one is still good
---@return string
function Platform:token(client, force)
  local s = secrets[self]
  if s.static then return s.token end
  if s.token and not force and (s.expires == nil or os.time() < s.expires - M.REFRESH_MARGIN_S) then
    return s.token
  end
  local token, expires_in
  if s.provider then
    token, expires_in = s.provider()
  else
    token, expires_in = fetch_service_account_token(self, client)
  end
  if type(token) ~= "string" or token == "" or token:find("[%z\r\n]") then
    errors.usage("token_provider", "must return a non-empty access token string")
  end
  s.old_token, s.token = s.token, token
  -- A provider that gives no lifetime is asked again for every request.
  s.expires = expires_in and os.time() + expires_in or nil
  if s.provider and not expires_in then s.token_once = true end
  return token
end

--- Adds Authorization: Bearer <token> to a copy of the header list.
---@param client anthropic.Client
---@param spec table the request about to start
---@param _ string the URL
---@param list string[] "Name: value" header lines
---@return string[]
function Platform:authorize(client, spec, _, list)
  if spec.raw then return list end
  local s = secrets[self]
  local token = self:token(client, s.token_once)
  local out = {}
  for i = 1, #list do
    if not list[i]:match("^[Aa]nthropic%-[Vv]ersion:") then out[#out + 1] = list[i] end
  end
  out[#out + 1] = "Authorization: Bearer " .. token
  return out
end

--- After a 401: drop the token so the next request gets a fresh one. Returns whether a
--- fresh one can be had (not for a fixed access_token).
---@return boolean
function Platform:unauthorized()
  local s = secrets[self]
  if s.static then return false end
  s.expires, s.token_once = 0, false
  return true
end


local function read_account(path)
  local f, oerr = io.open(path, "r")
  if not f then errors.usage("credentials_file", "cannot read the service-account key file: " .. tostring(oerr)) end
  local text = f:read("*a")
  f:close()
  local a = json.decode(text)
  if type(a) ~= "table" or a.type ~= "service_account" or type(a.private_key) ~= "string"
    or type(a.client_email) ~= "string" then
    errors.usage("credentials_file", "is not a service-account key file (type \"service_account\" with "
      .. "client_email and private_key); for other credentials pass access_token or token_provider")
  end
  return a
end

--- M.new(opts) -> Client (anthropic.vertex).
---@param opts? table project_id, region, access_token, token_provider, credentials_file, token_url,
---  base_url, and the client's transport options
---@return anthropic.Client
function M.new(opts)
  local mine, rest = platforms.split(opts, M.OPTIONS)
  for _, k in ipairs({ "project_id", "region", "access_token", "credentials_file", "token_url" }) do
    if mine[k] ~= nil then validate.secret(mine[k], k) end
  end
  if mine.token_provider ~= nil and type(mine.token_provider) ~= "function" then
    errors.usage("token_provider", "must be a function returning an access token [, expires_in]")
  end
  if mine.access_token and mine.token_provider then
    errors.usage("access_token", "pass access_token or token_provider, not both")
  end
  local s = { token = mine.access_token, static = mine.access_token ~= nil, provider = mine.token_provider }
  local project = mine.project_id or env("ANTHROPIC_VERTEX_PROJECT_ID")
  if not s.static and not s.provider then
    local file = mine.credentials_file or env("GOOGLE_APPLICATION_CREDENTIALS")
    if not file then
      errors.usage("access_token", "no Google credentials: pass access_token or token_provider, or set "
        .. "GOOGLE_APPLICATION_CREDENTIALS (or credentials_file) to a service-account key file")
    end
    s.account = read_account(file)
    project = project or s.account.project_id
  end
  if not project then
    errors.usage("project_id", "no project: set ANTHROPIC_VERTEX_PROJECT_ID or pass project_id")
  end
  local region = mine.region or env("CLOUD_ML_REGION")
  if not region then
    errors.usage("region", "no region: set CLOUD_ML_REGION or pass region (e.g. \"us-east5\" or \"global\")")
  end
  if not region:match("^[a-z0-9%-]+$") then errors.usage("region", "is not a Google Cloud region name") end
  local p = setmetatable({
    name = "Google Vertex AI", project_id = project, region = region,
    base_url = region == "global" and "https://aiplatform.googleapis.com"
      or ("https://" .. region .. "-aiplatform.googleapis.com"),
    token_url = mine.token_url or (s.account and s.account.token_uri) or "https://oauth2.googleapis.com/token",
  }, Platform)
  secrets[p] = s
  return platforms.restrict(require("anthropic.client").new(rest, p), p.name)
end

return M
