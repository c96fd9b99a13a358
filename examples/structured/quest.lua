-- A game asks for a quest and shows it filling in while it streams: each frame polls the
-- client once (nothing blocks), on_parsed hands the quest as far as it came, and the final,
-- schema-checked quest arrives in on_done.
--   ANTHROPIC_API_KEY=... lua examples/structured/quest.lua [--frames N]
local anthropic = require "anthropic"

local QUEST = {
  type = "object",
  properties = {
    title = { type = "string", minLength = 3, maxLength = 60 },
    giver = { type = "string" },
    reward_gold = { type = "integer", minimum = 10, maximum = 500 },
    steps = { type = "array", items = { type = "string" }, minItems = 2, maxItems = 5 },
    kind = { enum = { "fetch", "slay", "escort" } },
  },
  required = { "title", "giver", "reward_gold", "steps", "kind" },
}

local client = anthropic.new {}
local shown, quest, failure = {}, nil, nil

-- What the quest log shows this frame: only what changed since the last one.
local function draw(q)
  for _, field in ipairs { "title", "giver", "kind", "reward_gold" } do
    local v = q[field]
    if v ~= nil and v ~= shown[field] then
      shown[field] = v
      print(("  %-11s %s"):format(field, tostring(v)))
    end
  end
end

client.messages.stream({
  model = os.getenv("ANTHROPIC_MODEL") or "claude-haiku-4-5", max_tokens = 1024,
  messages = { { role = "user", content = "Invent a short quest for a village blacksmith." } },
  output_config = { format = { type = "json_schema", schema = QUEST } },
}, {
  on_parsed = function(partial) draw(partial) end,     -- best effort: not yet checked
  on_done = function(err, msg)
    if err then failure = err else quest = msg.parsed_output end
  end,
})

local frames = 0
while quest == nil and failure == nil do
  frames = frames + 1
  client:poll(16)                                      -- one frame's worth of waiting at most
end
if failure then
  io.stderr:write("no quest: ", tostring(failure), "\n")
  os.exit(1)
end
draw(quest)
print(("quest ready after %d frames: %d steps, first: %s"):format(frames, #quest.steps, quest.steps[1]))
client:close()
