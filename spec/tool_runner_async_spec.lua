-- client.messages.tool_runner without blocking the host: on_message/on_done driven by poll,
-- inside anthropic.spawn (tools that make API calls, approval that waits for the user), parallel
-- tools, streams, and fallback. Every Lua, plain 5.1 included.
local anthropic = require "anthropic"
local compat = require "anthropic.compat"
local fallback = require "anthropic.fallback"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-6"
local SCHEMA = { type = "object", properties = { city = { type = "string" } }, required = { "city" } }

local scripted = support.scripted
local function params(tools, model)
  return { model = model or HAIKU, max_tokens = 200, tools = tools,
    messages = { { role = "user", content = "Weather?" } } }
end
local function sent() return mock.bodies("/v1/messages") end
local function use(name, input, id) return { name = name, input = input, id = id } end
local TWO_TURNS = { { text = "Looking.", tool_use = use("get_weather", { city = "Paris" }, "t1") }, "Sunny." }

-- Polls until done() or 10 s; `polling` is true only while a poll runs.
local state = { polling = false }
local function drive(client, done)
  local deadline = os.time() + 10
  while not done() do
    assert(os.time() <= deadline, "timed out")
    state.polling = true
    local ok, err = pcall(client.poll, client, 20)
    state.polling = false
    if not ok then error(err, 0) end
  end
end

