-- engine.sleep and the timer list behind it (anthropic.timers), and the core's clock:
-- a sleeping task is woken by client:poll (which counts it as in flight and sleeps until it is
-- due instead of spinning); outside a task sleep blocks; core.sleep_ms checks its argument.

local anthropic = require "anthropic"
local core = require "anthropic.core"
local engine = require "anthropic.engine"

describe("engine.sleep", function()
  local client
  before_each(function()
    client = anthropic.new { api_key = "sk-ant-mock-free", base_url = "http://127.0.0.1:9", max_retries = 0 }
  end)
  after_each(function() client:close() end)

  it("inside a task: poll counts the sleeper, sleeps until it is due, and wakes it", function()
    local woke
    local task = anthropic.spawn(function()
      engine.sleep(client, 0.15)
      woke = core.now_ms()
    end)
    local t0 = core.now_ms()
    assert.is_false(task:is_done())
    assert.are.equal(1, client:poll(0))
    local polls = 0
    while not task:is_done() do
      polls = polls + 1
      client:poll(1000)
    end
    assert.is_true(woke - t0 >= 140, "woke after " .. (woke - t0) .. " ms")
    assert.is_true(polls <= 2, polls .. " polls: poll(1000) should sleep until the wake-up")
    assert.are.equal(0, client:poll(0))
  end)

  it("two sleepers wake in the order of their times", function()
    local order = {}
    anthropic.spawn(function() engine.sleep(client, 0.12); order[#order + 1] = "long" end)
    anthropic.spawn(function() engine.sleep(client, 0.03); order[#order + 1] = "short" end)
    while client:poll(50) > 0 do end
    assert.are.same({ "short", "long" }, order)
  end)

  it("outside a task blocks for the time", function()
    local t0 = core.now_ms()
    engine.sleep(client, 0.05)
    assert.is_true(core.now_ms() - t0 >= 49)
  end)

  it("core.sleep_ms refuses a negative or NaN time", function()
    assert.has_error(function() core.sleep_ms(-1) end)
    assert.has_error(function() core.sleep_ms(0 / 0) end)
    core.sleep_ms(0)
  end)
end)
