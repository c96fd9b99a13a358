-- bin/anthropic-mock: flags, config file, exit codes, signals, --watch-pid.
local mock = require "spec.support.mock"
local cjson = require "cjson"
local socket = require "socket"

local function write_tmp(text)
  local p = os.tmpname()
  local f = assert(io.open(p, "w"))
  f:write(text)
  f:close()
  return p
end

-- alive(pid): running, and not a zombie waiting to be reaped
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if f then
    local state = (f:read("*l") or ""):match("%)%s+(%a)")
    f:close()
    return state ~= "Z" and state ~= "X"
  end
  local r = os.execute("kill -0 " .. pid .. " 2>/dev/null")
  return (r == true or r == 0) and io.open("/proc/self/stat") == nil
end

local function wait_gone(pid, seconds)
  local t = socket.gettime() + seconds
  while socket.gettime() < t do
    if not alive(pid) then return true end
    socket.sleep(0.05)
  end
  return not alive(pid)
end

describe("anthropic-mock command", function()
  describe("bad flags: one line on stderr, exit 2", function()
    local rows = {
      { { "--bogus" }, "unknown option '--bogus' (try --help)" },
      { { "stray" }, "unexpected argument 'stray' (try --help)" },
      { { "--port" }, "--port needs a value" },
      { { "--port", "abc" }, "--port needs a number from 0 to 65535, got 'abc'" },
      { { "--port=70000" }, "--port needs a number from 0 to 65535, got '70000'" },
      { { "--host", "" }, "--host needs a value" },
      { { "--verbose=yes" }, "--verbose takes no value" },
      { { "--watch-pid", "me" }, "--watch-pid needs a process id, got 'me'" },
      { { "--batch-end-ms", "soon" }, "--batch-end-ms needs a number of milliseconds >= 0, got 'soon'" },
      { { "--config", "/nonexistent/mock.json" },
        "cannot read config file: /nonexistent/mock.json: No such file or directory" },
    }
    for _, row in ipairs(rows) do
      it(table.concat(row[1], " "), function()
        local code, out = mock.run(row[1])
        assert.equal(2, code)
        assert.equal("anthropic-mock: " .. row[2] .. "\n", out)
      end)
    end
  end)

  describe("bad config files: one line naming the field, exit 2", function()
    local rows = {
      { "{not json", "is not valid JSON: Expected object key string but found invalid token at character 2" },
      { "[]", ": the top level must be a JSON object" },
      { '{"colour": 1}', ": colour: unknown setting" },
      { '{"max_body_bytes": "big"}', ": max_body_bytes: expected an integer >= 1" },
      { '{"models": [{"id": "m1"}]}', ": models.0.tier: expected a non-empty string" },
      { '{"models": [{"id": "m1", "tier": "gold"}]}', ": models.11.tier: unknown tier 'gold'" },
      { '{"keys": {"sk-x": "gold"}}', ": keys.<4-character key>.tier: unknown tier 'gold'" },
      { '{"tiers": {"gold": {}}}', ": tiers.gold.rank: expected an integer >= 0" },
      { '{"faults": [{"stauts": 529}]}', ": faults.0: unknown field 'stauts'" },
    }
    for _, row in ipairs(rows) do
      it(row[1], function()
        local p = write_tmp(row[1])
        local code, out = mock.run({ "--config", p })
        os.remove(p)
        assert.equal(2, code)
        local sep = row[2]:sub(1, 1) == ":" and "" or " "
        assert.equal("anthropic-mock: config file '" .. p .. "'" .. sep .. row[2] .. "\n", out)
      end)
    end
  end)

  it("--help prints usage and exits 0", function()
    local code, out = mock.run({ "--help" })
    assert.equal(0, code)
    assert.matches("^usage: anthropic%-mock ", out)
  end)

  it("--version", function()
    local code, out = mock.run({ "--version" })
    assert.equal(0, code)
    assert.matches("^anthropic%-mock %d+%.%d+%.%d+\n$", out)
  end)

  it("exits 1 when the port is taken", function()
    local m = mock.spawn({})
    local code, out = mock.run({ "--port", tostring(m.port) })
    m.stop()
    assert.equal(1, code)
    assert.equal("anthropic-mock: cannot listen on 127.0.0.1:" .. m.port .. ": address already in use\n", out)
  end)

  for _, sig in ipairs({ "TERM", "INT" }) do
    it("prints exactly the listening line, serves, and stops on SIG" .. sig, function()
      local p = assert(io.popen("echo $$; exec " .. mock.lua() .. " " ..
        mock.shell_quote(mock.root() .. "/bin/anthropic-mock") .. " --port 0"))
      local pid = tonumber(p:read("*l"))
      local line = p:read("*l")
      local url = line:match("^listening (http://127%.0%.0%.1:%d+)$")
      assert.is_not_nil(url, line)
      assert.equal(200, (mock.request("GET", "/_mock/health", {}, nil, { url = url })))
      os.execute("kill -" .. sig .. " " .. pid)
      assert.is_nil(p:read("*l"))
      local ok, how, code = p:close()
      if _VERSION ~= "Lua 5.1" then
        if sig == "TERM" then assert.same({ "signal", 15 }, { how, code })
        else assert.same({ true, "exit", 0 }, { ok, how, code }) end
      end
      assert.is_true(wait_gone(pid, 3))
      assert.has_error(function() mock.connect(url, 1) end)
    end)
  end

  it("--watch-pid: exits when the watched process is gone", function()
    local sp = assert(io.popen("sleep 30 >/dev/null 2>&1 & echo $!"))
    local sleeper = tonumber(sp:read("*l"))
    sp:close()
    local p = assert(io.popen("exec " .. mock.lua() .. " " .. mock.shell_quote(mock.root() .. "/bin/anthropic-mock") ..
      " --port 0 --watch-pid " .. sleeper .. " </dev/null & echo $!"))
    local pid = tonumber(p:read("*l"))
    assert.matches("^listening ", p:read("*l"))
    p:close()
    assert.is_true(alive(pid))
    os.execute("kill " .. sleeper)
    assert.is_true(wait_gone(pid, 3))
  end)

  describe("config file", function()
    local m, path
    setup(function()
      path = write_tmp(cjson.encode({
        tiers = { gold = { rank = 4, ratelimit = { requests = 7, input_tokens = 100, output_tokens = 10 } } },
        models = { { id = "claude-gold-1", display_name = "Claude Gold 1", created_at = "2030-01-01T00:00:00Z",
          tier = "gold", aliases = { "claude-gold" } } },
        keys = { ["sk-ant-mock-gold"] = "gold", ["sk-ant-mock-list"] = { models = { "claude-opus-4-7" } } },
        faults = { { path = "/v1/models", method = "GET", sequence = { 503 } },
          { model = "claude-sonnet-4-6", status = 529 } },
        batch_pending_polls = 0,
      }))
      m = mock.spawn({ "--config", path })
    end)
    teardown(function()
      m.stop()
      os.remove(path)
    end)

    local function post(model, key)
      return mock.json_request("POST", "/v1/messages",
        { model = model, max_tokens = 10, messages = { { role = "user", content = "hi" } } },
        { ["x-api-key"] = key }, { url = m.url })
    end

    it("adds tiers, models and keys", function()
      local s, b, h = post("claude-gold", "sk-ant-mock-gold")
      assert.equal(200, s)
      assert.equal("claude-gold-1", b.model)
      assert.equal("7", h["anthropic-ratelimit-requests-limit"])
      assert.equal(403, (post("claude-gold-1", mock.KEYS.scale)))
      assert.equal(200, (post("claude-opus-4-7", "sk-ant-mock-list")))
      assert.equal(403, (post("claude-haiku-4-5", "sk-ant-mock-list")))
      assert.equal(200, (post("claude-haiku-4-5", mock.KEYS.free)))
    end)

    it("applies config faults to matching requests (path+method, model)", function()
      mock.clear(m.url)
      local s1 = mock.json_request("GET", "/v1/models", nil, nil, { url = m.url })
      local s2, list = mock.json_request("GET", "/v1/models", nil, nil, { url = m.url })
      assert.same({ 503, 200 }, { s1, s2 })
      assert.equal("claude-gold-1", list.data[1].id)
      local first = post("claude-sonnet-4-6", mock.KEYS.scale)
      local second = post("claude-sonnet-4-6", mock.KEYS.scale)
      assert.same({ 529, 200 }, { first, second })
      assert.equal(200, (post("claude-haiku-4-5", mock.KEYS.scale)))
      mock.clear(m.url)
      assert.equal(503, (mock.json_request("GET", "/v1/models", nil, nil, { url = m.url })))
    end)

    it("prefers the request's x-mock-fault over the config's", function()
      mock.clear(m.url)
      local s = mock.json_request("GET", "/v1/models", nil, { ["x-mock-fault"] = '{"delay_ms":1}' }, { url = m.url })
      assert.equal(200, s)
    end)

    it("sets batch_pending_polls", function()
      local _, b = mock.json_request("POST", "/v1/messages/batches", { requests = { { custom_id = "a", params = {
        model = "claude-haiku-4-5", max_tokens = 5, messages = { { role = "user", content = "x" } } } } } },
        nil, { url = m.url })
      local _, g = mock.json_request("GET", "/v1/messages/batches/" .. b.id, nil, nil, { url = m.url })
      assert.equal("ended", g.processing_status)
    end)
  end)
end)
