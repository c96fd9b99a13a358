-- anthropic.mock.multipart: a streamed multipart/form-data parser (RFC 7578) for uploads.
--
--   local p, err = multipart.new(content_type_header, max_part_bytes)
--   p:write(piece) ...        -- the body as it arrives, in pieces of any size
--   local parts, err = p:finish()
--   -- parts: { { name =, filename =, content_type =, chunks = { ... }, size = n }, ... }
--
-- The body is never joined: a part's content is kept as the pieces it arrived in (minus the
-- delimiters), and what waits in `buf` is at most one delimiter's length plus one piece. A
-- part larger than max_part_bytes stops being kept (the parser says "too_large"); headers of a
-- part are bounded too. Invariant: once `err` is set, every later write is ignored.

local M = {}
M.__index = M

local MAX_PART_HEADERS = 16 * 1024

--- new(content_type, max_part_bytes) -> parser | nil, message
function M.new(content_type, max_part_bytes)
  local ct = content_type or ""
  if not ct:lower():find("^%s*multipart/form%-data") then
    return nil, "Content-Type must be multipart/form-data"
  end
  local boundary = ct:match('[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]="([^"]+)"')
    or ct:match("[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=([^%s;]+)")
  if not boundary or #boundary > 70 then return nil, "multipart/form-data without a valid boundary" end
  -- The body starts with "--boundary"; a leading CRLF makes every delimiter look the same.
  return setmetatable({
    delim = "\r\n--" .. boundary, buf = "\r\n", state = "preamble", parts = {},
    max = max_part_bytes, part = nil, err = nil,
  }, M)
end

local function parse_headers(block)
  local h = {}
  for line in (block .. "\r\n"):gmatch("(.-)\r\n") do
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then h[name:lower()] = value end
  end
  local cd = h["content-disposition"] or ""
  if not cd:lower():find("^%s*form%-data") then return nil end
  local function param(key)
    return cd:match(";%s*" .. key .. '="([^"]*)"') or cd:match(";%s*" .. key .. "=([^;%s]+)")
  end
  return { name = param("name"), filename = param("filename"), content_type = h["content-type"],
           chunks = {}, size = 0 }
end

function M:keep(piece)
  local part = self.part
  if piece == "" or not part then return end
  part.size = part.size + #piece
  if self.max and part.size > self.max then
    self.err = "too_large"
    part.chunks = {}
    return
  end
  part.chunks[#part.chunks + 1] = piece
end

-- Moves through as many states as `buf` allows.
function M:step()
  while not self.err do
    local buf, delim = self.buf, self.delim
    if self.state == "preamble" or self.state == "body" then
      local at = buf:find(delim, 1, true)
      if at then
        if self.state == "body" then self:keep(buf:sub(1, at - 1)) end
        self.buf, self.state = buf:sub(at + #delim), "after_delim"
      else
        -- Keep the tail that could be the start of a delimiter; the rest is content.
        local keep_from = math.max(1, #buf - #delim + 2)
        if self.state == "body" then self:keep(buf:sub(1, keep_from - 1)) end
        self.buf = buf:sub(keep_from)
        return
      end
    elseif self.state == "after_delim" then
      if #buf < 2 then return end
      local two = buf:sub(1, 2)
      if two == "--" then
        self.state, self.buf = "done", ""
        return
      end
      -- Transport padding (spaces, tabs) may follow a delimiter before its CRLF.
      local eol = buf:find("\r\n", 1, true)
      if not eol then
        if #buf > 256 then self.err = "malformed" end
        return
      end
      if not buf:sub(1, eol - 1):find("^[ \t]*$") then self.err = "malformed"; return end
      self.buf, self.state = buf:sub(eol + 2), "headers"
    elseif self.state == "headers" then
      local e = buf:find("\r\n\r\n", 1, true)
      if not e then
        if #buf > MAX_PART_HEADERS then self.err = "malformed" end
        return
      end
      local part = parse_headers(buf:sub(1, e - 1))
      if not part or not part.name then self.err = "malformed"; return end
      self.parts[#self.parts + 1] = part
      self.part, self.buf, self.state = part, buf:sub(e + 4), "body"
    else -- done: the epilogue is ignored
      self.buf = ""
      return
    end
  end
end

--- p:write(piece): feeds the next bytes of the body.
function M:write(piece)
  if self.err or self.state == "done" then return end
  self.buf = self.buf .. piece
  self:step()
end

--- p:finish() -> parts | nil, "too_large" | "malformed"
function M:finish()
  if self.err then return nil, self.err end
  if self.state ~= "done" then return nil, "malformed" end
  return self.parts
end

return M
