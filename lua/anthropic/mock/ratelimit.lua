-- anthropic.mock.ratelimit: anthropic-ratelimit-* headers for message replies.
--
-- Shaped like the recorded headers (limit / remaining / reset as an RFC 3339
-- second). Usage is counted per key in one-minute windows; remaining never
-- goes below 0 and nothing is ever refused: a 429 comes only from a fault.

local ids = require "anthropic.mock.ids"

local M = {}

function M.new_state()
  return { by_key = {} }
end

function M.reset(state)
  state.by_key = {}
end

-- headers(state, key, tier, input_tokens, output_tokens) -> list of {name, value}
function M.headers(state, key, tier, input_tokens, output_tokens)
  local now = ids.now()
  local u = state.by_key[key]
  if not u or now >= u.start + 60 then
    u = { start = math.floor(now), requests = 0, input = 0, output = 0 }
    state.by_key[key] = u
  end
  u.requests = u.requests + 1
  u.input = u.input + (input_tokens or 0)
  u.output = u.output + (output_tokens or 0)
  local rl = tier.ratelimit
  local function int(n) return string.format("%d", n) end
  local function left(limit, used) return int(math.max(0, limit - used)) end
  local reset = ids.iso_sec(u.start + 60)
  return {
    { "anthropic-ratelimit-requests-limit", int(rl.requests) },
    { "anthropic-ratelimit-requests-remaining", left(rl.requests, u.requests) },
    { "anthropic-ratelimit-requests-reset", reset },
    { "anthropic-ratelimit-input-tokens-limit", int(rl.input_tokens) },
    { "anthropic-ratelimit-input-tokens-remaining", left(rl.input_tokens, u.input) },
    { "anthropic-ratelimit-input-tokens-reset", reset },
    { "anthropic-ratelimit-output-tokens-limit", int(rl.output_tokens) },
    { "anthropic-ratelimit-output-tokens-remaining", left(rl.output_tokens, u.output) },
    { "anthropic-ratelimit-output-tokens-reset", reset },
    { "anthropic-ratelimit-tokens-limit", int(rl.input_tokens + rl.output_tokens) },
    { "anthropic-ratelimit-tokens-remaining", left(rl.input_tokens + rl.output_tokens, u.input + u.output) },
    { "anthropic-ratelimit-tokens-reset", reset },
  }
end

return M
