-- anthropic.bedrock: credentials and region sources, the request mapping, SigV4 (verified by
-- the mock's own, independent check), event-stream streams into the same accumulator, errors
-- typed by x-amzn-ErrorType (a wrong credential vs a missing model grant), fallback, and no
-- secret in any printed value.

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local run = require "spec.support.run"
local support = require "spec.support.client"
local conformance = require "spec.support.conformance"
local fallback = require "anthropic.fallback"
local bedrock = require "anthropic.platforms.bedrock"

local raises, fault, with = support.raises, support.fault, support.with

local SECRET = "mock-aws-secret-build"
local PARAMS = { model = "claude-haiku-4-5", max_tokens = 64, messages = { { role = "user", content = "Hello" } } }

local function client(extra)
  local o = { region = "us-east-1", access_key_id = "AKIDMOCKBUILD", secret_access_key = SECRET,
    base_url = mock.url(), max_retries = 0 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return anthropic.bedrock(o)
end



local function last_request()
  local log = mock.requests()
  return log[#log]
end

-- Runs `code` in a fresh interpreter with `env` and returns what it printed.
local function lua_with_env(env, code)
  local out, status = run.command(run.interpreter() .. " -e " .. run.quote(code), env)
  return out, status
end

local RESOLVE = [[
local ok, r = pcall(require("anthropic.platforms.aws_config").resolve, %s)
if not ok then print("ERR " .. tostring(r)) return end
print(r.source, r.access_key_id, r.region, r.session_token or "-")
]]

describe("anthropic.bedrock credentials and region", function()
  local dir
  setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. run.quote(dir .. "/.aws")))
    local f = assert(io.open(dir .. "/.aws/credentials", "w"))
    f:write("[default]\naws_access_key_id = AKIDFILEDEFAULT\naws_secret_access_key = s1\n\n",
      "# a comment\n[work]\naws_access_key_id=AKIDFILEWORK\naws_secret_access_key=s2\n",
      "aws_session_token = tok-work\n")
    f:close()
    f = assert(io.open(dir .. "/.aws/config", "w"))
    f:write("[default]\nregion = eu-west-1\n[profile work]\nregion = ap-south-1\n",
      "[profile sso]\nsso_session = corp\nregion = us-west-2\n")
    f:close()
  end)
  teardown(function() os.execute("rm -rf " .. run.quote(dir)) end)

  local clean = { AWS_ACCESS_KEY_ID = "", AWS_SECRET_ACCESS_KEY = "", AWS_SESSION_TOKEN = "",
    AWS_REGION = "", AWS_DEFAULT_REGION = "", AWS_PROFILE = "", AWS_SHARED_CREDENTIALS_FILE = "",
    AWS_CONFIG_FILE = "" }
  local function env(extra)
    local e = { HOME = dir }
    for k, v in pairs(clean) do e[k] = v end
    for k, v in pairs(extra or {}) do e[k] = v end
    return e
  end

  local rows = {
    { "explicit options win over everything", { AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "x" },
      '{ access_key_id = "AKIDOPT", secret_access_key = "y", session_token = "t", region = "us-east-2" }',
      "options\tAKIDOPT\tus-east-2\tt" },
    { "the environment", { AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "x",
      AWS_SESSION_TOKEN = "tok", AWS_REGION = "us-west-1", AWS_DEFAULT_REGION = "eu-north-1" }, "{}",
      "environment\tAKIDENV\tus-west-1\ttok" },
    { "AWS_DEFAULT_REGION when AWS_REGION is unset", { AWS_ACCESS_KEY_ID = "AKIDENV",
      AWS_SECRET_ACCESS_KEY = "x", AWS_DEFAULT_REGION = "eu-north-1" }, "{}",
      "environment\tAKIDENV\teu-north-1\t-" },
    { "~/.aws files, default profile (region from config)", {}, "{}",
      "profile default\tAKIDFILEDEFAULT\teu-west-1\t-" },
    { "AWS_PROFILE", { AWS_PROFILE = "work" }, "{}", "profile work\tAKIDFILEWORK\tap-south-1\ttok-work" },
    { "the profile option", {}, '{ profile = "work" }', "profile work\tAKIDFILEWORK\tap-south-1\ttok-work" },
    { "the profile option beats environment keys", { AWS_ACCESS_KEY_ID = "AKIDENV", AWS_SECRET_ACCESS_KEY = "x" },
      '{ profile = "work" }', "profile work\tAKIDFILEWORK\tap-south-1\ttok-work" },
    { "the region option beats the profile's", { AWS_PROFILE = "work" }, '{ region = "ca-central-1" }',
      "profile work\tAKIDFILEWORK\tca-central-1\ttok-work" },
  }
  for _, row in ipairs(rows) do
    it(row[1], function()
      local out = lua_with_env(env(row[2]), RESOLVE:format(row[3]))
      assert.are.equal(row[4] .. "\n", out)
    end)
  end

  it("AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE name the files", function()
    local other = dir .. "/elsewhere"
    local f = assert(io.open(other, "w"))
    f:write("[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = s3\n")
    f:close()
    local cfg = dir .. "/elsewhere-config"
    f = assert(io.open(cfg, "w"))
    f:write("[default]\nregion = sa-east-1\n")
    f:close()
    local out = lua_with_env(env { AWS_SHARED_CREDENTIALS_FILE = other, AWS_CONFIG_FILE = cfg }, RESOLVE:format("{}"))
    assert.are.equal("profile default\tAKIDOTHER\tsa-east-1\t-\n", out)
  end)

  it("no credentials: a UsageError that says what to set", function()
    local out = lua_with_env(env { HOME = dir .. "/nowhere" }, RESOLVE:format("{}"))
    assert.matches("^ERR UsageError: access_key_id: no AWS credentials: set AWS_ACCESS_KEY_ID and "
      .. "AWS_SECRET_ACCESS_KEY", out)
  end)

  it("an SSO profile is reported, not silently skipped", function()
    local out = lua_with_env(env(), RESOLVE:format('{ profile = "sso" }'))
    assert.matches("^ERR UsageError: profile: AWS profile 'sso' gets its credentials from SSO", out)
  end)

  it("half a key pair, a missing region and a bad option are UsageErrors", function()
    local e = raises(anthropic.bedrock, { region = "us-east-1", access_key_id = "AKIDX" })
    assert.are.equal("UsageError", e.class_name)
    assert.matches("access_key_id and secret_access_key go together", e.message)
    local out = lua_with_env(env { AWS_ACCESS_KEY_ID = "A", AWS_SECRET_ACCESS_KEY = "B",
      AWS_CONFIG_FILE = "/nonexistent" },
      'local ok, e = pcall(require("anthropic").bedrock, {}) print(e)')
    assert.matches("UsageError: region: no AWS region: set AWS_REGION", out)
    e = raises(anthropic.bedrock, { region = "us-east-1", access_key_id = "A", secret_access_key = "B",
      api_key = "sk-ant-mock-free" })
    assert.matches("api_key: is not used by the Amazon Bedrock client", e.message)
    e = raises(anthropic.bedrock, { region = "us east", access_key_id = "A", secret_access_key = "B" })
    assert.matches("region: is not an AWS region name", e.message)
  end)

  it("the default base URL is the region's Bedrock runtime endpoint", function()
    local c = anthropic.bedrock { region = "eu-central-1", access_key_id = "A", secret_access_key = "B" }
    assert.are.equal("https://bedrock-runtime.eu-central-1.amazonaws.com", c.base_url)
    c:close()
  end)
end)

