-- anthropic.mock.auth: API keys, account tiers, and which models a key may use.
--
-- A key comes from x-api-key or "Authorization: Bearer"; x-api-key wins when
-- both are sent. A key's tier grants every model whose tier rank is at most
-- its own; a key may also list extra models explicitly. Messages name the
-- header, never the key.

local M = {}

-- VERSIONS the anthropic-version header may carry.
M.VERSIONS = { ["2023-06-01"] = true, ["2023-01-01"] = true }

-- identify(config, headers) -> key_record, key | nil, status, error_type, message
function M.identify(config, headers)
  local key, how = headers["x-api-key"], "x-api-key"
  if not key then
    local a = headers["authorization"]
    if a then
      key = a:match("^[Bb]earer%s+(%S+)%s*$")
      how = "bearer"
    end
  end
  if not key or key == "" then
    return nil, 401, "authentication_error", "x-api-key header is required"
  end
  local rec = config.keys[key]
  if not rec then
    if how == "bearer" then return nil, 401, "authentication_error", "Invalid bearer token" end
    return nil, 401, "authentication_error", "invalid x-api-key"
  end
  return rec, key
end

-- check_version(headers) -> true | nil, message
function M.check_version(headers)
  local v = headers["anthropic-version"]
  if not v then return nil, "anthropic-version: header is required" end
  if not M.VERSIONS[v] then return nil, 'anthropic-version: "' .. v .. '" is not a valid version' end
  return true
end

-- tier_of(config, rec) -> tier table (never nil: a models-only key gets rank -1)
function M.tier_of(config, rec)
  return rec.tier and config.tiers[rec.tier] or { rank = -1, ratelimit = config.tiers.free.ratelimit }
end

-- may_use(config, rec, model) -> boolean
function M.may_use(config, rec, model)
  for _, id in ipairs(rec.models or {}) do
    if id == model.id then return true end
    local m = config.model_by_name[id]
    if m == model then return true end
  end
  if not rec.tier then return false end
  local mine = config.tiers[rec.tier].rank
  local need = config.tiers[model.tier].rank
  return mine >= need
end

M.PERMISSION_MESSAGE = "Your API key does not have permission to use the specified resource."

return M
