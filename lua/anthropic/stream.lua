-- anthropic.stream: a streaming Messages request (client.messages.stream).
--
--   local s = client.messages.stream(params)       -- waits for the reply's headers
--   for ev in s:events() do ... end                 -- each decoded event, .type set
--   local msg = s:final_message()                   -- or read to the end and accumulate
--
-- With callbacks (on_event, on_text, on_done) it returns at once and client:poll() drives it.
--
-- Retrying a stream: the core retries an attempt that failed before any event arrived. Beyond
-- that, this module holds back `message_start` and `content_block_start` until the first
-- content event, so an
-- `event: error` (overloaded_error, api_error) or a dropped connection that comes before any
-- content is retried like a 529 and the caller never sees the failed attempt. Once content was
-- delivered, a failure is raised as StreamError (or ConnectionError/Timeout) with the partial
-- message on err.partial.

local core = require "anthropic.core"
local json = require "anthropic.json"
local engine = require "anthropic.engine"
local outcome = require "anthropic.outcome"
local Accumulator = require "anthropic.accumulator"
local structured = require "anthropic.structured"
local stream_callbacks = require "anthropic.stream_callbacks"
local reader = require "anthropic.reader"

local M = {}

---@class anthropic.Stream
---@field status? integer the reply's HTTP status, once its headers arrived
---@field request_id? string
local Stream = {}
Stream.__index = Stream
M.Stream = Stream

