-- The queue at volume (issue 20): against a mock that enforces a request limit, 1,000 queued
-- requests all finish, in order, with no 429 reaching the caller and at most a few sent by
-- the server. Its time against the minimum the limit allows is bench/queue.lua's to report.

local load = require "spec.support.queue_load"

describe("a queue of 1,000 requests under an enforced limit", function()
  it("finishes them all, in order, with no 429 for the caller and at most a few at the server", function()
    local r = load.run { n = 1000, limit = 100, window_ms = 200, max_in_flight = 16 }
    local nerrs = 0
    for _ in pairs(r.errs) do nerrs = nerrs + 1 end
    assert.equal(0, nerrs)
    assert.equal(1000, #r.results)
    for i = 1, 1000 do
      assert.equal("You said: n" .. i, r.results[i].content[1].text)
    end
    assert.equal(1000, r.server.counted)
    assert.is_true(r.server.limited <= 3, r.server.limited .. " 429s sent by the server")
  end)
end)
