-- anthropic.structured: structured outputs. The request side (the json_schema format, its
-- schema transformed for the API) and the reply side (the first text block's JSON, decoded and
-- checked against the caller's schema: message.parsed_output, or a ParseError).
--
-- Used by client.messages.parse, by client.messages.stream when the params carry a json_schema
-- format, and by the CLI (`ask --json-schema`). docs/structured.md is the user's guide.
--
-- The reply is checked against the schema the caller wrote, not the transformed one: the
-- keywords the API refuses travel in the description, so the model reads them but the API does
-- not enforce them. The checker does.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local schema = require "anthropic.schema"
local schema_api = require "anthropic.schema_api"
local partial_json = require "anthropic.partial_json"

local M = {}

--- M.schema_of(params) -> the json_schema format's schema, or nil when params ask for none.
function M.schema_of(params)
  local oc = type(params) == "table" and params.output_config
  local f = type(oc) == "table" and oc.format
  if type(f) == "table" and f.type == "json_schema" then return f.schema end
  return nil
end

--- M.prepare(params) -> params to send, the caller's schema; or params as they are and nil
--- when they carry no json_schema format. The params are not changed: the copy shares every
--- field but output_config, whose format's schema is anthropic.schema.for_api(S).
function M.prepare(params)
  local s = M.schema_of(params)
  if s == nil then return params, nil end
  if type(s) ~= "table" then
    errors.usage("output_config.format.schema", "must be a JSON Schema (a table)")
  end
  local out, oc, f = {}, {}, {}
  for k, v in pairs(params) do out[k] = v end
  for k, v in pairs(params.output_config) do oc[k] = v end
  for k, v in pairs(params.output_config.format) do f[k] = v end
  f.schema = schema_api.for_api(s, "output_config.format.schema")
  oc.format = f
  out.output_config = oc
  return out, s
end

--- M.require_schema(params) -> as M.prepare, but params without a json_schema format are a
--- UsageError (messages.parse).
function M.require_schema(params)
  if M.schema_of(params) == nil then
    errors.usage("output_config.format", 'parse needs { type = "json_schema", schema = S } '
      .. "(output_config = { format = ... }); use messages.create for a free-form answer")
  end
  return M.prepare(params)
end

local function first_text(msg)
  for _, block in ipairs(type(msg) == "table" and type(msg.content) == "table" and msg.content or {}) do
    if type(block) == "table" and block.type == "text" then return block.text end
  end
  return nil
end

local function parse_error(message, raw, errs, msg)
  return errors.new(errors.ParseError, {
    message = message, raw = raw, errors = errs,
    request_id = type(msg) == "table" and msg._request_id or nil,
    stop_reason = type(msg) == "table" and msg.stop_reason or nil,
  })
end

--- M.value(text, S [, msg]) -> the decoded value when text is JSON that satisfies S; else
--- nil and a ParseError (not raised) with .raw, .errors ({ path, reason } each), .message and,
--- given the Message, .request_id and .stop_reason.
function M.value(text, s, msg)
  if type(text) ~= "string" then
    return nil, parse_error("the reply has no text block to parse", nil,
      { { path = "$", reason = "no text block in the reply" } }, msg)
  end
  local value, derr = json.decode(text)
  if value == nil and text ~= "null" then
    local why = "not JSON: " .. tostring(derr):gsub("^.-:%d+: ", "")
    local stop = type(msg) == "table" and msg.stop_reason
    if stop == "max_tokens" or stop == "refusal" then why = why .. " (stop_reason " .. stop .. ")" end
    return nil, parse_error("the reply is " .. why, text, { { path = "$", reason = why } }, msg)
  end
  local ok, errs = schema.check(value, s)
  if not ok then
    return nil, parse_error("the reply does not match the schema: " .. schema.describe(errs), text, errs, msg)
  end
  return value
end

--- M.attach(msg, S) -> msg with msg.parsed_output set (the first text block's checked value);
--- raises ParseError when that text is not JSON or breaks S.
function M.attach(msg, s)
  local value, err = M.value(first_text(msg), s, msg)
  if err then error(err, 0) end
  msg.parsed_output = value
  return msg
end

--- M.partial(text) -> a best-effort value of JSON text that is still arriving (a string or
--- number cut off at the end is kept as far as it came), or nil while nothing can be made of
--- it. Not checked against the schema: the final value is.
function M.partial(text)
  if text == "" then return nil end
  return partial_json.complete(text, { keep_truncated = true })
end

return M
