-- anthropic.platforms.bedrock: Claude on Amazon Bedrock (anthropic.bedrock{}).
--
-- The same client as anthropic.new, with Bedrock's mapping (as the official SDKs' Bedrock
-- packages do it):
--   * POST /model/{model id}/invoke, and /invoke-with-response-stream for streams, on
--     https://bedrock-runtime.{region}.amazonaws.com; the model id URL-escaped (Bedrock ids,
--     cross-region inference profiles such as us.anthropic.…, and ARNs all work);
--   * the body without `model` and `stream`, with anthropic_version = "bedrock-2023-05-31"
--     and betas as `anthropic_beta` in the body (Bedrock ignores the anthropic-beta header);
--   * every request signed with AWS Signature Version 4 (src/sigv4.c, on libcrypto);
--   * streams in AWS event-stream framing (src/eventstream.c): each `chunk` carries one
--     Anthropic stream event, base64 in {"bytes": ...}, unwrapped in C as it arrives
--     (src/transfer_io.c) and handed to the same accumulator;
--   * errors typed by x-amzn-ErrorType (src/errors_aws.c), so a wrong credential
--     (AuthenticationFailed) and a model not granted (PermissionDenied) stay apart.
-- Models, Message Batches and token counting are first-party APIs: not available here.

local core = require "anthropic.core"
local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local platforms = require "anthropic.platforms"
local aws_config = require "anthropic.platforms.aws_config"

local M = {}

M.ANTHROPIC_VERSION = "bedrock-2023-05-31"
M.SERVICE = "bedrock"

-- The usual model names -> Bedrock model ids (override or extend with the model_map option).
-- Ids that are already Bedrock's (anthropic.…, us.anthropic.…, arn:…) pass through unchanged.
M.MODELS = {
  ["claude-opus-4-7"] = "anthropic.claude-opus-4-7",
  ["claude-sonnet-4-6"] = "anthropic.claude-sonnet-4-6",
  ["claude-opus-4-5"] = "anthropic.claude-opus-4-5-20251101-v1:0",
  ["claude-opus-4-5-20251101"] = "anthropic.claude-opus-4-5-20251101-v1:0",
  ["claude-haiku-4-5"] = "anthropic.claude-haiku-4-5-20251001-v1:0",
  ["claude-haiku-4-5-20251001"] = "anthropic.claude-haiku-4-5-20251001-v1:0",
  ["claude-sonnet-4-5"] = "anthropic.claude-sonnet-4-5-20250929-v1:0",
  ["claude-sonnet-4-5-20250929"] = "anthropic.claude-sonnet-4-5-20250929-v1:0",
  ["claude-opus-4-1"] = "anthropic.claude-opus-4-1-20250805-v1:0",
  ["claude-opus-4-1-20250805"] = "anthropic.claude-opus-4-1-20250805-v1:0",
  ["claude-sonnet-4-0"] = "anthropic.claude-sonnet-4-20250514-v1:0",
  ["claude-sonnet-4-20250514"] = "anthropic.claude-sonnet-4-20250514-v1:0",
  ["claude-opus-4-0"] = "anthropic.claude-opus-4-20250514-v1:0",
  ["claude-opus-4-20250514"] = "anthropic.claude-opus-4-20250514-v1:0",
  ["claude-3-7-sonnet-20250219"] = "anthropic.claude-3-7-sonnet-20250219-v1:0",
  ["claude-3-5-haiku-20241022"] = "anthropic.claude-3-5-haiku-20241022-v1:0",
  ["claude-3-haiku-20240307"] = "anthropic.claude-3-haiku-20240307-v1:0",
}

-- Options of anthropic.bedrock{} on top of the client's transport options.
M.OPTIONS = {
  region = true, access_key_id = true, secret_access_key = true, session_token = true,
  profile = true, model_map = true,
}

---@class anthropic.BedrockPlatform Bedrock's URL, body and SigV4 mapping behind a client
local Platform = {}
Platform.__index = Platform
Platform.__tostring = function(p) return "anthropic.platforms.bedrock(" .. p.region .. ")" end

-- platform -> { access_key_id, secret_access_key, session_token }: never in the platform
-- table itself, so pairs(), inspectors and tostring never see them.
local secrets = setmetatable({}, { __mode = "k" })


--- M.model_id(name, map) -> the Bedrock model id for a model name.
---@param name string a model name (claude-haiku-4-5) or a Bedrock id, profile or ARN
---@param map? table<string, string> the caller's model_map
---@return string
function M.model_id(name, map)
  return (map and map[name]) or M.MODELS[name] or name
end

