-- anthropic.tool and anthropic.ToolError: definitions and what a tool's return value becomes.
local anthropic = require "anthropic"
local tools = require "anthropic.tools"
local json = require "anthropic.json"
local support = require "spec.support.client"

local SCHEMA = { type = "object", properties = { city = { type = "string" } }, required = { "city" } }
local function run() return "ok" end

describe("anthropic.tool", function()
  it("returns the API definition: encodes without run or any other Lua-only field", function()
    local t = anthropic.tool { name = "get_weather", description = "Weather", input_schema = SCHEMA,
      cache_control = { type = "ephemeral" }, run = run, on_progress = function() end }
    assert.equal(run, t.run)
    assert.same({ name = "get_weather", description = "Weather", input_schema = SCHEMA,
      cache_control = { type = "ephemeral" } }, json.decode(json.encode(t)))
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.same({ "cache_control", "description", "input_schema", "name" }, keys)
    assert.equal("anthropic.Tool(get_weather)", tostring(t))
  end)

  it("does not change the table it was given", function()
    local def = { name = "a", input_schema = SCHEMA, run = run }
    anthropic.tool(def)
    assert.equal(run, rawget(def, "run"))
  end)

  local BAD = {
    { "not a table", "x", "tool: must be a table" },
    { "no name", { input_schema = SCHEMA, run = run },
      "tool.name: must be 1 to 128 characters of A-Z a-z 0-9 _ -, got nil" },
    { "a name with a space", { name = "get weather", input_schema = SCHEMA, run = run },
      'tool.name: must be 1 to 128 characters of A-Z a-z 0-9 _ -, got "get weather"' },
    { "a name too long", { name = string.rep("a", 129), input_schema = SCHEMA, run = run },
      'tool.name: must be 1 to 128 characters of A-Z a-z 0-9 _ -, got "' .. string.rep("a", 129) .. '"' },
    { "a non-ASCII name", { name = "météo", input_schema = SCHEMA, run = run },
      'tool.name: must be 1 to 128 characters of A-Z a-z 0-9 _ -, got "m\195\169t\195\169o"' },
    { "no input_schema", { name = "a", run = run },
      'tool.input_schema: must be an object schema: { type = "object", properties = { ... } }' },
    { "an array schema", { name = "a", input_schema = { type = "array" }, run = run },
      'tool.input_schema: must be an object schema: { type = "object", properties = { ... } }' },
    { "a schema with an unknown type", { name = "a", run = run, input_schema = { type = "object",
      properties = { city = { type = "strin" } }, required = "city" } },
      "tool.input_schema: is not a valid JSON Schema: $.required: must be a list of property names; "
      .. '$.properties.city.type: unknown type "strin"' },
    { "no run", { name = "a", input_schema = SCHEMA }, "tool.run: must be a function (input, ctx) -> result" },
    { "run not a function", { name = "a", input_schema = SCHEMA, run = "x" },
      "tool.run: must be a function (input, ctx) -> result" },
    { "description not a string", { name = "a", description = 1, input_schema = SCHEMA, run = run },
      "tool.description: must be a string" },
  }
  for _, row in ipairs(BAD) do
    it("refuses " .. row[1], function()
      local err = support.raises(anthropic.tool, row[2])
      assert.is_true(anthropic.errors.UsageError.is_class_of(err))
      assert.equal(row[3], err.message)
    end)
  end
end)

describe("tools.prepare", function()
  it("turns plain tables with run into tools and passes the rest through", function()
    local server = { type = "web_search_20250305", name = "web_search", max_uses = 2 }
    local mine = { name = "mine", input_schema = SCHEMA }          -- no run: the caller handles it
    local wire, by_name = tools.prepare { { name = "plain", input_schema = SCHEMA, run = run }, server, mine }
    assert.same({ name = "plain", input_schema = SCHEMA }, json.decode(json.encode(wire[1])))
    assert.equal(run, tools.run_of(by_name.plain))
    assert.equal(server, wire[2])
    assert.is_nil(tools.run_of(by_name.web_search))
    assert.equal(mine, by_name.mine)
  end)

  it("refuses duplicate names, naming the name", function()
    local err = support.raises(tools.prepare, { { name = "a", input_schema = SCHEMA, run = run },
      { type = "web_search_20250305", name = "a" } })
    assert.equal('tools: duplicate tool name "a"', err.message)
  end)

  it("refuses a plain table with run that is not a valid tool, naming its place", function()
    local err = support.raises(tools.prepare, { { name = "a", input_schema = SCHEMA, run = run },
      { name = "b", run = run } })
    assert.equal('tools[2].input_schema: must be an object schema: { type = "object", properties = { ... } }',
      err.message)
  end)
end)

describe("tool results", function()
  local ROWS = {
    { "a string is the text", "sunny", "sunny" },
    { "nil is no content", nil, nil },
    { "a number is its JSON", 3, "3" },
    { "a table is its JSON", { temp = 20 }, '{"temp":20}' },
    { "a list that is not content blocks is its JSON", { 1, 2 }, "[1,2]" },
  }
  for _, row in ipairs(ROWS) do
    it(row[1], function() assert.equal(row[3], tools.content(row[2])) end)
  end

  it("a list of content blocks is sent as it is", function()
    local blocks = { { type = "text", text = "a" },
      { type = "image", source = { type = "base64", media_type = "image/png", data = "AAAA" } },
      { type = "document", source = { type = "text", media_type = "text/plain", data = "d" } } }
    assert.equal(blocks, tools.content(blocks))
  end)

  it("ToolError carries its content; a string is the content", function()
    local e = anthropic.ToolError { content = "no such file" }
    assert.is_true(tools.is_tool_error(e))
    assert.equal("no such file", e.content)
    assert.equal("ToolError: no such file", tostring(e))
    assert.equal("x", anthropic.ToolError("x").content)
    local err = support.raises(anthropic.ToolError, {})
    assert.equal('ToolError: needs content: ToolError{ content = "text" | { blocks } }', err.message)
  end)
end)
