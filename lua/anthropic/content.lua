-- anthropic.content: content blocks for images, PDFs, text documents and uploaded files, so a
-- caller never base64-encodes by hand or guesses a media type (docs/content.md).
--
--   local content = require "anthropic.content"      -- also anthropic.content
--   client.messages.create{ model = ..., max_tokens = 1024, messages = { { role = "user", content = {
--     content.image("screenshot.png"),                            -- a bare string is a path
--     content.document({ data = pdf_bytes }, { title = "Q3", citations = true }),
--     content.file("file_011CNha8iCJcU1wXNR6q4V8w", "document"),  -- uploaded with client.files
--     content.text("What changed between these?"),
--   } } } }
--
-- Where the bytes come from: a bare string is always a path, and bytes are always given as
-- { data = bytes } (or a path as { path = ... }). The rule never looks at the file system or the
-- bytes to decide, so it cannot guess wrong: a file name passed as bytes, or bytes passed as a
-- path, is an error rather than a document that silently holds the wrong thing.
--
-- The media type comes from the bytes' signature (PNG, JPEG, GIF, WebP, PDF; plain text when
-- the bytes are valid UTF-8 without NUL), never from a file name. An unknown type, an empty
-- input or one over the API's documented limits (LIMITS) is a UsageError naming the argument,
-- raised before anything is read past the size check or sent. Base64 is done in C
-- (anthropic.core.base64_encode, OpenSSL's libcrypto).

local core = require "anthropic.core"
local errors = require "anthropic.errors"

---@class anthropic.content
local M = {}

--- The API's documented limits the helpers check (Messages API, inline content), read at
--- each call (raise one if the API's limit grows before this library knows):
--- image_base64_bytes: 5 MB per image, measured on the base64 text the request carries;
--- request_bytes: 32 MB per request, so no single PDF or text document may be larger;
--- pdf_pages: 100 pages per PDF.
M.LIMITS = { image_base64_bytes = 5 * 1024 * 1024, request_bytes = 32 * 1024 * 1024, pdf_pages = 100 }

-- Signatures: { media type, bytes at offset 1, bytes at offset 9 (WebP's "WEBP" after RIFF's size) }.
local SIGNATURES = {
  { "image/png", "\137PNG\r\n\26\n" },
  { "image/jpeg", "\255\216\255" },
  { "image/gif", "GIF87a" },
  { "image/gif", "GIF89a" },
  { "image/webp", "RIFF", "WEBP" },
  { "application/pdf", "%PDF-" },
}
local IMAGE_TYPES = { ["image/png"] = true, ["image/jpeg"] = true, ["image/gif"] = true, ["image/webp"] = true }

local function fail(fn, param, reason)
  error(errors.new(errors.UsageError, { message = "content." .. fn .. ": " .. param .. ": " .. reason,
    param = param, reason = reason }), 0)
end

--- content.media_type(bytes [, head]) -> the media type the bytes' signature shows
--- ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain" for
--- valid UTF-8 without NUL), or nil when it is none of them. With head = true the bytes are only
--- the start of the content, so a character cut at their end still counts as text.
---@param bytes string
---@param head? boolean
---@return string|nil media_type
function M.media_type(bytes, head)
  if type(bytes) ~= "string" or bytes == "" then return nil end
  for _, s in ipairs(SIGNATURES) do
    if bytes:sub(1, #s[2]) == s[2] and (s[3] == nil or bytes:sub(9, 8 + #s[3]) == s[3]) then return s[1] end
  end
  if head then
    -- Drop a sequence the cut left unfinished: up to three continuation bytes and their lead.
    local n, cont = #bytes, 0
    while cont < 3 and n > 0 and bytes:byte(n) >= 0x80 and bytes:byte(n) < 0xC0 do n, cont = n - 1, cont + 1 end
    if n > 0 and bytes:byte(n) >= 0xC0 then n = n - 1 end
    bytes = bytes:sub(1, n)
  end
  if not bytes:find("\0", 1, true) and core.utf8_invalid(bytes) == nil then return "text/plain" end
  return nil
end

--- content.pdf_pages(bytes) -> the page count the PDF's page tree declares (its largest
--- /Count in a /Type /Pages dictionary), or nil when the tree is not readable as plain text
--- (in a compressed object stream): then the API itself checks the page limit.
---@param bytes string
---@return integer|nil pages
function M.pdf_pages(bytes)
  local most
  local from = 1
  while true do
    -- A plain search for "/Pages" (fast on a 24 MB PDF), then "/Type" just before it: an
    -- unanchored pattern would start the matcher at every byte.
    local p = bytes:find("/Pages", from, true)
    if not p then break end
    local e = p + 5
    local window = math.max(1, p - 24)
    local at = bytes:sub(window, p - 1):match("()/Type%s*$")
    if at and not bytes:sub(e + 1, e + 1):match("%w") then
      local s = window + at - 1
      -- The dictionary around the match: back to its "<<", forward to its ">>" (a page tree
      -- node holds no nested dictionaries in the writers seen, and 512 bytes either side
      -- bound the work on hostile input).
      local open = bytes:sub(math.max(1, s - 512), s):match(".*()<<")
      local head = open and math.max(1, s - 512) + open - 1 or s
      local close = bytes:find(">>", e, true) or math.min(#bytes, e + 512)
      local count = tonumber(bytes:sub(head, math.min(close, e + 512)):match("/Count%s+(%d+)"))
      if count and (most == nil or count > most) then most = count end
    end
    from = e + 1
  end
  return most
end

-- Sizes in bytes, exactly: a limit quoted as "3.8 MB" next to a size of "3.8 MB" says nothing.
local function human(n) return string.format("%d bytes", n) end

-- The largest raw input whose base64 text fits in `b64` bytes.
local function raw_limit(b64) return math.floor(b64 / 4) * 3 end

-- read(fn, src, max_raw) -> bytes, where (the path, quoted, or "data"), param. A bare string is
-- a path; a table has exactly one of path and data. A file is measured before it is read, so an
-- oversize one costs no memory.
local function read(fn, src, max_raw, limit_text)
  local path, data
  if type(src) == "string" then path = src
  elseif type(src) == "table" then
    for k in pairs(src) do
      if k ~= "path" and k ~= "data" then
        fail(fn, "source", "unknown field '" .. tostring(k) .. "' (expected { path = ... }, { data = ... } or "
          .. "{ url = ... })")
      end
    end
    path, data = src.path, src.data
    if (path == nil) == (data == nil) then
      fail(fn, "source", "give exactly one of { path = FILE }, { data = BYTES } and { url = URL }")
    end
  else
    fail(fn, "source", "expected a path (a string), { path = FILE }, { data = BYTES } or { url = URL }, got "
      .. type(src))
  end
  if data ~= nil then
    if type(data) ~= "string" then fail(fn, "data", "expected the bytes as a string, got " .. type(data)) end
    if #data == 0 then fail(fn, "data", "is empty") end
    if #data > max_raw then
      fail(fn, "data", "the data is " .. human(#data) .. ", over the API's limit: " .. limit_text())
    end
    return data, "the data", "data"
  end
  if type(path) ~= "string" or path == "" then fail(fn, "path", "expected a file name, got " .. type(path)) end
  if path:find("[%z\n]") then
    fail(fn, "path", "a bare string is a path and this one holds a NUL or newline: pass bytes as { data = BYTES }")
  end
  local where = "'" .. path .. "'"
  local f, oerr = io.open(path, "rb")
  if not f then
    local reason = tostring(oerr)   -- io.open's message starts with the name: not twice
    if reason:sub(1, #path + 2) == path .. ": " then reason = reason:sub(#path + 3) end
    fail(fn, "path", "cannot read " .. where .. ": " .. reason)
  end
  -- One byte first: a directory opens but does not read (and seeks to a huge "size").
  local first, ferr = f:read(1)
  if first == nil then
    f:close()
    fail(fn, "path", ferr and ("cannot read " .. where .. ": " .. tostring(ferr)) or (where .. " is empty"))
  end
  -- A regular file is measured before it is read. A pipe (/dev/stdin) cannot seek, and some
  -- files (in /proc) say 0: those are measured by reading at most one byte past the limit.
  local size = f:seek("end")
  if size and size > max_raw then
    f:close()
    fail(fn, "path", where .. " is " .. human(size) .. ", over the API's limit: " .. limit_text())
  end
  if size then f:seek("set", 1) end
  local rest, rerr = f:read(max_raw)
  f:close()
  if rerr then fail(fn, "path", "cannot read " .. where .. ": " .. tostring(rerr)) end
  local bytes = first .. (rest or "")
  if #bytes > max_raw then
    fail(fn, "path", where .. " holds more than the API's limit: " .. limit_text())
  end
  return bytes, where, "path"
end

local function check_opts(fn, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then fail(fn, "opts", "expected a table, got " .. type(opts)) end
  for k in pairs(opts) do
    if not allowed[k] then
      local names = {}
      for name in pairs(allowed) do names[#names + 1] = name end
      table.sort(names)
      fail(fn, "opts." .. tostring(k), "unknown option (expected " .. table.concat(names, ", ") .. ")")
    end
  end
  return opts
end

-- cache_control: true (an ephemeral breakpoint, the API's default TTL) or the API's table
-- { type = "ephemeral" [, ttl = "5m" | "1h"] }, copied so later edits of the caller's table do
-- not change a built block.
local function cache_control(fn, cc)
  if cc == nil or cc == false then return nil end
  if cc == true then return { type = "ephemeral" } end
  if type(cc) ~= "table" or cc.type ~= "ephemeral" then
    fail(fn, "opts.cache_control", "expected true or { type = \"ephemeral\" [, ttl = \"5m\" | \"1h\"] }")
  end
  if cc.ttl ~= nil and cc.ttl ~= "5m" and cc.ttl ~= "1h" then
    fail(fn, "opts.cache_control", "ttl must be \"5m\" or \"1h\", got " .. tostring(cc.ttl))
  end
  return { type = "ephemeral", ttl = cc.ttl }
end

-- The document-only options, shared by document() and file(): title (1-500 characters),
-- context (non-empty) and citations (true | false | { enabled = boolean }).
local function document_fields(fn, block, opts)
  if opts.title ~= nil then
    local chars = type(opts.title) == "string" and select(2, opts.title:gsub("[^\128-\191]", "")) or 0
    if chars < 1 or chars > 500 then
      fail(fn, "opts.title", "expected a string of 1 to 500 characters")
    end
    block.title = opts.title
  end
  if opts.context ~= nil then
    if type(opts.context) ~= "string" or opts.context == "" then
      fail(fn, "opts.context", "expected a non-empty string")
    end
    block.context = opts.context
  end
  local c = opts.citations
  if c ~= nil then
    if type(c) == "table" then c = c.enabled end
    if type(c) ~= "boolean" then fail(fn, "opts.citations", "expected true, false or { enabled = boolean }") end
    block.citations = { enabled = c }
  end
  return block
end

local TEXT_OPTS = { cache_control = true }
local IMAGE_OPTS = { cache_control = true }
local DOCUMENT_OPTS = { cache_control = true, title = true, context = true, citations = true }
local FILE_OPTS = { cache_control = true, title = true, context = true, citations = true, kind = true }

---@class anthropic.ContentOptions
---@field cache_control? boolean|table true, or { type = "ephemeral", ttl = "5m"|"1h" }
---@field title? string documents: 1 to 500 characters
---@field context? string documents: text about the document the model reads but cannot cite
---@field citations? boolean|table documents: true, false or { enabled = boolean }

--- content.text(s [, opts]) -> a text block { type = "text", text = s }.
---@param s string non-empty text
---@param opts? anthropic.ContentOptions cache_control
---@return table block
function M.text(s, opts)
  opts = check_opts("text", opts, TEXT_OPTS)
  if type(s) ~= "string" or s == "" then fail("text", "text", "expected a non-empty string, got " .. type(s)) end
  return { type = "text", text = s, cache_control = cache_control("text", opts.cache_control) }
end

-- The limits in words, read from M.LIMITS at each call (so the words always match the check).
local function mb(n)
  if n % (1024 * 1024) ~= 0 then return human(n) end
  return string.format("%d MB, %d bytes", n / (1024 * 1024), n)
end
local function image_limit_text()
  local b64 = M.LIMITS.image_base64_bytes
  return "an image may be at most " .. human(raw_limit(b64)) .. " (" .. mb(b64) .. ", once base64-encoded)"
end
local function document_limit_text()
  return "a document must fit in one request (" .. mb(M.LIMITS.request_bytes) .. ")"
end
local function pdf_limit_text()
  return "a PDF must fit, base64-encoded, in one request (" .. mb(M.LIMITS.request_bytes) .. "): at most "
    .. human(raw_limit(M.LIMITS.request_bytes))
end
-- What an unknown type is called by the function that refused it ("content.<fn>").
local UNKNOWN = {
  image = "is not a PNG, JPEG, GIF or WebP image", document = "is neither a PDF nor UTF-8 text",
  attachment = "is not a PNG, JPEG, GIF or WebP image, a PDF or UTF-8 text",
}
local OTHER_HELPER = { image = "content.document", document = "content.image" }

local function unknown(fn, param, where, media)
  fail(fn, param, where .. " " .. UNKNOWN[fn] .. " (the type comes from the bytes, not the name"
    .. ((media and OTHER_HELPER[fn]) and ("; it is " .. media .. ": use " .. OTHER_HELPER[fn]) or "") .. ")")
end

-- { url = URL }: a source the API fetches itself (so no type or size is known here).
local function url_source(fn, src)
  if type(src) ~= "table" or src.url == nil then return nil end
  for k in pairs(src) do
    if k ~= "url" then fail(fn, "source", "give exactly one of { path = FILE }, { data = BYTES } and { url = URL }") end
  end
  if type(src.url) ~= "string" or not src.url:find("^[hH][tT][tT][pP][sS]?://[^%s]+$") then
    fail(fn, "url", "expected an http:// or https:// URL without spaces, got " .. tostring(src.url))
  end
  return { type = "url", url = src.url }
end

local function image_block(fn, src, opts)
  opts = check_opts(fn, opts, IMAGE_OPTS)
  local url = url_source(fn, src)
  if url then return { type = "image", source = url, cache_control = cache_control(fn, opts.cache_control) } end
  local bytes, where, param = read(fn, src, raw_limit(M.LIMITS.image_base64_bytes), image_limit_text)
  local media = M.media_type(bytes)
  if not IMAGE_TYPES[media] then unknown(fn, param, where, media) end
  return { type = "image", source = { type = "base64", media_type = media, data = core.base64_encode(bytes) },
    cache_control = cache_control(fn, opts.cache_control) }
end

local function document_block(fn, src, opts)
  opts = check_opts(fn, opts, DOCUMENT_OPTS)
  local source = url_source(fn, src)    -- a PDF at a URL: the API fetches it
  if not source then
    -- Text goes as it is, a PDF as base64 (a third larger): the bound for the read is the
    -- text's, the PDF's is checked once the bytes show one.
    local bytes, where, param = read(fn, src, M.LIMITS.request_bytes, document_limit_text)
    local media = M.media_type(bytes)
    if media == "application/pdf" then
      if #bytes > raw_limit(M.LIMITS.request_bytes) then
        fail(fn, param, where .. " is " .. human(#bytes) .. ", over the API's limit: " .. pdf_limit_text())
      end
      local pages = M.pdf_pages(bytes)
      if pages and pages > M.LIMITS.pdf_pages then
        fail(fn, param, where .. " has " .. pages .. " pages, over the API's limit of "
          .. M.LIMITS.pdf_pages .. " pages per PDF")
      end
      source = { type = "base64", media_type = media, data = core.base64_encode(bytes) }
    elseif media == "text/plain" then
      source = { type = "text", media_type = media, data = bytes }
    else
      unknown(fn, param, where, media)
    end
  end
  local block = { type = "document", source = source }
  document_fields(fn, block, opts)
  block.cache_control = cache_control(fn, opts.cache_control)
  return block
end

--- content.image(src [, opts]) -> an image block with a base64 source: src is a path (a string,
--- or { path = FILE }) or { data = BYTES }; PNG, JPEG, GIF or WebP by the bytes' signature.
--- { url = URL } gives a URL source instead (the API fetches the image).
---@param src string|table a path, { path = FILE }, { data = BYTES } or { url = URL }
---@param opts? anthropic.ContentOptions cache_control
---@return table block
function M.image(src, opts) return image_block("image", src, opts) end

--- content.document(src [, opts]) -> a document block: a PDF as a base64 source, UTF-8 text as
--- a text source (by the bytes' signature). src is a path (a string, or { path = FILE }) or
--- { data = BYTES }. A PDF whose page tree declares more than LIMITS.pdf_pages is refused.
--- { url = URL } gives a URL source instead (a PDF the API fetches).
---@param src string|table a path, { path = FILE }, { data = BYTES } or { url = URL }
---@param opts? anthropic.ContentOptions title, context, citations, cache_control
---@return table block
function M.document(src, opts) return document_block("document", src, opts) end

--- content.file(file_id [, kind] [, opts]) -> an image or document block whose source is a
--- file uploaded with client.files ({ type = "file", file_id = ... }). kind is "document" (the
--- default) or "image", as a string or opts.kind; documents take title, context, citations.
---@param file_id string the uploaded file's id
---@param kind? string|anthropic.ContentOptions "document" or "image" (or the opts table)
---@param opts? anthropic.ContentOptions cache_control; for documents title, context, citations
---@return table block
function M.file(file_id, kind, opts)
  if type(kind) == "table" and opts == nil then kind, opts = nil, kind end
  opts = check_opts("file", opts, FILE_OPTS)
  if kind ~= nil and opts.kind ~= nil and kind ~= opts.kind then
    fail("file", "kind", "given twice, as '" .. tostring(kind) .. "' and opts.kind '" .. tostring(opts.kind) .. "'")
  end
  kind = kind or opts.kind or "document"
  if type(file_id) ~= "string" or file_id == "" then
    fail("file", "file_id", "expected the id of an uploaded file (a non-empty string), got " .. type(file_id))
  end
  if kind ~= "document" and kind ~= "image" then
    fail("file", "kind", "expected \"document\" or \"image\", got " .. tostring(kind))
  end
  local block = { type = kind, source = { type = "file", file_id = file_id } }
  if kind == "document" then document_fields("file", block, opts)
  elseif opts.title ~= nil or opts.context ~= nil or opts.citations ~= nil then
    fail("file", "opts", "title, context and citations are options of documents, not images")
  end
  block.cache_control = cache_control("file", opts.cache_control)
  return block
end

--- content.attachment(src [, opts]) -> content.image for image bytes, else content.document
--- (PDF or text): for a file whose kind the caller does not know (the CLI's --file).
---@param src string|table a path, { path = FILE } or { data = BYTES }
---@param opts? anthropic.ContentOptions
---@return table block
function M.attachment(src, opts)
  if type(src) == "table" and src.url ~= nil then
    fail("attachment", "url", "a URL does not show whether it is an image or a PDF: use content.image or "
      .. "content.document")
  end
  local head
  if type(src) == "table" and src.data ~= nil and src.path == nil then head = src.data
  else
    -- Only the signature is needed to choose; the chosen helper measures and reads the file
    -- (and words any error about it).
    local path = type(src) == "table" and src.path or src
    local f = type(path) == "string" and not path:find("[%z\n]") and io.open(path, "rb")
    if f then
      head = f:read(16)
      f:close()
    end
  end
  if type(head) == "string" and IMAGE_TYPES[M.media_type(head:sub(1, 16))] then
    return image_block("attachment", src, opts)
  end
  return document_block("attachment", src, opts)
end

return M
