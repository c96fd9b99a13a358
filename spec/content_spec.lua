-- anthropic.content: blocks for images, PDFs, text documents and uploaded files. The media type
-- from the bytes (never the name), the path vs bytes rule, the API's limits as UsageErrors with
-- exact messages, the options, and the blocks accepted by the mock's /v1/messages as sent.

local anthropic = require "anthropic"
local content = require "anthropic.content"
local core = require "anthropic.core"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local errors = anthropic.errors
local DIR = mock.root() .. "/spec/fixtures/content/"

local slurp = require("spec.support.run").read_file

local function raises(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.UsageError.is_class_of(err), "expected a UsageError, got " .. tostring(err))
  return err
end

-- A temporary file of `size` bytes that starts with `head`, written sparse (a seek past the
-- end), so a 30 MB file costs no time or disk.
local function sized_file(head, size)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(head)
  if size > #head then
    f:seek("set", size - 1)
    f:write("\0")
  end
  f:close()
  return path
end

-- Runs fn with content.LIMITS replaced by small ones, so a boundary is tested on a few bytes;
-- the checks read LIMITS at each call.
local function with_limits(limits, fn)
  local saved = content.LIMITS
  content.LIMITS = limits
  local ok, err = pcall(fn)
  content.LIMITS = saved
  if not ok then error(err, 0) end
end

-- A PDF whose page tree declares `pages` pages (only the tree: what pdf_pages reads).
local function pdf_with(pages)
  return "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] "
    .. "/Count " .. pages .. " >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj\n%%EOF\n"
end

