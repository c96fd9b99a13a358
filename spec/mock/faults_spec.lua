-- x-mock-fault: every scripted fault, over real HTTP.
local mock = require "spec.support.mock"
local cjson = require "cjson"
local socket = require "socket"

local BASIC = mock.root() .. "/spec/fixtures/conformance/sse/python/basic_response.txt"

local function body(extra)
  local b = { model = mock.MODELS.haiku, max_tokens = 1000,
    messages = { { role = "user", content = "one two three" } } }
  for k, v in pairs(extra or {}) do b[k] = v end
  return cjson.encode(b)
end

local function post(fault, b, opts)
  return mock.request("POST", "/v1/messages", mock.headers({ ["x-mock-fault"] = fault }), b or body(), opts)
end

local function events(raw)
  local out = {}
  for i, e in ipairs(mock.sse(raw)) do out[i] = e.event end
  return out
end

local function read_file(p)
  local f = assert(io.open(p, "rb"))
  local d = f:read("*a")
  f:close()
  return d
end

describe("mock faults", function()
  before_each(function() mock.clear() end)

  describe("sequence", function()
    it("gives the n-th request with the same header the n-th element, then the normal reply", function()
      local fault = '{"sequence":[529,{"status":429,"headers":{"retry-after":"2","retry-after-ms":"1500",' ..
        '"x-should-retry":"true"}},500,503]}'
      local expect = {
        { 529, "overloaded_error", "Overloaded" },
        { 429, "rate_limit_error", "Rate limited" },
        { 500, "api_error", "Internal server error" },
        { 503, "api_error", "Service unavailable" },
      }
      for i, e in ipairs(expect) do
        local status, h, raw = post(fault)
        assert.equal(e[1], status, "request " .. i)
        assert.same({ type = "error", error = { type = e[2], message = e[3] }, request_id = h["request-id"] },
          cjson.decode(raw))
        if i == 2 then
          assert.equal("2", h["retry-after"])
          assert.equal("1500", h["retry-after-ms"])
          assert.equal("true", h["x-should-retry"])
        else
          assert.is_nil(h["retry-after"])
          assert.is_nil(h["x-should-retry"])
        end
      end
      assert.equal(200, (post(fault)))
      assert.equal(200, (post(fault)))
    end)

    it("counts each distinct header text separately", function()
      assert.equal(529, (post('{"status":529}')))
      assert.equal(529, (post('{"status": 529}')))
      assert.equal(200, (post('{"status":529}')))
    end)

    it("is reset by DELETE /_mock/requests", function()
      assert.equal(503, (post('{"status":503}')))
      assert.equal(200, (post('{"status":503}')))
      mock.clear()
      assert.equal(503, (post('{"status":503}')))
    end)

    it("takes error_type, message and a raw body", function()
      local fault = '{"sequence":[{"status":529,"error_type":"api_error","message":"custom words"},' ..
        '{"status":500,"body":"raw text, not JSON"},{"status":200}]}'
      local s1, _, r1 = post(fault)
      assert.equal(529, s1)
      assert.same({ type = "api_error", message = "custom words" }, cjson.decode(r1).error)
      local s2, h2, r2 = post(fault)
      assert.equal(500, s2)
      assert.equal("raw text, not JSON", r2)
      assert.equal("text/plain; charset=utf-8", h2["content-type"])
      assert.equal(200, (post(fault)))
    end)

    it("applies top-level headers to every element", function()
      local fault = '{"sequence":[529,529],"headers":{"retry-after-ms":"10"}}'
      for _ = 1, 2 do
        local s, h = post(fault)
        assert.equal(529, s)
        assert.equal("10", h["retry-after-ms"])
      end
      local s, h = post(fault)
      assert.equal(200, s)
      assert.is_nil(h["retry-after-ms"])
    end)

    it("lets an element carry any other field for that one request", function()
      local fault = '{"sequence":[{"error_after":1},{"status":200,"no_stop":true}]}'
      local _, _, r1 = post(fault, body({ stream = true }))
      local _, _, r2 = post(fault, body({ stream = true }))
      local _, _, r3 = post(fault, body({ stream = true }))
      local e1, e2, e3 = events(r1), events(r2), events(r3)
      assert.equal("error", e1[#e1])
      assert.equal("message_delta", e2[#e2])
      assert.equal("message_stop", e3[#e3])
    end)

    it("works on every API endpoint", function()
      local s, b = mock.json_request("GET", "/v1/models", nil, { ["x-mock-fault"] = '{"status":500}' })
      assert.equal(500, s)
      assert.equal("api_error", b.error.type)
    end)

    it("still checks credentials first", function()
      local s = mock.json_request("POST", "/v1/messages", cjson.decode(body()),
        { ["x-mock-fault"] = '{"status":529}', ["x-api-key"] = false })
      assert.equal(401, s)
    end)
  end)

  describe("bad fault headers", function()
    local rows = {
      { "{nope", "x-mock-fault: not valid JSON: Expected object key string but found invalid token at character 2" },
      { "[1]", "x-mock-fault: expected a JSON object" },
      { '{"delayms":5}', "x-mock-fault: unknown field 'delayms'" },
      { '{"delay_ms":"5"}', "x-mock-fault: delay_ms: expected a number" },
      { '{"status":999}', "x-mock-fault: status: expected an HTTP status (100-599)" },
      { '{"sequence":[529],"status":500}', 'x-mock-fault: use either "sequence" or "status", not both' },
      { '{"sequence":["x"]}', "x-mock-fault: sequence.0: expected a status number or an object" },
      { '{"chunk":0}', 'x-mock-fault: chunk: expected a positive integer or "random"' },
      { '{"replay":"/nonexistent/file.sse"}',
        "x-mock-fault: replay: cannot read /nonexistent/file.sse: No such file or directory" },
    }
    for _, row in ipairs(rows) do
      it(row[1], function()
        local s, _, raw = post(row[1])
        assert.equal(400, s)
        assert.same({ type = "invalid_request_error", message = row[2] }, cjson.decode(raw).error)
      end)
    end
  end)

  it("delay_ms waits before the response headers", function()
    local t0 = socket.gettime()
    local s = post('{"delay_ms":250}')
    local dt = socket.gettime() - t0
    assert.equal(200, s)
    assert.is_true(dt >= 0.24 and dt < 2, "took " .. dt)
  end)

  it("delay_ms applies to a sequence error too", function()
    local t0 = socket.gettime()
    local s = post('{"sequence":[{"status":529,"delay_ms":200}]}')
    assert.equal(529, s)
    assert.is_true(socket.gettime() - t0 >= 0.19)
  end)

  it("event_delay_ms spaces the SSE events (each in its own chunk)", function()
    local times = {}
    local t0 = socket.gettime()
    local s, _, raw = post('{"event_delay_ms":40}', body({ stream = true }),
      { on_chunk = function() times[#times + 1] = socket.gettime() end })
    assert.equal(200, s)
    local n = #events(raw)
    assert.equal(11, n)
    assert.equal(n, #times)
    -- event i leaves the mock no earlier than (i - 1) delays after the request
    -- (client-side lateness can only make arrivals later, so this cannot flake)
    for i = 2, #times do
      assert.is_true(times[i] - t0 >= 0.04 * (i - 1) - 0.005, "event " .. i .. " came early")
    end
  end)

  it("deltas makes a long reply (JSON too)", function()
    local s, _, raw = post('{"deltas":7}')
    assert.equal(200, s)
    local m = cjson.decode(raw)
    assert.equal("You said: one two three You said:", m.content[1].text)
    assert.equal(7, m.usage.output_tokens)
  end)

  it("text replaces the reply text; stop_reason overrides", function()
    local _, _, raw = post('{"text":"Hello, wörld! 👋","stop_reason":"refusal"}')
    local m = cjson.decode(raw)
    assert.equal("Hello, wörld! 👋", m.content[1].text)
    assert.equal("refusal", m.stop_reason)
  end)

  describe("error_after", function()
    it("sends event: error (overloaded_error) after K deltas and ends the stream cleanly", function()
      local s, _, raw, err = post('{"error_after":2}', body({ stream = true }))
      assert.equal(200, s)
      assert.is_nil(err)
      assert.same({ "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
        "error" }, events(raw))
      local last = mock.sse(raw)[6]
      assert.same({ type = "error", error = { type = "overloaded_error", message = "Overloaded" } }, last.data)
    end)

    it("K = 0 errors before the first delta; error_type and message are taken", function()
      local _, _, raw = post('{"error_after":0,"error_type":"api_error"}', body({ stream = true }))
      assert.same({ "message_start", "content_block_start", "ping", "error" }, events(raw))
      assert.same({ type = "api_error", message = "Internal server error" }, mock.sse(raw)[4].data.error)
    end)

    it("fires after the last delta when the reply is shorter than K", function()
      local _, _, raw = post('{"error_after":50}', body({ stream = true }))
      local ev = events(raw)
      assert.equal("error", ev[#ev])
      assert.equal("content_block_delta", ev[#ev - 1])
    end)
  end)

  describe("close_after", function()
    for _, mode in ipairs({ "fin", "reset" }) do
      it("closes the connection mid-stream after K deltas (" .. mode .. ")", function()
        local s, _, raw, err = post('{"close_after":3,"close_mode":"' .. mode .. '"}', body({ stream = true }))
        assert.equal(200, s)
        assert.is_not_nil(err)
        local ev = events(raw)
        assert.same({ "message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
          "content_block_delta" }, ev)
      end)
    end
  end)

  it("no_stop ends the body cleanly without message_stop", function()
    local s, _, raw, err = post('{"no_stop":true}', body({ stream = true }))
    assert.equal(200, s)
    assert.is_nil(err)
    local ev = events(raw)
    assert.equal("message_delta", ev[#ev])
  end)

  it("pings_only sends only pings at the interval until the client leaves", function()
    local c = mock.connect(nil, 0.35, true)
    local t0 = socket.gettime()
    local s, h, raw, err = c:request("POST", "/v1/messages",
      mock.headers({ ["x-mock-fault"] = '{"pings_only":true,"ping_interval_ms":50}' }), body({ stream = true }))
    c:close()
    assert.equal(200, s)
    assert.equal("text/event-stream; charset=utf-8", h["content-type"])
    assert.equal("timeout", err)
    local ev = events(raw)
    assert.is_true(#ev >= 3 and #ev <= 8, #ev .. " pings")
    for _, e in ipairs(ev) do assert.equal("ping", e) end
    assert.is_true(socket.gettime() - t0 < 1)
    -- the mock is still serving
    assert.equal(200, (post(nil)))
  end)

  describe("not_json", function()
    it("alone: a 200 whose body is not JSON", function()
      local s, h, raw = post('{"not_json":true}')
      assert.equal(200, s)
      assert.equal("application/json", h["content-type"])
      assert.is_false((pcall(cjson.decode, raw)))
    end)

    it("with a status: an HTML error page", function()
      local s, h, raw = post('{"not_json":true,"status":502}')
      assert.equal(502, s)
      assert.equal("text/html", h["content-type"])
      assert.matches("<title>502 Bad Gateway</title>", raw, 1, true)
      assert.equal(200, (post('{"not_json":true,"status":502}')))
    end)
  end)

  describe("replay", function()
    it("serves the transcript verbatim, one byte per write with chunk 1", function()
      local file = read_file(BASIC)
      local chunks = 0
      local s, h, raw = post('{"replay":"' .. BASIC .. '","chunk":1}', nil,
        { on_chunk = function(d) chunks = chunks + 1; assert.equal(1, #d) end })
      assert.equal(200, s)
      assert.equal("text/event-stream; charset=utf-8", h["content-type"])
      assert.equal(file, raw)
      assert.equal(#file, chunks)
    end)

    it("splits randomly with a seed, the same way each time", function()
      local function sizes(seed)
        local out = {}
        local _, _, raw = post('{"replay":"' .. BASIC .. '","chunk":"random","seed":' .. seed .. '}', nil,
          { on_chunk = function(d) out[#out + 1] = #d end })
        assert.equal(read_file(BASIC), raw)
        return out
      end
      local a, b, c = sizes(7), sizes(7), sizes(8)
      assert.same(a, b)
      assert.are_not.same(a, c)
      for _, n in ipairs(a) do assert.is_true(n >= 1 and n <= 64) end
      assert.is_true(#a > 10)
    end)

    it("waits write_delay_ms between writes", function()
      local times = {}
      local t0 = socket.gettime()
      local _, _, raw = post('{"replay":"' .. BASIC .. '","chunk":300,"write_delay_ms":40}', nil,
        { on_chunk = function() times[#times + 1] = socket.gettime() end })
      assert.equal(read_file(BASIC), raw)
      assert.equal(math.ceil(#raw / 300), #times)
      for i = 2, #times do assert.is_true(times[i] - t0 >= 0.04 * (i - 1) - 0.005, "write " .. i) end
    end)

    it("serves the whole file in one write without chunk", function()
      local chunks = 0
      local _, _, raw = post('{"replay":"' .. BASIC .. '"}', nil, { on_chunk = function() chunks = chunks + 1 end })
      assert.equal(read_file(BASIC), raw)
      assert.equal(1, chunks)
    end)

    it("with content_type, serves the file as the whole body of a reply of that type", function()
      local path = os.tmpname()
      local f = assert(io.open(path, "wb"))
      local recorded = '{"id":"msg_rec","type":"message","content":[]}'
      f:write(recorded)
      f:close()
      local s, h, raw = post('{"replay":"' .. path .. '","content_type":"application/json"}')
      os.remove(path)
      assert.equal(200, s)
      assert.equal("application/json", h["content-type"])
      assert.equal(tostring(#recorded), h["content-length"])
      assert.equal(recorded, raw)
    end)
  end)
end)
