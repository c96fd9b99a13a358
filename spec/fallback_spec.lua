-- anthropic.fallback against the mock (issue 7): each default and opt-in trigger, the errors
-- that never fall back, the remembered denial (the mock's log shows the skipped round trip)
-- and its TTL, streams (before and after content), tasks, and bad options.

local anthropic = require "anthropic"
local cjson = require "cjson"
local fallback = require "anthropic.fallback"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local errors = anthropic.errors
local FREE, BUILD = mock.KEYS.free, mock.KEYS.build
local HAIKU, SONNET, OPUS = "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"

local function params(model)
  return { model = model or SONNET, max_tokens = 32, messages = { { role = "user", content = "Hello" } } }
end

local function new_client(key)
  return anthropic.new { api_key = key or FREE, base_url = mock.url(), max_retries = 0 }
end

local function fault(t)
  return { headers = { ["x-mock-fault"] = cjson.encode(t) } }
end

-- The models of the Messages requests the mock received, in order.
local function requested_models()
  local out = {}
  for _, r in ipairs(mock.requests()) do
    if r.path == "/v1/messages" then out[#out + 1] = cjson.decode(r.body).model end
  end
  return out
end

local raises = support.raises

local function attempt_classes(report)
  local out = {}
  for i, a in ipairs(report.attempts) do out[i] = a.ok and "ok" or a.error_class end
  return out
end

-- A 200 stream that fails with an overloaded_error before any content event.
local PRE_CONTENT_ERROR = table.concat({
  'event: message_start',
  'data: {"type":"message_start","message":{"id":"msg_pre","type":"message","role":"assistant",'
    .. '"model":"claude-sonnet-4-6","content":[],"stop_reason":null,"stop_sequence":null,'
    .. '"usage":{"input_tokens":5,"output_tokens":1}}}',
  '',
  'event: ping',
  'data: {"type": "ping"}',
  '',
  'event: error',
  'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
  '', '',
}, "\n")

local replay_path
local function pre_content_error_file()
  if not replay_path then
    replay_path = os.tmpname()
    local f = assert(io.open(replay_path, "w"))
    f:write(PRE_CONTENT_ERROR)
    f:close()
  end
  return replay_path
end

teardown(function()
  if replay_path then os.remove(replay_path) end
end)

before_each(function() mock.clear() end)

describe("fallback.create triggers", function()
  local rows = {
    { "PermissionDenied falls back by default (the key's tier lacks Sonnet)",
      key = FREE, model = SONNET, first = "PermissionDenied", status = 403 },
    { "NotFound falls back by default (no such model for this key)",
      key = FREE, model = "claude-sonnet-9-9", first = "NotFound", status = 404 },
    { "Overloaded falls back when opted in (after the retries: max_retries = 0 here)",
      key = BUILD, model = SONNET, fault = { sequence = { 529 } }, on = { "Overloaded" },
      first = "Overloaded", status = 529 },
    { "RateLimited falls back when opted in",
      key = BUILD, model = SONNET, fault = { sequence = { 429 } }, on = { "RateLimited" },
      first = "RateLimited", status = 429 },
  }
  for _, row in ipairs(rows) do
    it(row[1], function()
      local client = new_client(row.key)
      local msg, report = fallback.create(client, params(row.model),
        { on = row.on, options = row.fault and fault(row.fault) or nil })
      assert.are.equal(HAIKU, msg.model)
      assert.are.equal(HAIKU, report.used_model)
      assert.are.same({ row.model, HAIKU }, report.chain)
      assert.are.same({ row.first, "ok" }, attempt_classes(report))
      local first = report.attempts[1]
      assert.are.equal(row.model, first.model)
      assert.are.equal(row.status, first.error.status)
      assert.is_true(first.fell_back)
      assert.are.equal(first.error.request_id, first.request_id)
      assert.matches("^req_", first.request_id)
      assert.are.equal(msg._request_id, report.attempts[2].request_id)
      assert.are.same({ row.model, HAIKU }, requested_models())
    end)
  end

  it("falls back after the core's retries of a 529, not instead of them", function()
    local client = anthropic.new { api_key = BUILD, base_url = mock.url(), max_retries = 1 }
    local el = { status = 529, headers = { ["retry-after-ms"] = "10" } }
    local _, report = fallback.create(client, params(SONNET),
      { on = { "Overloaded" }, options = fault { sequence = { el, el } } })
    assert.are.equal(HAIKU, report.used_model)
    assert.are.equal(2, report.attempts[1].error.attempts)
    assert.are.same({ SONNET, SONNET, HAIKU }, requested_models())
  end)

  it("walks a longer chain in order and reports every attempt", function()
    local client = new_client(FREE)
    local msg, report = fallback.create(client, params(OPUS), { models = { OPUS, SONNET, HAIKU } })
    assert.are.equal(HAIKU, msg.model)
    assert.are.same({ "PermissionDenied", "PermissionDenied", "ok" }, attempt_classes(report))
    assert.are.same({ OPUS, SONNET, HAIKU }, requested_models())
  end)

  it("uses the requested model when it is allowed: one request, no fallback", function()
    local client = new_client(BUILD)
    local msg, report = fallback.create(client, params(SONNET))
    assert.are.equal(SONNET, msg.model)
    assert.are.same({ "ok" }, attempt_classes(report))
    assert.are.same({ SONNET }, requested_models())
  end)

  it("deduplicates the default chain when Haiku is the requested model", function()
    local client = new_client(FREE)
    local _, report = fallback.create(client, params(HAIKU))
    assert.are.same({ HAIKU }, report.chain)
    assert.are.same({ HAIKU }, requested_models())
  end)

  it("calls on_fallback before moving to the next model", function()
    local client = new_client(FREE)
    local seen = {}
    fallback.create(client, params(SONNET), { on_fallback = function(attempt, next_model)
      seen[#seen + 1] = attempt.model .. " " .. attempt.error_class .. " -> " .. next_model
    end })
    assert.are.same({ SONNET .. " PermissionDenied -> " .. HAIKU }, seen)
  end)
end)

describe("fallback.create never falls back on", function()
  local ALL = { "Overloaded", "RateLimited" }
  local rows = {
    { "AuthenticationFailed (a wrong key: no model can help)", key = "sk-ant-wrong-key-123",
      class = "AuthenticationFailed", on = ALL },
    { "BadRequest (the next model gets the same bad request)", key = BUILD,
      fault = { sequence = { 400 } }, class = "BadRequest", on = ALL },
    { "Overloaded unless opted in", key = BUILD, fault = { sequence = { 529 } }, class = "Overloaded" },
    { "RateLimited unless opted in", key = BUILD, fault = { sequence = { 429 } }, class = "RateLimited" },
    { "InternalServerError, even with every opt-in", key = BUILD, fault = { sequence = { 500 } },
      class = "InternalServerError", on = ALL },
    { "BillingError, even with every opt-in", key = BUILD, fault = { sequence = { 402 } },
      class = "BillingError", on = ALL },
  }
  for _, row in ipairs(rows) do
    it(row[1], function()
      local client = new_client(row.key)
      local err = raises(fallback.create, client, params(SONNET),
        { on = row.on, options = row.fault and fault(row.fault) or nil })
      assert.are.equal(row.class, err.class_name)
      assert.is_true(err:is(errors[row.class]))
      assert.are.same({ SONNET }, requested_models())
      assert.are.same({ row.class }, attempt_classes(err.fallback))
      assert.is_nil(err.fallback.used_model)
    end)
  end

  it("a network error", function()
    local client = anthropic.new { api_key = FREE, base_url = "http://127.0.0.1:1", max_retries = 0 }
    local err = raises(fallback.create, client, params(SONNET), { on = ALL })
    assert.are.equal("ConnectionError", err.class_name)
    assert.are.same({ "ConnectionError" }, attempt_classes(err.fallback))
  end)

  it("raises the last error, with the report, when no model of the chain may be used", function()
    local client = new_client(FREE)
    local err = raises(fallback.create, client, params(OPUS), { models = { OPUS, SONNET } })
    assert.are.equal("PermissionDenied", err.class_name)
    assert.are.same({ "PermissionDenied", "PermissionDenied" }, attempt_classes(err.fallback))
    assert.are.same({ OPUS, SONNET }, requested_models())
  end)
end)

describe("remembered denials", function()
  local real_now = fallback.now
  local t
  before_each(function()
    t = 1000
    fallback.now = function() return t end
  end)
  after_each(function() fallback.now = real_now end)

  it("skips a denied model on the next call, without a round trip", function()
    local client = new_client(FREE)
    local _, first = fallback.create(client, params(SONNET))
    assert.are.same({ SONNET, HAIKU }, requested_models())
    assert.are.equal(1000 + fallback.DEFAULT_TTL, select(2, fallback.denied(client, SONNET)))
    mock.clear()
    local msg, report = fallback.create(client, params(SONNET))
    assert.are.equal(HAIKU, msg.model)
    assert.are.same({ HAIKU }, requested_models())
    local skipped = report.attempts[1]
    assert.are.equal(SONNET, skipped.model)
    assert.is_true(skipped.skipped)
    assert.are.equal("PermissionDenied", skipped.error_class)
    assert.are.equal(first.attempts[1].request_id, skipped.request_id)
  end)

  it("tries the model again once the TTL has passed", function()
    local client = new_client(FREE)
    fallback.create(client, params(SONNET), { ttl = 60 })
    t = 1059
    mock.clear()
    fallback.create(client, params(SONNET), { ttl = 60 })
    assert.are.same({ HAIKU }, requested_models())
    t = 1061
    mock.clear()
    local _, report = fallback.create(client, params(SONNET), { ttl = 60 })
    assert.are.same({ SONNET, HAIKU }, requested_models())
    assert.is_nil(report.attempts[1].skipped)
  end)

  it("is per client, off with ttl = 0, and cleared by fallback.forget", function()
    local a = new_client(FREE)
    fallback.create(a, params(SONNET))
    mock.clear()
    fallback.create(new_client(FREE), params(SONNET))
    assert.are.same({ SONNET, HAIKU }, requested_models())

    local b = new_client(FREE)
    fallback.create(b, params(SONNET), { ttl = 0 })
    assert.is_nil(fallback.denied(b, SONNET))

    fallback.forget(a, SONNET)
    mock.clear()
    fallback.create(a, params(SONNET))
    assert.are.same({ SONNET, HAIKU }, requested_models())
  end)

  it("does not remember transient failures (Overloaded)", function()
    local client = new_client(BUILD)
    fallback.create(client, params(SONNET), { on = { "Overloaded" }, options = fault { sequence = { 529 } } })
    assert.is_nil(fallback.denied(client, SONNET))
  end)

  it("raises the remembered error when every model of the chain is remembered denied", function()
    local client = new_client(FREE)
    raises(fallback.create, client, params(OPUS), { models = { OPUS, SONNET } })
    mock.clear()
    local err = raises(fallback.create, client, params(OPUS), { models = { OPUS, SONNET } })
    assert.are.equal("PermissionDenied", err.class_name)
    assert.are.same({}, requested_models())
    assert.is_true(err.fallback.attempts[1].skipped and err.fallback.attempts[2].skipped)
  end)
end)

describe("fallback.stream", function()
  local function collect(s)
    local types, text = {}, {}
    for ev in s:events() do
      types[#types + 1] = ev.type
      if ev.type == "content_block_delta" then text[#text + 1] = ev.delta.text end
    end
    return types, table.concat(text)
  end

  it("falls back when stream() gets a 403 (before any content)", function()
    local client = new_client(FREE)
    local s, report = fallback.stream(client, params(SONNET))
    assert.are.equal(HAIKU, s.model)
    assert.are.equal(HAIKU, report.used_model)
    assert.matches("^req_", s.request_id)
    local types, text = collect(s)
    assert.are.equal("message_start", types[1])
    assert.are.equal("message_stop", types[#types])
    assert.are.equal("You said: Hello", text)
    assert.are.same({ "PermissionDenied", "ok" }, attempt_classes(report))
    assert.are.same({ SONNET, HAIKU }, requested_models())
  end)

  it("falls back on an opted-in error event that came before any content (events)", function()
    local client = new_client(BUILD)
    local s, report = fallback.stream(client, params(SONNET),
      { on = { "Overloaded" }, options = fault { sequence = { { replay = pre_content_error_file() } } } })
    local types, text = collect(s)
    assert.are.equal("message_start", types[1])
    assert.are.equal("You said: Hello", text)
    assert.are.equal(HAIKU, s.model)
    assert.are.equal(HAIKU, report.used_model)
    assert.are.same({ "StreamError", "ok" }, attempt_classes(report))
    assert.are.equal("Overloaded", report.attempts[1].trigger)
    assert.are.same({ SONNET, HAIKU }, requested_models())
  end)

  it("falls back on that error event through final_message() too", function()
    local client = new_client(BUILD)
    local s = fallback.stream(client, params(SONNET),
      { on = { "Overloaded" }, options = fault { sequence = { { replay = pre_content_error_file() } } } })
    local msg = s:final_message()
    assert.are.equal(HAIKU, msg.model)
    assert.are.equal("You said: Hello", s:final_text())
  end)

  it("raises that error event when Overloaded is not opted in", function()
    local client = new_client(BUILD)
    local s = fallback.stream(client, params(SONNET),
      { options = fault { sequence = { { replay = pre_content_error_file() } } } })
    local err = raises(collect, s)
    assert.are.equal("StreamError", err.class_name)
    assert.are.equal("overloaded_error", err.type)
    assert.are.same({ SONNET }, requested_models())
  end)

  it("never falls back once content reached the caller", function()
    local client = new_client(BUILD)
    local s = fallback.stream(client, params(SONNET),
      { on = { "Overloaded" }, options = fault { sequence = { { error_after = 1, deltas = 3 } } } })
    local got = {}
    local ok, err = pcall(function()
      for ev in s:events() do got[#got + 1] = ev.type end
    end)
    assert.is_false(ok)
    assert.are.equal("StreamError", err.class_name)
    assert.are.equal("overloaded_error", err.type)
    assert.are.equal("content_block_delta", got[#got])
    assert.are.same({ SONNET }, requested_models())
    assert.are.equal(SONNET, err.fallback.used_model)       -- the partial content came from Sonnet
    assert.are.same({ "StreamError" }, attempt_classes(err.fallback))
  end)

  it("skips a remembered denial without a round trip", function()
    local client = new_client(FREE)
    fallback.create(client, params(SONNET))
    mock.clear()
    local s, report = fallback.stream(client, params(SONNET))
    collect(s)
    assert.are.same({ HAIKU }, requested_models())
    assert.is_true(report.attempts[1].skipped)
  end)
end)

describe("fallback inside anthropic.spawn tasks", function()
  it("falls back while the task yields to the host loop (two tasks at once)", function()
    local client = new_client(FREE)
    local results = {}
    local tasks = {}
    for i = 1, 2 do
      tasks[i] = anthropic.spawn(function()
        local msg, report = fallback.create(client, params(SONNET), { ttl = 0 })
        local s = fallback.stream(client, params(OPUS), { ttl = 0 })
        local n = 0
        while true do                          -- next_event(): yields on every Lua, 5.1 too
          local ev = s:next_event()
          if not ev then break end
          n = n + 1
        end
        results[i] = { msg.model, report.used_model, s:final_message().model, n > 3 }
      end)
    end
    assert.is_false(tasks[1]:is_done())
    local deadline = os.time() + 20
    while not (tasks[1]:is_done() and tasks[2]:is_done()) and os.time() < deadline do client:poll(50) end
    assert.is_nil(tasks[1].err)
    assert.is_nil(tasks[2].err)
    assert.are.same({ HAIKU, HAIKU, HAIKU, true }, results[1])
    assert.are.same({ HAIKU, HAIKU, HAIKU, true }, results[2])
  end)
end)

describe("fallback options", function()
  local rows = {
    { { on = { "BadRequest" } }, "opts.on[1]: BadRequest cannot trigger a fallback (allowed: Overloaded, "
      .. "RateLimited; PermissionDenied and NotFound are always on)" },
    { { on = { "AuthenticationFailed" } }, "opts.on[1]: AuthenticationFailed cannot trigger a fallback "
      .. "(allowed: Overloaded, RateLimited; PermissionDenied and NotFound are always on)" },
    { { model = "x" }, "opts.model: unknown option" },
    { { models = {} }, "opts.models: must be a non-empty list of model ids" },
    { { models = { HAIKU, 3 } }, "opts.models[2]: must be a non-empty string (a model id)" },
    { { ttl = -1 }, "opts.ttl: must be a number of seconds >= 0 (0 or false: don't remember denials)" },
    { { options = { on_done = print } },
      "opts.options.on_done: fallback calls are blocking (run them in anthropic.spawn to not block)" },
    { { on_fallback = "x" }, "opts.on_fallback: must be a function" },
  }
  for _, row in ipairs(rows) do
    it("rejects " .. row[2]:match("^[^:]+"), function()
      local err = raises(fallback.create, new_client(FREE), params(SONNET), row[1])
      assert.are.equal("UsageError", err.class_name)
      assert.are.equal(row[2], err.message)
      assert.are.same({}, requested_models())
    end)
  end
end)
