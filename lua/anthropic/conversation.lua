-- anthropic.conversation: a multi-turn conversation that keeps its history and sends it in a
-- form the API accepts (anthropic.history: system messages lifted, same-role turns merged,
-- empty text dropped, thinking kept with its signature, every tool_result after its tool_use).
--
--   local conv = anthropic.conversation { client = client, model = "claude-haiku-4-5",
--                                          system = "Answer briefly.", max_tokens = 1024 }
--   local msg = conv:ask("What is Lua?")            -- blocking; the exchange joins the history
--   conv:ask("And LuaJIT?", { on_done = function(err, msg) ... end })   -- or with callbacks
--   local s = conv:stream("Say more.")              -- a Stream; recorded once it has ended
--   conv:save("chat.json"); conv = anthropic.conversation.load("chat.json", { client = client })
--
-- An exchange joins the history only once its reply is complete: a failed or canceled request
-- leaves the history as it was, so asking again sends the same history. One exchange at a
-- time: asking while a reply is still streaming is a UsageError.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local history = require "anthropic.history"

---@class anthropic.conversation
---@overload fun(opts: anthropic.ConversationOptions): anthropic.Conversation
local M = {}

M.DEFAULT_MAX_TOKENS = 1024
M.FORMAT = "anthropic.conversation"

---@class anthropic.ConversationOptions
---@field client? anthropic.Client the client to send with (default: anthropic.new{} on first use)
---@field model string the model to ask
---@field system? string|table[] the system prompt
---@field max_tokens? integer per reply (default 1024)
---@field messages? table[] an initial history (normalised like the rest)
---@field [string] any other Messages parameters (temperature, tools, thinking, ...) sent with every request

---@class anthropic.Conversation
---@field client? anthropic.Client
---@field model string
---@field system? string|table[]
---@field max_tokens integer
---@field params table the other Messages parameters sent with every request
local Conversation = {}
Conversation.__index = Conversation
M.Conversation = Conversation

local OWN = { client = true, model = true, system = true, max_tokens = true, messages = true }

local function check_model(model)
  if type(model) ~= "string" or model == "" then errors.usage("model", "must be a non-empty string") end
end

---Creates a conversation.
---@param opts anthropic.ConversationOptions
---@return anthropic.Conversation
function M.new(opts)
  if type(opts) ~= "table" then errors.usage("options", "must be a table { client = ..., model = ... }") end
  check_model(opts.model)
  if opts.client ~= nil and getmetatable(opts.client) ~= require("anthropic.client").Client then
    errors.usage("client", "expected a Client (from anthropic.new)")
  end
  local max_tokens = opts.max_tokens or M.DEFAULT_MAX_TOKENS
  if type(max_tokens) ~= "number" or max_tokens < 1 or max_tokens ~= math.floor(max_tokens) then
    errors.usage("max_tokens", "must be a positive integer")
  end
  if opts.stream ~= nil then errors.usage("stream", "use conv:stream(...) instead of stream = true") end
  local self = setmetatable({
    client = opts.client, model = opts.model, system = opts.system, max_tokens = max_tokens,
    params = {}, _turns = {},
  }, Conversation)
  for k, v in pairs(opts) do if not OWN[k] then self.params[k] = v end end
  -- Normalised now, so a history the API would refuse is reported here, not at the first ask.
  local messages, system = history.normalize(opts.messages or {}, opts.system)
  self._turns, self.system = messages, system
  return self
end

setmetatable(M, { __call = function(_, opts) return M.new(opts) end })

-- The user turn for `input`: a non-empty string, or a list of content blocks.
local function user_turn(input)
  if type(input) == "string" then
    if input == "" then errors.usage("input", "must not be empty") end
  elseif type(input) ~= "table" or #input == 0 then
    errors.usage("input", "must be a non-empty string or a list of content blocks")
  end
  return { role = "user", content = input }
end

-- Records a finished blocking stream (conv:stream without callbacks) once it has ended.
function Conversation:_settle()
  local p = self._pending
  if not (p and p.stream and p.stream:is_done()) then return end
  self._pending = nil
  local ok, msg = pcall(p.stream.final_message, p.stream)
  if ok then self:_record(p.turn, msg) end
end

function Conversation:_busy()
  self:_settle()
  if self._pending then
    errors.usage(nil, "the previous reply is still streaming: read it to the end (or close it) first")
  end
end

