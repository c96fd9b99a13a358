-- Tasks (issue 6): inside anthropic.spawn(fn), the ordinary blocking calls (create, stream
-- iteration, final_message, a pcall-wrapped fallback) yield to the caller instead of blocking,
-- and client:poll() resumes them. Each test proves the yield by timing: spawn() returns at once
-- while the mock is still holding the reply, and the caller's own loop sees the task progress.

local anthropic = require "anthropic"
local compat = require "anthropic.compat"
local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"

local errors = anthropic.errors
local gettime = socket.gettime
local HAIKU = "claude-haiku-4-5"
-- Plain Lua 5.1 cannot yield from a for-in iterator; LuaJIT and 5.2+ can.
local PLAIN_51 = _VERSION == "Lua 5.1" and not rawget(_G, "jit")

local function params(text, model)
  return { model = model or HAIKU, max_tokens = 256, messages = { { role = "user", content = text } } }
end

local function reply_to(text) return "You said: " .. text end

local function delayed(ms, extra)
  local f = { delay_ms = ms }
  for k, v in pairs(extra or {}) do f[k] = v end
  return { headers = { ["x-mock-fault"] = cjson.encode(f) } }
end

local function new_client()
  return anthropic.new { api_key = "sk-ant-mock-free", base_url = mock.url(), max_retries = 0 }
end

-- The caller's loop: polls until every task is done; returns the number of polls it made.
local function run_until_done(client, tasks, limit)
  local deadline, polls = gettime() + (limit or 10), 0
  while true do
    local all = true
    for _, t in ipairs(tasks) do if not t:is_done() then all = false end end
    if all then return polls end
    client:poll(10)
    polls = polls + 1
    assert(gettime() < deadline, "tasks still running after " .. (limit or 10) .. " s")
  end
end

