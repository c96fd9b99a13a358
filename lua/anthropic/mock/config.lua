-- anthropic.mock.config: the mock's settings, built-in defaults and the
-- JSON config file that adds to them (models, tiers, keys, faults, limits).
--
-- load(path) returns a complete config or nil plus one line naming the file
-- and the offending field; nothing is half-applied. A config is plain data:
-- models (newest first after sorting), tiers (rank + rate limits), keys
-- (tier and/or explicit model list), faults (see anthropic.mock.faults).

local json = require "anthropic.mock.json"
local faults = require "anthropic.mock.faults"
local ratelimit = require "anthropic.mock.ratelimit"

local M = {}

local MB = 1024 * 1024

-- Models: the three the project tests against, plus older ones so pagination
-- has something to page through. tier = the lowest tier that may use it.
local DEFAULT_MODELS = {
  { id = "claude-opus-4-7", display_name = "Claude Opus 4.7", created_at = "2026-04-16T00:00:00Z",
    tier = "scale", max_tokens = 64000 },
  { id = "claude-sonnet-4-6", display_name = "Claude Sonnet 4.6", created_at = "2026-02-17T00:00:00Z",
    tier = "build", max_tokens = 64000 },
  { id = "claude-opus-4-5-20251101", display_name = "Claude Opus 4.5", created_at = "2025-11-24T00:00:00Z",
    tier = "scale", max_tokens = 64000, aliases = { "claude-opus-4-5" } },
  { id = "claude-haiku-4-5", display_name = "Claude Haiku 4.5", created_at = "2025-10-15T00:00:00Z",
    tier = "free", max_tokens = 64000 },
  { id = "claude-sonnet-4-5-20250929", display_name = "Claude Sonnet 4.5", created_at = "2025-09-29T00:00:00Z",
    tier = "build", max_tokens = 64000, aliases = { "claude-sonnet-4-5" } },
  { id = "claude-opus-4-1-20250805", display_name = "Claude Opus 4.1", created_at = "2025-08-05T00:00:00Z",
    tier = "scale", max_tokens = 32000, aliases = { "claude-opus-4-1" } },
  { id = "claude-opus-4-20250514", display_name = "Claude Opus 4", created_at = "2025-05-22T00:00:00Z",
    tier = "scale", max_tokens = 32000, aliases = { "claude-opus-4-0" } },
  { id = "claude-sonnet-4-20250514", display_name = "Claude Sonnet 4", created_at = "2025-05-22T00:00:00Z",
    tier = "build", max_tokens = 64000, aliases = { "claude-sonnet-4-0" } },
  { id = "claude-3-7-sonnet-20250219", display_name = "Claude Sonnet 3.7", created_at = "2025-02-24T00:00:00Z",
    tier = "build", max_tokens = 64000, aliases = { "claude-3-7-sonnet-latest" } },
  { id = "claude-3-5-haiku-20241022", display_name = "Claude Haiku 3.5", created_at = "2024-10-22T00:00:00Z",
    tier = "free", max_tokens = 8192, aliases = { "claude-3-5-haiku-latest" } },
  { id = "claude-3-haiku-20240307", display_name = "Claude Haiku 3", created_at = "2024-03-07T00:00:00Z",
    tier = "free", max_tokens = 4096 },
}

-- Rate limits are reported in anthropic-ratelimit-* headers; enforced only when the
-- `ratelimit` settings say so (anthropic.mock.ratelimit).
local DEFAULT_TIERS = {
  free = { rank = 1, ratelimit = { requests = 50, input_tokens = 30000, output_tokens = 8000 } },
  build = { rank = 2, ratelimit = { requests = 1000, input_tokens = 450000, output_tokens = 90000 } },
  scale = { rank = 3, ratelimit = { requests = 4000, input_tokens = 2000000, output_tokens = 400000 } },
}

local DEFAULT_KEYS = {
  ["sk-ant-mock-free"] = { tier = "free" },
  ["sk-ant-mock-build"] = { tier = "build" },
  ["sk-ant-mock-scale"] = { tier = "scale" },
}

