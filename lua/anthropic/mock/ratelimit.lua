-- anthropic.mock.ratelimit: anthropic-ratelimit-* headers for message replies, and, when
-- asked to, the limits themselves.
--
-- Shaped like the recorded headers (limit / remaining / reset as an RFC 3339 time). Usage is
-- counted per key in fixed windows (60 s unless configured), each opened by the key's first
-- request after the last one ended. By default remaining never goes below 0 and nothing is refused (a 429 comes
-- only from a fault). With `enforce`, a request the key's window cannot take is refused with
-- the API's 429 rate_limit_error, the same headers and a `retry-after` (whole seconds until
-- the window resets, as the API sends it); a refused request is not counted.
--
-- The limits of a key, field by field: its own (`keys.<key>.ratelimit` in the config), else
-- the settings' (`ratelimit` in the config, the --rate-limit-* flags, PUT /_mock/ratelimit),
-- else its tier's.

local ids = require "anthropic.mock.ids"

local M = {}

local floor, ceil, max = math.floor, math.ceil, math.max

M.FIELDS = { "requests", "input_tokens", "output_tokens" }

--- The settings: enforce (boolean), window_ms, and optional requests / input_tokens /
--- output_tokens that replace every tier's.
function M.default_settings()
  return { enforce = false, window_ms = 60000 }
end

function M.new_state(settings)
  local s = M.default_settings()
  for k, v in pairs(settings or {}) do s[k] = v end
  return { by_key = {}, settings = s, counted = 0, limited = 0 }
end

-- reset(state): every window and counter (DELETE /_mock/requests); the settings stay.
function M.reset(state)
  state.by_key = {}
  state.counted, state.limited = 0, 0
end

-- configure(state, settings): new settings (PUT /_mock/ratelimit); windows start afresh.
function M.configure(state, settings)
  state.settings = M.default_settings()
  for k, v in pairs(settings) do state.settings[k] = v end
  M.reset(state)
end

-- check(settings) -> nil | message: what PUT /_mock/ratelimit and the config accept.
function M.check(t)
  if type(t) ~= "table" then return "expected an object" end
  for k, v in pairs(t) do
    if k == "enforce" then
      if type(v) ~= "boolean" then return "enforce: expected true or false" end
    elseif k == "window_ms" then
      if type(v) ~= "number" or v ~= floor(v) or v < 1 then return "window_ms: expected an integer >= 1" end
    else
      local known = false
      for _, f in ipairs(M.FIELDS) do known = known or f == k end
      if not known then return tostring(k) .. ": unknown setting" end
      if type(v) ~= "number" or v ~= floor(v) or v < 0 then return k .. ": expected an integer >= 0" end
    end
  end
  return nil
end

local function limits_of(state, tier, key_rec)
  local own, s, rl, out = key_rec and key_rec.ratelimit or {}, state.settings, tier.ratelimit, {}
  for _, f in ipairs(M.FIELDS) do out[f] = own[f] or s[f] or rl[f] end
  return out
end

local function window(state, key, now)
  local w = state.settings.window_ms / 1000
  local u = state.by_key[key]
  if not u or now >= u.start + w then
    -- Reporting only, windows open on a whole second (resets print to the second, as the
    -- recorded ones); enforced, a window is exactly window_ms long (its reset may carry
    -- milliseconds), so a short window is never cut shorter.
    u = { start = state.settings.enforce and now or floor(now), requests = 0, input = 0, output = 0 }
    state.by_key[key] = u
  end
  return u, u.start + w
end

local function iso(t)
  if t == floor(t) then return ids.iso_sec(t) end
  local ms = floor((t - floor(t)) * 1000 + 0.5)
  if ms >= 1000 then return ids.iso_sec(floor(t) + 1) end
  return os.date("!%Y-%m-%dT%H:%M:%S", floor(t)) .. string.format(".%03dZ", ms)
end

local function header_list(l, u, reset)
  local function int(n) return string.format("%d", n) end
  local function left(limit, used) return int(max(0, limit - used)) end
  local r = iso(reset)
  return {
    { "anthropic-ratelimit-requests-limit", int(l.requests) },
    { "anthropic-ratelimit-requests-remaining", left(l.requests, u.requests) },
    { "anthropic-ratelimit-requests-reset", r },
    { "anthropic-ratelimit-input-tokens-limit", int(l.input_tokens) },
    { "anthropic-ratelimit-input-tokens-remaining", left(l.input_tokens, u.input) },
    { "anthropic-ratelimit-input-tokens-reset", r },
    { "anthropic-ratelimit-output-tokens-limit", int(l.output_tokens) },
    { "anthropic-ratelimit-output-tokens-remaining", left(l.output_tokens, u.output) },
    { "anthropic-ratelimit-output-tokens-reset", r },
    { "anthropic-ratelimit-tokens-limit", int(l.input_tokens + l.output_tokens) },
    { "anthropic-ratelimit-tokens-remaining", left(l.input_tokens + l.output_tokens, u.input + u.output) },
    { "anthropic-ratelimit-tokens-reset", r },
  }
end

-- Which limit a request of `input` tokens would exceed now, as the API's message says it.
local function exceeded(l, u, input)
  if u.requests >= l.requests then
    return string.format("%d requests", l.requests)
  end
  -- A request larger than the whole input budget passes alone in a fresh window: refusing it
  -- forever would help nobody.
  if u.input > 0 and u.input + input > l.input_tokens then
    return string.format("%d input tokens", l.input_tokens)
  end
  if u.output >= l.output_tokens then
    return string.format("%d output tokens", l.output_tokens)
  end
  return nil
end

-- account(state, key, key_rec, tier, input_tokens, output_tokens) -> headers, refusal
-- headers: the list of {name, value} for the reply; refusal: nil, or the 429's message
-- (then headers include retry-after, and nothing was counted).
function M.account(state, key, key_rec, tier, input_tokens, output_tokens)
  local now = ids.now()
  local u, reset = window(state, key, now)
  local l = limits_of(state, tier, key_rec)
  input_tokens, output_tokens = input_tokens or 0, output_tokens or 0
  if state.settings.enforce then
    local what = exceeded(l, u, input_tokens)
    if what then
      state.limited = state.limited + 1
      local h = header_list(l, u, reset)
      h[#h + 1] = { "retry-after", string.format("%d", max(1, ceil(reset - now))) }
      local per = state.settings.window_ms == 60000 and "minute"
        or string.format("%d ms", state.settings.window_ms)
      return h, string.format("This request would exceed the rate limit of %s per %s for this key. "
        .. "Wait for the reset (anthropic-ratelimit-*-reset) or retry after retry-after seconds.", what, per)
    end
  end
  state.counted = state.counted + 1
  u.requests = u.requests + 1
  u.input = u.input + input_tokens
  u.output = u.output + output_tokens
  return header_list(l, u, reset), nil
end

-- stats(state) -> the JSON-ready view of GET /_mock/ratelimit (keys never shown).
function M.stats(state)
  local s = state.settings
  return { enforce = s.enforce, window_ms = s.window_ms, requests = s.requests,
    input_tokens = s.input_tokens, output_tokens = s.output_tokens,
    counted = state.counted, limited = state.limited }
end

return M
