-- anthropic.messages: client.messages.create / parse / stream / count_tokens / tool_runner.
--
-- Builds the request body from the caller's params (validated first, never mutated) and hands
-- it to the client. `betas` is taken out of the params and sent as the anthropic-beta header.
-- What is validated is what is sent: M.checked makes one raw plain copy of the params
-- (anthropic.json.plain), and both the checks and the encoder read that copy.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local client_mod = require "anthropic.client"
local stream_mod = require "anthropic.stream"
local structured = require "anthropic.structured"
local stream_callbacks = require "anthropic.stream_callbacks"

local M = {}

-- Non-streaming requests whose max_tokens implies more than this are refused (the official
-- SDKs' guard): 3600 s * max_tokens / 128000 tokens.
M.NONSTREAMING_LIMIT_S = 600

-- Fields of a Messages request that count_tokens does not take (its schema allows no extra
-- properties). They are dropped, so the params of a create can be counted as they are.
M.CREATE_ONLY = {
  max_tokens = true, metadata = true, stop_sequences = true, temperature = true, top_k = true,
  top_p = true, service_tier = true, stream = true, container = true,
}

--- Encodes params as the JSON body, leaving out library-only fields (and the keys of `drop`),
--- adding `extra` fields.
function M.body(params, extra, drop)
  local body = {}
  for k, v in pairs(params) do
    if k ~= "betas" and not (drop and drop[k]) then body[k] = v end
  end
  if extra then for k, v in pairs(extra) do body[k] = v end end
  return json.encode(body)
end

--- M.checked(params, need_max_tokens) -> the plain copy of params that passed validation.
function M.checked(params, need_max_tokens)
  if type(params) ~= "table" then errors.usage("params", "must be a table") end
  local p = json.plain(params)
  validate.message_params(p, need_max_tokens)
  return p
end

function M.attach(client)
  local messages = client.messages or {}

  --- messages.create(params [, options]) -> Message, or an op when options.on_done is given.
  function messages.create(params, options)
    params = M.checked(params, true)
    local o = validate.request_options(options)
    if options and (options.on_event or options.on_text) then
      errors.usage("options", "on_event/on_text need messages.stream")
    end
    for _, name in ipairs(stream_callbacks.NAMES) do
      if options and options[name] ~= nil then errors.usage("options." .. name, "needs messages.stream") end
    end
    if not (o.timeout or client.timeout_explicit)
      and 3600 * params.max_tokens / 128000 > M.NONSTREAMING_LIMIT_S then
      errors.usage("max_tokens", string.format("a non-streaming request for %d tokens may take longer "
        .. "than 10 minutes: use client.messages.stream(params), or set an explicit timeout",
        params.max_tokens))
    end
    return client:_call {
      method = "POST", path = "/v1/messages", body = M.body(params), betas = params.betas,
      options = o, headers = o.headers, handler = client_mod.json_handler,
      callbacks = { on_done = options and options.on_done },
    }
  end

  --- messages.parse(params [, options]) -> the Message with .parsed_output: the first text
  --- block's JSON, checked against output_config.format.schema (docs/structured.md). The schema
  --- is sent as anthropic.schema.for_api(S); a reply that is not JSON or breaks S raises
  --- ParseError. With options.on_done, on_done(err, message) gets the same.
  function messages.parse(params, options)
    validate.message_params(params, true)
    local send, s = structured.require_schema(params)
    if options and options.on_done then
      local o, on_done = {}, options.on_done
      for k, v in pairs(options) do o[k] = v end
      o.on_done = function(err, msg)
        if err == nil then
          local ok, perr = pcall(structured.attach, msg, s)
          if not ok then err, msg = perr, nil end
        end
        return on_done(err, msg)
      end
      return messages.create(send, o)
    end
    return structured.attach(messages.create(send, options), s)
  end

  --- messages.stream(params [, options]) -> Stream (see anthropic.stream). With a json_schema
  --- format, final_message().parsed_output is checked as in parse, and on_parsed sees it grow.
  function messages.stream(params, options)
    params = M.checked(params, true)
    local o = validate.request_options(options)
    local send, s = structured.prepare(params)
    return stream_mod.start(client, send, o, options or {}, s)
  end

  --- messages.count_tokens(params [, options]) -> { input_tokens = n }. Fields only a create
  --- takes (max_tokens, temperature, ...: M.CREATE_ONLY) are left out of the request.
  function messages.count_tokens(params, options)
    params = M.checked(params, false)
    local o = validate.request_options(options)
    return client:_call {
      method = "POST", path = "/v1/messages/count_tokens", body = M.body(params, nil, M.CREATE_ONLY),
      betas = params.betas,
      options = o, headers = o.headers, handler = client_mod.json_handler,
      callbacks = { on_done = options and options.on_done },
    }
  end

  --- messages.tool_runner(params [, opts]) -> runner: the agent loop (anthropic.tool_runner,
  --- docs/tools.md).
  function messages.tool_runner(params, opts)
    return require("anthropic.tool_runner").new(client, params, opts)
  end

  client.messages = messages
end

return M
