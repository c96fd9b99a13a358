-- Finalizers and lifetimes (issue 9): clients, requests and streams dropped or closed at every
-- awkward moment: with transfers in flight, mid-body, from inside callbacks, collected in the
-- same cycle in either order, and core requests that outlive their client. Each case checks that
-- the process keeps working; `make sanitize` and `make valgrind` (with spec/support/gc_stress.lua)
-- run this file to check that nothing is used after it was freed and nothing leaks.

local anthropic = require "anthropic"
local core = require "anthropic.core"
local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local HAIKU = "claude-haiku-4-5"

local function params(text)
  return { model = HAIKU, max_tokens = 64, messages = { { role = "user", content = text or "one two three" } } }
end

local function fault(t, extra)
  local o = { headers = { ["x-mock-fault"] = cjson.encode(t) } }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local new_client = support.new_client

local function full_gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

local function drain(client, limit)
  local deadline = socket.gettime() + (limit or 10)
  while client:poll(20) > 0 do
    assert(socket.gettime() < deadline, "still in flight after " .. (limit or 10) .. " s")
  end
end

-- A fresh client completes a request: the process is healthy.
local function healthy()
  local c = new_client()
  assert.are.equal("message", c.messages.create(params()).type)
  c:close()
end

-- A raw core request to the mock (no Lua engine on top).
local function core_request(c, extra)
  local body = cjson.encode(params())
  local spec = {
    method = "POST", url = mock.url() .. "/v1/messages", body = body,
    headers = { "x-api-key: sk-ant-mock-free", "anthropic-version: 2023-06-01", "content-type: application/json" },
  }
  for k, v in pairs(extra or {}) do spec[k] = v end
  return c:request(spec)
end

