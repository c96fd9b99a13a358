-- anthropic.outcome: a finished core request turned into a result or a typed error. The
-- outcome's fields are read once (M.read); a 2xx JSON reply is decoded and given its response
-- metadata (M.json_result); anything else becomes the error class the core picks (M.error),
-- with every server text scrubbed of the client's credentials first. The credentials
-- themselves stay in anthropic.client: this module gets only the client's redact function.

local core = require "anthropic.core"
local errors = require "anthropic.errors"
local json = require "anthropic.json"
local headers_mod = require "anthropic.headers"

local M = {}

--- M.scrub(text, redact) removes a client's credentials from server-provided data (a proxy
--- might echo them): a string is returned scrubbed; a table (a decoded body, the reply's
--- headers) is scrubbed in place, keys and values, at any depth.
---@param text any a string, or a table scrubbed in place
---@param redact fun(text: string): string the client's redaction
---@param seen? table
---@return any text
function M.scrub(text, redact, seen)
  if type(text) == "table" then
    seen = seen or {}
    if seen[text] then return text end
    seen[text] = true
    local changed = {}
    for k, v in pairs(text) do
      local k2, v2 = M.scrub(k, redact, seen), M.scrub(v, redact, seen)
      if k2 ~= k or v2 ~= v then changed[#changed + 1] = { k, k2, v2 } end
    end
    for _, c in ipairs(changed) do
      text[c[1]] = nil
      text[c[2]] = c[3]
    end
    return text
  end
  if type(text) ~= "string" then return text end
  return redact(text)
end

-- The reply's headers stay the core's parsed copy until someone reads
-- result._response.headers: most callers never do, and building a table of every reply's dozen
-- headers was a tenth of a request's cost.
local lazy_response = {
  __index = function(resp, k)
    if k ~= "headers" then return nil end
    local h = headers_mod.view(rawget(resp, "core_headers"))
    rawset(resp, "headers", h)
    return h
  end,
}

--- Attaches response metadata to a decoded result without adding JSON fields:
--- result._request_id and result._response = { status, headers, attempts } are read through
--- a metatable, so re-encoding the result (e.g. sending a message back) doesn't include them.
--- `headers` is the core's Headers userdata (viewed on first read) or nil.
---@param value any a decoded result
---@param status integer
---@param headers table|string|nil a table, or the raw header block
---@param attempts integer
---@param request_id? string
---@return any value the same value
function M.attach_response(value, status, headers, attempts, request_id)
  if type(value) ~= "table" then return value end
  local resp = setmetatable({ status = status, attempts = attempts, core_headers = headers }, lazy_response)
  local meta = { _request_id = request_id, _response = resp }
  local old = getmetatable(value)
  if old then setmetatable(meta, { __index = old.__index }) end
  return setmetatable(value, { __index = meta })
end

--- M.error(fields, redact) -> error object of the class the core picks for
--- (fields.transport, fields.status, error.type in fields.body). retryable and retry_after are
--- the engine's (fields.retryable, fields.retry_after from the outcome), never recomputed here.
--- redact is the client's: every server text the error keeps goes through it first.
---@param f table an outcome (M.read), perhaps with class and message set by the caller
---@param redact fun(text: string): string
---@return anthropic.AnthropicError
function M.error(f, redact)
  local function scrub(v) return M.scrub(v, redact) end
  local decoded, etype, emsg
  if f.body and f.body ~= "" then
    decoded = json.decode(f.body)
    if type(decoded) == "table" and type(decoded.error) == "table" then
      etype = type(decoded.error.type) == "string" and decoded.error.type or nil
      emsg = type(decoded.error.message) == "string" and decoded.error.message or nil
    end
  end
  etype = f.type or etype
  local transport = f.transport ~= "none" and f.transport or nil
  local class = core.classify(transport, f.status ~= 0 and f.status or nil, etype)
  -- Everything the server sent is scrubbed before it is kept: headers (request-id included,
  -- redacted as they are read), the decoded body at any depth, the raw body and the message.
  local headers = headers_mod.view(f.headers, redact)
  -- AWS (Bedrock) types its errors in x-amzn-ErrorType, not in the body: a 403 is a wrong
  -- credential or a missing model grant, and only that header tells which. (Whether to retry
  -- is the engine's decision, from the same header: f.retryable.)
  local aws = not transport and not f.class and headers and headers["x-amzn-errortype"]
  local aws_class = aws and core.aws_kind(aws)
  if aws_class then
    class, etype = aws_class, aws:match("^[^:]*")
    if type(decoded) == "table" then
      local m = decoded.message or decoded.Message
      emsg = type(m) == "string" and m or emsg
    end
  end
  if f.class then class = f.class end
  scrub(decoded)
  scrub(f.partial)   -- a stream's text so far: a proxy may have echoed the key into it
  etype = scrub(etype)
  -- Scrub first, then cut: a cut made first could split a key so that it no longer matches.
  local message = (f.message or emsg) and scrub(f.message or emsg)
  if not message then
    if f.body and f.body ~= "" then message = scrub(f.body):sub(1, 300)
    elseif f.status then message = "HTTP " .. f.status end
  end
  local request_id = headers and (headers["request-id"] or headers["x-amzn-requestid"])   -- Bedrock's
  if request_id == nil and type(decoded) == "table" then request_id = decoded.request_id end
  return errors.new(class, {
    status = f.status ~= 0 and f.status or nil,
    type = etype,
    message = message,
    request_id = request_id,
    headers = headers,
    body = decoded ~= nil and decoded or scrub(f.body),
    attempts = f.attempts,
    transport = transport,
    partial = f.partial,
    retryable = f.retryable == true,
    retry_after = f.retry_after,
  })
end

local function request_id(req)
  return req:header("request-id") or req:header("x-amzn-requestid")   -- Bedrock's name
end

--- M.read(req) reads a finished core request into { transport, message, status, headers (the core's
--- parsed copy), request_id, body, attempts, retryable, retry_after }. A transfer that failed
--- has no body: what it received is a fragment (up to max_response_bytes of it for a reply cut
--- off at the cap) that no error should carry for as long as it is kept.
---@param req userdata a finished anthropic.core Request
---@return table outcome
function M.read(req)
  local transport, message, _, retryable, retry_after = req:outcome()
  return {
    transport = transport, message = message ~= "" and message or nil,
    status = req:status(), headers = req:headers(), request_id = request_id(req),
    body = transport == "none" and req:body() or nil, attempts = req:attempts(),
    retryable = retryable, retry_after = retry_after,
  }
end
--- M.json_result(op) -> err, value: a finished request's reply decoded as one JSON document
--- (with the response metadata attached), or its typed error.
---@param op anthropic.Operation
---@return anthropic.AnthropicError|nil err
---@return any value
function M.json_result(op)
  local req, self = op.req, op.client
  local status = req:status()
  -- The outcome table (M.read) is built for errors only: a success reads what it keeps.
  if req:outcome() ~= "none" or status < 200 or status >= 300 then
    return self:_error(M.read(req)), nil
  end
  local body = req:body()
  local value, perr = json.decode(body)
  local bad
  if value == nil and body ~= "null" then
    bad = "reply is not JSON (" .. tostring(perr) .. ")"
  -- Every JSON reply of the API is an object; [1,2,3], 42, "x" or null must not pass for a
  -- result. (cjson decodes [] and {} alike, so the text says which it was.)
  elseif type(value) ~= "table" or not body:find("^[ \t\r\n]*{") then
    bad = "reply is not a JSON object"
  end
  if bad then
    local f = M.read(req)
    f.class, f.message = "APIError", bad
    return self:_error(f), nil
  end
  return nil, M.attach_response(value, status, req:headers(), req:attempts(), request_id(req))
end

--- The handler for requests whose reply is one JSON document.
M.json_handler = {
  finish = function(op) op:finish(M.json_result(op)) end,
}

return M
