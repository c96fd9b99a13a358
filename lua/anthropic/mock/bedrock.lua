-- anthropic.mock.bedrock: Amazon Bedrock's InvokeModel routes, as the Bedrock runtime
-- answers them:
--   POST /model/{modelId}/invoke                        one JSON Message
--   POST /model/{modelId}/invoke-with-response-stream   AWS event-stream framing: one
--        `chunk` event per Anthropic stream event, base64 in {"bytes": ...}
-- Checks, in AWS's order: the SigV4 signature (anthropic.mock.sigv4; a wrong secret gets 403
-- InvalidSignatureException, an unknown access key 403 UnrecognizedClientException, a bad or
-- expired session token 403 UnrecognizedClientException / ExpiredTokenException), the
-- request's fault (x-mock-fault, errors typed as AWS types them), the model id (400
-- ValidationException when unknown), the grant (403 AccessDeniedException when the access
-- key's tier may not use the model), then the body (anthropic_version "bedrock-2023-05-31",
-- no `model` or `stream` keys). Errors carry x-amzn-ErrorType and a {"message": ...} body.
-- The access keys are config.aws_keys (anthropic.mock.config).

local core = require "anthropic.mock.crypto"
local json = require "anthropic.mock.json"
local ids = require "anthropic.mock.ids"
local validate = require "anthropic.mock.validate"
local reply = require "anthropic.mock.reply"
local turns = require "anthropic.mock.turns"
local sse = require "anthropic.mock.sse"
local auth = require "anthropic.mock.auth"
local faults = require "anthropic.mock.faults"
local sigv4 = require "anthropic.mock.sigv4"
local replay = require "anthropic.mock.replay"

local M = {}

M.ANTHROPIC_VERSION = "bedrock-2023-05-31"
local CORAL = ":http://internal.amazon.com/coral/com.amazon.bedrock/"

-- Defaults for a fault that names only a status.
local STATUS_TYPES = {
  [400] = "ValidationException", [403] = "AccessDeniedException", [404] = "ResourceNotFoundException",
  [408] = "ModelTimeoutException", [424] = "ModelErrorException", [429] = "ThrottlingException",
  [500] = "InternalServerException", [503] = "ServiceUnavailableException",
}

local MESSAGES = {
  MissingAuthenticationTokenException = "Missing Authentication Token",
  UnrecognizedClientException = "The security token included in the request is invalid.",
  InvalidSignatureException = "The request signature we calculated does not match the signature "
    .. "you provided. Check your AWS Secret Access Key and signing method. Consult the service "
    .. "documentation for details.",
  ExpiredTokenException = "The security token included in the request is expired",
  AccessDeniedException = "You don't have access to the model with the specified model ID.",
  ValidationException = "The provided model identifier is invalid.",
  ThrottlingException = "Too many requests, please wait before trying again.",
  ServiceUnavailableException = "Bedrock is unable to process your request.",
  ModelTimeoutException = "Model has timed out in processing the request.",
  InternalServerException = "The server encountered an internal error.",
}

-- error(ex, status, type [, message]): an AWS-shaped error reply.
function M.error(ex, status, etype, message)
  return ex:send(status, "application/json", json.encode({ message = message or MESSAGES[etype] or etype }),
    { { "x-amzn-errortype", etype .. CORAL }, { "x-amzn-requestid", ex.request_id } })
end

local function url_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- model_for(config, id) -> mock model | nil: Bedrock ids (anthropic.claude-...-v1:0),
--- inference profiles (us./eu./apac./global. prefix) and ARNs name the mock's models.
function M.model_for(cfg, id)
  local name = id:match("^arn:aws[%w-]*:bedrock:[^:]*:[^:]*:[%w-]+/(.+)$") or id
  name = name:gsub("^%a+%.anthropic%.", "anthropic.")
  name = name:match("^anthropic%.(.+)$")
  if not name then return nil end
  name = name:gsub("%-v%d+:%d+$", ""):gsub("%-v%d+$", "")
  return cfg.model_by_name[name] or cfg.model_by_name[(name:gsub("%-%d%d%d%d%d%d%d%d$", ""))]
end

local function be32(n)
  return string.char(math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256,
    math.floor(n / 256) % 256, n % 256)
end

