-- client.models (issue 8): list pages, auto-pagination forwards and backwards, pagination edges
-- (empty page, a last page of exactly `limit` items, before_id), retrieve with escaped ids,
-- betas, argument checks and non-blocking use, all against the mock (docs/mock.md).
-- The expected model order is the mock's own built-in list (newest first), read from its config.

local anthropic = require "anthropic"
local mock = require "spec.support.mock"
local mock_config = require "anthropic.mock.config"
local support = require "spec.support.client"

local errors = anthropic.errors
local json = anthropic.json

local IDS = {}
for i, m in ipairs(mock_config.defaults().model_list) do IDS[i] = m.id end
local N = #IDS

local new_client = support.new_client

local raises = support.raises

local function ids_of(list)
  local out = {}
  for i, m in ipairs(list) do out[i] = m.id end
  return out
end

local function slice(from, to)
  local out = {}
  for i = from, to do out[#out + 1] = IDS[i] end
  return out
end

local function collect(iter)
  local out = {}
  for item in iter do out[#out + 1] = item.id end
  return out
end

-- The query strings the client sent to path, in order.
local function queries(path)
  local out = {}
  for _, r in ipairs(mock.requests()) do
    if r.path == path then out[#out + 1] = r.query end
  end
  return out
end

local function null_or(v)
  if v == json.null then return nil end
  return v
end

describe("client.models.list", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("the mock has enough models to page through", function()
    assert.is_true(N >= 8, "need at least 8 models, the mock has " .. N)
  end)

  it("returns a page with data, has_more, first_id, last_id and the request id", function()
    local page = client.models.list { limit = 3 }
    assert.are.same(slice(1, 3), ids_of(page.data))
    assert.is_true(page.has_more)
    assert.are.equal(IDS[1], page.first_id)
    assert.are.equal(IDS[3], page.last_id)
    assert.matches("^req_", page._request_id)
    assert.are.equal(200, page._response.status)
    local keys = {}
    for k in pairs(page) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "data", "first_id", "has_more", "last_id" }, keys)
    local m = page.data[1]
    assert.are.equal("model", m.type)
    assert.are.equal("string", type(m.display_name))
    assert.are.equal("string", type(m.created_at))
    assert.are.same({ "limit=3" }, queries("/v1/models"))
  end)

  it("sends no query and gets the API's default page when called without params", function()
    local page = client.models.list()
    assert.are.same(slice(1, math.min(N, 20)), ids_of(page.data))
    assert.are.same({ "" }, queries("/v1/models"))
  end)

  -- Pagination edges. Each row: name, first params, expected pages (ids), expected queries.
  local rows = {
    { "forward in pages of 4 until has_more is false",
      function() return { limit = 4 } end,
      function() return { slice(1, 4), slice(5, 8), slice(9, N) } end,
      function() return { "limit=4", "after_id=" .. IDS[4] .. "&limit=4", "after_id=" .. IDS[8] .. "&limit=4" } end },
    { "a last page of exactly `limit` items ends the walk (no extra request)",
      function() return { limit = 4, after_id = IDS[N - 8] } end,
      function() return { slice(N - 7, N - 4), slice(N - 3, N) } end,
      function()
        return { "after_id=" .. IDS[N - 8] .. "&limit=4", "after_id=" .. IDS[N - 4] .. "&limit=4" }
      end },
    { "one page holding every item",
      function() return { limit = N } end,
      function() return { slice(1, N) } end,
      function() return { "limit=" .. N } end },
    { "an empty page after the last item",
      function() return { after_id = IDS[N] } end,
      function() return { {} } end,
      function() return { "after_id=" .. IDS[N] } end },
    { "an empty page before the first item",
      function() return { before_id = IDS[1], limit = 5 } end,
      function() return { {} } end,
      function() return { "before_id=" .. IDS[1] .. "&limit=5" } end },
    { "backward with before_id = first_id when the listing started with before_id",
      function() return { before_id = IDS[N], limit = 3 } end,
      function()
        local pages, last = {}, N - 1
        while last >= 1 do
          pages[#pages + 1] = slice(math.max(1, last - 2), last)
          last = last - 3
        end
        return pages
      end,
      function()
        local qs, before = {}, N
        while before > 1 do
          qs[#qs + 1] = "before_id=" .. IDS[before] .. "&limit=3"
          before = before - 3
        end
        return qs
      end },
  }

  for _, row in ipairs(rows) do
    it("next_page: " .. row[1], function()
      local pages = {}
      local page = client.models.list(row[2]())
      while page do
        pages[#pages + 1] = ids_of(page.data)
        local was_last = not page.has_more
        local nxt = page:next_page()
        assert.are.equal(was_last, nxt == nil)
        assert.are.equal(not was_last, page:has_next_page())
        page = nxt
      end
      assert.are.same(row[3](), pages)
      assert.are.same(row[4](), queries("/v1/models"))
    end)

    it("iter: " .. row[1], function()
      local expected = {}
      for _, p in ipairs(row[3]()) do
        for _, id in ipairs(p) do expected[#expected + 1] = id end
      end
      assert.are.same(expected, collect(client.models.list(row[2]()):iter()))
      assert.are.same(row[4](), queries("/v1/models"))
    end)
  end

  it("an empty page has null first_id and last_id and no next page", function()
    local page = client.models.list { after_id = IDS[N] }
    assert.are.same({}, page.data)
    assert.is_false(page.has_more)
    assert.is_nil(null_or(page.first_id))
    assert.is_nil(null_or(page.last_id))
    assert.is_nil(page:next_cursor())
    assert.is_nil(page:next_page())
  end)

  it("iter fetches the next page only when the items in hand are used up", function()
    local iter = client.models.list({ limit = 4 }):auto_paging_iter()
    for i = 1, 4 do assert.are.equal(IDS[i], iter().id) end
    assert.are.equal(1, #queries("/v1/models"))
    assert.are.equal(IDS[5], iter().id)
    assert.are.equal(2, #queries("/v1/models"))
  end)

  it("next_page keeps limit, betas and the request options of the first call", function()
    local page = client.models.list({ limit = 2, betas = { "b1", "b2" } }, { headers = { ["x-extra"] = "yes" } })
    page:next_page()
    local log = mock.requests()
    assert.are.equal(2, #log)
    for i = 1, 2 do
      assert.are.equal("b1,b2", log[i].headers["anthropic-beta"])
      assert.are.equal("yes", log[i].headers["x-extra"])
    end
    assert.are.equal("after_id=" .. IDS[2] .. "&limit=2", log[2].query)
  end)

  it("with on_done returns an op at once and hands a Page to the callback", function()
    local got_err, got
    local op = client.models.list({ limit = 2 }, { on_done = function(err, page) got_err, got = err, page end })
    assert.is_false(op:is_done())
    while client:poll(50) > 0 do end
    assert.is_nil(got_err)
    assert.are.same(slice(1, 2), ids_of(got.data))
    assert.are.same(slice(3, 4), ids_of(got:next_page().data))
  end)

  it("a 200 reply that is not a page is an APIError, raised or handed to on_done", function()
    local not_a_page = { headers = { ["x-mock-fault"] = json.encode { not_json = true, body = '{"type":"nope"}' } } }
    local err = raises(client.models.list, nil, not_a_page)
    assert.are.equal("APIError", err.class_name)
    assert.are.equal("list reply has no data array", err.message)
    local got_err, got, calls = nil, nil, 0
    not_a_page.on_done = function(e, page) got_err, got, calls = e, page, calls + 1 end
    client.models.list(nil, not_a_page)
    while client:poll(50) > 0 do end
    assert.are.equal(1, calls)
    assert.is_nil(got)
    assert.are.equal("APIError", got_err.class_name)
  end)

  it("a wrong key is AuthenticationFailed", function()
    local c = new_client { api_key = "sk-ant-mock-nope" }
    local err = raises(c.models.list, { limit = 1 })
    c:close()
    assert.is_true(err:is(errors.AuthenticationFailed))
    assert.are.equal(401, err.status)
  end)

  local bad = {
    { "params not a table", "x", "params: must be a table { limit =, after_id =, before_id = }" },
    { "an unknown key", { limt = 2 }, "limt: unknown option" },
    { "limit 0", { limit = 0 }, "limit: must be an integer from 1 to 1000" },
    { "limit 1001", { limit = 1001 }, "limit: must be an integer from 1 to 1000" },
    { "a fractional limit", { limit = 2.5 }, "limit: must be an integer from 1 to 1000" },
    { "a string limit", { limit = "5" }, "limit: must be an integer from 1 to 1000" },
    { "an empty after_id", { after_id = "" }, "after_id: must be a non-empty string" },
    { "a numeric before_id", { before_id = 7 }, "before_id: must be a non-empty string" },
    { "both cursors", { after_id = "a", before_id = "b" },
      "after_id: cannot be combined with before_id (one cursor per listing)" },
    { "betas not a list", { betas = "x" }, "betas: must be a list (a table with items 1..n)" },
    { "a beta with a comma", { betas = { "a,b" } },
      "betas[1]: must be a non-empty string without CR, LF, NUL or comma" },
  }
  for _, row in ipairs(bad) do
    it("raises UsageError for " .. row[1] .. " before sending anything", function()
      local err = raises(client.models.list, row[2])
      assert.is_true(err:is(errors.UsageError))
      assert.are.equal(row[3], err.message)
      assert.are.same({}, mock.requests())
    end)
  end

  it("rejects unknown request options and stream callbacks", function()
    assert.are.equal("options.timout: unknown option", raises(client.models.list, {}, { timout = 1 }).message)
    assert.are.equal("options: on_event/on_text are only for messages.stream",
      raises(client.models.list, {}, { on_text = print }).message)
  end)
end)

describe("client.models.retrieve", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear()
  end)
  after_each(function() client:close() end)

  it("returns the ModelInfo of an id", function()
    local m = client.models.retrieve(IDS[2])
    assert.are.equal(IDS[2], m.id)
    assert.are.equal("model", m.type)
    assert.matches("^req_", m._request_id)
    assert.are.equal("/v1/models/" .. IDS[2], mock.requests()[1].path)
  end)

  it("resolves an alias to the canonical id", function()
    local alias, canonical
    for _, m in ipairs(mock_config.defaults().model_list) do
      if m.aliases and m.aliases[1] then alias, canonical = m.aliases[1], m.id break end
    end
    assert.is_not_nil(alias)
    assert.are.equal(canonical, client.models.retrieve(alias).id)
  end)

  -- The id is one escaped path segment: the mock decodes it back and names it in its 404.
  local escapes = {
    { "a/b", "/v1/models/a%2Fb" },
    { "with space", "/v1/models/with%20space" },
    { "..", "/v1/models/%2E%2E" },
    { ".", "/v1/models/%2E" },
    { "q?x=1#f", "/v1/models/q%3Fx%3D1%23f" },
    { "ünï", "/v1/models/%C3%BCn%C3%AF" },
  }
  for _, row in ipairs(escapes) do
    it(string.format("escapes %q as %s", row[1], row[2]), function()
      local err = raises(client.models.retrieve, row[1])
      assert.is_true(err:is(errors.NotFound))
      assert.are.equal("model: " .. row[1], err.message)
      assert.are.equal(row[2], mock.requests()[1].path)
    end)
  end

  it("sends betas from the options as anthropic-beta", function()
    client.models.retrieve(IDS[1], { betas = { "x-1", "y-2" } })
    assert.are.equal("x-1,y-2", mock.requests()[1].headers["anthropic-beta"])
  end)

  it("sends no anthropic-beta without betas", function()
    client.models.retrieve(IDS[1])
    assert.is_nil(mock.requests()[1].headers["anthropic-beta"])
  end)

  local bad = {
    { "nil", nil, "model_id: must be a non-empty string" },
    { "an empty string", "", "model_id: must be a non-empty string" },
    { "a number", 5, "model_id: must be a non-empty string" },
    { "a table", {}, "model_id: must be a non-empty string" },
  }
  for _, row in ipairs(bad) do
    it("raises UsageError for an id that is " .. row[1], function()
      local err = raises(client.models.retrieve, row[2])
      assert.is_true(err:is(errors.UsageError))
      assert.are.equal(row[3], err.message)
      assert.are.same({}, mock.requests())
    end)
  end

  it("rejects bad options", function()
    assert.are.equal("options: must be a table", raises(client.models.retrieve, "x", "opts").message)
    assert.are.equal("options.betas[1]: must be a non-empty string without CR, LF, NUL or comma",
      raises(client.models.retrieve, "x", { betas = { "a\nb" } }).message)
    assert.are.same({}, mock.requests())
  end)
end)
