-- anthropic.mock.sse: a reply plan written as the real text/event-stream
-- sequence, with the stream faults applied.
--
-- Order (as in the recorded transcripts): message_start (usage with
-- output_tokens 1), then per block content_block_start, [ping after the first
-- one], its deltas, content_block_stop; then message_delta (stop_reason,
-- usage) and message_stop. Faults: event_delay_ms between events,
-- error_after / close_after K deltas, no_stop. Without delays, events are
-- batched into ~16 KB chunks and the task yields now and then, so a 20,000
-- delta stream is cheap and does not starve other connections.

local json = require "anthropic.mock.json"
local reply = require "anthropic.mock.reply"
local sched = require "anthropic.mock.sched"
local faults = require "anthropic.mock.faults"

local M = {}

local quote = json.quote
local EV_START = json.order({ "type", "message" })
local EV_DELTA = json.order({ "type", "delta", "usage" })
local DELTA = json.order({ "stop_reason", "stop_sequence" })
local DELTA_USAGE = json.order({ "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  "output_tokens" })

local function event(name, data)
  return "event: " .. name .. "\ndata: " .. data .. "\n\n"
end
M.event = event

M.PING = event("ping", '{"type": "ping"}')

function M.error_event(error_type, message)
  return event("error", '{"type":"error","error":{"type":' .. quote(error_type) .. ',"message":' ..
    quote(message) .. "}}")
end

local function block_start(i, b)
  local cb
  if b.type == "text" then
    cb = '{"type":"text","text":""}'
  elseif b.type == "thinking" then
    cb = '{"type":"thinking","thinking":"","signature":""}'
  else
    cb = '{"type":"tool_use","id":' .. quote(b.id) .. ',"name":' .. quote(b.name) .. ',"input":{}}'
  end
  return event("content_block_start", '{"type":"content_block_start","index":' .. i ..
    ',"content_block":' .. cb .. "}")
end

local function delta(i, kind, field, value)
  return event("content_block_delta", '{"type":"content_block_delta","index":' .. i ..
    ',"delta":{"type":"' .. kind .. '","' .. field .. '":' .. quote(value) .. "}}")
end

-- events(plan, id, model_id) -> list of {s = text, delta = bool, kind = name}
function M.events(plan, id, model_id)
  local list = {}
  local function add(kind, s, is_delta) list[#list + 1] = { kind = kind, s = s, delta = is_delta } end
  local start = reply.message({ blocks = {}, stop_reason = json.null, input_tokens = plan.input_tokens,
    output_tokens = 1 }, id, model_id)
  start.stop_reason = json.null
  start.usage = reply.usage(plan, 1)
  add("message_start", event("message_start", json.encode(json.obj(EV_START, { type = "message_start",
    message = start }))))
  for n, b in ipairs(plan.blocks) do
    local i = n - 1
    add("content_block_start", block_start(i, b))
    if n == 1 then add("ping", M.PING) end
    if b.type == "text" then
      for _, p in ipairs(b.pieces) do add("content_block_delta", delta(i, "text_delta", "text", p), true) end
    elseif b.type == "thinking" then
      for _, p in ipairs(b.pieces) do add("content_block_delta", delta(i, "thinking_delta", "thinking", p), true) end
      if not b.partial then
        add("content_block_delta", delta(i, "signature_delta", "signature", b.signature), true)
      end
    else
      add("content_block_delta", delta(i, "input_json_delta", "partial_json", ""), true)
      for _, p in ipairs(b.pieces) do
        add("content_block_delta", delta(i, "input_json_delta", "partial_json", p), true)
      end
    end
    add("content_block_stop", event("content_block_stop", '{"type":"content_block_stop","index":' .. i .. "}"))
  end
  if #plan.blocks == 0 then add("ping", M.PING) end
  add("message_delta", event("message_delta", json.encode(json.obj(EV_DELTA, {
    type = "message_delta",
    delta = json.obj(DELTA, { stop_reason = plan.stop_reason, stop_sequence = plan.stop_sequence or json.null }),
    usage = json.obj(DELTA_USAGE, { input_tokens = plan.input_tokens, cache_creation_input_tokens = 0,
      cache_read_input_tokens = 0, output_tokens = plan.output_tokens }),
  }))))
  add("message_stop", event("message_stop", '{"type":"message_stop"}'))
  return list
end

-- trigger point for error_after / close_after K: the index of the event after
-- which the fault fires (the K-th delta, the last delta if there are fewer,
-- the event before the first delta for K = 0).
local function trigger_index(list, k)
  if not k then return nil end
  local seen, last_delta, first_delta = 0, nil, nil
  for i, e in ipairs(list) do
    if e.delta then
      seen = seen + 1
      first_delta = first_delta or i
      last_delta = i
      if seen == k then return i end
    end
  end
  if k == 0 then return (first_delta or 2) - 1 end
  return last_delta or 1
end

local FLUSH_AT = 16 * 1024
local YIELD_EVERY = 256 * 1024

-- write(w, conn, list, fault [, error_event]) -> "done" | "error_event" | "closed" | "gone"
-- w: http chunked writer (head not yet sent). error_event(type, message) -> the bytes of the
-- in-stream error (default: an SSE `event: error`; Bedrock's writer passes an exception frame).
function M.write(w, conn, list, fault, error_event)
  fault = fault or {}
  error_event = error_event or M.error_event
  local delay = (fault.event_delay_ms or 0) / 1000
  local err_at = trigger_index(list, fault.error_after)
  local close_at = trigger_index(list, fault.close_after)
  local buf, size, since_yield = {}, 0, 0
  local function flush()
    if size == 0 and not w.pending then return true end
    local data = table.concat(buf)
    buf, size = {}, 0
    local ok
    if data == "" then ok = w.flush_head() else ok = w:send(data) end
    since_yield = since_yield + #data
    if since_yield >= YIELD_EVERY then since_yield = 0; sched.pass() end
    return ok
  end
  for i, e in ipairs(list) do
    if not (fault.no_stop and e.kind == "message_stop") then
      if delay > 0 and i > 1 then
        if not flush() then return "gone" end
        sched.sleep(delay)
      end
      buf[#buf + 1] = e.s
      size = size + #e.s
      if delay > 0 or i <= 3 or size >= FLUSH_AT then
        if not flush() then return "gone" end
      end
    end
    if err_at == i then
      local et = fault.error_type or "overloaded_error"
      local msg = fault.message or faults.message_for_type(et)
      if delay > 0 then
        if not flush() then return "gone" end
        sched.sleep(delay)
      end
      buf[#buf + 1] = error_event(et, msg)
      size = size + 1
      if not flush() then return "gone" end
      w.finish()
      return "error_event"
    end
    if close_at == i then
      flush()
      conn:close(fault.close_mode == "reset")
      return "closed"
    end
  end
  if not flush() then return "gone" end
  if not w.finish() then return "gone" end
  return "done"
end

-- pings(w, conn, interval_s, cap_s): headers, then a ping per interval until
-- the client goes away or cap_s passes (then the stream ends cleanly).
function M.pings(w, conn, interval, cap)
  if not w.flush_head() then return "gone" end
  local deadline = sched.now() + cap
  while sched.now() < deadline do
    if conn:wait_gone(math.min(interval, math.max(0, deadline - sched.now()))) then return "gone" end
    if sched.now() >= deadline then break end
    if not w:send(M.PING) then return "gone" end
  end
  w.finish()
  return "done"
end

return M