describe("anthropic.content", function()
  it("is exported as anthropic.content", function()
    assert.equal(content, anthropic.content)
  end)

  describe("media_type: from the bytes' signature", function()
    local rows = {
      { "tiny.png", "image/png" }, { "tiny.jpg", "image/jpeg" }, { "tiny.gif", "image/gif" },
      { "tiny.webp", "image/webp" }, { "tiny.pdf", "application/pdf" }, { "notes.txt", "text/plain" },
    }
    for _, row in ipairs(rows) do
      it(row[1] .. " is " .. row[2], function()
        assert.equal(row[2], content.media_type(slurp(DIR .. row[1])))
      end)
    end
    local bytes = {
      { "GIF87a", "GIF87a\1\0\1\0", "image/gif" },
      { "RIFF that is not WebP", "RIFF\0\0\0\0WAVEfmt ", nil },
      { "a PNG signature cut short", "\137PNG\r\n", nil },
      { "NUL in text", "plain\0text", nil },
      { "invalid UTF-8", "caf\233", nil },
      { "empty", "", nil },
    }
    for _, row in ipairs(bytes) do
      it(row[1], function() assert.equal(row[3], content.media_type(row[2])) end)
    end
  end)

  describe("image", function()
    for _, row in ipairs { { "tiny.png", "image/png" }, { "tiny.jpg", "image/jpeg" }, { "tiny.gif", "image/gif" },
      { "tiny.webp", "image/webp" } } do
      it(row[1] .. ": a base64 source of " .. row[2] .. " that decodes to the file", function()
        local b = content.image(DIR .. row[1])
        assert.same({ type = "image", source = { type = "base64", media_type = row[2], data = b.source.data } }, b)
        assert.equal(slurp(DIR .. row[1]), core.base64_decode(b.source.data))
      end)
    end

    it("bytes as { data = ... } and a path as { path = ... } give the same block as a bare path", function()
      local bytes = slurp(DIR .. "tiny.png")
      assert.same(content.image(DIR .. "tiny.png"), content.image { data = bytes })
      assert.same(content.image(DIR .. "tiny.png"), content.image { path = DIR .. "tiny.png" })
    end)

    it("the name does not decide the type: a PNG called .jpg is image/png", function()
      local path = sized_file(slurp(DIR .. "tiny.png"), 0)
      local renamed = path .. ".jpg"
      assert(os.rename(path, renamed))
      local b = content.image(renamed)
      os.remove(renamed)
      assert.equal("image/png", b.source.media_type)
    end)

    it("cache_control: true is an ephemeral breakpoint; a table is checked and copied", function()
      assert.same({ type = "ephemeral" }, content.image(DIR .. "tiny.gif", { cache_control = true }).cache_control)
      local cc = { type = "ephemeral", ttl = "1h" }
      local b = content.image(DIR .. "tiny.gif", { cache_control = cc })
      cc.ttl = "5m"
      assert.same({ type = "ephemeral", ttl = "1h" }, b.cache_control)
    end)

    it("an image exactly at the base64 limit is accepted; one byte more is refused before encoding", function()
      local png = slurp(DIR .. "tiny.png")                             -- 81 bytes: 108 in base64
      with_limits({ image_base64_bytes = 108, request_bytes = 1000, pdf_pages = 100 }, function()
        assert.equal(108, #content.image({ data = png }).source.data)
        local err = raises(content.image, { data = png .. "\0" })
        assert.equal("content.image: data: the data is 82 bytes, over the API's limit: an image may be at most "
          .. "81 bytes (108 bytes, once base64-encoded)", err.message)
        assert.equal("data", err.param)
      end)
    end)

    it("reads what cannot seek (a pipe on /dev/stdin) or says size 0 (/proc), bounded as it is read", function()
      local run = require "spec.support.run"
      local code = "local c = require 'anthropic.content'\n"
        .. "print(c.image('/dev/stdin').source.media_type)"
      local out, status = run.command("cat " .. run.quote(DIR .. "tiny.png") .. " | " .. run.interpreter()
        .. " -e " .. run.quote(code))
      assert.equal(0, status, out)
      assert.equal("image/png\n", out)
      code = "local c = require 'anthropic.content'\n"
        .. "c.LIMITS = { image_base64_bytes = 104, request_bytes = 1000, pdf_pages = 100 }\n"
        .. "print(select(2, pcall(c.image, '/dev/stdin')).message)"
      out = run.command("cat " .. run.quote(DIR .. "tiny.png") .. " | " .. run.interpreter() .. " -e "
        .. run.quote(code))
      assert.equal("content.image: path: '/dev/stdin' holds more than the API's limit: an image may be at most "
        .. "78 bytes (104 bytes, once base64-encoded)\n", out)
      local status_file = io.open("/proc/self/status", "rb")
      if status_file then                                     -- Linux: seeks to a size of 0
        status_file:close()
        assert.matches("^Name:", content.document("/proc/self/status").source.data)
      end
    end)

    it("an oversize file is refused from its size, without being read", function()
      local path = sized_file(slurp(DIR .. "tiny.png"), 6 * 1024 * 1024)
      local err = raises(content.image, path)
      os.remove(path)
      assert.equal("content.image: path: '" .. path .. "' is 6291456 bytes, over the API's limit: an image may "
        .. "be at most 3932160 bytes (5 MB, 5242880 bytes, once base64-encoded)", err.message)
      assert.same({ image_base64_bytes = 5242880, request_bytes = 33554432, pdf_pages = 100 }, content.LIMITS)
    end)
  end)

  describe("document", function()
    it("a PDF is a base64 source of application/pdf", function()
      local b = content.document(DIR .. "tiny.pdf")
      assert.equal("document", b.type)
      assert.equal("base64", b.source.type)
      assert.equal("application/pdf", b.source.media_type)
      assert.equal(slurp(DIR .. "tiny.pdf"), core.base64_decode(b.source.data))
    end)

    it("UTF-8 text is a text source, as is", function()
      assert.same({ type = "document", source = { type = "text", media_type = "text/plain",
        data = slurp(DIR .. "notes.txt") } }, content.document(DIR .. "notes.txt"))
    end)

    it("title, context, citations and cache_control", function()
      local b = content.document({ data = "Some notes." }, { title = "Notes", context = "from the wiki",
        citations = true, cache_control = true })
      assert.same({ type = "document", source = { type = "text", media_type = "text/plain", data = "Some notes." },
        title = "Notes", context = "from the wiki", citations = { enabled = true },
        cache_control = { type = "ephemeral" } }, b)
      assert.same({ enabled = false }, content.document({ data = "x" }, { citations = { enabled = false } }).citations)
      assert.same({ enabled = false }, content.document({ data = "x" }, { citations = false }).citations)
    end)

    it("reads the page count a PDF's page tree declares", function()
      assert.equal(1, content.pdf_pages(slurp(DIR .. "tiny.pdf")))
      assert.equal(250, content.pdf_pages(pdf_with(250)))
      assert.is_nil(content.pdf_pages("%PDF-1.7\n(compressed object streams only)"))
      -- No space after /Type, a longer name that is not /Pages, a node with fewer pages:
      assert.equal(7, content.pdf_pages("<< /Type/Pages /Count 7 >> << /Type /PagesX /Count 9 >> "
        .. "<</Type /Pages/Kids[]/Count 3>>"))
    end)

    it("100 pages are accepted, 101 refused", function()
      assert.equal("application/pdf", content.document({ data = pdf_with(100) }).source.media_type)
      local err = raises(content.document, { data = pdf_with(101) })
      assert.equal("content.document: data: the data has 101 pages, over the API's limit of 100 pages per PDF",
        err.message)
    end)

    it("a document over the 32 MB request is refused from its size, without being read", function()
      local path = sized_file("notes\n", 33 * 1024 * 1024)
      local err = raises(content.document, path)
      os.remove(path)
      assert.equal("content.document: path: '" .. path .. "' is 34603008 bytes, over the API's limit: a document "
        .. "must fit in one request (32 MB, 33554432 bytes)", err.message)
    end)

    it("text is bounded by the request as it is, a PDF by its base64 form", function()
      with_limits({ image_base64_bytes = 108, request_bytes = 40, pdf_pages = 100 }, function()
        local pdf = "%PDF-1.4\n" .. string.rep("x", 21)                  -- 30 bytes: 40 in base64
        assert.equal(40, #content.document({ data = pdf }).source.data)
        local err = raises(content.document, { data = pdf .. "x" })
        assert.equal("content.document: data: the data is 31 bytes, over the API's limit: a PDF must fit, "
          .. "base64-encoded, in one request (40 bytes): at most 30 bytes", err.message)
        assert.equal(40, #content.document({ data = string.rep("t", 40) }).source.data)   -- text: as it is
        err = raises(content.document, { data = string.rep("t", 41) })
        assert.equal("content.document: data: the data is 41 bytes, over the API's limit: a document must fit in one "
          .. "request (40 bytes)", err.message)
      end)
    end)
  end)

  describe("url sources: the API fetches the file", function()
    it("an image or a PDF at a URL, with the options", function()
      assert.same({ type = "image", source = { type = "url", url = "https://example.com/a.png" },
        cache_control = { type = "ephemeral" } }, content.image({ url = "https://example.com/a.png" },
        { cache_control = true }))
      assert.same({ type = "document", source = { type = "url", url = "https://example.com/a.pdf" }, title = "A",
        citations = { enabled = true } }, content.document({ url = "https://example.com/a.pdf" },
        { title = "A", citations = true }))
    end)
  end)

  describe("file", function()
    it("a document by default, an image on request, with the document options", function()
      assert.same({ type = "document", source = { type = "file", file_id = "file_011" } }, content.file("file_011"))
      assert.same({ type = "image", source = { type = "file", file_id = "file_011" },
        cache_control = { type = "ephemeral" } }, content.file("file_011", "image", { cache_control = true }))
      assert.same({ type = "document", source = { type = "file", file_id = "f" }, title = "Q3",
        citations = { enabled = true } }, content.file("f", { title = "Q3", citations = true }))
      assert.same({ type = "image", source = { type = "file", file_id = "f" } }, content.file("f", { kind = "image" }))
    end)
  end)

  describe("text", function()
    it("a text block, with cache_control", function()
      assert.same({ type = "text", text = "Hi" }, content.text("Hi"))
      assert.same({ type = "text", text = "Hi", cache_control = { type = "ephemeral", ttl = "5m" } },
        content.text("Hi", { cache_control = { type = "ephemeral", ttl = "5m" } }))
    end)
  end)

  describe("attachment: an image or a document by the bytes", function()
    for _, row in ipairs { { "tiny.webp", "image" }, { "tiny.jpg", "image" }, { "tiny.pdf", "document" },
      { "notes.txt", "document" } } do
      it(row[1] .. " -> " .. row[2], function()
        assert.equal(row[2], content.attachment(DIR .. row[1]).type)
        assert.equal(row[2], content.attachment({ data = slurp(DIR .. row[1]) }).type)
      end)
    end
  end)

  describe("bad input is a UsageError naming the argument", function()
    local PNG = DIR .. "tiny.png"
    local rows = {
      { "an image that is a PDF", function() return content.image(DIR .. "tiny.pdf") end, "path",
        "content.image: path: '" .. DIR .. "tiny.pdf' is not a PNG, JPEG, GIF or WebP image (the type comes from "
          .. "the bytes, not the name; it is application/pdf: use content.document)" },
      { "an image that is text", function() return content.image { data = "hello" } end, "data",
        "content.image: data: the data is not a PNG, JPEG, GIF or WebP image (the type comes from the bytes, not "
          .. "the name; it is text/plain: use content.document)" },
      { "a document that is an image", function() return content.document(PNG) end, "path",
        "content.document: path: '" .. PNG .. "' is neither a PDF nor UTF-8 text (the type comes from the bytes, "
          .. "not the name; it is image/png: use content.image)" },
      { "a document of unknown bytes", function() return content.document { data = "\0\1\2" } end, "data",
        "content.document: data: the data is neither a PDF nor UTF-8 text (the type comes from the bytes, not "
          .. "the name)" },
      { "an attachment of unknown bytes", function() return content.attachment { data = "\0\1\2" } end, "data",
        "content.attachment: data: the data is not a PNG, JPEG, GIF or WebP image, a PDF or UTF-8 text (the type "
          .. "comes from the bytes, not the name)" },
      { "a missing file", function() return content.image("no-such-file.png") end, "path",
        "content.image: path: cannot read 'no-such-file.png': No such file or directory" },
      { "a directory", function() return content.document(DIR) end, "path",
        "content.document: path: cannot read '" .. DIR .. "': Is a directory" },
      { "bytes given as a bare string", function() return content.document("line one\nline two") end, "path",
        "content.document: path: a bare string is a path and this one holds a NUL or newline: pass bytes as "
          .. "{ data = BYTES }" },
      { "both path and data", function() return content.image { path = PNG, data = "x" } end, "source",
        "content.image: source: give exactly one of { path = FILE }, { data = BYTES } and { url = URL }" },
      { "a url and a path", function() return content.document { url = "https://x.test/a.pdf", path = PNG } end,
        "source", "content.document: source: give exactly one of { path = FILE }, { data = BYTES } and { url = URL }" },
      { "a url that is not http(s)", function() return content.image { url = "file:///etc/passwd" } end, "url",
        "content.image: url: expected an http:// or https:// URL without spaces, got file:///etc/passwd" },
      { "a url to attachment", function() return content.attachment { url = "https://x.test/a" } end, "url",
        "content.attachment: url: a URL does not show whether it is an image or a PDF: use content.image or "
          .. "content.document" },
      { "an unknown source field", function() return content.image { file = PNG } end, "source",
        "content.image: source: unknown field 'file' (expected { path = ... }, { data = ... } or { url = ... })" },
      { "a number as the source", function() return content.image(42) end, "source",
        "content.image: source: expected a path (a string), { path = FILE }, { data = BYTES } or { url = URL }, "
          .. "got number" },
      { "empty data", function() return content.document { data = "" } end, "data",
        "content.document: data: is empty" },
      { "an unknown option", function() return content.image(PNG, { title = "x" }) end, "opts.title",
        "content.image: opts.title: unknown option (expected cache_control)" },
      { "a bad cache_control", function() return content.text("x", { cache_control = "1h" }) end,
        "opts.cache_control",
        "content.text: opts.cache_control: expected true or { type = \"ephemeral\" [, ttl = \"5m\" | \"1h\"] }" },
      { "a bad ttl", function() return content.text("x", { cache_control = { type = "ephemeral", ttl = "2h" } }) end,
        "opts.cache_control", "content.text: opts.cache_control: ttl must be \"5m\" or \"1h\", got 2h" },
      { "an empty title", function() return content.document({ data = "x" }, { title = "" }) end, "opts.title",
        "content.document: opts.title: expected a string of 1 to 500 characters" },
      { "a title of 501 characters", function()
          return content.document({ data = "x" }, { title = string.rep("é", 501) }) end, "opts.title",
        "content.document: opts.title: expected a string of 1 to 500 characters" },
      { "an empty context", function() return content.document({ data = "x" }, { context = "" }) end,
        "opts.context", "content.document: opts.context: expected a non-empty string" },
      { "citations not a boolean", function() return content.document({ data = "x" }, { citations = "yes" }) end,
        "opts.citations", "content.document: opts.citations: expected true, false or { enabled = boolean }" },
      { "an empty text", function() return content.text("") end, "text",
        "content.text: text: expected a non-empty string, got string" },
      { "a file without an id", function() return content.file(nil) end, "file_id",
        "content.file: file_id: expected the id of an uploaded file (a non-empty string), got nil" },
      { "a file of an unknown kind", function() return content.file("f", "video") end, "kind",
        "content.file: kind: expected \"document\" or \"image\", got video" },
      { "a file kind given twice", function() return content.file("f", "image", { kind = "document" }) end, "kind",
        "content.file: kind: given twice, as 'image' and opts.kind 'document'" },
      { "document options on an image file", function() return content.file("f", "image", { title = "x" }) end,
        "opts", "content.file: opts: title, context and citations are options of documents, not images" },
    }
    for _, row in ipairs(rows) do
      it(row[1], function()
        local err = raises(row[2])
        assert.equal(row[4], err.message)
        assert.equal(row[3], err.param)
      end)
    end
  end)

  describe("sent to the mock's /v1/messages", function()
    local client
    before_each(function()
      mock.clear()
      client = support.new_client()
    end)
    after_each(function() client:close() end)

    it("every kind of block is accepted and arrives as built", function()
      local blocks = {
        content.image(DIR .. "tiny.png"), content.image(DIR .. "tiny.jpg"), content.image(DIR .. "tiny.gif"),
        content.image(DIR .. "tiny.webp", { cache_control = true }),
        content.document(DIR .. "tiny.pdf", { title = "Tiny", citations = true }),
        content.document(DIR .. "notes.txt", { context = "release notes" }),
        content.image { url = "https://example.com/chart.png" },
        content.document { url = "https://example.com/report.pdf" },
        content.text("Describe these."),
      }
      local msg = client.messages.create { model = mock.MODELS.haiku, max_tokens = 16,
        messages = { { role = "user", content = blocks } } }
      assert.equal("message", msg.type)
      local sent = mock.bodies("/v1/messages")
      assert.equal(1, #sent)
      assert.same(blocks, sent[1].messages[1].content)
    end)

    it("content.file refers to an uploaded file (with the Files beta); an unknown id is NotFound", function()
      local beta = { require("anthropic.files").BETA }
      local f = client.files.upload { path = DIR .. "tiny.pdf" }
      local msg = client.messages.create { model = mock.MODELS.haiku, max_tokens = 16, betas = beta,
        messages = { { role = "user", content = { content.file(f.id, { title = "Tiny" }), content.text("Hi") } } } }
      assert.equal("message", msg.type)
      assert.same({ type = "document", source = { type = "file", file_id = f.id }, title = "Tiny" },
        mock.bodies("/v1/messages")[1].messages[1].content[1])
      local err = support.raises(client.messages.create, { model = mock.MODELS.haiku, max_tokens = 16, betas = beta,
        messages = { { role = "user", content = { content.file("file_unknown", "image"), content.text("Hi") } } } })
      assert.is_true(errors.NotFound.is_class_of(err), tostring(err))
    end)

    it("a block claiming the wrong media type is the API's BadRequest", function()
      local b = content.image(DIR .. "tiny.jpg")
      b.source.media_type = "image/png"
      local err = support.raises(client.messages.create, { model = mock.MODELS.haiku, max_tokens = 16,
        messages = { { role = "user", content = { b } } } })
      assert.is_true(errors.BadRequest.is_class_of(err))
      assert.equal("messages.0.content.0.image.source.base64.data: The image was specified using the image/png "
        .. "media type, but the image appears to be a image/jpeg image", err.message)
    end)
  end)
end)