-- Amazon Bedrock access keys (anthropic.mock.bedrock): access key id -> secret, tier and,
-- for temporary credentials, the session token that must come with them. The secrets are
-- mock values, like the API keys above.
local DEFAULT_AWS_KEYS = {
  AKIDMOCKFREE = { secret = "mock-aws-secret-free", tier = "free" },
  AKIDMOCKBUILD = { secret = "mock-aws-secret-build", tier = "build" },
  AKIDMOCKSCALE = { secret = "mock-aws-secret-scale", tier = "scale" },
  ASIAMOCKTEMP = { secret = "mock-aws-secret-temp", session_token = "mock-aws-session-token", tier = "build" },
  ASIAMOCKEXPIRED = { secret = "mock-aws-secret-expired", session_token = "mock-aws-expired-token",
    tier = "scale", expired = true },
}

-- Google Vertex AI (anthropic.mock.vertex): bearer access tokens -> tier, and the service
-- accounts whose signed JWTs the token endpoint exchanges for new tokens (their public keys;
-- the private key of the first is spec/fixtures/platforms/vertex-service-account.json).
local DEFAULT_VERTEX = {
  tokens = {
    ["ya29.mock-vertex-free"] = { tier = "free" },
    ["ya29.mock-vertex-build"] = { tier = "build" },
    ["ya29.mock-vertex-scale"] = { tier = "scale" },
  },
  service_accounts = {
    ["lua-anthropic-spec@mock-project.iam.gserviceaccount.com"] = { tier = "build", public_key = [[
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArwO1kwRETAyj468KbrlI
HPXQk9vpAykjl0yTv9AW6Q5RDY6QY4PXFTirAnqHsNru+o5DUcI7kjW91WI9TykM
1BkxyHc+g5TzEWCtNpTCcBsJ9oxk038BnHiZSN/mePj+T1/LUjwu+SWI/d2tAouB
ixkO554lRh8pFkvEwcyfyA+ddg+QQ1gX1vj+EwiX4450K4ErFTtpkXlzonKnIiiq
A6vF1zNsE61QFmnSmlH2/cZbscHybu4UKuyP4w5ME1Z7tl2nSZpdSZKF+CZIKnoh
0msducdHBwRArfje9d61b8lSAAd4UKfH1NMdv2n8cMPBd/cmYz42Us8a+I01UWCi
qQIDAQAB
-----END PUBLIC KEY-----
]] },
  },
  token_ttl_s = 3600,
}

local SETTINGS = {
  max_body_bytes = 32 * MB,            -- Messages API request limit (413 above)
  max_batch_body_bytes = 256 * MB,     -- Message Batches create limit
  max_file_bytes = 500 * MB,           -- Files API upload limit (413 above)
  batch_pending_polls = 1,             -- retrievals that still show in_progress
  batch_end_ms = false,                -- or: end a batch this long after creation
  keepalive_timeout_ms = 60000,        -- idle keep-alive connections are closed after this
  log_limit = 50000,                   -- request log entries kept (oldest dropped)
}

local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end

function M.defaults()
  local c = {
    models = copy(DEFAULT_MODELS), tiers = copy(DEFAULT_TIERS), keys = copy(DEFAULT_KEYS),
    aws_keys = copy(DEFAULT_AWS_KEYS), vertex = copy(DEFAULT_VERTEX), faults = {},
    ratelimit = ratelimit.default_settings(),
  }
  for k, v in pairs(SETTINGS) do c[k] = v end
  return M.finish(c)
end

