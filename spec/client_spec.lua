-- The core client against the mock: configuration, headers on the wire, JSON round trips,
-- the error table, bad input, connection reuse and the client's lifecycle (issue 3).

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local run = require "spec.support.run"
local support = require "spec.support.client"

local errors = anthropic.errors
local FREE, BUILD = "sk-ant-mock-free", "sk-ant-mock-build"
local HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-6"

local function params(extra)
  local p = { model = HAIKU, max_tokens = 32, messages = { { role = "user", content = "Hello" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local new_client = support.new_client

local raises = support.raises

describe("anthropic.new", function()
  it("refuses to start without credentials and says what to set", function()
    local out, code = run.lua([[
      local ok, err = pcall(require("anthropic").new, {})
      io.write(tostring(err))
    ]], { ANTHROPIC_API_KEY = "", ANTHROPIC_AUTH_TOKEN = "" })
    assert.are.equal(0, code)
    assert.are.equal("UsageError: api_key: no credentials: set ANTHROPIC_API_KEY (or pass api_key = ...), "
      .. "or ANTHROPIC_AUTH_TOKEN (or auth_token = ...) for Authorization: Bearer", out)
  end)

  it("reads ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL (path prefix kept) from the environment", function()
    mock.clear()
    local out, code = run.lua([[
      local c = require("anthropic").new{ max_retries = 0 }
      local m = c.messages.create{ model = "claude-haiku-4-5", max_tokens = 8,
        messages = { { role = "user", content = "hi" } } }
      io.write(m.type)
    ]], { ANTHROPIC_API_KEY = FREE, ANTHROPIC_BASE_URL = mock.url() .. "/gateway/x" })
    assert.are.equal(0, code, out)
    assert.are.equal("message", out)
    local log = mock.requests()
    assert.are.equal(1, #log)
    assert.are.equal("/gateway/x/v1/messages", log[1].path)
    assert.are.equal("x-api-key", log[1].auth)
  end)

  it("sends ANTHROPIC_AUTH_TOKEN as Authorization: Bearer", function()
    mock.clear()
    local out, code = run.lua([[
      local c = require("anthropic").new{ max_retries = 0 }
      local ok, err = pcall(c.messages.create, { model = "claude-haiku-4-5", max_tokens = 8,
        messages = { { role = "user", content = "hi" } } })
      io.write(ok and "ok" or err.class_name)
    ]], { ANTHROPIC_API_KEY = "", ANTHROPIC_AUTH_TOKEN = FREE, ANTHROPIC_BASE_URL = mock.url() })
    assert.are.equal(0, code, out)
    local log = mock.requests()
    assert.are.equal("bearer", log[1].auth)
    assert.are.equal("***", log[1].headers.authorization)
    assert.is_nil(log[1].headers["x-api-key"])
  end)

  local bad = {
    { { api_key = 42 }, "api_key: must be a non-empty string" },
    { { api_key = "a\nb" }, "api_key: must not contain CR, LF or NUL" },
    { { api_key = FREE, base_url = "ftp://example.com" },
      'base_url: must be an http:// or https:// URL, got "ftp://example.com"' },
    { { api_key = FREE, base_url = "api.anthropic.com" },
      'base_url: must be an http:// or https:// URL, got "api.anthropic.com"' },
    { { api_key = FREE, timeout = -1 }, "timeout: must be a number of seconds > 0 and at most 31536000" },
    { { api_key = FREE, max_retries = 1.5 }, "max_retries: must be an integer from 0 to 100" },
    { { api_key = FREE, default_headers = { ["x-a"] = "1\r\nx-b: 2" } },
      "default_headers.x-a: header value must not contain CR, LF or NUL" },
    { { api_key = FREE, default_headers = { ["bad name"] = "1" } },
      'default_headers: header name "bad name" is not a valid token' },
    { { api_key = FREE, max_retry = 3 }, "max_retry: unknown option" },
  }
  for _, row in ipairs(bad) do
    it("rejects " .. row[2], function()
      local err = raises(anthropic.new, row[1])
      assert.is_true(err:is(errors.UsageError))
      assert.are.equal(row[2], err.message)
    end)
  end
end)

describe("client.messages.create", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("sends the API's headers and returns the decoded Message", function()
    local msg = client.messages.create(params())
    assert.are.equal("message", msg.type)
    assert.are.equal("assistant", msg.role)
    assert.are.equal(HAIKU, msg.model)
    assert.are.equal("text", msg.content[1].type)
    local req = mock.requests()[1]
    assert.are.equal("POST", req.method)
    assert.are.equal("/v1/messages", req.path)
    assert.are.equal("***", req.headers["x-api-key"])
    assert.are.equal("2023-06-01", req.headers["anthropic-version"])
    assert.are.equal("application/json", req.headers["content-type"])
    assert.are.equal("application/json", req.headers["accept"])
    local ua = req.headers["user-agent"]
    assert.truthy(ua:match("^lua%-anthropic/%d+%.%d+%.%d+ %(.*Lua.*; libcurl [%d.]+%)$"), ua)
    assert.is_nil(req.headers.expect)
  end)

  it("exposes request-id and the rate-limit headers of the reply", function()
    local msg = client.messages.create(params())
    assert.truthy(msg._request_id:match("^req_"))
    local h = msg._response.headers
    assert.are.equal(msg._request_id, h["request-id"])
    assert.truthy(tonumber(h["anthropic-ratelimit-requests-remaining"]))
    assert.are.equal(200, msg._response.status)
    assert.are.equal(1, msg._response.attempts)
    -- metadata is not part of the JSON: re-encoding the message leaves it out
    assert.is_nil(cjson.decode(anthropic.json.encode(msg))._request_id)
  end)

  it("gives the reply's headers as a read-only view: any case, a plain copy, pairs on 5.2+", function()
    local msg = client.messages.create(params())
    local h = msg._response.headers
    assert.are.equal("table", type(h))
    assert.are.equal(h["request-id"], h["Request-ID"])
    assert.is_nil(h["x-no-such-header"])
    assert.is_nil(h[1])
    local ok, err = pcall(function() h["request-id"] = "forged" end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("response headers are read-only", 1, true))
    assert.are.equal(msg._request_id, h["request-id"])
    local copy = h()
    assert.are.equal(msg._request_id, copy["request-id"])
    assert.is_nil(copy["Request-ID"])           -- a plain table: lowercased names
    copy["request-id"] = "mine"                  -- the copy is the caller's
    assert.are.equal(msg._request_id, h["request-id"])
    if _VERSION ~= "Lua 5.1" then
      local n = 0
      for name, value in pairs(h) do
        n = n + 1
        assert.are.equal(h[name], value)
      end
      assert.is_true(n > 3)
    end
  end)

  it("keeps JSON types across the round trip", function()
    local p = params {
      messages = { { role = "user", content = "héllo ✓ 日本語 \240\159\152\128" } },
      tools = {}, stop_sequences = {},
      metadata = { user_id = "u-1" },
      temperature = 0.5,
    }
    local msg = client.messages.create(p)
    local sent = mock.requests()[1].body
    assert.truthy(sent:find('"tools":[]', 1, true), sent)
    assert.truthy(sent:find('"stop_sequences":[]', 1, true), sent)
    assert.truthy(sent:find('"max_tokens":32', 1, true), sent)
    assert.truthy(sent:find("héllo ✓ 日本語 \240\159\152\128", 1, true), sent)
    local decoded = cjson.decode(sent)
    assert.are.equal(0.5, decoded.temperature)
    if math.type then
      assert.are.equal("integer", math.type(msg.usage.input_tokens))
      assert.are.equal("integer", math.type(msg.usage.output_tokens))
    end
    assert.are.equal(anthropic.null, msg.stop_sequence)
  end)

  it("encodes empty lists as [] and marked empty objects as {}", function()
    local body = require("anthropic.messages").body {
      model = HAIKU, max_tokens = 1, messages = {},
      system = {}, tools = { { name = "t", input_schema = { type = "object", properties = {} } } },
      metadata = {},
    }
    local d = cjson.decode(body)
    assert.are.equal("[]", cjson.encode(d.messages):gsub("{}", "[]"))
    assert.truthy(body:find('"messages":[]', 1, true), body)
    assert.truthy(body:find('"system":[]', 1, true), body)
    assert.truthy(body:find('"properties":{}', 1, true), body)
    assert.truthy(body:find('"metadata":{}', 1, true), body)
    local forced = anthropic.json.encode { a = anthropic.array(), b = anthropic.object(), content = anthropic.object() }
    assert.are.same({ a = "[]", b = "{}", content = "{}" }, {
      a = forced:match('"a":(%S%S)'), b = forced:match('"b":(%S%S)'), content = forced:match('"content":(%S%S)') })
  end)

  it("sends JSON null for anthropic.null", function()
    client.messages.create(params { metadata = { user_id = anthropic.null } })
    assert.truthy(mock.requests()[1].body:find('"metadata":{"user_id":null}', 1, true))
  end)
end)

describe("errors", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  -- status, error.type in the body, expected class, retryable?
  local rows = {
    { 401, "authentication_error", "AuthenticationFailed", false },
    { 403, "permission_error", "PermissionDenied", false },
    { 400, "invalid_request_error", "BadRequest", false },
    { 402, "billing_error", "BillingError", false },
    { 404, "not_found_error", "NotFound", false },
    { 409, nil, "Conflict", true },
    { 413, "request_too_large", "RequestTooLarge", false },
    { 422, nil, "UnprocessableEntity", false },
    { 429, "rate_limit_error", "RateLimited", true },
    { 500, "api_error", "InternalServerError", true },
    { 503, nil, "InternalServerError", true },
    { 504, "timeout_error", "GatewayTimeout", true },
    { 529, "overloaded_error", "Overloaded", true },
    { 418, nil, "APIStatusError", false },
    { 500, "overloaded_error", "Overloaded", true },   -- error.type wins over the status
  }
  for _, row in ipairs(rows) do
    local status, etype, class, retryable = row[1], row[2], row[3], row[4]
    it(string.format("%d %s -> %s (retryable: %s)", status, tostring(etype), class, tostring(retryable)), function()
      -- Without an error.type (e.g. a gateway's plain-text reply) the class comes from the status.
      local fault = { sequence = { { status = status, body = "upstream said no" } } }
      if etype then fault = { sequence = { { status = status, error_type = etype, message = "scripted" } } } end
      local err = raises(client.messages.create, params(), { headers = { ["x-mock-fault"] = cjson.encode(fault) } })
      assert.are.equal(class, err.class_name)
      assert.is_true(err:is(errors[class]))
      assert.is_true(err:is(errors.APIStatusError))
      assert.is_true(err:is(errors.APIError))
      assert.is_true(err:is(errors.AnthropicError))
      assert.are.equal(status, err.status)
      assert.are.equal(retryable, err.retryable)
      if etype then assert.are.equal(etype, err.type) end
      assert.truthy(err.request_id and err.request_id:match("^req_"), "request_id")
      assert.are.equal(err.request_id, err.headers["request-id"])
      if not etype then assert.are.equal("upstream said no", err.body) end
      assert.are.equal(1, err.attempts)
      local line = tostring(err)
      assert.truthy(line:find("^" .. class .. ": " .. status), line)
      assert.truthy(line:find(err.request_id, 1, true), line)
      assert.is_nil(line:find("\n"))
    end)
  end

  it("AuthenticationFailed (401) and PermissionDenied (403) come from the key tiers", function()
    local bad_key = new_client { api_key = "sk-ant-wrong" }
    local e401 = raises(bad_key.messages.create, params())
    bad_key:close()
    local e403 = raises(client.messages.create, params { model = SONNET })
    assert.are.equal("AuthenticationFailed", e401.class_name)
    assert.are.equal("authentication_error", e401.type)
    assert.are.equal(401, e401.status)
    assert.are.equal("PermissionDenied", e403.class_name)
    assert.are.equal("permission_error", e403.type)
    assert.are.equal(403, e403.status)
    assert.is_false(e401:is(errors.PermissionDenied))
    assert.is_false(e403:is(errors.AuthenticationFailed))
    assert.is_true(errors.PermissionDenied.is_class_of(e403))
    assert.is_false(errors.PermissionDenied.is_class_of("permission_error"))
    -- the same 403 key is fine for Haiku, and a higher tier is fine for Sonnet
    assert.are.equal("message", client.messages.create(params()).type)
    local build = new_client { api_key = BUILD }
    assert.are.equal(SONNET, build.messages.create(params { model = SONNET }).model)
    build:close()
  end)

  it("an unknown model is NotFound naming it", function()
    local err = raises(client.messages.create, params { model = "claude-nope-1" })
    assert.are.equal("NotFound", err.class_name)
    assert.truthy(err.message:find("claude-nope-1", 1, true), err.message)
  end)

  it("an error status whose body is not JSON keeps the raw text and the class by status", function()
    local err = raises(client.messages.create, params(),
      { headers = { ["x-mock-fault"] = cjson.encode { status = 502, not_json = true } } })
    assert.are.equal("InternalServerError", err.class_name)
    assert.are.equal(502, err.status)
    assert.are.equal("string", type(err.body))
    assert.is_true(#err.body > 0)
    assert.truthy(err.message:find(err.body:sub(1, 20), 1, true))
  end)

  it("a refused connection is a ConnectionError", function()
    local c = anthropic.new { api_key = FREE, base_url = "http://127.0.0.1:9", max_retries = 0 }
    local err = raises(c.messages.create, params())
    assert.are.equal("ConnectionError", err.class_name)
    assert.is_true(err:is(errors.ConnectionError))
    assert.is_false(err:is(errors.APIError))
    assert.are.equal("connect", err.transport)
    assert.truthy(err.message:find("127.0.0.1", 1, true), err.message)
    c:close()
  end)

  it("never shows the key in tostring, message or fields", function()
    local key = "sk-ant-secret-should-never-print-0123456789"
    local c = anthropic.new { api_key = key, base_url = mock.url(), max_retries = 0 }
    local err = raises(c.messages.create, params())
    assert.are.equal("AuthenticationFailed", err.class_name)
    local seen = {}
    local function walk(v)
      if type(v) == "string" then assert.is_nil(v:find(key, 1, true), v) end
      if type(v) == "table" and not seen[v] then
        seen[v] = true
        for k, x in pairs(v) do walk(k); walk(x) end
      end
    end
    walk(err)
    walk(c)
    assert.is_nil(tostring(err):find(key, 1, true))
    assert.is_nil(tostring(c):find(key, 1, true))
    c:close()
  end)
end)

describe("the error classes", function()
  local core = require "anthropic.core"

  it("are built from the core's kind table, parent, status, type and retryable included", function()
    local kinds = core.kinds()
    assert.is_true(#kinds >= 17)
    for _, k in ipairs(kinds) do
      local class = errors[k.name]
      assert.is_table(class, k.name)
      assert.are.equal(errors[k.parent], class.parent, k.name .. "'s parent")
      assert.are.equal(k.status, class.default_status, k.name .. "'s status")
      assert.are.equal(k.type, class.error_type, k.name .. "'s error type")
      assert.are.equal(k.retryable, class.retryable, k.name .. "'s retryable")
    end
    -- Lua adds only the roots and what C cannot know.
    local from_c = {}
    for _, k in ipairs(kinds) do from_c[k.name] = true end
    local lua_only = {}
    for _, class in ipairs(errors.classes) do
      if not from_c[class.class_name] then lua_only[#lua_only + 1] = class.class_name end
    end
    table.sort(lua_only)
    assert.are.same({ "APIError", "AnthropicError", "HookError", "ParseError", "UsageError" }, lua_only)
  end)

  it("is_class_of works with a dot and with a colon", function()
    local err = errors.new(errors.PermissionDenied, { message = "no" })
    assert.is_true(errors.PermissionDenied.is_class_of(err))
    assert.is_true(errors.PermissionDenied:is_class_of(err))
    assert.is_true(errors.APIStatusError:is_class_of(err))
    assert.is_true(errors.AnthropicError.is_class_of(err))
    assert.is_false(errors.NotFound:is_class_of(err))
    assert.is_false(errors.NotFound.is_class_of(err))
    assert.is_false(errors.PermissionDenied:is_class_of({}))
    assert.is_false(errors.PermissionDenied:is_class_of("PermissionDenied"))
    assert.is_false(errors.PermissionDenied.is_class_of(errors.PermissionDenied))
    assert.is_false(errors.PermissionDenied:is_class_of(nil))
  end)
end)

describe("bad input", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  local rows = {
    { params { messages = "hi" }, nil, "messages: must be a list (a table with items 1..n)" },
    -- one key only: with two, which one pairs() meets first differs between runs (5.4 seeds
    -- its string hashes per state) and under ASan
    { params { messages = { content = "hi" } }, nil,
      "messages: must be a list (a table with items 1..n), found key content" },
    { params { max_tokens = 0 }, nil, "max_tokens: must be a positive integer" },
    { params { max_tokens = -5 }, nil, "max_tokens: must be a positive integer" },
    { params { max_tokens = 1.5 }, nil, "max_tokens: must be a positive integer" },
    { params { max_tokens = "10" }, nil, "max_tokens: must be a positive integer" },
    { params { model = false }, nil, "model: must be a non-empty string" },
    { params { model = 7 }, nil, "model: must be a non-empty string" },
    { params(), { headers = { ["x-ok"] = "a\r\nx-injected: 1" } },
      "options.headers.x-ok: header value must not contain CR, LF or NUL" },
    { params(), { headers = { ["x-bad\nname"] = "v" } },
      'options.headers: header name "x-bad\\\nname" is not a valid token' },
    { params(), { timeout = 0 / 0 }, "options.timeout: must be a number of seconds > 0 and at most 31536000" },
    { params { messages = { { role = "user", content = "bad \255 byte" } } }, nil,
      "messages[1].content: invalid UTF-8 at byte 5" },
    { params { metadata = { f = function() end } }, nil, "metadata.f: cannot encode a function as JSON" },
  }
  local p_missing_model = params()
  p_missing_model.model = nil
  table.insert(rows, { p_missing_model, nil, "model: must be a non-empty string" })

  for _, row in ipairs(rows) do
    it("raises UsageError " .. row[3]:gsub("\n", "\\n"), function()
      local err = raises(client.messages.create, row[1], row[2])
      assert.is_true(err:is(errors.UsageError), tostring(err))
      assert.are.equal(row[3], err.message)
      assert.are.equal(0, #mock.requests(), "nothing may be sent")
      assert.are.equal("message", client.messages.create(params()).type)
    end)
  end
end)

describe("connections and lifecycle", function()
  it("100 sequential calls on one client use one TCP connection", function()
    local client = new_client()
    mock.clear()
    for _ = 1, 100 do client.messages.create(params { max_tokens = 4 }) end
    local log = mock.requests()
    assert.are.equal(100, #log)
    local ids = {}
    for _, r in ipairs(log) do ids[r.connection] = true end
    local n = 0
    for _ in pairs(ids) do n = n + 1 end
    assert.are.equal(1, n)
    client:close()
  end)

  it("two clients share no connection", function()
    local a, b = new_client(), new_client()
    mock.clear()
    a.messages.create(params())
    b.messages.create(params())
    a.messages.create(params())
    local log = mock.requests()
    assert.are.equal(log[1].connection, log[3].connection)
    assert.are_not.equal(log[1].connection, log[2].connection)
    a:close()
    b:close()
  end)

  it("a closed client raises 'attempt to use a closed client', and close is idempotent", function()
    local client = new_client()
    client:close()
    client:close()
    local err = raises(client.messages.create, params())
    assert.is_true(err:is(errors.UsageError))
    assert.are.equal("attempt to use a closed client", err.message)
    err = raises(client.poll, client, 0)
    assert.are.equal("attempt to use a closed client", err.message)
    assert.truthy(tostring(client):find("closed", 1, true))
  end)

  it("collecting an unreferenced client with a request in flight frees it", function()
    local client = new_client()
    client.messages.create(params(), { on_done = function() end })
    client = nil   -- luacheck: ignore 311
    collectgarbage()
    collectgarbage()
    -- the process is still healthy and a new client works
    local c2 = new_client()
    assert.are.equal("message", c2.messages.create(params()).type)
    c2:close()
  end)
end)
