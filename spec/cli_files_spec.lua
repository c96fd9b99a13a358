-- bin/anthropic-lua with files, as a subprocess against the mock: `ask --file` (inline blocks
-- in the request, the type from the bytes), `ask --file --upload` (through the Files API), the
-- `files list|upload|info|download|rm` command, and the usage errors of all of them (exit 2,
-- nothing sent).

local cjson = require "cjson"
local mock = require "spec.support.mock"
local cli = require("spec.support.cli").run

local DIR = mock.root() .. "/spec/fixtures/content/"
local TRY = "Try 'anthropic-lua --help'.\n"
local BETA = "files-api-2025-04-14"

local slurp = require("spec.support.run").read_file

local function b64(s) return require("anthropic.core").base64_encode(s) end

local function reqids(s) return (s:gsub("req_[%w_]+", "REQ")) end

-- The logged requests on a path (method and path, decoded JSON body when it is JSON).
local function logged(path)
  local out = {}
  for _, r in ipairs(mock.requests()) do
    if r.path == path then out[#out + 1] = r end
  end
  return out
end

-- A downloadable file, as the API makes them (the mock's POST /_mock/files).
local function api_file(filename, bytes)
  local status, _, raw = mock.request("POST", "/_mock/files", { ["content-type"] = "application/json" },
    cjson.encode { filename = filename, mime_type = "text/plain", size_bytes = #bytes, content = bytes })
  assert.equal(200, status, raw)
  return cjson.decode(raw)
end

before_each(function() mock.clear() end)

describe("anthropic-lua ask --file", function()
  it("sends each file as a block of the type its bytes show, before the prompt", function()
    local out, err, code = cli { "ask", "--model", "claude-haiku-4-5", "--file", DIR .. "tiny.png",
      "--file", DIR .. "tiny.pdf", "--file", DIR .. "notes.txt", "--file", DIR .. "tiny.webp", "what", "is", "this" }
    assert.equal(0, code, err)
    assert.equal("You said: what is this\n", out)
    assert.equal("anthropic-lua: answered by claude-haiku-4-5, request_id REQ\n", reqids(err))
    local body = mock.bodies("/v1/messages")[1]
    assert.same({ { role = "user", content = {
      { type = "image", source = { type = "base64", media_type = "image/png", data = b64(slurp(DIR .. "tiny.png")) } },
      { type = "document", source = { type = "base64", media_type = "application/pdf",
        data = b64(slurp(DIR .. "tiny.pdf")) } },
      { type = "document", source = { type = "text", media_type = "text/plain", data = slurp(DIR .. "notes.txt") } },
      { type = "image", source = { type = "base64", media_type = "image/webp",
        data = b64(slurp(DIR .. "tiny.webp")) } },
      { type = "text", text = "what is this" },
    } } }, body.messages)
    assert.is_nil(logged("/v1/messages")[1].headers["anthropic-beta"])   -- inline needs no beta
  end)

  it("reads the type from the bytes, not the name (a PNG called .txt is an image)", function()
    local path = os.tmpname() .. ".txt"
    local f = assert(io.open(path, "wb"))
    f:write(slurp(DIR .. "tiny.png"))
    f:close()
    local _, err, code = cli { "ask", "--model", "claude-haiku-4-5", "--file", path, "hi" }
    os.remove(path)
    assert.equal(0, code, err)
    assert.equal("image/png", mock.bodies("/v1/messages")[1].messages[1].content[1].source.media_type)
  end)

  it("works with --stream and --json alike", function()
    local out, err, code = cli { "ask", "--json", "--model", "claude-haiku-4-5", "--file", DIR .. "tiny.gif", "hi" }
    assert.equal(0, code, err)
    assert.equal("You said: hi", cjson.decode(out).text)
    out, err, code = cli { "ask", "--stream", "--model", "claude-haiku-4-5", "--file", DIR .. "tiny.jpg", "hi" }
    assert.equal(0, code, err)
    assert.equal("You said: hi\n", out)
    assert.equal(2, #mock.bodies("/v1/messages"))
    assert.equal("image/jpeg", mock.bodies("/v1/messages")[2].messages[1].content[1].source.media_type)
  end)
end)

describe("anthropic-lua ask --file --upload", function()
  it("uploads each file, sends file sources with the Files beta and reports the ids on stderr", function()
    local out, err, code = cli { "ask", "--model", "claude-haiku-4-5", "--upload", "--file", DIR .. "tiny.png",
      "--file", DIR .. "tiny.pdf", "describe" }
    assert.equal(0, code, err)
    assert.equal("You said: describe\n", out)
    local uploads = logged("/v1/files")
    assert.equal(2, #uploads)
    local ids = {}
    for id in err:gmatch("as (file_[%w_]+) ") do ids[#ids + 1] = id end
    assert.equal(2, #ids, err)
    assert.matches("^anthropic%-lua: uploaded " .. DIR:gsub("%p", "%%%0") .. "tiny%.png as file_[%w_]+ %(remove it "
      .. "with `anthropic%-lua files rm file_[%w_]+`%)\n", err)
    local msg = logged("/v1/messages")[1]
    assert.truthy(msg.headers["anthropic-beta"]:find(BETA, 1, true))
    assert.same({
      { type = "image", source = { type = "file", file_id = ids[1] } },
      { type = "document", source = { type = "file", file_id = ids[2] } },
      { type = "text", text = "describe" },
    }, cjson.decode(msg.body).messages[1].content)
    -- The files hold the bytes as they are on disk, with the type read from them.
    local _, _, bytes = mock.request("GET", "/_mock/files/" .. ids[1], {}, nil)
    assert.equal(slurp(DIR .. "tiny.png"), bytes)
    local meta = cjson.decode((cli { "files", "info", "--json", ids[1] }))
    assert.equal("image/png", meta.mime_type)
  end)

  it("a text file longer than the 64 KB it is judged by is text, even when the cut splits a character", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write("a", string.rep("é", 40000))        -- byte 65536 is the first half of an é
    f:close()
    local _, err, code = cli { "ask", "--model", "claude-haiku-4-5", "--upload", "--file", path, "hi" }
    os.remove(path)
    assert.equal(0, code, err)
    local id = err:match("as (file_[%w_]+) ")
    assert.equal("text/plain", cjson.decode((cli { "files", "info", "--json", id })).mime_type)
    assert.same({ type = "document", source = { type = "file", file_id = id } },
      mock.bodies("/v1/messages")[1].messages[1].content[1])
  end)

  it("--json lists the uploaded files in the document instead of narrating them", function()
    local out, err, code = cli { "ask", "--json", "--model", "claude-haiku-4-5", "--upload", "--file",
      DIR .. "notes.txt", "hi" }
    assert.equal(0, code, err)
    assert.equal("", err)
    local doc = cjson.decode(out)
    assert.equal(1, #doc.uploaded)
    assert.equal("notes.txt", doc.uploaded[1].filename)
  end)
end)

describe("anthropic-lua files", function()
  it("upload prints each new id on stdout; list, info and rm see them", function()
    local out, err, code = cli { "files", "upload", DIR .. "tiny.pdf", DIR .. "notes.txt" }
    assert.equal(0, code, err)
    local ids = {}
    for id in out:gmatch("(file_[%w_]+)\n") do ids[#ids + 1] = id end
    assert.equal(2, #ids, out)
    assert.matches("anthropic%-lua: uploaded .*tiny%.pdf %(587 bytes, application/pdf%) as " .. ids[1], err)

    -- The mock keeps files for its run: other specs' files may be listed too.
    local all = cjson.decode((cli { "files", "list", "--json" })).files
    out, err, code = cli { "files", "list" }
    assert.equal(0, code, err)
    assert.matches("^ID +SIZE +CREATED +MIME TYPE +FILENAME\n", out)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(#all + 1, #lines)
    assert.matches("^" .. ids[2] .. " +%d+ +%S+ +text/plain +notes%.txt$", lines[2])     -- newest first
    assert.matches("^" .. ids[1] .. " +587 +%S+ +application/pdf +tiny%.pdf$", lines[3])
    assert.equal("anthropic-lua: " .. #all .. " files\n", err)
    local listed = cjson.decode((cli { "files", "list", "--json", "--limit", "1" })).files
    assert.equal(1, #listed)
    assert.equal(ids[2], listed[1].id)

    out, err, code = cli { "files", "info", ids[1] }
    assert.equal(0, code, err)
    assert.truthy(out:find("filename:     tiny.pdf\n", 1, true), out)
    assert.truthy(out:find("size_bytes:   587\n", 1, true), out)
    assert.truthy(out:find("downloadable: false\n", 1, true), out)

    out, err, code = cli { "files", "rm", ids[1], ids[2] }
    assert.equal(0, code, err)
    assert.equal("deleted " .. ids[1] .. "\ndeleted " .. ids[2] .. "\n", out)
    local left = cjson.decode((cli { "files", "list", "--json" })).files
    assert.equal(#all - 2, #left)
    for _, f in ipairs(left) do assert.is_true(f.id ~= ids[1] and f.id ~= ids[2]) end
  end)

  it("download writes a file the API made to --output, or to stdout", function()
    local bytes = "line one\nline two\n"
    local f = api_file("report.txt", bytes)
    local path = os.tmpname()
    os.remove(path)
    local out, err, code = cli { "files", "download", f.id, "--output", path }
    assert.equal(0, code, err)
    assert.equal("", out)
    assert.equal("anthropic-lua: wrote " .. #bytes .. " bytes of " .. f.id .. " to " .. path .. "\n", err)
    assert.equal(bytes, slurp(path))
    os.remove(path)
    out, err, code = cli { "files", "download", f.id }
    assert.equal(0, code, err)
    assert.equal(bytes, out)
  end)

  it("an unknown id is NotFound (exit 4); downloading an upload is the API's error (exit 5)", function()
    local _, err, code = cli { "files", "info", "file_nope" }
    assert.equal(4, code)
    assert.matches("^anthropic%-lua: error: NotFound: 404 not_found_error", err)
    local out = cli { "files", "upload", DIR .. "notes.txt" }
    local id = out:match("(file_[%w_]+)")
    _, err, code = cli { "files", "download", id, "-o", os.tmpname() }
    assert.equal(5, code)
    assert.matches("^anthropic%-lua: error: BadRequest: 400 invalid_request_error", err)
  end)
end)

describe("anthropic-lua files and --file usage", function()
  local rows = {
    { { "ask", "--file", DIR .. "missing.png", "hi" },
      "--file: cannot read '" .. DIR .. "missing.png': No such file or directory" },
    { { "ask", "--file", DIR, "hi" }, "--file: cannot read '" .. DIR .. "': Is a directory" },
    { { "ask", "--file", "/bin/sh", "hi" },
      "--file: '/bin/sh' is not a PNG, JPEG, GIF or WebP image, a PDF or UTF-8 text (the type comes from the "
        .. "bytes, not the name)" },
    { { "ask", "--upload", "--file", DIR .. "missing.png", "hi" },
      "--file: cannot read '" .. DIR .. "missing.png': No such file or directory" },
    { { "ask", "--upload", "--file", DIR, "hi" }, "--file: cannot read '" .. DIR .. "': Is a directory" },
    { { "ask", "--upload", "--file", "/bin/sh", "hi" },
      "--file: '/bin/sh' is not a PNG, JPEG, GIF or WebP image, a PDF or UTF-8 text (the type comes from the "
        .. "bytes, not the name)" },
    { { "ask", "--upload", "hi" }, "--upload needs --file PATH" },
    { { "ask", "--upload", "--file", DIR .. "tiny.png", "--provider", "bedrock", "--region", "us-east-1", "hi" },
      "--upload needs the Files API, which only --provider anthropic has" },
    { { "chat", "--file", "x" }, "--file is an option of 'ask', not of 'chat'" },
    { { "files" }, "files needs a subcommand (list, upload, info, download or rm)" },
    { { "files", "ls" }, "unknown files subcommand 'ls' (expected list, upload, info, download or rm)" },
    { { "files", "list", "x" }, "files list takes no arguments, got 1" },
    { { "files", "upload" }, "files upload needs at least one PATH" },
    { { "files", "info" }, "files info needs at least one ID" },
    { { "files", "rm" }, "files rm needs at least one ID" },
    { { "files", "download" }, "files download needs an ID" },
    { { "files", "download", "a", "b" }, "files download takes one ID, got 2" },
    { { "files", "info", "--limit", "3", "x" }, "--limit is an option of 'files list', not of 'files info'" },
    { { "files", "list", "-o", "x" }, "--output is an option of 'files download', not of 'files list'" },
    { { "files", "list", "--limit", "0" }, "--limit must be an integer >= 1, got '0'" },
    { { "ask", "--limit", "3", "hi" }, "--limit is an option of 'files', not of 'ask'" },
    { { "files", "list", "--provider", "vertex" }, "files needs the Files API, which only --provider anthropic has" },
  }
  for _, row in ipairs(rows) do
    it("exits 2: " .. row[2], function()
      local out, err, code = cli(row[1])
      assert.equal(2, code)
      assert.equal("", out)
      assert.equal("anthropic-lua: " .. row[2] .. "\n" .. TRY, err)
      assert.equal(0, #mock.requests())
    end)
  end

  it("download refuses to write to a terminal without --output", function()
    local out, code = require("spec.support.cli").pty { "files", "download", "file_x" }
    assert.equal(2, code)
    assert.equal("anthropic-lua: files download: stdout is a terminal; give --output PATH (or redirect stdout)\n"
      .. TRY, out)
  end)

  it("--help documents --file, --upload and the files command", function()
    local out = cli { "--help" }
    for _, s in ipairs { "  --file PATH ", "  --upload ", "  anthropic-lua files list|upload|info|download|rm",
      "  --limit N ", "  -o, --output PATH " } do
      assert.truthy(out:find(s, 1, true), s)
    end
  end)
end)
