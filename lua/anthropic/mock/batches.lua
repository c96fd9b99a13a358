-- anthropic.mock.batches: the Message Batches endpoints.
--
-- A batch is kept in memory with its requests. Processing is deterministic:
-- each request is checked when the batch is created (validation, model,
-- permission for the creating key) and becomes "succeeded" or "errored";
-- the batch ends on a rule, not a clock:
--   * batch_pending_polls = N (default 1): the first N retrievals
--     (GET .../batches/{id}) show in_progress, the next shows ended;
--   * batch_end_ms = T: instead, it ends T ms after creation (seen by any
--     endpoint that looks at it).
-- Both come from the config or from the create request's x-mock-fault.
-- A request whose params carry metadata.user_id "mock-outcome:<outcome>" ends
-- as told: "expired", "canceled", "errored:<error type>", or
-- "errored_once:<error type>" (errored in the first batch of this mock that
-- holds its custom_id, succeeded in later ones: a retry that helps).
-- A results download with the fault close_after = K closes the connection after K lines.
-- Cancel moves in_progress to canceling; the next retrieval shows it ended
-- with every request canceled. Results exist only once ended and are
-- generated line by line while streaming (a 10,000-request batch costs no
-- more memory than its requests).

local json = require "anthropic.mock.json"
local ids = require "anthropic.mock.ids"
local sched = require "anthropic.mock.sched"
local validate = require "anthropic.mock.validate"
local reply = require "anthropic.mock.reply"
local auth = require "anthropic.mock.auth"
local paginate = require "anthropic.mock.paginate"

local M = {}

local MAX_REQUESTS = 100000
local BATCH = json.order({ "id", "type", "processing_status", "request_counts", "ended_at", "created_at",
  "expires_at", "cancel_initiated_at", "results_url", "archived_at" })
local COUNTS = json.order({ "processing", "succeeded", "errored", "canceled", "expired" })
local LINE = json.order({ "custom_id", "result" })
local RESULT = json.order({ "type", "message", "error" })
local ERROR_BODY = json.order({ "type", "error", "request_id" })
local ERROR_INNER = json.order({ "type", "message" })

function M.new_store()
  return { list = {}, by_id = {}, seq = 0, failed_once = {}, requests = 0 }
end

local SETTINGS = json.order({ "batch_pending_polls", "batch_end_ms", "created", "requests" })

-- settings(ctx) -> the timing knobs and the counts of batches and requests created (GET /_mock/batches)
function M.settings(ctx)
  local cfg, store = ctx.config, ctx.batches
  return json.obj(SETTINGS, { batch_pending_polls = cfg.batch_pending_polls,
    batch_end_ms = cfg.batch_end_ms or json.null, created = store.seq, requests = store.requests })
end

-- configure(ctx, t) -> nil, or a message for a bad field: sets the knobs for batches created
-- from now on (PUT /_mock/batches); a field left out keeps its value.
function M.configure(ctx, t)
  if not json.is_object(t) then return "expected a JSON object" end
  for k, v in pairs(t) do
    if k == "batch_pending_polls" then
      if type(v) ~= "number" or v < 0 or v ~= math.floor(v) then return k .. ": expected an integer >= 0" end
    elseif k == "batch_end_ms" then
      if v ~= json.null and (type(v) ~= "number" or v < 0) then return k .. ": expected a number >= 0 or null" end
    else
      return "unknown field '" .. tostring(k) .. "'"
    end
  end
  local cfg = ctx.config
  if t.batch_pending_polls ~= nil then cfg.batch_pending_polls = t.batch_pending_polls end
  if t.batch_end_ms == json.null then cfg.batch_end_ms = false
  elseif t.batch_end_ms ~= nil then cfg.batch_end_ms = t.batch_end_ms end
end

local function counts(b)
  local c = { processing = 0, succeeded = 0, errored = 0, canceled = 0, expired = 0 }
  if b.status ~= "ended" then
    c.processing = #b.requests
  elseif b.canceled then
    c.canceled = #b.requests
  else
    for k, n in pairs(b.outcomes) do c[k] = n end
  end
  return json.obj(COUNTS, c)
end

local ERROR_TYPES = {
  invalid_request_error = true, authentication_error = true, permission_error = true, not_found_error = true,
  rate_limit_error = true, api_error = true, overloaded_error = true, timeout_error = true, billing_error = true,
}

