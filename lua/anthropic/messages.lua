-- anthropic.messages: client.messages.create / parse / stream / count_tokens / tool_runner.
--
-- Builds the request body from the caller's params (validated first, never mutated) and hands
-- it to the client. `betas` is taken out of the params and sent as the anthropic-beta header.
-- What is validated is what is sent: M.checked makes one raw plain copy of the params
-- (anthropic.json.plain), and both the checks and the encoder read that copy.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local outcome = require "anthropic.outcome"
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
---@param params anthropic.MessageParams
---@param extra? table fields to add
---@param drop? table<string, boolean> fields to leave out
---@return string json
function M.body(params, extra, drop)
  -- Nothing to leave out or add (params is the plain copy of M.checked): encode it as it is.
  if not (extra or drop) and rawget(params, "betas") == nil then return json.encode(params) end
  local body = {}
  for k, v in pairs(params) do
    if k ~= "betas" and not (drop and drop[k]) then body[k] = v end
  end
  if extra then for k, v in pairs(extra) do body[k] = v end end
  return json.encode(body)
end

--- M.route(client, params, stream) -> { path, body, betas, accept, stream }: where a Messages
--- request goes and what it carries. The first-party API by default; a cloud platform
--- (client._platform: Bedrock, Vertex) maps the same params to its own URL and body.
---@param client anthropic.Client
---@param params anthropic.MessageParams
---@param stream? boolean
---@return table route
function M.route(client, params, stream)
  if client._platform then return client._platform:messages(params, stream) end
  if stream then
    return { path = "/v1/messages", body = M.body(params, { stream = true }), betas = params.betas,
      accept = "text/event-stream", stream = true }
  end
  return { path = "/v1/messages", body = M.body(params), betas = params.betas }
end

--- M.checked(params, need_max_tokens) -> the plain copy of params that passed validation.
---@param params anthropic.MessageParams
---@param need_max_tokens? boolean
---@return anthropic.MessageParams
function M.checked(params, need_max_tokens)
  if type(params) ~= "table" then errors.usage("params", "must be a table") end
  local p = json.plain(params)
  validate.message_params(p, need_max_tokens)
  return p
end

---@class anthropic.MessageParam
---@field role "user"|"assistant"
---@field content string|table[] text, or content blocks ({ type = "text", text = ... }, tool_result, image, ...)

---@class anthropic.MessageParams
---@field model string
---@field max_tokens integer (count_tokens: not needed)
---@field messages anthropic.MessageParam[]
---@field system? string|table[]
---@field temperature? number 0..1
---@field top_p? number
---@field top_k? integer
---@field stop_sequences? string[]
---@field metadata? table
---@field tools? table[]
---@field tool_choice? table
---@field thinking? table { type = "enabled", budget_tokens = n } | { type = "adaptive" } | { type = "disabled" }
---@field betas? string[] sent as the anthropic-beta header, not in the body
---@field [string] any any other field of the Messages API, sent as it is

---@class anthropic.Usage
---@field input_tokens integer
---@field output_tokens integer
---@field cache_creation_input_tokens? integer
---@field cache_read_input_tokens? integer

---@class anthropic.Message
---@field id string
---@field type string "message"
---@field role string "assistant"
---@field model string the model that answered
---@field content table[] blocks: { type = "text", text }, { type = "tool_use", id, name, input }, thinking, ...
---@field stop_reason? string "end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal", ...
---@field stop_sequence? string
---@field usage anthropic.Usage
---@field _request_id? string the reply's request-id (not a JSON field)
---@field _response? table { status, headers, attempts } (not a JSON field)

---@class anthropic.Messages
---@field create fun(params: anthropic.MessageParams, options?: anthropic.RequestOptions): anthropic.Message
---@field stream fun(params: anthropic.MessageParams, options?: anthropic.RequestOptions): anthropic.Stream
---@field count_tokens fun(params: anthropic.MessageParams, options?: anthropic.RequestOptions): table

