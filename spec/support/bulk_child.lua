-- A bulk job in a process of its own, for bulk_spec's kill -9 cases.
--
--   <lua> spec/support/bulk_child.lua URL STATE LOG PROGRESS STOP_AFTER [FAULT [MODE]]
--
-- Runs anthropic.bulk.run over JOB_SIZE requests against the mock at URL with the state file
-- STATE. Each delivered result is appended to LOG ("custom_id type redelivery\n") and flushed
-- before on_result returns: this consumer commits its output before returning, which is what
-- docs/bulk.md asks of one. A redelivery (info.redelivery) of a custom_id already in LOG is
-- skipped, as such a consumer would. After STOP_AFTER results (0: never) it writes PROGRESS and
-- hangs inside on_result until killed. FAULT, when given, is sent as x-mock-fault on every call.
-- MODE "retry": the custom_ids are "rnd-NNN", two of them fail once with a retryable error
-- (the mock's errored_once marker) and the job runs with retry_errored.
-- BULK_DIE_AT=K:before|after in the environment: the child sends itself SIGKILL (kill -9, from
-- a shell) just before or just after the rename of its K-th state save.

local anthropic = require "anthropic"

local url, state, log, progress, stop_after, fault, mode =
  arg[1], arg[2], arg[3], arg[4], tonumber(arg[5]), arg[6], arg[7]
local retry = mode == "retry"
local FAIL_ONCE = retry and { [7] = true, [19] = true } or {}

local JOB_SIZE, PER_BATCH = 30, 10

local function logged()
  local set, f = {}, io.open(log, "r")
  if f then
    for l in f:lines() do set[l:match("^(%S+)")] = true end
    f:close()
  end
  return set
end

local die_at, die_when = (os.getenv("BULK_DIE_AT") or ""):match("^(%d+):(%a+)$")
if die_at then
  die_at = tonumber(die_at)
  local saves, rename = 0, os.rename
  local function die()
    local f = assert(io.open("/proc/self/stat"))
    local pid = f:read("*l"):match("^(%d+)")
    f:close()
    os.execute("kill -9 " .. pid)
    while true do end
  end
  os.rename = function(from, to)     -- luacheck: ignore 122
    saves = saves + 1
    if saves == die_at and die_when == "before" then die() end
    local ok, err = rename(from, to)
    if saves == die_at and die_when == "after" then die() end
    return ok, err
  end
end

local requests = {}
for i = 1, JOB_SIZE do
  requests[i] = { custom_id = string.format(retry and "rnd-%03d" or "item-%03d", i), params = {
    model = "claude-haiku-4-5", max_tokens = 16, messages = { { role = "user", content = "question " .. i } } } }
  if FAIL_ONCE[i] then requests[i].params.metadata = { user_id = "mock-outcome:errored_once:overloaded_error" } end
end

local client = anthropic.new { api_key = "sk-ant-mock-free", base_url = url, max_retries = 0 }
local delivered, skipped = 0, 0
local summary = anthropic.bulk.run(client, requests, {
  state_file = state, max_requests = PER_BATCH, poll_interval = 0.05, retry_errored = retry,
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
