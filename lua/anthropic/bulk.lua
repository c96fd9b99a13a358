-- anthropic.bulk: many Messages requests as a job on Message Batches, resumable after a crash.
--
--   local summary = anthropic.bulk.run(client, requests, {
--     state_file = "job.state", retry_errored = true, poll_interval = 30,
--     on_result = function(custom_id, result, info) ... end,
--   })
--
-- requests (a list, or an iterator function returning one { custom_id, params } per call) is
-- read and checked completely first: a bad or duplicate custom_id, bad params, a request larger
-- than a batch may be, are a UsageError before anything is sent. Each request is encoded once;
-- the job keeps the encoded texts, so a batch body is their concatenation. The requests are cut,
-- in their order, into batches of at most max_requests requests and max_bytes bytes of body.
--
-- Then one loop: submit what is not submitted, retrieve what has not ended, hand the results of
-- what ended to on_result line by line, sleep poll_interval when nothing moved. engine.sleep and
-- the batches calls yield inside a task (on_done: the job runs as one, client:poll drives it),
-- and block outside one.
--
-- With state_file, each step is recorded (anthropic.bulk_state) before and after it happens:
--   submit    intent_at saved, POST (no automatic retry: a retried POST could create a second
--             batch), id saved. A crash between the two is resolved by anthropic.bulk_find.
--   deliver   the result's custom_id saved as `delivering` (with the line count and custom_id
--             of the last handled line), on_result; the next line's save records it handled (or
--             a save of its own when no next line is read yet: one save per result). A results
--             file never changes once its batch ended, so a rerun (or the next round, after a
--             download cut off) skips that many lines, checking the last custom_id. The one
--             result being delivered when the process died is delivered again, with
--             info.redelivery = true: a consumer that commits its output before returning can
--             tell it has it (docs/bulk.md says why nothing can do better).
--   failures  a retryable one (5xx, 429, a connection lost) of a batch's create, retrieval or
--             download is tried again a round later, submit_attempts times per batch and run.
--   retry     an errored result whose error type the core calls retryable (the same rule as a
--             stream's `event: error`) is not delivered: it is recorded, and once its batch is
--             handled the recorded ones become a retry batch, in the same save. Once only.

local core = require "anthropic.core"
local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local compat = require "anthropic.compat"
local engine = require "anthropic.engine"
local batches_mod = require "anthropic.batches"
local resource = require "anthropic.resource"
local state_mod = require "anthropic.bulk_state"
local find = require "anthropic.bulk_find"

local M = {}

local usage = errors.usage

M.MAX_REQUESTS = 100000                 -- the API's limits for one batch
M.MAX_BYTES = 256 * 1024 * 1024
local WRAP_BYTES = #'{"requests":[' + #"]}"

local OPTS = {
  on_result = true, on_done = true, state_file = true, retry_errored = true, max_requests = true,
  max_bytes = true, poll_interval = true, options = true, betas = true, submit_attempts = true,
  adopt_window = true,
}

local function check_opts(opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then usage("opts", "must be a table") end
  validate.known_keys(opts, OPTS, "opts.")
  for _, k in ipairs { "on_result", "on_done" } do
    if opts[k] ~= nil and type(opts[k]) ~= "function" then usage("opts." .. k, "must be a function") end
  end
  if opts.state_file ~= nil and (type(opts.state_file) ~= "string" or opts.state_file == "") then
    usage("opts.state_file", "must be a non-empty string (a file path)")
  end
  if opts.retry_errored ~= nil and type(opts.retry_errored) ~= "boolean" then
    usage("opts.retry_errored", "must be true or false")
  end
  local o = {
    on_result = opts.on_result, on_done = opts.on_done, state_file = opts.state_file,
    retry_errored = opts.retry_errored == true,
    max_requests = validate.count(opts.max_requests, "opts.max_requests", M.MAX_REQUESTS, M.MAX_REQUESTS, 1),
    max_bytes = validate.count(opts.max_bytes, "opts.max_bytes", M.MAX_BYTES, M.MAX_BYTES, 1),
    poll_interval = validate.seconds(opts.poll_interval, "opts.poll_interval", 30),
    submit_attempts = validate.count(opts.submit_attempts, "opts.submit_attempts", 5, 100, 1),
    window = validate.seconds(opts.adopt_window, "opts.adopt_window", 600),
    betas = validate.betas(opts.betas, "opts.betas"),
  }
  -- Request options for every call of the job; the job's own calls are blocking ones (they
  -- yield in its task), so callbacks have no place here.
  local raw = opts.options
  local ok, checked = pcall(resource.check_options, raw)
  if not ok then
    if errors.UsageError.is_class_of(checked) then     -- named as the caller wrote it
      checked.message, checked.param = "opts." .. checked.message, "opts." .. (checked.param or "options")
    end
    error(checked, 0)
  end
  o.options = checked
  if raw ~= nil and raw.on_done ~= nil then
    usage("opts.options.on_done", "use opts.on_done: the job calls back once")
  end
  -- as the batches calls take them: betas among the options (retrieve, results), or not (list)
  local ro, lo = { betas = o.betas }, {}
  for k, v in pairs(raw or {}) do ro[k], lo[k] = v, v end
  o.request_options, o.list_options = ro, lo
  return o
end

-- A canonical text of a checked value (object keys sorted), for the job's fingerprint only:
-- cjson writes an object's keys in table order, which differs between two runs of one job.
-- Strings carry their length, so no two values share a text.
local function canonical(v, out)
  local t = type(v)
  if t == "string" then
    out[#out + 1] = #v .. ":" .. v
  elseif t ~= "table" then
    out[#out + 1] = t:sub(1, 1) .. tostring(v) .. ";"
  elseif #v > 0 and next(v, #v) == nil then      -- a list: its order is its own
    out[#out + 1] = "["
    for i = 1, #v do canonical(v[i], out) end
    out[#out + 1] = "]"
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(x, y)
      if type(x) == type(y) then return x < y end
      return type(x) == "number"
    end)
    out[#out + 1] = "{"
    for _, k in ipairs(keys) do
      canonical(k, out)
      canonical(v[k], out)
    end
    out[#out + 1] = "}"
  end
  return out
end

-- Reads every request, checks it and encodes it: job.ids[i], job.texts[i], job.index[id] = i.
local function read_requests(requests, o)
  local nextf
  if type(requests) == "function" then
    nextf = requests
  elseif type(requests) == "table" then
    local n, i = validate.list(requests, "requests"), 0
    nextf = function() i = i + 1; if i <= n then return requests[i] end end
  else
    usage("requests", "must be a list or an iterator function of { custom_id = ..., params = { ... } }")
  end
  local ids, texts, hashes, seen = {}, {}, {}, {}
  local sha = core.sha256_hex
  local n = 0
  while true do
    local r = nextf()
    if r == nil then break end
    n = n + 1
    local where = "requests[" .. n .. "]"
    r = json.plain(r, where, where)
    local id = batches_mod.check_request(r, where, seen, n)
    for k in pairs(r) do
      if k ~= "custom_id" and k ~= "params" then usage(where .. "." .. validate.describe_key(k), "unknown field") end
    end
    local text = json.encode({ custom_id = id, params = r.params }, where)
    if #text + WRAP_BYTES > o.max_bytes then
      usage(where, string.format("is %d bytes encoded, more than one batch may hold (opts.max_bytes %d)",
        #text + WRAP_BYTES, o.max_bytes))
    end
    ids[n], texts[n] = id, text
    hashes[n] = sha(table.concat(canonical(r.params, { #id .. ":" .. id })))
  end
  if n == 0 then usage("requests", "must hold at least one request") end
  return { ids = ids, texts = texts, index = seen, total = n, fingerprint = sha(table.concat(hashes)) }
end

-- Cuts `list` (input positions, in order) into batch entries within the limits. Consecutive
-- positions become ranges { first, count }; a retry batch keeps its list (items).
local function plan(job, list, retry, o)
  local out, cur, bytes = {}, nil, 0
  for _, i in ipairs(list) do
    local size = #job.texts[i] + 1
    if cur == nil or #cur >= o.max_requests or bytes + size + WRAP_BYTES > o.max_bytes + 1 then
      cur, bytes = {}, 0
      out[#out + 1] = cur
    end
    cur[#cur + 1], bytes = i, bytes + size
  end
  for k, items in ipairs(out) do
    if retry then
      out[k] = { items = items, retry = true, consumed = 0 }
    else
      out[k] = { first = items[1], count = #items, consumed = 0 }
    end
  end
  return out
end

local function members(b)
  if b.items then return b.items end
  local list = {}
  for i = 1, b.count do list[i] = b.first + i - 1 end
  return list
end

local function save(run)
  if run.o.state_file then state_mod.save(run.o.state_file, run.st) end
end

local function claimed(st)
  local set = {}
  for _, b in ipairs(st.batches) do if b.id then set[b.id] = true end end
  return set
end

-- A retryable failure of a call for batch b (a results download cut off, a 5xx, a lost create
-- reply): true while b has attempts left in this run, with the wait before the next round.
local function transient(run, b, err)
  if type(err) ~= "table" or not errors.AnthropicError.is_class_of(err) or not err.retryable then return false end
  local attempts = (run.attempts[b] or 0) + 1
  run.attempts[b] = attempts
  if attempts >= run.o.submit_attempts then return false end
  run.wait = math.max(run.wait or 0, tonumber(err.retry_after) or 1)
  return true
end

-- Submits batch entry b (see the file's header for the order of saves). Returns true once b
-- has an id; false when a retryable failure left it for the next round.
local function submit(run, b)
  local job, list = run.job, members(b)
  if b.intent_at then              -- an earlier POST may have created it
    local set = {}
    for _, i in ipairs(list) do set[job.ids[i]] = true end
    local id = find.lost_batch({ client = run.client, options = run.o.request_options, betas = run.o.betas,
      list_options = run.o.list_options, window = run.o.window, poll_interval = run.o.poll_interval,
      claimed = claimed(run.st) }, b, set, #list)
    if id then
      b.id = id
      save(run)
      return true
    end
  end
  b.intent_at = os.time()
  save(run)
  local parts = {}
  for k, i in ipairs(list) do parts[k] = job.texts[i] end
  local o = {}
  for k, v in pairs(run.o.options) do o[k] = v end
  o.max_retries = 0
  local ok, res = compat.pcall(resource.call, run.client, {
    method = "POST", path = "/v1/messages/batches", betas = run.o.betas,
    body = '{"requests":[' .. table.concat(parts, ",") .. "]}",
  }, o, nil)
  if ok then
    b.id = res.id
    save(run)
    return true
  end
  if transient(run, b, res) then return false end
  error(res, 0)
end

local function retryable(result)
  local e = result.error
  local etype = type(e) == "table" and (type(e.error) == "table" and e.error.type or e.type) or nil
  if type(etype) ~= "string" then return false end
  local _, yes = core.stream_error(etype)
  return yes
end

-- A results file that does not match its batch: an APIError, the download stopped.
local function bad_results(results, fmt, ...)
  if results then results:close() end
  error(errors.new(errors.APIError, { message = "bulk: " .. string.format(fmt, ...) }), 0)
end

-- Hands the results of the ended batch b to on_result, from the first line not yet handled.
local function deliver(run, b)
  local job, st, o = run.job, run.st, run.o
  local list, mine, seen = members(b), {}, {}
  for _, i in ipairs(list) do mine[job.ids[i]] = i end
  local results = run.client.messages.batches.results(b.id, o.request_options)
  local line = 0
  while true do
    local entry = results:next()
    if entry == nil then break end
    line = line + 1
    local id = entry.custom_id
    if line == b.consumed and id ~= b.last_id then
      bad_results(results, "the results of batch %s changed since they were read (line %d is %s, was %s)",
        b.id, line, tostring(id), tostring(b.last_id))
    end
    local i, result = mine[id], entry.result
    if i == nil or type(result) ~= "table" or seen[id] then
      bad_results(results, "results line %d of batch %s is not one of its requests or repeats one (custom_id %s)",
        line, b.id, tostring(id))
    end
    seen[id] = true
    if line > b.consumed then
      if o.retry_errored and not b.retry and result.type == "errored" and retryable(result) then
        st.retry[#st.retry + 1] = i
        st.counts.retried = st.counts.retried + 1
      else
        -- One save marks the lines before as handled and this one as being delivered.
        local again = b.delivering == id
        b.delivering = id
        save(run)
        if o.on_result then
          local ok, err = compat.pcall(o.on_result, id, result, { batch_id = b.id, redelivery = again or nil })
          if not ok then
            results:close()           -- the download stops with the job
            run.user_error = err      -- never taken for a network failure, whatever it holds
            error(err, 0)
          end
        end
        b.delivering = nil
        local t = tostring(result.type)
        st.counts[t] = (st.counts[t] or 0) + 1
      end
      b.consumed, b.last_id = line, id
      -- With the next line already read the next save records this one; else save now (the
      -- results may stall, and a crash meanwhile would redeliver a result that was handled).
      if not results:ready() then save(run) end
    end
  end
  if line ~= #list then         -- a result missing: say so rather than lose it
    bad_results(nil, "the results of batch %s hold %d lines for its %d requests", b.id, line, #list)
  end
  b.ended = true
  if #st.retry > 0 then            -- the retry batches and the emptied list: one save
    for _, nb in ipairs(plan(job, st.retry, true, o)) do st.batches[#st.batches + 1] = nb end
    st.retry = {}
  end
  save(run)
end

local function summary(st)
  local out = { batches = {}, batch_ids = {}, total = st.total }
  for k, v in pairs(st.counts) do out[k] = v end
  for _, b in ipairs(st.batches) do
    out.batches[#out.batches + 1] = { id = b.id, requests = b.items and #b.items or b.count, retry = b.retry == true }
    out.batch_ids[#out.batch_ids + 1] = b.id
  end
  return out
end

local function run_job(client, job, o)
  local st = o.state_file and state_mod.load(o.state_file, job.fingerprint, job.total)
  local run = { client = client, job = job, o = o, st = st, attempts = {} }
  if not st then
    st = state_mod.new(job.fingerprint, job.total)
    local all = {}
    for i = 1, job.total do all[i] = i end
    st.batches = plan(job, all, false, o)
    run.st = st
    save(run)
  end
  while true do
    local moved, open = false, false
    for _, b in ipairs(st.batches) do
      if not b.id then
        if submit(run, b) then moved = true else open = true end
      end
    end
    for _, b in ipairs(st.batches) do
      if b.id and not b.ended then
        local got, info = compat.pcall(client.messages.batches.retrieve, b.id, o.request_options)
        if not got then
          if not transient(run, b, info) then error(info, 0) end
          open = true
        elseif info.processing_status == "ended" then
          local ok, err = compat.pcall(deliver, run, b)
          if ok then
            moved = true
          elseif err ~= run.user_error and transient(run, b, err) then
            save(run)                    -- what was handled; the next round reads on from there
            open = true
          else
            error(err, 0)
          end
        else
          open = true
        end
      end
    end
    if not open and not moved then break end
    if not moved or open then
      engine.sleep(client, math.max(o.poll_interval, run.wait or 0))
      run.wait = nil
    end
  end
  return summary(st)
end

--- anthropic.bulk.run(client, requests, opts) -> summary { succeeded, errored, canceled,
--- expired, retried, total, batches = { { id, requests, retry } }, batch_ids }; with
--- opts.on_done, the job runs in a task and run returns that task at once.
---@param client anthropic.Client
---@param requests table|function a list of { custom_id, params }, or an iterator of them
---@param opts? table on_result, on_done, state_file, retry_errored, max_requests, max_bytes, poll_interval,
---  options, betas, submit_attempts, adopt_window (docs/bulk.md)
---@return table|anthropic.Task
function M.run(client, requests, opts)
  if type(client) ~= "table" or type(client.messages) ~= "table" or type(client.messages.batches) ~= "table" then
    usage("client", "must be a client with Message Batches (anthropic.new{})")
  end
  local o = check_opts(opts)
  local job = read_requests(requests, o)
  if not o.on_done then return run_job(client, job, o) end
  return engine.spawn(function()
    local ok, res = compat.pcall(run_job, client, job, o)
    if ok then o.on_done(nil, res) else o.on_done(res, nil) end
    return res
  end)
end

return M
