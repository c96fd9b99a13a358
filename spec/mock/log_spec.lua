-- GET/DELETE /_mock/requests: what was received, credentials masked.
local mock = require "spec.support.mock"
local cjson = require "cjson"
local socket = require "socket"

local BODY = cjson.encode({ model = mock.MODELS.haiku, max_tokens = 10,
  messages = { { role = "user", content = "hi" } } })

describe("mock request log", function()
  before_each(function() mock.clear() end)

  it("records method, path, query, headers, body, time, connection, auth, route, status", function()
    local t0 = socket.gettime()
    mock.request("POST", "/v1/messages?beta=true", mock.headers({ ["x-custom"] = "Value" }), BODY)
    local log = mock.requests()
    assert.equal(1, #log)
    local e = log[1]
    assert.equal("POST", e.method)
    -- path as received (ANTHROPIC_MOCK_URL may carry a prefix), route the /v1 part
    assert.equal("/v1/messages", e.path:sub(-#"/v1/messages"))
    assert.equal("beta=true", e.query)
    assert.equal(BODY, e.body)
    assert.equal("Value", e.headers["x-custom"])
    assert.equal("2023-06-01", e.headers["anthropic-version"])
    assert.equal(tostring(#BODY), e.headers["content-length"])
    assert.is_true(e.time >= t0 - 1 and e.time <= socket.gettime() + 1)
    assert.equal("number", type(e.connection))
    assert.equal("x-api-key", e.auth)
    assert.equal("/v1/messages", e.route)
    assert.equal(200, e.status)
    assert.matches("^req_mock_", e.request_id)
  end)

  local rows = {
    { "x-api-key", { ["x-api-key"] = mock.KEYS.scale }, "x-api-key" },
    { "bearer", { ["x-api-key"] = false, authorization = "Bearer " .. mock.KEYS.build }, "bearer" },
    { "none", { ["x-api-key"] = false }, "none" },
    { "an unknown key", { ["x-api-key"] = "sk-ant-secret-never-logged" }, "x-api-key" },
  }
  for _, row in ipairs(rows) do
    it("masks credentials (" .. row[1] .. ")", function()
      mock.request("POST", "/v1/messages", mock.headers(row[2]), BODY)
      local _, _, raw = mock.request("GET", "/_mock/requests", {})
      assert.is_nil(raw:find("sk-ant", 1, true))
      local e = cjson.decode(raw).requests[1]
      assert.equal(row[3], e.auth)
      if row[2]["x-api-key"] then assert.equal("***", e.headers["x-api-key"]) end
      if row[2].authorization then assert.equal("***", e.headers.authorization) end
    end)
  end

  it("keeps arrival order and does not log its own endpoints", function()
    mock.request("GET", "/v1/models", mock.headers())
    mock.request("GET", "/_mock/requests", {})
    mock.request("GET", "/v1/models/claude-haiku-4-5", mock.headers())
    mock.request("GET", "/_mock/health", {})
    local log = mock.requests()
    assert.same({ "/v1/models", "/v1/models/claude-haiku-4-5" }, { log[1].route, log[2].route })
  end)

  it("logs each retry of a faulted request", function()
    local h = mock.headers({ ["x-mock-fault"] = '{"sequence":[529,529]}' })
    for _ = 1, 3 do mock.request("POST", "/v1/messages", h, BODY) end
    local statuses = {}
    for i, e in ipairs(mock.requests()) do statuses[i] = e.status end
    assert.same({ 529, 529, 200 }, statuses)
  end)

  it("DELETE clears it", function()
    mock.request("GET", "/v1/models", mock.headers())
    local status, _, raw = mock.request("DELETE", "/_mock/requests", {})
    assert.equal(200, status)
    assert.same({ cleared = 1 }, cjson.decode(raw))
    assert.same({}, mock.requests())
    local _, _, empty = mock.request("GET", "/_mock/requests", {})
    assert.equal('{"requests":[]}', empty)
  end)

  it("answers /_mock/health and rejects other methods", function()
    local s1, _, b1 = mock.request("GET", "/_mock/health", {})
    assert.equal(200, s1)
    assert.equal('{"ok":true}', b1)
    assert.equal(405, (mock.request("POST", "/_mock/requests", {})))
    assert.equal(404, (mock.request("GET", "/_mock/nothing", {})))
  end)
end)
