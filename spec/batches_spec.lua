-- client.messages.batches (issue 8) against a mock of its own (so the batch list holds only this
-- file's batches): create with its argument checks, retrieve through the lifecycle, list pages
-- (forward, backward, empty, exactly `limit`), cancel, delete, results streamed line by line
-- (unfinished batch, errored and canceled entries, early close, inside a task), betas on every
-- call, and a 10,000-line results file read with flat memory.
--
-- The mock ends a batch on its second retrieval (batch_pending_polls = 1), or on the first
-- when the create request carries x-mock-fault {"batch_pending_polls": 0} (docs/mock.md).

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local errors = anthropic.errors
local HAIKU, OPUS = "claude-haiku-4-5", "claude-opus-4-7"
local ENDS_AT_ONCE = { headers = { ["x-mock-fault"] = '{"batch_pending_polls":0}' } }

local server          -- this file's mock: { url, stop }

local function new_client(extra)
  local opts = { api_key = "sk-ant-mock-free", base_url = server.url, max_retries = 0 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return anthropic.new(opts)
end

local function log() return mock.requests(server.url) end
local function clear() mock.clear(server.url) end

local raises = support.raises

local function params(text, model)
  return { model = model or HAIKU, max_tokens = 32, messages = { { role = "user", content = text } } }
end

local function request(id, text, model) return { custom_id = id, params = params(text, model) } end

local function requests(n)
  local list = {}
  for i = 1, n do list[i] = request(string.format("req-%05d", i), "question " .. i) end
  return list
end

local function ids_of(list)
  local out = {}
  for i, b in ipairs(list) do out[i] = b.id end
  return out
end

setup(function() server = mock.spawn({}) end)
teardown(function() server.stop() end)

describe("client.messages.batches.create", function()
  local client
  before_each(function()
    client = new_client()
    clear()
  end)
  after_each(function() client:close() end)

  it("posts { requests = ... } and returns the MessageBatch", function()
    local reqs = { request("first", "hello"), request("second_2", "bye") }
    local b = client.messages.batches.create { requests = reqs }
    assert.matches("^msgbatch_", b.id)
    assert.are.equal("message_batch", b.type)
    assert.are.equal("in_progress", b.processing_status)
    assert.are.same({ processing = 2, succeeded = 0, errored = 0, canceled = 0, expired = 0 }, b.request_counts)
    assert.are.equal(anthropic.null, b.results_url)
    assert.matches("^req_", b._request_id)
    local l = log()
    assert.are.equal(1, #l)
    assert.are.equal("POST", l[1].method)
    assert.are.equal("/v1/messages/batches", l[1].path)
    assert.are.same({ requests = reqs }, cjson.decode(l[1].body))
    assert.is_nil(l[1].headers["anthropic-beta"])
  end)

  it("takes betas out of the body and sends them as anthropic-beta", function()
    client.messages.batches.create { requests = { request("a", "hi") }, betas = { "b-1", "b-2" } }
    local l = log()
    assert.are.equal("b-1,b-2", l[1].headers["anthropic-beta"])
    assert.are.same({ requests = { request("a", "hi") } }, cjson.decode(l[1].body))
  end)

  local function with_request(r) return { requests = { request("ok", "hi"), r } } end
  local function with_params(extra)
    local p = params("hi")
    for k, v in pairs(extra) do p[k] = v end
    return with_request { custom_id = "x", params = p }
  end
  local bad = {
    { "params not a table", "x", "params: must be a table { requests = { ... } }" },
    { "no requests", {}, "requests: must be a list (a table with items 1..n)" },
    { "an empty requests list", { requests = {} }, "requests: must hold at least one request" },
    { "requests with a hole", { requests = { [1] = request("a", "x"), [3] = request("b", "y") } },
      "requests: must be a list without holes (item 2 is nil)" },
    { "a request that is not a table", with_request("x"),
      "requests[2]: must be a table { custom_id = ..., params = { ... } }" },
    { "a missing custom_id", with_request { params = params("hi") }, "requests[2].custom_id: must be a string" },
    { "a numeric custom_id", with_request { custom_id = 7, params = params("hi") },
      "requests[2].custom_id: must be a string" },
    { "an empty custom_id", with_request { custom_id = "", params = params("hi") },
      'requests[2].custom_id: must be 1 to 64 characters from A-Z, a-z, 0-9, _ and -, got ""' },
    { "a custom_id of 65 characters", with_request { custom_id = string.rep("a", 65), params = params("hi") },
      'requests[2].custom_id: must be 1 to 64 characters from A-Z, a-z, 0-9, _ and -, got "'
        .. string.rep("a", 65) .. '"' },
    { "a custom_id with a dot", with_request { custom_id = "a.b", params = params("hi") },
      'requests[2].custom_id: must be 1 to 64 characters from A-Z, a-z, 0-9, _ and -, got "a.b"' },
    { "a duplicate custom_id", with_request { custom_id = "ok", params = params("hi") },
      'requests[2].custom_id: "ok" is also the custom_id of requests[1]; each must be unique' },
    { "missing params", with_request { custom_id = "x" },
      "requests[2].params: must be a table of Messages parameters" },
    { "params without a model", with_request { custom_id = "x", params = { max_tokens = 5, messages = {} } },
      "requests[2].params.model: must be a non-empty string" },
    { "params without max_tokens", with_request { custom_id = "x", params = { model = HAIKU, messages = {} } },
      "requests[2].params.max_tokens: must be a positive integer" },
    { "params with messages not a list", with_params { messages = "hi" },
      "requests[2].params.messages: must be a list (a table with items 1..n)" },
    { "params asking to stream", with_params { stream = true },
      "requests[2].params.stream: batch requests cannot stream" },
    { "betas inside one request", with_params { betas = { "x" } },
      "requests[2].params.betas: put betas on the batches.create params" },
    { "betas not a list", { requests = { request("a", "hi") }, betas = "x" },
      "betas: must be a list (a table with items 1..n)" },
    { "a function in the params", with_params { metadata = { user_id = print } },
      "requests[2].params.metadata.user_id: cannot encode a function as JSON" },
  }
  for _, row in ipairs(bad) do
    it("raises UsageError for " .. row[1] .. " before sending anything", function()
      local err = raises(client.messages.batches.create, row[2])
      assert.is_true(err:is(errors.UsageError))
      assert.are.equal(row[3], err.message)
      assert.are.same({}, log())
    end)
  end

  it("rejects stream callbacks in the options", function()
    local err = raises(client.messages.batches.create, { requests = { request("a", "hi") } }, { on_event = print })
    assert.are.equal("options: on_event/on_text are only for messages.stream", err.message)
  end)

  it("with on_done returns an op at once and hands the batch to the callback", function()
    local got_err, got
    local op = client.messages.batches.create({ requests = { request("a", "hi") } },
      { on_done = function(err, b) got_err, got = err, b end })
    assert.is_false(op:is_done())
    while client:poll(50) > 0 do end
    assert.is_nil(got_err)
    assert.matches("^msgbatch_", got.id)
  end)
end)

describe("client.messages.batches lifecycle", function()
  local client
  before_each(function()
    client = new_client()
    clear()
  end)
  after_each(function() client:close() end)

  it("retrieve shows in_progress, then ended with the request counts and a results_url", function()
    local b = client.messages.batches.create { requests = { request("a", "hi"), request("b", "no", OPUS) } }
    local r1 = client.messages.batches.retrieve(b.id)
    assert.are.equal("in_progress", r1.processing_status)
    local r2 = client.messages.batches.retrieve(b.id)
    assert.are.equal("ended", r2.processing_status)
    assert.are.same({ processing = 0, succeeded = 1, errored = 1, canceled = 0, expired = 0 }, r2.request_counts)
    assert.are.equal(server.url .. "/v1/messages/batches/" .. b.id .. "/results", r2.results_url)
    local l = log()
    assert.are.equal("GET", l[2].method)
    assert.are.equal("/v1/messages/batches/" .. b.id, l[2].path)
  end)

  it("cancel moves an in-progress batch to canceling; it then ends with every request canceled", function()
    local b = client.messages.batches.create { requests = requests(3) }
    local c = client.messages.batches.cancel(b.id)
    assert.are.equal("canceling", c.processing_status)
    assert.are.equal("string", type(c.cancel_initiated_at))
    local l = log()
    assert.are.equal("POST", l[2].method)
    assert.are.equal("/v1/messages/batches/" .. b.id .. "/cancel", l[2].path)
    assert.are.equal("", l[2].body)
    local ended = client.messages.batches.retrieve(b.id)
    assert.are.equal("ended", ended.processing_status)
    assert.are.equal(3, ended.request_counts.canceled)
    local types = {}
    for entry in client.messages.batches.results(b.id) do types[#types + 1] = entry.result.type end
    assert.are.same({ "canceled", "canceled", "canceled" }, types)
  end)

  it("cancel of an ended batch is BadRequest", function()
    local b = client.messages.batches.create({ requests = requests(1) }, ENDS_AT_ONCE)
    client.messages.batches.retrieve(b.id)
    local err = raises(client.messages.batches.cancel, b.id)
    assert.is_true(err:is(errors.BadRequest))
    assert.are.equal("message_batch_id: " .. b.id .. " has already ended processing and cannot be canceled",
      err.message)
  end)

  it("delete removes an ended batch; retrieving it is then NotFound", function()
    local b = client.messages.batches.create({ requests = requests(1) }, ENDS_AT_ONCE)
    client.messages.batches.retrieve(b.id)
    local d = client.messages.batches.delete(b.id)
    assert.are.same({ id = b.id, type = "message_batch_deleted" }, d)
    assert.are.equal("DELETE", log()[3].method)
    local err = raises(client.messages.batches.retrieve, b.id)
    assert.is_true(err:is(errors.NotFound))
    assert.are.equal("message_batch_id: " .. b.id .. " not found", err.message)
  end)

  it("delete of a batch still in progress is BadRequest", function()
    local b = client.messages.batches.create { requests = requests(1) }
    local err = raises(client.messages.batches.delete, b.id)
    assert.is_true(err:is(errors.BadRequest))
  end)

  local id_calls = { "retrieve", "cancel", "delete", "results" }
  local bad_ids = { { "nil", nil }, { "an empty string", "" }, { "a number", 12 } }
  for _, name in ipairs(id_calls) do
    for _, row in ipairs(bad_ids) do
      it(name .. " raises UsageError for an id that is " .. row[1], function()
        local err = raises(client.messages.batches[name], row[2])
        assert.is_true(err:is(errors.UsageError))
        assert.are.equal("message_batch_id: must be a non-empty string", err.message)
        assert.are.same({}, log())
      end)
    end
    it(name .. " escapes the id as one path segment", function()
      local err = raises(client.messages.batches[name], "a/b c")
      assert.is_true(err:is(errors.NotFound))
      assert.matches("^/v1/messages/batches/a%%2Fb%%20c", log()[1].path)
    end)
  end
end)

describe("client.messages.batches.list", function()
  local client, IDS
  local N = 7

  setup(function()
    local c = new_client()
    for i = 1, N do c.messages.batches.create { requests = { request("r" .. i, "hi") } } end
    IDS = ids_of(c.messages.batches.list({ limit = 1000 }).data)
    c:close()
  end)
  before_each(function()
    client = new_client()
    clear()
  end)
  after_each(function() client:close() end)

  local function slice(a, b)
    local out = {}
    for i = a, b do out[#out + 1] = IDS[i] end
    return out
  end

  local function walk(first)
    local pages, page = {}, client.messages.batches.list(first)
    while page do
      pages[#pages + 1] = ids_of(page.data)
      page = page:next_page()
    end
    return pages
  end

  local function queries()
    local out = {}
    for _, r in ipairs(log()) do out[#out + 1] = r.query end
    return out
  end

  it("holds this file's batches, newest first", function()
    assert.is_true(#IDS >= N)
    local all = client.messages.batches.list({ limit = 1000 })
    assert.is_false(all.has_more)
    assert.are.equal(IDS[1], all.first_id)
    assert.are.equal(IDS[#IDS], all.last_id)
  end)

  it("forward: pages of 3 with after_id = last_id until has_more is false", function()
    local n = #IDS
    local expected, qs, from = {}, {}, 1
    while from <= n do
      expected[#expected + 1] = slice(from, math.min(n, from + 2))
      qs[#qs + 1] = (from == 1 and "" or "after_id=" .. IDS[from - 1] .. "&") .. "limit=3"
      from = from + 3
    end
    assert.are.same(expected, walk { limit = 3 })
    assert.are.same(qs, queries())
  end)

  it("a last page of exactly `limit` items ends the walk", function()
    local n = #IDS
    assert.are.same({ slice(n - 3, n - 2), slice(n - 1, n) }, walk { limit = 2, after_id = IDS[n - 4] })
    assert.are.equal(2, #log())
  end)

  it("backward: before_id = first_id when the listing started with before_id", function()
    local n = #IDS
    local got = {}
    for b in client.messages.batches.list({ before_id = IDS[n], limit = 2 }):iter() do got[#got + 1] = b.id end
    local expected = {}
    local last = n - 1
    while last >= 1 do
      for i = math.max(1, last - 1), last do expected[#expected + 1] = IDS[i] end
      last = last - 2
    end
    assert.are.same(expected, got)
    for _, q in ipairs(queries()) do assert.matches("^before_id=msgbatch_[%w_]+&limit=2$", q) end
  end)

  it("an empty page: nothing after the oldest batch", function()
    local page = client.messages.batches.list { after_id = IDS[#IDS] }
    assert.are.same({}, page.data)
    assert.is_false(page.has_more)
    assert.are.equal(anthropic.null, page.first_id)
    assert.is_nil(page:next_page())
    local n = 0
    for _ in page:iter() do n = n + 1 end
    assert.are.equal(0, n)
    assert.are.equal(1, #log())
  end)

  it("items are MessageBatch objects", function()
    local b = client.messages.batches.list({ limit = 1 }).data[1]
    assert.are.equal("message_batch", b.type)
    assert.are.equal(IDS[1], b.id)
  end)

  it("rejects bad params before sending anything", function()
    assert.are.equal("limit: must be an integer from 1 to 1000",
      raises(client.messages.batches.list, { limit = 0 }).message)
    assert.are.equal("after_id: cannot be combined with before_id (one cursor per listing)",
      raises(client.messages.batches.list, { after_id = "a", before_id = "b" }).message)
    assert.are.same({}, log())
  end)
end)

describe("client.messages.batches.results", function()
  local client
  before_each(function()
    client = new_client()
    clear()
  end)
  after_each(function() client:close() end)

  it("of an unfinished batch raises UsageError naming its processing_status, without fetching results", function()
    local b = client.messages.batches.create { requests = requests(2) }
    local err = raises(client.messages.batches.results, b.id)
    assert.is_true(err:is(errors.UsageError))
    assert.are.equal(string.format('message_batch_id: batch %s has not ended (processing_status "in_progress"); '
      .. 'its results are available once processing_status is "ended"', b.id), err.message)
    assert.are.equal("in_progress", err.processing_status)
    assert.are.equal(b.id, err.batch.id)
    local l = log()
    assert.are.equal(2, #l)
    assert.are.equal("/v1/messages/batches/" .. b.id, l[2].path)
  end)

  -- The mock shows "canceling" only in cancel's own reply (its next retrieval ends the batch), so
  -- these rows hand results() a retrieval that reports the status.
  for _, status in ipairs { "in_progress", "canceling" } do
    it("names processing_status " .. status .. " in the error", function()
      local real = client.messages.batches.retrieve
      client.messages.batches.retrieve = function(id)
        return { id = id, type = "message_batch", processing_status = status, results_url = anthropic.null }
      end
      local ok, err = pcall(client.messages.batches.results, "msgbatch_x")
      client.messages.batches.retrieve = real
      assert.is_false(ok)
      assert.is_true(err:is(errors.UsageError))
      assert.are.equal(status, err.processing_status)
      assert.are.equal(string.format('message_batch_id: batch msgbatch_x has not ended (processing_status "%s"); '
        .. 'its results are available once processing_status is "ended"', status), err.message)
      assert.are.same({}, log())
    end)
  end

  it("a stalled results download ends with Timeout (idle), it does not hang", function()
    local b = client.messages.batches.create({ requests = requests(3) }, ENDS_AT_ONCE)
    client.messages.batches.retrieve(b.id)
    local t0 = require("socket").gettime()
    local ok, err = pcall(function()
      for _ in client.messages.batches.results(b.id, { idle_timeout = 0.3, max_retries = 0,
        headers = { ["x-mock-fault"] = '{"delay_ms":3000}' } }) do end
    end)
    assert.is_false(ok)
    assert.are.equal("Timeout", err.class_name, tostring(err))
    assert.are.equal("idle timeout: no data for 300 ms", err.message)
    assert.is_true(require("socket").gettime() - t0 < 3.5 + 0.3)
  end)

  it("yields each entry in request order: succeeded messages and errored requests", function()
    local b = client.messages.batches.create({ requests = {
      request("one", "first question"), request("two", "needs opus", OPUS), request("three", "last one") } },
      ENDS_AT_ONCE)
    local got = {}
    local results = client.messages.batches.results(b.id)
    for entry in results do got[#got + 1] = entry end
    assert.are.same({ "one", "two", "three" }, { got[1].custom_id, got[2].custom_id, got[3].custom_id })
    assert.are.equal("succeeded", got[1].result.type)
    assert.are.equal("message", got[1].result.message.type)
    assert.are.equal("You said: first question", got[1].result.message.content[1].text)
    assert.are.equal("batch", got[1].result.message.usage.service_tier)
    assert.are.equal("errored", got[2].result.type)
    assert.are.equal("permission_error", got[2].result.error.error.type)
    assert.are.equal("You said: last one", got[3].result.message.content[1].text)
    assert.is_true(results:is_done())
    assert.matches("^req_", results.request_id)
    assert.are.equal("ended", results.batch.processing_status)
    local l = log()
    assert.are.equal("/v1/messages/batches/" .. b.id .. "/results", l[#l].path)
    assert.are.equal("application/x-jsonl", l[#l].headers.accept)
  end)

  it("follows results_url under a base_url with a path prefix", function()
    local c = new_client { base_url = server.url .. "/gateway" }
    local b = c.messages.batches.create({ requests = requests(2) }, ENDS_AT_ONCE)
    local n = 0
    for _ in c.messages.batches.results(b.id) do n = n + 1 end
    c:close()
    assert.are.equal(2, n)
    local l = log()
    assert.are.equal("/gateway/v1/messages/batches/" .. b.id .. "/results", l[#l].path)
  end)

  it("delivers the first entries while the rest of the file is still arriving", function()
    local b = client.messages.batches.create({ requests = requests(3000) }, ENDS_AT_ONCE)
    local results = client.messages.batches.results(b.id)
    assert.are.equal("req-00001", results().custom_id)
    assert.is_false(results.op.done, "the transfer should still be running")
    local n = 1
    for _ in results do n = n + 1 end
    assert.are.equal(3000, n)
  end)

  it("close() stops the download early; the loop then ends and nothing stays in flight", function()
    local b = client.messages.batches.create({ requests = requests(3000) }, ENDS_AT_ONCE)
    local results = client.messages.batches.results(b.id)
    for _ = 1, 10 do results() end
    assert.are.equal(1, client:inflight())
    results:close()
    assert.are.equal(0, client:inflight())
    assert.is_nil(results())
    results:close()  -- idempotent
  end)

  if _VERSION == "Lua 5.4" then
    it("leaving a generic for early closes the download (Lua 5.4 to-be-closed)", function()
      local b = client.messages.batches.create({ requests = requests(3000) }, ENDS_AT_ONCE)
      local n = 0
      for _ in client.messages.batches.results(b.id) do
        n = n + 1
        if n == 5 then break end
      end
      assert.are.equal(0, client:inflight())
    end)
  end

  -- Plain Lua 5.1 cannot yield from a generic for's iterator (the VM calls it from C), so
  -- there a task reads with results:next(); 5.2+ and LuaJIT can use either form.
  local PLAIN_51 = _VERSION == "Lua 5.1" and not rawget(_G, "jit")
  local loops = {
    { "a results:next() loop", function(results, each)
      while true do
        local entry = results:next()
        if entry == nil then break end
        each(entry)
      end
    end },
    { "a generic for", function(results, each) for entry in results do each(entry) end end, PLAIN_51 },
  }
  for _, row in ipairs(loops) do
    if not row[3] then
      it("runs inside anthropic.spawn (" .. row[1] .. ") without blocking the caller's loop", function()
        local b = client.messages.batches.create({ requests = requests(50) }, ENDS_AT_ONCE)
        local seen = {}
        local task = anthropic.spawn(function()
          row[2](client.messages.batches.results(b.id), function(e) seen[#seen + 1] = e.custom_id end)
          return #seen
        end)
        assert.is_false(task:is_done())
        local polls = 0
        while not task:is_done() do
          client:poll(20)
          polls = polls + 1
          assert.is_true(polls < 2000, "task did not finish")
        end
        assert.is_nil(task.err)
        assert.are.equal(50, task.result)
        assert.are.equal("req-00050", seen[50])
        assert.is_true(polls > 1)
      end)
    end
  end

  if PLAIN_51 then
    it("a generic for inside a task on plain Lua 5.1 raises UsageError naming the loop that works", function()
      local b = client.messages.batches.create({ requests = requests(5) }, ENDS_AT_ONCE)
      local task = anthropic.spawn(function()
        for _ in client.messages.batches.results(b.id) do end
      end)
      while not task:is_done() do client:poll(20) end
      assert.is_true(errors.UsageError.is_class_of(task.err))
      assert.are.equal("batch results cannot be read with a for-in loop inside a task on Lua 5.1 "
        .. "(a for-in iterator cannot yield there): use "
        .. "`while true do local entry = results:next(); if not entry then break end ... end`", task.err.message)
      assert.are.equal(0, client:inflight())
    end)
  end

  it("an unknown batch is NotFound from the retrieval", function()
    local err = raises(client.messages.batches.results, "msgbatch_nope")
    assert.is_true(err:is(errors.NotFound))
    assert.are.equal("message_batch_id: msgbatch_nope not found", err.message)
  end)

  it("rejects on_done: results is an iterator", function()
    local err = raises(client.messages.batches.results, "msgbatch_x", { on_done = print })
    assert.is_true(err:is(errors.UsageError))
    assert.are.equal("options.on_done: results() is an iterator; inside anthropic.spawn(fn) it yields "
      .. "instead of blocking", err.message)
    assert.are.same({}, log())
  end)
end)

-- Results a real server could send but the mock does not: a tiny canned server in a child
-- process. The batch id picks the body. Its batch reports a results_url on another host, so
-- these rows also show the key goes to base_url's own results path, not to that host.
local CANNED = [==[
local socket = require "socket"
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
io.stdout:write("port ", port, "\n")
io.stdout:flush()
local function line(id, t) return '{"custom_id":"' .. id .. '","result":{"type":"' .. t .. '"}}' end
local BODIES = {
  msgbatch_badline = line("a", "canceled") .. "\n" .. "not json\n" .. line("c", "expired") .. "\n",
  msgbatch_nonl = line("a", "canceled") .. "\n" .. line("b", "expired"),
  msgbatch_crlf = line("a", "canceled") .. "\r\n\r\n\n" .. line("b", "expired") .. "\r\n",
  msgbatch_cut = line("a", "canceled") .. "\n" .. line("b", "expired") .. "\n" .. '{"custom_id":"c","res',
}
-- arg[1]: the spec's pid; the server exits once that process is gone, even after a crash.
local function parent_alive()
  local r = os.execute("kill -0 " .. arg[1] .. " 2>/dev/null")
  return r == true or r == 0
end
srv:settimeout(1)
while true do
  local c = srv:accept()
  while not c do
    if not parent_alive() then os.exit(0) end
    c = srv:accept()
  end
  c:settimeout(5)
  local req = c:receive("*l") or ""
  repeat local h = c:receive("*l") until h == nil or h == ""
  local id, tail = req:match("^GET /v1/messages/batches/([%w_]+)(%S*) HTTP")
  local head = "HTTP/1.1 200 OK\r\nconnection: close\r\nrequest-id: req_canned\r\n"
  if id and tail == "" then
    local body = '{"id":"' .. id .. '","type":"message_batch","processing_status":"ended",'
      .. '"results_url":"https://elsewhere.example/v1/messages/batches/' .. id .. '/results"}'
    c:send(head .. "content-type: application/json\r\ncontent-length: " .. #body .. "\r\n\r\n" .. body)
  elseif id and tail == "/results" and id == "msgbatch_cut" then
    local body = BODIES[id]
    c:send(head .. "content-type: application/x-jsonl\r\ntransfer-encoding: chunked\r\n\r\n"
      .. string.format("%x\r\n", #body) .. body .. "\r\n")
  elseif id and tail == "/results" and BODIES[id] then
    local body = BODIES[id]
    c:send(head .. "content-type: application/x-jsonl\r\ncontent-length: " .. #body .. "\r\n\r\n" .. body)
  else
    c:send("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
  end
  c:close()
end
]==]

describe("client.messages.batches.results from a canned server", function()
  local pid, url, client

  setup(function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(CANNED)
    f:close()
    local lua = require("spec.support.run").interpreter()
    local p = assert(io.popen(string.format("exec %s %s $PPID </dev/null & echo pid $!", lua, path), "r"))
    local port
    for _ = 1, 2 do   -- the shell's "pid" and the server's "port" lines, in either order
      local l = p:read("*l") or ""
      pid = pid or tonumber(l:match("^pid (%d+)$"))
      port = port or l:match("^port (%d+)$")
    end
    p:close()
    assert(pid and port, "the canned server did not start")
    url = "http://127.0.0.1:" .. port
    os.remove(path)
  end)
  teardown(function() if pid then os.execute("kill " .. pid .. " 2>/dev/null") end end)
  before_each(function()
    client = anthropic.new { api_key = "sk-ant-canned", base_url = url, max_retries = 0 }
  end)
  after_each(function() client:close() end)

  local function read_all(id)
    local got = {}
    local ok, err = pcall(function()
      for entry in client.messages.batches.results(id) do got[#got + 1] = entry.custom_id end
    end)
    return got, not ok and err or nil
  end

  it("a line that is not JSON raises APIError naming the line, after the lines before it", function()
    local got, err = read_all("msgbatch_badline")
    assert.are.same({ "a" }, got)
    assert.is_true(errors.APIError.is_class_of(err))
    assert.matches("^results line 2 is not a JSON object %(", err.message)
    assert.are.equal("req_canned", err.request_id)
    assert.are.equal(0, client:inflight())
  end)

  it("a last line without its newline is still delivered", function()
    local got, err = read_all("msgbatch_nonl")
    assert.is_nil(err)
    assert.are.same({ "a", "b" }, got)
  end)

  it("CRLF line ends and blank lines are accepted", function()
    local got, err = read_all("msgbatch_crlf")
    assert.is_nil(err)
    assert.are.same({ "a", "b" }, got)
  end)

  it("a connection cut mid-file raises ConnectionError after every complete line", function()
    local got, err = read_all("msgbatch_cut")
    assert.are.same({ "a", "b" }, got)
    assert.is_true(errors.ConnectionError.is_class_of(err), tostring(err))
  end)
end)

describe("betas on every batches call", function()
  local client
  before_each(function()
    client = new_client()
    clear()
  end)
  after_each(function() client:close() end)

  local BETAS = { "message-batches-2024-09-24", "extra-beta" }
  local HEADER = "message-batches-2024-09-24,extra-beta"

  -- Each row: name, call(client, batch) -> the request path suffix it should send.
  local calls = {
    { "create", function(c)
      c.messages.batches.create { requests = requests(1), betas = BETAS }
      return "/v1/messages/batches"
    end },
    { "retrieve", function(c, b)
      c.messages.batches.retrieve(b.id, { betas = BETAS })
      return "/v1/messages/batches/" .. b.id
    end },
    { "list", function(c)
      c.messages.batches.list { limit = 1, betas = BETAS }
      return "/v1/messages/batches"
    end },
    { "list next_page", function(c)
      c.messages.batches.list({ limit = 1, betas = BETAS }):next_page()
      return "/v1/messages/batches"
    end },
    { "cancel", function(c, b)
      c.messages.batches.cancel(b.id, { betas = BETAS })
      return "/v1/messages/batches/" .. b.id .. "/cancel"
    end },
    { "results", function(c, b)
      c.messages.batches.retrieve(b.id)
      c.messages.batches.cancel(b.id)
      c.messages.batches.retrieve(b.id)
      clear()
      for _ in c.messages.batches.results(b.id, { betas = BETAS }) do end
      return "/v1/messages/batches/" .. b.id .. "/results"
    end },
    { "delete", function(c, b)
      c.messages.batches.cancel(b.id)
      c.messages.batches.retrieve(b.id)
      clear()
      c.messages.batches.delete(b.id, { betas = BETAS })
      return "/v1/messages/batches/" .. b.id
    end },
  }
  for _, row in ipairs(calls) do
    it(row[1] .. " sends anthropic-beta", function()
      local b = client.messages.batches.create { requests = requests(2) }
      clear()
      local path = row[2](client, b)
      local l = log()
      local last = l[#l]
      assert.are.equal(path, last.path)
      for _, r in ipairs(l) do assert.are.equal(HEADER, r.headers["anthropic-beta"], r.method .. " " .. r.path) end
    end)
  end
end)

describe("batch results memory", function()
  local LINES = 10000
  local client, batch, small

  setup(function()
    client = new_client { api_key = "sk-ant-mock-build" }
    batch = client.messages.batches.create({ requests = requests(LINES) }, ENDS_AT_ONCE)
    small = client.messages.batches.create({ requests = requests(2000) }, ENDS_AT_ONCE)
  end)
  teardown(function() client:close() end)

  -- Runs read(sample) from a fully collected heap; read calls sample() as it goes. Returns the
  -- high-water of collectgarbage("count") above the start, in bytes: `raw` sampled at every
  -- call (garbage included), `live` right after a full collection every `every` calls (what is
  -- really held). The collections also keep `raw` about this code rather than about when the
  -- collector happens to run: left alone it lets garbage grow to about the size of busted's own
  -- heap (~1.2 MB above the start on 5.4 under busted, ~190 KB in a bare script).
  local function measure(read, every)
    collectgarbage("collect")
    collectgarbage("collect")
    local base = collectgarbage("count")
    local raw, live, calls = 0, 0, 0
    local function sample()
      calls = calls + 1
      local now = collectgarbage("count") - base
      if now > raw then raw = now end
      if calls % every == 0 then
        collectgarbage("collect")
        now = collectgarbage("count") - base
        if now > live then live = now end
      end
    end
    read(sample)
    collectgarbage("collect")
    local after = collectgarbage("count") - base
    if after > live then live = after end
    return raw * 1024, live * 1024
  end

  it("streams a 10,000-line results file with memory far below the file's size", function()
    local lines, bytes, first_custom, last_custom
    local results
    local raw, live = measure(function(sample)
      results = client.messages.batches.results(batch.id)
      lines = 0
      for entry in results do
        lines = lines + 1
        if lines == 1 then first_custom = entry.custom_id end
        last_custom = entry.custom_id
        sample()
      end
      bytes = results.bytes
      results = nil
    end, 250)
    assert.are.equal(LINES, lines)
    assert.are.equal("req-00001", first_custom)
    assert.are.equal(string.format("req-%05d", LINES), last_custom)
    print(string.format("\n  [batch results memory, %s] %d lines, %d bytes; Lua heap high-water above the start: "
      .. "%.0f KB sampled every line (incl. garbage), %.0f KB live (after full collections every 250 lines); "
      .. "%.1f%% / %.1f%% of the file", _VERSION .. (rawget(_G, "jit") and " (LuaJIT)" or ""), lines, bytes,
      raw / 1024, live / 1024, 100 * raw / bytes, 100 * live / bytes))
    assert.is_true(bytes > 3 * 1024 * 1024, "the file should be several MB, is " .. bytes)
    assert.is_true(live < bytes / 4, string.format("live high-water %d >= 1/4 of %d", live, bytes))
    assert.is_true(raw < bytes / 4, string.format("raw high-water %d >= 1/4 of %d", raw, bytes))
  end)

  it("the same measurement sees a read that holds the whole file (control, 2,000 lines)", function()
    client.messages.batches.retrieve(small.id)
    local path = "/v1/messages/batches/" .. small.id .. "/results"
    local size
    local _, live = measure(function(sample)
      local body = client:_call { method = "GET", path = path, handler = {
        finish = function(op) op:finish(nil, op.req:body()) end,
      } }
      size = #body
      sample()
      sample()
    end, 1)
    assert.is_true(size > 900 * 1024, "the control file is " .. size .. " bytes")
    assert.is_true(live >= size, string.format("live %d < file size %d", live, size))
  end)
end)
