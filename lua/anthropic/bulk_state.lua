-- anthropic.bulk_state: the state file of a bulk job (anthropic.bulk), and nothing else.
--
-- Versioned JSON through anthropic.json. It records what the job knows that the API does not
-- tell it again: which requests went into which batch (ranges of the input, or lists for a
-- retry batch), that a submission was about to be made (`intent_at`, before the POST) and the
-- batch id once the reply came, how many lines of each ended batch's results were handled and
-- the custom_id of the last one, the one result being handed to on_result, the errored items
-- waiting for their retry, and the counts. Never the key, the params or a result.
--
-- save() writes a temporary file beside the state file, flushes and closes it, then renames it
-- over the state file: rename is atomic on POSIX, so a crash (or kill -9) at any point leaves
-- either the old state or the new one, never a torn file. Plain Lua has no fsync: after a
-- process crash the written data is in the kernel and survives; after a power loss the last
-- saves may be lost (the job then redoes them, see docs/bulk.md).

local errors = require "anthropic.errors"
local json = require "anthropic.json"

local M = {}

M.VERSION = 1
M.KIND = "anthropic.bulk"

local function bad(path, why)
  errors.usage("opts.state_file", string.format("%s %s; delete it to start the job afresh", path, why))
end

--- A new state for a job of `total` requests with fingerprint `job`.
---@param job string
---@param total integer
---@return table state
function M.new(job, total)
  return {
    version = M.VERSION, kind = M.KIND, job = job, total = total, batches = {}, retry = {},
    counts = { succeeded = 0, errored = 0, canceled = 0, expired = 0, retried = 0 },
  }
end

--- Reads the state file at `path`: the state, or nil when there is none. A file that is not
--- this job's state (another format, version or job) is a UsageError before anything is sent.
---@param path string
---@param job string the job's fingerprint
---@param total integer
---@return table|nil state
function M.load(path, job, total)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  local st = json.decode(text)
  if type(st) ~= "table" or st.kind ~= M.KIND then bad(path, "is not a bulk job's state file") end
  if st.version ~= M.VERSION then
    bad(path, string.format("has state version %s; this library reads version %d", tostring(st.version), M.VERSION))
  end
  if st.job ~= job or st.total ~= total then
    bad(path, "belongs to another job (its requests differ from these)")
  end
  if type(st.batches) ~= "table" or type(st.retry) ~= "table" or type(st.counts) ~= "table" then
    bad(path, "is damaged")
  end
  return st
end

local function encodable(st)
  local batches = {}
  for i, b in ipairs(st.batches) do
    local copy = {}
    for k, v in pairs(b) do copy[k] = v end
    if b.items then copy.items = json.array(b.items) end
    batches[i] = copy
  end
  local out = {}
  for k, v in pairs(st) do out[k] = v end
  out.batches, out.retry = json.array(batches), json.array(st.retry)
  return out
end

--- Writes `st` to `path` atomically (temporary file, then rename). Raises an error naming the
--- path when the disk refuses: the job stops rather than run on with progress it cannot keep.
---@param path string
---@param st table
function M.save(path, st)
  local text = json.encode(encodable(st), "state")
  local tmp = path .. ".tmp"
  local f, err = io.open(tmp, "wb")
  if not f then error("bulk: cannot write the state file: " .. tostring(err), 0) end
  local ok, werr = f:write(text, "\n")
  if ok then ok, werr = f:flush() end
  f:close()
  if ok then ok, werr = os.rename(tmp, path) end
  if not ok then
    os.remove(tmp)
    error("bulk: cannot write the state file " .. path .. ": " .. tostring(werr), 0)
  end
end

return M
