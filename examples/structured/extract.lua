-- A script that wants data, not prose: contacts pulled out of free text as a checked table.
--   ANTHROPIC_API_KEY=... lua examples/structured/extract.lua "Ada (ada@example.com) met Alan, 41."
local anthropic = require "anthropic"

local CONTACTS = {
  type = "object",
  properties = {
    people = {
      type = "array",
      items = {
        type = "object",
        properties = {
          name = { type = "string", minLength = 1 },
          email = { type = "string", format = "email" },
          age = { type = "integer", minimum = 0, maximum = 150 },
        },
        required = { "name" },
      },
    },
  },
  required = { "people" },
}

local client = anthropic.new {}
local ok, msg = pcall(client.messages.parse, {
  model = os.getenv("ANTHROPIC_MODEL") or "claude-haiku-4-5", max_tokens = 1024,
  messages = { { role = "user", content = "List the people in: " .. (arg[1] or "Ada met Alan.") } },
  output_config = { format = { type = "json_schema", schema = CONTACTS } },
})
if not ok then
  local err = msg
  if anthropic.errors.ParseError.is_class_of(err) then   -- the answer broke the schema
    for _, e in ipairs(err.errors) do io.stderr:write(e.path, ": ", e.reason, "\n") end
    os.exit(2)
  end
  error(err, 0)
end
for _, p in ipairs(msg.parsed_output.people) do
  print(p.name, p.email or "-", p.age or "-")
end
client:close()
