-- anthropic.access against the mock (issue 7): per-tier results, the probe on the wire,
-- concurrency (3 delayed probes take about one delay), the cache and its TTL, a bad key
-- reported once with its hint, access.best, and bad options.

local anthropic = require "anthropic"
local cjson = require "cjson"
local socket = require "socket"
local access = require "anthropic.access"
local fallback = require "anthropic.fallback"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local KEYS = mock.KEYS
local HAIKU, SONNET, OPUS = "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"
local THREE = { OPUS, SONNET, HAIKU }

local function new_client(key, extra)
  local o = { api_key = key or KEYS.free, base_url = mock.url(), max_retries = 0 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return anthropic.new(o)
end

local function fault(t)
  return { headers = { ["x-mock-fault"] = cjson.encode(t) } }
end

local raises = support.raises

-- "ok" or the error class, per model of list.
local function summary(results, list)
  local out = {}
  for i, m in ipairs(list) do
    local r = results[m]
    out[i] = r.ok and "ok" or r.error.class_name
  end
  return out
end

before_each(function() mock.clear() end)

describe("access.check", function()
  local rows = {
    { "free", { "PermissionDenied", "PermissionDenied", "ok" } },
    { "build", { "PermissionDenied", "ok", "ok" } },
    { "scale", { "ok", "ok", "ok" } },
  }
  for _, row in ipairs(rows) do
    it("tells what the " .. row[1] .. " tier key may use (Opus, Sonnet, Haiku)", function()
      local results, list = access.check(new_client(KEYS[row[1]]), THREE)
      assert.are.same(THREE, list)
      assert.are.same(row[2], summary(results, list))
      for _, m in ipairs(list) do
        assert.are.equal(m, results[m].model)
        assert.matches("^req_", results[m].request_id)
        if not results[m].ok then
          assert.are.equal(403, results[m].error.status)
          assert.are.equal(results[m].error.request_id, results[m].request_id)
        end
      end
    end)
  end

  it("tells not-found from permission from network", function()
    local results = access.check(new_client(), { "claude-nope-1", SONNET })
    assert.are.equal("NotFound", results["claude-nope-1"].error.class_name)
    assert.are.equal("PermissionDenied", results[SONNET].error.class_name)
    local offline = anthropic.new { api_key = KEYS.free, base_url = "http://127.0.0.1:1", max_retries = 0 }
    results = access.check(offline, { HAIKU })
    assert.are.equal("ConnectionError", results[HAIKU].error.class_name)
  end)

  it("probes with a one-token Messages request per model (the request the API gates on the model)", function()
    access.check(new_client(), { SONNET, HAIKU, SONNET })
    local log = mock.requests()
    assert.are.equal(2, #log)
    local models = {}
    for _, r in ipairs(log) do
      assert.are.equal("POST", r.method)
      assert.are.equal("/v1/messages", r.path)
      local body = cjson.decode(r.body)
      assert.are.equal(1, body.max_tokens)
      assert.are.same({ { role = "user", content = "hi" } }, body.messages)
      assert.is_nil(body.stream)
      models[body.model] = true
    end
    assert.are.same({ [SONNET] = true, [HAIKU] = true }, models)
  end)

  it("can probe with count_tokens instead (free)", function()
    local results, list = access.check(new_client(), { SONNET, HAIKU }, { probe = "count_tokens" })
    assert.are.same({ "PermissionDenied", "ok" }, summary(results, list))
    for _, r in ipairs(mock.requests()) do assert.are.equal("/v1/messages/count_tokens", r.path) end
  end)

  it("checks every model of GET /v1/models when no list is given", function()
    local results, list = access.check(new_client())
    local log = mock.requests()
    assert.are.equal("GET", log[1].method)
    assert.are.equal("/v1/models", log[1].path)
    assert.matches("limit=1000", log[1].query)
    assert.are.equal(#list + 1, #log)
    assert.is_true(#list >= 3)
    assert.are.equal(OPUS, list[1])                          -- newest first, as the API lists them
    assert.is_true(results[HAIKU].ok)
    assert.are.equal("PermissionDenied", results[OPUS].error.class_name)
  end)

  it("runs the probes concurrently: 3 models with a 300 ms delay take about one delay", function()
    local client = new_client()
    local t0 = socket.gettime()
    local results, list = access.check(client, THREE, { options = fault { delay_ms = 300 } })
    local elapsed = socket.gettime() - t0
    assert.are.same({ "PermissionDenied", "PermissionDenied", "ok" }, summary(results, list))
    assert.is_true(elapsed >= 0.3, "elapsed " .. elapsed)
    -- One after another they would take 0.9 s; the margin is for a loaded CI machine.
    assert.is_true(elapsed < 0.85, "3 probes took " .. elapsed .. " s: not concurrent")
    local conns = {}
    for _, r in ipairs(mock.requests()) do conns[r.connection] = true end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.are.equal(3, n)
  end)

  it("runs inside an anthropic.spawn task, yielding to the host loop", function()
    local client = new_client()
    local got
    local task = anthropic.spawn(function()
      local results, list = access.check(client, THREE)
      got = summary(results, list)
      local all = access.check(client)                 -- the model list, fetched inside the task
      got.haiku = all[HAIKU].ok
    end)
    assert.is_false(task:is_done())
    local deadline = os.time() + 20
    while not task:is_done() and os.time() < deadline do client:poll(50) end
    assert.is_nil(task.err)
    assert.are.same({ "PermissionDenied", "PermissionDenied", "ok", haiku = true }, got)
  end)
end)

describe("access.check cache", function()
  local real_now = fallback.now
  local t
  before_each(function()
    t = 5000
    fallback.now = function() return t end
  end)
  after_each(function() fallback.now = real_now end)

  it("answers from the cache within the TTL, then probes again", function()
    local client = new_client()
    access.check(client, { SONNET, HAIKU }, { ttl = 60 })
    mock.clear()
    t = 5059
    local results = access.check(client, { SONNET, HAIKU }, { ttl = 60 })
    assert.are.equal(0, #mock.requests())
    assert.is_true(results[SONNET].cached and results[HAIKU].cached)
    assert.are.equal("PermissionDenied", results[SONNET].error.class_name)
    t = 5061
    results = access.check(client, { SONNET, HAIKU }, { ttl = 60 })
    assert.are.equal(2, #mock.requests())
    assert.is_nil(results[SONNET].cached)
  end)

  it("is per client and per probe; refresh = true and access.clear bypass it", function()
    local client = new_client()
    access.check(client, { HAIKU })
    mock.clear()
    access.check(new_client(), { HAIKU })
    access.check(client, { HAIKU }, { probe = "count_tokens" })
    access.check(client, { HAIKU }, { refresh = true })
    access.clear(client)
    access.check(client, { HAIKU })
    assert.are.equal(4, #mock.requests())
  end)

  it("never caches a transient failure", function()
    local client = new_client(KEYS.build)
    local results = access.check(client, { SONNET }, { options = fault { sequence = { 529 } } })
    assert.are.equal("Overloaded", results[SONNET].error.class_name)
    results = access.check(client, { SONNET })
    assert.is_true(results[SONNET].ok)
    assert.are.equal(2, #mock.requests())
  end)

  it("feeds the fallback memory: a model found denied is skipped by fallback.create", function()
    local client = new_client()
    access.check(client, { SONNET })
    mock.clear()
    local msg, report = fallback.create(client, { model = SONNET, max_tokens = 8,
      messages = { { role = "user", content = "hi" } } })
    assert.are.equal(HAIKU, msg.model)
    assert.is_true(report.attempts[1].skipped)
    assert.are.equal(1, #mock.requests())
  end)
end)

describe("a bad key", function()
  it("is reported once, as AuthenticationFailed with a hint, not as N inaccessible models", function()
    local err = raises(access.check, new_client("sk-ant-wrong-key-123"), THREE)
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.are.equal(401, err.status)
    assert.are.equal(access.AUTH_HINT, err.hint)
    assert.matches("check ANTHROPIC_API_KEY", err.hint, 1, true)
    assert.is_nil(tostring(err):find("sk-ant-wrong-key-123", 1, true))
  end)

  it("stops at the model list when no list is given", function()
    local err = raises(access.check, new_client("sk-ant-wrong-key-123"))
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.are.equal(access.AUTH_HINT, err.hint)
    local log = mock.requests()
    assert.are.equal(1, #log)
    assert.are.equal("/v1/models", log[1].path)
  end)
end)

describe("access.best", function()
  local rows = {
    { "free", HAIKU }, { "build", SONNET }, { "scale", OPUS },
  }
  for _, row in ipairs(rows) do
    it("picks " .. row[2] .. " for the " .. row[1] .. " tier", function()
      local model, results = access.best(new_client(KEYS[row[1]]))
      assert.are.equal(row[2], model)
      assert.is_true(results[row[2]].ok)
    end)
  end

  it("follows the given preferences and returns nil when none may be used", function()
    assert.are.equal(HAIKU, access.best(new_client(KEYS.scale), { HAIKU, OPUS }))
    local model, results = access.best(new_client(), { OPUS, SONNET })
    assert.is_nil(model)
    assert.are.equal("PermissionDenied", results[OPUS].error.class_name)
  end)
end)

describe("access options", function()
  local rows = {
    { "x", nil, "models: must be a list of model ids" },
    { { HAIKU, "" }, nil, "models[2]: must be a non-empty string" },
    { { HAIKU }, { probe = "models" }, "opts.probe: must be \"messages\" or \"count_tokens\"" },
    { { HAIKU }, { ttl = "1" }, "opts.ttl: must be a number of seconds >= 0 (0 or false: no cache)" },
    { { HAIKU }, { tll = 1 }, "opts.tll: unknown option" },
    { { HAIKU }, { options = { on_done = print } }, "opts.options.on_done: is set by access.check" },
  }
  for _, row in ipairs(rows) do
    it("rejects " .. row[3]:match("^[^:]+"), function()
      local err = raises(access.check, new_client(), row[1], row[2])
      assert.are.equal("UsageError", err.class_name)
      assert.are.equal(row[3], err.message)
      assert.are.equal(0, #mock.requests())
    end)
  end
end)
