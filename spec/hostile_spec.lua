-- What no server reply may do to the client (issue 15), against spec.support.hostile, a
-- loopback server that answers badly on purpose: the key never shows (not even 8 characters of
-- it, wherever it sits and however it is cut), a 2xx reply that is not a JSON object is an
-- error, limits say what they are, and nothing a server sends makes the client loop or stall.

local anthropic = require "anthropic"
local cjson = require "cjson"
local socket = require "socket"
local hostile = require "spec.support.hostile"
local support = require "spec.support.client"
local reach = require "spec.support.reach"

local KEY = "sk-ant-api03-HOSTILEkey-5e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b-AbCdE"
local TOKEN = "sk-ant-oat01-HOSTILEtoken-9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c-ZyX"
local MIN_RUN = 8

-- The runs of `secret` (every substring of MIN_RUN characters) found in s, as a list.
local function runs_in(s, secret)
  local found = {}
  for i = 1, #secret - MIN_RUN + 1 do
    local run = secret:sub(i, i + MIN_RUN - 1)
    if s:find(run, 1, true) then found[#found + 1] = run end
  end
  return found
end

-- Every string reachable from v (spec.support.reach) and tostring(v), checked for runs.
local function assert_no_runs(v, secret, what)
  local function check(s, path)
    local r = runs_in(s, secret)
    if #r > 0 then error(string.format("%s%s holds %q of the secret", what, path, r[1]), 3) end
  end
  reach.strings(v, check)
  check(tostring(v), "<tostring>")
end

local PARAMS = { model = "claude-haiku-4-5", max_tokens = 16, messages = { { role = "user", content = "hi" } } }

local function client_for(srv, extra)
  local opts = { api_key = KEY, base_url = srv.url, max_retries = 0 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return anthropic.new(opts)
end

local function html_page(secret, offset, total)
  local before = ("<p>proxy error</p>"):rep(50):sub(1, offset)
  local page = "<html>" .. before .. secret .. "</html>"
  if total and #page < total then page = page .. (" "):rep(total - #page) end
  return page
end

describe("a hostile server: the credentials never show", function()
  it("a non-JSON error page echoing the key at any offset around the 300-byte cut (the issue's case)", function()
    local replies, offsets = {}, {}
    for off = 0, 360, 3 do
      offsets[#offsets + 1] = off
      replies[#replies + 1] = hostile.reply(502, { "Content-Type: text/html" }, html_page(KEY, off))
    end
    local srv = hostile.start { replies = replies }
    local c = client_for(srv)
    for _, off in ipairs(offsets) do
      local err = support.raises(c.messages.create, PARAMS)
      assert.equal(502, err.status)
      assert_no_runs(err, KEY, "error (key at offset " .. off .. ")")
      assert.truthy(tostring(err):find("[redacted]", 1, true) or err.message:find("[redac", 1, true)
        or #err.message == 300, "offset " .. off)
    end
    c:close()
    srv.stop()
  end)

  it("pieces of the key, cut at either end, repeated and overlapping, in a body", function()
    local bodies = {
      "key: " .. KEY:sub(1, 20),
      "key: " .. KEY:sub(-20),
      "key: " .. KEY:sub(15, 23),
      (KEY .. KEY:sub(1, 30)):rep(5),
      KEY:sub(1, 10) .. " and " .. KEY:sub(30, 40) .. " and " .. KEY:sub(-9),
      KEY:sub(1, 40) .. KEY:sub(20),
    }
    local replies = {}
    for i, b in ipairs(bodies) do replies[i] = hostile.reply(500, { "Content-Type: text/plain" }, b) end
    local srv = hostile.start { replies = replies }
    local c = client_for(srv)
    for i = 1, #bodies do
      local err = support.raises(c.messages.create, PARAMS)
      assert_no_runs(err, KEY, "error of body " .. i)
    end
    c:close()
    srv.stop()
  end)

  it("the auth token, in a JSON error message, error type and other fields", function()
    local srv = hostile.start { replies = {
      hostile.json(400, { type = "error", error = { type = "invalid_request_error",
        message = ("x"):rep(290) .. TOKEN .. " echoed" } }),
      hostile.json(400, { type = "error", error = { type = TOKEN:sub(5, 30), message = "m" } }),
      hostile.json(401, { type = "error", error = { type = "authentication_error", message = "bad",
        details = { [TOKEN:sub(3, 40)] = { TOKEN, "Bearer " .. TOKEN:sub(10) } } } }),
    } }
    local c = anthropic.new { auth_token = TOKEN, base_url = srv.url, max_retries = 0 }
    for i = 1, 3 do
      local err = support.raises(c.messages.create, PARAMS)
      assert_no_runs(err, TOKEN, "error " .. i)
    end
    c:close()
    srv.stop()
  end)

  it("in response headers, the request id and the status line", function()
    local srv = hostile.start { replies = {
      hostile.reply(500, { "request-id: req_" .. KEY:sub(5, 25), "x-echo: " .. KEY, "x-" .. KEY:sub(1, 12) .. ": v",
        "Content-Type: application/json" },
        cjson.encode { type = "error", error = { type = "api_error", message = "m" } },
        "Bad " .. KEY),
      hostile.reply(503, { "x-echo: " .. KEY:sub(-12) }, "", KEY:sub(2, 30)),
    } }
    local c = client_for(srv)
    for i = 1, 2 do
      local err = support.raises(c.messages.create, PARAMS)
      assert_no_runs(err, KEY, "error " .. i)
      assert_no_runs(err.headers or {}, KEY, "headers " .. i)
    end
    c:close()
    srv.stop()
  end)

  it("in SSE events before and after content, and in the partial message", function()
    local function err_event(msg) return { type = "error", error = { type = "overloaded_error", message = msg } } end
    -- text deltas "echo " .. 20 characters of the key, then the rest of it; then the error
    local after = hostile.text_events("echo " .. KEY, 25, false)
    after[#after + 1] = { "error", err_event(KEY:sub(3, 50) .. " after content") }
    local srv = hostile.start { replies = {
      hostile.sse { { "error", err_event("before content: " .. KEY) } },
      hostile.sse(after),
    } }
    local c = client_for(srv)
    for i = 1, 2 do
      local s = c.messages.stream(PARAMS)
      local err = support.raises(function() return s:final_message() end)
      assert.equal("StreamError", err.class_name)
      assert_no_runs(err, KEY, "stream error " .. i)
    end
    c:close()
    srv.stop()
  end)

  it("is linear: 680 KB holding the key 40,000 times and 2 MB holding it 100,000 times", function()
    local key = "sk-ant-mock-free"                    -- 16 bytes: 100,000 of them + separators = 2 MB
    local small = (key .. ", "):rep(40000)            -- 720,000 bytes
    local big = (key .. " \r\n,"):rep(100000)         -- 2,000,000 bytes
    local srv = hostile.start { replies = {
      hostile.reply(500, { "Content-Type: text/html" }, small),
      hostile.reply(500, { "Content-Type: text/html" }, big),
    } }
    local c = client_for(srv, { api_key = key })
    for _, size in ipairs { #small, #big } do
      local t0 = socket.gettime()
      local err = support.raises(c.messages.create, PARAMS)
      -- A generous "does not hang" bound (quadratic scrubbing took 10 s for the small one).
      assert.is_true(socket.gettime() - t0 < 5, "took " .. (socket.gettime() - t0) .. " s for " .. size .. " bytes")
      assert_no_runs({ err.message, tostring(err) }, key, "error")
      assert.is_nil(err.body:find("mock", 1, true))
    end
    c:close()
    srv.stop()
  end)
end)

describe("a hostile server: a 2xx reply must be a JSON object", function()
  for _, body in ipairs { "[1,2,3]", "42", '"x"', "null", "[]", " true ", "[{}]" } do
    it("refuses " .. body .. " from create with an APIError naming the status and request id", function()
      local srv = hostile.start { replies = { hostile.json(200, body) } }
      local c = client_for(srv)
      local err = support.raises(c.messages.create, PARAMS)
      assert.equal("APIError", err.class_name)
      assert.equal("reply is not a JSON object", err.message)
      assert.equal(200, err.status)
      assert.equal("req_hostile", err.request_id)
      c:close()
      srv.stop()
    end)
  end

  it("an object is still a result ({} and a Message)", function()
    local srv = hostile.start { replies = { hostile.json(200, hostile.message("fine")), hostile.json(200, "  {}") } }
    local c = client_for(srv)
    assert.equal("fine", c.messages.create(PARAMS).content[1].text)
    assert.same({}, c.messages.count_tokens { model = "m", messages = {} })
    c:close()
    srv.stop()
  end)
end)

describe("a hostile server: the CLI prints no part of the key", function()
  local cli = require "anthropic.cli"

  local function sink()
    local buf = {}
    return { write = function(self, ...) for _, s in ipairs { ... } do buf[#buf + 1] = s end return self end,
      flush = function() return true end, text = function() return table.concat(buf) end }
  end

  local function run_cli(args, srv)
    local out, err = sink(), sink()
    local env = { ANTHROPIC_API_KEY = KEY, ANTHROPIC_BASE_URL = srv.url }
    local code = cli.main(args, { stdout = out, stderr = err, getenv = function(k) return env[k] end })
    return out.text(), err.text(), code
  end

  it("an HTML error page with the key at byte 300 (the issue's case)", function()
    local srv = hostile.start { replies = { hostile.reply(502, { "Content-Type: text/html" }, html_page(KEY, 290)) },
      repeat_last = true }
    local stdout, stderr, code = run_cli({ "ask", "--model", "claude-haiku-4-5", "hi" }, srv)
    assert.not_equal(0, code)
    assert.same({}, runs_in(stdout .. stderr, KEY))
    assert.truthy(stderr:find("502", 1, true))
    srv.stop()
  end)

  it("a streamed answer that spells the key out three characters per delta", function()
    local text = "your key is " .. KEY .. ", and again:" .. KEY .. " done"
    local events = hostile.text_events(text, 3)
    local srv = hostile.start { replies = { hostile.sse(events) }, repeat_last = true }
    local stdout, stderr, code = run_cli({ "ask", "--stream", "--model", "claude-haiku-4-5", "hi" }, srv)
    assert.equal(0, code, stderr)
    assert.same({}, runs_in(stdout .. stderr, KEY))
    assert.equal("your key is [redacted], and again:[redacted] done\n", stdout)
    srv.stop()
  end)

  it("the writer holds back only the tail a key could continue into, and drains it", function()
    local s = sink()
    local w = cli.scrubbed(s, { KEY })
    -- "a", "s", "t", "c", "k" occur in the key, " " and "!" do not
    w:write("a stack")
    assert.equal("a ", s.text())
    w:write(" ", KEY:sub(1, 4))
    w:write(KEY:sub(5), "!")
    assert.equal("a stack [redacted]!", s.text())
    w:write("tack")
    w.drain()
    assert.equal("a stack [redacted]!tack", s.text())
  end)

  it("the held tail costs what is written: 60 KB in 2-byte writes, then a tail past 64 KB", function()
    local s = sink()
    local w = cli.scrubbed(s, { KEY })
    local t0 = socket.gettime()
    for _ = 1, 30000 do w:write("ab") end             -- both occur in the key: all held
    assert.equal("", s.text())
    w:write(" ")
    assert.equal(("ab"):rep(30000) .. " ", s.text())
    for _ = 1, 10 do w:write(("c"):rep(7000)) end      -- past 64 KB held: shown, scrubbed
    assert.is_true(#s.text() >= 60001 + 63000, "a tail past the limit is shown")
    w.drain()
    assert.equal(("ab"):rep(30000) .. " " .. ("c"):rep(70000), s.text())
    assert.is_true(socket.gettime() - t0 < 10, "does not hang")
  end)
end)

describe("a hostile server: limits say what they are", function()
  local function many_headers(n, size)
    local h = {}
    for i = 1, n do h[i] = "X-H" .. i .. ": " .. ("b"):rep(size) end
    return h
  end

  it("a 1 MB response header is ResponseTooLarge naming libcurl's per-line limit (was 'Out of memory')", function()
    local big = hostile.reply(200, { "X-Big: " .. ("a"):rep(1024 * 1024) }, "{}")
    local srv = hostile.start { replies = { big, big } }
    local c = client_for(srv)
    local err = support.raises(c.messages.create, PARAMS)
    assert.equal("ResponseTooLarge", err.class_name)
    assert.equal("a reply header line larger than 102400 bytes (libcurl's CURL_MAX_HTTP_HEADER)", err.message)
    err = support.raises(function() return c.messages.stream(PARAMS):final_message() end)
    assert.equal("ResponseTooLarge", err.class_name)
    c:close()
    srv.stop()
  end)

  it("a header block over 256 KB is ResponseTooLarge naming the client's limit, not a receive error", function()
    local srv = hostile.start { replies = { hostile.reply(200, many_headers(300, 1000), "{}") } }
    local c = client_for(srv, { max_retries = 2 })
    local err = support.raises(c.messages.create, PARAMS)
    assert.equal("ResponseTooLarge", err.class_name)
    assert.equal("reply headers larger than 262144 bytes (the client's limit)", err.message)
    assert.equal(1, srv.count(), "a limit is not retried")
    c:close()
    srv.stop()
  end)

  it("large headers within the limits still work (one 90 KB line; 200 KB in all)", function()
    local body = cjson.encode(hostile.message("big headers"))
    local srv = hostile.start { replies = {
      hostile.reply(200, { "X-Big: " .. ("a"):rep(90 * 1024), "Content-Type: application/json" }, body),
      hostile.reply(200, many_headers(200, 1000), body),
    } }
    local c = client_for(srv)
    assert.equal("big headers", c.messages.create(PARAMS).content[1].text)
    assert.equal("big headers", c.messages.create(PARAMS).content[1].text)
    c:close()
    srv.stop()
  end)
end)

describe("callbacks cost what the delta costs", function()
  it("on_text(delta) over 1 MiB in 16-byte deltas builds no snapshot (the issue's case)", function()
    -- Plain Lua 5.1 cannot tell how many parameters a function takes: there the snapshot is
    -- made, so the text is kept small enough for that quadratic path.
    local knows_arity = debug.getinfo(function(_) end, "u").nparams ~= nil
    local deltas = knows_arity and 65536 or 4096
    local text = ("0123456789abcdef"):rep(deltas)
    local srv = hostile.start { replies = { hostile.text_stream(text, 16) } }
    local c = client_for(srv)
    local got, n, args = {}, 0, 0
    local t0 = socket.gettime()
    local s = c.messages.stream(PARAMS, { on_text = function(delta) n = n + 1 got[n] = delta end,
      on_done = function() end })
    local real_call = s.op.call
    s.op.call = function(op, fn, ...) args = math.max(args, select("#", ...)) return real_call(op, fn, ...) end
    while not s:is_done() do c:poll(50) end
    assert.equal(deltas, n)
    assert.equal(text, table.concat(got))
    assert.equal(knows_arity and 1 or 2, args, "function(delta) is called with the delta alone")
    assert.is_true(socket.gettime() - t0 < 60, "does not hang")
    c:close()
    srv.stop()
  end)

  it("on_text(delta, snapshot) still gets the block's text so far", function()
    local srv = hostile.start { replies = { hostile.text_stream("hello, hostile world", 3) }, repeat_last = true }
    local c = client_for(srv)
    local snaps, varargs = {}, {}
    local s = c.messages.stream(PARAMS, { on_text = function(_, snapshot) snaps[#snaps + 1] = snapshot end })
    assert.equal("hello, hostile world", s:final_text())
    s = c.messages.stream(PARAMS, { on_text = function(...) varargs[#varargs + 1] = select(2, ...) end })
    assert.equal("hello, hostile world", s:final_text())
    assert.same(snaps, varargs, "a vararg callback is given the snapshot too")
    assert.same({ "hel", "hello,", "hello, ho", "hello, hosti", "hello, hostile ", "hello, hostile wor",
      "hello, hostile world" }, snaps)
    c:close()
    srv.stop()
  end)
end)

describe("a hostile server: pagination always ends", function()
  local pagination = require "anthropic.pagination"
  local access = require "anthropic.access"

  local function page(ids, has_more, first_id, last_id)
    local data = {}
    for i, id in ipairs(ids) do
      data[i] = { type = "model", id = id, display_name = id, created_at = "2025-01-01T00:00:00Z" }
    end
    local v = { data = data, has_more = has_more }
    v.first_id, v.last_id = first_id, last_id
    return hostile.json(200, v)
  end

  local function walk(c, params)
    local seen = {}
    local ok, err = pcall(function()
      for m in c.models.list(params):iter() do seen[#seen + 1] = m.id end
    end)
    assert.is_false(ok, "the walk ended without an error")
    return err, seen
  end

  it("a cursor that does not advance (the issue's case): APIError after the second request", function()
    local srv = hostile.start { replies = { page({ "m_1" }, true, "m_1", "m_1") }, repeat_last = true }
    local c = client_for(srv)
    local err, seen = walk(c)
    assert.equal("APIError", err.class_name)
    assert.equal('list reply repeats the cursor last_id = "m_1": the listing does not advance', err.message)
    assert.equal(200, err.status)
    assert.equal("req_hostile", err.request_id)
    assert.same({ "m_1", "m_1" }, seen, "the items received are delivered first")
    assert.equal(2, srv.count())
    c:close()
    srv.stop()
  end)

  it("a cycle of cursors (a -> b -> a), and a first page that repeats the caller's own cursor", function()
    local srv = hostile.start { replies = {
      page({ "a" }, true, "a", "a"), page({ "b" }, true, "b", "b"), page({ "a" }, true, "a", "a"),
      page({ "x" }, true, "x", "start"),
    } }
    local c = client_for(srv)
    local err = walk(c)
    assert.equal('list reply repeats the cursor last_id = "a": the listing does not advance', err.message)
    err = walk(c, { after_id = "start" })
    assert.equal('list reply repeats the cursor last_id = "start": the listing does not advance', err.message)
    assert.equal(4, srv.count())
    c:close()
    srv.stop()
  end)

  it("has_more without a usable cursor: null, missing, empty, not a string", function()
    local srv = hostile.start { replies = {
      page({ "a" }, true, "a", cjson.null), page({ "a" }, true), page({ "a" }, true, "a", ""),
      page({ "a" }, true, "a", 42), page({ "a" }, true, cjson.null, "a"),
    } }
    local c = client_for(srv)
    for _ = 1, 4 do
      local err, seen = walk(c)
      assert.equal("APIError", err.class_name)
      assert.equal("list reply says has_more but has no last_id to continue from", err.message)
      assert.same({ "a" }, seen)
    end
    local err = walk(c, { before_id = "z" })
    assert.equal("list reply says has_more but has no first_id to continue from", err.message)
    assert.equal(5, srv.count())
    c:close()
    srv.stop()
  end)

  it("a server that advances forever stops at max_pages (default " .. pagination.DEFAULT_MAX_PAGES .. ")", function()
    assert.equal(1000, pagination.DEFAULT_MAX_PAGES)
    local replies = {}
    for i = 1, 20 do replies[i] = page({ "m" .. i }, true, "m" .. i, "m" .. i) end
    local srv = hostile.start { replies = replies }
    local c = client_for(srv)
    local err, seen = walk(c, { max_pages = 5 })
    assert.equal("listing stopped at max_pages (5 pages); pass a larger max_pages to read further", err.message)
    assert.same({ "m1", "m2", "m3", "m4", "m5" }, seen)
    assert.equal(5, srv.count())
    assert.equal("max_pages: must be an integer from 1 to 2147483647",
      support.raises(c.models.list, { max_pages = 0 }).message)
    c:close()
    srv.stop()
  end)

  it("batches.list is bounded the same way", function()
    local v = { data = { { id = "b1", type = "message_batch" } }, has_more = true, first_id = "b1", last_id = "b1" }
    local srv = hostile.start { replies = { hostile.json(200, v) }, repeat_last = true }
    local c = client_for(srv)
    local ok, err = pcall(function() for _ in c.messages.batches.list():iter() do end end)
    assert.is_false(ok)
    assert.equal('list reply repeats the cursor last_id = "b1": the listing does not advance', err.message)
    assert.equal(2, srv.count())
    c:close()
    srv.stop()
  end)

  it("access.check without a model list inherits the bound", function()
    local srv = hostile.start { replies = { page({ "m_1" }, true, "m_1", "m_1") }, repeat_last = true }
    local c = client_for(srv)
    local err = support.raises(access.check, c)
    assert.equal("APIError", err.class_name)
    assert.equal('list reply repeats the cursor last_id = "m_1": the listing does not advance', err.message)
    assert.equal(2, srv.count())
    c:close()
    srv.stop()
  end)

  it("anthropic-lua check (the issue's case: tens of thousands of requests in 10 s) sends two", function()
    local cli = require "anthropic.cli"
    local srv = hostile.start { replies = { page({ "m_1" }, true, "m_1", "m_1") }, repeat_last = true }
    local out, errw = {}, {}
    local function sink(buf)
      return { write = function(self, ...) for _, s in ipairs { ... } do buf[#buf + 1] = s end return self end,
        flush = function() return true end }
    end
    local env = { ANTHROPIC_API_KEY = KEY, ANTHROPIC_BASE_URL = srv.url }
    local code = cli.main({ "check" },
      { stdout = sink(out), stderr = sink(errw), getenv = function(k) return env[k] end })
    assert.equal(cli.EXIT.api, code)
    assert.truthy(table.concat(errw):find("the listing does not advance", 1, true), table.concat(errw))
    assert.equal(2, srv.count())
    srv.stop()
  end)
end)
