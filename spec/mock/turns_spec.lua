-- x-mock-fault "turns": scripted assistant turns (docs/mock.md "Scripted turns"), over real HTTP.
local mock = require "spec.support.mock"
local cjson = require "cjson"

local TOOLS = { { name = "get_weather", description = "Weather",
  input_schema = { type = "object", properties = { city = { type = "string" } } } } }

local function post(turns, messages, extra)
  local b = { model = mock.MODELS.haiku, max_tokens = 1000, tools = TOOLS, messages = messages }
  for k, v in pairs(extra or {}) do b[k] = v end
  local fault = type(turns) == "string" and turns or cjson.encode({ turns = turns })
  local status, _, body = mock.request("POST", "/v1/messages", mock.headers({ ["x-mock-fault"] = fault }),
    cjson.encode(b))
  return status, b.stream and body or cjson.decode(body)
end

local USER = { role = "user", content = "go" }
local function convo(n_assistant)
  local m = { USER }
  for _ = 1, n_assistant do
    m[#m + 1] = { role = "assistant", content = "ok" }
    m[#m + 1] = { role = "user", content = "more" }
  end
  return m
end

describe("mock scripted turns", function()
  before_each(function() mock.clear() end)

  local SCRIPT = {
    { text = "Let me check.", tool_use = { name = "get_weather", input = { city = "Paris" }, id = "toolu_a" } },
    "Sunny in Paris.",
  }

  it("answers turn n of the conversation with element n (1 + assistant messages sent)", function()
    local status, m1 = post(SCRIPT, convo(0))
    assert.equal(200, status)
    assert.same({ { type = "text", text = "Let me check." },
      { type = "tool_use", id = "toolu_a", name = "get_weather", input = { city = "Paris" } } }, m1.content)
    assert.equal("tool_use", m1.stop_reason)
    local _, m2 = post(SCRIPT, convo(1))
    assert.same({ { type = "text", text = "Sunny in Paris." } }, m2.content)
    assert.equal("end_turn", m2.stop_reason)
  end)

  it("replays the same turn for the same conversation (retries do not advance it)", function()
    local _, a = post(SCRIPT, convo(0))
    local _, b = post(SCRIPT, convo(0))
    assert.same(a.content, b.content)
  end)

  it("gives the ordinary reply after the script", function()
    local _, m = post(SCRIPT, convo(2))
    assert.same({ { type = "text", text = "You said: more" } }, m.content)
  end)

  it("numbers tool_use ids when none is given, and takes a list of tools and content blocks", function()
    local _, m = post({ { tool_use = { { name = "a" }, { name = "b", input = { x = 1 } } } } }, convo(0))
    assert.equal(2, #m.content)
    assert.matches("^toolu_mock_%d+$", m.content[1].id)
    assert.are_not.equal(m.content[1].id, m.content[2].id)
    assert.same({ x = 1 }, m.content[2].input)
    local _, c = post({ { content = { { type = "tool_use", name = "a", id = "t1" }, { type = "text", text = "after" } },
      stop_reason = "refusal" } }, convo(0))
    assert.equal("tool_use", c.content[1].type)
    assert.equal("after", c.content[2].text)
    assert.equal("refusal", c.stop_reason)
  end)

  it("pause_turn: a continuation (the assistant turn sent back) gets the next element", function()
    local script = { { text = "Searching", stop_reason = "pause_turn" }, "Found it." }
    local _, m1 = post(script, { USER })
    assert.equal("pause_turn", m1.stop_reason)
    local _, m2 = post(script, { USER, { role = "assistant", content = m1.content } })
    assert.same({ { type = "text", text = "Found it." } }, m2.content)
  end)

  it("max_tokens cuts a tool input: partial JSON when streamed, {} in the JSON reply", function()
    local script = { { tool_use = { name = "get_weather", input = { city = "a long city name" } }, max_tokens = 2 } }
    local _, m = post(script, convo(0))
    assert.equal("max_tokens", m.stop_reason)
    assert.same({}, m.content[1].input)
    local _, raw = post(script, convo(0), { stream = true })
    local partial = {}
    for _, e in ipairs(mock.sse(raw)) do
      local d = e.data
      if d.delta and d.delta.partial_json then partial[#partial + 1] = d.delta.partial_json end
      if d.delta and d.delta.stop_reason then assert.equal("max_tokens", d.delta.stop_reason) end
    end
    assert.equal('{"city": "a ', table.concat(partial))   -- fragments of 7 and 5 bytes
  end)

  it("streams a scripted turn with the same content as its JSON reply", function()
    local _, raw = post(SCRIPT, convo(0), { stream = true })
    local text, json_parts, ids = {}, {}, {}
    for _, e in ipairs(mock.sse(raw)) do
      local d = e.data
      if d.content_block and d.content_block.id then ids[#ids + 1] = d.content_block.id end
      if d.delta and d.delta.text then text[#text + 1] = d.delta.text end
      if d.delta and d.delta.partial_json then json_parts[#json_parts + 1] = d.delta.partial_json end
    end
    assert.equal("Let me check.", table.concat(text))
    assert.same({ city = "Paris" }, cjson.decode(table.concat(json_parts)))
    assert.same({ "toolu_a" }, ids)
  end)

  it("the request's stop_sequences still apply", function()
    local _, m = post({ "one STOP two" }, convo(0), { stop_sequences = { "STOP" } })
    assert.equal("stop_sequence", m.stop_reason)
    assert.equal("one ", m.content[1].text)
  end)

  it("works from the config file's faults list", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(cjson.encode({ faults = { { path = "/v1/messages", turns = { "from the config" } } } }))
    f:close()
    local m2 = mock.spawn { "--config", path }
    local ok, err = pcall(function()
      local status, _, body = mock.request("POST", "/v1/messages", mock.headers(), cjson.encode({
        model = mock.MODELS.haiku, max_tokens = 10, messages = { USER } }), { url = m2.url })
      assert.equal(200, status)
      assert.equal("from the config", cjson.decode(body).content[1].text)
    end)
    m2.stop()
    os.remove(path)
    assert(ok, err)
  end)

  local BAD = {
    { '{"turns":{"a":1}}', "turns: expected a list" },
    { '{"turns":[3]}', "turns.0: expected a string or an object" },
    { '{"turns":[{"txt":"x"}]}', "turns.0: unknown field 'txt'" },
    { '{"turns":["ok",{"tool_use":{"input":{}}}]}', "turns.1.tool_use.name: expected a non-empty string" },
    { '{"turns":[{"tool_use":[{"name":"a","input":[1]}]}]}', "turns.0.tool_use.0.input: expected an object" },
    { '{"turns":[{"content":[{"type":"image"}]}]}', 'turns.0.content.0.type: expected "text" or "tool_use"' },
    { '{"turns":[{"text":"a","content":[]}]}', "turns.0: use either content or text/tool_use" },
    { '{"turns":[{"max_tokens":1.5}]}', "turns.0.max_tokens: expected an integer >= 0" },
    { '{"turns":[{"stop_reason":1}]}', "turns.0.stop_reason: expected a string" },
  }
  for _, row in ipairs(BAD) do
    it("refuses " .. row[1], function()
      local status, body = post(row[1], convo(0))
      assert.equal(400, status)
      assert.equal("x-mock-fault: " .. row[2], body.error.message)
    end)
  end
end)
