-- spec.support.hostile: a loopback HTTP/1.1 server that answers badly on purpose, for the specs
-- of what no server reply may do to the client (leak the key, loop, stall, crash).
--
--   local hostile = require "spec.support.hostile"
--   local srv = hostile.start { replies = { bytes, ... }, repeat_last = true }
--   srv.url            "http://127.0.0.1:PORT"
--   srv.requests()     every request received so far, in order: { line =, headers = { [lower] = v }, body = }
--   srv.count()        how many requests it received
--   srv.stop()
--   hostile.capturing()  a server that answers every request with one Message ("ok"), and a
--                      client on it (mock key, no retries): srv, client; for specs that look
--                      at what was sent (srv.requests())
--   hostile.reply(status, headers, body [, reason])  the bytes of one reply; headers is a list
--                      of "Name: value" lines; Content-Length and Connection: close are added
--   hostile.json(status, value [, headers])          a JSON reply (value encoded with cjson)
--   hostile.sse(events [, headers])                  a 200 text/event-stream reply; events is a
--                      list of { event, data (a table is JSON-encoded) }
--   hostile.message([text])                          a minimal Messages API reply body (a table)
--   hostile.text_events(text, size [, ending])        the SSE events of a message whose one text
--                      block is `text` in deltas of `size` bytes; ending = false leaves out the
--                      events after the last delta (add your own: an error, nothing)
--   hostile.text_stream(text, size)                  hostile.sse(hostile.text_events(text, size))
--   hostile.tmpfile(content)                         the path of a new temporary file with content
--
-- The server is its own process (spec/support/hostile_server.lua), so a blocking client call
-- in the spec can talk to it; it watches this process and exits when it is gone.

local cjson = require "cjson"
local mock = require "spec.support.mock"

local M = {}

local function here()
  local src = debug.getinfo(1, "S").source:sub(2)
  return src:match("^(.*)/[^/]*$") or "."
end

--- hostile.tmpfile(content) -> the path of a new temporary file holding content
local function tmpfile(content)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end

M.tmpfile = tmpfile

local function parse_request(raw)
  local head, body = raw:match("^(.-)\r\n\r\n(.*)$")
  local line, headers = nil, {}
  for l in (head .. "\r\n"):gmatch("(.-)\r\n") do
    if not line then line = l
    else
      local k, v = l:match("^([^:]+):%s*(.*)$")
      if k then headers[k:lower()] = v end
    end
  end
  return { line = line, headers = headers, body = body }
end

local function self_pid()
  local f = io.open("/proc/self/stat", "r")
  if not f then return nil end
  local stat = f:read("*l")
  f:close()
  return stat:match("^(%d+)")
end

function M.start(spec)
  local list = {}
  for i, r in ipairs(spec.replies) do list[i] = string.format("%q", r) end
  local data = tmpfile("return { repeat_last = " .. tostring(spec.repeat_last == true)
    .. ", replies = { " .. table.concat(list, ", ") .. " } }")
  local log = tmpfile("")
  local p = assert(io.popen(string.format("exec %s %s %s %s %s </dev/null & echo pid $!",
    mock.lua(), mock.shell_quote(here() .. "/hostile_server.lua"), mock.shell_quote(data),
    mock.shell_quote(log), self_pid() or ""), "r"))
  local pid, port
  while not (pid and port) do
    local l = p:read("*l")
    if not l then break end
    pid = pid or tonumber(l:match("^pid (%d+)$"))
    port = port or tonumber(l:match("^port (%d+)$"))
  end
  p:close()
  assert(port, "the hostile server did not start")
  local srv = { url = "http://127.0.0.1:" .. port }
  local seen, offset, pending = {}, 0, ""
  function srv.requests()       -- reads only what was logged since the last call
    local f = assert(io.open(log, "rb"))
    f:seek("set", offset)
    local more = f:read("*a") or ""
    f:close()
    offset = offset + #more
    local all, i = pending .. more, 1
    while i <= #all do
      local len, nl = all:match("^(%d+)\n()", i)
      if not len or nl + tonumber(len) - 1 > #all then break end
      seen[#seen + 1] = parse_request(all:sub(nl, nl + tonumber(len) - 1))
      i = nl + tonumber(len)
    end
    pending = all:sub(i)
    local out = {}
    for k, r in ipairs(seen) do out[k] = r end
    return out
  end
  function srv.count() return #srv.requests() end
  function srv.stop()
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.remove(data)
    os.remove(log)
  end
  return srv
end

function M.capturing()
  local srv = M.start { replies = { M.json(200, M.message("ok")) }, repeat_last = true }
  local anthropic = require "anthropic"
  return srv, anthropic.new { api_key = "sk-ant-mock-free", base_url = srv.url, max_retries = 0 }
end

function M.reply(status, headers, body, reason)
  body = body or ""
  local lines = { string.format("HTTP/1.1 %d %s", status, reason or "Whatever") }
  for _, h in ipairs(headers or {}) do lines[#lines + 1] = h end
  lines[#lines + 1] = "Content-Length: " .. #body
  lines[#lines + 1] = "Connection: close"
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. body
end

function M.json(status, value, headers)
  local h = { "Content-Type: application/json", "request-id: req_hostile" }
  for _, l in ipairs(headers or {}) do h[#h + 1] = l end
  return M.reply(status, h, type(value) == "string" and value or cjson.encode(value))
end

function M.sse(events, headers)
  local parts = {}
  for _, e in ipairs(events) do
    local data = type(e[2]) == "table" and cjson.encode(e[2]) or e[2]
    parts[#parts + 1] = "event: " .. e[1] .. "\ndata: " .. data .. "\n\n"
  end
  local h = { "Content-Type: text/event-stream", "request-id: req_hostile" }
  for _, l in ipairs(headers or {}) do h[#h + 1] = l end
  return M.reply(200, h, table.concat(parts))
end

function M.message(text)
  return {
    id = "msg_hostile", type = "message", role = "assistant", model = "claude-haiku-4-5",
    content = { { type = "text", text = text or "ok" } }, stop_reason = "end_turn",
    stop_sequence = cjson.null, usage = { input_tokens = 1, output_tokens = 1 },
  }
end

function M.text_events(text, size, ending)
  local events = {
    { "message_start", { type = "message_start", message = { id = "msg_hostile", type = "message",
      role = "assistant", model = "claude-haiku-4-5", content = {}, stop_reason = cjson.null,
      stop_sequence = cjson.null, usage = { input_tokens = 1, output_tokens = 0 } } } },
    { "content_block_start", { type = "content_block_start", index = 0,
      content_block = { type = "text", text = "" } } },
  }
  for i = 1, #text, size do
    events[#events + 1] = { "content_block_delta", { type = "content_block_delta", index = 0,
      delta = { type = "text_delta", text = text:sub(i, i + size - 1) } } }
  end
  if ending ~= false then
    events[#events + 1] = { "content_block_stop", { type = "content_block_stop", index = 0 } }
    events[#events + 1] = { "message_delta", { type = "message_delta",
      delta = { stop_reason = "end_turn", stop_sequence = cjson.null }, usage = { output_tokens = 5 } } }
    events[#events + 1] = { "message_stop", { type = "message_stop" } }
  end
  return events
end

function M.text_stream(text, size)
  return M.sse(M.text_events(text, size))
end

return M
