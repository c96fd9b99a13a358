-- Schema conformance (issue 8): every request the client can send, checked by prism against the
-- API's OpenAPI description (spec/fixtures/conformance/spec/anthropic-openapi.json) with request
-- validation on. Prism answers 422, with an `sl-violations` header, for a request that breaks
-- the schema; any other status is fine here (its example replies need not satisfy our decoding,
-- it serves no SSE and no JSONL), so each row asserts on the status only.
--
-- Prism is a test dependency from npm: tools/prism/install. Without it this spec fails and says
-- so, unless ANTHROPIC_SKIP_PRISM=1. ANTHROPIC_PRISM_URL points at a prism already running.

local anthropic = require "anthropic"
local cjson = require "cjson"
local outcome_mod = require "anthropic.outcome"
local prism = require "spec.support.prism"
local support = require "spec.support.client"

local HAIKU = "claude-haiku-4-5"
-- A 1x1 PNG.
local PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

local WEATHER = {
  name = "get_weather", description = "The current weather in a city.",
  input_schema = { type = "object", properties = {
    location = { type = "string", description = "City and country, e.g. Paris, France" },
    unit = { type = "string", enum = { "celsius", "fahrenheit" } },
  }, required = { "location" } },
}
local TIME = {
  name = "get_time", description = "The time now.",
  input_schema = { type = "object", properties = anthropic.object() },
  cache_control = { type = "ephemeral" },
}

local function user(text) return { { role = "user", content = text } } end

local function full_params()
  return {
    model = HAIKU, max_tokens = 2048,
    system = {
      { type = "text", text = "You are a weather assistant." },
      { type = "text", text = "Answer briefly.", cache_control = { type = "ephemeral" } },
    },
    tools = { WEATHER, TIME },
    tool_choice = { type = "tool", name = "get_weather", disable_parallel_tool_use = true },
    messages = {
      { role = "user", content = {
        { type = "image", source = { type = "base64", media_type = "image/png", data = PNG } },
        { type = "text", text = "What is the weather where this photo was taken?" },
      } },
      { role = "assistant", content = {
        { type = "tool_use", id = "toolu_01A", name = "get_weather", input = { location = "Paris, France" } },
      } },
      { role = "user", content = {
        { type = "tool_result", tool_use_id = "toolu_01A", content = "18 C, light rain" },
        { type = "text", text = "And tomorrow?" },
      } },
    },
    metadata = { user_id = "user-7d3f" },
    stop_sequences = { "\n\nHuman:", "END" },
    thinking = { type = "enabled", budget_tokens = 1024 },
    betas = { "token-efficient-tools-2025-02-19" },
  }
end

local function sampling_params()
  return { model = HAIKU, max_tokens = 64, messages = user("Hi"), temperature = 0.5, top_k = 5, top_p = 0.9,
    tool_choice = { type = "auto" }, tools = { WEATHER }, stop_sequences = { "STOP" } }
end

local function count_params()
  local p = full_params()
  p.max_tokens, p.metadata, p.stop_sequences = nil, nil, nil
  return p
end

-- status, violations of a call: the HTTP status prism answered (the reply's, or the error's)
-- and its sl-violations header. A call that never reached prism (a UsageError) is raised.
local function outcome(fn)
  local ok, res = pcall(fn)
  if ok then
    local resp = type(res) == "table" and (res._response or res.op and { status = res.status }) or nil
    return resp and resp.status or 200, nil
  end
  if type(res) ~= "table" or res.status == nil then
    error("the call did not reach prism: " .. tostring(res), 0)
  end
  return res.status, res.headers and res.headers["sl-violations"]
end

local skipped = prism.skip()
if skipped then
  describe("schema conformance (prism)", function()
    pending("skipped: " .. skipped)
  end)
  return
end

