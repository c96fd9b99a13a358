-- anthropic.conversation and the history rules it sends by (anthropic.history).
-- Table-driven: each row is a history as plugins get it wrong, what the mock's validation says
-- of it as it is (its exact 400 message, or true where the API accepts it too), and the
-- normalised history, which the mock must accept. Then the conversation object itself.

local cjson = require "cjson"
local anthropic = require "anthropic"
local history = require "anthropic.history"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local HAIKU = "claude-haiku-4-5"
local MISSING = history.MISSING_RESULT

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = deep_copy(x) end
  return c
end

local function u(content) return { role = "user", content = content } end
local function a(content) return { role = "assistant", content = content } end
local function s(content) return { role = "system", content = content } end
local function text(t) return { type = "text", text = t } end
local function use(id) return { type = "tool_use", id = id, name = "get_weather", input = { city = "Oslo" } } end
local function result(id, c) return { type = "tool_result", tool_use_id = id, content = c } end
local function think(t, sig) return { type = "thinking", thinking = t, signature = sig } end
local function missing(id) return { type = "tool_result", tool_use_id = id, is_error = true, content = MISSING } end

local ROLE = "Input should be 'user' or 'assistant'"
local EMPTY = ": all messages must have non-empty content except for the optional final assistant message"
-- The API names the message after the assistant turn (its index in the list).
local function unpaired(i, ids)
  return "messages." .. i .. ": `tool_use` ids were found without `tool_result` blocks immediately after: "
    .. ids .. ". Each `tool_use` block must have a corresponding `tool_result` block in the next message."
end
local function orphan(i, j, id)
  return "messages." .. i .. ".content." .. j .. ": unexpected `tool_use_id` found in `tool_result` blocks: "
    .. id .. ". Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
end

