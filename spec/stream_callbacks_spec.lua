-- Typed stream callbacks: on_thinking, on_signature, on_input_json, on_citation,
-- on_content_block, on_message. On the recorded API streams they must fire in the order, and
-- with the values, that the official TypeScript SDK's MessageStream emits ('thinking',
-- 'signature', 'inputJson', 'citation', 'contentBlock', 'message', with 'text' for on_text):
-- spec/fixtures/sse-expected/callbacks/, written by tools/sse-expected/generate.mjs from the SDK.

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local conformance = require "spec.support.conformance"
local support = require "spec.support.client"
local stream_callbacks = require "anthropic.stream_callbacks"

local errors = anthropic.errors
local HAIKU = "claude-haiku-4-5"

local function params(extra)
  local p = { model = HAIKU, max_tokens = 64, messages = { { role = "user", content = "Hello there" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function fault(t) return cjson.encode(t) end

-- Callbacks that record in the fixtures' format.
local function recorder(log)
  local function push(...) log[#log + 1] = { ... } end
  return {
    on_text = function(d, snap) push("text", d, snap) end,
    on_thinking = function(d, snap) push("thinking", d, snap) end,
    on_signature = function(sig) push("signature", sig) end,
    on_input_json = function(p, snap) push("inputJson", p, snap) end,
    on_citation = function(c, snap) push("citation", c, #snap) end,
    on_content_block = function(b) push("contentBlock", b) end,
    on_message = function(m) push("message", m.id, m.stop_reason == nil and cjson.null or m.stop_reason) end,
  }
end

describe("typed stream callbacks, in the official SDK's order on recorded traffic", function()
  local client
  setup(function() client = support.new_client() end)
  teardown(function() client:close() end)

  for _, t in ipairs(conformance.sse_transcripts()) do
    for _, chunk in ipairs { 1, "random" } do
      it(t.name .. ", chunks " .. tostring(chunk), function()
        local expected = conformance.expected(t.name, "callbacks").callbacks
        local log = {}
        local opts = recorder(log)
        opts.headers = { ["x-mock-fault"] = fault { replay = t.path, chunk = chunk, seed = 11 } }
        local s = client.messages.stream(params(), opts)
        pcall(s.final_message, s)
        assert.is_nil(conformance.diff(expected, log))
        assert.equal(#expected, #log)
      end)
    end
  end
end)

describe("typed stream callbacks", function()
  local client
  before_each(function()
    client = support.new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  local TOOL = { name = "get_weather", description = "Weather",
    input_schema = { type = "object", properties = { city = { type = "string" }, days = { type = "integer" } },
      required = { "city", "days" } } }

  it("fire for thinking, tool input, blocks and the message from a live stream (blocking form)", function()
    local log = {}
    local s = client.messages.stream(params {
      thinking = { type = "enabled", budget_tokens = 1024 }, max_tokens = 2048,
      tools = { TOOL }, tool_choice = { type = "any" },
    }, recorder(log))
    local msg = s:final_message()
    local kinds, last = {}, nil
    for _, e in ipairs(log) do
      if e[1] ~= last then kinds[#kinds + 1] = e[1] end
      last = e[1]
    end
    assert.same({ "thinking", "signature", "contentBlock", "inputJson", "contentBlock", "message" }, kinds)
    local thinking = ""
    for _, e in ipairs(log) do
      if e[1] == "thinking" then
        thinking = thinking .. e[2]
        assert.equal(thinking, e[3], "the snapshot is the thinking so far")
      end
    end
    assert.equal(msg.content[1].thinking, thinking)
    local last_json
    for _, e in ipairs(log) do if e[1] == "inputJson" then last_json = e end end
    assert.same(msg.content[2].input, last_json[3])
    assert.same({ city = "mock-city", days = 1 }, msg.content[2].input)
    assert.equal(msg, log[#log] and s:final_message())
  end)

  it("make no snapshot for a callback that does not take one", function()
    local snaps = {}
    local s = client.messages.stream(params { tools = { TOOL }, tool_choice = { type = "any" } }, {
      on_input_json = function(...) snaps[#snaps + 1] = select("#", ...) == 2 and select(2, ...) or "none" end,
    })
    s:final_message()
    assert.is_true(#snaps > 3)
    local one = {}
    s = client.messages.stream(params { tools = { TOOL }, tool_choice = { type = "any" } }, {
      on_input_json = function(p) one[#one + 1] = p end,
    })
    s:final_message()
    assert.equal(#snaps, #one)
    if debug.getinfo(print, "u").nparams ~= nil then
      assert.is_false(stream_callbacks.wants_snapshot(function(_) end))
      assert.is_true(stream_callbacks.wants_snapshot(function(_, _) end))
      assert.is_true(stream_callbacks.wants_snapshot(function(...) return ... end))
    end
  end)

  it("an error in a callback ends the stream with it", function()
    local s = client.messages.stream(params(), { on_content_block = function() error("boom", 0) end })
    local ok, err = pcall(s.final_message, s)
    assert.is_false(ok)
    assert.equal("boom", err)
  end)

  it("are refused by messages.create, and must be functions", function()
    local err = support.raises(client.messages.create, params(), { on_thinking = function() end })
    assert.is_true(errors.UsageError.is_class_of(err))
    assert.equal("options.on_thinking", err.param)
    err = support.raises(client.messages.stream, params(), { on_message = 1 })
    assert.equal("options.on_message", err.param)
  end)
end)

describe("typed stream callbacks in the tool runner", function()
  local client
  before_each(function()
    client = support.new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  local function weather()
    return anthropic.tool { name = "get_weather", description = "Weather",
      input_schema = { type = "object", properties = { city = { type = "string" } }, required = { "city" } },
      run = function(input) return "sunny in " .. input.city end }
  end

  it("fire on every turn's stream, in order", function()
    local log = {}
    local function push(...) log[#log + 1] = table.concat({ ... }, " ") end
    local runner = client.messages.tool_runner({ model = HAIKU, max_tokens = 256, tools = { weather() },
      messages = { { role = "user", content = "use get_weather for Paris" } } }, {
      stream = true,
      on_input_json = function(_, snap) push("inputJson", type(snap)) end,
      on_content_block = function(b) push("contentBlock", b.type) end,
    })
    runner:run_until_done()
    local compact, last = {}, nil
    for _, e in ipairs(log) do
      if e ~= last then compact[#compact + 1] = e end
      last = e
    end
    assert.same({ "contentBlock text", "inputJson table", "contentBlock tool_use", "contentBlock text" }, compact)
    assert.equal(2, #mock.bodies("/v1/messages"))
  end)

  it("need { stream = true }, and must be functions", function()
    local p = { model = HAIKU, max_tokens = 64, messages = { { role = "user", content = "hi" } } }
    local err = support.raises(client.messages.tool_runner, p, { on_thinking = function() end })
    assert.equal("opts.on_thinking", err.param)
    assert.matches("stream = true", err.message)
    err = support.raises(client.messages.tool_runner, p, { stream = true, on_citation = "x" })
    assert.equal("opts.on_citation", err.param)
  end)
end)
