-- examples/bulk.lua (docs/bulk.md's job), as a user runs it against a mock: prompts from a file,
-- answers appended to a JSONL file, and the same command run again after it was done (nothing
-- is sent or written twice).
local cjson = require "cjson"
local mock = require "spec.support.mock"
local run = require "spec.support.run"

describe("examples/bulk.lua", function()
  local server, prompts, out
  setup(function() server = mock.spawn {} end)
  teardown(function() server.stop() end)
  before_each(function()
    prompts, out = os.tmpname(), os.tmpname()
    os.remove(out)
    local f = assert(io.open(prompts, "w"))
    f:write("What is Lua?\n\nName a moon of Mars.\nAnd one of Jupiter.\n")
    f:close()
  end)
  after_each(function()
    for _, p in ipairs { prompts, out, out .. ".state", out .. ".state.tmp" } do os.remove(p) end
  end)

  local function example()
    return run.command(run.interpreter() .. " examples/bulk.lua " .. run.quote(prompts) .. " " .. run.quote(out),
      { ANTHROPIC_API_KEY = mock.KEYS.free, ANTHROPIC_BASE_URL = server.url, ANTHROPIC_AUTH_TOKEN = "",
        BULK_POLL_SECONDS = "0.05" })
  end

  local function answers()
    local list = {}
    for line in assert(io.open(out)):lines() do list[#list + 1] = cjson.decode(line) end
    return list
  end

  it("answers every prompt once, and a second run sends and writes nothing", function()
    local text, code = example()
    assert.are.equal(0, code, text)
    assert.are.equal("3 answered, 0 errored, 0 canceled, 0 expired, in 1 batches\n", text)
    assert.are.same({
      { custom_id = "line-000001", type = "succeeded", text = "You said: What is Lua?" },
      { custom_id = "line-000002", type = "succeeded", text = "You said: Name a moon of Mars." },
      { custom_id = "line-000003", type = "succeeded", text = "You said: And one of Jupiter." },
    }, answers())
    mock.clear(server.url)
    text, code = example()
    assert.are.equal(0, code, text)
    assert.are.equal("3 answered, 0 errored, 0 canceled, 0 expired, in 1 batches\n", text)
    assert.are.equal(3, #answers())
    assert.are.same({}, mock.requests(server.url))
  end)
end)