describe("schema conformance (prism)", function()
  local why = prism.missing()
  if why then
    it("needs prism", function() error(why, 0) end)
    return
  end

  local server, client
  setup(function()
    server = prism.start()
    client = anthropic.new { api_key = "sk-ant-prism-test", base_url = server.url, max_retries = 0, timeout = 30 }
  end)
  teardown(function()
    if client then client:close() end
    if server then server.stop() end
  end)

  local BATCH_ID = "msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d"
  local batch_request = {
    { custom_id = "full-1", params = (function() local p = full_params() p.betas = nil return p end)() },
    { custom_id = "sampling_2", params = sampling_params() },
  }

  -- Each row: name, call(client) -> result. None may get 422.
  local rows = {
    { "messages.create, minimal", function(c) return c.messages.create { model = HAIKU, max_tokens = 16,
      messages = user("Hello") } end },
    { "messages.create with system blocks, tools, tool_choice, an image, tool_use/tool_result, metadata, "
      .. "stop_sequences, thinking and betas", function(c) return c.messages.create(full_params()) end },
    { "messages.create with temperature, top_k, top_p and tool_choice auto",
      function(c) return c.messages.create(sampling_params()) end },
    { "messages.create with on_done (the same request, non-blocking)", function(c)
      local done
      c.messages.create(sampling_params(), { on_done = function(err, r) done = { err, r } end })
      while not done do c:poll(50) end
      if done[1] then error(done[1], 0) end
      return done[2]
    end },
    { "messages.stream (prism serves no SSE: 406 is expected)", function(c)
      local s = c.messages.stream(full_params())
      return s:final_message()
    end },
    { "messages.count_tokens, minimal", function(c)
      return c.messages.count_tokens { model = HAIKU, messages = user("Hello") } end },
    { "messages.count_tokens with system blocks, tools, tool_choice, an image and thinking", function(c)
      return c.messages.count_tokens(count_params()) end },
    { "a tool runner's conversation, sent again (tool_use, tool_result with is_error and with blocks)",
      function(c)
        -- The runner runs against the mock (scripted turns); what it built is sent to prism.
        local runner = support.scripted({ { text = "Checking.", tool_use = {
          { name = "get_weather", input = { location = "Paris, France" }, id = "toolu_01A" },
          { name = "get_weather", input = { location = 3 }, id = "toolu_01B" },
          { name = "get_time", input = {}, id = "toolu_01C" } } }, "Done." })
          .messages.tool_runner({ model = HAIKU, max_tokens = 64, messages = user("Weather and time?"), tools = {
            anthropic.tool { name = WEATHER.name, description = WEATHER.description,
              input_schema = WEATHER.input_schema, run = function() return "18 C" end },
            anthropic.tool { name = TIME.name, description = TIME.description, input_schema = TIME.input_schema,
              run = function() return { { type = "text", text = "12:00" } } end } } })
        runner:run_until_done()
        return c.messages.create(runner.params)
      end },
    { "models.list", function(c) return c.models.list() end },
    { "models.list with limit and after_id, and betas", function(c)
      return c.models.list { limit = 5, after_id = "claude-opus-4-7", betas = { "b1", "b2" } } end },
    { "models.list with before_id", function(c)
      return c.models.list { limit = 2, before_id = "claude-haiku-4-5" } end },
    { "models.list next_page", function(c)
      local page = c.models.list { limit = 1 }
      return page:next_page() or page
    end },
    { "models.retrieve", function(c) return c.models.retrieve(HAIKU, { betas = { "b1" } }) end },
    { "messages.batches.create", function(c)
      return c.messages.batches.create { requests = batch_request, betas = { "message-batches-2024-09-24" } } end },
    { "messages.batches.retrieve", function(c) return c.messages.batches.retrieve(BATCH_ID) end },
    { "messages.batches.list", function(c) return c.messages.batches.list { limit = 3 } end },
    { "messages.batches.list with before_id", function(c)
      return c.messages.batches.list { limit = 3, before_id = BATCH_ID } end },
    { "messages.batches.cancel", function(c) return c.messages.batches.cancel(BATCH_ID) end },
    { "messages.batches.delete", function(c) return c.messages.batches.delete(BATCH_ID) end },
    { "messages.batches.results (prism cannot serialize JSONL: 500 is expected)", function(c)
      -- prism's example batch is in_progress; let results() see an ended one and send its request.
      local real = c.messages.batches.retrieve
      c.messages.batches.retrieve = function(id)
        return { id = id, processing_status = "ended",
          results_url = "https://api.anthropic.com/v1/messages/batches/" .. id .. "/results" }
      end
      local ok, res = pcall(c.messages.batches.results, BATCH_ID)
      c.messages.batches.retrieve = real
      if not ok then error(res, 0) end
      return res
    end },
  }

  for _, row in ipairs(rows) do
    it(row[1] .. " passes request validation", function()
      local status, violations = outcome(function() return row[2](client) end)
      assert.are_not.equal(422, status, "prism rejected the request: " .. tostring(violations))
      assert.is_number(status)
    end)
  end

  -- The check can fail: requests that break the schema get 422, each for the reason given.
  local function raw(method, path, body)
    return function(c)
      return c:_call { method = method, path = path, body = body and cjson.encode(body),
        handler = outcome_mod.json_handler }
    end
  end
  local wrong = {
    { "max_tokens as a string", raw("POST", "/v1/messages",
      { model = HAIKU, max_tokens = "1024", messages = user("Hi") }), "max_tokens must be integer" },
    { "an unknown top-level field", raw("POST", "/v1/messages",
      { model = HAIKU, max_tokens = 5, messages = user("Hi"), max_tokns = 5 }), "additional properties" },
    { "an image with an unsupported media_type", raw("POST", "/v1/messages", { model = HAIKU, max_tokens = 5,
      messages = { { role = "user", content = { { type = "image",
        source = { type = "base64", media_type = "image/bmp", data = PNG } } } } } }), "media_type" },
    { "count_tokens without messages", raw("POST", "/v1/messages/count_tokens", { model = HAIKU }), "messages" },
    { "a batch custom_id with a space", raw("POST", "/v1/messages/batches",
      { requests = { { custom_id = "has space",
        params = { model = HAIKU, max_tokens = 5, messages = user("Hi") } } } }),
      "custom_id" },
    { "models.list with limit=0", raw("GET", "/v1/models?limit=0"), "limit" },
  }
  for _, row in ipairs(wrong) do
    it("rejects " .. row[1] .. " with 422", function()
      local status, violations = outcome(function() return row[2](client) end)
      assert.are.equal(422, status)
      assert.is_truthy(tostring(violations):find(row[3], 1, true),
        "expected a violation mentioning " .. row[3] .. ", got " .. tostring(violations))
    end)
  end
end)
