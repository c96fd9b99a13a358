-- The mock's rate limits (docs/mock.md "Rate limits"): reported always, enforced when asked
-- (--rate-limit-* flags, the config's `ratelimit`, PUT /_mock/ratelimit), per key and window,
-- with the API's 429 rate_limit_error, its headers and retry-after.

local cjson = require "cjson"
local socket = require "socket"
local mock = require "spec.support.mock"

local function body(text)
  return cjson.encode { model = mock.MODELS.haiku, max_tokens = 16,
    messages = { { role = "user", content = text or "hi" } } }
end

local function create(url, key, text)
  return mock.json_request("POST", "/v1/messages", body(text), { ["x-api-key"] = key or mock.KEYS.free },
    { url = url })
end

local function control(url, method, payload)
  local status, _, b = mock.request(method, "/_mock/ratelimit", { ["content-type"] = "application/json" },
    payload and cjson.encode(payload), { url = url })
  return status, cjson.decode(b)
end

local RFC3339 = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d[%.%d]*Z$"

local function config_file(t)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(type(t) == "string" and t or cjson.encode(t))
  f:close()
  return path
end

describe("mock rate limits", function()
  it("by default refuses nothing: past the limit remaining stays at 0", function()
    local path = config_file { tiers = { tiny = { rank = 1, ratelimit = { requests = 3 } } },
      keys = { ["sk-ant-mock-tiny"] = "tiny" } }
    local m = mock.spawn { "--config", path }
    os.remove(path)
    local last
    for i = 1, 4 do
      local status, _, h = create(m.url, "sk-ant-mock-tiny", "n" .. i)
      assert.equal(200, status)
      last = h
    end
    assert.equal("3", last["anthropic-ratelimit-requests-limit"])
    assert.equal("0", last["anthropic-ratelimit-requests-remaining"])
    local _, stats = control(m.url, "GET")
    assert.same({ enforce = false, window_ms = 60000, counted = 4, limited = 0 }, stats)
    m.stop()
  end)

  describe("enforced with --rate-limit-requests", function()
    local m
    setup(function() m = mock.spawn { "--rate-limit-requests", "3", "--rate-limit-window-ms", "1000" } end)
    teardown(function() m.stop() end)
    before_each(function() mock.clear(m.url) end)

    it("answers the request past the limit with a 429 rate_limit_error and retry-after", function()
      for i = 1, 3 do
        local status, _, h = create(m.url, nil, "n" .. i)
        assert.equal(200, status)
        assert.equal(tostring(3 - i), h["anthropic-ratelimit-requests-remaining"])
      end
      local status, err, h = create(m.url, nil, "n4")
      assert.equal(429, status)
      assert.equal("rate_limit_error", err.error.type)
      assert.matches("^This request would exceed the rate limit of 3 requests per 1000 ms for this key%.",
        err.error.message)
      assert.equal(h["request-id"], err.request_id)
      assert.equal("true", h["x-should-retry"])
      assert.equal("0", h["anthropic-ratelimit-requests-remaining"])
      assert.equal("3", h["anthropic-ratelimit-requests-limit"])
      for _, kind in ipairs { "requests", "tokens", "input-tokens", "output-tokens" } do
        assert.matches(RFC3339, h["anthropic-ratelimit-" .. kind .. "-reset"])
      end
      -- Whole seconds until the reset, as the API sends it, at least 1: a 1 s window says 1.
      assert.equal("1", h["retry-after"])
      local _, stats = control(m.url, "GET")
      assert.equal(3, stats.counted)
      assert.equal(1, stats.limited)
      -- After the reset the window is full again.
      socket.sleep(1.05)
      local again, _, h2 = create(m.url, nil, "n5")
      assert.equal(200, again)
      assert.equal("2", h2["anthropic-ratelimit-requests-remaining"])
    end)

    it("counts each key in its own window", function()
      for i = 1, 3 do assert.equal(200, (create(m.url, mock.KEYS.free, "f" .. i))) end
      assert.equal(429, (create(m.url, mock.KEYS.free, "f4")))
      assert.equal(200, (create(m.url, mock.KEYS.build, "b1")))
    end)

    it("logs the 429 and DELETE /_mock/requests resets windows and counts", function()
      for i = 1, 4 do create(m.url, nil, "n" .. i) end
      local log = mock.requests(m.url)
      assert.equal(429, log[4].status)
      mock.clear(m.url)
      local _, stats = control(m.url, "GET")
      assert.equal(0, stats.counted)
      assert.equal(0, stats.limited)
      assert.equal(200, (create(m.url, nil, "fresh")))
    end)
  end)

  describe("PUT /_mock/ratelimit", function()
    local m
    setup(function() m = mock.spawn {} end)
    teardown(function() m.stop() end)

    it("enforces an input-token limit", function()
      local status, stats = control(m.url, "PUT", { enforce = true, input_tokens = 40, window_ms = 5000 })
      assert.equal(200, status)
      assert.same({ enforce = true, input_tokens = 40, window_ms = 5000, counted = 0, limited = 0 }, stats)
      local s1, r1, h1 = create(m.url, nil, "a")
      assert.equal(200, s1)
      assert.equal(string.format("%d", 40 - r1.usage.input_tokens), h1["anthropic-ratelimit-input-tokens-remaining"])
      assert.equal(200, (create(m.url, nil, "b")))
      local s3, e3 = create(m.url, nil, string.rep("long ", 20))
      assert.equal(429, s3)
      assert.matches("40 input tokens", e3.error.message)
    end)

    it("enforces an output-token limit once the window's output is spent", function()
      control(m.url, "PUT", { enforce = true, output_tokens = 5, window_ms = 5000 })
      local _, r1 = create(m.url, nil, "one two three")   -- "You said: one two three": 5 pieces
      assert.equal(5, r1.usage.output_tokens)
      local s2, e2 = create(m.url, nil, "x")
      assert.equal(429, s2)
      assert.matches("5 output tokens", e2.error.message)
    end)

    it("goes back to reporting only", function()
      control(m.url, "PUT", { enforce = true, requests = 1 })
      create(m.url, nil, "a")
      assert.equal(429, (create(m.url, nil, "b")))
      control(m.url, "PUT", {})
      for _ = 1, 3 do assert.equal(200, (create(m.url, nil, "c"))) end
    end)

    for _, row in ipairs {
      { { enforce = "yes" }, "ratelimit: enforce: expected true or false" },
      { { window_ms = 0 }, "ratelimit: window_ms: expected an integer >= 1" },
      { { requests = -1 }, "ratelimit: requests: expected an integer >= 0" },
      { { request = 5 }, "ratelimit: request: unknown setting" },
    } do
      it("refuses " .. cjson.encode(row[1]), function()
        local status, err = control(m.url, "PUT", row[1])
        assert.equal(400, status)
        assert.equal(row[2], err.error.message)
      end)
    end
  end)

  it("takes limits from the config file, a key's own first", function()
    local path = config_file {
      ratelimit = { enforce = true, requests = 5, window_ms = 60000 },
      keys = { ["sk-ant-mock-one"] = { tier = "free", ratelimit = { requests = 1 } } },
    }
    local m = mock.spawn { "--config", path }
    os.remove(path)
    assert.equal(200, (create(m.url, "sk-ant-mock-one", "a")))
    local status, _, h = create(m.url, "sk-ant-mock-one", "b")
    assert.equal(429, status)
    assert.equal("1", h["anthropic-ratelimit-requests-limit"])
    local _, _, h5 = create(m.url, mock.KEYS.free, "c")
    assert.equal("5", h5["anthropic-ratelimit-requests-limit"])
    m.stop()
  end)

  for _, row in ipairs {
    { { "--rate-limit-requests", "many" }, "anthropic-mock: --rate-limit-requests needs an integer >= 0, got 'many'" },
    { { "--rate-limit-window-ms", "0" }, "anthropic-mock: --rate-limit-window-ms needs an integer >= 1, got '0'" },
  } do
    it("refuses " .. table.concat(row[1], " "), function()
      local code, out = mock.run(row[1])
      assert.equal(2, code)
      assert.equal(row[2] .. "\n", out)
    end)
  end

  it("refuses a bad ratelimit in the config file", function()
    local path = config_file '{"keys":{"sk-ant-mock-x":{"tier":"free","ratelimit":{"window_ms":10}}}}'
    local code, out = mock.run { "--config", path }
    os.remove(path)
    assert.equal(2, code)
    assert.matches("keys%.<13%-character key>%.ratelimit: only requests, input_tokens and output_tokens are per key",
      out)
  end)
end)
