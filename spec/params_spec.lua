-- What is checked is what is sent (issue 15): params are walked once, raw, into a plain copy
-- that validation reads and the encoder encodes. Proxy tables (__pairs, __ipairs, __len, an
-- __index function), cycles and raising metamethods give a UsageError naming the field; nothing
-- is sent and the client stays usable. Numbers reach the API as the numbers they are.

local anthropic = require "anthropic"
local cjson = require "cjson"
local json = require "anthropic.json"
local hostile = require "spec.support.hostile"
local support = require "spec.support.client"

local raises = support.raises

local srv, c
setup(function()
  srv, c = hostile.capturing()
end)
teardown(function()
  c:close()
  srv.stop()
end)

local function P(extra)
  local p = { model = "claude-haiku-4-5", max_tokens = 16, messages = { { role = "user", content = "hi" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local function last_body()
  local reqs = srv.requests()
  return reqs[#reqs].body, #reqs
end

-- Expects a UsageError with exactly `message`, no request sent, and a client that still works.
local function refused(fn, message)
  local before = srv.count()
  local err = raises(fn)
  assert.equal("table", type(err), "a raw Lua error: " .. tostring(err))
  assert.equal("UsageError", err.class_name)
  assert.equal(message, err.message)
  assert.equal(before, srv.count(), "something was sent")
  assert.equal("ok", c.messages.create(P()).content[1].text)
end

local real = { { role = "user", content = "hello" } }
local function boom() error("metamethod raised") end

describe("params with metatables", function()
  it("a __pairs proxy for messages (the issue's case: validated as one thing, sent as []) is refused", function()
    local proxy = setmetatable({}, { __pairs = function() return next, real, nil end, __index = real,
      __len = function() return #real end })
    refused(function() return c.messages.create(P { messages = proxy }) end,
      "messages: is a proxy table (its metatable has __pairs), so what it shows is not what it holds: "
      .. "pass a plain table")
  end)

  local rows = {
    { "__index function", setmetatable({}, { __index = function(_, i) return real[i] end }), "__index" },
    { "__len", setmetatable({ { role = "user", content = "x" } }, { __len = function() return 5 end }), "__len" },
    { "__ipairs", setmetatable({}, { __ipairs = function() return ipairs(real) end }), "__ipairs" },
    { "a raising __pairs", setmetatable({}, { __pairs = boom }), "__pairs" },
    { "a raising __index", setmetatable({}, { __index = boom }), "__index" },
    { "a __pairs behind a __metatable guard", setmetatable({}, { __pairs = boom, __metatable = "no" }), "__pairs" },
  }
  for _, r in ipairs(rows) do
    it("refuses " .. r[1] .. " under messages, naming the field", function()
      refused(function() return c.messages.create(P { messages = r[2] }) end,
        "messages: is a proxy table (its metatable has " .. r[3] .. "), so what it shows is not what it holds: "
        .. "pass a plain table")
    end)
  end

  it("names the field deep down, in stream and count_tokens too", function()
    local bad = setmetatable({}, { __pairs = boom })
    local msg = "messages[1].content[2].input: is a proxy table (its metatable has __pairs), so what it shows "
      .. "is not what it holds: pass a plain table"
    local params = P { messages = { { role = "user", content = { { type = "text", text = "a" },
      { type = "tool_use", id = "t", name = "n", input = bad } } } } }
    refused(function() return c.messages.create(params) end, msg)
    refused(function() return c.messages.stream(params) end, msg)
    refused(function() return c.messages.count_tokens(params) end, msg)
  end)

  it("the params table itself as a proxy", function()
    refused(function() return c.messages.create(setmetatable({}, { __index = function(_, k) return P()[k] end })) end,
      "params: is a proxy table (its metatable has __index), so what it shows is not what it holds: pass a plain table")
    -- An __index table is not followed (the walk is raw): validated as what it holds, nothing.
    refused(function() return c.messages.create(setmetatable({}, { __index = P() })) end,
      "model: must be a non-empty string")
  end)

  it("options, headers and client options with raising metamethods", function()
    refused(function() return c.messages.create(P(), setmetatable({}, { __pairs = boom })) end,
      "options: is a proxy table (its metatable has __pairs), so what it shows is not what it holds: "
      .. "pass a plain table")
    refused(function() return c.messages.create(P(), { headers = setmetatable({}, { __index = boom }) }) end,
      "options.headers: is a proxy table (its metatable has __index), so what it shows is not what it holds: "
      .. "pass a plain table")
    local err = raises(anthropic.new, setmetatable({}, { __pairs = boom }))
    assert.equal("UsageError", err.class_name)
    refused(function() return c.models.list(setmetatable({}, { __pairs = boom })) end,
      "params: is a proxy table (its metatable has __pairs), so what it shows is not what it holds: "
      .. "pass a plain table")
  end)

  it("a key whose __tostring raises is named by its type", function()
    local key = setmetatable({}, { __tostring = boom })
    refused(function() return c.messages.create(P(), { [key] = 1 }) end, "options.<table key>: unknown option")
    refused(function() return c.messages.create(P { metadata = { [key] = 1 } }) end,
      "metadata: table key of type table cannot be encoded")
  end)

  it("a metatable whose own metatable has a raising __eq", function()
    local mt = setmetatable({ __pairs = boom }, { __eq = boom, __index = boom })
    refused(function() return c.messages.create(P { metadata = setmetatable({}, mt) }) end,
      "metadata: is a proxy table (its metatable has __pairs), so what it shows is not what it holds: "
      .. "pass a plain table")
  end)

  it("cycles are refused, shared tables are sent twice", function()
    local t = { a = 1 }
    t.self = t
    refused(function() return c.messages.create(P { metadata = t }) end,
      "metadata.self: table contains itself (a cycle)")
    local shared = { role = "user", content = "same" }
    c.messages.create(P { messages = { shared, { role = "assistant", content = "x" }, shared } })
    local body = cjson.decode((last_body()))
    assert.same({ shared, { role = "assistant", content = "x" }, shared }, body.messages)
  end)

  it("an __index table is not followed: a result sent back is sent as it holds (no _request_id)", function()
    local msg = c.messages.create(P())
    assert.equal("req_hostile", msg._request_id)
    c.messages.create(P { messages = { { role = "user", content = "q" }, msg } })
    local sent = cjson.decode((last_body())).messages[2]
    assert.is_nil(sent._request_id)
    assert.is_nil(sent._response)
    assert.equal("msg_hostile", sent.id)
  end)

  it("json.array / json.object marks are kept", function()
    c.messages.create(P { stop_sequences = json.array(), metadata = json.object() })
    local body = last_body()
    assert.truthy(body:find('"stop_sequences":[]', 1, true))
    assert.truthy(body:find('"metadata":{}', 1, true))
  end)

  it("never changes the caller's tables", function()
    local params = P { stop_sequences = {}, temperature = 0.1 + 0.2 }
    local before = cjson.encode(params)
    c.messages.create(params)
    assert.equal(before, cjson.encode(params))
  end)
end)

describe("numbers are sent as they are", function()
  local rows = {
    { 0.1 + 0.2, "0.30000000000000004" },
    { 1 / 3, "0.33333333333333331" },
    { 123456789012345.5, "123456789012345.5" },
    { 0.5, "0.5" },
    { 1e300, "1e+300" },
    { 42, "42" },
  }
  if math.type then
    rows[#rows + 1] = { math.tointeger(2 ^ 53) + 1, "9007199254740993" }
    rows[#rows + 1] = { math.maxinteger, "9223372036854775807" }
    rows[#rows + 1] = { 123456789012345678, "123456789012345678" }
  end
  for _, r in ipairs(rows) do
    it(r[2], function()
      c.messages.create(P { metadata = { n = r[1] } })
      assert.truthy(last_body():find('"metadata":{"n":' .. r[2] .. '}', 1, true), last_body())
      assert.equal(r[2], json.encode({ r[1] }):match("^%[(.*)%]$"))
    end)
  end

  it("a caller string that looks like the encoder's own sentinel is refused, not replaced", function()
    refused(function() return c.messages.create(P { metadata = { s = "\0anthropic.json.number:1\0" } }) end,
      "metadata.s: string is reserved by anthropic.json")
    refused(function() return c.messages.create(P { metadata = { ["\0anthropic.json.empty_array\0"] = 1 } }) end,
      "metadata: key is reserved by anthropic.json")
  end)
end)