---Adds client.messages (create, stream, count_tokens) to a client.
---@param client anthropic.Client
function M.attach(client)
  local messages = client.messages or {}

  --- messages.create(params [, options]) -> Message, or an op when options.on_done is given.
  ---@param params anthropic.MessageParams
  ---@param options? anthropic.RequestOptions
  ---@return anthropic.Message message (an operation with options.on_done)
  function messages.create(params, options)
    params = M.checked(params, true)
    local o = validate.request_options(options)
    if options and (options.on_event or options.on_text) then
      errors.usage("options", "on_event/on_text need messages.stream")
    end
    if options then
      for _, name in ipairs(stream_callbacks.NAMES) do
        if options[name] ~= nil then errors.usage("options." .. name, "needs messages.stream") end
      end
    end
    if not (o.timeout or client.timeout_explicit)
      and 3600 * params.max_tokens / 128000 > M.NONSTREAMING_LIMIT_S then
      errors.usage("max_tokens", string.format("a non-streaming request for %d tokens may take longer "
        .. "than 10 minutes: use client.messages.stream(params), or set an explicit timeout",
        params.max_tokens))
    end
    local route = M.route(client, params, false)
    return client:_call {
      method = "POST", path = route.path, body = route.body, betas = route.betas,
      options = o, headers = o.headers, handler = outcome.json_handler,
      callbacks = options and options.on_done and { on_done = options.on_done }, model = params.model,
    }
  end

  --- messages.parse(params [, options]) -> the Message with .parsed_output: the first text
  --- block's JSON, checked against output_config.format.schema (docs/structured.md). The schema
  --- is sent as anthropic.schema.for_api(S); a reply that is not JSON or breaks S raises
  --- ParseError. With options.on_done, on_done(err, message) gets the same.
  ---@param params anthropic.MessageParams with output_config.format = { type = "json_schema", schema }
  ---@param options? anthropic.RequestOptions
  ---@return anthropic.Message message with .parsed_output (an operation with options.on_done)
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
  ---@param params anthropic.MessageParams
  ---@param options? anthropic.RequestOptions on_event, on_text, on_done (and typed callbacks) make it non-blocking
  ---@return anthropic.Stream
  function messages.stream(params, options)
    params = M.checked(params, true)
    local o = validate.request_options(options)
    local send, s = structured.prepare(params)
    return stream_mod.start(client, send, o, options or {}, s)
  end

  --- messages.count_tokens(params [, options]) -> { input_tokens = n }. Fields only a create
  --- takes (max_tokens, temperature, ...: M.CREATE_ONLY) are left out of the request.
  ---@param params anthropic.MessageParams
  ---@param options? anthropic.RequestOptions
  ---@return { input_tokens: integer } count (an operation with options.on_done)
  function messages.count_tokens(params, options)
    params = M.checked(params, false)
    local o = validate.request_options(options)
    local p = client._platform
    local path, body = "/v1/messages/count_tokens", nil
    if p then
      if not p.count_tokens then errors.usage(nil, "messages.count_tokens is not available on " .. p.name) end
      path, body = p:count_tokens(params, M.CREATE_ONLY)
    end
    return client:_call {
      method = "POST", path = path, body = body or M.body(params, nil, M.CREATE_ONLY),
      betas = params.betas,
      options = o, headers = o.headers, handler = outcome.json_handler,
      callbacks = { on_done = options and options.on_done },
    }
  end

  --- messages.tool_runner(params [, opts]) -> runner: the agent loop (anthropic.tool_runner,
  --- docs/tools.md).
  ---@param params anthropic.MessageParams with tools = { anthropic.tool{...} }
  ---@param opts? table stream, max_iterations, on_text, on_tool_call, ... (docs/tools.md)
  ---@return anthropic.ToolRunner
  function messages.tool_runner(params, opts)
    return require("anthropic.tool_runner").new(client, params, opts)
  end

  client.messages = messages
end

return M
