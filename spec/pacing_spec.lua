-- anthropic.pacing: the budgets a queue paces itself by, from made-up headers and times.

local pacing = require "anthropic.pacing"

local T0 = 1800000000            -- 2027-01-15T08:00:00Z
local RESET = "2027-01-15T08:00:01Z"

-- A reply's headers for the requests budget (and, when given, the input-tokens one).
local function reply(remaining, reset, limit, extra)
  local h = {
    ["anthropic-ratelimit-requests-remaining"] = tostring(remaining),
    ["anthropic-ratelimit-requests-reset"] = reset or RESET,
    ["anthropic-ratelimit-requests-limit"] = limit and tostring(limit) or nil,
  }
  for k, v in pairs(extra or {}) do h[k] = v end
  return { headers = h, status = 200, attempts = 1 }
end

describe("pacing.parse_time", function()
  for _, row in ipairs {
    { "2027-01-15T08:00:00Z", T0 },
    { "2027-01-15T08:00:01.250Z", T0 + 1.25 },
    { "2027-01-15T09:00:00+01:00", T0 },
    { "2027-01-15T07:30:00-00:30", T0 },
    { "1970-01-01T00:00:00Z", 0 },
    { "2024-02-29T00:00:00Z", 1709164800 },
    { "2027-01-15 08:00:00Z", T0 },
    { "2027-13-01T00:00:00Z", nil },
    { "2027-01-15T08:00:00", nil },
    { "Fri, 15 Jan 2027 08:00:00 GMT", nil },
    { "", nil },
  } do
    it(row[1] .. " -> " .. tostring(row[2]), function()
      assert.equal(row[2], pacing.parse_time(row[1]))
    end)
  end
end)

describe("pacing.cost", function()
  it("counts a token per four bytes of the request and output at max_tokens", function()
    assert.same({ requests = 1, input = 4 + 25, output = 256, tokens = 29 + 256 }, pacing.cost(100, 256))
    assert.same({ requests = 1, input = 4 + 1, output = 0, tokens = 5 }, pacing.cost(3, nil))
  end)
end)

describe("a pacer", function()
  local cost = pacing.cost(100, 16)

  it("lets one request go before anything is known, then waits for its reply", function()
    local p = pacing.new()
    assert.equal(0, p:wait(cost, T0))
    local s = p:started(cost)
    assert.is_false(p:wait(cost, T0))
    p:observe(s, reply(9, RESET, 10), T0)
    assert.equal(0, p:wait(cost, T0))
  end)

  it("holds starts once the window's budget is spent, until its reset", function()
    local p = pacing.new()
    p:observe(p:started(cost), reply(3, RESET, 4), T0)
    for _ = 1, 3 do
      assert.equal(0, p:wait(cost, T0))
      p:started(cost)
    end
    -- Three in flight, the server said 3 left: nothing more starts before the reset.
    assert.equal(0.75, p:wait(cost, T0 + 0.25))
    -- Replies in any order: the lowest remaining counts, a higher one later changes nothing.
    p:observe(3, reply(1, RESET, 4), T0 + 0.3)
    p:observe(2, reply(2, RESET, 4), T0 + 0.3)
    assert.equal(0.5, p:wait(cost, T0 + 0.5))
    -- At the reset the budget is full again.
    assert.equal(0, p:wait(cost, T0 + 1))
  end)

  it("ignores replies from a window that is over", function()
    local p = pacing.new()
    p:observe(p:started(cost), reply(0, RESET, 5), T0)
    local s = p:started(cost)      -- sent in the old window, answered after its reset
    assert.equal(0, p:wait(cost, T0 + 1))
    p:observe(s, reply(0, RESET, 5), T0 + 1.01)
    assert.equal(0, p:wait(cost, T0 + 1.01))
  end)

  it("never sends more in a window than the limit, whatever the server reported", function()
    local p = pacing.new()
    p:observe(p:started(cost), reply(9, RESET, 10), T0)
    local started = 1
    while p:wait(cost, T0) == 0 do
      p:started(cost)
      started = started + 1
    end
    assert.equal(10, started)
  end)

  it("waits for a reply when a budget is spent and its reset is unknown", function()
    local p = pacing.new()
    local s = p:started(cost)
    p:observe(s, { headers = { ["anthropic-ratelimit-requests-remaining"] = "1" }, status = 200 }, T0)
    p:started(cost)
    assert.is_false(p:wait(cost, T0))
  end)

  it("respects a token budget by the estimated cost", function()
    local p = pacing.new()
    local big = pacing.cost(400, 1000)   -- 104 input, 1000 output
    p:observe(p:started(big), reply(100, RESET, 100, {
      ["anthropic-ratelimit-output-tokens-remaining"] = "1500",
      ["anthropic-ratelimit-output-tokens-limit"] = "2500",
      ["anthropic-ratelimit-output-tokens-reset"] = "2027-01-15T08:00:02Z",
    }), T0)
    assert.equal(0, p:wait(big, T0))
    p:started(big)
    assert.equal(2, p:wait(big, T0))
  end)

  it("lets a request larger than the whole budget go alone in a fresh window", function()
    local p = pacing.new()
    local huge = pacing.cost(40, 5000)
    p:observe(p:started(cost), reply(10, RESET, 10, {
      ["anthropic-ratelimit-output-tokens-remaining"] = "1000",
      ["anthropic-ratelimit-output-tokens-limit"] = "1000",
      ["anthropic-ratelimit-output-tokens-reset"] = RESET,
    }), T0)
    assert.equal(0, p:wait(huge, T0))
  end)

  it("holds for retry-after after a 429 and keeps a margin from then on", function()
    local p = pacing.new()
    local s = p:started(cost)
    p:observe(s, { headers = reply(0, RESET, 10).headers, status = 429, retry_after = 2 }, T0)
    assert.equal(2, p:wait(cost, T0))
    assert.equal(1, p.margin)
    -- After the hold and the reset: the margin keeps one request's budget unspent.
    p:observe(p:started(cost), reply(2, "2027-01-15T08:00:03Z", 10), T0 + 2)
    assert.equal(0, p:wait(cost, T0 + 2))
    p:started(cost)
    assert.equal(1, p:wait(cost, T0 + 2))
  end)

  it("tightens after a reply that needed retries", function()
    local p = pacing.new()
    p:observe(p:started(cost), { headers = reply(5, RESET, 10).headers, status = 200, attempts = 2 }, T0)
    assert.equal(1, p.margin)
    for _ = 1, 10 do p:observe(p:started(cost), { status = 200, attempts = 3 }, T0) end
    assert.equal(pacing.MAX_MARGIN, p.margin)
  end)
end)
