-- client:queue (docs/queue.md): requests held until the rate limits allow, at most
-- max_in_flight at once, as operations; drain and results in submission order; tasks, polls
-- and event-loop timeouts. Against mocks that enforce small limits (docs/mock.md).

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local HAIKU = mock.MODELS.haiku

local function params(text)
  return { model = HAIKU, max_tokens = 16, messages = { { role = "user", content = text } } }
end

local function ratelimit_stats(url)
  local _, _, body = mock.request("GET", "/_mock/ratelimit", {}, nil, { url = url })
  return cjson.decode(body)
end

local function client_on(url, extra)
  local opts = { api_key = mock.KEYS.free, base_url = url, max_retries = 2 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return anthropic.new(opts)
end

describe("client:queue", function()
  local m
  setup(function() m = mock.spawn { "--rate-limit-requests", "5", "--rate-limit-window-ms", "300" } end)
  teardown(function() m.stop() end)
  before_each(function() mock.clear(m.url) end)

  it("runs every request, paced by the limit, results in submission order", function()
    local client = client_on(m.url)
    local q = client:queue { max_in_flight = 4 }
    local ops = {}
    for i = 1, 12 do ops[i] = q:create(params("n" .. i)) end
    assert.is_false(ops[12]:is_done())
    local results, errs = q:results()
    assert.same({}, errs)
    assert.equal(12, #results)
    for i = 1, 12 do
      assert.equal("You said: n" .. i, results[i].content[1].text)
      assert.equal(results[i], ops[i].result)
    end
    local stats = ratelimit_stats(m.url)
    assert.equal(12, stats.counted)
    assert.equal(0, stats.limited)
    -- Never more than max_in_flight on the wire: the mock saw at most 4 connections.
    local conns = {}
    for _, r in ipairs(mock.requests(m.url)) do conns[r.connection] = true end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.is_true(n <= 4, n .. " connections")
    client:close()
  end)

  it("on a derived client (with_options), counts held requests and wakes through the root's poll", function()
    local client = client_on(m.url)
    local derived = client:with_options { max_retries = 1 }
    local q = derived:queue { max_in_flight = 2 }
    local ops = {}
    for i = 1, 8 do ops[i] = q:create(params("d" .. i)) end
    -- The engine is the root's: a host loop that polls the client it made sees every held one.
    assert.equal(8, client:inflight())
    local deadline = os.time() + 20
    while client:poll(50) > 0 do assert(os.time() < deadline, "the queue never woke") end
    for i = 1, 8 do assert.equal("You said: d" .. i, ops[i].result.content[1].text) end
    assert.equal(0, ratelimit_stats(m.url).limited)
    client:close()
  end)

  it("on a derived client, a held request canceled is no longer counted on the root", function()
    local client = client_on(m.url)
    local q = client:with_options { max_retries = 1 }:queue { max_in_flight = 1 }
    q:create(params("first"))
    local second = q:create(params("second"))
    assert.equal(2, client:inflight())
    second:cancel()
    assert.equal(1, client:inflight())
    q:drain()
    assert.equal(0, client:inflight())
    assert.equal("aborted", second.err.transport)
    client:close()
  end)

  it("fires on_done for each, streams too, and counts held requests as in flight", function()
    local client = client_on(m.url)
    local q = client:queue()
    local done, texts = {}, {}
    for i = 1, 7 do
      local text = "s" .. i
      q:stream(params(text), {
        on_text = function(delta) texts[i] = (texts[i] or "") .. delta end,
        on_done = function(err, msg) done[i] = err or msg end,
      })
    end
    assert.equal(7, client:inflight())
    local polls = 0
    while client:poll(1000) > 0 do polls = polls + 1 end
    for i = 1, 7 do
      assert.equal("You said: s" .. i, done[i].content[1].text)
      assert.equal("You said: s" .. i, texts[i])
    end
    -- Held past a window with nothing in flight, a poll sleeps until the reset: no spinning.
    assert.is_true(polls < 60, polls .. " polls")
    assert.equal(0, ratelimit_stats(m.url).limited)
    client:close()
  end)

  it("tells client:timeout() when it next wants to run, and costs nothing once empty", function()
    local client = client_on(m.url)
    assert.equal(-1, client:timeout())
    local q = client:queue { max_in_flight = 8 }
    for i = 1, 6 do q:create(params("t" .. i)) end
    -- Five fit in the window; the sixth is held until the reset.
    while q:stats().done < 5 do client:poll(100) end
    local t = client:timeout()
    assert.is_true(t > 0 and t <= 300, "timeout " .. t)
    assert.equal(1, q:stats().queued)
    assert.is_true(q:stats().held_ms > 0)
    q:drain()
    assert.equal(6, q:stats().done)
    assert.equal(0, require("anthropic.timers").count(client))
    assert.equal(-1, client:timeout())
    client:close()
  end)

  it("drains inside a task by yielding", function()
    local client = client_on(m.url)
    local q = client:queue()
    local task = anthropic.spawn(function()
      for i = 1, 8 do q:create(params("k" .. i)) end
      local results = q:results()
      return results[8].content[1].text
    end)
    assert.is_false(task:is_done())
    while not task:is_done() do client:poll(1000) end
    assert.is_nil(task.err)
    assert.equal("You said: k8", task.result)
    client:close()
  end)

  it("raises a UsageError before queueing bad params or options", function()
    local client = client_on(m.url)
    local q = client:queue()
    local err = support.raises(q.create, q, { model = HAIKU, messages = {} })
    assert.equal("UsageError", err.class_name)
    assert.matches("max_tokens", err.message)
    err = support.raises(q.create, q, params("x"), { on_text = function() end })
    assert.equal("options: on_event/on_text need q:stream", err.message)
    err = support.raises(client.queue, client, { max_in_flight = 0 })
    assert.equal("opts.max_in_flight: must be an integer from 1 to 100000", err.message)
    err = support.raises(client.queue, client, { max_inflight = 2 })
    assert.equal("opts.max_inflight: unknown option", err.message)
    assert.equal(0, q:stats().submitted)
    assert.equal(0, #mock.requests(m.url))
    client:close()
  end)

  it("cancels a request still held: it finishes with the cancel and is never sent", function()
    local client = client_on(m.url)
    local q = client:queue { max_in_flight = 1 }
    local first = q:create(params("first"))
    local second = q:create(params("second"))
    second:cancel()
    assert.is_true(second:is_done())
    assert.equal("ConnectionError", second.err.class_name)
    assert.equal("aborted", second.err.transport)
    local results, errs = q:results()
    assert.equal("You said: first", results[1].content[1].text)
    assert.is_false(results[2])
    assert.equal(second.err, errs[2])
    assert.equal(first.result, results[1])
    assert.equal(1, #mock.requests(m.url))
    client:close()
  end)

  it("types an error that got through and keeps going", function()
    local client = client_on(m.url, { max_retries = 0 })
    local q = client:queue()
    q:create(params("ok"))
    q:create(params("bad"), support.fault { status = 529 })
    q:create(params("ok again"))
    local results, errs = q:results()
    assert.equal("You said: ok", results[1].content[1].text)
    assert.equal("Overloaded", errs[2].class_name)
    assert.equal("You said: ok again", results[3].content[1].text)
    client:close()
  end)

  it("lets the core retry a 429 that still arrives, and tightens its pacing", function()
    local client = client_on(m.url)
    local q = client:queue()
    local op = q:create(params("limited"), support.fault { sequence = { { status = 429,
      headers = { ["retry-after"] = "0.05", ["x-should-retry"] = "true" } } } })
    local results, errs = q:results()
    assert.same({}, errs)
    assert.equal("You said: limited", results[1].content[1].text)
    assert.equal(2, op.result._response.attempts)
    assert.equal(1, q.pacer.margin)
    client:close()
  end)

  it("closing the client fails what is still queued", function()
    local client = client_on(m.url)
    local q = client:queue { max_in_flight = 1 }
    local a, b = q:create(params("a")), q:create(params("b"))
    client:close()
    assert.equal("client closed", a.err.message)
    assert.equal("client closed", b.err.message)
  end)
end)
