-- bin/anthropic-lua as people use it (issue 21): streaming and colour on a terminal only (run
-- through a pseudo-terminal with `script`), NO_COLOR, stdin as or after the prompt, `chat`,
-- `models`, ANTHROPIC_MODEL and the config file, --temperature.

local cjson = require "cjson"
local mock = require "spec.support.mock"
local cli = require "spec.support.cli"

local KEYS = mock.KEYS
local HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-6"
local ESC = "\27["

local function reqids(s) return (s:gsub("req_[%w_]+", "REQ")) end

-- The bodies of the Messages requests the mock received, in order.
local function bodies()
  local out = {}
  for _, r in ipairs(mock.requests()) do
    if r.path == "/v1/messages" then out[#out + 1] = cjson.decode(r.body) end
  end
  return out
end

local function models_of(list)
  local out = {}
  for i, b in ipairs(list) do out[i] = b.model end
  return out
end

local function temp_dir()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -p " .. path .. "/anthropic-lua"))
  return path
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function remove_dir(path) os.execute("rm -rf '" .. path .. "'") end

before_each(function() mock.clear() end)

describe("anthropic-lua ask on a terminal", function()
  it("streams by default and colours the narration", function()
    local out, code = cli.pty({ "ask", "hi" }, { key = KEYS.build })
    assert.are.equal(0, code, out)
    assert.truthy(out:find("You said: hi\n", 1, true), out)
    assert.truthy(out:find(ESC .. "2manthropic-lua: answered by claude-sonnet-4-6", 1, true), out)
    assert.is_true(bodies()[1].stream)
  end)

  it("--no-stream waits for the whole answer", function()
    local out, code = cli.pty({ "ask", "--no-stream", "hi" }, { key = KEYS.build })
    assert.are.equal(0, code, out)
    assert.truthy(out:find("You said: hi\n", 1, true), out)
    assert.is_nil(bodies()[1].stream)
  end)

  it("never colours with NO_COLOR (or TERM=dumb)", function()
    for _, env in ipairs { { NO_COLOR = "1" }, { TERM = "dumb" } } do
      local out, code = cli.pty({ "ask", "--model", SONNET, "hi" }, { env = env })
      assert.are.equal(0, code, out)
      assert.truthy(out:find("falling back to claude-haiku-4-5", 1, true), out)
      assert.is_nil(out:find(ESC, 1, true), out)
    end
  end)

  it("colours errors and hints", function()
    local out, code = cli.pty({ "ask", "hi" }, { key = cli.WRONG })
    assert.are.equal(3, code, out)
    assert.truthy(out:find(ESC .. "31manthropic-lua: error: " .. ESC .. "0mAuthenticationFailed", 1, true), out)
    assert.truthy(out:find(ESC .. "33manthropic-lua: hint: " .. ESC .. "0m", 1, true), out)
  end)

  it("does not read a terminal on stdin when a prompt is given", function()
    local out, code = cli.pty({ "ask", "hi" }, { key = KEYS.build, input = "typed text\n" })
    assert.are.equal(0, code, out)
    assert.are.equal("hi", bodies()[1].messages[1].content)
  end)
end)

describe("anthropic-lua ask off a terminal", function()
  it("waits for the whole answer and prints no colour", function()
    local out, err, code = cli.run({ "ask", "hi" }, { key = KEYS.build })
    assert.are.equal(0, code)
    assert.are.equal("You said: hi\n", out)
    assert.is_nil((out .. err):find(ESC, 1, true))
    assert.is_nil(bodies()[1].stream)
  end)

  it("appends what is piped on stdin to the prompt (git diff | anthropic-lua ask \"review this\")", function()
    local out, _, code = cli.run({ "ask", "review", "this" }, { key = KEYS.build, stdin = "- old\n+ new\n" })
    assert.are.equal(0, code)
    assert.are.equal("review this\n\n- old\n+ new\n", bodies()[1].messages[1].content)
    assert.truthy(out:find("^You said: review this"), out)
  end)

  it("takes the prompt from stdin when none is given", function()
    local out, _, code = cli.run({ "ask" }, { key = KEYS.build, stdin = "from a pipe" })
    assert.are.equal(0, code)
    assert.are.equal("You said: from a pipe\n", out)
  end)

  it("sends --temperature, --system and --max-tokens", function()
    local _, _, code = cli.run({ "ask", "--temperature", "0.2", "--system", "Terse.", "--max-tokens", "9", "hi" },
      { key = KEYS.build })
    assert.are.equal(0, code)
    local b = bodies()[1]
    assert.are.same({ 0.2, "Terse.", 9 }, { b.temperature, b.system, b.max_tokens })
  end)
end)

describe("anthropic-lua default model", function()
  local dir
  before_each(function() dir = temp_dir() end)
  after_each(function() remove_dir(dir) end)

  local rows = {
    { "config.lua", "return { model = 'claude-haiku-4-5', max_tokens = 77 }", {}, { HAIKU }, 77 },
    { "config.json", '{"model": "claude-haiku-4-5", "temperature": 0.5}', {}, { HAIKU } },
    { "config.lua", "return { model = 'claude-opus-4-7', fallback = {} }", { model_env = HAIKU }, { HAIKU } },
    { "config.lua", "return { model = 'claude-opus-4-7' }", { args = { "--model", HAIKU } }, { HAIKU } },
  }
  for i, row in ipairs(rows) do
    it("row " .. i .. ": " .. row[1] .. " " .. row[2], function()
      write(dir .. "/anthropic-lua/" .. row[1], row[2])
      local args = { "ask" }
      for _, a in ipairs(row[3].args or {}) do args[#args + 1] = a end
      args[#args + 1] = "hi"
      local out, err, code = cli.run(args, { config_home = dir, model_env = row[3].model_env })
      assert.are.equal(0, code, err)
      assert.are.equal("You said: hi\n", out)
      assert.are.same(row[4], models_of(bodies()))
      if row[5] then assert.are.equal(row[5], bodies()[1].max_tokens) end
    end)
  end

  local bad = {
    { "config.lua", "return { api_key = 'sk-ant-in-a-file' }",
      "config.lua: api_key: credentials are read from ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) only, "
        .. "never from a file" },
    { "config.json", '{"modle": "x"}', "config.json: unknown setting 'modle' (known: base_url, fallback, "
      .. "max_retries, max_tokens, model, system, temperature, timeout)" },
    { "config.json", '{"model": 3}', "config.json: model must be a string" },
    { "config.json", "{nope", "config.json: is not valid JSON" },
    { "config.lua", "os.exit(7)", "attempt to index" },
    { "config.lua", "return 42", "config.lua: must return a table" },
  }
  for _, row in ipairs(bad) do
    it("exits 2 on a bad " .. row[1] .. ": " .. row[2], function()
      write(dir .. "/anthropic-lua/" .. row[1], row[2])
      local out, err, code = cli.run({ "ask", "hi" }, { config_home = dir })
      assert.are.equal(2, code)
      assert.are.equal("", out)
      assert.truthy(err:find(row[3], 1, true), err)
      assert.is_nil(err:find("sk-ant-in-a-file", 1, true))
      assert.are.equal(0, #mock.requests())
    end)
  end

  it("exits 2 when both config files exist", function()
    write(dir .. "/anthropic-lua/config.lua", "return {}")
    write(dir .. "/anthropic-lua/config.json", "{}")
    local _, err, code = cli.run({ "ask", "hi" }, { config_home = dir })
    assert.are.equal(2, code)
    assert.truthy(err:find("both exist: keep one", 1, true), err)
  end)
end)

describe("anthropic-lua chat", function()
  it("keeps the history across turns; /model, /system, /save and /exit", function()
    local path = os.tmpname()
    local out, err, code = cli.run({ "chat", "--model", HAIKU }, { key = KEYS.build,
      stdin = "Hello\n/model " .. SONNET .. "\n/system Be brief.\nAnd again\n/save " .. path .. "\n/exit\nignored\n" })
    assert.are.equal(0, code, err)
    assert.are.equal("You said: Hello\nYou said: And again\n", out)
    assert.are.equal("model: " .. SONNET .. "\nsystem: Be brief.\nsaved 4 messages to " .. path .. "\n", err)
    local b = bodies()
    assert.are.same({ HAIKU, SONNET }, models_of(b))
    assert.are.equal("Be brief.", b[2].system)
    assert.are.same({ { role = "user", content = "Hello" }, { role = "assistant", content = "You said: Hello" },
      { role = "user", content = "And again" } }, b[2].messages)
    local saved = require("anthropic").conversation.load(path)
    os.remove(path)
    assert.are.equal(4, #saved:messages())
  end)

  it("moves off the built-in default once, quietly, when the key may not use it", function()
    local out, err, code = cli.run({ "chat" }, { stdin = "one\ntwo\n" })
    assert.are.equal(0, code, err)
    assert.are.equal("You said: one\nYou said: two\n", out)
    assert.are.equal("anthropic-lua: using claude-haiku-4-5 (this key may not use claude-sonnet-4-6; "
      .. "/model NAME to choose)\n", err)
    assert.are.same({ SONNET, HAIKU, HAIKU }, models_of(bodies()))
  end)

  it("reports a denied model it was told to use, with a /model hint, and goes on", function()
    local out, err, code = cli.run({ "chat", "--model", SONNET }, { stdin = "one\n/model " .. HAIKU .. "\ntwo\n" })
    assert.are.equal(0, code, err)
    assert.are.equal("You said: two\n", out)
    assert.truthy(reqids(err):find("anthropic-lua: error: PermissionDenied: 403 permission_error", 1, true), err)
    assert.truthy(err:find("anthropic-lua: hint: choose another model with /model NAME", 1, true), err)
  end)

  it("ends with exit code 3 when the key is rejected", function()
    local out, err, code = cli.run({ "chat" }, { key = cli.WRONG, stdin = "one\ntwo\n" })
    assert.are.equal(3, code)
    assert.are.equal("", out)
    assert.truthy(err:find("AuthenticationFailed", 1, true), err)
    assert.are.equal(1, #bodies())
  end)

  it("on a terminal: shows a prompt and streams the answers", function()
    local out, code = cli.pty({ "chat", "--model", HAIKU }, { key = KEYS.build, input = "Hello\n/exit\n" })
    assert.are.equal(0, code, out)
    assert.truthy(out:find("anthropic-lua chat with claude-haiku-4-5", 1, true), out)
    assert.truthy(out:find("> ", 1, true), out)
    assert.truthy(out:find("You said: Hello\n", 1, true), out)
    assert.is_true(bodies()[1].stream)
  end)
end)

describe("anthropic-lua models", function()
  it("lists every model of GET /v1/models", function()
    local out, _, code = cli.run { "models" }
    assert.are.equal(0, code)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.truthy(lines[1]:match("^ID%s+DISPLAY NAME%s+CREATED$"), lines[1])
    assert.truthy(out:find("\nclaude%-haiku%-4%-5%s+Claude Haiku 4%.5%s+2025%-10%-15T00:00:00Z\n"), out)
    assert.is_true(#lines > 5)
  end)

  it("--check probes access to each and exits 0 when one is available", function()
    local out, _, code = cli.run { "models", "--check" }
    assert.are.equal(0, code)
    assert.truthy(out:find("\nclaude%-haiku%-4%-5 [^\n]*✓\n"), out)
    assert.truthy(out:find("\nclaude%-opus%-4%-7 [^\n]*✗  PermissionDenied\n"), out)
    -- The free tier has the Haiku models only (docs/mock.md).
    assert.truthy(out:find("\n\n3 of 11 models available to this key%.\n$"), out)
  end)

  it("--json --check", function()
    local out, _, code = cli.run { "models", "--json", "--check" }
    assert.are.equal(0, code)
    local doc = cjson.decode(out)
    assert.are.equal(3, doc.available)
    assert.are.equal(11, #doc.models)
    for _, m in ipairs(doc.models) do
      if m.id:find("haiku", 1, true) then assert.is_true(m.ok, m.id)
      else assert.are.equal("PermissionDenied", m.error, m.id) end
    end
  end)

  it("--check with a wrong key exits 3", function()
    local _, err, code = cli.run({ "models", "--check" }, { key = cli.WRONG })
    assert.are.equal(3, code)
    assert.truthy(err:find("AuthenticationFailed", 1, true), err)
  end)
end)
