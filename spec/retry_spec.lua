-- Retries, backoff and timeouts (issue 4), against the mock's scripted faults. The delay
-- arithmetic itself is unit-tested in C (spec/c/test_errors.c); here we check the behaviour a
-- caller sees: how many attempts the mock received, when, and what was raised.

local anthropic = require "anthropic"
local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"

local errors = anthropic.errors

local function params(extra)
  local p = { model = "claude-haiku-4-5", max_tokens = 16, messages = { { role = "user", content = "Hi" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function new_client(extra)
  local opts = { api_key = "sk-ant-mock-free", base_url = mock.url() }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return anthropic.new(opts)
end

local function fault(t, extra)
  local o = { headers = { ["x-mock-fault"] = cjson.encode(t) } }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

-- A scripted error reply that asks for a short wait, so specs stay fast.
local function quick(status, h)
  local headers = { ["retry-after-ms"] = "10" }
  for k, v in pairs(h or {}) do headers[k] = v end
  return { status = status, headers = headers }
end

local function attempts_logged()
  return #mock.requests()
end

describe("retries", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("529, 529, then 200 succeeds after 3 attempts (max_retries defaults to 2)", function()
    local msg = client.messages.create(params(), fault { sequence = { quick(529), quick(529) } })
    assert.are.equal("message", msg.type)
    assert.are.equal(3, msg._response.attempts)
    assert.are.equal(3, attempts_logged())
  end)

  it("529 three times with max_retries = 2 raises Overloaded with attempts == 3", function()
    local ok, err = pcall(client.messages.create, params(),
      fault { sequence = { quick(529), quick(529), quick(529) } })
    assert.is_false(ok)
    assert.are.equal("Overloaded", err.class_name)
    assert.are.equal(3, err.attempts)
    assert.are.equal(3, attempts_logged())
    assert.truthy(tostring(err):find("attempts=3", 1, true))
  end)

  it("max_retries can be overridden per request", function()
    local ok, err = pcall(client.messages.create, params(),
      fault({ sequence = { quick(529), quick(529), quick(529) } }, { max_retries = 0 }))
    assert.is_false(ok)
    assert.are.equal(1, err.attempts)
    assert.are.equal(1, attempts_logged())
  end)

  local not_retried = {
    { "401 (wrong key)", function(c) return c end, 401 },
    { "403", nil, 403 },
    { "400", nil, 400 },
    { "404", nil, 404 },
    { "401 even with x-should-retry: true", nil, 401, { ["x-should-retry"] = "true" } },
  }
  for _, row in ipairs(not_retried) do
    it(row[1] .. " is not retried", function()
      local ok, err = pcall(client.messages.create, params(), fault { sequence = { quick(row[3], row[4]) } })
      assert.is_false(ok)
      assert.are.equal(row[3], err.status)
      assert.are.equal(1, err.attempts)
      assert.are.equal(1, attempts_logged())
    end)
  end

  it("a wrong key is tried once", function()
    local bad = new_client { api_key = "sk-ant-wrong" }
    local ok, err = pcall(bad.messages.create, params())
    assert.is_false(ok)
    assert.are.equal("AuthenticationFailed", err.class_name)
    assert.are.equal(1, attempts_logged())
    bad:close()
  end)

  local retried = { 408, 409, 429, 500, 502, 503, 504, 529 }
  for _, status in ipairs(retried) do
    it(status .. " is retried", function()
      local msg = client.messages.create(params(), fault { sequence = { quick(status) } })
      assert.are.equal(2, msg._response.attempts)
    end)
  end

  it("x-should-retry: false stops a 500 from being retried", function()
    local ok, err = pcall(client.messages.create, params(),
      fault { sequence = { quick(500, { ["x-should-retry"] = "false" }) } })
    assert.is_false(ok)
    assert.are.equal(1, err.attempts)
    assert.is_false(err.retryable)
  end)

  it("x-should-retry: true makes a 400 retryable", function()
    local retry_400 = fault { sequence = { quick(400, { ["x-should-retry"] = "true" }) } }
    local msg = client.messages.create(params(), retry_400)
    assert.are.equal(2, msg._response.attempts)
  end)

  it("waits retry-after-ms before the next attempt (mock log times)", function()
    local wait_200ms = fault { sequence = { { status = 429, headers = { ["retry-after-ms"] = "200" } } } }
    client.messages.create(params(), wait_200ms)
    local log = mock.requests()
    assert.are.equal(2, #log)
    local gap = log[2].time - log[1].time
    assert.is_true(gap >= 0.19, "second attempt came after " .. gap .. " s")
    assert.is_true(gap < 1.5, "second attempt came after " .. gap .. " s")
  end)

  it("waits retry-after seconds when there is no retry-after-ms", function()
    local wait_1s = fault { sequence = { { status = 503, headers = { ["retry-after"] = "1" } } } }
    client.messages.create(params(), wait_1s)
    local log = mock.requests()
    assert.is_true(log[2].time - log[1].time >= 0.95)
  end)

  it("a backoff wait is a timer: a polling host keeps running while a retry waits", function()
    local done, polls = false, 0
    local t0 = socket.gettime()
    local wait_300ms = { sequence = { { status = 529, headers = { ["retry-after-ms"] = "300" } } } }
    client.messages.create(params(), fault(wait_300ms, { on_done = function(err) assert.is_nil(err); done = true end }))
    local longest = 0
    while not done do
      local t = socket.gettime()
      client:poll(0)
      longest = math.max(longest, socket.gettime() - t)
      polls = polls + 1
      socket.sleep(0.005)
    end
    assert.is_true(socket.gettime() - t0 >= 0.29)
    assert.is_true(polls > 20, "host loop ran " .. polls .. " times")
    -- A poll that waited for the backoff would take its 300 ms.
    assert.is_true(longest < 0.2, "a poll(0) took " .. longest .. " s")
  end)

  it("a refused connection raises ConnectionError after the retries", function()
    local c = anthropic.new { api_key = "k", base_url = "http://127.0.0.1:9", max_retries = 2 }
    local ok, err = pcall(c.messages.create, params())
    assert.is_false(ok)
    assert.are.equal("ConnectionError", err.class_name)
    assert.are.equal(3, err.attempts)
    c:close()
  end)
end)

describe("timeouts", function()
  local client
  before_each(function()
    client = new_client { max_retries = 0 }
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("headers slower than timeout raise Timeout naming the request timeout", function()
    local ok, err = pcall(client.messages.create, params(), fault({ delay_ms = 2000 }, { timeout = 0.3 }))
    assert.is_false(ok)
    assert.are.equal("Timeout", err.class_name)
    assert.is_true(err:is(errors.ConnectionError))
    assert.are.equal("timeout_total", err.transport)
    assert.are.equal("request timeout: no complete reply after 300 ms", err.message)
  end)

  it("a stream of pings only ends with Timeout (idle), pings do not keep it alive", function()
    local t0 = socket.gettime()
    local ok, err = pcall(function()
      local pings = fault({ pings_only = true, ping_interval_ms = 50 }, { idle_timeout = 0.4 })
      local s = client.messages.stream(params(), pings)
      return s:final_message()
    end)
    assert.is_false(ok)
    assert.are.equal("Timeout", err.class_name)
    assert.are.equal("timeout_idle", err.transport)
    assert.are.equal("stream idle timeout: no event other than ping for 400 ms", err.message)
    local took = socket.gettime() - t0
    assert.is_true(took >= 0.35 and took < 3, "took " .. took)
  end)

  it("the idle timeout is retried when nothing reached the caller", function()
    local c = new_client { max_retries = 1 }
    local ok, err = pcall(function()
      return c.messages.stream(params(), fault({ pings_only = true, ping_interval_ms = 50 }, { idle_timeout = 0.2 }))
        :final_message()
    end)
    assert.is_false(ok)
    assert.are.equal("Timeout", err.class_name)
    assert.are.equal(2, err.attempts)
    assert.are.equal(2, #mock.requests())
    c:close()
  end)
end)

describe("stream errors and retries", function()
  local client
  before_each(function()
    client = new_client { max_retries = 2 }
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("event: error before any content is retried like a 529, unseen by the caller", function()
    -- first attempt: an overloaded_error event right after message_start; then a normal stream
    local types = {}
    local s = client.messages.stream(params(), fault { sequence = { { status = 200, error_after = 0 } } })
    for ev in s:events() do types[#types + 1] = ev.type end
    assert.are.equal(2, #mock.requests())
    local starts = 0
    for _, t in ipairs(types) do if t == "message_start" then starts = starts + 1 end end
    assert.are.equal(1, starts)
    assert.are.equal("message_stop", types[#types])
  end)

  -- The core decides, from error.type alone: a retry helps only for these.
  for _, etype in ipairs { "overloaded_error", "api_error", "rate_limit_error", "timeout_error" } do
    it("event: error " .. etype .. " before any content is retried", function()
      local msg = client.messages.stream(params(),
        fault { sequence = { { status = 200, error_after = 0, error_type = etype } } }):final_message()
      assert.are.equal("message", msg.type)
      assert.are.equal(2, #mock.requests())
    end)
  end
  for _, etype in ipairs { "invalid_request_error", "authentication_error", "permission_error",
                           "not_found_error", "billing_error", "request_too_large", "no_such_error" } do
    it("event: error " .. etype .. " before any content is sent once, not retried", function()
      local ok, err = pcall(function()
        return client.messages.stream(params(),
          fault { sequence = { { status = 200, error_after = 0, error_type = etype } } }):final_message()
      end)
      assert.is_false(ok)
      assert.are.equal("StreamError", err.class_name, tostring(err))
      assert.are.equal(etype, err.type)
      assert.are.equal(1, #mock.requests())
      assert.are.equal(1, err.attempts)
      assert.is_false(err.retryable)
    end)
  end

  it("event: error after content is raised as StreamError with the partial message", function()
    local ok, err = pcall(function()
      return client.messages.stream(params(), fault { deltas = 5, error_after = 2 }):final_message()
    end)
    assert.is_false(ok)
    assert.are.equal("StreamError", err.class_name)
    assert.are.equal(1, #mock.requests())
    assert.is_true(#err.partial.content[1].text > 0)
  end)
end)

describe("the non-streaming guard", function()
  local client
  before_each(function() client = new_client() mock.clear() end)
  after_each(function() client:close() end)

  it("refuses a non-streaming request whose max_tokens implies more than 10 minutes", function()
    local ok, err = pcall(client.messages.create, params { max_tokens = 21334 })
    assert.is_false(ok)
    assert.is_true(err:is(errors.UsageError))
    assert.are.equal("max_tokens: a non-streaming request for 21334 tokens may take longer than 10 minutes: "
      .. "use client.messages.stream(params), or set an explicit timeout", err.message)
    assert.are.equal(0, #mock.requests())
  end)

  it("allows it just under the limit, or with an explicit timeout", function()
    assert.are.equal("message", client.messages.create(params { max_tokens = 21333 }).type)
    assert.are.equal("message", client.messages.create(params { max_tokens = 64000 }, { timeout = 900 }).type)
    local c = new_client { timeout = 900 }
    assert.are.equal("message", c.messages.create(params { max_tokens = 64000 }).type)
    c:close()
  end)
end)

-- err.retry_after is the delay the engine would honour (a finite number > 0 within retry_cap)
-- or nil; never Lua's own reading of the header (tonumber takes "0x10", "1e3", "-5", "inf").
describe("retry_after is what the engine honours", function()
  local client
  before_each(function()
    client = new_client { max_retries = 0 }
    mock.clear()
  end)
  after_each(function() client:close() end)

  local rows = {
    { "retry-after", "-5", nil }, { "retry-after", "inf", nil }, { "retry-after", "0x10", nil },
    { "retry-after", "1e3", nil }, { "retry-after", "nan", nil }, { "retry-after", "0", nil },
    { "retry-after", "61", nil }, { "retry-after", "2", 2 }, { "retry-after", "1.5", 1.5 },
    { "retry-after-ms", "250", 0.25 }, { "retry-after-ms", "-5", nil }, { "retry-after-ms", "inf", nil },
  }
  for _, row in ipairs(rows) do
    it(row[1] .. ": " .. row[2] .. " -> " .. tostring(row[3]), function()
      local err = select(2, pcall(client.messages.create, params(),
        fault { status = 429, headers = { [row[1]] = row[2] } }))
      assert.are.equal("RateLimited", err.class_name)
      assert.are.equal(row[3], err.retry_after)
      assert.is_true(err.retryable)
    end)
  end

  it("an HTTP-date retry-after gives the seconds until then", function()
    local when = os.date("!%a, %d %b %Y %H:%M:%S GMT", os.time() + 30)
    local err = select(2, pcall(client.messages.create, params(),
      fault { status = 529, headers = { ["retry-after"] = when } }))
    assert.is_true(err.retry_after > 25 and err.retry_after <= 31, tostring(err.retry_after))
  end)
end)

