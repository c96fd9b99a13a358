-- HTTP/1.1 behaviour: keep-alive, chunked bodies both ways, size limits,
-- Expect: 100-continue, base path prefixes, unknown routes, bad requests.
local mock = require "spec.support.mock"
local cjson = require "cjson"

local BODY = cjson.encode({ model = mock.MODELS.haiku, max_tokens = 10,
  messages = { { role = "user", content = "hi" } } })

local function last_log()
  local l = mock.requests()
  return l[#l]
end

describe("mock HTTP", function()
  before_each(function() mock.clear() end)

  it("keeps connections alive: three requests, one connection id", function()
    local c = mock.connect()
    for _ = 1, 3 do
      local status, h = c:request("POST", "/v1/messages", mock.headers(), BODY)
      assert.equal(200, status)
      assert.is_nil(h["connection"])
    end
    -- a stream on the same connection, then another plain request
    local status = c:request("POST", "/v1/messages", mock.headers(),
      (BODY:gsub("^{", '{"stream":true,')))
    assert.equal(200, status)
    assert.equal(200, (c:request("GET", "/v1/models", mock.headers())))
    c:close()
    local other = mock.connect()
    assert.equal(200, (other:request("POST", "/v1/messages", mock.headers(), BODY)))
    other:close()
    local log = mock.requests()
    assert.equal(6, #log)
    for i = 2, 5 do assert.equal(log[1].connection, log[i].connection) end
    assert.is_true(log[6].connection > log[1].connection)
  end)

  it("closes after a request with Connection: close", function()
    local c = mock.connect()
    local status, h = c:request("POST", "/v1/messages", mock.headers({ connection = "close" }), BODY)
    assert.equal(200, status)
    assert.equal("close", h["connection"])
    local s2, _, _, err = c:request("POST", "/v1/messages", mock.headers(), BODY)
    assert.is_nil(s2)
    assert.is_not_nil(err)
    c:close()
  end)

  it("speaks HTTP/1.0 (closes unless keep-alive was asked)", function()
    local c = mock.connect()
    local raw = "GET /v1/models HTTP/1.0\r\nx-api-key: " .. mock.KEYS.free ..
      "\r\nanthropic-version: 2023-06-01\r\n\r\n"
    local status, h = c:request(nil, nil, nil, nil, { raw = raw })
    assert.equal(200, status)
    assert.equal("close", h["connection"])
    c:close()
  end)

  it("answers pipelined requests in order", function()
    local c = mock.connect()
    local one = "GET /v1/models/claude-haiku-4-5 HTTP/1.1\r\nhost: x\r\nx-api-key: " .. mock.KEYS.free ..
      "\r\nanthropic-version: 2023-06-01\r\n\r\n"
    c:send(nil, nil, nil, nil, { raw = one .. one:gsub("haiku%-4%-5", "sonnet-4-6") })
    local s1, _, b1 = c:read()
    local s2, _, b2 = c:read()
    c:close()
    assert.equal(200, s1)
    assert.equal("claude-haiku-4-5", cjson.decode(b1).id)
    assert.equal(200, s2)
    assert.equal("claude-sonnet-4-6", cjson.decode(b2).id)
  end)

  it("accepts a chunked request body and logs it whole", function()
    local c = mock.connect()
    local pieces = { BODY:sub(1, 10), BODY:sub(11, 40), BODY:sub(41) }
    local status, _, raw = c:request("POST", "/v1/messages", mock.headers(), nil, { chunked = pieces })
    c:close()
    assert.equal(200, status)
    assert.equal("You said: hi", cjson.decode(raw).content[1].text)
    local e = last_log()
    assert.equal(BODY, e.body)
    assert.equal("chunked", e.headers["transfer-encoding"])
  end)

  it("answers Expect: 100-continue", function()
    local c = mock.connect()
    local status, _, raw = c:request("POST", "/v1/messages", mock.headers({ expect = "100-continue" }), BODY)
    c:close()
    assert.equal(200, status)
    assert.equal("message", cjson.decode(raw).type)
  end)

  describe("size limit (413 request_too_large)", function()
    local cfg_path, m
    setup(function()
      cfg_path = os.tmpname()
      local f = assert(io.open(cfg_path, "w"))
      f:write('{"max_body_bytes": 1000, "max_batch_body_bytes": 3000}')
      f:close()
      m = mock.spawn({ "--config", cfg_path })
    end)
    teardown(function()
      m.stop()
      os.remove(cfg_path)
    end)

    local function big(n)
      return '{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"' ..
        string.rep("a", n) .. '"}]}'
    end

    local rows = {
      { "content-length body", {} },
      { "chunked body", { chunked = true } },
      { "Expect: 100-continue", { expect = true } },
    }
    for _, row in ipairs(rows) do
      it(row[1], function()
        local c = mock.connect(m.url)
        local body = big(2000)
        local headers = mock.headers(row[2].expect and { expect = "100-continue" } or nil)
        local opts = row[2].chunked and { chunked = { body:sub(1, 1500), body:sub(1501) } } or nil
        local status, h, raw = c:request("POST", "/v1/messages", headers, not row[2].chunked and body or nil, opts)
        assert.equal(413, status)
        assert.same({ type = "error", request_id = h["request-id"],
          error = { type = "request_too_large", message = "Request exceeds the maximum size" } }, cjson.decode(raw))
        if row[2].expect then
          assert.equal("close", h["connection"])
        else
          -- the body was drained: the connection still works
          assert.equal(200, (c:request("POST", "/v1/messages", mock.headers(), big(10))))
        end
        c:close()
      end)
    end

    it("lets a body at the limit through and uses the batch limit for batches", function()
      local body = big(1000 - #big(0))
      assert.equal(1000, #body)
      assert.equal(200, (mock.request("POST", "/v1/messages", mock.headers(), body, { url = m.url })))
      local batch = cjson.encode({ requests = { { custom_id = "a", params = cjson.decode(big(1500)) } } })
      assert.is_true(#batch > 1000 and #batch < 3000)
      assert.equal(200, (mock.request("POST", "/v1/messages/batches", mock.headers(), batch, { url = m.url })))
    end)

    it("logs the rejected request with its size, not its body", function()
      mock.clear(m.url)
      mock.request("POST", "/v1/messages", mock.headers(), big(5000), { url = m.url })
      local log = mock.requests(m.url)
      assert.equal(413, log[1].status)
      assert.equal("", log[1].body)
      assert.equal(#big(5000), log[1].body_bytes)
    end)
  end)

  describe("routing", function()
    local prefixes = { "", "/gw", "/some/prefix", "/v1/proxy" }
    for _, p in ipairs(prefixes) do
      it("serves under the prefix '" .. p .. "'", function()
        local status, _, raw = mock.request("POST", p .. "/v1/messages", mock.headers(), BODY)
        assert.equal(200, status)
        assert.equal("message", cjson.decode(raw).type)
        local status2 = mock.request("GET", p .. "/v1/models/claude-haiku-4-5", mock.headers())
        assert.equal(200, status2)
        local e = mock.requests()
        local base = mock.url():match("^http://[^/]+(.*)$")
        assert.equal(base .. p .. "/v1/models/claude-haiku-4-5", e[#e].path)
        assert.equal("/v1/models/claude-haiku-4-5", e[#e].route)
      end)
    end

    local rows = {
      { "GET", "/v1/nothing", 404, "not_found_error", "Not Found" },
      { "GET", "/nothing", 404, "not_found_error", "Not Found" },
      { "GET", "/v1/messages", 405, "invalid_request_error", "Method Not Allowed" },
      { "PUT", "/v1/models", 405, "invalid_request_error", "Method Not Allowed" },
    }
    for _, row in ipairs(rows) do
      it(row[1] .. " " .. row[2] .. " -> " .. row[3], function()
        local status, h, raw = mock.request(row[1], row[2], mock.headers())
        assert.equal(row[3], status)
        assert.same({ type = "error", error = { type = row[4], message = row[5] }, request_id = h["request-id"] },
          cjson.decode(raw))
      end)
    end
  end)

  it("puts a request-id header on every reply, errors included", function()
    local seen = {}
    for _, r in ipairs({ { "POST", "/v1/messages", BODY }, { "GET", "/v1/models" }, { "GET", "/nope" },
      { "POST", "/v1/messages", "{" }, { "GET", "/_mock/requests" } }) do
      local _, h = mock.request(r[1], r[2], mock.headers(), r[3])
      assert.matches("^req_mock_%d+$", h["request-id"])
      assert.is_nil(seen[h["request-id"]])
      seen[h["request-id"]] = true
    end
  end)

  local malformed = {
    { "garbage request line", "HELLO\r\n\r\n", 400 },
    { "bad content-length", "POST /v1/messages HTTP/1.1\r\ncontent-length: x\r\n\r\n", 400 },
    { "huge header", "GET /v1/models HTTP/1.1\r\nx-big: " .. string.rep("a", 70000) .. "\r\n\r\n", 431 },
  }
  for _, row in ipairs(malformed) do
    it("answers a " .. row[1] .. " with " .. row[3] .. " and closes", function()
      local c = mock.connect()
      local status, h = c:request(nil, nil, nil, nil, { raw = row[2] })
      c:close()
      assert.equal(row[3], status)
      assert.equal("close", h["connection"])
    end)
  end
end)