describe("anthropic.bedrock requests", function()
  local c
  before_each(function() c = client() end)
  after_each(function() c:close() end)

  it("maps a create to POST /model/{id}/invoke with Bedrock's body", function()
    local msg = c.messages.create(with(PARAMS, { betas = { "context-1m-2025-08-07" } }))
    assert.are.equal("You said: Hello", msg.content[1].text)
    local r = last_request()
    assert.are.equal("/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke", r.path)
    local body = cjson.decode(r.body)
    assert.are.equal("bedrock-2023-05-31", body.anthropic_version)
    assert.are.same({ "context-1m-2025-08-07" }, body.anthropic_beta)
    assert.is_nil(body.model)
    assert.is_nil(body.stream)
    assert.is_nil(r.headers["anthropic-beta"])
    assert.is_nil(r.headers["anthropic-version"])
    assert.are.equal("***", r.headers.authorization)   -- the mock's log masks it
    assert.are.equal("sigv4", r.auth)
    assert.is_not_nil(r.headers["x-amz-date"]:match("^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$"))
    assert.are.equal(msg._request_id, r.request_id)
  end)

  it("passes Bedrock ids, inference profiles and ARNs through, and honours model_map", function()
    local ids = {
      "anthropic.claude-sonnet-4-5-20250929-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
      "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-haiku-4-5-20251001-v1:0",
    }
    for _, id in ipairs(ids) do
      local msg = c.messages.create(with(PARAMS, { model = id }))
      assert.are.equal("end_turn", msg.stop_reason)
      assert.are.equal("/model/" .. id:gsub("[:/]", function(ch) return string.format("%%%02X", ch:byte()) end)
        .. "/invoke", last_request().path)
    end
    local mapped = client { model_map = { fast = "us.anthropic.claude-haiku-4-5-20251001-v1:0" } }
    mapped.messages.create(with(PARAMS, { model = "fast" }))
    assert.are.equal("/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke", last_request().path)
    mapped:close()
    assert.are.equal("anthropic.claude-sonnet-4-6", bedrock.model_id("claude-sonnet-4-6"))
  end)

  it("signs with a session token when the credentials are temporary", function()
    local t = client { access_key_id = "ASIAMOCKTEMP", secret_access_key = "mock-aws-secret-temp",
      session_token = "mock-aws-session-token" }
    assert.are.equal("end_turn", t.messages.create(PARAMS).stop_reason)
    assert.are.equal("***", last_request().headers["x-amz-security-token"])
    t:close()
  end)

  it("streams the event-stream framing into the same Message as a first-party stream", function()
    local s = c.messages.stream(with(PARAMS, { model = "claude-sonnet-4-5" }))
    local types = {}
    for ev in s:events() do types[#types + 1] = ev.type end
    local msg = s:final_message()
    assert.are.equal("/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream",
      last_request().path)
    local first = support.new_client { api_key = "sk-ant-mock-build" }
    local want = first.messages.stream(with(PARAMS, { model = "claude-sonnet-4-5" })):final_message()
    first:close()
    want.id, msg.id = nil, nil
    assert.is_nil(conformance.diff(cjson.decode(cjson.encode(want)), cjson.decode(cjson.encode(msg))))
    assert.are.same({ "message_start", "content_block_start", "content_block_delta", "content_block_delta",
      "content_block_delta", "content_block_stop", "message_delta", "message_stop" }, types)
  end)

  -- Recorded API streams, framed as Bedrock frames them and cut into random pieces (and into
  -- single bytes): the outcome is the first-party SSE path's for the same recording, message
  -- or error and partial message alike, and where the official SDKs accumulate a message
  -- (spec/fixtures/sse-expected) it is that message.
  local function plain(v) return v ~= nil and cjson.decode(cjson.encode(v)) or nil end
  local function outcome(cl, path, chunk)
    local ok, v = pcall(function()
      return cl.messages.stream(PARAMS, fault { replay = path, chunk = chunk, seed = 7 }):final_message()
    end)
    if ok then return { ok = true, message = plain(v) } end
    -- (the error's text may differ: a cut-off SSE event has no event-stream counterpart)
    return { ok = false, class = v.class_name, partial = plain(v.partial) }
  end
  for _, t in ipairs(conformance.sse_transcripts()) do
    it("recorded transcript " .. t.name .. " gives the first-party outcome", function()
      local first = support.new_client { api_key = "sk-ant-mock-build" }
      local expected = conformance.expected(t.name)
      for _, chunk in ipairs({ "random", 1 }) do
        local want = outcome(first, t.path, chunk)
        local got = outcome(c, t.path, chunk)
        if t.name:find("error", 1, true) then
          -- an `event: error` arrives as an exception frame: a StreamError either way
          assert.are.equal(want.class, got.class)
          assert.is_nil(conformance.diff(want.partial, got.partial))
        else
          assert.is_nil(conformance.diff(want, got))
        end
        if expected and expected.message ~= cjson.null and got.ok then
          assert.is_nil(conformance.diff(expected.message, got.message))
        end
      end
      first:close()
    end)
  end

  it("an exception frame after content is a StreamError with the partial message", function()
    local s = c.messages.stream(PARAMS, fault { error_after = 1, error_type = "throttlingException" })
    local err = raises(s.final_message, s)
    assert.are.equal("StreamError", err.class_name)
    assert.are.equal("throttlingException", err.type)
    assert.matches("Too many requests", err.message)
    assert.are.equal("You", err.partial.content[1].text)
  end)

  it("a retryable exception frame before any content is retried unseen", function()
    local r = client { max_retries = 1 }
    local s = r.messages.stream(PARAMS,
      fault { sequence = { { error_after = 0, error_type = "throttlingException" }, {} } })
    assert.are.equal("You said: Hello", s:final_message().content[1].text)
    assert.are.equal(2, s:final_message()._response.attempts)
    -- not retryable: raised at once
    s = r.messages.stream(PARAMS, fault { error_after = 0, error_type = "validationException" })
    local err = raises(s.final_message, s)
    assert.are.equal("validationException", err.type)
    r:close()
  end)

  it("a corrupt frame ends the stream with an error naming the CRC", function()
    local s = c.messages.stream(PARAMS, fault { corrupt_frame = 4 })
    local err = raises(s.final_message, s)
    assert.are.equal("StreamError", err.class_name)   -- a stream cut short after content
    assert.matches("event%-stream message CRC mismatch$", err.message)
    assert.are.equal("You", err.partial.content[1].text)
  end)

  it("the tool runner runs its loop on Bedrock (streamed turns too)", function()
    local turns = { { text = "Let me look.", tool_use = { name = "get_weather", input = { city = "Paris" },
      id = "toolu_1" } }, "Sunny in Paris." }
    local weather = anthropic.tool { name = "get_weather", description = "Weather",
      input_schema = { type = "object", properties = { city = { type = "string" } }, required = { "city" } },
      run = function(input) return "sunny in " .. input.city end }
    for _, stream in ipairs({ false, true }) do
      local r = client { default_headers = { ["x-mock-fault"] = cjson.encode({ turns = turns }) } }
      local runner = r.messages.tool_runner(with(PARAMS, { tools = { weather } }), { stream = stream })
      local msg = runner:run_until_done()
      assert.are.equal("Sunny in Paris.", msg.content[1].text)
      local body = cjson.decode(last_request().body)
      assert.are.equal("tool_result", body.messages[3].content[1].type)
      assert.are.equal("sunny in Paris", body.messages[3].content[1].content)
      r:close()
    end
  end)

  it("count_tokens, models and batches are refused with a UsageError", function()
    assert.matches("not available on Amazon Bedrock", raises(c.messages.count_tokens, PARAMS).message)
    assert.matches("client.models is not available", raises(c.models.list).message)
    assert.matches("client.messages.batches is not available", raises(c.messages.batches.create, {}).message)
  end)
end)

describe("anthropic.bedrock errors by x-amzn-ErrorType", function()
  it("a wrong secret is AuthenticationFailed (InvalidSignatureException), never retried", function()
    local c = client { secret_access_key = "wrong-secret", max_retries = 2 }
    local err = raises(c.messages.create, PARAMS)
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.are.equal(403, err.status)
    assert.are.equal("InvalidSignatureException", err.type)
    assert.are.equal(1, err.attempts)
    assert.is_false(err.retryable)
    c:close()
  end)

  local rows = {
    { "an unknown access key", { access_key_id = "AKIDNOBODY" }, "AuthenticationFailed",
      "UnrecognizedClientException" },
    { "a wrong session token", { access_key_id = "ASIAMOCKTEMP", secret_access_key = "mock-aws-secret-temp",
      session_token = "not-it" }, "AuthenticationFailed", "UnrecognizedClientException" },
    { "an expired session token", { access_key_id = "ASIAMOCKEXPIRED", secret_access_key = "mock-aws-secret-expired",
      session_token = "mock-aws-expired-token" }, "AuthenticationFailed", "ExpiredTokenException" },
    { "a model not granted to the key", { access_key_id = "AKIDMOCKFREE", secret_access_key = "mock-aws-secret-free",
      model = "claude-sonnet-4-5" }, "PermissionDenied", "AccessDeniedException" },
    { "an unknown model id", { model = "anthropic.claude-nonesuch-v1:0" }, "BadRequest", "ValidationException" },
  }
  for _, row in ipairs(rows) do
    it(row[1] .. " -> " .. row[3], function()
      local o = with(row[2], {})
      local model = o.model
      o.model = nil
      local c = client(o)
      local err = raises(c.messages.create, with(PARAMS, { model = model or PARAMS.model }))
      assert.are.equal(row[3], err.class_name)
      assert.are.equal(row[4], err.type)
      c:close()
    end)
  end

  local faults = {
    { 429, "ThrottlingException", "RateLimited", true },
    { 400, "ValidationException", "BadRequest", false },
    { 404, "ResourceNotFoundException", "NotFound", false },
    { 503, "ServiceUnavailableException", "Overloaded", true },
    { 429, "ModelNotReadyException", "Overloaded", true },
    { 408, "ModelTimeoutException", "Timeout", true },
    { 403, "AccessDeniedException", "PermissionDenied", false },
    { 403, "UnrecognizedClientException", "AuthenticationFailed", false },
    { 400, "ExpiredTokenException", "AuthenticationFailed", false },
  }
  for _, row in ipairs(faults) do
    it(row[1] .. " " .. row[2] .. " -> " .. row[3] .. (row[4] and ", retried" or ", not retried"), function()
      local c = client { max_retries = 1 }
      local f = { status = row[1], error_type = row[2] }
      local err = raises(c.messages.create, PARAMS, fault { sequence = { f, f } })
      assert.are.equal(row[3], err.class_name)
      assert.are.equal(row[2], err.type)
      assert.are.equal(row[4], err.retryable)
      assert.are.equal(row[4] and 2 or 1, err.attempts)
      c:close()
    end)
  end

  it("fallback moves on from a model not granted, and never from a wrong credential", function()
    local c = client { access_key_id = "AKIDMOCKFREE", secret_access_key = "mock-aws-secret-free" }
    local msg, report = fallback.create(c, with(PARAMS, { model = "claude-opus-4-7" }),
      { models = { "claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5" } })
    assert.are.equal("claude-haiku-4-5", report.used_model)
    assert.are.equal("You said: Hello", msg.content[1].text)
    assert.are.equal("PermissionDenied", report.attempts[1].error_class)
    c:close()
    local bad = client { secret_access_key = "wrong" }
    local err = raises(fallback.create, bad, with(PARAMS, { model = "claude-opus-4-7" }),
      { models = { "claude-opus-4-7", "claude-haiku-4-5" } })
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.are.equal(1, #err.fallback.attempts)
    bad:close()
  end)

  it("tostring of the client, the platform and errors shows no secret, token or signature", function()
    local c = client { access_key_id = "ASIAMOCKTEMP", secret_access_key = "mock-aws-secret-temp",
      session_token = "not-it" }
    local err = raises(c.messages.create, PARAMS)
    local texts = { tostring(c), tostring(c._platform), tostring(err), cjson.encode(err.body or {}),
      cjson.encode(err.headers or {}) }
    for k, v in pairs(c._platform) do texts[#texts + 1] = tostring(k) .. "=" .. tostring(v) end
    for k, v in pairs(c) do texts[#texts + 1] = tostring(k) .. "=" .. tostring(v) end
    for _, t in ipairs(texts) do
      assert.is_nil(t:find("mock-aws-secret-temp", 1, true), t)
      assert.is_nil(t:find("not-it", 1, true), t)
      assert.is_nil(t:find("Signature=", 1, true), t)
    end
    c:close()
  end)
end)
