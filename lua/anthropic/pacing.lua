-- anthropic.pacing: the rate-limit budgets one queue paces itself by.
--
-- The API reports, on every reply, what is left of each budget of the key and when that
-- budget resets: anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-
-- {limit,remaining,reset} (reset an RFC 3339 time), and on a 429 `retry-after` (seconds).
-- This module keeps the latest of those per budget and answers one question: may a request
-- of this estimated cost start now, and if not, when should the caller ask again.
--
-- How the estimate stays honest while requests are in flight: replies come back in any order
-- (each on its own connection), so no single reply says what the server has counted. Within
-- one window (one reset time) the server's `remaining` only goes down, so the lowest one seen
-- is the best knowledge; and what this queue started in the window is known exactly. A budget
-- left is the smaller of the two readings: `remaining` minus what is in flight (not yet seen
-- by the server), and `limit` minus what this queue spent in the window. Once the reset time
-- has passed the budget is full again (its limit); replies that still describe the old
-- window are ignored. Until the first reply, one request goes alone (a probe), so even a
-- burst of submissions never starts more than one request blind.
--
-- When a budget is spent, starts are held until its reset: the fixed-window reading, which
-- never starts early; a token-bucket server (refilling gradually) only finds us a little
-- patient. A 429 that still got through (or a reply that needed retries) tightens the
-- pacing: from then on a margin of whole requests' cost is kept unspent (up to MAX_MARGIN).
--
-- Plain Lua and plain data: no request, no timer, no clock of its own (times are passed in,
-- in seconds on the wall clock), so every rule is tested with made-up headers and times.

local M = {}

local floor, ceil, max, min, tonumber = math.floor, math.ceil, math.max, math.min, tonumber

--- The budgets, as the header names spell them, and which part of a cost each one counts.
M.KINDS = { "requests", "tokens", "input-tokens", "output-tokens" }
local COST_FIELD = { requests = "requests", tokens = "tokens", ["input-tokens"] = "input",
  ["output-tokens"] = "output" }

