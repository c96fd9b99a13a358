-- anthropic.mock.files: the Files API (/v1/files, /v1/files/{id}, /v1/files/{id}/content).
--
-- Files live in memory for the run, newest first, with the API's pagination. An upload's body
-- is parsed as it arrives (anthropic.mock.multipart, bounded by max_file_bytes); its content is
-- kept as the pieces it came in. As in the API:
--   * every call needs anthropic-beta: files-api-2025-04-14 (else 400 invalid_request_error);
--   * uploaded files are not downloadable (400 invalid_request_error naming the file);
--     files the API made itself are: the mock makes one with POST /_mock/files
--     { filename, mime_type, size_bytes [, content] } (content generated when absent: byte i is
--     i % 251, so a test checks any size without storing it);
--   * the fault close_after = K closes the connection after K bytes of a download;
--   * a message whose image or document source is { type = "file", file_id } needs the beta
--     header and a file that exists (404 not_found_error otherwise).

local json = require "anthropic.mock.json"
local ids = require "anthropic.mock.ids"
local paginate = require "anthropic.mock.paginate"
local multipart = require "anthropic.mock.multipart"

local M = {}

M.BETA = "files-api-2025-04-14"
local FILE = json.order({ "id", "type", "filename", "mime_type", "size_bytes", "created_at", "downloadable" })
local DELETED = json.order({ "id", "type" })
local PATTERN_PERIOD = 251
local BLOCK = 256 * PATTERN_PERIOD    -- a whole number of periods: every block is the same

function M.new_store()
  return { list = {}, by_id = {} }
end

local GUESS = {
  pdf = "application/pdf", txt = "text/plain", md = "text/markdown", csv = "text/csv",
  json = "application/json", png = "image/png", jpg = "image/jpeg", jpeg = "image/jpeg",
  gif = "image/gif", webp = "image/webp", html = "text/html", xml = "application/xml",
}

local function value(f)
  return json.obj(FILE, {
    id = f.id, type = "file", filename = f.filename, mime_type = f.mime_type, size_bytes = f.size,
    created_at = ids.iso_micro(f.created_at), downloadable = f.downloadable,
  })
end

local function add(ctx, f)
  f.id, f.created_at = ids.next("file"), ids.now()
  table.insert(ctx.files.list, 1, f)
  ctx.files.by_id[f.id] = f
  return f
end

--- has_beta(headers) -> whether the request names the Files beta.
function M.has_beta(headers)
  return (headers["anthropic-beta"] or ""):find(M.BETA, 1, true) ~= nil
end

local function need_beta(ex)
  if M.has_beta(ex.req.headers) then return true end
  ex:error(400, "invalid_request_error", "The Files API is in beta: send the header anthropic-beta: " .. M.BETA)
  return false
end

local function find(ex, id)
  id = paginate.query("x=" .. id).x
  local f = ex.ctx.files.by_id[id]
  if not f then ex:error(404, "not_found_error", "File not found: " .. id) end
  return f
end

--- stream_for(config) -> function(req): the upload parser for POST /v1/files, nil otherwise.
function M.stream_for(config)
  return function(req)
    if req.method ~= "POST" or not req.path:match("/v1/files/?$") then return nil end
    local p, err = multipart.new(req.headers["content-type"], config.max_file_bytes)
    if p then return p end
    return { write = function() end, finish = function() return nil, err end }
  end
end

function M.upload(ex)
  if not need_beta(ex) then return end
  local max = ex.ctx.config.max_file_bytes
  local stream = ex.req.stream
  if not stream then return ex:error(400, "invalid_request_error", "file: Field required") end
  local parts, err = stream:finish()
  if err == "too_large" then
    return ex:error(413, "request_too_large", string.format("File exceeds the maximum size of %d bytes", max))
  elseif not parts then
    return ex:error(400, "invalid_request_error", "Invalid multipart/form-data body: " .. err)
  end
  local part
  for _, pt in ipairs(parts) do if pt.name == "file" then part = pt end end
  if not part or not part.filename then return ex:error(400, "invalid_request_error", "file: Field required") end
  if part.filename == "" or #part.filename > 500 then
    return ex:error(400, "invalid_request_error", "file: the filename must be 1 to 500 characters")
  end
  local mime = part.content_type
  if not mime or mime == "" or mime == "application/octet-stream" then
    mime = GUESS[(part.filename:match("%.([%w]+)$") or ""):lower()] or "application/octet-stream"
  end
  local f = add(ex.ctx, { filename = part.filename, mime_type = mime, size = part.size, chunks = part.chunks,
    downloadable = false })
  return ex:json(200, value(f))
end

function M.list(ex)
  if not need_beta(ex) then return end
  local page, err = paginate.page(ex.ctx.files.list, paginate.query(ex.req.query), function(f) return f.id end)
  if not page then return ex:error(400, "invalid_request_error", err) end
  for i, f in ipairs(page.data) do page.data[i] = value(f) end
  return ex:json(200, page)
