-- anthropic.cli_files: files for `anthropic-lua` (anthropic.cli dispatches here): the
-- attachments of `ask --file PATH` (inline, or through the Files API with --upload) and the
-- `files list|upload|info|download|rm` command on client.files.
--
-- An attachment's kind comes from its bytes (anthropic.content): an image becomes an image
-- block, a PDF or UTF-8 text a document block; anything else, a file that cannot be read or
-- one over the API's limits is a usage error (exit 2) before any request. Inline attachments
-- are read and checked before the client is made; uploaded ones are checked the same way
-- (from their first 64 KB) and uploaded once the client exists. The blocks come before the
-- prompt, as the API's guides advise.
--
-- Output contract as in anthropic.cli: results on stdout (tables, ids, the content of a
-- download), narration on stderr, one JSON document with --json; everything goes through the
-- CLI's scrubbed writers.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local content = require "anthropic.content"
local core = require "anthropic.core"
local fail_usage = require("anthropic.cli_args").fail_usage

local M = {}

local SNIFF_BYTES = 64 * 1024
local FILES_BETA = require("anthropic.files").BETA   -- a message with file sources needs it too

-- The media type of a file from its first 64 KB (text: valid UTF-8 and no NUL, up to a
-- character the 64 KB cut may split), or nil, a message worded as anthropic.content's.
local function sniff(path)
  local where = "'" .. path .. "'"
  local f, oerr = io.open(path, "rb")
  if not f then
    local reason = tostring(oerr)
    if reason:sub(1, #path + 2) == path .. ": " then reason = reason:sub(#path + 3) end
    return nil, "cannot read " .. where .. ": " .. reason
  end
  local head, rerr = f:read(SNIFF_BYTES)
  f:close()
  if head == nil then
    return nil, rerr and ("cannot read " .. where .. ": " .. tostring(rerr)) or (where .. " is empty")
  end
  local media = content.media_type(head)
  if media == nil and #head == SNIFF_BYTES and not head:find("\0", 1, true) then
    for cut = 1, 3 do
      if core.utf8_invalid(head:sub(1, #head - cut)) == nil then media = "text/plain" end
    end
  end
  if media == nil then
    return nil, where .. " is not a PNG, JPEG, GIF or WebP image, a PDF or UTF-8 text (the type comes from the "
      .. "bytes, not the name)"
  end
  return media
end

--- M.prepare(o) -> the attachments of `ask` ({ path, block } inline; { path, kind, mime_type }
--- with --upload), checked; a usage failure names the --file at fault.
---@param o table the parsed command line (o.files, o.upload)
---@return table[] attachments
function M.prepare(o)
  local list = {}
  for i, path in ipairs(o.files or {}) do
    if o.upload then
      local media, why = sniff(path)
      if not media then fail_usage("--file: " .. why) end
      list[i] = { path = path, kind = media:find("^image/") and "image" or "document", mime_type = media }
    else
      local ok, block = pcall(content.attachment, { path = path })
      if not ok then
        if errors.UsageError.is_class_of(block) and block.reason then
          fail_usage("--file: " .. block.reason)
        end
        error(block, 0)
      end
      list[i] = { path = path, block = block }
    end
  end
  return list
end

--- M.content(attachments, prompt, client, out) -> the user turn's content: the prompt alone
--- when there is nothing attached, else the attachments' blocks (uploading those that need it,
--- with a note on stderr of each file id) followed by the prompt as a text block; the uploaded
--- files' metadata; and the betas the message then needs (file sources need the Files beta).
---@param attachments table[] from M.prepare
---@param prompt string
---@param client anthropic.Client
---@param out table the CLI's writers
---@param quiet? boolean no narration (--json)
---@return string|table[] content
---@return table[]|nil uploaded the metadata of the files uploaded
---@return string[]|nil betas
function M.content(attachments, prompt, client, out, quiet)
  if #attachments == 0 then return prompt end
  local blocks, uploaded = {}, nil
  for i, a in ipairs(attachments) do
    if a.block then blocks[i] = a.block
    else
      local meta = client.files.upload { path = a.path, mime_type = a.mime_type }
      uploaded = uploaded or {}
      uploaded[#uploaded + 1] = meta
      if not quiet then
        out.stdout:flush()
        out.stderr:write("anthropic-lua: uploaded ", a.path, " as ", tostring(meta.id),
          " (remove it with `anthropic-lua files rm ", tostring(meta.id), "`)\n")
      end
      blocks[i] = content.file(meta.id, a.kind)
    end
  end
  blocks[#blocks + 1] = content.text(prompt)
  return blocks, uploaded, uploaded and { FILES_BETA } or nil
end

-- ---------------------------------------------------------------------------------------
-- anthropic-lua files SUBCOMMAND

local pad = require("anthropic.cli_output").pad

local function new_client(o, env, state)
  local cli = require "anthropic.cli"
  local client = cli.new_client(o, env)
  state.client = client
  return client
end

local function list(o, env, out, state)
  local client = new_client(o, env, state)
  local want = o.limit
  local rows = {}
  for f in client.files.list({ limit = want and math.min(want, 1000) or 1000 }):iter() do
    rows[#rows + 1] = f
    if want and #rows >= want then break end
  end
  client:close()
  if o.json then
    out.stdout:write(json.encode { files = json.array(rows) }, "\n")
    return
  end
  local widths = { #"ID", #"SIZE", #"CREATED", #"MIME TYPE" }
  local cells = {}
  for i, f in ipairs(rows) do
    cells[i] = { tostring(f.id), tostring(f.size_bytes), tostring(f.created_at or ""):sub(1, 20),
      tostring(f.mime_type or ""), tostring(f.filename or "") }
    for c = 1, 4 do widths[c] = math.max(widths[c], #cells[i][c]) end
  end
  out.stdout:write(pad("ID", widths[1]), "  ", pad("SIZE", widths[2]), "  ", pad("CREATED", widths[3]), "  ",
    pad("MIME TYPE", widths[4]), "  FILENAME\n")
  for _, c in ipairs(cells) do
    out.stdout:write(pad(c[1], widths[1]), "  ", string.rep(" ", widths[2] - #c[2]), c[2], "  ",
      pad(c[3], widths[3]), "  ", pad(c[4], widths[4]), "  ", c[5], "\n")
  end
  out.stdout:flush()
  out.stderr:write(string.format("anthropic-lua: %d file%s\n", #rows, #rows == 1 and "" or "s"))
end

local function upload(o, env, out, state)
  local client = new_client(o, env, state)
  local done = {}
  for _, path in ipairs(o.args) do
    -- The type from the bytes when they show one; else the library's guess from the name
    -- (the Files API takes any file; only messages need one of these types).
    local media = sniff(path)
    local meta = client.files.upload { path = path, mime_type = media }
    done[#done + 1] = meta
    if not o.json then
      out.stdout:write(tostring(meta.id), "\n")
      out.stdout:flush()
      out.stderr:write("anthropic-lua: uploaded ", path, " (", tostring(meta.size_bytes), " bytes, ",
        tostring(meta.mime_type), ") as ", tostring(meta.id), "\n")
    end
  end
  client:close()
  if o.json then out.stdout:write(json.encode { files = json.array(done) }, "\n") end
end

local INFO_FIELDS = { "id", "filename", "mime_type", "size_bytes", "created_at", "downloadable" }

local function info(o, env, out, state)
  local client = new_client(o, env, state)
  local metas = {}
  for i, id in ipairs(o.args) do metas[i] = client.files.retrieve(id) end
  client:close()
  if o.json then
    out.stdout:write(json.encode(#metas == 1 and metas[1] or { files = json.array(metas) }), "\n")
    return
  end
  for i, meta in ipairs(metas) do
    if i > 1 then out.stdout:write("\n") end
    for _, k in ipairs(INFO_FIELDS) do
      if meta[k] ~= nil then out.stdout:write(pad(k .. ":", 14), tostring(meta[k]), "\n") end
    end
  end
end

local function download(o, env, out, state)
  local id = o.args[1]
  if not o.output and out.term.stdout then
    fail_usage("files download: stdout is a terminal; give --output PATH (or redirect stdout)")
  end
  local client = new_client(o, env, state)
  if o.output then
    local r = client.files.download(id, { path = o.output })
    client:close()
    if o.json then
      out.stdout:write(json.encode { id = id, path = r.path, size_bytes = r.size_bytes }, "\n")
    else
      out.stderr:write("anthropic-lua: wrote ", tostring(r.size_bytes), " bytes of ", id, " to ", r.path, "\n")
    end
    return
  end
  local bytes = client.files.download(id)
  client:close()
  out.stdout:write(bytes)
end

local function remove(o, env, out, state)
  local client = new_client(o, env, state)
  local gone = {}
  for _, id in ipairs(o.args) do
    local r = client.files.delete(id)
    gone[#gone + 1] = r.id or id
    if not o.json then out.stdout:write("deleted ", tostring(r.id or id), "\n") end
  end
  client:close()
  if o.json then out.stdout:write(json.encode { deleted = json.array(gone) }, "\n") end
end

local SUBCOMMANDS = { list = list, upload = upload, info = info, download = download, rm = remove }

--- M.files(o, env, out, state) -> exit code: `anthropic-lua files SUBCOMMAND ...` (the
--- subcommand and its arguments were checked by anthropic.cli_args).
---@param o table the parsed and resolved command line (o.args[1] the subcommand)
---@param env fun(name: string): string?
---@param out table { stdout, stderr, term, paint }
---@param state table
---@return integer exit code
function M.files(o, env, out, state)
  local sub = table.remove(o.args, 1)
  SUBCOMMANDS[sub](o, env, out, state)
  return require("anthropic.cli_args").EXIT.ok
end

return M
