-- anthropic.mock.http: HTTP/1.1 on top of anthropic.mock.conn.
--
-- Reads one request at a time (request line, headers, a Content-Length or
-- chunked body, "Expect: 100-continue"), and writes responses with either a
-- Content-Length or chunked framing. Keep-alive is the HTTP/1.1 default.
-- Invariants: header names are lower-cased and repeated headers joined with
-- ", "; a body over the size limit is never kept in memory (it is drained, or
-- the connection is closed after the 413 when draining is not possible).

local ids = require "anthropic.mock.ids"

local M = {}

local MAX_HEADER_BYTES = 64 * 1024
local MAX_HEADERS = 200
local DRAIN_MAX = 256 * 1024 * 1024   -- beyond this a too-large body is not read

M.REASONS = {
  [100] = "Continue", [200] = "OK", [201] = "Created", [204] = "No Content",
  [400] = "Bad Request", [401] = "Unauthorized", [402] = "Payment Required",
  [403] = "Forbidden", [404] = "Not Found", [405] = "Method Not Allowed",
  [408] = "Request Timeout", [409] = "Conflict", [413] = "Payload Too Large",
  [422] = "Unprocessable Entity", [429] = "Too Many Requests",
  [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error", [502] = "Bad Gateway",
  [503] = "Service Unavailable", [504] = "Gateway Timeout", [529] = "Overloaded",
}

local function split_target(target)
  local path, query = target:match("^([^?]*)%??(.*)$")
  return path, query
end

-- read_request(conn, opts) -> req | nil, err [, status]
-- opts.idle: seconds to wait for the first byte of a request (keep-alive);
-- opts.limit_for(path) -> max body bytes for that path.
-- opts.stream_for(req) -> nil, or an object whose :write(piece) takes the body as it arrives
-- (an upload): the body is then never gathered, and req.stream is that object.
function M.read_request(conn, opts)
  local now = ids.now()
  local line, err
  repeat -- tolerate stray CRLFs between requests
    line, err = conn:read_line(MAX_HEADER_BYTES, now + opts.idle)
    if not line then
      if err == "too_long" then return nil, "bad", 431 end
      return nil, err
    end
  until line ~= ""
  local header_deadline = ids.now() + (opts.header_timeout or 30)
  local method, target, version = line:match("^(%u+) (%S+) HTTP/(%d%.%d)$")
  if not method then return nil, "bad", 400 end

  local headers, count, total = {}, 0, #line
  while true do
    local h
    h, err = conn:read_line(MAX_HEADER_BYTES, header_deadline)
    if not h then
      if err == "too_long" then return nil, "bad", 431 end
      return nil, err
    end
    if h == "" then break end
    total = total + #h
    count = count + 1
    if total > MAX_HEADER_BYTES or count > MAX_HEADERS then return nil, "bad", 431 end
    local name, value = h:match("^([^:%s]+):%s*(.-)%s*$")
    if not name then return nil, "bad", 400 end
    name = name:lower()
    if headers[name] then headers[name] = headers[name] .. ", " .. value else headers[name] = value end
  end

  local path, query = split_target(target)
  local conn_hdr = (headers["connection"] or ""):lower()
  local keep_alive
  if version == "1.0" then
    keep_alive = conn_hdr:find("keep%-alive") ~= nil
  else
    keep_alive = conn_hdr:find("close") == nil
  end
  local req = {
    method = method, target = target, path = path, query = query, version = version,
    headers = headers, keep_alive = keep_alive, time = ids.now(), body = "",
    body_bytes = 0,
  }

  local limit = opts.limit_for(path)
  local te = headers["transfer-encoding"]
  local chunked = te and te:lower():find("chunked") ~= nil
  local length = headers["content-length"]
  if not chunked and length then
    if not length:match("^%d+$") then return nil, "bad", 400 end
    length = tonumber(length)
  end
  local expect = (headers["expect"] or ""):lower() == "100-continue"
  local body_deadline = ids.now() + (opts.body_timeout or 120)

  if not chunked and (not length or length == 0) then return req end

  if not chunked and length > limit then
    req.too_large, req.body_bytes = true, length
    if expect or length > DRAIN_MAX then
      req.keep_alive = false -- the body is not read: this connection cannot carry another request
      return req
    end
    local ok, rerr = conn:read_exact(length, nil, body_deadline)
    if not ok then return nil, rerr end
    return req
  end

  if expect then
    local ok, werr = conn:write("HTTP/1.1 100 Continue\r\n\r\n")
    if not ok then return nil, werr end
  end

  local parts, size = {}, 0
  local stream = opts.stream_for and opts.stream_for(req)
  req.stream = stream
  local function sink(piece)
    size = size + #piece
    if size > limit then parts = nil
    elseif stream then stream:write(piece)
    else parts[#parts + 1] = piece end
  end
  if not chunked then
    local ok, rerr = conn:read_exact(length, stream and function(p) stream:write(p) end
      or function(p) parts[#parts + 1] = p end, body_deadline)
    if not ok then return nil, rerr end
    size = length
  else
    while true do
      local sline, serr = conn:read_line(1024, body_deadline)
      if not sline then return nil, serr == "too_long" and "bad" or serr, serr == "too_long" and 400 or nil end
      local hex = sline:match("^%s*(%x+)")
      if not hex then return nil, "bad", 400 end
      local n = tonumber(hex, 16)
      if n == 0 then
        repeat -- trailers
          local t, terr = conn:read_line(MAX_HEADER_BYTES, body_deadline)
          if not t then return nil, terr end
        until t == ""
        break
      end
      if size + n > DRAIN_MAX then req.too_large = true; req.keep_alive = false; break end
      local ok, rerr = conn:read_exact(n, function(p) if parts then sink(p) else size = size + #p end end,
        body_deadline)
      if not ok then return nil, rerr end
      local crlf, cerr = conn:read_line(16, body_deadline)
      if crlf ~= "" then return nil, cerr or "bad", cerr == nil and 400 or nil end
    end
    if size > limit then req.too_large = true end
  end
  req.body_bytes = size
  if parts and not req.too_large and not stream then req.body = table.concat(parts) end
  return req
end

local function head(status, headers, framing, keep_alive)
  local out = { "HTTP/1.1 ", string.format("%d", status), " ", M.REASONS[status] or "Unknown", "\r\n" }
  for _, h in ipairs(headers) do
    out[#out + 1] = h[1] .. ": " .. h[2] .. "\r\n"
  end
  out[#out + 1] = framing
  if not keep_alive then out[#out + 1] = "connection: close\r\n" end
  out[#out + 1] = "\r\n"
  return table.concat(out)
end

-- respond(conn, status, headers, body, keep_alive) -> true | nil, err
-- headers: list of {name, value}.
function M.respond(conn, status, headers, body, keep_alive)
  return conn:write(head(status, headers, "content-length: " .. #body .. "\r\n", keep_alive) .. body)
end

-- fixed(conn, status, headers, length, keep_alive) -> writer: a body of a known length sent
-- in pieces (writer:send(data)); the caller sends exactly `length` bytes.
function M.fixed(conn, status, headers, length, keep_alive)
  local w = { pending = head(status, headers, string.format("content-length: %d\r\n", length), keep_alive) }
  function w.send(_, data)
    if w.pending then data, w.pending = w.pending .. data, nil end
    if data == "" then return true end
    return conn:write(data)
  end
  if length == 0 then w:send("") end
  return w
end

-- chunked(conn, status, headers, keep_alive) -> writer
-- writer:send(data) frames one chunk; writer:finish() sends the last chunk.
function M.chunked(conn, status, headers, keep_alive)
  local w = { conn = conn, pending = head(status, headers, "transfer-encoding: chunked\r\n", keep_alive) }
  function w.send(_, data)
    if data == "" then return true end
    local frame = string.format("%x\r\n", #data) .. data .. "\r\n"
    if w.pending then frame, w.pending = w.pending .. frame, nil end
    return conn:write(frame)
  end
  function w.flush_head()
    if w.pending then
      local p = w.pending
      w.pending = nil
      return conn:write(p)
    end
    return true
  end
  function w.finish()
    local frame = "0\r\n\r\n"
    if w.pending then frame, w.pending = w.pending .. frame, nil end
    return conn:write(frame)
  end
  return w
end

return M
