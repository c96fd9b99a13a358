-- Validation errors: status 400, invalid_request_error, the message naming
-- the field exactly as the real API words it.
local mock = require "spec.support.mock"
local cjson = require "cjson"

local M = mock.MODELS.haiku
local U = { { role = "user", content = "hi" } }

local function body(t)
  local b = { model = M, max_tokens = 10, messages = U }
  for k, v in pairs(t) do
    if v == "<nil>" then b[k] = nil else b[k] = v end
  end
  return cjson.encode(b)
end

local TOOL = { name = "t", input_schema = { type = "object" } }

local rows = {
  { "not JSON", "{nope",
    "The request body is not valid JSON: Expected object key string but found invalid token at character 2" },
  { "empty body", "", "The request body is not valid JSON: Expected value but found T_END at character 1" },
  { "JSON but not an object", "[1,2]", "Input should be a valid dictionary or object to extract fields from" },
  { "no model", body({ model = "<nil>" }), "model: Field required" },
  { "model not a string", body({ model = 7 }), "model: Input should be a valid string" },
  { "no messages", body({ messages = "<nil>" }), "messages: Field required" },
  { "messages not a list", body({ messages = "hi" }), "messages: Input should be a valid list" },
  { "no max_tokens", body({ max_tokens = "<nil>" }), "max_tokens: Field required" },
  { "max_tokens a string", body({ max_tokens = "10" }), "max_tokens: Input should be a valid integer" },
  { "max_tokens fractional", body({ max_tokens = 1.5 }),
    "max_tokens: Input should be a valid integer, got a number with a fractional part" },
  { "max_tokens zero", body({ max_tokens = 0 }), "max_tokens: Input should be greater than or equal to 1" },
  { "max_tokens over the model's ceiling", body({ max_tokens = 100000 }),
    "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens for claude-haiku-4-5" },
  { "bad role", body({ messages = { { role = "system", content = "x" } } }),
    "messages.0.role: Input should be 'user' or 'assistant'" },
  { "bad role further down", body({ messages = { { role = "user", content = "x" }, { role = "bot", content = "y" } } }),
    "messages.1.role: Input should be 'user' or 'assistant'" },
  { "missing role", body({ messages = { { content = "x" } } }), "messages.0.role: Field required" },
  { "missing content", body({ messages = { { role = "user" } } }), "messages.0.content: Field required" },
  { "empty string content", body({ messages = { { role = "user", content = "" } } }),
    "messages.0: all messages must have non-empty content except for the optional final assistant message" },
  { "empty list content", body({ messages = { { role = "user", content = "x" }, { role = "assistant", content = {} },
    { role = "user", content = "y" } } }),
    "messages.1: all messages must have non-empty content except for the optional final assistant message" },
  { "empty text block", body({ messages = { { role = "user", content = { { type = "text", text = "" } } } } }),
    "messages: text content blocks must be non-empty" },
  { "unknown block type", body({ messages = { { role = "user", content = { { type = "video" } } } } }),
    "messages.0.content.0: Input tag 'video' found using 'type' does not match any of the expected tags: " ..
    "'text', 'image', 'document', 'search_result', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking', " ..
    "'server_tool_use', 'web_search_tool_result'" },
  { "text block without text", body({ messages = { { role = "user", content = { { type = "text" } } } } }),
    "messages.0.content.0.text: Field required" },
  { "orphan tool_result (recorded wording)", body({ messages = {
      { role = "user", content = "x" }, { role = "assistant", content = "ok" },
      { role = "user", content = { { type = "text", text = "r" },
        { type = "tool_result", tool_use_id = "toolu_01GHndag5wQmbzNihYmV2UBj" } } } } }),
    "messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01GHndag5wQmbzNihYmV2UBj. " ..
    "Each `tool_result` block must have a corresponding `tool_use` block in the previous message." },
  { "tool_use without its result", body({ messages = {
      { role = "user", content = "x" },
      { role = "assistant", content = { { type = "tool_use", id = "toolu_a", name = "t", input = {} } } },
      { role = "user", content = "no result" } } }),
    "messages.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_a. " ..
    "Each `tool_use` block must have a corresponding `tool_result` block in the next message." },
  { "stream not boolean", body({ stream = "yes" }), "stream: Input should be a valid boolean" },
  { "temperature too high", body({ temperature = 1.5 }), "temperature: Input should be less than or equal to 1" },
  { "stop_sequences item", body({ stop_sequences = { 1 } }), "stop_sequences.0: Input should be a valid string" },
  { "tool without input_schema", body({ tools = { { name = "t" } } }), "tools.0.input_schema: Field required" },
  { "tool without name", body({ tools = { { input_schema = { type = "object" } } } }), "tools.0.name: Field required" },
  { "bad tool name", body({ tools = { { name = "has space", input_schema = { type = "object" } } } }),
    "tools.0.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'" },
  { "tool_choice unknown type", body({ tools = { TOOL }, tool_choice = { type = "maybe" } }),
    "tool_choice: Input tag 'maybe' found using 'type' does not match any of the expected tags: " ..
    "'auto', 'any', 'tool', 'none'" },
  { "tool_choice names a missing tool", body({ tools = { TOOL }, tool_choice = { type = "tool", name = "zz" } }),
    "tool_choice.name: Tool 'zz' not found in `tools`" },
  { "tool_choice without tools", body({ tool_choice = { type = "any" } }),
    "tool_choice: `tool_choice` may only be specified while providing tools." },
  { "thinking budget too small", body({ thinking = { type = "enabled", budget_tokens = 10 } }),
    "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024" },
  { "thinking budget over max_tokens",
    body({ max_tokens = 2000, thinking = { type = "enabled", budget_tokens = 4000 } }),
    "`max_tokens` must be greater than `thinking.budget_tokens`." },
}

describe("mock validation (400 invalid_request_error)", function()
  for _, row in ipairs(rows) do
    it(row[1], function()
      local status, h, raw = mock.request("POST", "/v1/messages", mock.headers(), row[2])
      assert.equal(400, status)
      local b = cjson.decode(raw)
      assert.equal("error", b.type)
      assert.equal("invalid_request_error", b.error.type)
      assert.equal(row[3], b.error.message)
      assert.equal(h["request-id"], b.request_id)
      assert.equal("false", h["x-should-retry"])
    end)
  end
end)
