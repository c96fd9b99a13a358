-- The API key and auth token never show (issue 9): not in any error (tostring, message, body,
-- headers, request id, partial message), not even when a server or proxy echoes them back in
-- its reply; not in tostring(client) or anything reachable from the client table; not in the
-- mock's request log; not in anything the anthropic-lua CLI prints.
--
-- The echoing server is a second mock started with a config file (spec.support.mock.spawn):
-- the secret is one of its keys, and config faults (matched by model) put the secret into an
-- error message, a JSON body field, a raw (non-JSON) body, response headers and a stream
-- `event: error`. Config faults are used rather than x-mock-fault so that the secret never
-- travels in a request header of ours.

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local run = require "spec.support.run"
local support = require "spec.support.client"
local reach = require "spec.support.reach"

local KEY = "sk-ant-api03-SECRETkey-7f3c9a1e5b2d4c6e8f0a1b3c5d7e9f1a-XyZzY"
local TOKEN = "sk-ant-oat01-SECRETtoken-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d-QqQ"
-- Every place reachable from v (spec.support.reach) where a string contains `secret`.
local function leaks(v, secret)
  local found = {}
  reach.strings(v, function(s, path)
    if s:find(secret, 1, true) then found[#found + 1] = path end
  end)
  return found
end

local function assert_clean(v, what, secret)
  local found = leaks(v, secret)
  assert.are.same({}, found, what .. " holds the secret at " .. table.concat(found, ", "))
end

local function assert_no_secret(text, what, secret)
  assert.is_nil(tostring(text):find(secret, 1, true), what .. " shows the secret: " .. tostring(text))
end

local raises = support.raises

local function write_file(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- The echoing mock: models echo-* exist for every key; a config fault per model.
local ECHO_MODELS = { "echo-message", "echo-json", "echo-raw", "echo-headers", "echo-stream", "echo-401" }
local function echo_config()
  local models = {}
  for _, id in ipairs(ECHO_MODELS) do models[#models + 1] = { id = id, tier = "free" } end
  local json_body = cjson.encode {
    type = "error", request_id = "req_echo_1",
    error = { type = "invalid_request_error", message = "bad request" },
    echo = { received = { ["x-api-key"] = KEY, authorization = "Bearer " .. TOKEN }, list = { KEY } },
  }
  return cjson.encode {
    keys = { [KEY] = { tier = "scale" }, [TOKEN] = { tier = "scale" } },
    models = models,
    faults = {
      { model = "echo-message", status = 400, message = "invalid key: " .. KEY .. " / " .. TOKEN },
      { model = "echo-json", status = 400, body = json_body },
      { model = "echo-raw", status = 502,
        body = "<html>upstream refused key " .. KEY .. " token " .. TOKEN .. "</html>" },
      { model = "echo-headers", status = 429, headers = { ["x-echo-key"] = KEY, ["x-echo-token"] = "Bearer " .. TOKEN,
        ["request-id"] = "req_" .. KEY .. "_" .. TOKEN, ["retry-after"] = "0" } },
      { model = "echo-stream", error_after = 2, error_type = "invalid_request_error",
        message = "stream refused for " .. KEY .. " / " .. TOKEN },
      { model = "echo-401", status = 401, message = "key " .. KEY .. " / " .. TOKEN .. " is revoked" },
    },
  }
end

describe("secrets", function()
  local echo, config_path

  setup(function()
    config_path = os.tmpname()
    write_file(config_path, echo_config())
    echo = mock.spawn { "--config", config_path }
  end)
  teardown(function()
    if echo then echo.stop() end
    os.remove(config_path)
  end)
  -- Each config fault answers once per mock.clear (its sequence restarts there).
  before_each(function() mock.clear(echo.url) end)

  -- A client holding `secret` as its API key or as its auth token.
  local function client(auth, secret)
    local opts = { base_url = echo.url, max_retries = 0 }
    opts[auth] = secret
    return anthropic.new(opts)
  end
  local AUTHS = { { "api_key", KEY }, { "auth_token", TOKEN } }

  local function params(model)
    return { model = model or "claude-haiku-4-5", max_tokens = 16, messages = { { role = "user", content = "hi" } } }
  end

  it("the echoing mock really does echo the secrets (so the rows below can fail)", function()
    local status, body = mock.json_request("POST", "/v1/messages", params("echo-message"), { ["x-api-key"] = KEY },
      { url = echo.url })
    assert.are.equal(400, status)
    assert.truthy(cjson.encode(body):find(KEY, 1, true))
    assert.truthy(cjson.encode(body):find(TOKEN, 1, true))
  end)

  -- { label, model, expected class }
  local rows = {
    { "error.message echoes the key and token", "echo-message", "BadRequest" },
    { "a JSON error body echoes them in other fields", "echo-json", "BadRequest" },
    { "a non-JSON error body echoes them", "echo-raw", "InternalServerError" },
    { "response headers and the request id echo them", "echo-headers", "RateLimited" },
    { "a 401 names the key", "echo-401", "AuthenticationFailed" },
  }
  for _, row in ipairs(rows) do
    for _, a in ipairs(AUTHS) do
      it(row[1] .. " (" .. a[1] .. ")", function()
        local c = client(a[1], a[2])
        local err = raises(c.messages.create, params(row[2]))
        assert.are.equal(row[3], err.class_name)
        assert_no_secret(tostring(err), "tostring(err)", a[2])
        assert_no_secret(err.message, "err.message", a[2])
        assert_clean(err, "the error object", a[2])
        c:close()
      end)
    end
  end

  for _, a in ipairs(AUTHS) do
    it("an event: error mid-stream echoes the secret: the StreamError and its partial are clean (" .. a[1] .. ")",
      function()
        local c = client(a[1], a[2])
        local s = c.messages.stream(params("echo-stream"))
        local err = raises(function() for _ in s:events() do end end)
        assert.are.equal("StreamError", err.class_name)
        assert.is_table(err.partial)
        assert_no_secret(tostring(err), "tostring(err)", a[2])
        assert_clean(err, "the stream error", a[2])
        c:close()
      end)

    it("a non-blocking request hands on_done a clean error (" .. a[1] .. ")", function()
      local c = client(a[1], a[2])
      local got
      c.messages.create(params("echo-json"), { on_done = function(err) got = err end })
      while c:poll(50) > 0 do end
      assert.are.equal("BadRequest", got.class_name)
      assert_clean(got, "on_done's error", a[2])
      c:close()
    end)

    it("tostring(client) and everything reachable from the client table hold no secret (" .. a[1] .. ")", function()
      local c = client(a[1], a[2])
      assert_no_secret(tostring(c), "tostring(client)", a[2])
      assert_clean(c, "the client", a[2])
      local msg = c.messages.create(params())
      assert.are.equal("message", msg.type)
      assert_clean(msg, "the result", a[2])
      c.messages.stream(params()):final_message()
      assert_no_secret(tostring(c), "tostring(client) after requests", a[2])
      assert_clean(c, "the client after requests", a[2])
      c:close()
      assert_no_secret(tostring(c), "tostring(closed client)", a[2])
    end)
  end

  it("a wrong key is not echoed in the 401", function()
    local wrong = "sk-ant-wrong-" .. KEY:sub(-20)
    local c = client("api_key", wrong)
    local err = raises(c.messages.create, params())
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert_clean(err, "the 401", wrong)
    assert_no_secret(tostring(err), "tostring(err)", wrong)
    c:close()
  end)

  it("a bad key value is refused without echoing it", function()
    local err = raises(anthropic.new, { api_key = KEY .. "\r\n", base_url = echo.url })
    assert.are.equal("api_key: must not contain CR, LF or NUL", err.message)
    assert_clean(err, "the UsageError", KEY)
  end)

  it("the mock's request log masks the key and the token", function()
    local a = client("api_key", KEY)
    a.messages.create(params())
    a.messages.count_tokens(params())
    a.messages.stream(params()):final_message()
    local b = client("auth_token", TOKEN)
    b.messages.create(params())
    local log = mock.requests(echo.url)
    assert.are.equal(4, #log)
    assert.are.equal("***", log[1].headers["x-api-key"])
    assert.are.equal("x-api-key", log[1].auth)
    assert.are.equal("***", log[4].headers.authorization)
    assert.are.equal("bearer", log[4].auth)
    local _, _, raw = mock.request("GET", "/_mock/requests", {}, nil, { url = echo.url })
    assert_no_secret(raw, "GET /_mock/requests", KEY)
    assert_no_secret(raw, "GET /_mock/requests", TOKEN)
    a:close()
    b:close()
  end)

  describe("the anthropic-lua CLI", function()
    local cli = mock.root() .. "/bin/anthropic-lua"
    local has_cli = io.open(cli, "r")
    if has_cli then has_cli:close() end

    local function run_cli(args, env)
      local parts = {}
      for _, a in ipairs(args) do parts[#parts + 1] = run.quote(a) end
      return run.command(run.interpreter() .. " " .. run.quote(cli) .. " " .. table.concat(parts, " ")
        .. " </dev/null", env)
    end

    local function ask(model, ...)
      return { "ask", "--max-retries", "0", "--model", model, "--fallback", "", ... }
    end
    -- { label, argv, exit code }
    local cases = {
      { "ask", ask("claude-haiku-4-5", "hello"), 0 },
      { "ask --json", ask("claude-haiku-4-5", "--json", "hello"), 0 },
      { "ask --stream", ask("claude-haiku-4-5", "--stream", "hello"), 0 },
      { "ask, key echoed in the error message", ask("echo-message", "hi"), 5 },
      { "ask --json, key echoed in a JSON body", ask("echo-json", "--json", "hi"), 5 },
      { "ask, key echoed in a raw body", ask("echo-raw", "hi"), 5 },
      { "ask --json, key echoed in headers", ask("echo-headers", "--json", "hi"), 5 },
      { "ask --stream, key echoed in event: error", ask("echo-stream", "--stream", "hi"), 5 },
      { "ask, a 401 naming the key", ask("echo-401", "hi"), 3 },
      { "check, keys echoed by two models", { "check", "--max-retries", "0", "claude-haiku-4-5", "echo-message",
        "echo-raw" }, 0 },
      { "check --json, keys echoed by two models", { "check", "--json", "--max-retries", "0", "claude-haiku-4-5",
        "echo-json", "echo-headers" }, 0 },
      { "check, a 401 naming the key", { "check", "--max-retries", "0", "echo-401" }, 3 },
      { "check --json, a 401 naming the key", { "check", "--json", "--max-retries", "0", "echo-401" }, 3 },
    }
    for _, case in ipairs(cases) do
      for _, var in ipairs { { "ANTHROPIC_API_KEY", KEY }, { "ANTHROPIC_AUTH_TOKEN", TOKEN } } do
        local it_ = has_cli and it or pending
        it_(case[1] .. " with " .. var[1] .. " prints no secret", function()
          local env = { ANTHROPIC_API_KEY = "", ANTHROPIC_AUTH_TOKEN = "", ANTHROPIC_BASE_URL = echo.url }
          env[var[1]] = var[2]
          local out, code = run_cli(case[2], env)
          assert_no_secret(out, "the CLI's output", var[2])
          assert.are.equal(case[3], code, out)
        end)
      end
    end
  end)
end)
