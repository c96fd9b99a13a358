-- examples/agent.lua (docs/tools.md's whole agent), as a user runs it: a mock whose config
-- scripts the turns (the model reads README.md, then answers), approval typed on stdin.
local cjson = require "cjson"
local mock = require "spec.support.mock"
local run = require "spec.support.run"

local SCRIPT = { { text = "Let me read it.", tool_use = { name = "read_file", input = { path = "README.md" } } },
  "It is a Claude client for Lua." }

describe("examples/agent.lua", function()
  local server, config
  setup(function()
    config = os.tmpname()
    local f = assert(io.open(config, "w"))
    f:write(cjson.encode { faults = { { path = "/v1/messages", turns = SCRIPT } } })
    f:close()
    server = mock.spawn { "--config", config }
  end)
  teardown(function()
    server.stop()
    os.remove(config)
  end)
  before_each(function() mock.request("DELETE", "/_mock/requests", {}, nil, { url = server.url }) end)

  local function agent(answer)
    local stdin = os.tmpname()
    local f = assert(io.open(stdin, "w"))
    f:write(answer, "\n")
    f:close()
    local out, code = run.command(run.interpreter() .. " examples/agent.lua " .. run.quote("What is README.md about?")
      .. " < " .. run.quote(stdin), { ANTHROPIC_API_KEY = mock.KEYS.free, ANTHROPIC_BASE_URL = server.url,
        ANTHROPIC_AUTH_TOKEN = "" })
    os.remove(stdin)
    return out, code, mock.bodies(nil, server.url)
  end

  it("reads the file once approved and prints each turn's text", function()
    local out, code, sent = agent("y")
    assert.equal(0, code, out)
    -- stdout and stderr share the pipe: the prompt may land anywhere between the lines
    assert.equal("Let me read it.\nIt is a Claude client for Lua.\n",
      (out:gsub('allow read_file {"path":"README.md"}%? %[y/N%] ', "", 1)))
    assert.truthy(out:find('allow read_file {"path":"README.md"}? [y/N] ', 1, true))
    local readme = assert(io.open("README.md", "rb")):read("*a")
    local result = sent[2].messages[3].content[1]
    assert.equal(readme, result.content)
    assert.is_nil(result.is_error)
  end)

  it("sends a denial when the user says no", function()
    local out, code, sent = agent("n")
    assert.equal(0, code, out)
    local tool_use = sent[2].messages[2].content[2]
    assert.equal("read_file", tool_use.name)
    assert.same({ type = "tool_result", tool_use_id = tool_use.id, is_error = true,
      content = "denied: the user said no" }, sent[2].messages[3].content[1])
  end)
end)
