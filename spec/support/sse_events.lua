--[[ spec.support.sse_events: test-only text/event-stream splitter and replay driver.

Used by spec/accumulator_spec.lua until the C decoder (src/sse.c) is wired into streams; the
end-to-end parity spec will drive the same transcripts through the C decoder and the mock.

It follows the TypeScript SDK's reading of a body (src/core/streaming.ts _iterSSEMessages and
Stream.fromSSEResponse), because the expected results in spec/fixtures/sse-expected/ are the
SDK's: lines end at \r\n, \n or \r; a U+FEFF at a line start is dropped; `:` lines are
comments; only `event` and `data` fields count; a blank line dispatches when an event name or
data was seen; an event still open at the end of the bytes (no blank line) is never dispatched.
replay() then does what the SDK's Stream does with them: drops events without an `event:` field,
`ping`, and empty data; `event: error` ends the stream with that error; the rest is JSON.
]]

local cjson = require "cjson"

local M = {}

--- Split a whole body into events: list of { event = name or nil, data = string }.
function M.parse(bytes)
  local events = {}
  local event, data = nil, {}
  local function take(line)
    if line:sub(1, 3) == "\239\187\191" then line = line:sub(4) end
    if line == "" then
      if (event == nil or event == "") and #data == 0 then return end
      events[#events + 1] = { event = event, data = table.concat(data, "\n") }
      event, data = nil, {}
      return
    end
    local colon = line:find(":", 1, true)
    if colon == 1 then return end
    local field = colon and line:sub(1, colon - 1) or line
    if field ~= "event" and field ~= "data" then return end
    local value = ""
    if colon then
      value = line:sub(colon + (line:sub(colon + 1, colon + 1) == " " and 2 or 1))
    end
    if field == "event" then
      event = value
    else
      data[#data + 1] = value
    end
  end
  local pos, len = 1, #bytes
  while pos <= len do
    local a = bytes:find("[\r\n]", pos)
    if not a then
      take(bytes:sub(pos)) -- unterminated last line: a field at most, never a dispatch
      break
    end
    take(bytes:sub(pos, a - 1))
    if bytes:sub(a, a + 1) == "\r\n" then
      pos = a + 2
    else
      pos = a + 1
    end
  end
  return events
end

--- Feed a body's events to an accumulator as the SDK's Stream would.
--- Returns { types = {event types applied, in order}, error = nil or {kind=, type=, message=} }
--- error.kind: "event" (an `event: error`), "malformed" (apply refused an event), "json" (data
--- that is not JSON), "incomplete" (no message_stop before the end).
function M.replay(bytes, acc)
  local types = {}
  for _, sse in ipairs(M.parse(bytes)) do
    local name = sse.event
    if name == "error" then
      local ok, body = pcall(cjson.decode, sse.data)
      local err = ok and type(body) == "table" and type(body.error) == "table" and body.error or {}
      return { types = types, error = { kind = "event", type = err.type, message = err.message } }
    elseif name ~= nil and name ~= "ping" and sse.data ~= "" then
      local ok, ev = pcall(cjson.decode, sse.data)
      if not ok or type(ev) ~= "table" then
        return { types = types, error = { kind = "json", message = ok and "data is not a JSON object" or ev } }
      end
      types[#types + 1] = ev.type
      local kind, msg = acc:apply(ev)
      if kind == nil then
        return { types = types, error = { kind = "malformed", message = msg } }
      end
    end
  end
  if not acc:done() then
    return { types = types, error = { kind = "incomplete", message = "stream ended before message_stop" } }
  end
  return { types = types }
end

return M
