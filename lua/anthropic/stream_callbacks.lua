-- anthropic.stream_callbacks: the typed stream callbacks, fired from what the accumulator
-- reports for each event (Accumulator:apply's kind and value), so nothing is computed twice.
--
--   on_thinking(delta, snapshot)           a thinking_delta; snapshot: the block's thinking so far
--   on_signature(signature)                a signature_delta (a thinking block's signature)
--   on_input_json(partial_json, snapshot)  an input_json_delta of a tool block; snapshot: the
--                                          input decoded as far as it came (the SDK's view)
--   on_citation(citation, snapshot)        a citations_delta; snapshot: the block's citations list
--   on_content_block(block)                a block is complete (content_block_stop)
--   on_message(message)                    the message is complete (message_stop); with a
--                                          json_schema format it already has parsed_output
--   on_parsed(value, text)                 json_schema format only: the first text block's JSON
--                                          as it grows, decoded best-effort (not yet checked)
--
-- They fire in the official SDK's MessageStream order ('thinking', 'signature', 'inputJson',
-- 'citation', 'contentBlock', 'message'), after on_event and on_text for the same event
-- (spec/stream_callbacks_spec.lua compares with what the SDK emitted on the recorded streams).
--
-- Snapshots are made only for a callback that takes them: a Lua string cannot grow in place,
-- so a text snapshot per delta costs the text's length each time, and a tool input's view is a
-- parse of the fragments so far. function(delta) gets none; function(delta, snapshot) gets it.
-- (Where Lua cannot tell how many parameters a function takes, plain Lua 5.1 or a C function,
-- the snapshot is made.) The citations list is the block's own, live, and costs nothing.

local errors = require "anthropic.errors"
local structured = require "anthropic.structured"

local M = {}

M.NAMES = { "on_thinking", "on_signature", "on_input_json", "on_citation", "on_content_block", "on_message",
  "on_parsed" }
M.SET = {}
for _, name in ipairs(M.NAMES) do M.SET[name] = true end

local getinfo = rawget(_G, "debug") and debug.getinfo

--- M.wants_snapshot(fn) -> true unless fn is known to take fewer than two parameters.
function M.wants_snapshot(fn)
  local info = getinfo and getinfo(fn, "Su")
  if not info or info.nparams == nil or info.what == "C" then return true end
  return info.isvararg or info.nparams >= 2
end

local Dispatch = {}
Dispatch.__index = Dispatch

--- M.check(t, prefix) raises a UsageError for a typed callback in t that is not a function.
function M.check(t, prefix)
  for _, name in ipairs(M.NAMES) do
    if t[name] ~= nil and type(t[name]) ~= "function" then errors.usage(prefix .. name, "must be a function") end
  end
end

--- M.new(callbacks, has_schema) -> a dispatcher for the typed callbacks in `callbacks`, or nil
--- when there are none. on_parsed without a json_schema format is a UsageError.
function M.new(callbacks, has_schema)
  local d
  for _, name in ipairs(M.NAMES) do
    local fn = callbacks[name]
    if fn ~= nil then
      d = d or setmetatable({ snapshot = {} }, Dispatch)
      d[name] = fn
      d.snapshot[name] = M.wants_snapshot(fn)
    end
  end
  if d and d.on_parsed and not has_schema then
    errors.usage("options.on_parsed", 'needs output_config.format = { type = "json_schema", schema = S } in the params')
  end
  return d
end

local function block_of(acc, ev)
  local msg = acc:message()
  return msg and msg.content[ev.index + 1]
end

--- d:fire(op, acc, kind, value, ev) runs the callback for what the accumulator reported
--- (through op:call: an error cancels the stream with it). Returns false once the op is done.
function Dispatch:fire(op, acc, kind, value, ev)
  if kind == "thinking" and self.on_thinking then
    local snap = self.snapshot.on_thinking and block_of(acc, ev).thinking or nil
    return op:call(self.on_thinking, value, snap)
  elseif kind == "signature" and self.on_signature then
    return op:call(self.on_signature, value)
  elseif kind == "input_json" and self.on_input_json then
    local snap = nil
    if self.snapshot.on_input_json then snap = acc:partial_input(ev.index) end
    return op:call(self.on_input_json, value, snap)
  elseif kind == "citation" and self.on_citation then
    return op:call(self.on_citation, value, block_of(acc, ev).citations)
  elseif kind == "text" and self.on_parsed then
    if self.parsed_index == nil then self.parsed_index = ev.index end
    if self.parsed_index ~= ev.index then return true end
    local text = block_of(acc, ev).text
    local v = structured.partial(text)
    if v == nil then return true end
    return op:call(self.on_parsed, v, text)
  elseif kind == "content_block_stop" and self.on_content_block then
    return op:call(self.on_content_block, value)
  elseif kind == "message_stop" and self.on_message then
    return op:call(self.on_message, value)
  end
  return true
end

return M
