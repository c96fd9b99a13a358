-- anthropic.schema.for_api: the SDKs' schema transform (TypeScript transform-json-schema.ts),
-- one row per rule: { what, input schema, expected output }.
local anthropic = require "anthropic"
local json = require "anthropic.json"
local support = require "spec.support.client"

local for_api = anthropic.schema.for_api
local errors = anthropic.errors

local OBJ = { type = "object", properties = {}, additionalProperties = false }

local ROWS = {
  { "objects get additionalProperties = false",
    { type = "object", properties = { a = { type = "string" } } },
    { type = "object", properties = { a = { type = "string" } }, additionalProperties = false } },
  { "additionalProperties given is replaced (the API wants false)",
    { type = "object", additionalProperties = { type = "string" } }, OBJ },
  { "an object without properties gets an empty properties map",
    { type = "object" }, OBJ },
  { "required is kept",
    { type = "object", properties = { a = { type = "integer" } }, required = { "a" } },
    { type = "object", properties = { a = { type = "integer" } }, required = { "a" },
      additionalProperties = false } },
  { "nested objects are transformed",
    { type = "object", properties = { p = { type = "object", properties = { q = { type = "boolean" } } } } },
    { type = "object", additionalProperties = false,
      properties = { p = { type = "object", properties = { q = { type = "boolean" } },
        additionalProperties = false } } } },
  { "type, description, title, const, enum are kept",
    { type = "string", description = "d", title = "t", enum = { "a", "b" }, const = "a" },
    { type = "string", description = "d", title = "t", enum = { "a", "b" }, const = "a" } },
  { "a keyword the API refuses moves into the description",
    { type = "integer", minimum = 1 },
    { type = "integer", description = "{minimum: 1}" } },
  { "after the description and a blank line, keys sorted",
    { type = "integer", description = "How many.", maximum = 9, minimum = 1, multipleOf = 3 },
    { type = "integer", description = "How many.\n\n{maximum: 9, minimum: 1, multipleOf: 3}" } },
  { "string limits and pattern move, slashes unescaped",
    { type = "string", minLength = 2, maxLength = 5, pattern = "^a/b$" },
    { type = "string", description = '{maxLength: 5, minLength: 2, pattern: "^a/b$"}' } },
  { "a supported format stays",
    { type = "string", format = "date-time" }, { type = "string", format = "date-time" } },
  { "an unsupported format moves",
    { type = "string", format = "zip-code" }, { type = "string", description = '{format: "zip-code"}' } },
  { "array items are transformed",
    { type = "array", items = { type = "object" } },
    { type = "array", items = OBJ } },
  { "minItems 0 and 1 stay",
    { type = "array", items = { type = "string" }, minItems = 1 },
    { type = "array", items = { type = "string" }, minItems = 1 } },
  { "minItems above 1 and maxItems move",
    { type = "array", items = { type = "string" }, minItems = 2, maxItems = 4, uniqueItems = true },
    { type = "array", items = { type = "string" }, description = "{maxItems: 4, minItems: 2, uniqueItems: true}" } },
  { "oneOf becomes anyOf, each variant transformed",
    { oneOf = { { type = "string" }, { type = "object" } } },
    { anyOf = { { type = "string" }, OBJ } } },
  { "anyOf stays anyOf",
    { anyOf = { { type = "integer", minimum = 0 }, { type = "null" } } },
    { anyOf = { { type = "integer", description = "{minimum: 0}" }, { type = "null" } } } },
  { "allOf stays allOf",
    { allOf = { { type = "object" } } }, { allOf = { OBJ } } },
  { "a type beside anyOf is not lost: it moves into the description",
    { type = "object", anyOf = { { type = "object" } } },
    { anyOf = { OBJ }, description = '{type: "object"}' } },
  { "$ref stands alone",
    { type = "object", properties = { a = { ["$ref"] = "#/$defs/A", description = "dropped, as the SDKs do" } },
      ["$defs"] = { A = { type = "string" } } },
    { type = "object", properties = { a = { ["$ref"] = "#/$defs/A" } }, ["$defs"] = { A = { type = "string" } },
      additionalProperties = false } },
  { "$defs are transformed",
    { type = "object", properties = { a = { ["$ref"] = "#/$defs/A" } }, ["$defs"] = { A = { type = "object" } } },
    { type = "object", properties = { a = { ["$ref"] = "#/$defs/A" } }, ["$defs"] = { A = OBJ },
      additionalProperties = false } },
  { "definitions too",
    { type = "object", definitions = { A = { type = "integer", maximum = 3 } } },
    { type = "object", properties = {}, definitions = { A = { type = "integer", description = "{maximum: 3}" } },
      additionalProperties = false } },
  { "default and examples move (the model still reads them)",
    { type = "string", default = "x", examples = { "y" } },
    { type = "string", description = '{default: "x", examples: ["y"]}' } },
  { "nested values in a moved keyword are written with sorted keys",
    { type = "string", ["not"] = { type = "string", const = "no" } },
    { type = "string", description = '{not: {"const":"no","type":"string"}}' } },
  { "a schema of only enum or const needs no type",
    { enum = { 1, 2 } }, { enum = { 1, 2 } } },
}