end

function M.get(ex, id)
  if not need_beta(ex) then return end
  local f = find(ex, id)
  if f then return ex:json(200, value(f)) end
end

function M.delete(ex, id)
  if not need_beta(ex) then return end
  local f = find(ex, id)
  if not f then return end
  local store = ex.ctx.files
  store.by_id[f.id] = nil
  for i, g in ipairs(store.list) do
    if g == f then table.remove(store.list, i) break end
  end
  return ex:json(200, json.obj(DELETED, { id = f.id, type = "file_deleted" }))
end

local pattern_block
local function generated(size, send)
  if not pattern_block then
    local t = {}
    for i = 0, BLOCK - 1 do t[#t + 1] = string.char(i % PATTERN_PERIOD) end
    pattern_block = table.concat(t)
  end
  local left = size
  while left > 0 do
    local n = math.min(left, BLOCK)
    local ok = send(n == BLOCK and pattern_block or pattern_block:sub(1, n))
    if not ok then return false end
    left = left - n
  end
  return true
end

function M.content(ex, id)
  if not need_beta(ex) then return end
  local f = find(ex, id)
  if not f then return end
  if not f.downloadable then
    return ex:error(400, "invalid_request_error", "File " .. f.id .. " is not downloadable: only files "
      .. "created by the API (code execution, skills) can be downloaded, not uploaded files")
  end
  local w = ex:fixed(200, f.mime_type, f.size,
    { { "content-disposition", 'attachment; filename="' .. f.filename:gsub('"', "") .. '"' } })
  -- The fault close_after = K: the connection closes after K bytes of the announced content.
  local left = ex.fault and ex.fault.close_after
  local function send(piece)
    if left then
      if left <= #piece then
        w:send(piece:sub(1, left))
        return false
      end
      left = left - #piece
    end
    return w:send(piece)
  end
  local ok
  if f.chunks then
    ok = true
    for _, c in ipairs(f.chunks) do
      ok = send(c)
      if not ok then break end
    end
  else
    ok = generated(f.size, send)
  end
  if not ok then
    ex.keep_alive = false
    if left then ex.conn:close(ex.fault.close_mode == "reset") end
  end
end

--- content_of(f) -> the file's bytes as one string (for the mock's own GET /_mock/files/{id}).
function M.content_of(f)
  if f.chunks then return table.concat(f.chunks) end
  local out = {}
  generated(f.size, function(piece) out[#out + 1] = piece return true end)
  return table.concat(out)
end

--- make(ctx, spec) -> the metadata of a downloadable file, as one the API made itself
--- (POST /_mock/files). spec: filename, mime_type, size_bytes, content (all optional).
function M.make(ctx, spec)
  if type(spec) ~= "table" then return nil, "body must be a JSON object" end
  local content = spec.content
  if content ~= nil and type(content) ~= "string" then return nil, "content must be a string" end
  local size = content and #content or spec.size_bytes or 0
  if type(size) ~= "number" or size < 0 or size ~= math.floor(size) then
    return nil, "size_bytes must be an integer >= 0"
  end
  local f = add(ctx, { filename = type(spec.filename) == "string" and spec.filename or "output.bin",
    mime_type = type(spec.mime_type) == "string" and spec.mime_type or "application/octet-stream",
    size = size, chunks = content and { content } or nil, downloadable = true })
  return value(f)
end

-- The file sources of a message's blocks, wherever they sit (tool_result content too).
local function each_file_source(blocks, fn)
  if type(blocks) ~= "table" then return end
  for _, b in ipairs(blocks) do
    if type(b) == "table" then
      local src = b.source
      if (b.type == "image" or b.type == "document") and type(src) == "table" and src.type == "file" then
        local r = fn(src.file_id)
        if r then return r end
      end
      if type(b.content) == "table" then
        local r = each_file_source(b.content, fn)
        if r then return r end
      end
    end
  end
end

--- check_sources(ex, params) -> status, type, message for the first file source the request
--- may not use (no beta header, not a string, no such file); nil when all are fine.
function M.check_sources(ex, params)
  if type(params.messages) ~= "table" then return nil end
  for _, m in ipairs(params.messages) do
    local r = type(m) == "table" and each_file_source(m.content, function(file_id)
      if not M.has_beta(ex.req.headers) then
        return { 400, "invalid_request_error", "file sources need the Files API beta: send the header "
          .. "anthropic-beta: " .. M.BETA }
      end
      if type(file_id) ~= "string" then return { 400, "invalid_request_error", "source.file_id: Field required" } end
      if not ex.ctx.files.by_id[file_id] then return { 404, "not_found_error", "File not found: " .. file_id } end
    end)
    if r then return r[1], r[2], r[3] end
  end
  return nil
end

return M