local function header(name, value)
  return string.char(#name) .. name .. "\7" .. string.char(math.floor(#value / 256), #value % 256) .. value
end

--- frame(headers, payload) -> one event-stream message (prelude, headers, payload, CRCs).
function M.frame(headers, payload)
  local h = {}
  for _, kv in ipairs(headers) do h[#h + 1] = header(kv[1], kv[2]) end
  h = table.concat(h)
  local prelude = be32(16 + #h + #payload) .. be32(#h)
  local msg = prelude .. be32(core.crc32(prelude)) .. h .. payload
  return msg .. be32(core.crc32(msg))
end

-- Bedrock pads each chunk with a "p" member, a run of letters and digits whose length
-- varies, so that a payload's size does not tell its text's length.
local PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

local function chunk(event_json)
  local p = PADDING:sub(1, (#event_json * 7) % #PADDING)
  return M.frame({ { ":event-type", "chunk" }, { ":content-type", "application/json" },
    { ":message-type", "event" } }, '{"bytes":"' .. core.base64_encode(event_json) .. '","p":"' .. p .. '"}')
end

function M.exception(etype, message)
  return M.frame({ { ":exception-type", etype }, { ":content-type", "application/json" },
    { ":message-type", "exception" } }, json.encode({ message = message }))
end

-- The SSE event list of a reply plan as Bedrock chunks (Bedrock sends no pings; its last
-- event carries invocation metrics).
local function frames(plan, id, model_id)
  local list = {}
  for _, e in ipairs(sse.events(plan, id, model_id)) do
    if e.kind ~= "ping" then
      local data = e.s:match("\ndata: (.-)\n\n$")
      if e.kind == "message_stop" then
        data = '{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":'
          .. plan.input_tokens .. ',"outputTokenCount":' .. plan.output_tokens
          .. ',"invocationLatency":1,"firstByteLatency":1}}'
      end
      list[#list + 1] = { kind = e.kind, delta = e.delta, s = chunk(data) }
    end
  end
  return list
end

--- from_sse(text) -> the event-stream body a recorded SSE transcript becomes on Bedrock: one
--- chunk per event with data (pings dropped, `event: error` as an exception frame; a
--- cut-off last event is cut off here too).
function M.from_sse(text)
  local out = {}
  text = text:gsub("\r\n", "\n"):gsub("\r", "\n")
  -- As SSE decoding does, a last block without its blank line is not an event.
  for block in text:gmatch("(.-)\n\n+") do
    local name, data = nil, {}
    for line in (block .. "\n"):gmatch("(.-)\n") do
      local field, value = line:match("^([^:]+):%s?(.*)$")
      if field == "event" then name = value elseif field == "data" then data[#data + 1] = value end
    end
    if #data > 0 and name ~= "ping" then
      local d = table.concat(data, "\n")
      if name == "error" then
        local e = json.decode(d)
        local msg = type(e) == "table" and type(e.error) == "table" and e.error.message or d
        out[#out + 1] = M.exception("internalServerException", tostring(msg))
      else
        out[#out + 1] = chunk(d)
      end
    end
  end
  return table.concat(out)
end

-- The replay fault on Bedrock: the transcript converted, then written in the fault's pieces.
local function serve_replay(ex, f)
  local data, err = replay.read(f.replay)
  if not data then return M.error(ex, 400, "ValidationException", "x-mock-fault: " .. err) end
  data = M.from_sse(data)
  local w = ex:chunked(200, "application/vnd.amazon.eventstream", { { "x-amzn-requestid", ex.request_id } })
  if not w.flush_head() then ex.keep_alive = false; return end
  local pos = 1
  for n in replay.sizes(#data, f.chunk, f.seed) do
    if not w:send(data:sub(pos, pos + n - 1)) then ex.keep_alive = false; return end
    pos = pos + n
  end
  w.finish()
end

-- authenticate(ex) -> key record | nil (the error reply was sent)
local function authenticate(ex)
  local req, cfg = ex.req, ex.ctx.config
  local a = sigv4.parse(req.headers.authorization)
  if not a then
    M.error(ex, 403, "MissingAuthenticationTokenException")
    return nil
  end
  local key = cfg.aws_keys[a.access_key_id]
  if not key then
    M.error(ex, 403, "UnrecognizedClientException")
    return nil
  end
  if a.service ~= "bedrock" then
    M.error(ex, 403, "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'.")
    return nil
  end
  local ok, why = sigv4.verify(req, a, key.secret, ids.now())
  if not ok then
    M.error(ex, 403, "InvalidSignatureException", why == "expired"
      and "Signature expired: the request time is more than 5 minutes away from the server time."
      or why == "headers" and "The request must sign host and x-amz-date." or nil)
    return nil
  end
  if key.session_token and req.headers["x-amz-security-token"] ~= key.session_token then
    M.error(ex, 403, "UnrecognizedClientException")
    return nil
  end
  if key.expired then
    M.error(ex, 403, "ExpiredTokenException")
    return nil
  end
  return key
end

-- handle(ex, model_segment, action)
function M.handle(ex, segment, action)
  local req, cfg = ex.req, ex.ctx.config
  local key = authenticate(ex)
  if not key then return end
  local f, ferr = faults.pick(ex.ctx.faults, req.headers["x-mock-fault"], cfg.faults, req, req.path)
  if ferr then return M.error(ex, 400, "ValidationException", "x-mock-fault: " .. ferr) end
  ex.fault = f
  if f and faults.is_error(f) then
    local etype = f.error_type or STATUS_TYPES[f.status] or "InternalServerException"
    return M.error(ex, f.status, etype, f.message)
  end
  if f and f.replay then return serve_replay(ex, f) end
  local model = M.model_for(cfg, url_decode(segment))
  if not model then return M.error(ex, 400, "ValidationException") end
  if not auth.may_use(cfg, key, model) then return M.error(ex, 403, "AccessDeniedException") end
  local p, perr = json.decode(req.body)
  if type(p) ~= "table" then
    return M.error(ex, 400, "ValidationException", "Malformed input request: " .. tostring(perr))
  end
  if p.anthropic_version ~= M.ANTHROPIC_VERSION then
    return M.error(ex, 400, "ValidationException", "invalid anthropic_version: expected "
      .. M.ANTHROPIC_VERSION)
  end
  for _, k in ipairs({ "model", "stream" }) do
    if p[k] ~= nil then
      return M.error(ex, 400, "ValidationException", "Malformed input request: #: extraneous key ["
        .. k .. "] is not permitted, please reformat your input and try again.")
    end
  end
  p.anthropic_version = nil
  p.anthropic_beta = nil
  p.model = model.id
  local verr = validate.check(p, "create")
  if verr then return M.error(ex, 400, "ValidationException", verr) end
  if p.max_tokens > model.max_tokens then
    return M.error(ex, 400, "ValidationException", "max_tokens: " .. p.max_tokens .. " > " .. model.max_tokens)
  end
  f = f or {}
  local plan = reply.plan(p, { deltas = f.deltas, text = f.text, stop_reason = f.stop_reason, make_id = ids.next,
    turn = f.turns and turns.pick(f.turns, p) })
  local id = ids.next("msg")
  local extra = { { "x-amzn-requestid", ex.request_id },
    { "x-amzn-bedrock-input-token-count", tostring(plan.input_tokens) },
    { "x-amzn-bedrock-output-token-count", tostring(plan.output_tokens) } }
  if action == "invoke" then return ex:json(200, reply.message(plan, id, model.id), extra) end
  local w = ex:chunked(200, "application/vnd.amazon.eventstream", extra)
  local fault = {}
  for k, v in pairs(f) do fault[k] = v end
  if fault.error_after and not fault.error_type then fault.error_type = "modelStreamErrorException" end
  local list = frames(plan, id, model.id)
  local bad = fault.corrupt_frame and list[fault.corrupt_frame]
  if bad then   -- one payload byte changed: the message CRC no longer matches
    local at = #bad.s - 6
    bad.s = bad.s:sub(1, at - 1) .. string.char((bad.s:byte(at) + 1) % 256) .. bad.s:sub(at + 1)
  end
  local outcome = sse.write(w, ex.conn, list, fault, function(et, msg)
    return M.exception(et, fault.message or MESSAGES[et:gsub("^%l", string.upper)] or msg)
  end)
  if outcome == "closed" or outcome == "gone" then ex.keep_alive = false end
end

return M
