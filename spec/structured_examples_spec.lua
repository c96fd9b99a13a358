-- examples/structured/ (docs/structured.md), run as a user runs them, against the mock: it
-- answers a json_schema request with a document that satisfies the schema.
local mock = require "spec.support.mock"
local run = require "spec.support.run"

local function example(file, args)
  local env = { ANTHROPIC_API_KEY = mock.KEYS.free, ANTHROPIC_BASE_URL = mock.url(), ANTHROPIC_AUTH_TOKEN = "" }
  return run.command(run.interpreter() .. " examples/structured/" .. file .. " " .. (args or ""), env)
end

describe("examples/structured", function()
  before_each(function() mock.clear() end)

  it("extract.lua prints the people the checked value lists", function()
    local out, code = example("extract.lua", run.quote("Ada met Alan."))
    assert.equal(0, code, out)
    assert.equal("mock-name\tmock-email\t0\n", out)
    local body = mock.bodies("/v1/messages")[1]
    assert.equal(false, body.output_config.format.schema.properties.people.items.additionalProperties)
  end)

  it("quest.lua shows the quest filling in, then the checked quest", function()
    local out, code = example("quest.lua")
    assert.equal(0, code, out)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal("quest ready", lines[#lines]:match("^quest ready"), out)
    assert.truthy(out:find("  title       mock-title\n", 1, true), out)
    assert.truthy(out:find("  reward_gold 10\n", 1, true), out)
    -- partial titles came first: the title grew over several frames
    local first_title = out:match("  title       ([^\n]*)\n")
    assert.truthy(#first_title <= #"mock-title")
    assert.truthy(lines[#lines]:find("2 steps, first: mock-steps", 1, true), out)
    assert.equal("json_schema", mock.bodies("/v1/messages")[1].output_config.format.type)
  end)
end)
