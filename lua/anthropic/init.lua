-- anthropic: a Lua client for the Anthropic Messages API.
--
--   local anthropic = require "anthropic"
--   local client = anthropic.new{}                    -- key from ANTHROPIC_API_KEY
--   local msg = client.messages.create{ model = "claude-haiku-4-5", max_tokens = 256,
--     messages = { { role = "user", content = "Hello" } } }
--
-- See README.md for configuration, errors, streaming and the non-blocking API.

local client = require "anthropic.client"
local engine = require "anthropic.engine"
local json = require "anthropic.json"

---@class anthropic
---@field VERSION string
---@field API_VERSION string
---@field errors anthropic.errors the error classes
---@field json table encode, decode, null, array, object (lua-cjson underneath)
---@field null any how JSON null appears in decoded results
---@field array fun(t?: table): table force an (empty) table to encode as a JSON array
---@field object fun(t?: table): table force an (empty) table to encode as a JSON object
---@field new fun(opts?: anthropic.ClientOptions): anthropic.Client
---@field spawn fun(fn: function, ...): anthropic.Task
---@field compat table pcall that a task may yield through on every Lua
---@field bulk table anthropic.bulk: run(client, requests, opts)
---@field conversation anthropic.conversation|fun(opts: anthropic.ConversationOptions): anthropic.Conversation
---@field content anthropic.content content blocks for images, PDFs, text documents and uploaded files
local anthropic = {
  VERSION = client.VERSION,
  API_VERSION = client.API_VERSION,
  errors = require "anthropic.errors",
  json = json,
  --- anthropic.null: how JSON null appears in decoded results (cjson.null).
  null = json.null,
  --- anthropic.array(t) / anthropic.object(t): force an empty table's JSON type.
  array = json.array,
  object = json.object,
}

--- anthropic.new(opts) -> Client (see README "Configuration").
anthropic.new = client.new

--- anthropic.bedrock(opts) -> Client for Claude on Amazon Bedrock (docs/platforms.md).
anthropic.bedrock = function(opts) return require("anthropic.platforms.bedrock").new(opts) end

--- anthropic.vertex(opts) -> Client for Claude on Google Vertex AI (docs/platforms.md).
anthropic.vertex = function(opts) return require("anthropic.platforms.vertex").new(opts) end

--- anthropic.spawn(fn, ...) -> task: runs fn so that blocking calls inside it yield to the
--- host's loop instead of blocking; client:poll() resumes it.
anthropic.spawn = engine.spawn

--- anthropic.conversation{ client, model, system, ... } -> Conversation: a history kept and sent
--- in a form the API accepts (docs/conversation.md); anthropic.conversation.load(path [, opts]).
anthropic.conversation = require "anthropic.conversation"

--- anthropic.bulk.run(client, requests, opts) -> summary: many requests as Message Batches,
--- resumable after a crash with opts.state_file (docs/bulk.md).
anthropic.bulk = require "anthropic.bulk"

--- anthropic.await(start) -> values: inside a task, start(resume) is called and the task sleeps
--- until resume(...) (e.g. from an editor prompt's callback); returns what resume was given.
anthropic.await = engine.await

--- anthropic.tool{ name, description, input_schema, run = function(input, ctx) ... end } -> a
--- tool for client.messages.tool_runner (docs/tools.md).
local tools = require "anthropic.tools"
anthropic.tool = tools.define
--- error(anthropic.ToolError{ content = ... }) inside run: send that content as the error result.
anthropic.ToolError = tools.ToolError

--- anthropic.schema.check(value, schema) -> true | false, errors: the JSON Schema checker.
anthropic.schema = require "anthropic.schema"

--- anthropic.content.image(path | { data = bytes }), .document(...), .file(file_id [, kind]),
--- .text(s): content blocks with the media type from the bytes and base64 done in C (docs/content.md).
anthropic.content = require "anthropic.content"

--- anthropic.compat.pcall: a pcall that a task may yield through on every Lua (plain 5.1's
--- own pcall cannot); use it to catch errors around blocking calls inside a task.
anthropic.compat = require "anthropic.compat"

return anthropic