describe("finalizers", function()
  it("clients dropped with requests, streams and callbacks in flight are collected", function()
    local fired = 0
    for _ = 1, 10 do
      local c = new_client()
      c.messages.create(params(), fault({ delay_ms = 200 }, { on_done = function() fired = fired + 1 end }))
      c.messages.stream(params(), fault({ event_delay_ms = 20 }, { on_event = function() fired = fired + 1 end }))
      local s = c.messages.stream(params(), fault { event_delay_ms = 20 })   -- luacheck: ignore 231 311
      c:poll(5)
      s = nil   -- luacheck: ignore 311
      c = nil   -- luacheck: ignore 311
      full_gc()
    end
    full_gc()
    healthy()
  end)

  it("an op whose handle is dropped still completes and fires on_done", function()
    local c = new_client()
    local got
    c.messages.create(params(), { on_done = function(err, msg) got = err or msg end })
    full_gc()
    drain(c)
    assert.are.equal("message", got.type)
    c:close()
  end)

  it("a stream abandoned mid-body is collected while its bytes keep arriving", function()
    local c = new_client()
    for _ = 1, 3 do
      local s = c.messages.stream(params(), fault { deltas = 50, event_delay_ms = 5 })
      local n = 0
      for _ in s:events() do
        n = n + 1
        if n == 3 then break end
      end
      s = nil   -- luacheck: ignore 311
      full_gc()
      c:poll(30)
    end
    drain(c, 20)
    assert.are.equal("message", c.messages.create(params()).type)
    c:close()
  end)

  it("closing the client from inside on_event, with other transfers in flight", function()
    local c = new_client()
    local done_errs = {}
    for _ = 1, 3 do
      c.messages.create(params(), fault({ delay_ms = 300 },
        { on_done = function(err) done_errs[#done_errs + 1] = err end }))
    end
    local events = 0
    c.messages.stream(params(), fault({ event_delay_ms = 10 }, {
      on_event = function()
        events = events + 1
        if events == 2 then c:close() end
      end,
      on_done = function(err) done_errs[#done_errs + 1] = err end,
    }))
    local deadline = socket.gettime() + 10
    while not c._core:is_closed() do
      c:poll(20)
      assert(socket.gettime() < deadline, "the client was never closed")
    end
    assert.are.equal(2, events)
    assert.are.equal(4, #done_errs)
    for _, err in ipairs(done_errs) do assert.are.equal("ConnectionError", err.class_name) end
    c = nil   -- luacheck: ignore 311
    full_gc()
    healthy()
  end)

  it("closing the client from inside one op's on_done, with others in flight", function()
    local c = new_client()
    local errs = {}
    c.messages.create(params(), { on_done = function() c:close() end })
    for _ = 1, 3 do
      c.messages.create(params(), fault({ delay_ms = 500 }, { on_done = function(err) errs[#errs + 1] = err end }))
    end
    local deadline = socket.gettime() + 10
    while not c._core:is_closed() do
      c:poll(20)
      assert(socket.gettime() < deadline, "the client was never closed")
    end
    assert.are.equal(3, #errs)
    full_gc()
    healthy()
  end)

  it("an error in one stream's callback cancels only that stream; a collection in between is harmless", function()
    local c = new_client()
    local results = {}
    local function record(i)
      return function(err, msg) results[i] = err ~= nil and tostring(err) or msg.type end
    end
    c.messages.stream(params(), fault({ event_delay_ms = 5 }, {
      on_event = function(ev) if ev.type == "content_block_delta" then error("boom") end end, on_done = record(1) }))
    c.messages.stream(params(), fault({ event_delay_ms = 5 },
      { on_event = function() full_gc() end, on_done = record(2) }))
    drain(c)
    assert.truthy(results[1]:find("boom", 1, true), results[1])
    assert.are.equal("message", results[2])
    c:close()
  end)

  it("a task blocked in a request is collected with its client", function()
    for _ = 1, 5 do
      local c = new_client()
      local task = anthropic.spawn(function() return c.messages.create(params(), fault { delay_ms = 200 }) end)
      c:poll(5)
      assert.is_false(task:is_done())
      task = nil   -- luacheck: ignore 311
      c = nil   -- luacheck: ignore 311
      full_gc()
    end
    healthy()
  end)
end)

describe("anthropic.core userdata", function()
  it("a request of a closed client raises on use and closes (and collects) harmlessly", function()
    local c = core.client()
    local r = core_request(c)
    c:close()
    local ok, err = pcall(r.state, r)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("attempt to use a closed request", 1, true))
    r:close()
    r:close()
    r = nil   -- luacheck: ignore 311
    full_gc()
    c = nil   -- luacheck: ignore 311
    full_gc()
  end)

  it("a request collected before its client frees its transfer", function()
    local c = core.client()
    for _ = 1, 5 do
      core_request(c)
      full_gc()
    end
    assert.are.equal(0, c:inflight())
    c:close()
  end)

  it("client and requests collected in the same cycle, in either order of creation", function()
    for round = 1, 10 do
      local c = core.client()
      local reqs = {}
      for i = 1, 3 do reqs[i] = core_request(c, i == 2 and { stream = true } or nil) end
      c:poll(round % 3)
      if round % 2 == 0 then
        local c2 = core.client()         -- a client created after the requests of another
        reqs[#reqs + 1] = core_request(c2)
        c2:poll(1)
      end
      reqs = nil   -- luacheck: ignore 311
      c = nil   -- luacheck: ignore 311
      full_gc()
    end
    healthy()
  end)

  it("a finished request of a closed, collected client is closed, not dangling", function()
    local c = core.client()
    local r = core_request(c)
    while not r:is_done() do c:poll(50) end
    assert.are.equal(200, r:status())
    c:close()
    c = nil   -- luacheck: ignore 311
    full_gc()
    local ok, err = pcall(r.body, r)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("closed", 1, true))
  end)

  it("close, __gc and __close are one idempotent release", function()
    local c = core.client()
    local r = core_request(c)
    local mt = getmetatable(r)
    mt.__close(r)
    mt.__gc(r)
    r:close()
    local cmt = getmetatable(c)
    cmt.__close(c)
    cmt.__gc(c)
    c:close()
    assert.is_true(c:is_closed())
    full_gc()
  end)
end)
