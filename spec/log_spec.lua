-- Logging (issue 20): ANTHROPIC_LOG or log_level/logger; one line per request start, retry (the
-- core's delay and cause) and end; headers and bodies at debug with every credential redacted;
-- nothing at all when off.
local anthropic = require "anthropic"
local mock = require "spec.support.mock"
local support = require "spec.support.client"
local log = require "anthropic.log"
local outcome = require "anthropic.outcome"

local HAIKU = "claude-haiku-4-5"
local KEY = mock.KEYS.free
local raises, fault = support.raises, support.fault

local function params(extra)
  local p = { model = HAIKU, max_tokens = 16, messages = { { role = "user", content = "Hi" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

-- A client whose log lines land in `lines` as { level, message, fields }.
local function logged(level, extra)
  local lines = {}
  local o = { log_level = level,
    logger = function(l, m, f) lines[#lines + 1] = { level = l, message = m, fields = f } end }
  for k, v in pairs(extra or {}) do o[k] = v end
  return support.new_client(o), lines
end

local function messages_of(lines)
  local out = {}
  for i, l in ipairs(lines) do out[i] = l.level .. " " .. l.message end
  return out
end

-- Every string anywhere in the lines, for the "no part of a key" checks.
local function all_text(lines)
  local parts = {}
  local function walk(v)
    if type(v) == "table" then for k, x in pairs(v) do walk(k); walk(x) end
    elseif v ~= nil then parts[#parts + 1] = tostring(v) end
  end
  walk(lines)
  return table.concat(parts, "\n")
end

-- No run of 8 characters of `secret` appears in `text`.
local function assert_no_part_of(secret, text)
  for i = 1, #secret - 7 do
    assert.is_nil(text:find(secret:sub(i, i + 7), 1, true), "a part of the secret leaked: " .. secret:sub(i, i + 7))
  end
end

describe("logging", function()
  before_each(function() mock.clear() end)

  it("is off by default: no watch on the client, the request's handler is the plain one", function()
    local c = support.new_client()
    assert.is_nil(c._watch)
    local op = c.messages.create(params(), { on_done = function() end })
    assert.equal(outcome.json_handler, op.handler)
    assert.is_nil(op.trace)
    while not op.done do c:poll(50) end
    c:close()
  end)

  it("when off, a request never enters the hook and log path (only a Messages reply's usage count)", function()
    local observe = require "anthropic.observe"
    local saved = { before = observe.before, started = observe.started, handler = observe.handler }
    local entered = {}
    for name in pairs(saved) do observe[name] = function() entered[#entered + 1] = name end end
    local ok, err = pcall(function()
      local c = support.new_client()
      c.messages.create(params())
      c.messages.stream(params()):final_message()
      c.models.list()
      c.messages.count_tokens(params())
      c:close()
    end)
    for name, fn in pairs(saved) do observe[name] = fn end
    assert.is_true(ok, tostring(err))
    assert.same({}, entered)
  end)

  it("log_level = \"off\" never calls the logger, even around retries and failures", function()
    local c, lines = logged("off", { max_retries = 1 })
    assert.is_nil(c._watch)
    c.messages.create(params(), fault { sequence = { { status = 529, headers = { ["retry-after-ms"] = "5" } } } })
    raises(c.messages.create, params(), fault { status = 400 })
    assert.same({}, lines)
    c:close()
  end)

  it("info: a start line and an end line with status, request id, attempts and ms", function()
    local c, lines = logged("info")
    local msg = c.messages.create(params())
    assert.same({ "info request", "info response" }, messages_of(lines))
    local start, done = lines[1].fields, lines[2].fields
    assert.same({ id = start.id, method = "POST", url = mock.url() .. "/v1/messages" }, start)
    assert.equal(start.id, done.id)
    assert.equal(200, done.status)
    assert.equal(msg._request_id, done.request_id)
    assert.equal(1, done.attempts)
    assert.is_true(type(done.ms) == "number" and done.ms >= 0)
    c:close()
  end)

  it("a logger given alone logs at info", function()
    local lines = {}
    local c = support.new_client { logger = function(l, m) lines[#lines + 1] = l .. " " .. m end }
    c.messages.create(params())
    assert.same({ "info request", "info response" }, lines)
    c:close()
  end)

  it("writes a warn line for each retry with the core's delay and cause", function()
    local c, lines = logged("info", { max_retries = 2 })
    c.messages.create(params(), fault { sequence = {
      { status = 529, headers = { ["retry-after-ms"] = "20" } },
      { status = 500, headers = { ["retry-after-ms"] = "30" } } } })
    assert.same({ "info request", "warn retry", "warn retry", "info response" }, messages_of(lines))
    local id = lines[1].fields.id
    assert.same({ id = id, attempt = 1, delay_ms = 20, reason = "HTTP 529" }, lines[2].fields)
    assert.same({ id = id, attempt = 2, delay_ms = 30, reason = "HTTP 500" }, lines[3].fields)
    assert.equal(3, lines[4].fields.attempts)
    c:close()
  end)

  it("names a stream's in-band error as the cause of its retry", function()
    local c, lines = logged("warn", { max_retries = 1 })
    local s = c.messages.stream(params(), fault { sequence = { { error_after = 0 } } })
    s:final_message()
    assert.same({ "warn retry" }, messages_of(lines))
    assert.equal("stream error overloaded_error", lines[1].fields.reason)
    c:close()
  end)

  it("names a transport failure as the cause of its retry", function()
    local lines = {}
    local c = anthropic.new { api_key = KEY, base_url = mock.dead_url(), max_retries = 1, retry_cap = 0.01,
      logger = function(l, m, f) lines[#lines + 1] = { level = l, message = m, fields = f } end }
    local err = raises(c.messages.create, params())
    assert.equal("ConnectionError", err.class_name)
    assert.same({ "info request", "warn retry", "error failed" }, messages_of(lines))
    assert.equal("connect", lines[2].fields.reason)
    assert.equal(2, lines[3].fields.attempts)
    c:close()
  end)

  it("ends a failed request with an error line carrying the error", function()
    local c, lines = logged("info")
    local err = raises(c.messages.create, params(), fault { status = 400, message = "bad thing" })
    assert.same({ "info request", "error failed" }, messages_of(lines))
    assert.equal(400, lines[2].fields.status)
    assert.equal(tostring(err), lines[2].fields.error)
    assert.equal(err.request_id, lines[2].fields.request_id)
    c:close()
  end)

  it("the caller's own stop ends with an info line \"canceled\", not an error", function()
    local c, lines = logged("info")
    local s = c.messages.stream(params(), fault { event_delay_ms = 200 })
    s:close()
    assert.same({ "info request", "info canceled" }, messages_of(lines))
    c:close()
  end)

  it("warn and error levels leave out the start and end of requests that went well", function()
    local c, lines = logged("error", { max_retries = 1 })
    c.messages.create(params(), fault { sequence = { { status = 529, headers = { ["retry-after-ms"] = "5" } } } })
    assert.same({}, lines)
    raises(c.messages.create, params(), fault { status = 404 })
    assert.same({ "error failed" }, messages_of(lines))
    c:close()
  end)

  it("debug: headers and bodies of both directions, every credential redacted", function()
    local token = "gw-token-0123456789abcdef"
    local c, lines = logged("debug", { default_headers = { ["x-gateway-token"] = token } })
    -- The prompt carries the key: the body logged must not.
    c.messages.create(params { messages = { { role = "user", content = "my key is " .. KEY } } })
    assert.same({ "info request", "debug request headers", "debug request body", "info response",
      "debug response headers", "debug response body" }, messages_of(lines))
    local sent = lines[2].fields.headers
    assert.equal("[redacted]", sent["x-api-key"])
    assert.equal("[redacted]", sent["x-gateway-token"])
    assert.equal("2023-06-01", sent["anthropic-version"])
    assert.matches("my key is %[redacted%]", lines[3].fields.body)
    assert.equal("string", type(lines[6].fields.body))
    assert.is_string(lines[5].fields.headers["request-id"])
    -- Rate-limit headers count tokens; they carry none.
    assert.matches("^%d+$", lines[5].fields.headers["anthropic-ratelimit-requests-limit"] or "0")
    local text = all_text(lines)
    assert_no_part_of(KEY, text)
    assert_no_part_of(token, text)
    c:close()
  end)

  it("debug with an auth token: Authorization is redacted whole", function()
    local lines = {}
    local c = anthropic.new { auth_token = "sk-ant-mock-build", base_url = mock.url(), log_level = "debug",
      logger = function(l, m, f) lines[#lines + 1] = { level = l, message = m, fields = f } end }
    pcall(c.messages.create, params())
    assert.equal("[redacted]", lines[2].fields.headers.authorization)
    assert_no_part_of("sk-ant-mock-build", all_text(lines))
    c:close()
  end)

  it("a Bedrock client logs too: the SigV4 Authorization and the session token redacted", function()
    local lines = {}
    local secret, session = "mock-aws-secret-build", "mock-session-token-abcdef123456"
    local c = anthropic.bedrock { region = "us-east-1", access_key_id = "AKIDMOCKBUILD",
      secret_access_key = secret, session_token = session, base_url = mock.url(), max_retries = 0,
      log_level = "debug", logger = function(l, m, f) lines[#lines + 1] = { level = l, message = m, fields = f } end }
    pcall(c.messages.create, params())
    assert.equal("info request", messages_of(lines)[1])
    local sent = lines[2].fields.headers
    assert.equal("[redacted]", sent.authorization)
    assert.equal("[redacted]", sent["x-amz-security-token"])
    local text = all_text(lines)
    assert_no_part_of(secret, text)
    assert_no_part_of(session, text)
    c:close()
  end)

  it("a Vertex client logs too, its bearer token redacted, on a derived client as well", function()
    local lines = {}
    local token = "ya29.mock-vertex-build"
    local c = anthropic.vertex { project_id = "mock-project", region = "us-east5", access_token = token,
      base_url = mock.url(), max_retries = 0 }
    local child = c:with_options { log_level = "debug",
      logger = function(l, m, f) lines[#lines + 1] = { level = l, message = m, fields = f } end }
    local msg = child.messages.create { model = "claude-haiku-4-5@20251001", max_tokens = 16,
      messages = { { role = "user", content = "Hi" } } }
    assert.equal("message", msg.type)
    assert.equal("[redacted]", lines[2].fields.headers.authorization)
    assert_no_part_of(token, all_text(lines))
    c:close()
  end)

  it("the ids of a derived client's lines continue its parent's", function()
    local c, lines = logged("info")
    local child = c:with_options { timeout = 30 }
    c.messages.create(params())
    child.messages.create(params())
    assert.same({ 1, 1, 2, 2 }, { lines[1].fields.id, lines[2].fields.id, lines[3].fields.id, lines[4].fields.id })
    c:close()
  end)

  it("an error in the logger does not fail the request: the line goes to stderr with it", function()
    local written = {}
    local real = io.stderr
    -- luacheck: ignore 122
    io.stderr = { write = function(_, ...) for _, s in ipairs { ... } do written[#written + 1] = s end end }
    local ok, res = pcall(function()
      local c = support.new_client { log_level = "info", logger = function() error("logger broke") end }
      local msg = c.messages.create(params())
      c:close()
      return msg
    end)
    io.stderr = real -- luacheck: ignore 122
    assert.is_true(ok, tostring(res))
    assert.equal("message", res.type)
    local text = table.concat(written)
    assert.matches("anthropic info request id=%d+ method=POST", text)
    assert.matches("logger_error=\"[^\"]*logger broke\"", text)
  end)

  it("refuses a log_level it does not know, and a logger that is not a function", function()
    assert.equal("log_level: must be one of \"debug\", \"info\", \"warn\", \"error\", \"off\", got \"verbose\"",
      raises(support.new_client, { log_level = "verbose" }).message)
    assert.equal("logger: must be a function(level, message, fields)",
      raises(support.new_client, { logger = "stderr" }).message)
  end)
end)

describe("anthropic.log", function()
  it("formats a line: level, message, then the fields in a fixed order", function()
    assert.equal('anthropic warn retry id=3 attempt=1 delay_ms=20 reason="HTTP 529"',
      log.format("warn", "retry", { reason = "HTTP 529", delay_ms = 20, attempt = 1, id = 3 }))
    assert.equal('anthropic debug request headers id=1 headers={accept: x, b: "q"}',
      log.format("debug", "request headers", { id = 1, headers = { b = '"q"', accept = "x" } }))
  end)

  it("knows which headers carry a credential (and that rate-limit token counts do not)", function()
    local rows = {
      { "Authorization", true }, { "x-api-key", true }, { "X-Amz-Security-Token", true },
      { "x-litellm-api-key", true }, { "x-auth-token", true }, { "cookie", true }, { "x-client-secret", true },
      { "anthropic-ratelimit-tokens-remaining", false }, { "anthropic-version", false },
      { "content-type", false }, { "x-amz-date", false }, { "request-id", false },
    }
    for _, row in ipairs(rows) do assert.equal(row[2], log.secret_header(row[1]), row[1]) end
  end)

  it("redacts signature-like query values of a URL", function()
    local c = support.new_client()
    assert.equal("https://h/p?X-Amz-Signature=[redacted]&a=1&token=[redacted]",
      log.url(c, "https://h/p?X-Amz-Signature=abc&a=1&token=t0k"))
    c:close()
  end)

  it("cuts a body longer than MAX_BODY and says how long it was", function()
    local c = support.new_client()
    local body = string.rep("x", log.MAX_BODY + 10)
    local out = log.body(c, body)
    assert.equal(string.rep("x", log.MAX_BODY) .. "... (" .. #body .. " bytes in all)", out)
    c:close()
  end)

  it("log.new: the option wins over ANTHROPIC_LOG; an unknown ANTHROPIC_LOG is ignored with a warning", function()
    local lines = {}
    local function logger(l, m, f) lines[#lines + 1] = { l, m, f } end
    assert.equal(log.LEVELS.error, log.new({ log_level = "error" }, "debug").level)
    assert.equal(log.LEVELS.debug, log.new({}, "debug").level)
    assert.is_nil(log.new({ log_level = "off" }, "debug"))
    assert.is_nil(log.new({}, "off"))
    assert.is_nil(log.new({}, nil))
    assert.is_nil(log.new({ logger = logger }, "loud"), "an unknown level turns nothing on, logger or not")
    assert.same({ { "warn", "ANTHROPIC_LOG ignored",
      { value = "loud", expected = "debug, info, warn, error or off" } } }, lines)
  end)
end)

describe("ANTHROPIC_LOG", function()
  local cli = require("spec.support.cli").run

  it("turns on the log lines of the CLI, on stderr, scrubbed", function()
    mock.clear()
    local stdout, stderr, code = cli({ "ask", "-m", HAIKU, "--fallback", "", "Hi" },
      { env = { ANTHROPIC_LOG = "info" } })
    assert.equal(0, code, stderr)
    local url = mock.url():gsub("%p", "%%%0")
    assert.matches("anthropic info request id=1 method=POST url=" .. url .. "/v1/messages", stderr)
    assert.matches("anthropic info response id=1 status=200 request_id=req_[%w_]+ attempts=1 ms=%d+", stderr)
    assert.is_nil(stdout:find("anthropic info", 1, true))
  end)

  it("is read by anthropic.new from the environment", function()
    local lua = mock.lua()
    local script = string.format([[
      package.path = %q; package.cpath = %q
      local c = require("anthropic").new { api_key = %q, base_url = %q }
      c.messages.create { model = "claude-haiku-4-5", max_tokens = 8, messages = { { role = "user", content = "Hi" } } }
    ]], package.path, package.cpath, KEY, mock.url())
    local path = os.tmpname()
    local f = assert(io.open(path, "w")); f:write(script); f:close()
    local p = io.popen("ANTHROPIC_LOG=warn ANTHROPIC_CUSTOM_HEADERS= " .. lua .. " " .. path .. " 2>&1; "
      .. "ANTHROPIC_LOG=info " .. lua .. " " .. path .. " 2>&1")
    local out = p:read("*a")
    p:close()
    os.remove(path)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l:match("^anthropic %a+ %a+") end
    assert.same({ "anthropic info request", "anthropic info response" }, lines, out)
    assert_no_part_of(KEY, out)
  end)
end)
