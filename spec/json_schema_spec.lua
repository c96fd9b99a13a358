-- anthropic.schema: the JSON Schema checker behind tool inputs (and structured outputs).
-- One row per behaviour: { name, schema, value (JSON text, decoded with anthropic.json),
-- expected errors as "path: reason" lines (none: the value is valid) }.

local json = require "anthropic.json"
local schema = require "anthropic.schema"

local unpack_ = table.unpack or unpack -- luacheck: ignore 113

local CITY = { type = "object", properties = { city = { type = "string" } }, required = { "city" } }

local ROWS = {
  -- type
  { "string ok", { type = "string" }, '"x"' },
  { "string wrong", { type = "string" }, "3", "$: expected string, got integer" },
  { "integer ok", { type = "integer" }, "3" },
  { "integer written 3.0 is an integer", { type = "integer" }, "3.0" },
  { "integer refuses a fraction", { type = "integer" }, "3.5", "$: expected integer, got number" },
  { "number takes an integer", { type = "number" }, "3" },
  { "number takes a fraction", { type = "number" }, "2.25" },
  { "number refuses a string", { type = "number" }, '"3"', "$: expected number, got string" },
  { "boolean", { type = "boolean" }, "false" },
  { "boolean refuses 0", { type = "boolean" }, "0", "$: expected boolean, got integer" },
  { "null", { type = "null" }, "null" },
  { "null refuses false", { type = "null" }, "false", "$: expected null, got boolean" },
  { "type list", { type = { "string", "null" } }, "null" },
  { "type list wrong", { type = { "string", "null" } }, "1", "$: expected string or null, got integer" },
  { "array ok", { type = "array" }, "[1,2]" },
  { "array refuses an object", { type = "array" }, '{"a":1}', "$: expected array, got object" },
  { "object refuses an array", { type = "object" }, "[1]", "$: expected object, got array" },
  { "empty {} is an object", { type = "object" }, "{}" },
  { "empty [] is an array", { type = "array" }, "[]" },
  -- properties, required, additionalProperties
  { "properties ok", CITY, '{"city":"Paris"}' },
  { "property of the wrong type", CITY, '{"city":3}', "$.city: expected string, got integer" },
  { "required missing", CITY, "{}", '$: missing required property "city"' },
  { "additional allowed by default", CITY, '{"city":"Paris","extra":1}' },
  { "additionalProperties false",
    { type = "object", properties = { a = true }, additionalProperties = false }, '{"a":1,"b":2,"c":3}',
    '$: unexpected property "b"', '$: unexpected property "c"' },
  { "additionalProperties schema",
    { type = "object", additionalProperties = { type = "integer" } }, '{"n":1,"s":"x"}',
    "$.s: expected integer, got string" },
  { "property names that are not identifiers",
    { type = "object", properties = { ["a b"] = { type = "string" } } }, '{"a b":1}',
    '$["a b"]: expected string, got integer' },
  { "minProperties / maxProperties", { type = "object", minProperties = 2, maxProperties = 2 }, '{"a":1}',
    "$: must have at least 2 properties, got 1" },
  -- items
  { "items ok", { type = "array", items = { type = "string" } }, '["a","b"]' },
  { "items wrong, 0-based path", { type = "array", items = { type = "string" } }, '["a",2,"c",4]',
    "$[1]: expected string, got integer", "$[3]: expected string, got integer" },
  { "prefixItems then items", { type = "array", prefixItems = { { type = "string" } }, items = { type = "integer" } },
    '["a",1,"b"]', "$[2]: expected integer, got string" },
  { "nested path", { type = "object", properties = { stops = { type = "array", items = CITY } } },
    '{"stops":[{"city":"A"},{"town":"B"}]}', '$.stops[1]: missing required property "city"' },
  { "minItems", { type = "array", minItems = 2 }, "[1]", "$: must have at least 2 items, got 1" },
  { "minItems on an empty list", { type = "array", minItems = 1 }, "[]", "$: must have at least 1 items, got 0" },
  { "maxItems", { type = "array", maxItems = 1 }, "[1,2]", "$: must have at most 1 items, got 2" },
  { "uniqueItems", { type = "array", uniqueItems = true }, '[1,{"a":[1]},{"a":[1]}]',
    "$: items 1 and 2 are equal (uniqueItems)" },
  -- enum, const
  { "enum ok", { enum = { "c", "f" } }, '"f"' },
  { "enum wrong", { enum = { "c", "f" } }, '"k"', '$: must be one of "c", "f", got "k"' },
  { "enum of mixed values", { enum = { 1, "one", json.null } }, "null" },
  { "const ok", { const = { a = { 1, 2 } } }, '{"a":[1,2]}' },
  { "const wrong", { const = "x" }, '"y"', '$: must be "x", got "y"' },
  { "const 1 equals 1.0", { const = 1 }, "1.0" },
  -- numeric bounds
  { "minimum", { type = "number", minimum = 1 }, "0.5", "$: must be >= 1, got 0.5" },
  { "minimum is inclusive", { type = "number", minimum = 1 }, "1" },
  { "maximum", { type = "integer", maximum = 10 }, "11", "$: must be <= 10, got 11" },
  { "exclusiveMinimum", { type = "number", exclusiveMinimum = 0 }, "0", "$: must be > 0, got 0" },
  { "exclusiveMaximum", { type = "number", exclusiveMaximum = 1 }, "1", "$: must be < 1, got 1" },
  { "multipleOf", { type = "number", multipleOf = 0.5 }, "1.25", "$: must be a multiple of 0.5, got 1.25" },
  { "multipleOf ok", { type = "number", multipleOf = 0.1 }, "0.3" },
  -- length bounds count characters, not bytes
  { "minLength", { type = "string", minLength = 3 }, '"ab"', "$: must be at least 3 characters long, got 2" },
  { "maxLength counts UTF-8 characters", { type = "string", maxLength = 3 }, '"été"' },
  { "maxLength", { type = "string", maxLength = 3 }, '"étés"', "$: must be at most 3 characters long, got 4" },
  -- anyOf / allOf / oneOf / not
  { "anyOf ok", { anyOf = { { type = "string" }, { type = "integer" } } }, "1" },
  { "anyOf none", { anyOf = { { type = "string" }, { type = "integer" } } }, "true",
    "$: matches none of the anyOf schemas (first: $: expected string, got boolean)" },
  { "allOf collects every failure", { allOf = { { type = "integer" }, { minimum = 5 }, { maximum = 1 } } }, "3",
    "$: must be >= 5, got 3", "$: must be <= 1, got 3" },
  { "oneOf exactly one", { oneOf = { { type = "integer" }, { type = "string" } } }, '"x"' },
  { "oneOf two", { oneOf = { { type = "number" }, { type = "integer" } } }, "1",
    "$: matches 2 of the oneOf schemas, expected exactly one" },
  { "oneOf none", { oneOf = { { type = "string" } } }, "1",
    "$: matches none of the oneOf schemas (first: $: expected string, got integer)" },
  { "not", { ["not"] = { type = "string" } }, '"x"', '$: must not match the schema under "not"' },
  -- $ref / $defs
  { "$ref to $defs", { type = "object", properties = { home = { ["$ref"] = "#/$defs/place" } },
      ["$defs"] = { place = CITY } }, '{"home":{}}', '$.home: missing required property "city"' },
  { "$ref to definitions", { items = { ["$ref"] = "#/definitions/n" }, definitions = { n = { type = "integer" } } },
    '[1,"x"]', "$[1]: expected integer, got string" },
  { "$ref recursion on data",
    { type = "object", properties = { next = { ["$ref"] = "#" }, v = { type = "integer" } } },
    '{"v":1,"next":{"v":2,"next":{"v":"three"}}}', "$.next.next.v: expected integer, got string" },
  { "$ref with escaped pointer",
    { properties = { a = { ["$ref"] = "#/$defs/x~1y" } }, ["$defs"] = { ["x/y"] = { type = "null" } } },
    '{"a":1}', "$.a: expected null, got integer" },
  { "$ref that points at nothing", { ["$ref"] = "#/$defs/missing" }, "1",
    '$: $ref "#/$defs/missing" points at nothing' },
  { "$ref that is not local", { ["$ref"] = "https://example.com/s.json" }, "1",
    '$: $ref "https://example.com/s.json" is not a local reference (only "#..." is supported)' },
  { "$ref cycle without data", { ["$defs"] = { a = { ["$ref"] = "#/$defs/a" } }, ["$ref"] = "#/$defs/a" }, "1",
    "$: schema nests deeper than 64 levels" },
  -- boolean schemas and annotations
  { "true schema", true, '{"anything":[1]}' },
  { "false schema", { type = "object", properties = { x = false } }, '{"x":1}', "$.x: no value is allowed here" },
  { "annotations are not checked", { type = "string", title = "T", description = "d", format = "date-time",
      default = "x", examples = { "y" } }, '"not a date"' },
}