function Conversation:_record(turn, msg)
  local t = self._turns
  t[#t + 1] = turn
  t[#t + 1] = { role = "assistant", content = msg.content }
end

-- The request for one more user turn: the history plus `turn`, normalised.
function Conversation:_params(turn)
  local list = {}
  for i, m in ipairs(self._turns) do list[i] = m end
  list[#list + 1] = turn
  local messages, system = history.normalize(list, self.system)
  local p = {}
  for k, v in pairs(self.params) do p[k] = v end
  p.model, p.max_tokens, p.messages, p.system = self.model, self.max_tokens, messages, system
  return p
end

function Conversation:_client()
  if not self.client then self.client = require("anthropic.client").new {} end
  return self.client
end

-- The next exchange's user turn, request and client (one exchange at a time).
function Conversation:_next(input)
  self:_busy()
  check_model(self.model)
  local turn = user_turn(input)
  return turn, self:_params(turn), self:_client()
end

-- Starts a request with callbacks, on_done wrapped so that the exchange is recorded before the
-- caller hears of it. on_done runs from client:poll(), never before `send` returned.
function Conversation:_start(turn, send, params, options)
  local o = {}
  for k, v in pairs(options) do o[k] = v end
  local user_done = options.on_done
  o.on_done = function(err, msg)
    self._pending = nil
    if err == nil then self:_record(turn, msg) end
    if user_done then return user_done(err, msg) end
  end
  self._pending = { turn = turn }
  local ok, handle = pcall(send, params, o)
  if not ok then
    self._pending = nil
    error(handle, 0)
  end
  return handle
end

---Sends `input` as the next user turn and waits for the reply, which joins the history. With
---options.on_done it returns the operation at once and on_done(err, message) runs from
---client:poll() after the exchange was recorded.
---@param input string|table[] the user's text, or a list of content blocks (tool_result, image, ...)
---@param options? table request options of client.messages.create (timeout, headers, on_done, ...)
---@return table message the reply (or the operation, with on_done)
function Conversation:ask(input, options)
  local turn, params, client = self:_next(input)
  if options and options.on_done then
    return self:_start(turn, client.messages.create, params, options)
  end
  local msg = client.messages.create(params, options)
  self:_record(turn, msg)
  return msg
end

---Like ask, streaming: returns the Stream (client.messages.stream). The exchange joins the
---history once the stream has ended: with callbacks before on_done runs, otherwise when the
---conversation is next used after the stream was read to its end.
---@param input string|table[]
---@param options? table request options of client.messages.stream (on_text, on_event, on_done, ...)
---@return table stream
function Conversation:stream(input, options)
  local turn, params, client = self:_next(input)
  if options and (options.on_done or options.on_text or options.on_event) then
    return self:_start(turn, client.messages.stream, params, options)
  end
  local stream = client.messages.stream(params, options)
  self._pending = { turn = turn, stream = stream }
  return stream
end

---The history as it would be sent: normalised copies (the caller may change them freely).
---@return table[] messages
function Conversation:messages()
  self:_settle()
  local messages = history.normalize(self._turns, nil)
  return json.decode(json.encode(messages))
end

---Forgets the history (the model, system prompt and parameters stay).
function Conversation:clear()
  self:_busy()
  self._turns = {}
end

---Writes the conversation (model, system, max_tokens, parameters, history; never the client or
---any credential) to `path` as JSON, through a temporary file renamed into place.
---@param path string
function Conversation:save(path)
  if type(path) ~= "string" or path == "" then errors.usage("path", "must be a file name") end
  self:_settle()
  local doc = {
    format = M.FORMAT, version = 1, model = self.model, system = self.system, max_tokens = self.max_tokens,
    params = next(self.params) and self.params or json.object(), messages = json.array(self:messages()),
  }
  local text = json.encode(doc)
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then errors.usage("path", "cannot write " .. path .. ": " .. tostring(err)) end
  local ok, werr = f:write(text, "\n")
  f:close()
  if ok then ok, werr = os.rename(tmp, path) end
  if not ok then
    os.remove(tmp)
    errors.usage("path", "cannot write " .. path .. ": " .. tostring(werr))
  end
end

---Reads a conversation written by conv:save. opts: client (default: anthropic.new{} on first
---use) and any field to override (model, system, max_tokens, parameters).
---@param path string
---@param opts? anthropic.ConversationOptions
---@return anthropic.Conversation
function M.load(path, opts)
  if type(path) ~= "string" or path == "" then errors.usage("path", "must be a file name") end
  local f, err = io.open(path, "rb")
  if not f then errors.usage("path", "cannot read " .. path .. ": " .. tostring(err)) end
  local text = f:read("*a")
  f:close()
  local doc = json.decode(text)
  if type(doc) ~= "table" or doc.format ~= M.FORMAT then
    errors.usage("path", path .. " is not a saved conversation (no \"format\": \"" .. M.FORMAT .. "\")")
  end
  if doc.version ~= 1 then
    errors.usage("path", path .. ": conversation format version " .. tostring(doc.version) .. " is not supported")
  end
  local o = {}
  for k, v in pairs(type(doc.params) == "table" and doc.params or {}) do o[k] = v end
  o.model, o.system, o.max_tokens, o.messages = doc.model, doc.system, doc.max_tokens, doc.messages
  if o.system == json.null then o.system = nil end
  for k, v in pairs(opts or {}) do o[k] = v end
  return M.new(o)
end

return M