-- Held back until the first content event (a delta, or the stop of a block that arrived
-- whole), so a failed attempt can be retried unseen. They are followed at once by content, so
-- holding them adds no visible latency.
--- M.text_of(message) -> the text of every text block, concatenated.
---@param msg anthropic.Message
---@return string
function M.text_of(msg)
  local parts = {}
  for _, block in ipairs(type(msg) == "table" and type(msg.content) == "table" and msg.content or {}) do
    if type(block) == "table" and block.type == "text" and type(block.text) == "string" then
      parts[#parts + 1] = block.text
    end
  end
  return table.concat(parts)
end

--- M.event_iterator(s) -> a for-in iterator over s:next_event() (refused inside a task on
--- plain Lua 5.1, where a for-in iterator cannot yield).
---@param s table anything with next_event()
---@return fun(): table|nil
function M.event_iterator(s)
  reader.check_iterable("stream:events() cannot yield",
    "while true do local ev = s:next_event(); if not ev then break end ... end")
  return function() return s:next_event() end
end

local decode_raw, fix_integers, tointeger = json.decode_raw, json.fix_integers, math.tointeger
local decode_string = json.decode_string
-- Reads the API's text-delta frame by its bytes (src/text_delta.c): index, text | index, nil,
-- the JSON string when the text has escapes | nil for any other data.
local text_delta = core.text_delta
local PLAIN_DELTAS = { text_delta = true, input_json_delta = true, thinking_delta = true, signature_delta = true }

local HOLD = { message_start = true, content_block_start = true }

local function retry_unseen(req) return req:retry_unseen() end
local function retry_stream_error(req, etype) return req:retry_stream_error(etype) end

-- Calls on_text with a text delta of the block at `index`; false once the op is done.
function Stream:_call_on_text(op, index, text)
  if not self.wants_snapshot then return op:call(op.on_text, text) end
  -- The snapshot is the current text block's text, as in the official SDK's 'text' event.
  -- A Lua string cannot grow in place, so each snapshot costs its length: it is made only
  -- for a callback that takes it (stream_callbacks.wants_snapshot).
  if self.text_block ~= index then
    self.text_block, self.text_snapshot = index, ""
  end
  self.text_snapshot = self.text_snapshot .. text
  return op:call(op.on_text, text, self.text_snapshot)
end

-- Hands one event to the accumulator and to whoever consumes events.
function Stream:_deliver(ev)
  local op = self.op
  local kind, value = self.acc:apply(ev)
  if kind == nil then
    return op:cancel(self:_stream_error(nil, value, nil))
  end
  if self.queueing then reader.push(self.q, ev) end
  if op.on_event and not op:call(op.on_event, ev) then return end
  if kind == "text" then
    -- Later deltas of this block take the short way (_on_text_delta).
    self.text_index = ev.index
    if op.on_text and not self:_call_on_text(op, ev.index, value) then return end
  end
  if kind == "message_stop" and self.schema then
    -- Checked before on_message and final_message() see it: they get parsed_output or fail.
    local ok, perr = pcall(structured.attach, value, self.schema)
    if not ok then
      if type(perr) == "table" and perr.request_id == nil then perr.request_id = self.request_id end
      return op:cancel(perr)
    end
  end
  if self.typed then self.typed:fire(op, self.acc, kind, value, ev) end
end

function Stream:_flush_held()
  local held = self.held
  self.held = {}
  for i = 1, #held do
    if self.op.done then return end
    self:_deliver(held[i])
  end
end

-- A StreamError for this stream: an `event: error` (etype), a broken event sequence, or the
-- transfer cut short after its 200 (transport: "partial", "reset", "connect", ...). retryable
-- is the core's answer for the error type (whether a retry before any content would help).
function Stream:_stream_error(etype, message, body, transport)
  local op = self.op
  local _, retryable = core.stream_error(etype)
  return op.client:_error {
    class = "StreamError", type = etype, message = message, headers = self.headers,
    body = body, attempts = op.req and op.req:attempts() or nil, status = self.status,
    partial = self.acc:message(), transport = transport, retryable = retryable,
  }
end

-- Asks the core to try the attempt again, if nothing reached the caller yet: `retry` is
-- req.retry_unseen (a failed transfer) or req.retry_stream_error (an `event: error`), and the
-- core decides. Returns true when a new attempt is scheduled.
function Stream:_retry_unseen(retry, etype)
  if self.committed or not self.op.req then return false end
  if not retry(self.op.req, etype) then return false end
  self.held, self.status, self.headers, self.request_id = {}, nil, nil, nil
  self.text_index = nil
  self.acc = Accumulator.new { beta = self.beta }
  return true
end

-- A text delta of block `index` in the API's own frame (src/text_delta.c), its text read. The
-- current text block's, once content flows, goes to the accumulator as it is when nobody asks
-- for event tables (events(), on_event, the typed callbacks); otherwise it takes the steps of
-- any event, with the table a decode of its frame would have made.
function Stream:_on_text_delta(index, text)
  local op = self.op
  if self.committed and index == self.text_index and not (self.queueing or op.on_event or self.typed)
      and self.acc:add_text(index, text) then
    if op.on_text then self:_call_on_text(op, index, text) end
    return
  end
  return self:_on_decoded("content_block_delta",
    { type = "content_block_delta", index = index, delta = { type = "text_delta", text = text } })
end

function Stream:_on_event(name, data)
  -- The core hands a plain text delta over by its block index (the request asked for
  -- text_deltas): data is its text.
  if type(name) == "number" then return self:_on_text_delta(name, data) end
  -- As the official SDKs do: an event without an `event:` field ("message") or without data
  -- carries nothing of the Messages protocol, and pings only keep the connection alive (the
  -- core's idle timer already ignores them).
  if name == "message" or name == "ping" or data == "" then return end
  -- The same frame, when the core left it whole (text with escapes, Bedrock's inner events,
  -- named "chunk"): read by its bytes as well, the escapes by cjson. An error event goes the
  -- full way, whatever its data.
  if name ~= "error" then
    local index, text, quoted = text_delta(data)
    if quoted then text = decode_string(quoted) end
    if text then return self:_on_text_delta(index, text) end
  end
  local ev, perr = decode_raw(data)
  if type(ev) ~= "table" then
    return self.op:cancel(self:_stream_error(nil, "event " .. name .. " data is not JSON ("
      .. tostring(perr) .. ")", data))
  end
  if ev.type == "content_block_delta" then
    -- The bulk of a stream is deltas whose only number is the block index: fix just that
    -- instead of walking the event (integers stay integers on 5.3+).
    local d = ev.delta
    if type(d) == "table" and PLAIN_DELTAS[d.type] then
      if tointeger and type(ev.index) == "number" then ev.index = tointeger(ev.index) or ev.index end
    else
      fix_integers(ev)
    end
  else
    fix_integers(ev)
  end
  return self:_on_decoded(name, ev, data)
end

-- The steps of a decoded event (ev, from `data` under the SSE event `name`).
function Stream:_on_decoded(name, ev, data)
  -- Once content flows, a delta goes straight on: it is neither a ping, an error nor held.
  if ev.type == "content_block_delta" and self.committed and name ~= "error" then return self:_deliver(ev) end
  if ev.type == nil then ev.type = name end
  if ev.type == "ping" then return end
  if name == "error" or ev.type == "error" then
    local e = type(ev.error) == "table" and ev.error or {}
    local etype = type(e.type) == "string" and e.type or nil
    if self:_retry_unseen(retry_stream_error, etype) then return end
    return self.op:cancel(self:_stream_error(etype, e.message or "stream error", data))
  end
  if not self.committed then
    if HOLD[ev.type] then
      self.held[#self.held + 1] = ev
      return
    end
    self.committed = true
    self:_flush_held()
    if self.op.done then return end
  end
  self:_deliver(ev)
end

-- A failure the platform reported inside the stream (a Bedrock exception frame, or a frame
-- that does not carry an event): retried unseen when its kind allows, else a StreamError.
function Stream:_platform_error(etype, message, data)
  if self:_retry_unseen(retry_stream_error, etype) then return end
  return self.op:cancel(self:_stream_error(etype, message or "stream error", data))
end

local handler = {}

---@private
function handler.events(op, buf, n)
  local s = op.stream
  local translate = s.translate
  for i = 1, n do
    local name, data = buf[2 * i - 1], buf[2 * i]
    -- A text delta comes by index (a number), already what the platform's event carried.
    if translate and type(name) == "string" then
      local etype, message
      name, data, etype, message = translate(name, data)
      if name == nil then
        s:_platform_error(etype, message, data)
        if op.done then return end
      end
    end
    if name ~= nil then s:_on_event(name, data) end
    if op.done then return end
  end
  op.progressed = true
end

---@private
function handler.progress(op)
  reader.headers_arrived(op, op.stream)
end

-- Transports that mean the body was cut short (as opposed to a timeout, the size cap or the
-- caller's cancel, which keep their own classes).
local CUT_SHORT = { connect = true, partial = true, reset = true, other = true }

---@private
function handler.finish(op)
  local s = op.stream
  local f = outcome.read(op.req)
  if f.transport ~= "none" then
    if s:_retry_unseen(retry_unseen) then return end
    if s.status ~= nil and CUT_SHORT[f.transport] then
      -- The 200 arrived and then the body broke: that is the stream failing (README: a
      -- StreamError with .partial), whatever the socket said.
      return op:finish(s:_stream_error(nil, "stream cut short (" .. f.transport .. "): "
        .. tostring(f.message or "the connection ended early"), nil, f.transport))
    end
    f.partial = s.committed and s.acc:message() or nil
    return op:finish(op.client:_error(f))
  end
  if f.status < 200 or f.status >= 300 then
    return op:finish(op.client:_error(f))
  end
  s:_flush_held()
  if op.done then return end
  if not s.acc:done() then
    local why = op.req:truncated() and " (the last event was cut off)" or ""
    return op:finish(s:_stream_error(nil, "stream ended before message_stop" .. why, nil))
  end
  local msg = s.acc:message()
  op:finish(nil, outcome.attach_response(msg, f.status, f.headers, f.attempts, f.request_id))
end

--- Starts a stream. `o` is the validated options, `raw` what the caller passed (callbacks),
--- `schema` the caller's json_schema (params then already carry its API form), or nil;
--- `again` marks the one resend after a platform token was refused.
---@param client anthropic.Client
---@param params anthropic.MessageParams
---@param o table validated request options
---@param raw anthropic.RequestOptions what the caller passed (callbacks)
---@param schema? table
---@param again? boolean
---@return anthropic.Stream
function M.start(client, params, o, raw, schema, again)
  local route = require("anthropic.messages").route(client, params, true)
  -- With betas the reply may carry beta-only blocks and fields: accumulate as the SDK's
  -- BetaMessageStream does.
  local beta = params.betas ~= nil
  local s = setmetatable({
    client = client, beta = beta, acc = Accumulator.new { beta = beta }, held = {}, committed = false,
    schema = schema, typed = stream_callbacks.new(raw, schema ~= nil),
  }, Stream)
  local nonblocking = raw.on_done or raw.on_event or raw.on_text
  s.queueing = not nonblocking
  -- A platform whose stream is not SSE (Bedrock's event-stream) turns each of its events
  -- into the Anthropic event it carries.
  s.translate = client._platform and client._platform.stream_event
  s.wants_snapshot = raw.on_text ~= nil and stream_callbacks.wants_snapshot(raw.on_text)
  s.op = client:_send {
    method = "POST", path = route.path, body = route.body, betas = route.betas, stream = route.stream,
    accept = route.accept, options = o, headers = o.headers, handler = handler, model = params.model,
    text_deltas = true,   -- plain text deltas come by index (handler.events, _on_text_delta)
    callbacks = { on_done = raw.on_done, on_event = raw.on_event, on_text = raw.on_text },
  }
  s.op.stream = s
  s.q = reader.new(s.op)
  if nonblocking then return s end
  engine.wait(s.op, function() return s.status ~= nil end)
  -- A platform token refused before the stream started (Vertex): once more with a fresh one.
  if s.status == nil and not again and client:_reauthorize(s.op.err, {}) then
    return M.start(client, params, o, raw, schema, true)
  end
  -- Raise here only when the stream never started (an HTTP error, no connection). A stream that
  -- started and then failed reports it from events()/final_message(), after its events.
  if s.status == nil and s.op.err ~= nil then error(s.op.err, 0) end
  return s
end

--- stream:next_event() -> the next decoded event (a table with .type), or nil after the last.
--- Raises the stream's error, if it fails, after the events received before the failure.
--- A plain method call, so it can yield inside a task on every Lua, including plain 5.1.
---@return table|nil event
function Stream:next_event()
  self.queueing = true
  return reader.take(self.q)
end

--- stream:events() -> iterator over decoded events: `for ev in s:events() do ... end`.
--- Plain Lua 5.1 cannot yield from a for-in iterator (the generic for calls it across a C
--- boundary), so inside a task there it refuses at once, naming the loop that works.
---@return fun(): table|nil
function Stream:events()
  self.queueing = true
  return M.event_iterator(self)
end
--- stream:final_message() -> the accumulated Message once the stream ends (raises on failure).
---@return anthropic.Message
function Stream:final_message()
  self.queueing = false
  reader.clear(self.q)
  engine.wait(self.op)
  if self.op.err ~= nil then error(self.op.err, 0) end
  return self.op.result
end

--- stream:final_text() -> the text of every text block, concatenated.
---@return string
function Stream:final_text()
  return M.text_of(self:final_message())
end
--- stream:current_message() -> the message accumulated so far (a snapshot).
---@return anthropic.Message snapshot
function Stream:current_message() return self.acc:message() end

---@return boolean done the transfer ended (successfully or not)
function Stream:is_done() return self.op.done end

--- stream:has_content() -> true once content reached the caller; before that a failure is
--- retried unseen (and fallback.stream may still move to another model).
---@return boolean
function Stream:has_content() return self.committed end

--- stream:close() aborts the transfer and frees it; events() then ends without an error.
function Stream:close()
  self.closed = true
  self.q.closed = true
  self.op:cancel()
end
Stream.cancel = Stream.close
Stream.__close = Stream.close

return M
