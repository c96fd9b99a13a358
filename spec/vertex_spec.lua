-- anthropic.vertex: the request mapping, defaults from the environment, bearer tokens from
-- access_token, token_provider or a service-account key (RS256 JWT checked by the mock's
-- token endpoint), the token cache and the one refresh on a 401, errors, fallback, and no
-- token in any printed value.

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local run = require "spec.support.run"
local support = require "spec.support.client"
local conformance = require "spec.support.conformance"
local fallback = require "anthropic.fallback"

local raises, fault, with = support.raises, support.fault, support.with

local TOKEN = "ya29.mock-vertex-build"
local SA_FILE = conformance.repo_path("spec/fixtures/platforms/vertex-service-account.json")
local PARAMS = { model = "claude-haiku-4-5@20251001", max_tokens = 64,
  messages = { { role = "user", content = "Hello" } } }

local function client(extra)
  local o = { project_id = "mock-project", region = "us-east5", access_token = TOKEN,
    base_url = mock.url(), max_retries = 0 }
  for k, v in pairs(extra or {}) do
    if v == false then o[k] = nil else o[k] = v end
  end
  return anthropic.vertex(o)
end



local function requests(path_pattern)
  local out = {}
  for _, r in ipairs(mock.requests()) do
    if r.path:match(path_pattern) then out[#out + 1] = r end
  end
  return out
end

describe("anthropic.vertex", function()
  before_each(function() mock.clear() end)

  it("maps a create to :rawPredict with Vertex's body and a bearer token", function()
    local c = client()
    local msg = c.messages.create(with(PARAMS, { betas = { "context-1m-2025-08-07" } }))
    assert.are.equal("You said: Hello", msg.content[1].text)
    local r = mock.requests()[1]
    assert.are.equal("/v1/projects/mock-project/locations/us-east5/publishers/anthropic/models/"
      .. "claude-haiku-4-5@20251001:rawPredict", r.path)
    local body = cjson.decode(r.body)
    assert.are.equal("vertex-2023-10-16", body.anthropic_version)
    assert.is_nil(body.model)
    assert.is_nil(body.stream)
    assert.are.equal("context-1m-2025-08-07", r.headers["anthropic-beta"])
    assert.are.equal("bearer", r.auth)
    c:close()
  end)

  it("streams :streamRawPredict (stream: true in the body) into the first-party Message", function()
    local c = client()
    local msg = c.messages.stream(with(PARAMS, { model = "claude-sonnet-4-5@20250929" })):final_message()
    local r = mock.requests()[1]
    assert.matches(":streamRawPredict$", r.path)
    assert.is_true(cjson.decode(r.body).stream)
    local first = support.new_client { api_key = "sk-ant-mock-build" }
    local want = first.messages.stream(with(PARAMS, { model = "claude-sonnet-4-5" })):final_message()
    first:close()
    want.id, msg.id, want.model, msg.model = nil, nil, nil, nil
    assert.is_nil(conformance.diff(cjson.decode(cjson.encode(want)), cjson.decode(cjson.encode(msg))))
    c:close()
  end)

  it("uses aiplatform.googleapis.com for the global region and {region}-aiplatform otherwise", function()
    local g = anthropic.vertex { project_id = "p", region = "global", access_token = TOKEN }
    assert.are.equal("https://aiplatform.googleapis.com", g.base_url)
    local r = anthropic.vertex { project_id = "p", region = "europe-west1", access_token = TOKEN }
    assert.are.equal("https://europe-west1-aiplatform.googleapis.com", r.base_url)
    g:close()
    r:close()
  end)

  it("takes project and region from ANTHROPIC_VERTEX_PROJECT_ID and CLOUD_ML_REGION", function()
    local out = run.command(run.interpreter() .. " -e " .. run.quote(
      'local c = require("anthropic").vertex { access_token = "t" } print(c._platform.project_id, c.base_url)'),
      { ANTHROPIC_VERTEX_PROJECT_ID = "env-project", CLOUD_ML_REGION = "us-east5",
        GOOGLE_APPLICATION_CREDENTIALS = "" })
    assert.are.equal("env-project\thttps://us-east5-aiplatform.googleapis.com\n", out)
    out = run.command(run.interpreter() .. " -e " .. run.quote(
      'local ok, e = pcall(require("anthropic").vertex, { region = "us-east5" }) print(e)'),
      { ANTHROPIC_VERTEX_PROJECT_ID = "p", GOOGLE_APPLICATION_CREDENTIALS = "" })
    assert.matches("^UsageError: access_token: no Google credentials: pass access_token or token_provider, "
      .. "or set GOOGLE_APPLICATION_CREDENTIALS", out)
  end)

  it("refuses bad options with UsageErrors", function()
    local rows = {
      { { token_provider = "no" }, "token_provider: must be a function" },
      { { token_provider = function() return "x" end }, "pass access_token or token_provider, not both" },
      { { region = false, project_id = "p" }, "region: no region" },
      { { credentials_file = "/nonexistent/key.json", access_token = false },
        "cannot read the service-account key file" },
      { { api_key = "sk-ant-mock-free" }, "api_key: is not used by the Google Vertex AI client" },
    }
    for _, row in ipairs(rows) do
      local e = raises(client, row[1])
      assert.are.equal("UsageError", e.class_name)
      assert.is_truthy(e.message:find(row[2], 1, true), e.message)
    end
  end)

  it("a token_provider's token is cached for its lifetime", function()
    local calls = 0
    local c = client { access_token = false, token_provider = function()
      calls = calls + 1
      return TOKEN, 3600
    end }
    c.messages.create(PARAMS)
    c.messages.create(PARAMS)
    assert.are.equal(1, calls)
    c:close()
    -- no lifetime given: asked before every request
    calls = 0
    c = client { access_token = false, token_provider = function() calls = calls + 1 return TOKEN end }
    c.messages.create(PARAMS)
    c.messages.create(PARAMS)
    assert.are.equal(2, calls)
    c:close()
  end)

  it("a 401 gets one fresh token and one more try; a fixed access_token is not retried", function()
    local calls = 0
    local c = client { access_token = false, token_provider = function()
      calls = calls + 1
      return TOKEN, 3600
    end }
    local msg = c.messages.create(PARAMS, fault { sequence = { { status = 401, message = "expired" }, {} } })
    assert.are.equal("You said: Hello", msg.content[1].text)
    assert.are.equal(2, calls)
    -- twice 401: raised after the one refresh
    local err = raises(c.messages.create, PARAMS, fault { sequence = { 401, 401, 401 } })
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.are.equal(3, calls)
    -- streams refresh the same way
    local s = c.messages.stream(PARAMS, fault { sequence = { 401, {} } })
    assert.are.equal("You said: Hello", s:final_message().content[1].text)
    c:close()
    mock.clear()
    local fixed = client()
    err = raises(fixed.messages.create, PARAMS, fault { status = 401 })
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.are.equal(1, #mock.requests())
    fixed:close()
  end)

  it("a service-account key gets a token from the token endpoint with an RS256 JWT, once", function()
    local c = client { access_token = false, project_id = false, credentials_file = SA_FILE,
      token_url = mock.url() .. "/token" }
    assert.are.equal("mock-project", c._platform.project_id)   -- from the key file
    c.messages.create(PARAMS)
    c.messages.stream(PARAMS):final_message()
    assert.are.equal(1, #requests("^/token$"))
    assert.are.equal(2, #requests(":"))
    local form = requests("^/token$")[1].body
    assert.matches("^grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant%-type%%3Ajwt%-bearer&assertion=", form)
    c:close()
  end)

  it("a key the token endpoint does not accept is AuthenticationFailed", function()
    local dir = os.tmpname()
    local f = assert(io.open(SA_FILE))
    local sa = cjson.decode(f:read("*a"))
    f:close()
    -- same account, another key: the JWT signature does not verify
    local p = assert(io.popen("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null"))
    sa.private_key = p:read("*a")
    p:close()
    f = assert(io.open(dir, "w"))
    f:write(cjson.encode(sa))
    f:close()
    local c = client { access_token = false, credentials_file = dir, token_url = mock.url() .. "/token" }
    local err = raises(c.messages.create, PARAMS)
    os.remove(dir)
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.matches("Invalid JWT Signature", err.message)
    for _, t in ipairs({ tostring(err), tostring(c), tostring(c._platform) }) do
      assert.is_nil(t:find("PRIVATE KEY", 1, true))
    end
    c:close()
  end)

  it("types errors as first party; fallback moves on from a model the token may not use", function()
    local c = client { access_token = "ya29.mock-vertex-free" }
    local err = raises(c.messages.create, with(PARAMS, { model = "claude-opus-4-7" }))
    assert.are.equal("PermissionDenied", err.class_name)
    assert.are.equal(403, err.status)
    err = raises(c.messages.create, with(PARAMS, { model = "claude-nonesuch" }))
    assert.are.equal("NotFound", err.class_name)
    err = raises(c.messages.create, PARAMS, fault { status = 529 })
    assert.are.equal("Overloaded", err.class_name)
    local msg, report = fallback.create(c, with(PARAMS, { model = "claude-opus-4-7" }),
      { models = { "claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5" } })
    assert.are.equal("claude-haiku-4-5", report.used_model)
    assert.are.equal("You said: Hello", msg.content[1].text)
    c:close()
    local bad = client { access_token = "ya29.not-a-token" }
    err = raises(fallback.create, bad, with(PARAMS, { model = "claude-opus-4-7" }),
      { models = { "claude-opus-4-7", "claude-haiku-4-5" } })
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.is_nil(tostring(err):find("ya29.not-a-token", 1, true))
    assert.is_nil(tostring(bad):find("ya29", 1, true))
    for k, v in pairs(bad._platform) do
      assert.is_nil((tostring(k) .. tostring(v)):find("ya29", 1, true))
    end
    bad:close()
  end)

  it("count_tokens posts to count-tokens:rawPredict with the model in the body", function()
    local c = client()
    local n = c.messages.count_tokens(PARAMS)
    local first = support.new_client()
    assert.are.equal(first.messages.count_tokens(with(PARAMS, { model = "claude-haiku-4-5" })).input_tokens,
      n.input_tokens)
    first:close()
    local r = mock.requests()[1]
    assert.are.equal("/v1/projects/mock-project/locations/us-east5/publishers/anthropic/models/"
      .. "count-tokens:rawPredict", r.path)
    local body = cjson.decode(r.body)
    assert.are.equal("claude-haiku-4-5@20251001", body.model)
    assert.are.equal("vertex-2023-10-16", body.anthropic_version)
    assert.is_nil(body.max_tokens)
    local err = raises(c.messages.count_tokens, with(PARAMS, { model = "claude-opus-4-7" }))
    assert.are.equal("PermissionDenied", err.class_name)
    c:close()
  end)

  it("models and batches are refused with a UsageError", function()
    local c = client()
    assert.matches("client.models is not available on Google Vertex AI", raises(c.models.list).message)
    assert.matches("client.messages.batches is not available", raises(c.messages.batches.list).message)
    c:close()
  end)
end)