-- The outcome a request's metadata.user_id asks for (see the file's header): outcome, error
-- type, or nil for none; or false and a message for a marker the mock does not know.
local function scripted(store, r, once)
  local md = r.params.metadata
  local tag = type(md) == "table" and type(md.user_id) == "string" and md.user_id:match("^mock%-outcome:(.*)$")
  if not tag then return nil end
  if tag == "expired" or tag == "canceled" then return tag end
  local kind, etype = tag:match("^(errored[_%a]*):([%a_]+)$")
  if (kind == "errored" or kind == "errored_once") and ERROR_TYPES[etype] then
    if kind == "errored_once" then
      if store.failed_once[r.custom_id] then return nil end
      once[#once + 1] = r.custom_id       -- remembered only if the batch is created
    end
    return "errored", etype
  end
  return false, "metadata.user_id: unknown mock outcome '" .. tag
    .. "' (expired, canceled, errored:<type>, errored_once:<type>)"
end

local function iso_or_null(t) return t and ids.iso_micro(t) or json.null end

local function value(b)
  return json.obj(BATCH, {
    id = b.id, type = "message_batch", processing_status = b.status, request_counts = counts(b),
    ended_at = iso_or_null(b.ended_at), created_at = ids.iso_micro(b.created_at),
    expires_at = ids.iso_micro(b.created_at + 86400), cancel_initiated_at = iso_or_null(b.cancel_at),
    results_url = b.status == "ended" and (b.base .. "/v1/messages/batches/" .. b.id .. "/results") or json.null,
    archived_at = json.null,
  })
end
M.value = value

local function finish(b)
  b.status = "ended"
  b.ended_at = ids.now()
end

-- time-based ending applies to every look at the batch
local function tick(b)
  if b.status ~= "ended" and b.end_at and ids.now() >= b.end_at then finish(b) end
end

local function find(ex, id)
  local b = ex.ctx.batches.by_id[id]
  if not b then
    ex:error(404, "not_found_error", "message_batch_id: " .. id .. " not found")
    return nil
  end
  tick(b)
  return b
end

local function check_request(cfg, key_rec, r)
  local err = validate.check(r.params, "batch")
  if err then return "invalid_request_error", err end
  local model = cfg.model_by_name[r.params.model]
  if not model then return "not_found_error", "model: " .. r.params.model end
  if not auth.may_use(cfg, key_rec, model) then return "permission_error", auth.PERMISSION_MESSAGE end
  if r.params.max_tokens > model.max_tokens then
    return "invalid_request_error", string.format(
      "max_tokens: %d > %d, which is the maximum allowed number of output tokens for %s",
      r.params.max_tokens, model.max_tokens, model.id)
  end
  r.model = model
end

function M.create(ex)
  local body, derr = json.decode(ex.req.body)
  if body == nil then
    return ex:error(400, "invalid_request_error", "The request body is not valid JSON: " .. derr)
  end
  if not json.is_object(body) then
    return ex:error(400, "invalid_request_error", "Input should be a valid dictionary or object to extract fields from")
  end
  local reqs = body.requests
  if reqs == nil then return ex:error(400, "invalid_request_error", "requests: Field required") end
  if not json.is_list(reqs) then
    return ex:error(400, "invalid_request_error", "requests: Input should be a valid list")
  end
  if #reqs == 0 then
    return ex:error(400, "invalid_request_error", "requests: List should have at least 1 item after validation, not 0")
  end
  if #reqs > MAX_REQUESTS then
    return ex:error(400, "invalid_request_error", "requests: List should have at most " .. MAX_REQUESTS ..
      " items after validation, not " .. #reqs)
  end
  local seen, list = {}, {}
  for i, r in ipairs(reqs) do
    local where = "requests." .. (i - 1)
    if not json.is_object(r) then
      return ex:error(400, "invalid_request_error", where .. ": Input should be a valid dictionary")
    end
    local cid = r.custom_id
    if cid == nil then return ex:error(400, "invalid_request_error", where .. ".custom_id: Field required") end
    if type(cid) ~= "string" then
      return ex:error(400, "invalid_request_error", where .. ".custom_id: Input should be a valid string")
    end
    if #cid < 1 or #cid > 64 or not cid:match("^[%w_%-]+$") then
      return ex:error(400, "invalid_request_error",
        where .. ".custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'")
    end
    if r.params == nil then return ex:error(400, "invalid_request_error", where .. ".params: Field required") end
    if not json.is_object(r.params) then
      return ex:error(400, "invalid_request_error", where .. ".params: Input should be a valid dictionary")
    end
    if seen[cid] then
      return ex:error(400, "invalid_request_error",
        "requests: custom_id values must be unique within a batch; duplicate: " .. cid)
    end
    seen[cid] = true
    list[i] = { custom_id = cid, params = r.params }
  end
  local cfg, store, f = ex.ctx.config, ex.ctx.batches, ex.fault or {}
  local outcomes, once = { succeeded = 0, errored = 0, canceled = 0, expired = 0 }, {}
  for i, r in ipairs(list) do
    local et, msg = check_request(cfg, ex.key_rec, r)
    local outcome = "succeeded"
    if et then
      r.error_type, r.error_message, outcome = et, msg, "errored"
    else
      local got, etype = scripted(store, r, once)
      if got == false then
        return ex:error(400, "invalid_request_error", "requests." .. (i - 1) .. ".params." .. etype)
      end
      if got == "errored" then
        r.error_type, r.error_message = etype, "mock-outcome: " .. etype
      end
      outcome = got or outcome
    end
    r.outcome = outcome
    outcomes[outcome] = outcomes[outcome] + 1
  end
  for _, cid in ipairs(once) do store.failed_once[cid] = true end
  store.seq = store.seq + 1
  store.requests = store.requests + #list
  local end_ms = f.batch_end_ms or cfg.batch_end_ms
  local b = {
    id = ids.next("msgbatch"), seq = store.seq, created_at = ids.now(), requests = list, outcomes = outcomes,
    status = "in_progress", polls_left = f.batch_pending_polls or cfg.batch_pending_polls,
    end_at = end_ms and (ids.now() + end_ms / 1000) or nil, base = ex:base_url(), key = ex.key,
  }
  store.by_id[b.id] = b
  store.list[#store.list + 1] = b
  return ex:json(200, value(b))
end

function M.get(ex, id)
  local b = find(ex, id)
  if not b then return end
  if b.status == "canceling" then
    finish(b)
  elseif b.status == "in_progress" and not b.end_at then
    if b.polls_left <= 0 then finish(b) else b.polls_left = b.polls_left - 1 end
  end
  return ex:json(200, value(b))
end

function M.list(ex)
  local items, store = {}, ex.ctx.batches
  for i = #store.list, 1, -1 do
    local b = store.list[i]
    tick(b)
    items[#items + 1] = b
  end
  local page, err = paginate.page(items, paginate.query(ex.req.query), function(b) return b.id end)
  if not page then return ex:error(400, "invalid_request_error", err) end
  for i, b in ipairs(page.data) do page.data[i] = value(b) end
  return ex:json(200, page)
end

function M.cancel(ex, id)
  local b = find(ex, id)
  if not b then return end
  if b.status == "ended" then
    return ex:error(400, "invalid_request_error",
      "message_batch_id: " .. id .. " has already ended processing and cannot be canceled")
  end
  if b.status == "in_progress" then
    b.status = "canceling"
    b.canceled = true
    b.cancel_at = ids.now()
  end
  return ex:json(200, value(b))
end

function M.delete(ex, id)
  local b = find(ex, id)
  if not b then return end
  if b.status ~= "ended" then
    return ex:error(400, "invalid_request_error", "message_batch_id: " .. id ..
      " is still processing; cancel it and wait until it has ended before deleting it")
  end
  local store = ex.ctx.batches
  store.by_id[id] = nil
  for i, x in ipairs(store.list) do
    if x == b then table.remove(store.list, i); break end
  end
  return ex:json(200, '{"id":' .. json.quote(id) .. ',"type":"message_batch_deleted"}')
end

-- line(b, i) -> one JSONL line for request i
function M.line(b, i)
  local r = b.requests[i]
  local result
  if b.canceled or r.outcome == "canceled" then
    result = json.obj(RESULT, { type = "canceled" })
  elseif r.outcome == "expired" then
    result = json.obj(RESULT, { type = "expired" })
  elseif r.error_type then
    result = json.obj(RESULT, { type = "errored", error = json.obj(ERROR_BODY, {
      type = "error", error = json.obj(ERROR_INNER, { type = r.error_type, message = r.error_message }),
      request_id = json.null }) })
  else
    local tag = string.format("b%06d_%05d", b.seq, i)
    local plan = reply.plan(r.params, { make_id = function(kind) return kind .. "_mock_" .. tag end })
    local msg = reply.message(plan, "msg_mock_" .. tag, r.model.id)
    msg.usage.service_tier = "batch"
    result = json.obj(RESULT, { type = "succeeded", message = msg })
  end
  return json.encode(json.obj(LINE, { custom_id = r.custom_id, result = result })) .. "\n"
end

function M.results(ex, id)
  local b = find(ex, id)
  if not b then return end
  if b.status ~= "ended" then
    return ex:error(400, "invalid_request_error", "message_batch_id: " .. id ..
      " has not ended processing yet; results are available once processing_status is \"ended\"")
  end
  local w = ex:chunked(200, "application/x-jsonl")
  local buf, size = {}, 0
  local cut = ex.fault and ex.fault.close_after     -- the connection closes after that many lines
  for i = 1, #b.requests do
    if cut and i > cut then
      if size > 0 then w:send(table.concat(buf)) end
      ex.keep_alive = false
      return
    end
    local l = M.line(b, i)
    buf[#buf + 1] = l
    size = size + #l
    if size >= 64 * 1024 then
      if not w:send(table.concat(buf)) then ex.keep_alive = false; return end
      buf, size = {}, 0
      sched.pass()
    end
  end
  if size > 0 and not w:send(table.concat(buf)) then ex.keep_alive = false; return end
  if not w.finish() then ex.keep_alive = false end
end

return M