--- The secrets every error, log line and tostring of this client must never show.
---@return string[]
function Platform:secrets()
  local s = secrets[self]
  local list = { s.secret_access_key }
  if s.session_token then list[#list + 1] = s.session_token end
  if s.signature then list[#list + 1] = s.signature end
  return list
end

--- The Messages mapping (anthropic.messages.route).
---@param params anthropic.MessageParams
---@param stream? boolean
---@return table route
function Platform:messages(params, stream)
  local body = platforms.body(params)
  body.anthropic_version = M.ANTHROPIC_VERSION
  if params.betas and #params.betas > 0 then body.anthropic_beta = json.array(params.betas) end
  local path = "/model/" .. platforms.escape(M.model_id(params.model, self.model_map))
  if stream then
    return { path = path .. "/invoke-with-response-stream", body = json.encode(body),
      accept = "application/vnd.amazon.eventstream", stream = "eventstream" }
  end
  return { path = path .. "/invoke", body = json.encode(body) }
end

local function amz_date(t)
  return os.date("!%Y%m%dT%H%M%SZ", t)
end

--- Signs a request: adds x-amz-date, x-amz-security-token (temporary credentials) and
--- Authorization to a copy of the header list. Signed: host, x-amz-date, the token,
--- content-type (when there is a body).
---@param _ anthropic.Client
---@param spec table the request about to start
---@param url string
---@param list string[] "Name: value" header lines
---@return string[] the header lines with the signature
function Platform:authorize(_, spec, url, list)
  local s = secrets[self]
  local authority, path = url:match("^%a[%w+.-]*://([^/]+)(/?[^?#]*)")
  local date = amz_date(self.clock and self.clock() or os.time())
  local signed = { "host", authority, "x-amz-date", date }
  if s.session_token then
    signed[#signed + 1] = "x-amz-security-token"
    signed[#signed + 1] = s.session_token
  end
  if spec.body then
    signed[#signed + 1] = "content-type"
    signed[#signed + 1] = "application/json"
  end
  local auth = core.sigv4 {
    method = spec.method, path = path ~= "" and path or "/", headers = signed, body = spec.body or "",
    amz_date = date, region = self.region, service = M.SERVICE,
    access_key_id = s.access_key_id, secret_access_key = s.secret_access_key,
  }
  s.signature = auth:match("Signature=(%x+)$")   -- scrubbed from anything echoed back
  local out = {}
  for i = 1, #list do
    local lname = list[i]:match("^([^:]*)"):lower()
    -- The first-party version header means nothing to Bedrock (the version is in the body).
    if lname ~= "anthropic-version" then out[#out + 1] = list[i] end
  end
  out[#out + 1] = "x-amz-date: " .. date
  if s.session_token then out[#out + 1] = "x-amz-security-token: " .. s.session_token end
  out[#out + 1] = "Authorization: " .. auth
  return out
end

--- One event-stream message -> the Anthropic event it carries (name, data), or
--- nil, data, error type, message for an exception frame or a chunk that is not one.
--- A `chunk` in AWS's own shape comes already unwrapped (the core decodes its base64 as it
--- arrives, and hands a plain text delta over by index, which never comes here); any other
--- chunk payload comes whole as `chunk:json`, read here by cjson.
---@param name string the event-stream message's kind (chunk, chunk:json, exception:<type>, error:<code>)
---@param data string its payload
---@return string? event
---@return string? data
---@return string? error_type
---@return string? message
function Platform.stream_event(name, data)
  if name == "chunk" then return name, data end
  if name == "chunk:json" then
    -- The outer object carries strings only (`bytes`, and padding): no integers to restore.
    local outer = json.decode_raw(data)
    local b64 = type(outer) == "table" and outer.bytes
    local inner = type(b64) == "string" and core.base64_decode(b64)
    if not inner then
      return nil, data, nil, "Bedrock chunk without base64 `bytes`"
    end
    return "chunk", inner
  end
  local etype = name:match("^exception:(.*)$") or name:match("^error:(.*)$")
  if etype then
    local body = json.decode(data)
    local msg = type(body) == "table" and (body.message or body.Message) or nil
    if type(msg) ~= "string" then msg = data ~= "" and data:sub(1, 300) or etype end
    return nil, data, etype, msg
  end
  return "unknown", "" -- another event type: carries nothing of the Messages protocol
end


--- M.new(opts) -> Client (anthropic.bedrock).
---@param opts? table region, access_key_id, secret_access_key, session_token, profile, base_url,
---  model_map, and the client's transport options
---@return anthropic.Client
function M.new(opts)
  local mine, rest = platforms.split(opts, M.OPTIONS)
  for _, k in ipairs({ "region", "access_key_id", "secret_access_key", "session_token", "profile" }) do
    if mine[k] ~= nil then validate.secret(mine[k], k) end
  end
  if mine.model_map ~= nil and type(mine.model_map) ~= "table" then
    errors.usage("model_map", "must be a table of model name = Bedrock model id")
  end
  local cred = aws_config.resolve(mine)
  if not cred.region then
    errors.usage("region", "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), a region "
      .. "in the profile, or pass region = \"us-east-1\"")
  end
  if not cred.region:match("^[a-z0-9%-]+$") then errors.usage("region", "is not an AWS region name") end
  local p = setmetatable({
    name = "Amazon Bedrock", region = cred.region, model_map = mine.model_map,
    base_url = "https://bedrock-runtime." .. cred.region .. ".amazonaws.com",
    credential_source = cred.source,
  }, Platform)
  secrets[p] = { access_key_id = cred.access_key_id, secret_access_key = cred.secret_access_key,
    session_token = cred.session_token }
  return platforms.restrict(require("anthropic.client").new(rest, p), p.name)
end

return M
