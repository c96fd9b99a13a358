-- client.messages.tool_runner, blocking: the loop, tool results, input checks, approval,
-- stopping, changing course. Scripted turns on the mock (docs/mock.md "Scripted turns") say
-- what the assistant asks for; the request log shows what the runner sent.
local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local HAIKU = "claude-haiku-4-5"
local SCHEMA = { type = "object", properties = { city = { type = "string" } }, required = { "city" } }

local scripted = support.scripted

local function params(tools, extra)
  local p = { model = HAIKU, max_tokens = 200, messages = { { role = "user", content = "Weather in Paris?" } },
    tools = tools }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

-- The decoded bodies of the Messages requests the mock received.
local function sent() return mock.bodies("/v1/messages") end

local function weather(log)
  return anthropic.tool { name = "get_weather", description = "Weather", input_schema = SCHEMA,
    run = function(input, ctx)
      if log then log[#log + 1] = { input = input, ctx = ctx } end
      return "sunny in " .. input.city
    end }
end

local function use(name, input, id) return { name = name, input = input, id = id } end

describe("tool_runner", function()
  before_each(function() mock.clear() end)

  it("runs the tools, sends the results and returns the final message", function()
    local log = {}
    local client = scripted { { text = "Let me look.", tool_use = use("get_weather", { city = "Paris" }, "toolu_1") },
      "Sunny in Paris." }
    local runner = client.messages.tool_runner(params { weather(log) })
    local stops = {}
    for message in runner:messages() do stops[#stops + 1] = message.stop_reason end
    assert.same({ "tool_use", "end_turn" }, stops)
    assert.equal("end_turn", runner.stop_reason)
    assert.is_true(runner:is_done())
    assert.equal(4, #runner.params.messages)
    assert.equal(1, #log)
    assert.same({ city = "Paris" }, log[1].input)
    assert.equal("toolu_1", log[1].ctx.tool_use.id)
    assert.equal(runner, log[1].ctx.runner)
    assert.equal(client, log[1].ctx.client)
    local bodies = sent()
    assert.equal(2, #bodies)
    assert.same({ role = "user", content = { { type = "tool_result", tool_use_id = "toolu_1",
      content = "sunny in Paris" } } }, bodies[2].messages[3])
    assert.same({ role = "assistant", content = { { type = "text", text = "Let me look." },
      { type = "tool_use", id = "toolu_1", name = "get_weather", input = { city = "Paris" } } } },
      bodies[2].messages[2])
    -- run_until_done after the end returns the last message without sending anything
    assert.equal("Sunny in Paris.", runner:run_until_done().content[1].text)
    assert.equal(2, #sent())
  end)

  it("sends tool definitions without run; server tools and tools without run as they are", function()
    local client = scripted { "Hi." }
    local server = { type = "web_search_20250305", name = "web_search", max_uses = 1 }
    local runner = client.messages.tool_runner(params { weather(), server,
      { name = "plain", description = "p", input_schema = SCHEMA, run = function() end } })
    runner:run_until_done()
    assert.same({ { name = "get_weather", description = "Weather", input_schema = SCHEMA }, server,
      { name = "plain", description = "p", input_schema = SCHEMA } }, sent()[1].tools)
  end)

  it("answers every tool_use in order, in one user message: unknown tools, errors, ToolError, content", function()
    local client = scripted { { tool_use = {
      use("get_weather", { city = "A" }, "t1"), use("nope", {}, "t2"), use("boom", {}, "t3"),
      use("tool_error", {}, "t4"), use("blocks", {}, "t5"), use("json", {}, "t6"),
      use("get_weather", { city = "B" }, "t7"),
    } }, "Done." }
    local any = { type = "object" }
    local runner = client.messages.tool_runner(params { weather(),
      anthropic.tool { name = "boom", input_schema = any, run = function() error("disk on fire", 0) end },
      anthropic.tool { name = "tool_error", input_schema = any,
        run = function() error(anthropic.ToolError { content = { { type = "text", text = "try later" } } }) end },
      anthropic.tool { name = "blocks", input_schema = any,
        run = function() return { { type = "text", text = "one" }, { type = "text", text = "two" } } end },
      anthropic.tool { name = "json", input_schema = any, run = function() return { temp = 20 } end },
    })
    runner:run_until_done()
    local results = sent()[2].messages[3].content
    assert.same({
      { type = "tool_result", tool_use_id = "t1", content = "sunny in A" },
      { type = "tool_result", tool_use_id = "t2", is_error = true,
        content = 'unknown tool "nope" (tools: blocks, boom, get_weather, json, tool_error)' },
      { type = "tool_result", tool_use_id = "t3", is_error = true, content = "disk on fire" },
      { type = "tool_result", tool_use_id = "t4", is_error = true,
        content = { { type = "text", text = "try later" } } },
      { type = "tool_result", tool_use_id = "t5",
        content = { { type = "text", text = "one" }, { type = "text", text = "two" } } },
      { type = "tool_result", tool_use_id = "t6", content = '{"temp":20}' },
      { type = "tool_result", tool_use_id = "t7", content = "sunny in B" },
    }, results)
  end)

  it("a raised error object is sent as its text", function()
    local client = scripted { { tool_use = use("fails", {}, "t1") }, "ok" }
    local runner = client.messages.tool_runner(params { anthropic.tool { name = "fails",
      input_schema = { type = "object" },
      run = function() error(setmetatable({}, { __tostring = function() return "custom failure" end })) end } })
    runner:run_until_done()
    assert.same({ { type = "tool_result", tool_use_id = "t1", is_error = true, content = "custom failure" } },
      sent()[2].messages[3].content)
  end)

  it("checks the input against input_schema before run; an invalid input never reaches run", function()
    local log = {}
    local strict = { type = "object", additionalProperties = false, required = { "city", "days" },
      properties = { city = { type = "string" }, days = { type = "integer", minimum = 1, maximum = 7 } } }
    local client = scripted { { tool_use = { use("forecast", { city = 3, days = 9, extra = true }, "t1"),
      use("forecast", { city = "Paris", days = 2 }, "t2") } }, "ok" }
    local runner = client.messages.tool_runner(params { anthropic.tool { name = "forecast", input_schema = strict,
      run = function(input) log[#log + 1] = input; return "fine" end } })
    runner:run_until_done()
    assert.same({ { city = "Paris", days = 2 } }, log)
    assert.same({
      { type = "tool_result", tool_use_id = "t1", is_error = true, content = "invalid input: $.city: expected string, "
        .. 'got integer; $.days: must be <= 7, got 9; $: unexpected property "extra"' },
      { type = "tool_result", tool_use_id = "t2", content = "fine" },
    }, sent()[2].messages[3].content)
  end)

  it("on_tool_call approves or denies each call before run", function()
    local ran, asked = {}, {}
    local client = scripted { { tool_use = {
      use("get_weather", { city = "A" }, "t1"), use("get_weather", { city = "B" }, "t2"),
      use("get_weather", { city = "C" }, "t3"), use("get_weather", { city = "D" }, "t4") } }, "ok" }
    local tool = anthropic.tool { name = "get_weather", input_schema = SCHEMA,
      run = function(input) ran[#ran + 1] = input.city; return "ran" end }
    local verdicts = { A = true, B = false, C = "the user said no", D = nil }
    local runner = client.messages.tool_runner(params { tool }, { on_tool_call = function(tool_use, t)
      asked[#asked + 1] = tool_use.id
      assert.equal(tool, t)
      return verdicts[tool_use.input.city]
    end })
    runner:run_until_done()
    assert.same({ "t1", "t2", "t3", "t4" }, asked)
    assert.same({ "A", "D" }, ran)
    local results = sent()[2].messages[3].content
    assert.same({ type = "tool_result", tool_use_id = "t2", is_error = true, content = "denied: not approved" },
      results[2])
    assert.same({ type = "tool_result", tool_use_id = "t3", is_error = true, content = "denied: the user said no" },
      results[3])
    assert.equal("ran", results[4].content)
  end)

  it("an error in on_tool_call ends the run with that error", function()
    local client = scripted { { tool_use = use("get_weather", { city = "A" }, "t1") }, "ok" }
    local runner = client.messages.tool_runner(params { weather() },
      { on_tool_call = function() error("ui crashed", 0) end })
    assert.equal("ui crashed", support.raises(runner.run_until_done, runner))
    assert.equal(1, #sent())
  end)

  describe("stopping", function()
    it("stops at max_iterations (default 10) with the tool results in the conversation", function()
      local loop = {}
      for i = 1, 12 do loop[i] = { tool_use = use("get_weather", { city = "c" .. i }, "t" .. i) } end
      local runner = scripted(loop).messages.tool_runner(params { weather() })
      runner:run_until_done()
      assert.equal("max_iterations", runner.stop_reason)
      assert.equal(10, #sent())
      assert.equal(21, #runner.params.messages)
      assert.equal("t10", runner.params.messages[21].content[1].tool_use_id)
      mock.clear()
      local three = scripted(loop).messages.tool_runner(params { weather() }, { max_iterations = 3 })
      three:run_until_done()
      assert.equal("max_iterations", three.stop_reason)
      assert.equal(3, #sent())
    end)

    it("stops on max_tokens without running a cut tool input", function()
      local ran = false
      local client = scripted { { tool_use = use("get_weather", { city = "a long city name" }, "t1"), max_tokens = 2 } }
      local runner = client.messages.tool_runner(params { anthropic.tool { name = "get_weather", input_schema = SCHEMA,
        run = function() ran = true end } })
      local final = runner:run_until_done()
      assert.equal("max_tokens", runner.stop_reason)
      assert.equal("max_tokens", final.stop_reason)
      assert.is_false(ran)
      assert.equal(1, #sent())
    end)

    for _, reason in ipairs { "refusal", "stop_sequence", "end_turn" } do
      it("stops on " .. reason, function()
        local runner = scripted({ { text = "x", stop_reason = reason } }).messages.tool_runner(params { weather() })
        runner:run_until_done()
        assert.equal(reason, runner.stop_reason)
      end)
    end

    it("pause_turn sends the assistant turn back and counts as an iteration", function()
      local client = scripted { { text = "Searching", stop_reason = "pause_turn" }, "Found it." }
      local runner = client.messages.tool_runner(params({ { type = "web_search_20250305", name = "web_search" } }),
        { max_iterations = 2 })
      local final = runner:run_until_done()
      assert.equal("Found it.", final.content[1].text)
      local bodies = sent()
      assert.equal(2, #bodies)
      assert.same({ role = "assistant", content = { { type = "text", text = "Searching" } } }, bodies[2].messages[2])
      assert.equal(2, #bodies[2].messages)
      local capped = scripted({ { text = "Searching", stop_reason = "pause_turn" }, "Found it." })
        .messages.tool_runner(params({}), { max_iterations = 1 })
      capped:run_until_done()
      assert.equal("max_iterations", capped.stop_reason)
    end)

    it("stops with stop_reason tool_use when a tool has no run (the caller answers it)", function()
      local client = scripted { { tool_use = use("mine", { city = "A" }, "t1") }, "Thanks." }
      local runner = client.messages.tool_runner(params { { name = "mine", input_schema = SCHEMA } })
      runner:run_until_done()
      assert.equal("tool_use", runner.stop_reason)
      runner:push_messages { role = "user", content = { { type = "tool_result", tool_use_id = "t1", content = "42" } } }
      assert.is_false(runner:is_done())
      assert.equal("Thanks.", runner:run_until_done().content[1].text)
      assert.equal("end_turn", runner.stop_reason)
    end)

    it("raises API errors as they are, with the conversation so far on err.runner", function()
      local client = scripted({ { tool_use = use("get_weather", { city = "A" }, "t1") } },
        { sequence = { 200, { status = 500, message = "kaput" } } })
      local runner = client.messages.tool_runner(params { weather() })
      local err = support.raises(runner.run_until_done, runner)
      assert.is_true(anthropic.errors.InternalServerError.is_class_of(err))
      assert.equal("kaput", err.message)
      assert.equal(runner, err.runner)
      assert.equal(3, #err.runner.params.messages)
      assert.equal("tool_result", err.runner.params.messages[3].content[1].type)
    end)
  end)

  describe("changing course", function()
    it("push_messages continues a finished conversation", function()
      local client = scripted { "First answer.", "Second answer." }
      local runner = client.messages.tool_runner(params {})
      runner:run_until_done()
      runner:push_messages({ role = "user", content = "And tomorrow?" })
      assert.equal("Second answer.", runner:run_until_done().content[1].text)
      assert.equal(3, #sent()[2].messages)
      assert.equal("First answer.", sent()[2].messages[2].content[1].text)
      assert.equal("And tomorrow?", sent()[2].messages[3].content)
    end)

    it("push_messages between turns replaces the automatic tool step", function()
      local ran = false
      local client = scripted { { tool_use = use("get_weather", { city = "A" }, "t1") }, "ok" }
      local runner = client.messages.tool_runner(params { anthropic.tool { name = "get_weather", input_schema = SCHEMA,
        run = function() ran = true end } })
      runner:next_message()
      runner:push_messages { role = "user",
        content = { { type = "tool_result", tool_use_id = "t1", content = "mine" } } }
      runner:run_until_done()
      assert.is_false(ran)
      assert.equal("mine", sent()[2].messages[3].content[1].content)
    end)

    it("set_params takes a table or a function; the next turn uses it", function()
      local client = scripted { { tool_use = use("get_weather", { city = "A" }, "t1") }, "ok" }
      local runner = client.messages.tool_runner(params { weather() })
      runner:next_message()
      runner:set_params(function(p)
        local p2 = {}
        for k, v in pairs(p) do p2[k] = v end
        p2.system = "Be brief."
        return p2
      end)
      runner:run_until_done()
      local bodies = sent()
      assert.is_nil(bodies[1].system)
      assert.equal("Be brief.", bodies[2].system)
      assert.equal("tool_result", bodies[2].messages[3].content[1].type)
      runner:set_params(params({ weather() }, { max_tokens = 77 }))
      assert.equal(77, runner.params.max_tokens)
      assert.equal(1, #runner.params.messages)
    end)

    it("runner.params.messages is ready to send again", function()
      local client = scripted { { tool_use = use("get_weather", { city = "A" }, "t1") }, "ok" }
      local runner = client.messages.tool_runner(params { weather() })
      runner:run_until_done()
      local again = client.messages.create(runner.params)
      assert.equal("message", again.type)
      assert.equal(cjson.encode(sent()[2].tools), cjson.encode(sent()[3].tools))
    end)

    it("does not change the caller's params", function()
      local p = params { weather() }
      local runner = scripted({ { tool_use = use("get_weather", { city = "A" }, "t1") }, "ok" }).messages.tool_runner(p)
      runner:run_until_done()
      assert.equal(1, #p.messages)
    end)
  end)

  describe("bad input, before anything is sent", function()
    local function bad(p, opts)
      local client = support.new_client()
      return support.raises(client.messages.tool_runner, p, opts)
    end
    local ROWS = {
      { "duplicate tool names", params { weather(), { type = "web_search_20250305", name = "get_weather" } }, nil,
        'tools: duplicate tool name "get_weather"' },
      { "an invalid tool", params { { name = "x y", input_schema = SCHEMA, run = print } }, nil,
        'tools[1].name: must be 1 to 128 characters of A-Z a-z 0-9 _ -, got "x y"' },
      { "no model", { max_tokens = 1, messages = {} }, nil, "model: must be a non-empty string" },
      { "max_iterations 0", params {}, { max_iterations = 0 }, "opts.max_iterations: must be an integer >= 1" },
      { "stream in the params", params({}, { stream = true }), nil, "stream: use the runner option { stream = true }" },
      { "an unknown option", params {}, { max_iteration = 3 }, "opts.max_iteration: unknown option" },
      { "on_tool_call not a function", params {}, { on_tool_call = true }, "opts.on_tool_call: must be a function" },
      { "callbacks in request options", params {}, { options = { on_done = print } },
        "opts.options.on_done: give on_message/on_done/on_event/on_text to the runner" },
    }
    for _, row in ipairs(ROWS) do
      it(row[1], function()
        mock.clear()
        local err = bad(row[2], row[3])
        assert.is_true(anthropic.errors.UsageError.is_class_of(err))
        assert.equal(row[4], err.message)
        assert.equal(0, #sent())
      end)
    end
  end)
end)
