--[[ anthropic.accumulator: decoded Messages stream events -> the Message they describe.

Owns the accumulation rules of the official TypeScript SDK (@anthropic-ai/sdk 1.14.0,
MessageStream #accumulateMessage; BetaMessageStream with new{beta = true}), so that a stream
read by this library ends in the same Message as the SDK's finalMessage() for the same bytes
(checked against spec/fixtures/sse-expected/, which the SDK itself generated).
Pure Lua (5.1-5.4, LuaJIT), no I/O; JSON through anthropic.json (integers stay integers on
5.3+), JSON null is json.null. The partial-JSON completion is anthropic.partial_json, the
piece buffers are anthropic.rope.

  local Accumulator = require "anthropic.accumulator"
  local acc = Accumulator.new()          -- Accumulator.new{ beta = true } for BetaMessageStream
  local kind, value = acc:apply(ev)      -- ev: one decoded event table (ev.type = "message_start"...)
  acc:message()  acc:text([sep])  acc:partial_input(i [, opts])  acc:input_json(i)  acc:done()
  Accumulator.complete_json(s [, opts])  -- the partial-JSON completion on its own

Rules (the SDK's): message_start is the snapshot; content_block_start appends a shallow copy of
the block; text_delta, thinking_delta and citations_delta append; signature_delta replaces;
input_json_delta fragments are collected per tool_use/server_tool_use block (+ mcp_tool_use in
beta) and the input is decoded at content_block_stop; message_delta sets stop_reason,
stop_sequence, stop_details (assigned even when absent, as the SDK does), usage.output_tokens,
and input_tokens, cache_creation_input_tokens, cache_read_input_tokens, server_tool_use,
output_tokens_details and delta.container only when present and not null (beta adds
usage.iterations, usage.fallback_credit, context_management, input_transformations). Beta also
applies compaction_delta and relabels message.model from a `fallback` block.

apply(ev) returns what happened, so a stream can fire callbacks without re-inspecting ev:
  "message_start", message          "content_block_start", block
  "text", delta_text                "thinking", delta_thinking      "signature", signature
  "citation", citation              "input_json", partial_json_fragment
  "compaction", content (beta)      "content_block_stop", block (text and input final)
  "message_delta", message          "message_stop", message
  "ignored"                         ping, unknown event or delta types, a delta that does not
                                    apply to its block's type (the SDK skips those silently)
Malformed sequences -- decision: apply never raises on stream data. It returns
  nil, "malformed stream: <what>"
and leaves the accumulated state unchanged; the stream layer turns that into a StreamError.
(The SDK raises only on a second message_start and silently drops the rest; a broken stream
should say so, so this is stricter.) The messages, word for word:
  "malformed stream: <event type> before message_start"
  "malformed stream: <event type> after message_stop"
  "malformed stream: second message_start"
  "malformed stream: message_start without a message"
  "malformed stream: <event type> without a valid index"
  "malformed stream: content_block_start index <i>, expected <n>"
  "malformed stream: <event type> index <i> out of range (<n> blocks)"
  "malformed stream: content_block_start without a content_block"
  "malformed stream: content_block_delta without a delta"
  "malformed stream: message_delta without a delta"
  "malformed stream: <delta type> without <field>"         (text, thinking, partial_json...)
  "malformed stream: message_delta without usage"
  "malformed stream: tool input of content block <i> is not valid JSON"
Calling apply with a non-table is a programming error and raises.

Indices passed to partial_input/input_json are the stream's 0-based content block indices
(ev.index); acc:message().content is an ordinary 1-based Lua array.

Memory: no event is kept. Text and thinking deltas and tool-input fragments go to a per-block
piece buffer that is folded into chunks every FOLD pieces, so appends are O(total bytes) and the
overhead per delta is bounded; strings are materialized on demand (message(), text(),
content_block_stop, message_stop). message() returns the live snapshot table: call it again after
more apply() calls to refresh text/input fields. Materializing after every delta costs O(size)
each time; callers that want a running snapshot per delta should ask for it only when needed.

Tool input: until content_block_stop the block's input is the SDK's partial view (a cut-off
string, number or literal at the end is dropped, a dangling key and a trailing comma too, then
open arrays/objects are closed). At content_block_stop the input is decoded; a fragment buffer
that is still incomplete there gets the same partial view (the SDK does the same). A successful
stop frees the raw fragments; otherwise they stay available through input_json(). (Complete
text goes straight to cjson, which also takes raw control characters inside strings and `1.`,
where the SDK's JSON.parse would fail the stream; the API never sends either.)
]]

local json = require "anthropic.json"
local rope = require "anthropic.rope"
local partial_json = require "anthropic.partial_json"

local null = json.null
local buf_new, buf_add, buf_string = rope.new, rope.add, rope.string
local decode = partial_json.decode

local concat, format = table.concat, string.format
local type, pairs, ipairs, setmetatable, floor = type, pairs, ipairs, setmetatable, math.floor

local M = {}

--- M.complete_json(s [, opts]): the partial-JSON completion on its own (anthropic.partial_json).
M.complete_json = partial_json.complete

------------------------------------------------------------------------------------------------
-- The accumulator

---@class anthropic.Accumulator
local Acc = {}
Acc.__index = Acc

local function present(v) return v ~= nil and v ~= null end

local function malformed(fmt, ...)
  return nil, "malformed stream: " .. format(fmt, ...)
end

-- 0-based stream index -> 1-based position, or nil.
local function index_of(ev)
  local i = ev.index
  if type(i) ~= "number" or i < 0 or i ~= floor(i) then return nil end
  return floor(i) + 1
end

local function state(self, pos)
  local st = self._st[pos]
  if not st then
    st = {}
    self._st[pos] = st
  end
  return st
end

-- Write buffered text/thinking into the block; the buffers are dropped (re-seeded from the
-- block's field by the next delta), so the block's string is the only copy.
local function settle_strings(block, st)
  if st.text then
    block.text = buf_string(st.text)
    st.text = nil
  end
  if st.thinking then
    block.thinking = buf_string(st.thinking)
    st.thinking = nil
  end
end

-- The SDK's view of a tool input whose fragments are still arriving: {} for no text yet.
local function input_view(st)
  if st.view_version ~= st.version then
    local raw = buf_string(st.json)
    if raw == "" then
      st.view = {}
    else
      st.view = M.complete_json(raw)
    end
    st.view_version = st.version
  end
  return st.view
end

local function settle_block(block, st)
  settle_strings(block, st)
  if st.json then
    local view = input_view(st)
    if view ~= nil then block.input = view end
  end
end

local TOOL_BLOCKS = { tool_use = true, server_tool_use = true }
local BETA_TOOL_BLOCKS = { tool_use = true, server_tool_use = true, mcp_tool_use = true }

local function append_string(self, block, pos, field, piece)
  local st = state(self, pos)
  local b = st[field]
  if not b then
    b = buf_new(block[field])
    st[field] = b
  end
  buf_add(b, piece)
end

-- Delta handlers: (self, block, pos, delta) -> kind, value. A delta for a block of another
-- type is skipped, as the SDK does.
local DELTAS = {}

function DELTAS.text_delta(self, block, pos, delta)
  if block.type ~= "text" then return "ignored" end
  if type(delta.text) ~= "string" then return malformed("text_delta without text") end
  append_string(self, block, pos, "text", delta.text)
  return "text", delta.text
end

function DELTAS.thinking_delta(self, block, pos, delta)
  if block.type ~= "thinking" then return "ignored" end
  if type(delta.thinking) ~= "string" then return malformed("thinking_delta without thinking") end
  append_string(self, block, pos, "thinking", delta.thinking)
  return "thinking", delta.thinking
end

function DELTAS.signature_delta(_, block, _, delta)
  if block.type ~= "thinking" then return "ignored" end
  if delta.signature == nil then return malformed("signature_delta without signature") end
  block.signature = delta.signature
  return "signature", delta.signature
end

function DELTAS.citations_delta(_, block, _, delta)
  if block.type ~= "text" then return "ignored" end
  if type(delta.citation) ~= "table" then return malformed("citations_delta without citation") end
  local list = block.citations
  if type(list) ~= "table" then
    list = {}
    block.citations = list
  end
  list[#list + 1] = delta.citation
  return "citation", delta.citation
end

function DELTAS.input_json_delta(self, block, pos, delta)
  local tools = self._beta and BETA_TOOL_BLOCKS or TOOL_BLOCKS
  if not tools[block.type] then return "ignored" end
  if type(delta.partial_json) ~= "string" then return malformed("input_json_delta without partial_json") end
  local st = state(self, pos)
  if not st.json then
    st.json = buf_new()
    st.version = 0
  end
  buf_add(st.json, delta.partial_json)
  st.version = st.version + 1
  return "input_json", delta.partial_json
end

-- Beta only: the delta carries the block's final value, so it is assigned.
function DELTAS.compaction_delta(self, block, _, delta)
  if not self._beta or block.type ~= "compaction" then return "ignored" end
  block.content = delta.content
  if delta.encrypted_content ~= nil then
    block.encrypted_content = delta.encrypted_content
  end
  return "compaction", delta.content
end

-- Event handlers: (self, ev) -> kind, value. Called only after message_start and before
-- message_stop, except message_start itself.
local EVENTS = {}

function EVENTS.message_start(self, ev)
  if self._msg then return malformed("second message_start") end
  local msg = ev.message
  if type(msg) ~= "table" then return malformed("message_start without a message") end
  if type(msg.content) ~= "table" then msg.content = {} end
  self._msg = msg
  return "message_start", msg
end

function EVENTS.content_block_start(self, ev)
  local content = self._msg.content
  local pos = index_of(ev)
  if not pos then return malformed("content_block_start without a valid index") end
  if pos ~= #content + 1 then
    return malformed("content_block_start index %d, expected %d", pos - 1, #content)
  end
  if type(ev.content_block) ~= "table" then return malformed("content_block_start without a content_block") end
  local block = {}
  for k, v in pairs(ev.content_block) do block[k] = v end
  content[pos] = block
  if self._beta and block.type == "fallback" and type(block.to) == "table" then
    -- the final hop's fallback block names the model that served the response
    self._msg.model = block.to.model
  end
  return "content_block_start", block
end

local function block_at(self, ev)
  local content = self._msg.content
  local pos = index_of(ev)
  if not pos then return malformed("%s without a valid index", ev.type) end
  if pos > #content then
    return malformed("%s index %d out of range (%d blocks)", ev.type, pos - 1, #content)
  end
  return content[pos], pos
end

function EVENTS.content_block_delta(self, ev)
  local block, pos = block_at(self, ev)
  if not block then return nil, pos end
  local delta = ev.delta
  if type(delta) ~= "table" then return malformed("content_block_delta without a delta") end
  local handler = DELTAS[delta.type]
  if not handler then return "ignored" end
  return handler(self, block, pos, delta)
end

function EVENTS.content_block_stop(self, ev)
  local block, pos = block_at(self, ev)
  if not block then return nil, pos end
  local st = self._st[pos]
  if st then
    if st.json then
      local raw = buf_string(st.json)
      local input
      if raw == "" then
        input = {}
      else
        -- Complete JSON decodes directly; an incomplete buffer gets the partial view, as the
        -- SDK (which runs its partial parser here too) gives it.
        input = decode(raw)
        if input == nil then input = M.complete_json(raw) end
      end
      if input == nil then
        return malformed("tool input of content block %d is not valid JSON", pos - 1)
      end
      block.input = input
      st.json, st.view, st.version, st.view_version = nil, nil, nil, nil
    end
    settle_strings(block, st)
  end
  return "content_block_stop", block
end

local USAGE_IF_PRESENT = {
  "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  "server_tool_use", "output_tokens_details",
}
local BETA_USAGE_IF_PRESENT = {
  "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  "server_tool_use", "output_tokens_details", "iterations", "fallback_credit",
}

function EVENTS.message_delta(self, ev)
  local delta, usage = ev.delta, ev.usage
  if type(delta) ~= "table" then return malformed("message_delta without a delta") end
  if type(usage) ~= "table" then return malformed("message_delta without usage") end
  local msg = self._msg
  msg.stop_reason = delta.stop_reason
  msg.stop_sequence = delta.stop_sequence
  msg.stop_details = delta.stop_details
  local u = msg.usage
  if type(u) ~= "table" then
    u = {}
    msg.usage = u
  end
  u.output_tokens = usage.output_tokens
  if present(delta.container) then msg.container = delta.container end
  for _, k in ipairs(self._beta and BETA_USAGE_IF_PRESENT or USAGE_IF_PRESENT) do
    if present(usage[k]) then u[k] = usage[k] end
  end
  if self._beta then
    if present(ev.context_management) then msg.context_management = ev.context_management end
    if present(ev.input_transformations) then msg.input_transformations = ev.input_transformations end
  end
  return "message_delta", msg
end

function EVENTS.message_stop(self)
  self._done = true
  return "message_stop", self:message()
end

--- A new, empty accumulator. opts.beta = true: BetaMessageStream's rules.
---@param opts? { beta?: boolean }
---@return anthropic.Accumulator
function M.new(opts)
  return setmetatable({
    _msg = nil,   -- the snapshot (message_start's message, updated in place)
    _st = {},     -- per block position: piece buffers and tool-input state
    _done = false,
    _beta = opts ~= nil and opts.beta == true,
  }, Acc)
end

--- Apply one decoded event. See the top of this file for what it returns.
---@param ev table a decoded event (with .type)
---@return string|nil kind what the event did (nil and a message for a malformed stream)
---@return any value
function Acc:apply(ev)
  if type(ev) ~= "table" then
    error(format("bad argument #1 to 'apply' (table expected, got %s)", type(ev)), 2)
  end
  local t = ev.type
  if t == "content_block_delta" then
    local delta = ev.delta
    if type(delta) == "table" and delta.type == "text_delta" and self:add_text(ev.index, delta.text) then
      return "text", delta.text
    end
  end
  local handler = EVENTS[t]
  if not handler then return "ignored" end
  if t ~= "message_start" then
    if not self._msg then return malformed("%s before message_start", t) end
  end
  if self._done then return malformed("%s after message_stop", t) end
  return handler(self, ev)
end

--- acc:add_text(index, text) -> true when it appended text to the text block at the stream's
--- 0-based index, as apply does for that text_delta (the bulk of every stream; stream.lua hands
--- over deltas it read without tables). False, changing nothing, when the message stopped or
--- no text buffer is at that index (first delta, not a text block): then apply the event.
---@param index any the event's index
---@param text any the delta's text
---@return boolean appended
function Acc:add_text(index, text)
  if self._done or type(index) ~= "number" or type(text) ~= "string" then return false end
  -- Only a text block's position has a text buffer (text_delta checks, blocks are only
  -- appended); any other index (negative, fractional, NaN, past the end) has no entry.
  local st = self._st[index + 1]
  local b = st and st.text
  if not b then return false end
  buf_add(b, text)
  return true
end

--- The message snapshot (nil before message_start), with text, thinking and tool inputs
--- brought up to date. The table is live: later apply() calls change it.
---@return anthropic.Message|nil
function Acc:message()
  local msg = self._msg
  if not msg then return nil end
  local content = msg.content
  for pos, st in pairs(self._st) do
    local block = content[pos]
    if block then settle_block(block, st) end
  end
  return msg
end

--- Text of the text blocks, joined by sep (default ""; the TS SDK's finalText() joins with " ").
---@param sep? string
---@return string
function Acc:text(sep)
  local msg = self._msg
  if not msg then return "" end
  local parts, n = {}, 0
  for pos, block in ipairs(msg.content) do
    if type(block) == "table" and block.type == "text" then
      local st = self._st[pos]
      if st then settle_strings(block, st) end
      n = n + 1
      parts[n] = type(block.text) == "string" and block.text or ""
    end
  end
  return concat(parts, sep or "", 1, n)
end

local function tool_state(self, index)
  local msg = self._msg
  if not msg or type(index) ~= "number" then return nil end
  local pos = index + 1
  local block = msg.content[pos]
  local tools = self._beta and BETA_TOOL_BLOCKS or TOOL_BLOCKS
  if type(block) ~= "table" or not tools[block.type] then return nil end
  return block, self._st[pos]
end

--- Best-effort decoded input of the tool block at 0-based index while its fragments arrive;
--- after content_block_stop, its final input. nil if there is no such tool block, or if the
--- fragments so far cannot be completed into JSON.
--- opts.keep_truncated: keep a cut-off string/number at the end (see complete_json).
---@param index integer 0-based
---@param opts? { keep_truncated?: boolean }
---@return any|nil input
function Acc:partial_input(index, opts)
  local block, st = tool_state(self, index)
  if not block then return nil end
  if not (st and st.json) then return block.input end
  if opts ~= nil and opts.keep_truncated then
    local raw = buf_string(st.json)
    if raw == "" then return {} end
    return M.complete_json(raw, opts)
  end
  return input_view(st)
end

--- The raw JSON text of the tool block at 0-based index gathered so far: nil when no fragment
--- came, or once content_block_stop decoded it.
---@param index integer 0-based
---@return string|nil
function Acc:input_json(index)
  local block, st = tool_state(self, index)
  if not (block and st and st.json) then return nil end
  return buf_string(st.json)
end

--- True once message_stop was applied.
---@return boolean
function Acc:done()
  return self._done
end

return M
