-- A bulk job in a process of its own, for bulk_spec's kill -9 cases.
--
--   <lua> spec/support/bulk_child.lua URL STATE LOG PROGRESS STOP_AFTER [FAULT]
--
-- Runs anthropic.bulk.run over JOB_SIZE requests against the mock at URL with the state file
-- STATE. Each delivered result is appended to LOG ("custom_id type redelivery\n") and flushed
-- before on_result returns: this consumer commits its output before returning, which is what
-- docs/bulk.md asks of one. A redelivery (info.redelivery) of a custom_id already in LOG is
-- skipped, as such a consumer would. After STOP_AFTER results (0: never) it writes PROGRESS and
-- hangs inside on_result until killed. FAULT, when given, is sent as x-mock-fault on every call.

local anthropic = require "anthropic"

local url, state, log, progress, stop_after, fault = arg[1], arg[2], arg[3], arg[4], tonumber(arg[5]), arg[6]

local JOB_SIZE, PER_BATCH = 30, 10

local function logged()
  local set, f = {}, io.open(log, "r")
  if f then
    for l in f:lines() do set[l:match("^(%S+)")] = true end
    f:close()
  end
  return set
end

local requests = {}
for i = 1, JOB_SIZE do
  requests[i] = { custom_id = string.format("item-%03d", i), params = {
    model = "claude-haiku-4-5", max_tokens = 16, messages = { { role = "user", content = "question " .. i } } } }
end

local client = anthropic.new { api_key = "sk-ant-mock-free", base_url = url, max_retries = 0 }
local delivered, skipped = 0, 0
local summary = anthropic.bulk.run(client, requests, {
  state_file = state, max_requests = PER_BATCH, poll_interval = 0.05,
  options = fault and fault ~= "" and { timeout = 30, headers = { ["x-mock-fault"] = fault } } or nil,
  on_result = function(custom_id, result, info)
    if info.redelivery and logged()[custom_id] then
      skipped = skipped + 1
      return
    end
    local f = assert(io.open(log, "a"))
    f:write(custom_id, " ", result.type, " ", tostring(info.redelivery == true), "\n")
    f:close()
    delivered = delivered + 1
    if delivered == stop_after then
      local p = assert(io.open(progress, "w"))
      p:write(delivered, "\n")
      p:close()
      while true do os.execute("sleep 1") end
    end
  end,
})
io.stdout:write("done ", summary.succeeded, " ", #summary.batch_ids, " skipped ", skipped, "\n")
