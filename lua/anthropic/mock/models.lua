-- anthropic.mock.models: GET /v1/models and GET /v1/models/{id}.
--
-- Lists every configured model, newest first (created_at, then config
-- order), with the API's pagination. A model is found by id or alias; the
-- reply always carries the canonical id.

local json = require "anthropic.mock.json"
local paginate = require "anthropic.mock.paginate"

local M = {}

local MODEL = json.order({ "type", "id", "display_name", "created_at" })

function M.value(m)
  return json.obj(MODEL, { type = "model", id = m.id, display_name = m.display_name, created_at = m.created_at })
end

function M.list(ex)
  local items = {}
  for i, m in ipairs(ex.ctx.config.model_list) do items[i] = m end
  local page, err = paginate.page(items, paginate.query(ex.req.query), function(m) return m.id end)
  if not page then return ex:error(400, "invalid_request_error", err) end
  for i, m in ipairs(page.data) do page.data[i] = M.value(m) end
  return ex:json(200, page)
end

function M.get(ex, id)
  id = paginate.query("x=" .. id).x
  local m = ex.ctx.config.model_by_name[id]
  if not m then return ex:error(404, "not_found_error", "model: " .. id) end
  return ex:json(200, M.value(m))
end

return M
