-- anthropic.mock.messages: POST /v1/messages and POST /v1/messages/count_tokens.
--
-- Order of checks, as the real API: JSON body, field validation, the model
-- (404 unknown, 403 not allowed for this key), the model's max_tokens
-- ceiling; then the deterministic reply (anthropic.mock.reply) as JSON or as
-- an SSE stream (anthropic.mock.sse) with the request's stream faults.

local json = require "anthropic.mock.json"
local ids = require "anthropic.mock.ids"
local validate = require "anthropic.mock.validate"
local reply = require "anthropic.mock.reply"
local turns = require "anthropic.mock.turns"
local sse = require "anthropic.mock.sse"
local auth = require "anthropic.mock.auth"
local ratelimit = require "anthropic.mock.ratelimit"
local files = require "anthropic.mock.files"

local M = {}

local PING_CAP_S = 120

-- params(ex, kind) -> params, model | nil (the error reply was sent)
local function params(ex, kind)
  local p, err = json.decode(ex.req.body)
  if p == nil then
    ex:error(400, "invalid_request_error", "The request body is not valid JSON: " .. err)
    return nil
  end
  local verr = validate.check(p, kind)
  if verr then
    ex:error(400, "invalid_request_error", verr)
    return nil
  end
  local status, etype, msg = files.check_sources(ex, p)
  if status then
    ex:error(status, etype, msg)
    return nil
  end
  local cfg = ex.ctx.config
  local model = cfg.model_by_name[p.model]
  if not model then
    ex:error(404, "not_found_error", "model: " .. p.model)
    return nil
  end
  if not auth.may_use(cfg, ex.key_rec, model) then
    ex:error(403, "permission_error", auth.PERMISSION_MESSAGE)
    return nil
  end
  if kind == "create" and p.max_tokens > model.max_tokens then
    ex:error(400, "invalid_request_error", string.format(
      "max_tokens: %d > %d, which is the maximum allowed number of output tokens for %s",
      p.max_tokens, model.max_tokens, model.id))
    return nil
  end
  return p, model
end

function M.create(ex)
  local p, model = params(ex, "create")
  if not p then return end
  local f = ex.fault or {}
  local plan = reply.plan(p, { deltas = f.deltas, text = f.text, stop_reason = f.stop_reason, make_id = ids.next,
    break_schema = f.break_schema,
    turn = f.turns and turns.pick(f.turns, p) })
  local id = ids.next("msg")
  local rl, refused = ratelimit.account(ex.ctx.ratelimit, ex.key, ex.key_rec,
    auth.tier_of(ex.ctx.config, ex.key_rec), plan.input_tokens, plan.output_tokens)
  if refused then return ex:error(429, "rate_limit_error", refused, rl) end
  if p.stream ~= true then
    return ex:json(200, reply.message(plan, id, model.id), rl)
  end
  local w = ex:sse(rl)
  if f.pings_only then
    local outcome = sse.pings(w, ex.conn, (f.ping_interval_ms or 100) / 1000, PING_CAP_S)
    if outcome ~= "done" then ex.keep_alive = false end
    return
  end
  local outcome = sse.write(w, ex.conn, sse.events(plan, id, model.id), f)
  if outcome == "closed" or outcome == "gone" then ex.keep_alive = false end
end

function M.count_tokens(ex)
  local p = params(ex, "count")
  if not p then return end
  return ex:json(200, '{"input_tokens":' .. reply.input_tokens(p) .. "}")
end

return M
