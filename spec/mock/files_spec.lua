-- The mock's Files API over raw HTTP (issue 18): the beta header required on every route, the
-- multipart body parsed as it arrives (Content-Length and chunked framing alike), its errors
-- (not multipart, no file part, over max_file_bytes), metadata, pagination, delete, downloads
-- refused for uploads and served for files the API made (POST /_mock/files), and file_id
-- sources in messages.
local mock = require "spec.support.mock"
local cjson = require "cjson"

local BETA = "files-api-2025-04-14"
local B = "mockspecboundary42"
local server

local function headers(extra)
  local h = mock.headers { ["content-type"] = false, ["anthropic-beta"] = BETA }
  for k, v in pairs(extra or {}) do
    if v == false then h[k] = nil else h[k] = v end
  end
  return h
end

local function multipart(filename, content, ctype)
  return "--" .. B .. "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" .. filename .. "\"\r\n"
    .. (ctype and ("Content-Type: " .. ctype .. "\r\n") or "") .. "\r\n" .. content .. "\r\n--" .. B .. "--\r\n"
end

local MP = "multipart/form-data; boundary=" .. B

local function req(method, path, h, body, opts)
  opts = opts or {}
  opts.url = server.url
  local status, rh, b = mock.request(method, path, h, body, opts)
  local ok, decoded = pcall(cjson.decode, b or "")
  return status, ok and decoded or b, rh
end

local function upload(filename, content, ctype)
  return req("POST", "/v1/files", headers { ["content-type"] = MP }, multipart(filename, content, ctype))
end

setup(function()
  local dir = os.tmpname()
  local f = assert(io.open(dir, "wb"))
  f:write(cjson.encode { max_file_bytes = 1000 })
  f:close()
  server = mock.spawn { "--config", dir }
  os.remove(dir)
end)
teardown(function() server.stop() end)

describe("mock /v1/files", function()
  it("requires the files beta on every route, as the API does", function()
    local no_beta = headers { ["anthropic-beta"] = "other-beta-2025-01-01" }
    for _, r in ipairs { { "GET", "/v1/files" }, { "GET", "/v1/files/file_x" }, { "DELETE", "/v1/files/file_x" },
                         { "GET", "/v1/files/file_x/content" } } do
      local status, b = req(r[1], r[2], no_beta)
      assert.equal(400, status, r[2])
      assert.equal("invalid_request_error", b.error.type)
      assert.truthy(b.error.message:find(BETA, 1, true))
    end
    no_beta["content-type"] = MP
    assert.equal(400, (req("POST", "/v1/files", no_beta, multipart("a.txt", "a"))))
    -- among other betas, comma-separated: fine
    local status = req("GET", "/v1/files", headers { ["anthropic-beta"] = "x-1," .. BETA })
    assert.equal(200, status)
  end)

  it("stores an upload (Content-Length or chunked) and returns the API's metadata", function()
    local status, f = upload("notes.md", "# hi\r\n")
    assert.equal(200, status)
    assert.same({ "file", "notes.md", "text/markdown", 6, false },
      { f.type, f.filename, f.mime_type, f.size_bytes, f.downloadable })
    assert.truthy(f.id:match("^file_mock_%d+$"))
    local body = multipart("c.bin", "chunked content", "application/x-thing")
    local pieces = {}
    for i = 1, #body, 7 do pieces[#pieces + 1] = body:sub(i, i + 6) end
    status, f = req("POST", "/v1/files", headers { ["content-type"] = MP }, nil, { chunked = pieces })
    assert.equal(200, status)
    assert.equal("application/x-thing", f.mime_type)
    assert.equal(15, f.size_bytes)
    local _, _, raw = mock.request("GET", "/_mock/files/" .. f.id, {}, nil, { url = server.url })
    assert.equal("chunked content", raw)
  end)

  it("refuses a body that is not multipart, has no file part, or is over max_file_bytes", function()
    local status, b = req("POST", "/v1/files", headers { ["content-type"] = "application/json" }, "{}")
    assert.equal(400, status)
    assert.truthy(b.error.message:find("multipart", 1, true))
    local field = "--" .. B .. "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nx\r\n--" .. B .. "--\r\n"
    status, b = req("POST", "/v1/files", headers { ["content-type"] = MP }, field)
    assert.equal(400, status)
    assert.equal("file: Field required", b.error.message)
    status = req("POST", "/v1/files", headers { ["content-type"] = MP }, multipart("a", "x"):sub(1, 60))
    assert.equal(400, status)
    status, b = upload("big.bin", ("x"):rep(1001))
    assert.equal(413, status)
    assert.equal("request_too_large", b.error.type)
    assert.equal(200, (upload("fits.bin", ("x"):rep(1000))))
  end)

  it("lists newest first with the API's pagination, retrieves and deletes", function()
    local a = select(2, upload("a.txt", "a"))
    local b = select(2, upload("b.txt", "b"))
    local status, page = req("GET", "/v1/files?limit=1", headers())
    assert.equal(200, status)
    assert.equal(b.id, page.data[1].id)
    assert.is_true(page.has_more)
    assert.equal(b.id, page.first_id)
    assert.equal(b.id, page.last_id)
    status, page = req("GET", "/v1/files?limit=1&after_id=" .. b.id, headers())
    assert.equal(200, status)
    assert.equal(a.id, page.data[1].id)
    status = req("GET", "/v1/files?limit=0", headers())
    assert.equal(400, status)
    local _, got = req("GET", "/v1/files/" .. a.id, headers())
    assert.same(a, got)
    local _, del = req("DELETE", "/v1/files/" .. a.id, headers())
    assert.same({ id = a.id, type = "file_deleted" }, del)
    status, got = req("GET", "/v1/files/" .. a.id, headers())
    assert.equal(404, status)
    assert.equal("not_found_error", got.error.type)
  end)

  it("refuses to download an upload and serves a file the API made, with its length", function()
    local up = select(2, upload("mine.txt", "mine"))
    local status, b = req("GET", "/v1/files/" .. up.id .. "/content", headers())
    assert.equal(400, status)
    assert.truthy(b.error.message:find("not downloadable", 1, true))
    local _, made = req("POST", "/_mock/files", {}, cjson.encode { filename = "out.csv", mime_type = "text/csv",
      size_bytes = 600 })
    assert.is_true(made.downloadable)
    local rh
    status, b, rh = req("GET", "/v1/files/" .. made.id .. "/content", headers())
    assert.equal(200, status)
    assert.equal("600", rh["content-length"])
    assert.equal("text/csv", rh["content-type"])
    assert.equal(600, #b)
    assert.equal(250, b:byte(251))
    assert.equal(0, b:byte(252))
    assert.equal(400, (req("POST", "/_mock/files", {}, cjson.encode { size_bytes = -1 })))
  end)

  it("checks file_id sources in messages: beta needed, unknown ids are 404", function()
    local f = select(2, upload("d.pdf", "%PDF-1.4"))
    local function ask(file_id, beta)
      local msg = { model = "claude-haiku-4-5", max_tokens = 8, messages = { { role = "user", content = {
        { type = "image", source = { type = "file", file_id = file_id } }, { type = "text", text = "?" } } } } }
      return mock.json_request("POST", "/v1/messages", cjson.encode(msg),
        { ["anthropic-beta"] = beta and BETA or false }, { url = server.url })
    end
    assert.equal(200, (ask(f.id, true)))
    local status, b = ask("file_nope", true)
    assert.equal(404, status)
    assert.equal("File not found: file_nope", b.error.message)
    assert.equal(400, (ask(f.id, false)))
  end)
end)
