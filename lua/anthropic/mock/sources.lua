-- anthropic.mock.sources: the `source` of image and document blocks in a request, checked as
-- the API checks it (anthropic.mock.validate calls check for every image and document block).
--
-- The shapes are the OpenAPI schema's (Base64ImageSource, URLImageSource, FileImageSource,
-- Base64PDFSource, PlainTextSource, ContentBlockSource, URLPDFSource, FileDocumentSource),
-- worded in the API's pydantic style with the field path first. Base64 data must decode, and
-- an image's bytes must be of the media type it claims, as the API insists. Whether a file_id
-- names an uploaded file is the files route's business, not this shape check's.

local json = require "anthropic.mock.json"
local crypto = require "anthropic.mock.crypto"

local M = {}

local IMAGE_TYPES = { "image/jpeg", "image/png", "image/gif", "image/webp" }
local IMAGE_SET = {}
for _, t in ipairs(IMAGE_TYPES) do IMAGE_SET[t] = true end

local IMAGE_SOURCES = { base64 = true, url = true, file = true }
local DOCUMENT_SOURCES = { base64 = true, text = true, content = true, url = true, file = true }

-- The media type an image's bytes show (for the API's "appears to be" check).
local function sniff(bytes)
  if bytes:sub(1, 8) == "\137PNG\r\n\26\n" then return "image/png" end
  if bytes:sub(1, 3) == "\255\216\255" then return "image/jpeg" end
  if bytes:sub(1, 6) == "GIF87a" or bytes:sub(1, 6) == "GIF89a" then return "image/gif" end
  if bytes:sub(1, 4) == "RIFF" and bytes:sub(9, 12) == "WEBP" then return "image/webp" end
end

local function want_string(v, where)
  if v == nil then return where .. ": Field required" end
  if type(v) ~= "string" then return where .. ": Input should be a valid string" end
end

local function tag_list(set)
  local names = {}
  for k in pairs(set) do names[#names + 1] = "'" .. k .. "'" end
  table.sort(names)
  return table.concat(names, ", ")
end

local function decode(data, where)
  if not crypto then return nil end       -- without anthropic.core the shape alone is checked
  local bytes = crypto.base64_decode(data)
  if bytes == nil then return nil, where .. ": Invalid base64 data" end
  return bytes
end

local function check_image_base64(s, where)
  local err = want_string(s.media_type, where .. ".media_type")
  if err then return err end
  if not IMAGE_SET[s.media_type] then
    return where .. ".media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
  end
  err = want_string(s.data, where .. ".data")
  if err then return err end
  local bytes, derr = decode(s.data, where .. ".data")
  if derr then return derr end
  if bytes then
    local actual = sniff(bytes)
    if actual == nil then return where .. ".data: Could not process image" end
    if actual ~= s.media_type then
      return where .. ".data: The image was specified using the " .. s.media_type
        .. " media type, but the image appears to be a " .. actual .. " image"
    end
  end
end

local function check_document_source(s, t, where)
  if t == "base64" then
    if s.media_type ~= "application/pdf" then return where .. ".media_type: Input should be 'application/pdf'" end
    local err = want_string(s.data, where .. ".data")
    if err then return err end
    local bytes, derr = decode(s.data, where .. ".data")
    if derr then return derr end
    if bytes and bytes:sub(1, 5) ~= "%PDF-" then return where .. ".data: The PDF specified was not valid." end
  elseif t == "text" then
    if s.media_type ~= "text/plain" then return where .. ".media_type: Input should be 'text/plain'" end
    return want_string(s.data, where .. ".data")
  elseif t == "content" then
    if s.content == nil then return where .. ".content: Field required" end
    if type(s.content) ~= "string" and not json.is_list(s.content) then
      return where .. ".content: Input should be a valid list"
    end
  end
end

--- M.check(block, where) -> nil | message: the source of an image or document block.
---@param block table an image or document content block
---@param where string its path ("messages.0.content.1")
---@return string|nil message
function M.check(block, where)
  local kind = block.type
  local s = block.source
  local at = where .. "." .. kind .. ".source"
  if s == nil then return where .. "." .. kind .. ".source: Field required" end
  if not json.is_object(s) then return at .. ": Input should be a valid dictionary" end
  local allowed = kind == "image" and IMAGE_SOURCES or DOCUMENT_SOURCES
  local t = s.type
  if t == nil then return at .. ": Unable to extract tag using discriminator 'type'" end
  if type(t) ~= "string" or not allowed[t] then
    return at .. ": Input tag '" .. tostring(t) .. "' found using 'type' does not match any of the expected tags: "
      .. tag_list(allowed)
  end
  at = at .. "." .. t
  if t == "url" then return want_string(s.url, at .. ".url") end
  if t == "file" then return want_string(s.file_id, at .. ".file_id") end
  if kind == "image" then return check_image_base64(s, at) end
  return check_document_source(s, t, at)
end

return M
