-- A whole agent: Claude answers a question about local files, reading them with a tool that
-- asks you first.   ANTHROPIC_API_KEY=... lua examples/agent.lua "What does README.md promise?"
local anthropic = require "anthropic"

local read_file = anthropic.tool {
  name = "read_file", description = "Read a text file below the current directory",
  input_schema = { type = "object", properties = { path = { type = "string", minLength = 1 } },
    required = { "path" }, additionalProperties = false },
  run = function(input)
    if input.path:find("%.%.") or input.path:find("^/") then
      error(anthropic.ToolError { content = "only files below the current directory" })
    end
    local f, err = io.open(input.path, "rb")
    if not f then error(anthropic.ToolError { content = err }) end
    local text = f:read(64 * 1024) or ""
    f:close()
    return text
  end,
}

local client = anthropic.new {}
local runner = client.messages.tool_runner({
  model = os.getenv("ANTHROPIC_MODEL") or "claude-haiku-4-5", max_tokens = 1024,
  messages = { { role = "user", content = arg[1] or "Summarise README.md in two sentences." } },
  tools = { read_file },
}, {
  on_tool_call = function(tool_use)                       -- approval before every call
    io.stderr:write(("allow %s %s? [y/N] "):format(tool_use.name, anthropic.json.encode(tool_use.input)))
    local answer = io.read("*l") or ""
    return answer:lower():sub(1, 1) == "y" or "the user said no"
  end,
})
for message in runner:messages() do                       -- each assistant turn as it completes
  for _, block in ipairs(message.content) do
    if block.type == "text" then print(block.text) end
  end
end
if runner.stop_reason ~= "end_turn" then io.stderr:write("stopped: ", runner.stop_reason, "\n") os.exit(1) end