describe("anthropic.schema.check", function()
  for _, row in ipairs(ROWS) do
    it(row[1], function()
      local value = json.decode(row[3])
      assert.is_not_nil(value, "bad JSON in the row")
      local ok, errs = schema.check(value, row[2])
      local got = {}
      for i, e in ipairs(errs or {}) do got[i] = e.path .. ": " .. e.reason end
      local want = { select(4, unpack_(row)) }
      assert.same(want, got)
      assert.equal(#want == 0, ok)
    end)
  end
end)

-- schema.check_schema: { name, schema, expected errors }.
local BAD_SCHEMAS = {
  { "a well-formed schema", { type = "object", required = { "a" }, additionalProperties = false,
    properties = { a = { type = { "string", "null" }, maxLength = 3 }, b = { ["$ref"] = "#/$defs/n" } },
    ["$defs"] = { n = { type = "integer", minimum = 0, multipleOf = 2 } }, title = "T", ["x-extra"] = {} } },
  { "boolean schemas", { properties = { a = true, b = false } } },
  { "not an object", "object", "$: a schema must be an object or a boolean" },
  { "a list", { { type = "string" } }, "$: a schema must be an object or a boolean" },
  { "unknown type", { type = "strng" }, '$.type: unknown type "strng"' },
  { "unknown type in a list", { type = { "string", "int" } }, '$.type: unknown type "int"' },
  { "empty type list", { type = {} }, "$.type: must not be an empty list" },
  { "required not a list", { required = "a" }, "$.required: must be a list of property names" },
  { "required with a number", { required = { "a", 2 } }, "$.required[1]: must be a string" },
  { "enum not a list", { enum = "a" }, "$.enum: must be a list" },
  { "a bound that is not a number", { minimum = "1", maxLength = 1.5 },
    "$.minimum: must be a number", "$.maxLength: must be an integer >= 0" },
  { "multipleOf 0", { multipleOf = 0 }, "$.multipleOf: must be > 0" },
  { "items as a list", { items = { { type = "string" } } },
    "$.items: must be one schema (a list of schemas is prefixItems)" },
  { "anyOf empty", { anyOf = {} }, "$.anyOf: must be a non-empty list of schemas" },
  { "nested errors have paths", { properties = { a = { items = { type = "nope" } } }, oneOf = { { type = 1 } } },
    '$.oneOf[0].type: unknown type 1', '$.properties.a.items.type: unknown type "nope"' },
  { "a $ref that points at nothing", { properties = { a = { ["$ref"] = "#/$defs/x" } } },
    '$.properties.a["$ref"]: $ref "#/$defs/x" points at nothing' },
  { "$defs entries are checked", { ["$defs"] = { x = { type = "bad" } } }, '$["$defs"].x.type: unknown type "bad"' },
}

describe("anthropic.schema.check_schema", function()
  for _, row in ipairs(BAD_SCHEMAS) do
    it(row[1], function()
      local ok, errs = schema.check_schema(row[2])
      local got = {}
      for i, e in ipairs(errs or {}) do got[i] = e.path .. ": " .. e.reason end
      local want = { select(3, unpack_(row)) }
      assert.same(want, got)
      assert.equal(#want == 0, ok)
    end)
  end
end)

describe("anthropic.schema helpers", function()
  it("describe joins errors on one line", function()
    local _, errs = schema.check({ city = 3, n = "x" }, { type = "object",
      properties = { city = { type = "string" }, n = { type = "integer" } } })
    assert.equal("$.city: expected string, got integer; $.n: expected integer, got string", schema.describe(errs))
  end)

  it("honours json.array / json.object marks on empty tables", function()
    assert.is_false((schema.check(json.array(), { type = "object" })))
    assert.is_false((schema.check(json.object(), { type = "array" })))
    assert.is_true((schema.check(json.array(), { type = "array" })))
  end)

  it("type_of names JSON types", function()
    assert.equal("integer", schema.type_of(2))
    assert.equal("number", schema.type_of(0.5))
    assert.equal("null", schema.type_of(json.null))
    assert.equal("object", schema.type_of({}))
    assert.equal("array", schema.type_of({ 1 }))
    assert.equal("function", schema.type_of(print))
  end)

  it("does not modify the value or the schema", function()
    local s = { type = "object", properties = { a = { type = "integer" } }, required = { "a" } }
    local v = { a = 1 }
    schema.check(v, s)
    assert.same({ a = 1 }, v)
    assert.same({ type = "object", properties = { a = { type = "integer" } }, required = { "a" } }, s)
  end)
end)
