-- bin/anthropic-lua, run as a subprocess against the mock (issue 7): the check table, ask with
-- fallback (plain, --stream, --json), every exit code, usage errors, and that the API key never
-- appears in anything the command prints.

local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"
local run = require "spec.support.run"

local KEYS = mock.KEYS
local WRONG = require("spec.support.cli").WRONG
local HAIKU, SONNET, OPUS = "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"
local CLI = mock.root() .. "/bin/anthropic-lua"

-- cli(args [, opts]) -> stdout, stderr, exit code (spec/support/cli.lua: no terminal, no key
-- printed, no config file or ANTHROPIC_MODEL of the machine's).
local cli = require("spec.support.cli").run

local function fault_header(t)
  return "x-mock-fault: " .. cjson.encode(t)
end

local function reqids(s) return (s:gsub("req_[%w_]+", "REQ")) end

local function requested_models()
  local out = {}
  for _, r in ipairs(mock.requests()) do
    if r.path == "/v1/messages" then out[#out + 1] = cjson.decode(r.body).model end
  end
  return out
end

local PERMISSION_MESSAGE = "Your API key does not have permission to use the specified resource."
local AUTH_HINT = require("anthropic.access").AUTH_HINT

before_each(function() mock.clear() end)

describe("anthropic-lua check", function()
  it("prints the table: model, ✓/✗, reason, request id (free tier: only Haiku)", function()
    local out, err, code = cli { "check", OPUS, SONNET, HAIKU }
    assert.are.equal(0, code)
    assert.are.equal("", err)
    assert.are.equal(table.concat({
      "MODEL              ACCESS  REASON            REQUEST ID",
      "claude-opus-4-7    ✗       PermissionDenied  REQ",
      "claude-sonnet-4-6  ✗       PermissionDenied  REQ",
      "claude-haiku-4-5   ✓                         REQ",
      "",
      "1 of 3 models available to this key.",
      "",
    }, "\n"), reqids(out))
  end)

  it("checks every listed model when none is given", function()
    local out, _, code = cli({ "check" }, { key = KEYS.scale })
    assert.are.equal(0, code)
    local n = 0
    for _ in out:gmatch("\n[%w%-%.]+%s+✓") do n = n + 1 end
    assert.is_true(n >= 3)
    assert.matches("\n" .. n .. " of " .. n .. " models available to this key.\n$", out)
    assert.are.equal("/v1/models", mock.requests()[1].path)
  end)

  it("--json prints one document for scripts", function()
    local out, err, code = cli { "check", "--json", SONNET, HAIKU }
    assert.are.equal(0, code)
    assert.are.equal("", err)
    local doc = cjson.decode(out)
    assert.are.equal(1, doc.available)
    assert.are.equal(SONNET, doc.models[1].model)
    assert.is_false(doc.models[1].ok)
    assert.are.equal("PermissionDenied", doc.models[1].error.class)
    assert.are.equal(403, doc.models[1].error.status)
    assert.are.equal("permission_error", doc.models[1].error.type)
    assert.are.equal(PERMISSION_MESSAGE, doc.models[1].error.message)
    assert.are.equal(doc.models[1].request_id, doc.models[1].error.request_id)
    assert.are.equal(HAIKU, doc.models[2].model)
    assert.is_true(doc.models[2].ok)
    assert.matches("^req_", doc.models[2].request_id)
  end)

  local rows = {
    { "4 when no model is available", { "check", OPUS, SONNET }, {}, 4, "" },
    { "3 for a wrong key, once, with the hint", { "check", OPUS, SONNET, HAIKU }, { key = WRONG }, 3,
      "anthropic-lua: error: AuthenticationFailed: 401 authentication_error: invalid x-api-key (request_id=REQ)\n"
      .. "anthropic-lua: hint: " .. AUTH_HINT .. "\n" },
    { "5 when the only model fails with another API error",
      { "check", "--max-retries", "0", "--header", fault_header { status = 500 }, HAIKU }, {}, 5,
      "anthropic-lua: claude-haiku-4-5: InternalServerError: 500 api_error: Internal server error "
      .. "(request_id=REQ)\n" },
    { "6 when the API cannot be reached", { "check", "--max-retries", "0", HAIKU },
      { base_url = "http://127.0.0.1:1" }, 6,
      "anthropic-lua: claude-haiku-4-5: ConnectionError: Failed to connect to 127.0.0.1 port 1 after 0 ms: "
      .. "Couldn't connect to server\n" },
  }
  for _, row in ipairs(rows) do
    it("exits " .. row[1], function()
      local _, err, code = cli(row[2], row[3])
      assert.are.equal(row[4], code)
      -- curl's connect message carries a duration; the rest is exact.
      assert.are.equal(row[5], (reqids(err):gsub("after %d+ ms", "after 0 ms")))
    end)
  end
end)

describe("anthropic-lua ask", function()
  it("answers on stdout and says on stderr that it fell back from Sonnet to Haiku", function()
    -- The built-in default was nobody's choice: a Haiku-only key gets Haiku's answer without a
    -- fallback warning on every call.
    local out, err, code = cli { "ask", "hello", "world" }
    assert.are.equal(0, code)
    assert.are.equal("You said: hello world\n", out)
    assert.are.equal("anthropic-lua: answered by claude-haiku-4-5, request_id REQ\n", reqids(err))
    assert.are.same({ SONNET, HAIKU }, requested_models())
  end)

  it("warns of the fallback when the model was chosen (--model, ANTHROPIC_MODEL)", function()
    local expected = "anthropic-lua: claude-sonnet-4-6: PermissionDenied: 403 permission_error: "
      .. PERMISSION_MESSAGE .. " (request_id=REQ); falling back to claude-haiku-4-5\n"
      .. "anthropic-lua: answered by claude-haiku-4-5 (fell back from claude-sonnet-4-6: PermissionDenied), "
      .. "request_id REQ\n"
    local _, err, code = cli { "ask", "--model", SONNET, "hello" }
    assert.are.equal(0, code)
    assert.are.equal(expected, reqids(err))
    _, err, code = cli({ "ask", "hello" }, { model_env = SONNET })
    assert.are.equal(0, code)
    assert.are.equal(expected, reqids(err))
  end)

  it("uses --model, --fallback (in order), --max-tokens and --system", function()
    local out, err, code = cli { "ask", "-m", OPUS, "--fallback", SONNET .. "," .. HAIKU, "--max-tokens", "7",
      "--system", "Be brief.", "hi" }
    assert.are.equal(0, code)
    assert.are.equal("You said: hi\n", out)
    assert.matches("answered by claude-haiku-4-5 (fell back from claude-opus-4-7: PermissionDenied; "
      .. "claude-sonnet-4-6: PermissionDenied)", err, 1, true)
    assert.are.same({ OPUS, SONNET, HAIKU }, requested_models())
    local body = cjson.decode(mock.requests()[3].body)
    assert.are.equal(7, body.max_tokens)
    assert.are.equal("Be brief.", body.system)
  end)

  it("answers from the requested model when the key allows it", function()
    local out, err, code = cli({ "ask", "hi" }, { key = KEYS.build })
    assert.are.equal(0, code)
    assert.are.equal("You said: hi\n", out)
    assert.are.equal("anthropic-lua: answered by claude-sonnet-4-6, request_id REQ\n", reqids(err))
  end)

  it("reads the prompt from stdin with -", function()
    local out, _, code = cli({ "ask", "-" }, { stdin = "from stdin" })
    assert.are.equal(0, code)
    assert.are.equal("You said: from stdin\n", out)
  end)

  it("--stream prints the same answer, from a streamed request", function()
    local out, err, code = cli { "ask", "--stream", "hello", "world" }
    assert.are.equal(0, code)
    assert.are.equal("You said: hello world\n", out)
    assert.are.equal("anthropic-lua: answered by claude-haiku-4-5, request_id REQ\n", reqids(err))
    for _, r in ipairs(mock.requests()) do assert.is_true(cjson.decode(r.body).stream) end
  end)

  it("--stream writes the answer as it arrives, not at the end", function()
    local cmd = string.format("env ANTHROPIC_API_KEY=%s ANTHROPIC_BASE_URL=%s %s %s ask --stream --header %s hi "
      .. "2>/dev/null </dev/null", KEYS.free, run.quote(mock.url()), run.quote(run.interpreter()), run.quote(CLI),
      run.quote(fault_header { deltas = 6, event_delay_ms = 150 }))
    local t0 = socket.gettime()
    local p = assert(io.popen(cmd, "r"))
    local first = p:read(1)
    local t_first = socket.gettime() - t0
    local rest = p:read("*a")
    local t_end = socket.gettime() - t0
    p:close()
    assert.matches("^You said: hi", first .. rest)
    assert.is_true(t_end - t_first > 0.4, string.format("first byte at %.2f s, end at %.2f s", t_first, t_end))
  end)

  it("--json prints the answer, the model and the fallback report as one document", function()
    local out, err, code = cli { "ask", "--json", "hi" }
    assert.are.equal(0, code)
    assert.are.equal("", err)
    local doc = cjson.decode(out)
    assert.are.equal(HAIKU, doc.model)
    assert.are.equal("You said: hi", doc.text)
    assert.are.equal("end_turn", doc.stop_reason)
    assert.are.equal(HAIKU, doc.message.model)
    assert.are.same({ SONNET, HAIKU }, doc.fallback.chain)
    assert.are.equal(HAIKU, doc.fallback.used_model)
    assert.are.equal("PermissionDenied", doc.fallback.attempts[1].error_class)
    assert.is_false(doc.fallback.attempts[1].ok)
    assert.is_true(doc.fallback.attempts[2].ok)
    assert.are.equal(doc.request_id, doc.fallback.attempts[2].request_id)
  end)

  it("--fallback-on Overloaded falls back on a 529", function()
    local out, _, code = cli({ "ask", "--max-retries", "0", "--fallback-on", "Overloaded",
      "--header", fault_header { sequence = { 529 } }, "hi" }, { key = KEYS.build })
    assert.are.equal(0, code)
    assert.are.equal("You said: hi\n", out)
    assert.are.same({ SONNET, HAIKU }, requested_models())
  end)

  local ASK_HINT = "anthropic-lua: hint: no model in the chain (claude-sonnet-4-6) may be used with this key; "
    .. "`anthropic-lua check` shows which models it may use\n"
  local rows = {
    { "3: wrong key (AuthenticationFailed, no fallback)", { "ask", "hi" }, { key = WRONG }, 3,
      "anthropic-lua: error: AuthenticationFailed: 401 authentication_error: invalid x-api-key (request_id=REQ)\n"
      .. "anthropic-lua: hint: " .. AUTH_HINT .. "\n", { SONNET } },
    { "3: no key at all", { "ask", "hi" }, { key = false }, 3,
      "anthropic-lua: error: UsageError: api_key: no API key: ANTHROPIC_API_KEY is not set\n"
      .. "anthropic-lua: hint: set ANTHROPIC_API_KEY (the key is read from the environment only)\n", {} },
    { "4: no model in the chain allowed", { "ask", "--fallback", "", "hi" }, {}, 4,
      "anthropic-lua: error: PermissionDenied: 403 permission_error: " .. PERMISSION_MESSAGE
      .. " (request_id=REQ)\n" .. ASK_HINT, { SONNET } },
    { "4: no model in the chain allowed (--stream)", { "ask", "--stream", "--fallback", "", "hi" }, {}, 4,
      "anthropic-lua: error: PermissionDenied: 403 permission_error: " .. PERMISSION_MESSAGE
      .. " (request_id=REQ)\n" .. ASK_HINT, { SONNET } },
    { "5: another API error (400) does not fall back",
      { "ask", "--header", fault_header { status = 400, message = "bad thing" }, "hi" }, {}, 5,
      "anthropic-lua: error: BadRequest: 400 invalid_request_error: bad thing (request_id=REQ)\n", { SONNET } },
    { "5: Overloaded without --fallback-on",
      { "ask", "--max-retries", "0", "--header", fault_header { status = 529 }, "hi" }, { key = KEYS.build }, 5,
      "anthropic-lua: error: Overloaded: 529 overloaded_error: Overloaded (request_id=REQ)\n", { SONNET } },
    { "6: network error", { "ask", "--max-retries", "0", "hi" }, { base_url = "http://127.0.0.1:1" }, 6,
      "anthropic-lua: error: ConnectionError: Failed to connect to 127.0.0.1 port 1 after 0 ms: "
      .. "Couldn't connect to server\n"
      .. "anthropic-lua: hint: could not reach http://127.0.0.1:1: check the network, proxy settings and "
      .. "--base-url\n", {} },
  }
  for _, row in ipairs(rows) do
    it("exits " .. row[1], function()
      local out, err, code = cli(row[2], row[3])
      assert.are.equal(row[4], code)
      assert.are.equal("", out)
      assert.are.equal(row[5], (reqids(err):gsub("after %d+ ms", "after 0 ms")))
      assert.are.same(row[6], requested_models())
    end)
  end

  it("--json reports an error as a document too, with the hint and the exit code", function()
    local out, err, code = cli({ "ask", "--json", "hi" }, { key = WRONG })
    assert.are.equal(3, code)
    assert.are.equal("", err)
    local doc = cjson.decode(out)
    assert.are.equal("AuthenticationFailed", doc.error.class)
    assert.are.equal(401, doc.error.status)
    assert.are.equal(AUTH_HINT, doc.error.hint)
    assert.are.equal("AuthenticationFailed", doc.fallback.attempts[1].error_class)
  end)

  it("redacts the key even when the server echoes it (in a request id)", function()
    local out, _, code = cli { "ask", "--json", "--max-retries", "0", "--fallback", "",
      "--header", fault_header { status = 500, headers = { ["request-id"] = "req_" .. KEYS.free } }, "hi" }
    assert.are.equal(5, code)
    assert.are.equal("req_[redacted]", cjson.decode(out).error.request_id)
  end)

  it("--base-url overrides ANTHROPIC_BASE_URL", function()
    local out, _, code = cli({ "ask", "--base-url", mock.url(), "hi" }, { base_url = "http://127.0.0.1:1" })
    assert.are.equal(0, code)
    assert.are.equal("You said: hi\n", out)
  end)
end)

describe("anthropic-lua usage", function()
  local TRY = "Try 'anthropic-lua --help'.\n"
  local rows = {
    { {}, "missing command (ask, chat, check, files or models)" },
    { { "frob" }, "unknown command 'frob' (expected ask, chat, check, files or models)" },
    { { "ask" }, "ask needs a PROMPT (as arguments, or piped on stdin)" },
    { { "ask", "--stream", "--no-stream", "hi" }, "--stream and --no-stream contradict each other" },
    { { "ask", "--temperature", "1.5", "hi" }, "--temperature must be a number >= 0 and <= 1, got '1.5'" },
    { { "chat", "hello" }, "chat takes no PROMPT: type the turns once it has started" },
    { { "chat", "--fallback", "x" }, "--fallback is an option of 'ask', not of 'chat'" },
    { { "models", "--system", "x" }, "--system is an option of 'ask' and 'chat', not of 'models'" },
    { { "check", "--check" }, "--check is an option of 'models', not of 'check'" },
    { { "ask", "--bogus", "hi" }, "unknown option --bogus" },
    { { "ask", "--model" }, "--model needs a value" },
    { { "ask", "--stream=yes", "hi" }, "--stream takes no value" },
    { { "ask", "--max-tokens", "0", "hi" }, "--max-tokens must be an integer >= 1, got '0'" },
    { { "ask", "--max-retries", "1.5", "hi" }, "--max-retries must be an integer >= 0, got '1.5'" },
    { { "ask", "--fallback-on", "BadRequest", "hi" }, "--fallback-on accepts Overloaded and RateLimited, "
      .. "got 'BadRequest'" },
    { { "ask", "--header", "nocolon", "hi" }, "--header must look like 'Name: value', got 'nocolon'" },
    { { "ask", "--header", "x-api-key: abc", "hi" }, "--header x-api-key: credentials come from "
      .. "ANTHROPIC_API_KEY only" },
    { { "check", "--stream" }, "--stream is an option of 'ask', not of 'check'" },
    { { "ask", "--probe", "messages", "hi" }, "--probe is an option of 'check' and 'models', not of 'ask'" },
    { { "check", "--probe", "nope" }, "--probe must be messages or count_tokens, got 'nope'" },
  }
  for _, row in ipairs(rows) do
    it("exits 2: " .. row[2], function()
      local out, err, code = cli(row[1])
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.are.equal("anthropic-lua: " .. row[2] .. "\n" .. TRY, err)
      assert.are.equal(0, #mock.requests())
    end)
  end

  it("exits 2 on a library usage error (max_tokens too large for a non-streaming request)", function()
    local _, err, code = cli { "ask", "--max-tokens", "100000", "hi" }
    assert.are.equal(2, code)
    assert.matches("^anthropic%-lua: error: UsageError: %-%-max%-tokens: a non%-streaming request for 100000 "
      .. "tokens may take longer than 10 minutes\nanthropic%-lua: hint: stream the answer "
      .. "%(leave out %-%-no%-stream%), lower %-%-max%-tokens, or give %-%-timeout SECONDS\n$", err)
    assert.is_nil(err:find("client.", 1, true))              -- CLI flags, not library calls
  end)

  it("--help documents the commands and every exit code", function()
    local out, err, code = cli { "--help" }
    assert.are.equal(0, code)
    assert.are.equal("", err)
    assert.are.equal(require("anthropic.cli").HELP, out)
    for _, line in ipairs {
      "  0  ok", "  2  usage error", "  3  authentication failed", "  4  permission denied",
      "  5  other API error", "  6  network error",
    } do
      assert.is_truthy(out:find("\n" .. line, 1, true), line)
    end
  end)

  it("--version prints the version", function()
    local out, _, code = cli { "--version" }
    assert.are.equal(0, code)
    assert.are.equal("anthropic-lua " .. require("anthropic").VERSION .. "\n", out)
  end)
end)

describe("anthropic-lua ask --json-schema", function()
  local QUEST = {
    type = "object",
    properties = { title = { type = "string" }, reward = { type = "integer", minimum = 10 } },
    required = { "title", "reward" },
  }
  local schema_path
  before_each(function()
    schema_path = os.tmpname()
    local f = assert(io.open(schema_path, "wb"))
    f:write(cjson.encode(QUEST))
    f:close()
    mock.clear()
  end)
  after_each(function() os.remove(schema_path) end)

  it("prints the checked value as JSON and sends the schema as the API takes it", function()
    local out, err, code = cli { "ask", "-m", HAIKU, "--json-schema", schema_path, "a quest" }
    assert.are.equal(0, code, err)
    assert.are.same({ title = "mock-title", reward = 10 }, cjson.decode(out))
    assert.are.equal("\n", out:sub(-1))
    local body = mock.bodies("/v1/messages")[1]
    assert.are.equal("json_schema", body.output_config.format.type)
    assert.are.equal(false, body.output_config.format.schema.additionalProperties)
    assert.are.equal("{minimum: 10}", body.output_config.format.schema.properties.reward.description)
  end)

  it("does the same with --stream, and puts parsed_output in --json", function()
    local out, err, code = cli { "ask", "-m", HAIKU, "--stream", "--json-schema", schema_path, "a quest" }
    assert.are.equal(0, code, err)
    assert.are.same({ title = "mock-title", reward = 10 }, cjson.decode(out))
    out, err, code = cli { "ask", "-m", HAIKU, "--json", "--json-schema", schema_path, "a quest" }
    assert.are.equal(0, code, err)
    assert.are.same({ title = "mock-title", reward = 10 }, cjson.decode(out).parsed_output)
  end)

  for _, stream in ipairs { false, true } do
    it("exits 7 with the errors on stderr when the answer breaks the schema" .. (stream and " (--stream)" or ""),
      function()
        local args = { "ask", "-m", HAIKU, "--json-schema", schema_path,
          "--header", fault_header { break_schema = true }, "a quest" }
        if stream then table.insert(args, 2, "--stream") end
        local out, err, code = cli(args)
        assert.are.equal(7, code)
        assert.are.equal("", out)
        assert.matches("anthropic%-lua: error: ParseError: the reply does not match the schema", err)
        assert.is_truthy(err:find('\nanthropic-lua:   $: missing required property "title"\n', 1, true), err)
        assert.is_truthy(err:find('\nanthropic-lua: the answer was: {"reward":10}\n', 1, true), err)
      end)
  end

  it("--json reports a broken answer with its errors and raw text", function()
    local out, _, code = cli { "ask", "-m", HAIKU, "--json", "--json-schema", schema_path,
      "--header", fault_header { text = "no JSON here" }, "a quest" }
    assert.are.equal(7, code)
    local doc = cjson.decode(out)
    assert.are.equal("ParseError", doc.error.class)
    assert.are.equal("no JSON here", doc.error.raw)
    assert.are.equal("$", doc.error.errors[1].path)
  end)

  it("refuses a schema file that is missing or not JSON (exit 2)", function()
    local _, err, code = cli { "ask", "--json-schema", "no-such-dir/schema.json", "hi" }
    assert.are.equal(2, code)
    assert.matches("%-%-json%-schema: cannot read", err)
    local f = assert(io.open(schema_path, "wb"))
    f:write("{ not json")
    f:close()
    _, err, code = cli { "ask", "--json-schema", schema_path, "hi" }
    assert.are.equal(2, code)
    assert.matches("not a JSON Schema object", err)
  end)
end)
