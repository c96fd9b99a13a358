-- GET /v1/models (pagination exactly like the API) and GET /v1/models/{id}.
local mock = require "spec.support.mock"
local cjson = require "cjson"

local ALL = {
  "claude-opus-4-7", "claude-sonnet-4-6", "claude-opus-4-5-20251101", "claude-haiku-4-5",
  "claude-sonnet-4-5-20250929", "claude-opus-4-1-20250805", "claude-opus-4-20250514", "claude-sonnet-4-20250514",
  "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022", "claude-3-haiku-20240307",
}

local function ids(list)
  local out = {}
  for i, m in ipairs(list) do out[i] = m.id end
  return out
end

local function slice(a, b)
  local out = {}
  for i = a, b do out[#out + 1] = ALL[i] end
  return out
end

local function list(query)
  return mock.json_request("GET", "/v1/models" .. query, nil, { ["content-type"] = false })
end

describe("mock GET /v1/models", function()
  it("lists every model newest first with the real shape", function()
    local status, b = list("")
    assert.equal(200, status)
    assert.same(ALL, ids(b.data))
    assert.is_false(b.has_more)
    assert.equal(ALL[1], b.first_id)
    assert.equal(ALL[#ALL], b.last_id)
    assert.same({ type = "model", id = "claude-opus-4-7", display_name = "Claude Opus 4.7",
      created_at = "2026-04-16T00:00:00Z" }, b.data[1])
    local prev
    for _, m in ipairs(b.data) do
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", m.created_at)
      if prev then assert.is_true(m.created_at <= prev) end
      prev = m.created_at
    end
  end)

  local rows = {
    { "?limit=3", slice(1, 3), true },
    { "?limit=3&after_id=claude-opus-4-5-20251101", slice(4, 6), true },
    { "?limit=5&after_id=claude-opus-4-20250514", slice(8, 11), false },
    { "?after_id=claude-3-haiku-20240307", {}, false },
    { "?limit=2&before_id=claude-haiku-4-5", slice(2, 3), true },
    { "?limit=5&before_id=claude-opus-4-5-20251101", slice(1, 2), false },
    { "?limit=1000", ALL, false },
    { "?limit=11", ALL, false },
    { "?limit=10", slice(1, 10), true },
  }
  for _, row in ipairs(rows) do
    it(row[1], function()
      local status, b = list(row[1])
      assert.equal(200, status)
      assert.same(row[2], ids(b.data))
      assert.equal(row[3], b.has_more)
      assert.equal(row[2][1] or cjson.null, b.first_id)
      assert.equal(row[2][#row[2]] or cjson.null, b.last_id)
    end)
  end

  it("walks all pages with after_id", function()
    local seen, after = {}, nil
    for _ = 1, 10 do
      local _, b = list("?limit=4" .. (after and ("&after_id=" .. after) or ""))
      for _, m in ipairs(b.data) do seen[#seen + 1] = m.id end
      if not b.has_more then break end
      after = b.last_id
    end
    assert.same(ALL, seen)
  end)

  local bad = {
    { "?limit=0", "limit: Input should be greater than or equal to 1" },
    { "?limit=1001", "limit: Input should be less than or equal to 1000" },
    { "?limit=abc", "limit: Input should be a valid integer, unable to parse string as an integer" },
    { "?after_id=a&before_id=b", "Cannot specify both `before_id` and `after_id`." },
  }
  for _, row in ipairs(bad) do
    it(row[1] .. " -> 400", function()
      local status, b = list(row[1])
      assert.equal(400, status)
      assert.same({ type = "invalid_request_error", message = row[2] }, b.error)
    end)
  end
end)

describe("mock GET /v1/models/{id}", function()
  it("returns one model", function()
    local status, b = list("/claude-sonnet-4-6")
    assert.equal(200, status)
    assert.same({ type = "model", id = "claude-sonnet-4-6", display_name = "Claude Sonnet 4.6",
      created_at = "2026-02-17T00:00:00Z" }, b)
  end)

  it("resolves an alias to the canonical id", function()
    local _, b = list("/claude-3-5-haiku-latest")
    assert.equal("claude-3-5-haiku-20241022", b.id)
  end)

  it("404s an unknown model with not_found_error", function()
    local status, b = list("/claude-nope")
    assert.equal(404, status)
    assert.same({ type = "not_found_error", message = "model: claude-nope" }, b.error)
  end)
end)
