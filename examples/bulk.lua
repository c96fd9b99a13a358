-- A bulk job that survives a crash: one prompt per line of a file, answered through Message
-- Batches (half price), each answer appended to a JSONL file as its batch ends.
--
--   ANTHROPIC_API_KEY=... lua examples/bulk.lua prompts.txt answers.jsonl
--
-- Kill it (Ctrl-C, kill -9, a reboot) and run the same command again: it goes on where it
-- stopped (answers.jsonl.state), submits no prompt twice and writes no answer twice.
local anthropic = require "anthropic"

local prompts_path, out_path = arg[1], arg[2]
if not (prompts_path and out_path) then
  io.stderr:write("usage: lua examples/bulk.lua PROMPTS.txt ANSWERS.jsonl\n")
  os.exit(2)
end

local requests = {}
for line in assert(io.open(prompts_path)):lines() do
  if line:find("%S") then
    requests[#requests + 1] = { custom_id = string.format("line-%06d", #requests + 1), params = {
      model = os.getenv("ANTHROPIC_MODEL") or "claude-haiku-4-5", max_tokens = 1024,
      messages = { { role = "user", content = line } } } }
  end
end

-- The custom_ids already in the output: only asked about for a result flagged as a redelivery
-- (the one being written when the last run died).
local function written(custom_id)
  local f = io.open(out_path)
  if not f then return false end
  for line in f:lines() do
    if line:find('"custom_id":"' .. custom_id .. '"', 1, true) then f:close(); return true end
  end
  f:close()
  return false
end

local out = assert(io.open(out_path, "a"))
local summary = anthropic.bulk.run(anthropic.new {}, requests, {
  state_file = out_path .. ".state", retry_errored = true,
  poll_interval = tonumber(os.getenv("BULK_POLL_SECONDS") or "") or 60,
  on_result = function(custom_id, result, info)
    if info.redelivery and written(custom_id) then return end
    local text = result.type == "succeeded" and result.message.content[1].text or anthropic.null
    out:write(anthropic.json.encode { custom_id = custom_id, type = result.type, text = text }, "\n")
    out:flush()                                   -- committed before on_result returns
  end,
})
out:close()
print(string.format("%d answered, %d errored, %d canceled, %d expired, in %d batches", summary.succeeded,
  summary.errored, summary.canceled, summary.expired, #summary.batch_ids))