M.MAX_MARGIN = 4

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- M.parse_time(text) -> seconds since the epoch (with fractions), or nil when text is not
--- an RFC 3339 date-time ("2025-10-30T16:17:36Z", "2025-10-30T16:17:36.250+01:00").
---@param text string|nil
---@return number|nil seconds
function M.parse_time(text)
  if type(text) ~= "string" then return nil end
  local y, mo, d, h, mi, s, rest = text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then return nil end
  local frac, zone = rest:match("^(%.%d+)(.*)$")
  if frac then rest = zone else frac = nil end
  local offset
  if rest == "Z" or rest == "z" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([+-])(%d%d):(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60
    if sign == "-" then offset = -offset end
  end
  local t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset
  return frac and t + tonumber("0" .. frac) or t
end

--- M.cost(body_bytes, max_tokens) -> the estimated cost of one Messages request: a token is
--- about four bytes of the encoded request (an overestimate: JSON's punctuation counts
--- too), and output is counted at max_tokens, as the API itself does when a request starts.
---@param body_bytes integer
---@param max_tokens integer|nil
---@return table cost { requests = 1, input, output, tokens }
function M.cost(body_bytes, max_tokens)
  local input = 4 + ceil(body_bytes / 4)
  local output = max_tokens or 0
  return { requests = 1, input = input, output = output, tokens = input + output }
end

---@class anthropic.Pacer
---@field margin integer whole requests' cost kept unspent (after a 429 got through)
local Pacer = {}
Pacer.__index = Pacer

--- M.new() -> a pacer with nothing known: one request may start, and then each reply says more.
---@return anthropic.Pacer
function M.new()
  return setmetatable({
    budgets = {},        -- kind -> { limit, remaining, reset, spent, past } (past: an old reset)
    flight = {},         -- seq -> cost, for requests started and not yet observed
    seq = 0,             -- the last sequence number given out
    seen = false,        -- a reply has been observed
    hold_until = nil,    -- a retry-after: no start before this time
    margin = 0,          -- whole requests kept unspent after a 429 got through
  }, Pacer)
end

local function in_flight(self, field)
  local n = 0
  for _, c in pairs(self.flight) do n = n + c[field] end
  return n
end

-- What of budget b is known to be left now; nil when nothing limits it any more (its reset
-- passed and no limit is known).
local function available(self, kind, b, now)
  local field = COST_FIELD[kind]
  if b.reset and now >= b.reset then
    if not b.limit then
      self.budgets[kind] = nil
      return nil
    end
    -- A new window: full again; what is in flight was counted in the window it was sent in.
    b.past, b.reset, b.remaining, b.spent = b.reset, nil, b.limit, 0
  end
  local left = b.remaining - in_flight(self, field)
  if b.limit and b.limit - b.spent < left then left = b.limit - b.spent end
  return left
end

--- pacer:wait(cost, now) -> 0 when a request of this cost may start now, else the seconds
--- to wait before asking again, or false when only a reply can change the answer (the probe
--- is out, or a budget is spent and its reset is not known yet).
---@param cost table from M.cost
---@param now number wall-clock seconds
---@return number|false
function Pacer:wait(cost, now)
  if self.hold_until then
    if now < self.hold_until then return self.hold_until - now end
    self.hold_until = nil
  end
  local busy = next(self.flight) ~= nil
  if not self.seen and busy then return false end
  local wait = 0
  for kind, b in pairs(self.budgets) do
    local field = COST_FIELD[kind]
    local left = available(self, kind, b, now)
    local need = cost[field] * (1 + self.margin)
    -- A request larger than the whole budget goes alone, into a fresh window, or it would
    -- never go: the server then decides (and says so with a 429 if it must).
    if b.limit and need > b.limit then need = b.limit end
    if left and left < need then
      if b.reset then
        if wait ~= false then wait = max(wait, b.reset - now) end
      elseif busy then
        wait = false
      end
    end
  end
  return wait
end

--- pacer:started(cost) -> the sequence number of a request that starts now.
---@param cost table
---@return integer seq
function Pacer:started(cost)
  self.seq = self.seq + 1
  self.flight[self.seq] = cost
  for kind, b in pairs(self.budgets) do
    b.spent = b.spent + cost[COST_FIELD[kind]]
  end
  return self.seq
end

-- One budget's headers from a reply, into what the pacer knows.
local function take(self, kind, remaining, reset, limit)
  local b = self.budgets[kind]
  local field = COST_FIELD[kind]
  if b and reset and ((b.reset and reset < b.reset) or (b.past and reset <= b.past)) then
    return                                     -- a reply from a window already over
  end
  if b and (b.reset == nil or reset == nil or reset == b.reset) then
    -- The same window: the server's count only grows within it.
    if remaining < b.remaining then b.remaining = remaining end
    b.reset, b.limit = reset or b.reset, limit or b.limit
    return
  end
  -- The first news of this budget, or a window the server opened before our clock said so:
  -- what is in flight may or may not be counted yet; assume not.
  self.budgets[kind] = { limit = limit, remaining = remaining, reset = reset, past = b and b.reset,
    spent = (limit and limit - remaining or 0) + in_flight(self, field) }
end

--- pacer:observe(seq, reply, now) takes in what a finished request's reply said. reply:
--- { headers = <lower-case header lookup or nil>, status = <integer|nil>, retry_after =
--- <seconds|nil, the engine's reading of retry-after>, attempts = <integer|nil> }.
---@param seq integer from pacer:started
---@param reply table
---@param now number wall-clock seconds
function Pacer:observe(seq, reply, now)
  self.flight[seq] = nil
  local h = reply.headers
  local limited = reply.status == 429
  if limited or (reply.attempts or 1) > 1 then
    -- A 429 reached the server (or a retry was needed): the estimates ran too close.
    self.margin = min(M.MAX_MARGIN, self.margin + 1)
  end
  if limited and reply.retry_after and reply.retry_after > 0 then
    self.hold_until = max(self.hold_until or 0, now + reply.retry_after)
  end
  if not h then return end
  self.seen = true
  for i = 1, #M.KINDS do
    local kind = M.KINDS[i]
    local prefix = "anthropic-ratelimit-" .. kind
    local remaining = tonumber(h[prefix .. "-remaining"])
    if remaining then
      take(self, kind, remaining, M.parse_time(h[prefix .. "-reset"]), tonumber(h[prefix .. "-limit"]))
    end
  end
end

return M
