-- anthropic.files: client.files (the Files API: upload a file once, refer to its file_id in
-- many messages).
--
--   local f = client.files.upload{ path = "report.pdf" }            -- or data = bytes, filename = "x.png"
--   for file in client.files.list{ limit = 100 }:iter() do print(file.id, file.filename) end
--   local meta = client.files.retrieve(f.id)
--   client.files.download(id, { path = "out.bin" })                   -- streamed to the file
--   local bytes = client.files.download(id)                           -- a string, under max_bytes
--   client.files.delete(f.id)
--
-- The bytes never pass through Lua strings when a path is given: the core sends an upload as
-- multipart/form-data read from disk as it goes (libcurl's MIME API) and writes a download to a
-- temporary file beside the target, renamed over it only once the whole reply arrived.
-- on_progress(done, total) (a request option of upload and download) fires from poll, after
-- libcurl returned: the core counts, this module reads the counts.
--
-- Every call sends anthropic-beta: files-api-2025-04-14 (merged with the caller's betas, never
-- twice) unless the client was made with files_beta = false. Every call takes request options
-- last (timeout, max_retries, headers, betas, on_done), so none blocks a host loop.

local errors = require "anthropic.errors"
local validate = require "anthropic.validate"
local outcome = require "anthropic.outcome"
local pagination = require "anthropic.pagination"
local resource = require "anthropic.resource"
local compat = require "anthropic.compat"
local content = require "anthropic.content"

local M = {}

local usage = errors.usage

M.BETA = "files-api-2025-04-14"
local BASE = "/v1/files"

---@class anthropic.FileMetadata
---@field id string
---@field type string "file"
---@field filename string
---@field mime_type string
---@field size_bytes integer
---@field created_at string RFC 3339
---@field downloadable boolean

---@class anthropic.FileUploadParams
---@field path? string a file to upload, read from disk as it is sent
---@field data? string or the bytes themselves (then filename is required)
---@field filename? string default: the path's base name
---@field mime_type? string default: the type the bytes' signature shows
--- (anthropic.content.media_type), else libcurl's guess from the name
---@field betas? string[]

--- M.betas(client, betas) -> betas with the Files beta added once (unless client.files_beta is
--- false); the caller's list is not changed.
---@param client anthropic.Client
---@param betas? string[]
---@return string[]|nil
function M.betas(client, betas)
  local out, seen = {}, {}
  for _, b in ipairs(betas or {}) do
    if not seen[b] then out[#out + 1], seen[b] = b, true end
  end
  if client.files_beta and not seen[M.BETA] then out[#out + 1] = M.BETA end
  if #out == 0 then return nil end
  return out
end

-- Options of upload and download: the resource options with betas split off, and the keys only
-- these calls take (on_progress; download's path and max_bytes) taken out first.
local function split(options, extra)
  if options == nil then return resource.split_options(nil), nil, {} end
  if type(options) ~= "table" then usage("options", "must be a table") end
  options = validate.plain(options, "options")
  local rest, mine = {}, {}
  for k, v in pairs(options) do
    if extra[k] then mine[k] = v else rest[k] = v end
  end
  if mine.on_progress ~= nil and type(mine.on_progress) ~= "function" then
    usage("options.on_progress", "must be a function (done, total)")
  end
  local o, betas = resource.split_options(rest)
  return o, betas, mine
end

-- The handler of an upload or download: on_progress(done, total) whenever the core's counts
-- moved (sent for "up", received into a 2xx reply for "down"), once more at the end, then
-- `finish`.
local function progress_handler(direction, on_progress, finish)
  if not on_progress then return { finish = finish } end
  local last
  local function fire(op)
    local sent, send_total, received, receive_total = op.req:progress()
    local done, total = sent, send_total
    if direction == "down" then
      local status = op.req:status()
      if status < 200 or status >= 300 then return end
      done, total = received, receive_total
    end
    if done ~= last and not (done == 0 and total == nil) then
      last = done
      op:call(on_progress, done, total)
    end
  end
  return {
    progress = fire,
    finish = function(op)
      fire(op)
      if not op.done then finish(op) end
    end,
  }
end

local function check_string(v, name)
  if type(v) ~= "string" or v == "" then usage(name, "must be a non-empty string") end
  return v
end

-- A path that cannot be read is the caller's mistake, found before anything is sent.
-- How much of a file its media type is judged by when the caller names none.
local SNIFF_BYTES = 65536

-- Returns the file's first SNIFF_BYTES (and whether that is all of it).
local function check_readable(path)
  local f, oerr = io.open(path, "rb")
  if not f then usage("path", "cannot read " .. tostring(oerr)) end
  local head, rerr = f:read(SNIFF_BYTES)       -- a directory opens, and fails here
  local more = head ~= nil and #head == SNIFF_BYTES and f:read(0) ~= nil
  f:close()
  if rerr then usage("path", "cannot read " .. path .. ": " .. tostring(rerr)) end
  return head or "", more
end

local function basename(path)
  return path:match("([^/\\]+)[/\\]*$") or path
end

local UPLOAD_KEYS = { path = true, data = true, filename = true, mime_type = true, betas = true }

--- M.upload_part(params) -> the multipart part the core sends (checked: one of path, data).
---@param params anthropic.FileUploadParams
---@return table part { name = "file", path | data, filename, type }
function M.upload_part(params)
  if type(params) ~= "table" then
    usage("params", "must be a table { path = ... } or { data = ..., filename = ... }")
  end
  params = validate.plain(params, "params")
  validate.known_keys(params, UPLOAD_KEYS, "")
  local path, data = params.path, params.data
  if (path == nil) == (data == nil) then usage("path", "give exactly one of path and data") end
  local part = { name = "file" }
  local head, more
  if path ~= nil then
    check_string(path, "path")
    if path:find("\0", 1, true) then usage("path", "must not contain a NUL byte") end
    head, more = check_readable(path)
    part.path = path
    part.filename = params.filename ~= nil and check_string(params.filename, "filename") or basename(path)
  else
    if type(data) ~= "string" then usage("data", "must be a string of bytes") end
    if params.filename == nil then usage("filename", "is required with data (the API stores a name)") end
    part.data, part.filename = data, check_string(params.filename, "filename")
    head, more = data:sub(1, SNIFF_BYTES), #data > SNIFF_BYTES
  end
  -- No mime_type: the type the bytes' signature shows, as the content helpers judge it (libcurl
  -- would guess from the name's extension only, and send .md or .webp as octet-stream).
  part.type = content.media_type(head, more)
  if params.mime_type ~= nil then
    part.type = check_string(params.mime_type, "mime_type")
    if not part.type:find("^[%w!#$&^_.+-]+/[%w!#$&^_.+-]+") or part.type:find("[%c]") then
      usage("mime_type", "must be a media type such as \"application/pdf\"")
    end
  end
  if part.filename:find("[%c\"]") then usage("filename", "must not hold control characters or quotes") end
  validate.betas(params.betas, "betas")
  return part
end

-- The string download's error when the content passed max_bytes: name the way out.
local function download_error(err, max_bytes)
  if err.transport == "too_large" and err.status and err.status >= 200 and err.status < 300 then
    err.message = string.format("file content larger than max_bytes (%d bytes); pass { path = ... } "
      .. "to stream it to a file, or a larger max_bytes", max_bytes)
  end
  return err
end

-- ---------------------------------------------------------------------------------------

---@param client anthropic.Client
function M.attach(client)
  local files = {}

  --- files.upload{ path = ... | data = ..., filename =, mime_type =, betas = } [, options] ->
  --- FileMetadata. options: request options and on_progress(sent, total) (bytes of the request
  --- body). A path that cannot be read is a UsageError before anything is sent.
  ---@param params anthropic.FileUploadParams
  ---@param options? anthropic.RequestOptions also on_progress
  ---@return anthropic.FileMetadata file (an operation with options.on_done)
  function files.upload(params, options)
    local part = M.upload_part(params)
    local o, obetas, mine = split(options, { on_progress = true })
    local betas = params.betas or {}
    if obetas then
      betas = { compat.unpack(betas) }
      for _, b in ipairs(obetas) do betas[#betas + 1] = b end
    end
    betas = M.betas(client, betas)
    return resource.call(client, {
      method = "POST", path = BASE, multipart = { part }, betas = betas, file_param = "path",
      handler = progress_handler("up", mine.on_progress, outcome.json_handler.finish),
    }, o, options)
  end

  --- files.list([params [, options]]) -> Page of FileMetadata, newest first.
  --- params: limit (1..1000), after_id or before_id, betas, max_pages.
  ---@param params? table
  ---@param options? anthropic.RequestOptions
  ---@return anthropic.Page page of anthropic.FileMetadata (an operation with options.on_done)
  function files.list(params, options)
    local p = {}
    if params ~= nil then
      if type(params) ~= "table" then usage("params", "must be a table { limit =, after_id =, before_id = }") end
      for k, v in pairs(validate.plain(params, "params")) do p[k] = v end
    end
    p.betas = M.betas(client, validate.betas(p.betas, "betas"))
    return pagination.list(client, BASE, p, options)
  end

  -- GET or DELETE /v1/files/{file_id}: what retrieve and delete share.
  local function by_id(method, id, options)
    resource.check_id(id, "file_id")
    local o, betas = resource.split_options(options)
    return resource.call(client, {
      method = method, path = BASE .. "/" .. resource.path_segment(id), betas = M.betas(client, betas),
    }, o, options)
  end

  --- files.retrieve(file_id [, options]) -> FileMetadata
  ---@param id string
  ---@param options? anthropic.RequestOptions (betas too)
  ---@return anthropic.FileMetadata file (an operation with options.on_done)
  function files.retrieve(id, options) return by_id("GET", id, options) end

  --- files.delete(file_id [, options]) -> { id, type = "file_deleted" }
  ---@param id string
  ---@param options? anthropic.RequestOptions (betas too)
  ---@return table deleted { id, type = "file_deleted" } (an operation with options.on_done)
  function files.delete(id, options) return by_id("DELETE", id, options) end

  --- files.download(file_id [, options]) -> with options.path: { path, size_bytes } once the
  --- content is in the file (written beside it, renamed over it when complete); without: the
  --- content as a string, at most options.max_bytes (default the client's max_response_bytes).
  --- options: request options, betas, path, max_bytes, on_progress(received, total).
  ---@param id string
  ---@param options? anthropic.RequestOptions also path, max_bytes, on_progress
  ---@return table|string result { path, size_bytes } or the bytes (an operation with on_done)
  function files.download(id, options)
    resource.check_id(id, "file_id")
    local o, betas, mine = split(options, { path = true, max_bytes = true, on_progress = true })
    local path = mine.path
    if path ~= nil then check_string(path, "options.path") end
    if path ~= nil and path:find("\0", 1, true) then usage("options.path", "must not contain a NUL byte") end
    if path ~= nil and mine.max_bytes ~= nil then
      usage("options.max_bytes", "caps a download into a string; a download to a path has no cap")
    end
    local max_bytes = validate.count(mine.max_bytes, "options.max_bytes", client.max_response_bytes, 2^31 - 1, 1)
    local function finish(op)
      local f = outcome.read(op.req)
      if f.transport ~= "none" or f.status < 200 or f.status >= 300 then
        local err = op.client:_error(f)
        return op:finish(path == nil and download_error(err, max_bytes) or err)
      end
      if path == nil then return op:finish(nil, f.body) end
      local _, _, received = op.req:progress()
      op:finish(nil, outcome.attach_response({ path = path, size_bytes = received }, f.status, f.headers,
        f.attempts, f.request_id))
    end
    local spec = {
      method = "GET", path = BASE .. "/" .. resource.path_segment(id) .. "/content", accept = "*/*",
      betas = M.betas(client, betas), download_path = path, file_param = "options.path",
      max_ok_bytes = path == nil and max_bytes or nil,
      handler = progress_handler("down", mine.on_progress, finish),
    }
    return resource.call(client, spec, o, options)
  end

  client.files = files
end

return M