describe("tool_runner without blocking", function()
  before_each(function() mock.clear() end)

  describe("on_message / on_done", function()
    it("returns at once; poll drives the turns and runs the tools from poll", function()
      local client = scripted(TWO_TURNS, { delay_ms = 50 })
      local got, done_args, tool_in_poll = {}, nil, nil
      local tool = anthropic.tool { name = "get_weather", input_schema = SCHEMA, run = function(input)
        tool_in_poll = state.polling
        return "sunny in " .. input.city
      end }
      local runner = client.messages.tool_runner(params { tool }, {
        on_message = function(msg, r) got[#got + 1] = { msg.stop_reason, r } end,
        on_done = function(err, final, r) done_args = { err = err, final = final, runner = r } end,
      })
      assert.is_false(runner:is_done())
      assert.same({}, got)
      assert.equal(0, #mock.requests())
      drive(client, function() return done_args ~= nil end)
      assert.is_true(tool_in_poll)
      assert.same({ { "tool_use", runner }, { "end_turn", runner } }, got)
      assert.is_nil(done_args.err)
      assert.equal("Sunny.", done_args.final.content[1].text)
      assert.equal(runner, done_args.runner)
      assert.equal("end_turn", runner.stop_reason)
      assert.equal(0, client:inflight())
    end)

    it("refuses a second driver while poll drives it", function()
      local client = scripted(TWO_TURNS)
      local done = false
      local tool = anthropic.tool { name = "get_weather", input_schema = SCHEMA, run = function() return "ok" end }
      local runner = client.messages.tool_runner(params { tool }, { on_done = function() done = true end })
      local err = support.raises(runner.run_until_done, runner)
      assert.equal("this runner is driven by client:poll() (on_message/on_done): wait for on_done", err.message)
      drive(client, function() return done end)
      assert.equal("end_turn", runner.stop_reason)
    end)

    it("hands an API error to on_done, with err.runner", function()
      local client = scripted({}, { status = 529 })
      local result
      client.messages.tool_runner(params {}, { on_done = function(err) result = err end })
      drive(client, function() return result ~= nil end)
      assert.is_true(anthropic.errors.Overloaded.is_class_of(result))
      assert.is_not_nil(result.runner)
    end)

    it("an error in on_message ends the run: on_done gets it", function()
      local client = scripted(TWO_TURNS)
      local result
      local tool = anthropic.tool { name = "get_weather", input_schema = SCHEMA, run = print }
      client.messages.tool_runner(params { tool },
        { on_message = function() error("on_message broke", 0) end, on_done = function(err) result = err end })
      drive(client, function() return result ~= nil end)
      assert.equal("on_message broke", result)
      assert.equal(1, #sent())
    end)

    it("an error in on_done is raised from poll", function()
      local client = scripted { "Hi." }
      client.messages.tool_runner(params {}, { on_done = function() error("on_done broke", 0) end })
      local ok, err = pcall(drive, client, function() return false end)   -- until poll raises
      assert.is_false(ok)
      assert.equal("on_done broke", err)
    end)

    it("streams with on_text: the text arrives as it comes", function()
      local client = scripted(TWO_TURNS)
      local texts, final = {}, nil
      client.messages.tool_runner(params { anthropic.tool { name = "get_weather", input_schema = SCHEMA,
        run = function() return "ok" end } }, { stream = true,
        on_text = function(delta, snapshot) texts[#texts + 1] = { delta, snapshot } end,
        on_done = function(_, msg) final = msg end })
      drive(client, function() return final ~= nil end)
      assert.same({ { "Looking.", "Looking." }, { "Sunny.", "Sunny." } }, texts)
      assert.is_true(sent()[1].stream)
    end)
  end)

  describe("inside anthropic.spawn", function()
    it("runs the loop in a task; tools may make API calls themselves (they yield)", function()
      local client = scripted(TWO_TURNS)
      local inner = support.new_client()
      local tool = anthropic.tool { name = "get_weather", input_schema = SCHEMA, run = function(input)
        local msg = inner.messages.create { model = HAIKU, max_tokens = 50,
          messages = { { role = "user", content = "forecast for " .. input.city } } }
        return msg.content[1].text
      end }
      local task = anthropic.spawn(function()
        local runner = client.messages.tool_runner(params { tool })
        return runner:run_until_done()
      end)
      assert.is_false(task:is_done())
      drive(client, function() inner:poll(0); return task:is_done() end)
      assert.is_nil(task.err)
      assert.equal("Sunny.", task.result.content[1].text)
      local bodies = sent()          -- turn 1, the tool's own request, turn 2
      assert.equal(3, #bodies)
      assert.equal("forecast for Paris", bodies[2].messages[1].content)
      assert.equal("You said: forecast for Paris", bodies[3].messages[3].content[1].content)
    end)

    it("approval may wait for the user (anthropic.await) without blocking the host", function()
      local client = scripted(TWO_TURNS)
      local pending, asked_at_poll = nil, nil
      local ran = false
      local tool = anthropic.tool { name = "get_weather", input_schema = SCHEMA,
        run = function() ran = true; return "ok" end }
      local task = anthropic.spawn(function()
        return client.messages.tool_runner(params { tool }, { on_tool_call = function(tool_use)
          asked_at_poll = state.polling
          return anthropic.await(function(resume) pending = { resume = resume, id = tool_use.id } end)
        end }):run_until_done()
      end)
      drive(client, function() return pending ~= nil end)
      assert.is_true(asked_at_poll)
      -- the host keeps polling while the question is open: nothing runs, nothing is sent
      for _ = 1, 3 do client:poll(10) end
      assert.is_false(ran)
      assert.equal(1, #sent())
      pending.resume("not today")   -- the user's answer, from a host callback
      drive(client, function() return task:is_done() end)
      assert.is_nil(task.err)
      assert.is_false(ran)
      assert.same({ type = "tool_result", tool_use_id = "t1", is_error = true, content = "denied: not today" },
        sent()[2].messages[3].content[1])
    end)

    it("anthropic.await outside a task is a UsageError", function()
      local err = support.raises(anthropic.await, function() end)
      assert.is_true(anthropic.errors.UsageError.is_class_of(err))
    end)

    it("runner:messages() inside a task: works where a for-in iterator may yield, else names the loop", function()
      local client = scripted(TWO_TURNS)
      local tool = anthropic.tool { name = "get_weather", input_schema = SCHEMA, run = function() return "ok" end }
      local task = anthropic.spawn(function()
        local runner = client.messages.tool_runner(params { tool })
        local stops = {}
        if compat.iterator_can_yield then
          for m in runner:messages() do stops[#stops + 1] = m.stop_reason end
        else
          local ok, err = compat.pcall(runner.messages, runner)
          assert(not ok and err.message:find("runner:next_message()", 1, true), tostring(err))
          while true do
            local m = runner:next_message()
            if not m then break end
            stops[#stops + 1] = m.stop_reason
          end
        end
        return stops
      end)
      drive(client, function() return task:is_done() end)
      assert.is_nil(task.err)
      assert.same({ "tool_use", "end_turn" }, task.result)
    end)
  end)

  describe("parallel = true", function()
    local function tools_that_wait(log, client)
      return anthropic.tool { name = "get_weather", input_schema = SCHEMA, run = function(input)
        log[#log + 1] = "start " .. input.city
        -- an empty fault: the ordinary reply, whatever the client's default headers script
        local msg = client.messages.create({ model = HAIKU, max_tokens = 20,
          messages = { { role = "user", content = input.city } } }, { headers = { ["x-mock-fault"] = "{}" } })
        log[#log + 1] = "end " .. input.city
        return msg.content[1].text
      end }
    end
    local THREE = { { tool_use = { use("get_weather", { city = "A" }, "t1"), use("get_weather", { city = "B" }, "t2"),
      use("get_weather", { city = "C" }, "t3") } }, "Done." }

    local function check(log)
      assert.same({ "start A", "start B", "start C" }, { log[1], log[2], log[3] })
      local results = sent()
      local last = results[#results].messages[3].content
      assert.same({ "t1", "t2", "t3" }, { last[1].tool_use_id, last[2].tool_use_id, last[3].tool_use_id })
      assert.same({ "You said: A", "You said: B", "You said: C" },
        { last[1].content, last[2].content, last[3].content })
    end

    it("inside a task, the tools of one turn wait together; results keep their order", function()
      local client = scripted(THREE)
      local log = {}
      local tools_client = support.new_client()
      local task = anthropic.spawn(function()
        return client.messages.tool_runner(params { tools_that_wait(log, tools_client) }, { parallel = true })
          :run_until_done()
      end)
      drive(client, function() tools_client:poll(0); return task:is_done() end)
      assert.is_nil(task.err)
      check(log)
    end)

    it("outside a task too, when the tools use the runner's client", function()
      local log = {}
      local client = scripted(THREE)
      local runner = client.messages.tool_runner(params { tools_that_wait(log, client) }, { parallel = true })
      assert.equal("Done.", runner:run_until_done().content[1].text)
      check(log)
    end)

    it("without it, one after the other", function()
      local log = {}
      local client = scripted(THREE)
      client.messages.tool_runner(params { tools_that_wait(log, client) }):run_until_done()
      assert.same({ "start A", "end A", "start B", "end B", "start C", "end C" }, log)
    end)
  end)

  describe("stream = true", function()
    it("streams() yields one stream per turn; the tools run after each stream's final message", function()
      local client = scripted(TWO_TURNS)
      local ran_before_end = {}
      local ran = 0
      local runner = client.messages.tool_runner(params { anthropic.tool { name = "get_weather", input_schema = SCHEMA,
        run = function() ran = ran + 1; return "ok" end } }, { stream = true })
      local texts = {}
      for s in runner:streams() do
        ran_before_end[#ran_before_end + 1] = ran
        local parts = {}
        while true do
          local ev = s:next_event()
          if not ev then break end
          if ev.type == "content_block_delta" and ev.delta.type == "text_delta" then
            parts[#parts + 1] = ev.delta.text
          end
        end
        texts[#texts + 1] = table.concat(parts)
      end
      assert.same({ "Looking.", "Sunny." }, texts)
      assert.same({ 0, 1 }, ran_before_end)
      assert.equal("end_turn", runner.stop_reason)
      local bodies = sent()
      assert.is_true(bodies[2].stream)
      assert.same({ type = "tool_use", id = "t1", name = "get_weather", input = { city = "Paris" } },
        bodies[2].messages[2].content[2])
    end)

    it("messages() and run_until_done accumulate each stream like messages.stream", function()
      local client = scripted(TWO_TURNS)
      local runner = client.messages.tool_runner(params { anthropic.tool { name = "get_weather", input_schema = SCHEMA,
        run = function() return "ok" end } }, { stream = true })
      local first = runner:next_message()
      assert.same({ city = "Paris" }, first.content[2].input)
      assert.equal("Sunny.", runner:run_until_done().content[1].text)
    end)

    it("streams() without stream = true is a UsageError", function()
      local runner = support.new_client().messages.tool_runner(params {})
      assert.equal("runner:streams() needs the runner option { stream = true }",
        support.raises(runner.streams, runner).message)
    end)
  end)

  describe("fallback", function()
    it("fallback.tool_runner moves the whole conversation on PermissionDenied", function()
      local client = scripted(TWO_TURNS)        -- the free key may not use Sonnet
      local moves = {}
      local runner = fallback.tool_runner(client, params({ anthropic.tool { name = "get_weather", input_schema = SCHEMA,
        run = function() return "ok" end } }, SONNET), { fallback = { ttl = 0,
          on_fallback = function(attempt, nxt) moves[#moves + 1] = attempt.model .. " -> " .. nxt end } })
      runner:run_until_done()
      assert.equal(HAIKU, runner.params.model)
      local models = {}
      for i, b in ipairs(sent()) do models[i] = b.model end
      assert.same({ SONNET, HAIKU, HAIKU }, models)   -- the second turn goes straight to Haiku
      assert.same({ SONNET .. " -> " .. HAIKU }, moves)
    end)

    it("works as a runner option, with streams", function()
      local client = scripted(TWO_TURNS)
      local runner = client.messages.tool_runner(params({ anthropic.tool { name = "get_weather", input_schema = SCHEMA,
        run = function() return "ok" end } }, SONNET),
        { stream = true, fallback = { models = { SONNET, HAIKU }, ttl = 0 } })
      assert.equal("Sunny.", runner:run_until_done().content[1].text)
      local models = {}
      for i, b in ipairs(sent()) do models[i] = b.model end
      assert.same({ SONNET, HAIKU, HAIKU }, models)
    end)

    it("never falls back on AuthenticationFailed", function()
      local client = support.new_client { api_key = "sk-ant-mock-wrong" }
      local runner = fallback.tool_runner(client, params({}, SONNET))
      local err = support.raises(runner.run_until_done, runner)
      assert.is_true(anthropic.errors.AuthenticationFailed.is_class_of(err))
      assert.equal(runner, err.runner)
      assert.equal(1, #sent())
    end)
  end)
end)