-- { rule, name, system, input, raw (mock's verdict on the input), want, want_system }
local ROWS = {
  { "system", "a system message first is lifted into system",
    nil, { s "Answer in French.", u "Hello" },
    "messages.0.role: " .. ROLE,
    { u "Hello" }, "Answer in French." },
  { "system", "system messages in the middle join the given system prompt, in order",
    "Be brief.", { u "Hi", a "Hello!", s "Now answer in French.", u "How are you?" },
    "messages.2.role: " .. ROLE,
    { u "Hi", a "Hello!", u "How are you?" }, "Be brief.\n\nNow answer in French." },
  { "system", "a system prompt given as blocks gets the lifted text as another block",
    { text "Be brief." }, { s { text "Use metric units." }, u "Hi" },
    "messages.0.role: " .. ROLE,
    { u "Hi" }, { text "Be brief.", text "Use metric units." } },
  { "empty", "empty text blocks are dropped",
    nil, { u { text "", text "Hello" } },
    "messages: text content blocks must be non-empty",
    { u "Hello" } },
  { "empty", "a message left with no content is dropped",
    nil, { u "Hi", a "", u "Still there?" },
    "messages.1" .. EMPTY,
    { u { text "Hi", text "Still there?" } } },
  { "empty", "an empty final assistant turn is dropped too",
    nil, { u "Hi", a { text "" } },
    "messages: text content blocks must be non-empty",
    { u "Hi" } },
  { "merge", "consecutive user turns become one",
    nil, { u "First part.", u { text "Second part." } },
    true,
    { u { text "First part.", text "Second part." } } },
  { "merge", "consecutive assistant turns become one, content in order",
    nil, { u "Hi", a "Hello.", a { text "How can I help?" }, u "Tell me a joke." },
    true,
    { u "Hi", a { text "Hello.", text "How can I help?" }, u "Tell me a joke." } },
  { "thinking", "thinking blocks are kept with their signatures, in place",
    nil, { u "2+2?", a { think("Adding.", "sig_abc"), text "4" }, u "Sure?" },
    true,
    { u "2+2?", a { think("Adding.", "sig_abc"), text "4" }, u "Sure?" } },
  { "thinking", "a thinking block with empty thinking text but a signature is kept",
    nil, { u "Hi", a { think("", "sig_empty"), text "Hello" }, u "Bye" },
    true,
    { u "Hi", a { think("", "sig_empty"), text "Hello" }, u "Bye" } },
  { "thinking", "redacted_thinking is kept as it is",
    nil, { u "Hi", a { { type = "redacted_thinking", data = "EncRypTed" }, text "Hello" }, u "Bye" },
    true,
    { u "Hi", a { { type = "redacted_thinking", data = "EncRypTed" }, text "Hello" }, u "Bye" } },
  { "thinking", "a thinking block stripped of its signature cannot be sent and is dropped",
    nil, { u "Hi", a { { type = "thinking", thinking = "Hmm." }, text "Hello" }, u "Bye" },
    "messages.1.content.0.signature: Field required",
    { u "Hi", a "Hello", u "Bye" } },
  { "pairing", "a tool_use the user never answered gets an is_error tool_result",
    nil, { u "Weather in Oslo?", a { text "Let me check.", use "toolu_1" }, u "Never mind." },
    unpaired(2, "toolu_1"),
    { u "Weather in Oslo?", a { text "Let me check.", use "toolu_1" }, u { missing "toolu_1", text "Never mind." } } },
  { "pairing", "tool_result blocks come first in their turn",
    nil, { u "Weather?", a { use "toolu_1" }, u { text "Here:", result("toolu_1", "12 C") } },
    true,
    { u "Weather?", a { use "toolu_1" }, u { result("toolu_1", "12 C"), text "Here:" } } },
  { "pairing", "a tool_result split from its turn by a user message is merged back and paired",
    nil, { u "Weather?", a { use "toolu_1" }, u "(running the tool)", u { result("toolu_1", "12 C") } },
    unpaired(2, "toolu_1"),
    { u "Weather?", a { use "toolu_1" }, u { result("toolu_1", "12 C"), text "(running the tool)" } } },
  { "pairing", "a tool_result whose tool_use is not in the turn before becomes text",
    nil, { u "Hi", a "Hello", u { result("toolu_9", "42") } },
    orphan(2, 0, "toolu_9"),
    { u "Hi", a "Hello", u "(result of tool call toolu_9) 42" } },
  { "pairing", "an orphan tool_result with no text is dropped, and its empty turn with it",
    nil, { u "Hi", a "Hello", u { result("toolu_9", {}) }, u "Go on." },
    orphan(2, 0, "toolu_9"),
    { u "Hi", a "Hello", u "Go on." } },
  { "pairing", "several tool_use blocks: only the missing results are added, in tool_use order",
    nil, { u "Two cities?", a { use "toolu_1", use "toolu_2" }, u { result("toolu_2", "9 C") } },
    unpaired(2, "toolu_1"),
    { u "Two cities?", a { use "toolu_1", use "toolu_2" }, u { missing "toolu_1", result("toolu_2", "9 C") } } },
  { "pairing", "a last assistant turn with tool_use is left for the caller's results",
    nil, { u "Weather?", a { use "toolu_1" } },
    true,
    { u "Weather?", a { use "toolu_1" } } },
}

-- The mock's verdict on a history: true, or the message of its 400.
local function verdict(client, messages, system)
  local ok, err = pcall(client.messages.count_tokens, { model = HAIKU, messages = messages, system = system })
  if ok then return true end
  assert.is_true(anthropic.errors.is(err, anthropic.errors.BadRequest), tostring(err))
  return err.message
end

describe("anthropic.history.normalize", function()
  local client
  setup(function() client = support.new_client() end)
  teardown(function() client:close() end)

  for _, row in ipairs(ROWS) do
    local rule, name, system, input, raw, want, want_system = (table.unpack or unpack)(row) -- luacheck: ignore 113
    describe(rule, function()
      it(name, function()
        local before = deep_copy(input)
        local got, got_system = history.normalize(input, system)
        assert.are.same(want, got)
        assert.are.same(want_system or system, got_system)
        assert.are.same(before, input)                       -- the caller's tables are untouched
        local again, again_system = history.normalize(got, got_system)
        assert.are.same(got, again)                          -- a second pass changes nothing
        assert.are.same(got_system, again_system)
        assert.are.same(raw, verdict(client, input, system))
        assert.is_true(verdict(client, got, got_system))
      end)
    end)
  end

  it("refuses what it cannot mend with a UsageError naming the message", function()
    local rows = {
      { { { role = "tool", content = "x" } }, "messages[1].role: must be 'user', 'assistant' or 'system', got tool" },
      { { "hello" }, "messages[1]: must be a table" },
      { { u(42) }, "messages[1].content: must be a string or a list of content blocks" },
      { { u { "x" } }, "messages[1].content[1]: must be a content block table" },
    }
    for _, r in ipairs(rows) do
      local err = support.raises(history.normalize, r[1])
      assert.is_true(anthropic.errors.is(err, anthropic.errors.UsageError))
      assert.truthy(tostring(err):find(r[2], 1, true), tostring(err))
    end
  end)
end)

local function sent_bodies()
  local out = {}
  for _, r in ipairs(mock.requests()) do
    if r.route == "/v1/messages" then out[#out + 1] = cjson.decode(r.body) end
  end
  return out
end

describe("anthropic.conversation", function()
  local client
  before_each(function()
    client = support.new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  local function new(extra)
    local o = { client = client, model = HAIKU, system = "Be brief." }
    for k, v in pairs(extra or {}) do o[k] = v end
    return anthropic.conversation(o)
  end

  it("ask keeps the history and sends all of it, normalised, with the system prompt", function()
    local conv = new { temperature = 0.5, messages = { s "Use metric units.", u "Hi", u "there" } }
    -- The two user turns of the initial history and the question went out as one turn.
    assert.are.equal("You said: Hi there How warm is it?", conv:ask("How warm is it?").content[1].text)
    assert.are.equal("You said: And tomorrow?", conv:ask("And tomorrow?").content[1].text)
    local bodies = sent_bodies()
    assert.are.equal(2, #bodies)
    assert.are.same({
      u { text "Hi", text "there", text "How warm is it?" }, a "You said: Hi there How warm is it?",
      u "And tomorrow?",
    }, bodies[2].messages)
    assert.are.equal("Be brief.\n\nUse metric units.", bodies[2].system)
    assert.are.equal(0.5, bodies[2].temperature)
    assert.are.equal(1024, bodies[2].max_tokens)
    assert.are.same({
      u { text "Hi", text "there", text "How warm is it?" }, a "You said: Hi there How warm is it?",
      u "And tomorrow?", a "You said: And tomorrow?",
    }, conv:messages())
  end)

  it("messages() hands out copies", function()
    local conv = new()
    conv:ask("Hello")
    local m = conv:messages()
    m[1].content = "changed"
    assert.are.equal("Hello", conv:messages()[1].content)
  end)

  it("a failed exchange leaves the history as it was", function()
    local conv = new { model = "claude-opus-4-7" }      -- the free key may not use Opus
    local err = support.raises(conv.ask, conv, "Hello")
    assert.is_true(err:is(anthropic.errors.PermissionDenied))
    assert.are.same({}, conv:messages())
    conv.model = HAIKU
    conv:ask("Hello")
    assert.are.same({ u "Hello", a "You said: Hello" }, conv:messages())
  end)

  it("ask with on_done records the exchange before on_done runs", function()
    local conv = new()
    local seen
    conv:ask("Hello", { on_done = function(err, msg)
      seen = { err = err, text = msg.content[1].text, history = #conv:messages() }
    end })
    local other = support.raises(conv.ask, conv, "Too soon")
    assert.truthy(tostring(other):find("still streaming", 1, true), tostring(other))
    while client:poll(20) > 0 do end
    assert.are.same({ text = "You said: Hello", history = 2 }, seen)
  end)

  it("stream records the exchange once the stream was read to its end", function()
    local conv = new()
    local st = conv:stream("Stream this")
    local parts = {}
    for ev in st:events() do
      if ev.type == "content_block_delta" then parts[#parts + 1] = ev.delta.text end
    end
    assert.are.equal("You said: Stream this", table.concat(parts))
    assert.are.same({ u "Stream this", a "You said: Stream this" }, conv:messages())
  end)

  it("stream with callbacks records before on_done; a canceled stream records nothing", function()
    local conv = new()
    local texts, done = {}, nil
    conv:stream("With callbacks", {
      on_text = function(d) texts[#texts + 1] = d end,
      on_done = function(err) done = { err = err, n = #conv:messages() } end,
    })
    while client:poll(20) > 0 do end
    assert.are.same({ n = 2 }, done)
    assert.are.equal("You said: With callbacks", table.concat(texts))
    local st = conv:stream("Canceled", { on_done = function() end })
    st:close()
    while client:poll(20) > 0 do end
    assert.are.equal(2, #conv:messages())
  end)

  it("keeps thinking blocks with their signatures across turns", function()
    local conv = new { max_tokens = 2048, thinking = { type = "enabled", budget_tokens = 1024 } }
    local msg = conv:ask("Think first")
    assert.are.equal("thinking", msg.content[1].type)
    conv:ask("Again")
    local sent = sent_bodies()[2].messages[2].content
    assert.are.equal("thinking", sent[1].type)
    assert.are.equal(msg.content[1].signature, sent[1].signature)
    assert.are.equal(msg.content[1].thinking, sent[1].thinking)
  end)

  it("answers an unanswered tool_use for the caller when the user moves on", function()
    local tools = { { name = "get_weather", description = "Weather", input_schema = {
      type = "object", properties = { city = { type = "string" } }, required = { "city" } } } }
    local conv = new { tools = tools }
    local msg = conv:ask("Use get_weather for Oslo")
    assert.are.equal("tool_use", msg.stop_reason)
    local id = msg.content[#msg.content].id
    -- The mock answers a turn holding a tool_result with what the tool returned.
    assert.are.equal("The tool returned: " .. MISSING, conv:ask("Never mind").content[1].text)
    local last = sent_bodies()[2].messages[3]
    assert.are.same(u { missing(id), text "Never mind" }, last)
  end)

  it("save and load round-trip the conversation, never a credential", function()
    local path = os.tmpname()
    local conv = new { temperature = 0.25 }
    conv:ask("Remember me")
    conv:save(path)
    local f = assert(io.open(path))
    local saved = f:read("*a")
    f:close()
    assert.is_nil(saved:find("sk-ant", 1, true))
    local back = anthropic.conversation.load(path, { client = client })
    os.remove(path)
    assert.are.equal(HAIKU, back.model)
    assert.are.equal("Be brief.", back.system)
    assert.are.same({ temperature = 0.25 }, back.params)
    assert.are.same(conv:messages(), back:messages())
    back:ask("Still there?")
    assert.are.equal(4, #back:messages())
  end)

  it("refuses bad arguments with a UsageError", function()
    local conv = new()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write('{"hello": 1}')
    f:close()
    local rows = {
      { function() anthropic.conversation { client = client } end, "model: must be a non-empty string" },
      { function() anthropic.conversation { client = {}, model = HAIKU } end, "client: expected a Client" },
      { function() anthropic.conversation { model = HAIKU, max_tokens = 0 } end,
        "max_tokens: must be a positive integer" },
      { function() conv:ask("") end, "input: must not be empty" },
      { function() conv:ask(42) end, "input: must be a non-empty string or a list of content blocks" },
      { function() anthropic.conversation.load(path) end, "is not a saved conversation" },
      { function() anthropic.conversation.load(path .. ".none") end, "cannot read" },
    }
    for _, r in ipairs(rows) do
      local err = support.raises(r[1])
      assert.is_true(anthropic.errors.is(err, anthropic.errors.UsageError), tostring(err))
      assert.truthy(tostring(err):find(r[2], 1, true), tostring(err))
    end
    os.remove(path)
  end)
end)
