-- Hooks and derived clients (issue 20): on_request / on_response, client:with_options,
-- default_query, ANTHROPIC_CUSTOM_HEADERS.
local anthropic = require "anthropic"
local mock = require "spec.support.mock"
local support = require "spec.support.client"
local defaults = require "anthropic.defaults"
local client_mod = require "anthropic.client"

local HAIKU = "claude-haiku-4-5"
local errors = anthropic.errors
local raises, fault = support.raises, support.fault

local function params()
  return { model = HAIKU, max_tokens = 16, messages = { { role = "user", content = "Hi" } } }
end

local function last_request()
  local log = mock.requests()
  return log[#log]
end

describe("on_request", function()
  before_each(function() mock.clear() end)

  it("sees the request before it is sent, credentials shown as [redacted]", function()
    local seen
    local c = support.new_client { on_request = function(req) seen = req end }
    local msg = c.messages.create(params())
    assert.equal("POST", seen.method)
    assert.equal(mock.url() .. "/v1/messages", seen.url)
    assert.equal("[redacted]", seen.headers["x-api-key"])
    assert.equal("2023-06-01", seen.headers["anthropic-version"])
    assert.equal(HAIKU, require("cjson").decode(seen.body).model)
    -- Left as [redacted], the real key is sent: the mock answered (it refuses a wrong key).
    assert.equal("message", msg.type)
    c:close()
  end)

  it("may add, replace (in any case) and remove headers", function()
    local c = support.new_client { on_request = function(req)
      req.headers["x-trace-id"] = "t-1"
      req.headers["User-Agent"] = "gateway/1"
      req.headers["anthropic-version"] = nil
    end }
    local err = raises(c.messages.create, params())   -- the mock wants anthropic-version
    assert.equal(400, err.status)
    local h = last_request().headers
    assert.equal("t-1", h["x-trace-id"])
    assert.equal("gateway/1", h["user-agent"])
    assert.is_nil(h["anthropic-version"])
    c:close()
  end)

  it("may replace the credential header", function()
    local c = support.new_client { on_request = function(req) req.headers["x-api-key"] = "sk-ant-wrong-key-123" end }
    local err = raises(c.messages.create, params())
    assert.equal("AuthenticationFailed", err.class_name)
    c:close()
  end)

  it("fails the request with a HookError when it raises, before anything is sent", function()
    local c = support.new_client { on_request = function() error("no budget left", 0) end }
    local err = raises(c.messages.create, params())
    assert.is_true(errors.HookError.is_class_of(err))
    assert.equal("on_request", err.hook)
    assert.equal("no budget left", err.cause)
    assert.equal("on_request hook failed: no budget left", err.message)
    assert.equal(0, #mock.requests())
    c:close()
  end)

  it("hands an anthropic error it raises to the caller unchanged", function()
    local mine = errors.new(errors.RateLimited, { message = "local budget" })
    local c = support.new_client { on_request = function() error(mine) end }
    assert.equal(mine, raises(c.messages.create, params()))
    c:close()
  end)

  it("fails a non-blocking request through on_done, and a stream at stream()", function()
    local c = support.new_client { on_request = function() error("nope", 0) end }
    local got
    c.messages.create(params(), { on_done = function(err) got = err end })
    assert.equal("HookError", got.class_name)
    local err = raises(c.messages.stream, params())
    assert.equal("HookError", err.class_name)
    assert.equal(0, c:inflight())
    c:close()
  end)

  it("a header it sets must be a valid header", function()
    local c = support.new_client { on_request = function(req) req.headers["x-bad"] = "a\r\nb" end }
    local err = raises(c.messages.create, params())
    assert.equal("UsageError", err.class_name)
    assert.equal("on_request: req.headers.x-bad: header value must not contain CR, LF or NUL", err.message)
    c:close()
  end)

  it("runs before a platform signs: Bedrock's SigV4 covers a header it adds", function()
    local c = anthropic.bedrock { region = "us-east-1", access_key_id = "AKIDMOCKBUILD",
      secret_access_key = "mock-aws-secret-build", base_url = mock.url(), max_retries = 0,
      on_request = function(req) req.headers["x-amz-meta-trace"] = "t-9" end }
    local msg = c.messages.create(params())   -- the mock checks the signature
    assert.equal("message", msg.type)
    assert.equal("t-9", last_request().headers["x-amz-meta-trace"])
    c:close()
  end)
end)

describe("on_response", function()
  before_each(function() mock.clear() end)

  it("sees the ended request: status, request id, attempts, ms, headers, the request", function()
    local got
    local c = support.new_client { on_request = function(req) req.headers["x-t"] = "1" end,
      on_response = function(res) got = res end }
    local msg = c.messages.create(params())
    assert.equal(200, got.status)
    assert.equal(msg._request_id, got.request_id)
    assert.equal(msg._request_id, got.headers["request-id"])
    assert.equal(1, got.attempts)
    assert.is_true(got.ms >= 0)
    assert.equal("1", got.request.headers["x-t"])
    assert.is_nil(got.error)
    c:close()
  end)

  it("sees a failure's error", function()
    local got
    local c = support.new_client { on_response = function(res) got = res end }
    local err = raises(c.messages.create, params(), fault { status = 404 })
    assert.equal(err, got.error)
    assert.equal(404, got.status)
    c:close()
  end)

  it("fails an answered request when it raises; the tokens are still counted", function()
    local c = support.new_client { on_response = function() error("audit store down", 0) end }
    local err = raises(c.messages.create, params())
    assert.equal("HookError", err.class_name)
    assert.equal("on_response", err.hook)
    local u = c:usage().total
    assert.equal(1, u.errors)
    assert.is_true(u.output_tokens > 0)
    c:close()
  end)

  it("runs outside libcurl: it may itself send a request", function()
    local inner, started
    local c
    c = support.new_client { on_response = function(res)
      if not started and res.status == 200 then
        started = true
        inner = c.models.list()
      end
    end }
    c.messages.create(params())
    assert.is_table(inner.data)
    c:close()
  end)

  it("runs for a stream when it ends", function()
    local got
    local c = support.new_client { on_response = function(res) got = res end }
    local s = c.messages.stream(params())
    local msg = s:final_message()
    assert.equal(200, got.status)
    assert.equal(msg._request_id, got.request_id)
    c:close()
  end)

  it("refuses hooks that are not functions", function()
    assert.equal("on_request: must be a function (or false: none)",
      raises(support.new_client, { on_request = "x" }).message)
  end)
end)

describe("client:with_options", function()
  before_each(function() mock.clear() end)

  it("shares the core client and its operations, with other defaults", function()
    local parent = support.new_client { default_headers = { ["x-a"] = "1" } }
    local child = parent:with_options { timeout = 0.2, max_retries = 0, default_headers = { ["x-b"] = "2" } }
    assert.equal(parent._core, child._core)
    assert.is_true(getmetatable(child) == getmetatable(parent))
    child.messages.create(params())
    local h = last_request().headers
    assert.equal("1", h["x-a"])
    assert.equal("2", h["x-b"])
    local err = raises(child.messages.create, params(), fault { delay_ms = 1000 })
    assert.equal("Timeout", err.class_name)
    assert.equal("message", parent.messages.create(params(), fault { delay_ms = 300 }).type)
    parent:close()
  end)

  it("polling the parent drives the child's requests, and the child's poll the parent's", function()
    local parent = support.new_client()
    local child = parent:with_options { max_retries = 1 }
    local done = {}
    child.messages.create(params(), { on_done = function(err) done.child = err == nil end })
    parent.messages.create(params(), { on_done = function(err) done.parent = err == nil end })
    assert.equal(2, child:inflight())
    while parent:inflight() > 0 do parent:poll(50) end
    assert.same({ child = true, parent = true }, done)
    parent:close()
  end)

  it("keeps the parent's hooks unless replaced; false removes one", function()
    local calls = {}
    local parent = support.new_client { on_request = function() calls[#calls + 1] = "parent" end }
    local same = parent:with_options { timeout = 30 }
    local other = parent:with_options { on_request = function() calls[#calls + 1] = "other" end }
    local none = parent:with_options { on_request = false }
    same.messages.create(params())
    other.messages.create(params())
    none.messages.create(params())
    assert.same({ "parent", "other" }, calls)
    parent:close()
  end)

  it("closing the child cancels only its requests; closing the parent ends both", function()
    local parent = support.new_client()
    local child = parent:with_options {}
    local results = {}
    child.messages.create(params(), { on_done = function(err) results.child = err end })
    parent.messages.create(params(), { on_done = function(_, msg) results.parent = msg end })
    child:close()
    assert.equal("client closed", results.child.message)
    assert.equal("attempt to use a closed client", raises(child.messages.create, params()).message)
    while parent:inflight() > 0 do parent:poll(50) end
    assert.equal("message", results.parent.type)
    local child2 = parent:with_options {}
    parent:close()
    assert.equal("attempt to use a closed client", raises(child2.messages.create, params()).message)
  end)

  it("refuses what is not a request default", function()
    local parent = support.new_client()
    assert.equal("api_key: unknown option", raises(parent.with_options, parent, { api_key = "x" }).message)
    assert.equal("base_url: unknown option", raises(parent.with_options, parent, { base_url = "x" }).message)
    parent:close()
  end)

  it("works for a platform client too (and keeps its restrictions)", function()
    local c = anthropic.bedrock { region = "us-east-1", access_key_id = "AKIDMOCKBUILD",
      secret_access_key = "mock-aws-secret-build", base_url = mock.url(), max_retries = 0 }
    local child = c:with_options { default_headers = { ["x-amz-meta-x"] = "y" } }
    assert.equal("message", child.messages.create(params()).type)
    assert.equal("y", last_request().headers["x-amz-meta-x"])
    assert.equal("client.models is not available on Amazon Bedrock", raises(function() child.models.list() end).message)
    c:close()
  end)
end)

describe("default_query", function()
  before_each(function() mock.clear() end)

  it("is appended to every URL, escaped", function()
    local c = support.new_client { default_query = { ["api-version"] = "2024 01/x", flag = true } }
    c.messages.create(params())
    assert.equal("api-version=2024%2001%2Fx&flag=true", last_request().query)
    c:close()
  end)

  it("is merged with a path's own query; the path's value wins for the same name", function()
    local c = support.new_client { default_query = { limit = 5, tenant = "t1" } }
    c.models.list { limit = 2 }
    assert.equal("limit=2&tenant=t1", last_request().query)
    c:close()
  end)

  it("a derived client merges its own over its parent's", function()
    local c = support.new_client { default_query = { a = "1", b = "1" } }
    local d = c:with_options { default_query = { b = "2" } }
    d.messages.create(params())
    assert.equal("a=1&b=2", last_request().query)
    c:close()
  end)

  it("refuses what is not a table of scalars", function()
    assert.equal("default_query.x: must be a string, number or boolean",
      raises(support.new_client, { default_query = { x = {} } }).message)
  end)

  it("add_query keeps a fragment last and joins an existing query", function()
    local esc = client_mod.url_escape
    assert.equal("https://h/p?a=1&b=2#f", defaults.add_query("https://h/p?a=1#f", { b = 2 }, esc))
    assert.equal("https://h/p?a=1", defaults.add_query("https://h/p?a=1", { a = 9 }, esc))
    assert.equal("https://h/p?b=%20", defaults.add_query("https://h/p?", { b = " " }, esc))
  end)
end)

describe("ANTHROPIC_CUSTOM_HEADERS", function()
  local rows = {
    { "one header", "X-Gateway: one", { ["X-Gateway"] = "one" } },
    { "lines, CRLF, blanks and spaces trimmed", "A: 1\r\n\n  B :  two words  \n", { A = "1", B = "two words" } },
    { "a colon in the value stays", "X-Url: http://h:1/p", { ["X-Url"] = "http://h:1/p" } },
    { "an empty value", "X-Empty:", { ["X-Empty"] = "" } },
    { "unset", nil, {} },
  }
  for _, row in ipairs(rows) do
    it("parses " .. row[1], function() assert.same(row[3], defaults.custom_headers(row[2])) end)
  end

  it("names the line that is not a header", function()
    assert.equal("ANTHROPIC_CUSTOM_HEADERS: line 2 is not \"Name: value\"",
      raises(defaults.custom_headers, "A: 1\njust text").message)
    assert.equal("ANTHROPIC_CUSTOM_HEADERS: header name \"bad name\" is not a valid token",
      raises(defaults.custom_headers, "bad name: 1").message)
  end)

  it("is sent with every request; --header (default_headers) wins over it; a secret in it is scrubbed", function()
    mock.clear()
    local cli = require("spec.support.cli").run
    local secret = "gw-secret-token-0123456789"
    local _, stderr, code = cli({ "ask", "-m", HAIKU, "--fallback", "", "--header", "X-Two: flag", "Hi" },
      { env = { ANTHROPIC_CUSTOM_HEADERS = "X-One: env\nX-Two: env\nX-Gateway-Token: " .. secret,
        ANTHROPIC_LOG = "debug" } })
    assert.equal(0, code, stderr)
    local h = last_request().headers
    assert.equal("env", h["x-one"])
    assert.equal("flag", h["x-two"])
    assert.equal(secret, h["x-gateway-token"])
    assert.matches("x%-gateway%-token: %[redacted%]", stderr)
    assert.is_nil(stderr:find(secret:sub(4, 20), 1, true))
  end)

  it("a credential-like default header's value is scrubbed from errors like the key", function()
    local secret = "gw-secret-token-0123456789"
    local c = support.new_client { default_headers = { ["x-gateway-token"] = secret } }
    assert.equal("echo [redacted] back", c:_scrub("echo " .. secret .. " back"))
    c:close()
  end)
end)
