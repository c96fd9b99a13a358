-- anthropic.mock.sigv4: checks an AWS Signature Version 4 the way AWS does, written from
-- AWS's documentation independently of the client's signer (src/sigv4.c), so that the two
-- agreeing means something. Only the hash and HMAC primitives come from anthropic.core
-- (libcrypto, through anthropic.mock.crypto): the canonical request, string to sign and key
-- derivation are done here.

local core = require "anthropic.mock.crypto"

local M = {}

M.MAX_SKEW_S = 300   -- AWS refuses a request more than 5 minutes off

local function uri_encode(s)
  return (s:gsub("[^%w%-%._~/]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- parse(authorization) -> { access_key_id, date, region, service, signed_headers (list),
-- signature } | nil
function M.parse(auth)
  if type(auth) ~= "string" then return nil end
  local cred, signed, sig = auth:match(
    "^AWS4%-HMAC%-SHA256%s+Credential=([^,%s]+),%s*SignedHeaders=([^,%s]+),%s*Signature=(%x+)%s*$")
  if not cred then return nil end
  local ak, date, region, service = cred:match("^([^/]+)/(%d%d%d%d%d%d%d%d)/([^/]+)/([^/]+)/aws4_request$")
  if not ak then return nil end
  local names = {}
  for n in signed:gmatch("[^;]+") do names[#names + 1] = n end
  return { access_key_id = ak, date = date, region = region, service = service,
    signed_headers = names, signed = signed, signature = sig:lower() }
end

local function utc_seconds(amz)
  local y, mo, d, h, mi, s = amz:match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  if not y then return nil end
  -- days from civil (proleptic Gregorian), no os.time timezone games
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (mo + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
end

-- verify(req, parsed, secret, now) -> true | nil, reason ("signature", "expired", "headers")
function M.verify(req, a, secret, now)
  local date = req.headers["x-amz-date"]
  if not date or date:sub(1, 8) ~= a.date then return nil, "headers" end
  local t = utc_seconds(date)
  if not t or math.abs(t - now) > M.MAX_SKEW_S then return nil, "expired" end
  local has_host = false
  local lines = {}
  for _, name in ipairs(a.signed_headers) do
    local v = req.headers[name]
    if v == nil then return nil, "headers" end
    if name == "host" then has_host = true end
    lines[#lines + 1] = name .. ":" .. (v:gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " ")) .. "\n"
  end
  if not has_host then return nil, "headers" end
  local canonical = table.concat({
    req.method, uri_encode(req.path), req.query or "", table.concat(lines), a.signed,
    core.sha256_hex(req.body or ""),
  }, "\n")
  local scope = a.date .. "/" .. a.region .. "/" .. a.service .. "/aws4_request"
  local to_sign = "AWS4-HMAC-SHA256\n" .. date .. "\n" .. scope .. "\n" .. core.sha256_hex(canonical)
  local k = core.hmac_sha256("AWS4" .. secret, a.date)
  k = core.hmac_sha256(k, a.region)
  k = core.hmac_sha256(k, a.service)
  k = core.hmac_sha256(k, "aws4_request")
  if hex(core.hmac_sha256(k, to_sign)) ~= a.signature then return nil, "signature" end
  return true
end

return M
