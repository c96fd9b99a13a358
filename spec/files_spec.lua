-- client.files (issue 18) against a mock of its own (its file list holds only this file's
-- files; max_file_bytes is 1 MiB so the 413 is cheap): upload from a path and from bytes
-- (multipart as sent, streamed from disk), list pages and :iter(), retrieve, delete, download to a
-- string (capped) and to a path (streamed, renamed into place only when complete), on_progress
-- from poll, the files beta (merged, never twice, turned off by files_beta = false), the API's
-- errors typed, UsageErrors before anything is sent, non-blocking use and tasks, and file_id
-- sources in messages.

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local errors = anthropic.errors
local raises = support.raises
local BETA = "files-api-2025-04-14"
local MAX_FILE = 1024 * 1024

local server, dir, config_path

local function new_client(extra)
  local opts = { api_key = "sk-ant-mock-free", base_url = server.url, max_retries = 0 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return anthropic.new(opts)
end

local function log() return mock.requests(server.url) end
local function clear() mock.clear(server.url) end

local function write_file(name, bytes)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function ls(d)
  local out, p = {}, assert(io.popen("ls -A " .. mock.shell_quote(d)))
  for line in p:lines() do out[#out + 1] = line end
  p:close()
  table.sort(out)
  return out
end

-- The mock's generated content (docs/mock.md): byte i is i % 251.
local function pattern(n)
  local t = {}
  for i = 0, n - 1 do t[#t + 1] = string.char(i % 251) end
  return table.concat(t)
end

-- A downloadable file, as the API makes them (POST /_mock/files).
local function make_downloadable(spec)
  local status, _, body = mock.request("POST", "/_mock/files", {}, cjson.encode(spec), { url = server.url })
  assert.equal(200, status)
  return cjson.decode(body)
end

local function last_request(route)
  local entries = log()
  for i = #entries, 1, -1 do
    if entries[i].route == route or entries[i].path == route then return entries[i] end
  end
end

setup(function()
  dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. mock.shell_quote(dir)))
  config_path = dir .. "/mock-config.json"
  local f = assert(io.open(config_path, "wb"))
  f:write(cjson.encode({ max_file_bytes = MAX_FILE }))
  f:close()
  server = mock.spawn({ "--config", config_path })
end)
teardown(function()
  server.stop()
  os.execute("rm -rf " .. mock.shell_quote(dir))
end)

describe("client.files.upload", function()
  local client
  before_each(function() client = new_client(); clear() end)
  after_each(function() client:close() end)

  it("uploads a file from a path as multipart/form-data and returns its metadata", function()
    local bytes = ("%PDF-1.4\n" .. ("x"):rep(5000)):sub(1, 4096)
    local path = write_file("report.pdf", bytes)
    local f = client.files.upload { path = path }
    assert.equal("file", f.type)
    assert.equal("report.pdf", f.filename)
    assert.equal("application/pdf", f.mime_type)
    assert.equal(4096, f.size_bytes)
    assert.is_false(f.downloadable)
    assert.truthy(f.id:match("^file_"))
    assert.truthy(f.created_at:match("^%d%d%d%d%-%d%d%-%d%dT"))
    assert.truthy(f._request_id)
    local r = last_request("/v1/files")
    assert.equal("POST", r.method)
    assert.truthy(r.headers["content-type"]:match("^multipart/form%-data; boundary="))
    assert.equal(BETA, r.headers["anthropic-beta"])
    -- the whole file went over the wire, in its part, with the envelope around it
    assert.is_true(r.body_bytes > 4096 and r.body_bytes < 4096 + 1024)
  end)

  -- client:_send fills one options table for every core:request (client.lua, request_opts):
  -- what a request hands the core must not stay reachable from it once the call returned.
  it("keeps no reference to a request's parts once it is sent", function()
    local files, outcome, engine = require "anthropic.files", require "anthropic.outcome", require "anthropic.engine"
    local seen = setmetatable({}, { __mode = "k" })
    local function upload_once()
      local parts = { files.upload_part { data = "kept?", filename = "k.txt" } }
      seen[parts] = true
      local op = client:_send { method = "POST", path = "/v1/files", multipart = parts, betas = { BETA },
        handler = outcome.json_handler }
      engine.wait(op)
      assert.is_nil(op.err)
      assert.equal("k.txt", op.result.filename)
    end
    upload_once()
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(seen), "the parts table outlived its request")
  end)

  it("uploads bytes with a filename and a mime_type; what arrives is exactly what was sent", function()
    local bytes = "\137PNG\r\n\26\n" .. string.rep("\0\1\2\r\n--", 300)
    local f = client.files.upload { data = bytes, filename = "shot.png", mime_type = "image/png" }
    assert.equal("shot.png", f.filename)
    assert.equal("image/png", f.mime_type)
    assert.equal(#bytes, f.size_bytes)
  end)

  it("sends the file byte for byte, from a path and from bytes", function()
    -- Content with CRLFs and delimiter-like runs across libcurl's read pieces; the mock's own
    -- GET /_mock/files/{id} returns what its multipart parser kept.
    local bytes = pattern(200000) .. "\r\n--" .. pattern(3) .. "\r\n--\r\n"
    local path = write_file("exact.bin", bytes)
    for _, params in ipairs { { path = path }, { data = bytes, filename = "exact.bin" } } do
      local f = client.files.upload(params)
      assert.equal(#bytes, f.size_bytes)
      local status, _, body = mock.request("GET", "/_mock/files/" .. f.id, {}, nil, { url = server.url })
      assert.equal(200, status)
      assert.is_true(body == bytes)
    end
  end)

  it("without mime_type, sends the type the bytes' signature shows, not the name's guess", function()
    local png = "\137PNG\r\n\26\n" .. string.rep("\0\1", 50)
    local webp = "RIFF\0\0\0\0WEBPVP8 " .. string.rep("\0", 40)
    -- a text longer than the sniffed head, cut there inside a three-byte character
    local notes = string.rep("a", 65535) .. "\226\130\172 euro"
    local cases = {
      { { path = write_file("shot.dat", png) }, "image/png" },
      { { data = webp, filename = "pic.webp" }, "image/webp" },
      { { path = write_file("notes.md", notes) }, "text/plain" },
      { { data = "# title\n", filename = "readme.md" }, "text/plain" },
      { { data = "%PDF-1.7\n", filename = "scan" }, "application/pdf" },
    }
    for _, c in ipairs(cases) do
      local f = client.files.upload(c[1])
      assert.equal(c[2], f.mime_type, f.filename)
    end
    -- the caller's mime_type wins over the signature
    local md = client.files.upload { data = "# t\n", filename = "t.md", mime_type = "text/markdown" }
    assert.equal("text/markdown", md.mime_type)
  end)

  it("takes filename to override a path's base name", function()
    local path = write_file("a.txt", "hello\n")
    local f = client.files.upload { path = path, filename = "notes.txt" }
    assert.equal("notes.txt", f.filename)
    assert.equal("text/plain", f.mime_type)
    assert.equal(6, f.size_bytes)
  end)

  it("sends the whole body again on a retry (the multipart body rewinds, from a path and from bytes)", function()
    local bytes = pattern(150000)
    local path = write_file("retry.bin", bytes)
    local retrying = new_client { max_retries = 1 }
    for _, params in ipairs { { path = path }, { data = bytes, filename = "retry.bin" } } do
      clear()
      local once = { status = 529, headers = { ["retry-after-ms"] = "1" } }
      local f = retrying.files.upload(params, support.fault { sequence = { once } })
      assert.equal(2, f._response.attempts)
      assert.equal(#bytes, f.size_bytes)
      local entries = log()
      assert.equal(2, #entries)
      assert.equal(entries[1].body_bytes, entries[2].body_bytes)
      local _, _, body = mock.request("GET", "/_mock/files/" .. f.id, {}, nil, { url = server.url })
      assert.is_true(body == bytes)
    end
    retrying:close()
  end)

  it("fires on_progress(sent, total) from poll, ending at the body's size", function()
    local path = write_file("big.txt", ("0123456789abcdef"):rep(65536))   -- 1 MiB
    local calls = {}
    local f = client.files.upload({ path = path }, { on_progress = function(sent, total)
      calls[#calls + 1] = { sent, total }
    end })
    assert.equal(1024 * 1024, f.size_bytes)
    assert.is_true(#calls >= 1)
    local last = calls[#calls]
    assert.equal(last[2], last[1])
    assert.is_true(last[1] > 1024 * 1024)       -- the multipart envelope counts too
    for i = 2, #calls do assert.is_true(calls[i][1] > calls[i - 1][1]) end
    for _, c in ipairs(calls) do assert.equal(last[2], c[2]) end
  end)

  it("an error in on_progress cancels the upload and is raised", function()
    local path = write_file("p.txt", ("z"):rep(300000))
    local err = raises(client.files.upload, { path = path }, { on_progress = function() error("stop here") end })
    assert.truthy(tostring(err):find("stop here", 1, true))
    assert.equal(0, client:inflight())
  end)

  it("a path that does not exist or cannot be read is a UsageError, and nothing is sent", function()
    local err = raises(client.files.upload, { path = dir .. "/missing.pdf" })
    assert.is_true(errors.UsageError.is_class_of(err))
    assert.equal("path", err.param)
    assert.truthy(err.message:find("missing.pdf", 1, true))
    err = raises(client.files.upload, { path = dir })
    assert.is_true(errors.UsageError.is_class_of(err))
    assert.equal(0, #log())
  end)

  it("checks its arguments before sending", function()
    local function usage(params, options, param)
      local err = raises(client.files.upload, params, options)
      assert.is_true(errors.UsageError.is_class_of(err), tostring(err))
      if param then assert.equal(param, err.param) end
    end
    usage(nil, nil, "params")
    usage({}, nil, "path")
    usage({ path = "a", data = "b" }, nil, "path")
    usage({ data = "b" }, nil, "filename")
    usage({ data = 42, filename = "x" }, nil, "data")
    usage({ data = "b", filename = "" }, nil, "filename")
    usage({ data = "b", filename = 'a"b' }, nil, "filename")
    usage({ data = "b", filename = "x", mime_type = "not a type" }, nil, "mime_type")
    usage({ data = "b", filename = "x", colour = 1 })
    usage({ path = write_file("nul.txt", "x") .. "\0.txt" }, nil, "path")
    usage({ data = "b", filename = "x" }, { on_progress = 1 }, "options.on_progress")
    usage({ data = "b", filename = "x" }, { on_event = function() end }, "options")
    assert.equal(0, #log())
  end)

  it("a file over the API's limit is RequestTooLarge (413)", function()
    local err = raises(client.files.upload, { data = ("x"):rep(MAX_FILE + 1), filename = "big.bin" })
    assert.is_true(errors.RequestTooLarge.is_class_of(err), tostring(err))
    assert.equal(413, err.status)
  end)

  it("is non-blocking with on_done: the op returns at once and poll finishes it", function()
    local path = write_file("nb.txt", ("n"):rep(200000))
    local got, progress = nil, 0
    local op = client.files.upload({ path = path }, {
      on_done = function(err, f) got = { err = err, f = f } end,
      on_progress = function() progress = progress + 1 end,
    })
    assert.is_nil(got)
    local spins = 0
    while client:poll(50) > 0 do spins = spins + 1 end
    assert.is_true(op:is_done())
    assert.is_nil(got.err)
    assert.equal(200000, got.f.size_bytes)
    assert.is_true(progress >= 1)
    assert.is_true(spins >= 1)
  end)

  it("yields inside a task instead of blocking", function()
    local task = anthropic.spawn(function()
      return client.files.upload { data = "abc", filename = "t.txt" }
    end)
    assert.is_false(task:is_done())
    while not task:is_done() do client:poll(50) end
    assert.is_nil(task.err)
    assert.equal(3, task.result.size_bytes)
  end)
end)

describe("client.files.list / retrieve / delete", function()
  local client
  before_each(function() client = new_client(); clear() end)
  after_each(function() client:close() end)

  it("lists newest first in pages, and :iter() walks every page", function()
    local ids = {}
    for i = 1, 5 do ids[i] = client.files.upload { data = "f" .. i, filename = "f" .. i .. ".txt" }.id end
    local page = client.files.list { limit = 2 }
    assert.equal(2, #page.data)
    assert.equal(ids[5], page.data[1].id)
    assert.equal(ids[4], page.data[2].id)
    assert.is_true(page.has_more)
    assert.equal(ids[5], page.first_id)
    assert.equal(ids[4], page.last_id)
    local seen = {}
    for f in client.files.list({ limit = 2 }):iter() do seen[#seen + 1] = f.id end
    -- every file of this mock, newest first, the five just made at the front
    for i = 1, 5 do assert.equal(ids[6 - i], seen[i]) end
    local q = {}
    for _, r in ipairs(log()) do
      if r.path == "/v1/files" and r.method == "GET" then q[#q + 1] = r.query end
    end
    assert.equal("limit=2", q[2])
    assert.equal("after_id=" .. ids[4] .. "&limit=2", q[3])
    local back = client.files.list { before_id = ids[1], limit = 2 }
    assert.equal(ids[3], back.data[1].id)
    assert.equal(ids[2], back.data[2].id)
  end)

  it("retrieves metadata by id and deletes", function()
    local f = client.files.upload { data = "hello", filename = "h.txt" }
    local m = client.files.retrieve(f.id)
    assert.same({ f.id, "file", "h.txt", "text/plain", 5, false },
      { m.id, m.type, m.filename, m.mime_type, m.size_bytes, m.downloadable })
    local d = client.files.delete(f.id)
    assert.same({ id = f.id, type = "file_deleted" }, cjson.decode(anthropic.json.encode(d)))
    local err = raises(client.files.retrieve, f.id)
    assert.is_true(errors.NotFound.is_class_of(err))
    assert.equal(404, err.status)
    assert.truthy(err.message:find(f.id, 1, true))
    err = raises(client.files.delete, f.id)
    assert.is_true(errors.NotFound.is_class_of(err))
  end)

  it("escapes ids in paths and checks them", function()
    local err = raises(client.files.retrieve, "../x y")
    assert.is_true(errors.NotFound.is_class_of(err))
    assert.equal("/v1/files/..%2Fx%20y", log()[1].path)
    for _, fn in ipairs { client.files.retrieve, client.files.delete, client.files.download } do
      local e = raises(fn, "")
      assert.is_true(errors.UsageError.is_class_of(e))
      assert.equal("file_id", e.param)
    end
    local e = raises(client.files.list, { limit = 0 })
    assert.equal("limit", e.param)
  end)

  it("list, retrieve and delete take on_done", function()
    local f = client.files.upload { data = "x", filename = "x.txt" }
    local results = {}
    client.files.retrieve(f.id, { on_done = function(err, m) results.retrieve = err or m.id end })
    client.files.list({ limit = 1 }, { on_done = function(err, p) results.list = err or #p.data end })
    while client:poll(50) > 0 do end
    client.files.delete(f.id, { on_done = function(err, d) results.delete = err or d.type end })
    while client:poll(50) > 0 do end
    assert.same({ retrieve = f.id, list = 1, delete = "file_deleted" }, results)
  end)
end)

describe("client.files.download", function()
  local client
  before_each(function() client = new_client(); clear() end)
  after_each(function() client:close() end)

  it("returns a downloadable file's content as a string", function()
    local made = make_downloadable { filename = "out.csv", mime_type = "text/csv", size_bytes = 100000 }
    assert.is_true(made.downloadable)
    local bytes = client.files.download(made.id)
    assert.equal(pattern(100000), bytes)
    local r = last_request("/v1/files/" .. made.id .. "/content")
    assert.equal(BETA, r.headers["anthropic-beta"])
  end)

  it("caps the string at max_bytes with an error that names the way out", function()
    local made = make_downloadable { size_bytes = 5000 }
    local err = raises(client.files.download, made.id, { max_bytes = 4999 })
    assert.is_true(errors.ResponseTooLarge.is_class_of(err), tostring(err))
    assert.truthy(err.message:find("max_bytes (4999 bytes)", 1, true))
    assert.truthy(err.message:find("path", 1, true))
    assert.equal(5000, #client.files.download(made.id, { max_bytes = 5000 }))
    -- the cap is the content's: an error reply longer than it is still the API's error
    local uploaded = client.files.upload { data = "x", filename = "x.txt" }
    err = raises(client.files.download, uploaded.id, { max_bytes = 10 })
    assert.is_true(errors.BadRequest.is_class_of(err), tostring(err))
  end)

  it("streams to a path, renamed into place when complete; reports bytes and progress", function()
    local made = make_downloadable { size_bytes = 3 * 1024 * 1024 + 7 }
    local out = dir .. "/dl/out.bin"
    os.execute("mkdir -p " .. mock.shell_quote(dir .. "/dl"))
    local calls = {}
    local r = client.files.download(made.id, { path = out, on_progress = function(got, total)
      calls[#calls + 1] = { got, total }
    end })
    assert.equal(out, r.path)
    assert.equal(3 * 1024 * 1024 + 7, r.size_bytes)
    assert.equal(200, r._response.status)
    local content = read_file(out)
    assert.equal(3 * 1024 * 1024 + 7, #content)
    assert.equal(pattern(1000), content:sub(1, 1000))
    assert.equal(content:sub(1, 251), content:sub(251 * 4000 + 1, 251 * 4001))
    assert.same({ "out.bin" }, ls(dir .. "/dl"))     -- no temporary file left
    local last = calls[#calls]
    assert.same({ 3 * 1024 * 1024 + 7, 3 * 1024 * 1024 + 7 }, last)
    for i = 2, #calls do assert.is_true(calls[i][1] > calls[i - 1][1]) end
  end)

  it("a download cut off mid-body is retried from zero, and the file holds exactly the content", function()
    local size = 2 * 1024 * 1024
    local made = make_downloadable { size_bytes = size }
    local out = dir .. "/cut/out.bin"
    os.execute("mkdir -p " .. mock.shell_quote(dir .. "/cut"))
    local retrying = new_client { max_retries = 1 }
    local cut_once = support.fault({ sequence = { { close_after = 700000 } } }, { path = out })
    local r = retrying.files.download(made.id, cut_once)
    assert.equal(2, r._response.attempts)
    assert.equal(size, r.size_bytes)
    local content = read_file(out)
    assert.equal(size, #content)
    assert.is_true(content == pattern(size))
    assert.same({ "out.bin" }, ls(dir .. "/cut"))
    -- without a retry left: the ConnectionError, and no file
    os.remove(out)
    local err = raises(client.files.download, made.id,
      support.fault({ close_after = 1000, close_mode = "reset" }, { path = out }))
    assert.is_true(errors.ConnectionError.is_class_of(err), tostring(err))
    assert.same({}, ls(dir .. "/cut"))
    retrying:close()
  end)

  it("replaces an existing file only when the download succeeds", function()
    local out = write_file("keep.bin", "old content")
    local uploaded = client.files.upload { data = "x", filename = "x.txt" }
    local err = raises(client.files.download, uploaded.id, { path = out })
    assert.equal("old content", read_file(out))
    assert.truthy(err)
    err = raises(client.files.download, "file_missing", { path = out })
    assert.is_true(errors.NotFound.is_class_of(err))
    assert.equal("old content", read_file(out))
    local made = make_downloadable { content = "new content" }
    client.files.download(made.id, { path = out })
    assert.equal("new content", read_file(out))
    for _, name in ipairs(ls(dir)) do assert.is_nil(name:find("%.part%-")) end
  end)

  it("an uploaded file is not downloadable: the API's BadRequest, saying why", function()
    local f = client.files.upload { data = "secret plans", filename = "plans.txt" }
    local err = raises(client.files.download, f.id)
    assert.is_true(errors.BadRequest.is_class_of(err), tostring(err))
    assert.equal(400, err.status)
    assert.equal("invalid_request_error", err.type)
    assert.truthy(err.message:find("not downloadable", 1, true))
  end)

  it("a directory that does not exist is a UsageError before anything is sent", function()
    local err = raises(client.files.download, "file_x", { path = dir .. "/no/such/dir/out.bin" })
    assert.is_true(errors.UsageError.is_class_of(err))
    assert.equal("options.path", err.param)
    assert.equal(0, #log())
    err = raises(client.files.download, "file_x", { path = dir .. "/o", max_bytes = 10 })
    assert.equal("options.max_bytes", err.param)
  end)

  it("a download canceled half way leaves no file behind", function()
    local made = make_downloadable { size_bytes = 8 * 1024 * 1024 }
    local out = dir .. "/cancel.bin"
    local op
    op = client.files.download(made.id, { path = out, on_done = function() end,
      on_progress = function(got) if got > 0 then op:cancel() end end })
    while client:poll(50) > 0 do end
    assert.is_true(op:is_done())
    assert.is_true(errors.ConnectionError.is_class_of(op.err))
    assert.is_nil(read_file(out))
    for _, name in ipairs(ls(dir)) do assert.is_nil(name:find("cancel.bin", 1, true)) end
  end)
end)

describe("the files beta header", function()
  local function betas_sent(client, call)
    clear()
    call(client)
    return log()[1].headers["anthropic-beta"]
  end

  it("is sent on every Files call, merged with the caller's betas and never twice", function()
    local client = new_client()
    assert.equal(BETA, betas_sent(client, function(c) c.files.list() end))
    assert.equal("x-1," .. BETA, betas_sent(client, function(c) c.files.list { betas = { "x-1" } } end))
    assert.equal(BETA .. ",x-1", betas_sent(client, function(c) c.files.list { betas = { BETA, "x-1", BETA } } end))
    assert.equal("x-2," .. BETA, betas_sent(client, function(c)
      pcall(c.files.retrieve, "file_none", { betas = { "x-2" } })
    end))
    assert.equal(BETA, betas_sent(client, function(c) c.files.upload { data = "a", filename = "a.txt" } end))
    assert.equal("x-3,x-4," .. BETA, betas_sent(client, function(c)
      c.files.upload({ data = "a", filename = "a.txt", betas = { "x-3" } }, { betas = { "x-4" } })
    end))
    assert.equal("x-5," .. BETA, betas_sent(client, function(c)
      c.files.download(make_downloadable { content = "abc" }.id, { betas = { "x-5" }, max_bytes = 10 })
    end))
    client:close()
  end)

  it("files_beta = false sends only the caller's; the mock then refuses as the API does", function()
    local client = new_client { files_beta = false }
    clear()
    local err = raises(client.files.list)
    assert.is_nil(log()[1].headers["anthropic-beta"])
    assert.is_true(errors.BadRequest.is_class_of(err))
    assert.truthy(err.message:find(BETA, 1, true))
    assert.equal(BETA, betas_sent(client, function(c) c.files.list { betas = { BETA } } end))
    client:close()
    local e = raises(anthropic.new, { api_key = "sk-ant-mock-free", files_beta = "no" })
    assert.equal("files_beta", e.param)
  end)
end)

describe("file_id sources in messages (the mock)", function()
  local client
  before_each(function() client = new_client(); clear() end)
  after_each(function() client:close() end)

  local function ask(source, betas)
    return client.messages.create { model = "claude-haiku-4-5", max_tokens = 16, betas = betas,
      messages = { { role = "user", content = { { type = "document", source = source },
        { type = "text", text = "Summarise." } } } } }
  end

  it("accepts a known file_id and refuses an unknown one with a 404", function()
    local f = client.files.upload { data = "%PDF-1.4 x", filename = "d.pdf" }
    local m = ask({ type = "file", file_id = f.id }, { BETA })
    assert.equal("message", m.type)
    local err = raises(ask, { type = "file", file_id = "file_unknown" }, { BETA })
    assert.is_true(errors.NotFound.is_class_of(err))
    assert.truthy(err.message:find("file_unknown", 1, true))
    err = raises(ask, { type = "file", file_id = f.id })
    assert.is_true(errors.BadRequest.is_class_of(err))
    assert.truthy(err.message:find(BETA, 1, true))
  end)
end)

describe("client.files on a cloud platform", function()
  it("is refused, naming the platform", function()
    local c = anthropic.bedrock { region = "us-east-1", access_key_id = "AKIDMOCK", secret_access_key = "mock-secret" }
    local err = raises(function() return c.files.list() end)
    assert.is_true(errors.UsageError.is_class_of(err))
    assert.truthy(err.message:find("client.files", 1, true))
    c:close()
  end)
end)