-- finish(c): derived lookup tables (model by id/alias, newest-first order).
function M.finish(c)
  local order = {}
  for i, m in ipairs(c.models) do m._pos = i; order[#order + 1] = m end
  table.sort(order, function(a, b)
    if a.created_at ~= b.created_at then return a.created_at > b.created_at end
    return a._pos < b._pos
  end)
  c.model_list = order
  c.model_by_name = {}
  for _, m in ipairs(order) do
    c.model_by_name[m.id] = m
    for _, a in ipairs(m.aliases or {}) do c.model_by_name[a] = m end
  end
  return c
end

local function is_int(v) return type(v) == "number" and v == math.floor(v) end

local function fail(where, msg) error({ where = where, msg = msg }, 0) end

local function check_string(v, where)
  if type(v) ~= "string" or v == "" then fail(where, "expected a non-empty string") end
end

local function check_count(v, where, min)
  if not is_int(v) or v < (min or 0) then
    fail(where, "expected an integer >= " .. tostring(min or 0))
  end
end

local function merge(c, user)
  if not json.is_object(user) then fail("", "the top level must be a JSON object") end
  local known = { models = true, tiers = true, keys = true, faults = true, aws_keys = true, vertex_tokens = true,
    ratelimit = true }
  for k in pairs(SETTINGS) do known[k] = true end
  for k in pairs(user) do
    if not known[k] then fail(tostring(k), "unknown setting") end
  end
  for k in pairs(SETTINGS) do
    local v = user[k]
    if v ~= nil then
      if k == "batch_end_ms" and v == json.null then v = false
      else check_count(v, k, (k == "max_body_bytes" or k == "log_limit") and 1 or 0) end
      c[k] = v
    end
  end
  if user.ratelimit ~= nil then
    local err = ratelimit.check(user.ratelimit)
    if err then fail("ratelimit", err) end
    for k, v in pairs(user.ratelimit) do c.ratelimit[k] = v end
  end
  if user.tiers ~= nil then
    if not json.is_object(user.tiers) then fail("tiers", "expected an object") end
    for name, t in pairs(user.tiers) do
      local w = "tiers." .. name
      if not json.is_object(t) then fail(w, "expected an object") end
      check_count(t.rank, w .. ".rank", 0)
      local rl = t.ratelimit or {}
      if not json.is_object(rl) then fail(w .. ".ratelimit", "expected an object") end
      for _, f in ipairs({ "requests", "input_tokens", "output_tokens" }) do
        if rl[f] ~= nil then check_count(rl[f], w .. ".ratelimit." .. f, 0) end
      end
      c.tiers[name] = { rank = t.rank, ratelimit = {
        requests = rl.requests or 50, input_tokens = rl.input_tokens or 30000,
        output_tokens = rl.output_tokens or 8000 } }
    end
  end
  if user.models ~= nil then
    if not json.is_list(user.models) then fail("models", "expected a list") end
    for i, m in ipairs(user.models) do
      local w = "models." .. (i - 1)
      if not json.is_object(m) then fail(w, "expected an object") end
      check_string(m.id, w .. ".id")
      if m.display_name ~= nil then check_string(m.display_name, w .. ".display_name") end
      if m.created_at ~= nil then
        check_string(m.created_at, w .. ".created_at")
        if not m.created_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d") then
          fail(w .. ".created_at", "expected an RFC 3339 time like 2025-05-22T00:00:00Z")
        end
      end
      check_string(m.tier, w .. ".tier")
      if m.max_tokens ~= nil then check_count(m.max_tokens, w .. ".max_tokens", 1) end
      if m.aliases ~= nil then
        if not json.is_list(m.aliases) then fail(w .. ".aliases", "expected a list of strings") end
        for j, a in ipairs(m.aliases) do check_string(a, w .. ".aliases." .. (j - 1)) end
      end
      local entry = { id = m.id, display_name = m.display_name or m.id,
        created_at = m.created_at or "2025-01-01T00:00:00Z", tier = m.tier,
        max_tokens = m.max_tokens or 64000, aliases = m.aliases }
      local replaced = false
      for j, old in ipairs(c.models) do
        if old.id == m.id then c.models[j] = entry; replaced = true end
      end
      if not replaced then c.models[#c.models + 1] = entry end
    end
  end
  for i, m in ipairs(c.models) do
    if not c.tiers[m.tier] then fail("models." .. (i - 1) .. ".tier", "unknown tier '" .. m.tier .. "'") end
  end
  if user.keys ~= nil then
    if not json.is_object(user.keys) then fail("keys", "expected an object") end
    for key, k in pairs(user.keys) do
      -- never echo the key itself: name it by position-independent placeholder
      local w = "keys.<" .. #key .. "-character key>"
      if type(k) == "string" then k = { tier = k } end
      if not json.is_object(k) then fail(w, "expected a tier name or an object") end
      if k.tier ~= nil then
        check_string(k.tier, w .. ".tier")
        if not c.tiers[k.tier] then fail(w .. ".tier", "unknown tier '" .. k.tier .. "'") end
      end
      if k.models ~= nil then
        if not json.is_list(k.models) then fail(w .. ".models", "expected a list of model ids") end
        for j, id in ipairs(k.models) do check_string(id, w .. ".models." .. (j - 1)) end
      end
      if k.tier == nil and k.models == nil then fail(w, "needs a tier or a models list") end
      if k.ratelimit ~= nil then
        local err = ratelimit.check(k.ratelimit)
        if not err and (k.ratelimit.enforce ~= nil or k.ratelimit.window_ms ~= nil) then
          err = "only requests, input_tokens and output_tokens are per key"
        end
        if err then fail(w .. ".ratelimit", err) end
      end
      c.keys[key] = { tier = k.tier, models = k.models, ratelimit = k.ratelimit }
    end
  end
  if user.aws_keys ~= nil then
    if not json.is_object(user.aws_keys) then fail("aws_keys", "expected an object") end
    for id, k in pairs(user.aws_keys) do
      local w = "aws_keys." .. id
      if not json.is_object(k) then fail(w, "expected an object") end
      check_string(k.secret, w .. ".secret")
      if k.session_token ~= nil then check_string(k.session_token, w .. ".session_token") end
      if k.tier ~= nil and not c.tiers[k.tier] then fail(w .. ".tier", "unknown tier") end
      if k.tier == nil and k.models == nil then fail(w, "needs a tier or a models list") end
      c.aws_keys[id] = { secret = k.secret, session_token = k.session_token, tier = k.tier,
        models = k.models, expired = k.expired == true }
    end
  end
  if user.vertex_tokens ~= nil then
    if not json.is_object(user.vertex_tokens) then fail("vertex_tokens", "expected an object") end
    for token, k in pairs(user.vertex_tokens) do
      local w = "vertex_tokens.<" .. #token .. "-character token>"
      if type(k) == "string" then k = { tier = k } end
      if not json.is_object(k) then fail(w, "expected a tier name or an object") end
      if k.tier ~= nil and not c.tiers[k.tier] then fail(w .. ".tier", "unknown tier") end
      if k.tier == nil and k.models == nil then fail(w, "needs a tier or a models list") end
      c.vertex.tokens[token] = { tier = k.tier, models = k.models }
    end
  end
  if user.faults ~= nil then
    if not json.is_list(user.faults) then fail("faults", "expected a list") end
    for i, f in ipairs(user.faults) do
      local parsed, err = faults.parse(f, true)
      if not parsed then fail("faults." .. (i - 1), err) end
      c.faults[#c.faults + 1] = parsed
    end
  end
end

-- apply(c, user_table) -> c | nil, message
function M.apply(c, user)
  local ok, err = pcall(merge, c, user)
  if not ok then
    if type(err) == "table" then
      return nil, (err.where ~= "" and (err.where .. ": ") or "") .. err.msg
    end
    return nil, tostring(err)
  end
  return M.finish(c)
end

-- load(path) -> config | nil, one-line message
function M.load(path)
  local c = M.defaults()
  if not path then return c end
  local f, oerr = io.open(path, "rb")
  if not f then return nil, "cannot read config file: " .. tostring(oerr) end
  local text = f:read("*a")
  f:close()
  local user, jerr = json.decode(text)
  if user == nil then return nil, "config file '" .. path .. "' is not valid JSON: " .. tostring(jerr) end
  if not text:match("^%s*{") then
    return nil, "config file '" .. path .. "': the top level must be a JSON object"
  end
  local res, err = M.apply(c, user)
  if not res then return nil, "config file '" .. path .. "': " .. err end
  return res
end

return M
