-- anthropic-lua --provider bedrock|vertex (issue 19): ask and check through the mock's
-- Bedrock and Vertex routes with the credentials the platforms read from the environment,
-- the exit codes of a wrong credential and of a model not granted, and no secret in the
-- output.

local cjson = require "cjson"
local mock = require "spec.support.mock"
local run = require "spec.support.run"

local CLI = mock.root() .. "/bin/anthropic-lua"
local SECRETS = { "mock-aws-secret-free", "mock-aws-secret-build", "wrong-secret-value",
  "ya29.mock-vertex-free", "ya29.mock-vertex-build" }

-- cli(args, env) -> stdout+stderr, exit code; asserts that no secret was printed.
local function cli(args, env)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = run.quote(a) end
  local base = { ANTHROPIC_API_KEY = "", AWS_ACCESS_KEY_ID = "", AWS_SECRET_ACCESS_KEY = "",
    AWS_SESSION_TOKEN = "", AWS_PROFILE = "", AWS_REGION = "", AWS_DEFAULT_REGION = "",
    HOME = "/nonexistent", GOOGLE_APPLICATION_CREDENTIALS = "", GOOGLE_OAUTH_ACCESS_TOKEN = "",
    ANTHROPIC_VERTEX_PROJECT_ID = "", CLOUD_ML_REGION = "",
    ANTHROPIC_BEDROCK_BASE_URL = mock.url(), ANTHROPIC_VERTEX_BASE_URL = mock.url() }
  for k, v in pairs(env or {}) do base[k] = v end
  local out, code = run.command(run.quote(run.interpreter()) .. " " .. run.quote(CLI) .. " "
    .. table.concat(quoted, " ") .. " </dev/null", base)
  for _, s in ipairs(SECRETS) do assert.is_nil(out:find(s, 1, true), "printed a secret: " .. out) end
  return out, code
end

local AWS_BUILD = { AWS_ACCESS_KEY_ID = "AKIDMOCKBUILD",
  AWS_SECRET_ACCESS_KEY = "mock-aws-secret-build", AWS_REGION = "us-east-1" }
local AWS_FREE = { AWS_ACCESS_KEY_ID = "AKIDMOCKFREE",
  AWS_SECRET_ACCESS_KEY = "mock-aws-secret-free", AWS_REGION = "us-east-1" }

describe("anthropic-lua --provider bedrock", function()
  it("ask answers through Bedrock", function()
    local out, code = cli({ "--provider", "bedrock", "ask", "-m", "claude-haiku-4-5", "Hello" }, AWS_BUILD)
    assert.are.equal(0, code, out)
    assert.matches("You said: Hello", out)
  end)

  it("ask --stream falls back from a model not granted to Haiku", function()
    local out, code = cli({ "--provider", "bedrock", "ask", "--stream", "-m", "claude-opus-4-7", "Hello" },
      AWS_FREE)
    assert.are.equal(0, code, out)
    assert.matches("You said: Hello", out)
    assert.matches("claude%-haiku%-4%-5", out)
  end)

  it("a wrong secret exits 3 with the AWS hint and no fallback", function()
    local env = { AWS_ACCESS_KEY_ID = "AKIDMOCKBUILD", AWS_SECRET_ACCESS_KEY = "wrong-secret-value",
      AWS_REGION = "us-east-1" }
    local out, code = cli({ "--provider", "bedrock", "ask", "Hello" }, env)
    assert.are.equal(3, code, out)
    assert.matches("InvalidSignatureException", out)
    assert.matches("AWS rejected the credentials", out)
  end)

  it("no AWS credentials exits 3 and says what to set", function()
    local out, code = cli({ "--provider", "bedrock", "--region", "us-east-1", "ask", "Hello" })
    assert.are.equal(3, code, out)
    assert.matches("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", out)
  end)

  it("check --json lists the usual models with PermissionDenied where not granted", function()
    local out, code = cli({ "--provider", "bedrock", "check", "--json" }, AWS_FREE)
    assert.are.equal(0, code, out)
    local doc = cjson.decode(out)
    local by = {}
    for _, m in ipairs(doc.models) do by[m.model] = m end
    assert.is_true(by["claude-haiku-4-5"].ok)
    assert.are.equal("PermissionDenied", by["claude-opus-4-7"].error.class)
    assert.are.equal("AccessDeniedException", by["claude-opus-4-7"].error.type)
  end)
end)

describe("anthropic-lua --provider vertex", function()
  local VERTEX = { GOOGLE_OAUTH_ACCESS_TOKEN = "ya29.mock-vertex-build",
    ANTHROPIC_VERTEX_PROJECT_ID = "p", CLOUD_ML_REGION = "us-east5" }
  it("ask answers through Vertex with an access token from the environment", function()
    local out, code = cli({ "--provider", "vertex", "ask", "-m", "claude-haiku-4-5@20251001", "Hello" },
      VERTEX)
    assert.are.equal(0, code, out)
    assert.matches("You said: Hello", out)
  end)

  it("--project and --region override the environment; check probes the usual models", function()
    local out, code = cli({ "--provider", "vertex", "--project", "other", "--region", "global", "check",
      "claude-haiku-4-5" }, { GOOGLE_OAUTH_ACCESS_TOKEN = "ya29.mock-vertex-free" })
    assert.are.equal(0, code, out)
    assert.matches("claude%-haiku%-4%-5", out)
  end)

  it("a bad token exits 3", function()
    local out, code = cli({ "--provider", "vertex", "ask", "Hello" },
      { GOOGLE_OAUTH_ACCESS_TOKEN = "ya29.bad", ANTHROPIC_VERTEX_PROJECT_ID = "p",
        CLOUD_ML_REGION = "us-east5" })
    assert.are.equal(3, code, out)
    assert.matches("Google rejected the access token", out)
  end)
end)

describe("anthropic-lua --provider usage", function()
  local rows = {
    { { "--provider", "azure", "ask", "x" }, "--provider must be anthropic, bedrock or vertex" },
    { { "--region", "us-east-1", "ask", "x" }, "--region needs --provider bedrock or vertex" },
    { { "--provider", "bedrock", "--project", "p", "ask", "x" }, "--project needs --provider vertex" },
    { { "--provider", "bedrock", "--header", "X-Amz-Security-Token: t", "ask", "x" },
      "credentials come from the environment only" },
  }
  for _, row in ipairs(rows) do
    it(table.concat(row[1], " "), function()
      local out, code = cli(row[1])
      assert.are.equal(2, code, out)
      assert.is_truthy(out:find(row[2], 1, true), out)
    end)
  end
end)
