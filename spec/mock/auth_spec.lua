-- Credentials, anthropic-version, tiers (key x model -> 200/403), unknown models.
local mock = require "spec.support.mock"

local function msg(model)
  return { model = model, max_tokens = 10, messages = { { role = "user", content = "hi" } } }
end

describe("mock auth", function()
  local rows = {
    { "no credentials", { ["x-api-key"] = false }, 401, "authentication_error", "x-api-key header is required" },
    { "unknown x-api-key", { ["x-api-key"] = "sk-ant-nope" }, 401, "authentication_error", "invalid x-api-key" },
    { "empty x-api-key", { ["x-api-key"] = "" }, 401, "authentication_error", "x-api-key header is required" },
    { "unknown bearer token", { ["x-api-key"] = false, authorization = "Bearer sk-ant-nope" }, 401,
      "authentication_error", "Invalid bearer token" },
    { "no anthropic-version", { ["anthropic-version"] = false }, 400, "invalid_request_error",
      "anthropic-version: header is required" },
    { "bad anthropic-version", { ["anthropic-version"] = "2099-01-01" }, 400, "invalid_request_error",
      'anthropic-version: "2099-01-01" is not a valid version' },
  }
  for _, row in ipairs(rows) do
    it(row[1] .. " -> " .. row[3], function()
      local status, b, h = mock.json_request("POST", "/v1/messages", msg(mock.MODELS.haiku), row[2])
      assert.equal(row[3], status)
      assert.same({ type = "error", error = { type = row[4], message = row[5] }, request_id = h["request-id"] }, b)
      assert.equal("false", h["x-should-retry"])
    end)
  end

  it("accepts Authorization: Bearer with a known key", function()
    local status = mock.json_request("POST", "/v1/messages", msg(mock.MODELS.haiku),
      { ["x-api-key"] = false, authorization = "Bearer " .. mock.KEYS.free })
    assert.equal(200, status)
  end)

  it("checks credentials on every API endpoint", function()
    for _, r in ipairs({ { "GET", "/v1/models" }, { "GET", "/v1/models/claude-haiku-4-5" },
      { "POST", "/v1/messages/count_tokens" }, { "GET", "/v1/messages/batches" } }) do
      local status = mock.json_request(r[1], r[2], nil, { ["x-api-key"] = false })
      assert.equal(401, status)
    end
  end)

  describe("tiers", function()
    local allowed = {
      free = { haiku = true },
      build = { haiku = true, sonnet = true },
      scale = { haiku = true, sonnet = true, opus = true },
    }
    for _, tier in ipairs({ "free", "build", "scale" }) do
      for _, short in ipairs({ "haiku", "sonnet", "opus" }) do
        local ok = allowed[tier][short] == true
        it(tier .. " key + " .. mock.MODELS[short] .. " -> " .. (ok and 200 or 403), function()
          local status, b = mock.json_request("POST", "/v1/messages", msg(mock.MODELS[short]),
            { ["x-api-key"] = mock.KEYS[tier] })
          if ok then
            assert.equal(200, status)
            assert.equal(mock.MODELS[short], b.model)
          else
            assert.equal(403, status)
            assert.same({ type = "permission_error",
              message = "Your API key does not have permission to use the specified resource." }, b.error)
          end
        end)
      end
    end

    it("applies to count_tokens too", function()
      local status = mock.json_request("POST", "/v1/messages/count_tokens",
        { model = mock.MODELS.opus, messages = { { role = "user", content = "x" } } },
        { ["x-api-key"] = mock.KEYS.free })
      assert.equal(403, status)
    end)

    it("lets a free key use older haiku models, not older sonnets", function()
      assert.equal(200, (mock.json_request("POST", "/v1/messages", msg("claude-3-5-haiku-20241022"),
        { ["x-api-key"] = mock.KEYS.free })))
      assert.equal(403, (mock.json_request("POST", "/v1/messages", msg("claude-3-7-sonnet-20250219"),
        { ["x-api-key"] = mock.KEYS.free })))
    end)
  end)

  it("unknown model -> 404 not_found_error naming it", function()
    local status, b = mock.json_request("POST", "/v1/messages", msg("claude-nonexistent-9"))
    assert.equal(404, status)
    assert.same({ type = "not_found_error", message = "model: claude-nonexistent-9" }, b.error)
  end)

  it("checks the key before the version header and both before the body", function()
    local status, _, body = mock.request("POST", "/v1/messages", {}, "{not json")
    assert.equal(401, status)
    assert.matches("x%-api%-key header is required", body)
    status, _, body = mock.request("POST", "/v1/messages", { ["x-api-key"] = mock.KEYS.free }, "{not json")
    assert.equal(400, status)
    assert.matches("anthropic%-version: header is required", body)
  end)
end)