describe("anthropic.schema.for_api", function()
  for _, row in ipairs(ROWS) do
    it(row[1], function()
      assert.same(row[3], for_api(row[2]))
    end)
  end

  it("does not change its input", function()
    local s = { type = "object", properties = { n = { type = "integer", minimum = 1 } } }
    for_api(s)
    assert.same({ type = "object", properties = { n = { type = "integer", minimum = 1 } } }, s)
  end)

  it("encodes an empty properties map as {}", function()
    assert.truthy(json.encode(for_api { type = "object" }):find('"properties":{}', 1, true))
  end)

  local BAD = {
    { "no type and no anyOf/oneOf/allOf/enum/const", { properties = {} },
      "schema: needs a type (or anyOf, oneOf, allOf, enum, const)" },
    { "the same, nested, names the path", { type = "object", properties = { a = { description = "x" } } },
      "schema.properties.a: needs a type (or anyOf, oneOf, allOf, enum, const)" },
    { "a malformed schema", { type = "strng" }, 'schema: is not a valid JSON Schema: $.type: unknown type "strng"' },
    { "not a table", "object", "schema: is not a valid JSON Schema: $: a schema must be an object or a boolean" },
  }
  for _, row in ipairs(BAD) do
    it("refuses " .. row[1], function()
      local err = support.raises(for_api, row[2])
      assert.is_true(errors.UsageError.is_class_of(err))
      assert.equal(row[3], err.message)
    end)
  end
end)

describe("anthropic.tool{ strict = true }", function()
  local def = {
    name = "roll", description = "Roll dice", strict = true,
    input_schema = { type = "object", properties = { n = { type = "integer", minimum = 1, maximum = 6 } },
      required = { "n" } },
    run = function(input) return tostring(input.n) end,
  }

  it("sends the schema transformed for the API", function()
    local t = anthropic.tool(def)
    assert.same(for_api(def.input_schema), t.input_schema)
    assert.is_true(t.strict)
    assert.equal(false, t.input_schema.additionalProperties)
    assert.equal(1, def.input_schema.properties.n.minimum, "the definition is not changed")
  end)

  it("checks inputs against the definition's own schema", function()
    local tools = require "anthropic.tools"
    local t = anthropic.tool(def)
    assert.equal(def.input_schema, tools.input_schema_of(t))
    assert.is_false((anthropic.schema.check({ n = 9 }, tools.input_schema_of(t))))
    local plain = anthropic.tool { name = "x", input_schema = { type = "object" }, run = def.run }
    assert.equal(rawget(plain, "input_schema"), tools.input_schema_of(plain))
  end)

  it("refuses a strict that is not a boolean", function()
    local bad = {}
    for k, v in pairs(def) do bad[k] = v end
    bad.strict = "yes"
    assert.equal("tool.strict", support.raises(anthropic.tool, bad).param)
  end)

  it("names the tool's path when the transform refuses the schema", function()
    local bad = {}
    for k, v in pairs(def) do bad[k] = v end
    bad.input_schema = { type = "object", properties = { a = { description = "no type" } } }
    assert.equal("tool.input_schema.properties.a: needs a type (or anyOf, oneOf, allOf, enum, const)",
      support.raises(anthropic.tool, bad).message)
  end)
end)
