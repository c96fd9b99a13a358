-- Message Batches: create, retrieve, list, cancel, delete, results (JSONL).
local mock = require "spec.support.mock"
local cjson = require "cjson"
local socket = require "socket"

local function req(custom_id, text, extra)
  local p = { model = mock.MODELS.haiku, max_tokens = 50, messages = { { role = "user", content = text } } }
  for k, v in pairs(extra or {}) do if v == "<nil>" then p[k] = nil else p[k] = v end end
  return { custom_id = custom_id, params = p }
end

local function call(method, path, body, overrides)
  return mock.json_request(method, "/v1/messages/batches" .. path, body, overrides)
end

local function create(requests, overrides)
  local status, b = call("POST", "", { requests = requests }, overrides)
  assert.equal(200, status)
  return b
end

local ISO = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%dZ$"

local function lines(raw)
  local out = {}
  for l in raw:gmatch("([^\n]+)\n") do out[#out + 1] = cjson.decode(l) end
  return out
end

describe("mock message batches", function()
  it("creates a batch with the real shape, in_progress", function()
    local b = create({ req("a", "one"), req("b", "two") })
    assert.matches("^msgbatch_mock_%d+$", b.id)
    assert.equal("message_batch", b.type)
    assert.equal("in_progress", b.processing_status)
    assert.same({ processing = 2, succeeded = 0, errored = 0, canceled = 0, expired = 0 }, b.request_counts)
    assert.matches(ISO, b.created_at)
    assert.matches(ISO, b.expires_at)
    assert.equal(cjson.null, b.ended_at)
    assert.equal(cjson.null, b.cancel_initiated_at)
    assert.equal(cjson.null, b.results_url)
    assert.equal(cjson.null, b.archived_at)
    local d1 = tonumber(b.created_at:sub(9, 10))
    local d2 = tonumber(b.expires_at:sub(9, 10))
    assert.is_true(d2 == d1 + 1 or d2 == 1, "expires 24h later")
    assert.equal(b.created_at:sub(12), b.expires_at:sub(12))
  end)

  it("ends on the second retrieval (batch_pending_polls 1) and serves JSONL results", function()
    local b = create({ req("ok-1", "hello"), req("bad", "x", { max_tokens = "<nil>" }),
      req("forbidden", "x", { model = mock.MODELS.opus }), req("unknown", "x", { model = "claude-nope" }) },
      { ["x-api-key"] = mock.KEYS.free })
    local s0, r0 = call("GET", "/" .. b.id .. "/results")
    assert.equal(400, s0)
    assert.same({ type = "invalid_request_error", message = "message_batch_id: " .. b.id ..
      ' has not ended processing yet; results are available once processing_status is "ended"' }, r0.error)

    local _, g1 = call("GET", "/" .. b.id)
    assert.equal("in_progress", g1.processing_status)
    local _, g2 = call("GET", "/" .. b.id)
    assert.equal("ended", g2.processing_status)
    assert.same({ processing = 0, succeeded = 1, errored = 3, canceled = 0, expired = 0 }, g2.request_counts)
    assert.matches(ISO, g2.ended_at)
    assert.equal(mock.url() .. "/v1/messages/batches/" .. b.id .. "/results", g2.results_url)

    local status, h, raw = mock.request("GET", "/v1/messages/batches/" .. b.id .. "/results", mock.headers())
    assert.equal(200, status)
    assert.equal("application/x-jsonl", h["content-type"])
    assert.equal("chunked", h["transfer-encoding"])
    local l = lines(raw)
    assert.equal(4, #l)
    assert.equal("ok-1", l[1].custom_id)
    assert.equal("succeeded", l[1].result.type)
    local m = l[1].result.message
    assert.equal("You said: hello", m.content[1].text)
    assert.equal("batch", m.usage.service_tier)
    assert.matches("^msg_mock_", m.id)
    local function errored(line, etype, msg)
      assert.same({ type = "errored", error = { type = "error", error = { type = etype, message = msg },
        request_id = cjson.null } }, line.result)
    end
    errored(l[2], "invalid_request_error", "max_tokens: Field required")
    errored(l[3], "permission_error", "Your API key does not have permission to use the specified resource.")
    errored(l[4], "not_found_error", "model: claude-nope")
    -- results are stable
    local _, _, raw2 = mock.request("GET", "/v1/messages/batches/" .. b.id .. "/results", mock.headers())
    assert.equal(raw, raw2)
  end)

  it("cancel: canceling, then ended with every request canceled", function()
    local b = create({ req("a", "1"), req("b", "2"), req("c", "3") })
    local s, c = call("POST", "/" .. b.id .. "/cancel")
    assert.equal(200, s)
    assert.equal("canceling", c.processing_status)
    assert.matches(ISO, c.cancel_initiated_at)
    local _, again = call("POST", "/" .. b.id .. "/cancel")
    assert.equal("canceling", again.processing_status)
    local _, g = call("GET", "/" .. b.id)
    assert.equal("ended", g.processing_status)
    assert.same({ processing = 0, succeeded = 0, errored = 0, canceled = 3, expired = 0 }, g.request_counts)
    local _, _, raw = mock.request("GET", "/v1/messages/batches/" .. b.id .. "/results", mock.headers())
    for _, l in ipairs(lines(raw)) do assert.same({ type = "canceled" }, l.result) end
    local s2, e = call("POST", "/" .. b.id .. "/cancel")
    assert.equal(400, s2)
    assert.equal("message_batch_id: " .. b.id .. " has already ended processing and cannot be canceled",
      e.error.message)
  end)

  it("delete: refused while processing, then message_batch_deleted, then 404", function()
    local b = create({ req("a", "1") }, { ["x-mock-fault"] = '{"batch_pending_polls":0}' })
    local s, e = call("DELETE", "/" .. b.id)
    assert.equal(400, s)
    assert.equal("message_batch_id: " .. b.id ..
      " is still processing; cancel it and wait until it has ended before deleting it", e.error.message)
    local _, g = call("GET", "/" .. b.id)
    assert.equal("ended", g.processing_status)
    local s2, d = call("DELETE", "/" .. b.id)
    assert.equal(200, s2)
    assert.same({ id = b.id, type = "message_batch_deleted" }, d)
    local s3, nf = call("GET", "/" .. b.id)
    assert.equal(404, s3)
    assert.same({ type = "not_found_error", message = "message_batch_id: " .. b.id .. " not found" }, nf.error)
  end)

  it("batch_end_ms ends a batch by time, seen by list too", function()
    local b = create({ req("a", "1") }, { ["x-mock-fault"] = '{"batch_end_ms":100}' })
    local _, g = call("GET", "/" .. b.id)
    assert.equal("in_progress", g.processing_status)
    socket.sleep(0.15)
    local _, l = call("GET", "?limit=1")
    assert.equal(b.id, l.data[1].id)
    assert.equal("ended", l.data[1].processing_status)
  end)

  it("lists batches newest first with pagination", function()
    local a = create({ req("a", "1") })
    local b = create({ req("a", "1") })
    local c = create({ req("a", "1") })
    local _, p1 = call("GET", "?limit=2")
    assert.same({ c.id, b.id }, { p1.data[1].id, p1.data[2].id })
    assert.is_true(p1.has_more)
    assert.equal(c.id, p1.first_id)
    assert.equal(b.id, p1.last_id)
    local _, p2 = call("GET", "?limit=1&after_id=" .. b.id)
    assert.equal(a.id, p2.data[1].id)
    local _, p3 = call("GET", "?limit=5&before_id=" .. b.id)
    assert.same({ c.id }, { p3.data[1].id })
    assert.equal(1, #p3.data)
    assert.is_false(p3.has_more)
  end)

  it("puts the gateway prefix into results_url", function()
    local status, b = mock.json_request("POST", "/gw/team/v1/messages/batches",
      { requests = { req("a", "1") } }, { ["x-mock-fault"] = '{"batch_pending_polls":0}' })
    assert.equal(200, status)
    local _, g = mock.json_request("GET", "/gw/team/v1/messages/batches/" .. b.id)
    assert.matches("/gw/team/v1/messages/batches/" .. b.id .. "/results$", g.results_url)
  end)

  local bad = {
    { "no requests", {}, "requests: Field required" },
    { "empty requests", { requests = cjson.decode("[]") },
      "requests: List should have at least 1 item after validation, not 0" },
    { "no custom_id", { requests = { { params = {} } } }, "requests.0.custom_id: Field required" },
    { "bad custom_id", { requests = { { custom_id = "has space", params = {} } } },
      "requests.0.custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'" },
    { "no params", { requests = { { custom_id = "a" } } }, "requests.0.params: Field required" },
    { "duplicate custom_id", { requests = { req("a", "1"), req("a", "2") } },
      "requests: custom_id values must be unique within a batch; duplicate: a" },
  }
  for _, row in ipairs(bad) do
    it("rejects " .. row[1], function()
      local status, b = call("POST", "", row[2])
      assert.equal(400, status)
      assert.same({ type = "invalid_request_error", message = row[3] }, b.error)
    end)
  end

  it("404s unknown batch ids on every endpoint", function()
    for _, r in ipairs({ { "GET", "/msgbatch_x" }, { "POST", "/msgbatch_x/cancel" }, { "DELETE", "/msgbatch_x" },
      { "GET", "/msgbatch_x/results" } }) do
      local status, b = call(r[1], r[2])
      assert.equal(404, status)
      assert.equal("not_found_error", b.error.type)
    end
  end)

  it("handles a 10,000-request batch cheaply", function()
    local reqs = {}
    for i = 1, 10000 do reqs[i] = req("r" .. i, "message number " .. i) end
    local t0 = socket.gettime()
    local b = create(reqs, { ["x-mock-fault"] = '{"batch_pending_polls":0}' })
    local _, g = call("GET", "/" .. b.id)
    assert.equal(10000, g.request_counts.succeeded)
    local n, first, last = 0, nil, nil
    local status, _, raw = mock.request("GET", "/v1/messages/batches/" .. b.id .. "/results", mock.headers())
    assert.equal(200, status)
    for l in raw:gmatch("([^\n]+)\n") do
      n = n + 1
      if n == 1 then first = l end
      last = l
    end
    assert.equal(10000, n)
    assert.equal("r1", cjson.decode(first).custom_id)
    local lastv = cjson.decode(last)
    assert.equal("r10000", lastv.custom_id)
    assert.equal("You said: message number 10000", lastv.result.message.content[1].text)
    assert.is_true(socket.gettime() - t0 < 10)
  end)
end)

describe("mock message batches: scripted outcomes and time to end", function()
  local function outcome(id, tag) return req(id, "x", { metadata = { user_id = "mock-outcome:" .. tag } }) end

  local function ended(b)
    local _, g = call("GET", "/" .. b.id)
    assert.equal("ended", g.processing_status)
    local _, _, raw = mock.request("GET", "/v1/messages/batches/" .. b.id .. "/results", mock.headers())
    return g, lines(raw)
  end
  local ONCE = { ["x-mock-fault"] = '{"batch_pending_polls":0}' }

  it("metadata.user_id mock-outcome: makes a request expired, canceled or errored, counted as such", function()
    local b = create({ req("ok", "x"), outcome("exp", "expired"), outcome("can", "canceled"),
      outcome("err", "errored:overloaded_error") }, ONCE)
    local g, l = ended(b)
    assert.same({ processing = 0, succeeded = 1, errored = 1, canceled = 1, expired = 1 }, g.request_counts)
    assert.same({ "succeeded", "expired", "canceled", "errored" },
      { l[1].result.type, l[2].result.type, l[3].result.type, l[4].result.type })
    assert.same({ type = "error", error = { type = "overloaded_error", message = "mock-outcome: overloaded_error" },
      request_id = cjson.null }, l[4].result.error)
  end)

  it("errored_once: errored in the first batch that holds the custom_id, succeeded in later ones", function()
    local id = "once-" .. tostring(socket.gettime()):gsub("%D", "")
    local _, l1 = ended(create({ outcome(id, "errored_once:api_error") }, ONCE))
    local _, l2 = ended(create({ outcome(id, "errored_once:api_error") }, ONCE))
    assert.equal("errored", l1[1].result.type)
    assert.equal("api_error", l1[1].result.error.error.type)
    assert.equal("succeeded", l2[1].result.type)
  end)

  it("an unknown outcome is a 400 naming the request, and creates nothing", function()
    local status, body = call("POST", "", { requests = { req("a", "x"), outcome("b", "exploded") } })
    assert.equal(400, status)
    assert.equal("requests.1.params.metadata.user_id: unknown mock outcome 'exploded' "
      .. "(expired, canceled, errored:<type>, errored_once:<type>)", body.error.message)
  end)

  it("--batch-end-ms: a batch ends that long after its creation, however often it is retrieved", function()
    local srv = mock.spawn({ "--batch-end-ms", "400" })
    local o = { url = srv.url }
    local _, b = mock.json_request("POST", "/v1/messages/batches", { requests = { req("a", "x") } }, nil, o)
    local t0 = socket.gettime()
    local seen = {}
    while socket.gettime() - t0 < 0.3 do
      local _, g = mock.json_request("GET", "/v1/messages/batches/" .. b.id, nil, nil, o)
      seen[g.processing_status] = true
      socket.sleep(0.05)
    end
    assert.same({ in_progress = true }, seen)
    socket.sleep(0.2)
    local _, g = mock.json_request("GET", "/v1/messages/batches/" .. b.id, nil, nil, o)
    srv.stop()
    assert.equal("ended", g.processing_status)
  end)
  it("GET/PUT /_mock/batches: the timing knobs for batches created from then on, and the counts", function()
    local srv = mock.spawn({})
    local o = { url = srv.url }
    local function control(method, body)
      local status, _, raw = mock.request(method, "/_mock/batches", { ["content-type"] = "application/json" },
        body and cjson.encode(body), o)
      return status, cjson.decode(raw)
    end
    local status, v = control("GET")
    assert.equal(200, status)
    assert.same({ batch_pending_polls = 1, batch_end_ms = cjson.null, created = 0, requests = 0 }, v)
    status, v = control("PUT", { batch_end_ms = 300 })
    assert.equal(200, status)
    assert.same({ batch_pending_polls = 1, batch_end_ms = 300, created = 0, requests = 0 }, v)
    local _, b = mock.json_request("POST", "/v1/messages/batches", { requests = { req("a", "x"), req("b", "y") } },
      nil, o)
    local _, g1 = mock.json_request("GET", "/v1/messages/batches/" .. b.id, nil, nil, o)
    local _, g2 = mock.json_request("GET", "/v1/messages/batches/" .. b.id, nil, nil, o)
    assert.same({ "in_progress", "in_progress" }, { g1.processing_status, g2.processing_status })
    socket.sleep(0.35)
    local _, g3 = mock.json_request("GET", "/v1/messages/batches/" .. b.id, nil, nil, o)
    assert.equal("ended", g3.processing_status)
    status, v = control("PUT", { batch_end_ms = cjson.null, batch_pending_polls = 0 })
    assert.equal(200, status)
    assert.same({ batch_pending_polls = 0, batch_end_ms = cjson.null, created = 1, requests = 2 }, v)
    local rows = {
      { { batch_pending_polls = -1 }, "batches: batch_pending_polls: expected an integer >= 0" },
      { { batch_end_ms = "soon" }, "batches: batch_end_ms: expected a number >= 0 or null" },
      { { end_ms = 1 }, "batches: unknown field 'end_ms'" },
    }
    for _, row in ipairs(rows) do
      status, v = control("PUT", row[1])
      assert.equal(400, status)
      assert.equal(row[2], v.error.message)
    end
    srv.stop()
  end)
end)


