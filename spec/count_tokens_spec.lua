-- client.messages.count_tokens (issue 8) against the mock: the reply, the request on the wire
-- (path, body without library-only fields, anthropic-beta), typed errors, argument checks and
-- non-blocking use. The mock counts 4 + ceil(#JSON of system, messages, tools, tool_choice / 4)
-- (docs/mock.md); the rows avoid "/" and numbers so the JSON length is the same whichever JSON
-- encoder or key order computes it.

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local errors = anthropic.errors
local HAIKU, OPUS = "claude-haiku-4-5", "claude-opus-4-7"

local new_client = support.new_client

local raises = support.raises

local function user(text) return { { role = "user", content = text } } end

local function mock_count(p)
  local s = cjson.encode { system = p.system, messages = p.messages, tools = p.tools, tool_choice = p.tool_choice }
  return 4 + math.ceil(#s / 4)
end

local WEATHER = { name = "get_weather", description = "Weather in a city",
  input_schema = { type = "object", properties = { city = { type = "string" } }, required = { "city" } } }

describe("client.messages.count_tokens", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  local rows = {
    { "one short user message", { model = HAIKU, messages = user("hi") }, 16 },
    { "a longer message counts more", { model = HAIKU, messages = user(string.rep("word ", 40)) } },
    { "a system prompt", { model = HAIKU, system = "Answer in one word.", messages = user("hi") } },
    { "system blocks", { model = HAIKU, system = { { type = "text", text = "Be brief." } }, messages = user("hi") } },
    { "tools and tool_choice", { model = HAIKU, tools = { WEATHER }, tool_choice = { type = "auto" },
      messages = user("Weather in Paris?") } },
    { "a conversation", { model = HAIKU, messages = {
      { role = "user", content = "hi" }, { role = "assistant", content = "Hello." },
      { role = "user", content = { { type = "text", text = "And now?" } } } } } },
  }
  for _, row in ipairs(rows) do
    it("returns { input_tokens = n } for " .. row[1], function()
      local r = client.messages.count_tokens(row[2])
      local expected = row[3] or mock_count(row[2])
      assert.are.equal(expected, r.input_tokens)
      if math.type then assert.are.equal("integer", math.type(r.input_tokens)) end
      local keys = {}
      for k in pairs(r) do keys[#keys + 1] = k end
      assert.are.same({ "input_tokens" }, keys)
      assert.matches("^req_", r._request_id)
    end)
  end

  it("agrees with the usage.input_tokens of messages.create for the same params", function()
    local p = { model = HAIKU, system = "Be brief.", messages = user("What is a haiku?") }
    local counted = client.messages.count_tokens(p).input_tokens
    p.max_tokens = 16
    assert.are.equal(counted, client.messages.create(p).usage.input_tokens)
  end)

  it("posts the params as JSON to /v1/messages/count_tokens, without betas, with anthropic-beta", function()
    local p = { model = HAIKU, messages = user("hi"), betas = { "token-counting-2024-11-01", "other" } }
    client.messages.count_tokens(p)
    local log = mock.requests()
    assert.are.equal(1, #log)
    assert.are.equal("POST", log[1].method)
    assert.are.equal("/v1/messages/count_tokens", log[1].path)
    assert.are.equal("application/json", log[1].headers["content-type"])
    assert.are.equal("token-counting-2024-11-01,other", log[1].headers["anthropic-beta"])
    assert.are.same({ model = HAIKU, messages = user("hi") }, cjson.decode(log[1].body))
    assert.are.same({ "token-counting-2024-11-01", "other" }, p.betas, "the caller's params are not changed")
  end)

  it("sends no anthropic-beta without betas", function()
    client.messages.count_tokens { model = HAIKU, messages = user("hi") }
    assert.is_nil(mock.requests()[1].headers["anthropic-beta"])
  end)

  it("leaves out the fields only a create takes, so a create's params can be counted as they are", function()
    local p = { model = HAIKU, messages = user("hi"), max_tokens = 64, temperature = 0.2, top_p = 0.9,
      stop_sequences = { "END" }, metadata = { user_id = "u" }, system = "Be brief." }
    client.messages.count_tokens(p)
    local sent = cjson.decode(mock.requests()[1].body)
    assert.are.same({ model = HAIKU, messages = user("hi"), system = "Be brief." }, sent)
    assert.are.equal(64, p.max_tokens, "the caller's params are not changed")
  end)

  it("does not need max_tokens", function()
    assert.are.equal(16, client.messages.count_tokens({ model = HAIKU, messages = user("hi") }).input_tokens)
  end)

  local api_errors = {
    { "an unknown model is NotFound", { model = "claude-nope", messages = user("hi") },
      errors.NotFound, 404, "model: claude-nope" },
    { "a model above the key's tier is PermissionDenied", { model = OPUS, messages = user("hi") },
      errors.PermissionDenied, 403, "Your API key does not have permission to use the specified resource." },
    { "an empty messages list is BadRequest", { model = HAIKU, messages = {} },
      errors.BadRequest, 400, "messages: List should have at least 1 item after validation, not 0" },
  }
  for _, row in ipairs(api_errors) do
    it(row[1], function()
      local err = raises(client.messages.count_tokens, row[2])
      assert.is_true(err:is(row[3]))
      assert.are.equal(row[4], err.status)
      assert.are.equal(row[5], err.message)
      assert.matches("^req_", err.request_id)
    end)
  end

  local bad = {
    { "params not a table", "hi", "params: must be a table" },
    { "no model", { messages = user("hi") }, "model: must be a non-empty string" },
    { "messages not a list", { model = HAIKU, messages = "hi" }, "messages: must be a list (a table with items 1..n)" },
    { "stream = true", { model = HAIKU, messages = user("hi"), stream = true },
      "stream: use client.messages.stream(params) instead of stream = true" },
    { "a beta with a comma", { model = HAIKU, messages = user("hi"), betas = { "a,b" } },
      "betas[1]: must be a non-empty string without CR, LF, NUL or comma" },
  }
  for _, row in ipairs(bad) do
    it("raises UsageError for " .. row[1] .. " before sending anything", function()
      local err = raises(client.messages.count_tokens, row[2])
      assert.is_true(err:is(errors.UsageError))
      assert.are.equal(row[3], err.message)
      assert.are.same({}, mock.requests())
    end)
  end

  it("with on_done returns an op at once and hands the count to the callback", function()
    local calls, got_err, got = 0, nil, nil
    local op = client.messages.count_tokens({ model = HAIKU, messages = user("hi") },
      { on_done = function(err, r) calls, got_err, got = calls + 1, err, r end })
    assert.is_false(op:is_done())
    while client:poll(50) > 0 do end
    assert.are.equal(1, calls)
    assert.is_nil(got_err)
    assert.are.equal(16, got.input_tokens)
  end)
end)
