-- anthropic.bulk_find: finds the batch a bulk job may have created without knowing it.
--
-- The window: the job recorded its intent to submit batch k (with the time), sent the POST,
-- and died (or the reply was lost: a reset, a timeout) before it could record the batch id.
-- The API may or may not have created the batch, and batches carry no caller metadata. What
-- identifies ours is the set of custom_ids, which only the results show, so:
--   1. list batches newest first, back to `window` seconds before the recorded intent;
--   2. candidates hold exactly as many requests as batch k and are not already some other
--      batch of this job;
--   3. each candidate, nearest to the intent's time first, is waited for until it ended and
--      its results are read: it is ours when every custom_id is one of batch k's (equal counts
--      make the sets equal).
-- The first candidate that matches is adopted; none means the POST created nothing, and the
-- job submits batch k (again). A batch of someone else's with the same count costs one extra
-- results read, never a wrong adoption.

local engine = require "anthropic.engine"
local parse_time = require("anthropic.pacing").parse_time     -- the one RFC 3339 reader

local M = {}

local function total(counts)
  if type(counts) ~= "table" then return -1 end
  local n = 0
  for _, k in ipairs { "processing", "succeeded", "errored", "canceled", "expired" } do
    n = n + (tonumber(counts[k]) or 0)
  end
  return n
end

-- The ended batch `id` holds exactly the custom_ids of `members` (custom_id -> true), `n` many.
local function holds(job, id, members, n)
  local batches = job.client.messages.batches
  local b = batches.retrieve(id, job.options)
  while b.processing_status ~= "ended" do
    engine.sleep(job.client, job.poll_interval)
    b = batches.retrieve(id, job.options)
  end
  local results, seen = batches.results(id, job.options), 0
  while true do
    local entry = results:next()
    if entry == nil then break end
    if not members[entry.custom_id] then
      results:close()
      return false
    end
    seen = seen + 1
  end
  return seen == n
end

--- The id of the batch this job created for `b` (whose members are the custom_id set
--- `members`, `n` of them) before it could record it, or nil when there is none.
---@param job table the running job: client, options (list_options: without betas), betas, poll_interval,
---  window, claimed (the batch ids in the state)
---@param b table the state's batch entry (intent_at)
---@param members table<string, boolean>
---@param n integer
---@return string|nil id
function M.lost_batch(job, b, members, n)
  local since = b.intent_at - job.window
  local candidates = {}
  local page = job.client.messages.batches.list({ limit = 100, betas = job.betas }, job.list_options)
  local done = false
  while page and not done do
    for _, item in ipairs(page.data) do
      local t = parse_time(item.created_at)
      if t and t < since then done = true; break end
      if not job.claimed[item.id] and total(item.request_counts) == n then
        candidates[#candidates + 1] = { id = item.id, off = math.abs((t or b.intent_at) - b.intent_at) }
      end
    end
    if not done then page = page:next_page() end
  end
  -- Nearest to the recorded intent first: ours was created within moments of it.
  table.sort(candidates, function(x, y) return x.off < y.off end)
  for _, c in ipairs(candidates) do
    if holds(job, c.id, members, n) then return c.id end
  end
  return nil
end

return M