describe("anthropic.spawn", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("a blocking create inside a task yields: spawn returns at once, poll finishes the task", function()
    local marks = {}
    local t0 = gettime()
    local task = anthropic.spawn(function()
      marks[#marks + 1] = "before"
      local msg = client.messages.create(params("in a task"), delayed(300))
      marks[#marks + 1] = "after"
      return msg.content[1].text
    end)
    local returned_after = gettime() - t0
    assert.is_true(returned_after < 0.3, "spawn returned after " .. returned_after .. " s (the reply takes 0.3 s)")
    assert.are.same({ "before" }, marks)
    assert.is_false(task:is_done())
    local polls = run_until_done(client, { task })
    assert.is_true(polls >= 2, "the caller's loop ran while the task waited (" .. polls .. " polls)")
    assert.is_true(gettime() - t0 >= 0.3)
    assert.are.same({ "before", "after" }, marks)
    assert.are.equal(reply_to("in a task"), task.result)
    assert.is_nil(task.err)
  end)

  it("passes its arguments to fn", function()
    local task = anthropic.spawn(function(a, b, c) return (a or "nil") .. b .. tostring(c) end, nil, "x", 3)
    assert.is_true(task:is_done())
    assert.are.equal("nilx3", task.result)
  end)

  it("rejects a non-function", function()
    local ok, err = pcall(anthropic.spawn, 42)
    assert.is_false(ok)
    assert.are.equal("UsageError", err.class_name)
    assert.are.equal("fn: must be a function", err.message)
  end)

  -- Reads a stream inside a task, recording event types; returns the task and the record.
  local function stream_task(text, read)
    local seen = {}
    local task = anthropic.spawn(function()
      local s = client.messages.stream(params(text), delayed(0, { event_delay_ms = 40 }))
      read(s, function(ev) seen[#seen + 1] = ev.type end)
      return s:final_text()
    end)
    return task, seen
  end

  local function check_stepwise(task, seen, text)
    assert.are.equal(0, #seen)
    -- Each time the caller's poll returns, record how many events the task has seen so far.
    local progress = {}
    while not task:is_done() do
      client:poll(10)
      if progress[#progress] ~= #seen then progress[#progress + 1] = #seen end
    end
    assert.is_nil(task.err, tostring(task.err))
    assert.are.equal(reply_to(text), task.result)
    assert.are.equal("message_start", seen[1])
    assert.are.equal("message_stop", seen[#seen])
    assert.is_true(#progress >= 5, "the caller saw the task advance in steps: " .. table.concat(progress, ","))
  end

  it("stream:next_event() inside a task yields per event (every Lua, plain 5.1 included)", function()
    local text = "one two three four five six"
    local task, seen = stream_task(text, function(s, record)
      while true do
        local ev = s:next_event()
        if not ev then break end
        record(ev)
      end
    end)
    check_stepwise(task, seen, text)
  end)

  if not PLAIN_51 then
    it("for ev in stream:events() inside a task yields per event", function()
      local text = "seven eight nine ten eleven"
      local task, seen = stream_task(text, function(s, record)
        for ev in s:events() do record(ev) end
      end)
      check_stepwise(task, seen, text)
    end)
  else
    it("for ev in stream:events() inside a task on plain Lua 5.1 is refused with a UsageError", function()
      local task = stream_task("refused", function(s, record)
        for ev in s:events() do record(ev) end
      end)
      run_until_done(client, { task })
      assert.are.equal("UsageError", task.err.class_name, tostring(task.err))
      assert.are.equal("stream:events() cannot yield inside a task on Lua 5.1 (a for-in iterator cannot "
        .. "yield there): use `while true do local ev = s:next_event(); if not ev then break end ... end`",
        task.err.message)
    end)
  end

  it("final_message inside a task yields until the stream ends", function()
    local task = anthropic.spawn(function()
      local s = client.messages.stream(params("final in a task"), delayed(200, { event_delay_ms = 10 }))
      local msg = s:final_message()
      return msg.stop_reason .. "|" .. msg.content[1].text
    end)
    assert.is_false(task:is_done())
    run_until_done(client, { task })
    assert.are.equal("end_turn|" .. reply_to("final in a task"), task.result)
  end)

  it("a pcall-wrapped fallback (compat.pcall) yields inside the task instead of blocking", function()
    -- Like a model fallback: try opus (denied for this key), catch the typed error, use haiku.
    local tried = {}
    local task = anthropic.spawn(function()
      for _, model in ipairs { "claude-opus-4-7", HAIKU } do
        tried[#tried + 1] = model
        local ok, res = compat.pcall(client.messages.create, params("fallback", model), delayed(200))
        if ok then return model .. ": " .. res.content[1].text end
        if not errors.PermissionDenied.is_class_of(res) then error(res, 0) end
      end
    end)
    assert.is_false(task:is_done(), "the first attempt is still waiting on the mock")
    assert.are.same({ "claude-opus-4-7" }, tried)
    local polls = run_until_done(client, { task })
    assert.is_true(polls >= 4)
    assert.is_nil(task.err, tostring(task.err))
    assert.are.same({ "claude-opus-4-7", HAIKU }, tried)
    assert.are.equal(HAIKU .. ": " .. reply_to("fallback"), task.result)
  end)

  it("fallback.create inside a task yields on every attempt (sonnet denied for this key -> haiku)", function()
    local fallback = require "anthropic.fallback"
    local task = anthropic.spawn(function()
      local msg, report = fallback.create(client, params("real fallback", "claude-sonnet-4-6"),
        { options = delayed(200) })
      return report.used_model .. ": " .. msg.content[1].text .. " after " .. #report.attempts .. " attempts"
    end)
    assert.is_false(task:is_done(), "the first attempt is still waiting on the mock")
    local t0 = gettime()
    local polls = run_until_done(client, { task })
    assert.is_nil(task.err, tostring(task.err))
    assert.are.equal(HAIKU .. ": " .. reply_to("real fallback") .. " after 2 attempts", task.result)
    assert.is_true(gettime() - t0 >= 0.4, "two 200 ms attempts, one after the other")
    assert.is_true(polls >= 4)
  end)

  it("fallback.stream inside a task: next_event() yields per event on the model that answers", function()
    local fallback = require "anthropic.fallback"
    local text = "fallback stream one two three four"
    local seen = 0
    local task = anthropic.spawn(function()
      local s, report = fallback.stream(client, params(text, "claude-sonnet-4-6"),
        { options = delayed(100, { event_delay_ms = 20 }) })
      while true do
        local ev = s:next_event()
        if not ev then break end
        seen = seen + 1
      end
      return report.used_model .. ": " .. s:final_text()
    end)
    assert.is_false(task:is_done())
    local progress = {}
    while not task:is_done() do
      client:poll(10)
      if progress[#progress] ~= seen then progress[#progress + 1] = seen end
    end
    assert.is_nil(task.err, tostring(task.err))
    assert.are.equal(HAIKU .. ": " .. reply_to(text), task.result)
    assert.is_true(#progress >= 5, "the caller saw the task advance in steps: " .. table.concat(progress, ","))
  end)

  it("access.check inside a task yields while its probes run concurrently", function()
    local access = require "anthropic.access"
    local task = anthropic.spawn(function()
      local results, models = access.check(client, { "claude-opus-4-7", "claude-sonnet-4-6", HAIKU },
        { options = delayed(500), ttl = 0 })
      local out = {}
      for i, m in ipairs(models) do
        out[i] = m .. "=" .. (results[m].ok and "ok" or results[m].error.class_name)
      end
      return table.concat(out, " ")
    end)
    assert.is_false(task:is_done())
    local t0 = gettime()
    run_until_done(client, { task })
    local elapsed = gettime() - t0
    assert.is_nil(task.err, tostring(task.err))
    assert.are.equal("claude-opus-4-7=PermissionDenied claude-sonnet-4-6=PermissionDenied "
      .. HAIKU .. "=ok", task.result)
    assert.is_true(elapsed < 1.2, "three 500 ms probes at once took " .. elapsed .. " s (one by one: 1.5 s)")
    assert.are.equal(3, #mock.requests())
  end)

  it("many tasks interleave on one client: 10 tasks x 3 sequential requests in about 3 delays", function()
    local order, tasks = {}, {}
    local t0 = gettime()
    for i = 1, 10 do
      tasks[i] = anthropic.spawn(function()
        local got = {}
        for step = 1, 3 do
          local msg = client.messages.create(params("task " .. i .. " step " .. step), delayed(150))
          order[#order + 1] = i .. ":" .. step
          got[step] = msg.content[1].text
        end
        return table.concat(got, "|")
      end)
    end
    assert.is_true(gettime() - t0 < 0.15, "ten spawns returned at once")
    run_until_done(client, tasks)
    local elapsed = gettime() - t0
    -- One after another this is 30 x 150 ms = 4.5 s; interleaved it is about 3 x 150 ms.
    assert.is_true(elapsed < 2.0, "took " .. elapsed .. " s")
    for i = 1, 10 do
      assert.is_nil(tasks[i].err, tostring(tasks[i].err))
      assert.are.equal(reply_to("task " .. i .. " step 1") .. "|" .. reply_to("task " .. i .. " step 2") .. "|"
        .. reply_to("task " .. i .. " step 3"), tasks[i].result)
    end
    -- Interleaved: every task finished step 1 before any task finished step 3.
    local first_step3, last_step1
    for k, mark in ipairs(order) do
      if mark:match(":1$") then last_step1 = k end
      if mark:match(":3$") and not first_step3 then first_step3 = k end
    end
    assert.is_true(last_step1 < first_step3, table.concat(order, " "))
  end)

  it("a blocking call outside any task still blocks and returns the result", function()
    local t0 = gettime()
    local msg = client.messages.create(params("outside"), delayed(200))
    assert.is_true(gettime() - t0 >= 0.2)
    assert.are.equal(reply_to("outside"), msg.content[1].text)
  end)
end)

describe("errors inside tasks", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("an API error raised inside a task ends it with task.err = the typed error", function()
    local task = anthropic.spawn(function()
      return client.messages.create(params("overloaded"), delayed(100, { status = 529 }))
    end)
    assert.is_false(task:is_done())
    run_until_done(client, { task })
    assert.is_nil(task.result)
    assert.are.equal("Overloaded", task.err.class_name)
    assert.are.equal(529, task.err.status)
  end)

  it("a plain Lua error inside a task ends it with task.err; the client keeps working", function()
    local task = anthropic.spawn(function()
      client.messages.create(params("then fail"), delayed(50))
      error("task boom", 0)
    end)
    run_until_done(client, { task })
    assert.are.equal("task boom", task.err)
    assert.are.equal(reply_to("next"), client.messages.create(params("next")).content[1].text)
  end)

  it("task.on_done, set after spawn, receives (nil, result) or (err)", function()
    local calls = {}
    local good = anthropic.spawn(function()
      return client.messages.create(params("on_done ok"), delayed(50)).content[1].text
    end)
    good.on_done = function(...) calls[#calls + 1] = { "good", select("#", ...), ... } end
    local bad = anthropic.spawn(function()
      client.messages.create(params("on_done bad"), delayed(50, { status = 500 }))
    end)
    bad.on_done = function(...) calls[#calls + 1] = { "bad", select("#", ...), ... } end
    run_until_done(client, { good, bad })
    table.sort(calls, function(a, b) return a[1] > b[1] end)
    assert.are.equal(2, #calls)
    assert.are.same({ "good", 2, nil, reply_to("on_done ok") }, calls[1])
    assert.are.equal("bad", calls[2][1])
    assert.are.equal("InternalServerError", calls[2][3].class_name)
  end)

  it("a stream error inside a task's event loop surfaces as task.err with the partial message", function()
    local n = 0
    local task = anthropic.spawn(function()
      local s = client.messages.stream(params("stream error"), delayed(0, { deltas = 6, error_after = 3 }))
      while s:next_event() do n = n + 1 end
    end)
    run_until_done(client, { task })
    assert.are.equal("StreamError", task.err.class_name)
    assert.are.equal("overloaded_error", task.err.type)
    assert.is_true(n >= 3)
    assert.are.equal("message", task.err.partial.type)
    assert.is_true(#task.err.partial.content[1].text > 0)
  end)
end)
