-- anthropic.bulk.run (issue 20) against a mock of its own: input checks before anything is
-- sent, splitting by request count and by bytes, results to on_result with the summary,
-- per-item outcomes (the mock's metadata.user_id "mock-outcome:..." markers), retry_errored,
-- iterator input, a job driven by client:poll from a task, resume after an error in on_result,
-- a POST whose reply was lost (the lookup of the batch it created), and two real kill -9 cases
-- of a child process (mid-delivery, and between the POST and the record of its batch id).

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local support = require "spec.support.client"
local run = require "spec.support.run"

local errors = anthropic.errors
local raises = support.raises
local HAIKU = "claude-haiku-4-5"

local server

local function new_client()
  return anthropic.new { api_key = mock.KEYS.free, base_url = server.url, max_retries = 0 }
end

local function request(i, outcome)
  local p = { model = HAIKU, max_tokens = 16, messages = { { role = "user", content = "question " .. i } } }
  if outcome then p.metadata = { user_id = "mock-outcome:" .. outcome } end
  return { custom_id = string.format("item-%03d", i), params = p }
end

local function requests(n, outcomes)
  local list = {}
  for i = 1, n do list[i] = request(i, outcomes and outcomes[i]) end
  return list
end

-- The batch creates the mock answered 200, each as its list of custom_ids.
local function created()
  local out = {}
  for _, r in ipairs(mock.requests(server.url)) do
    if r.method == "POST" and r.path == "/v1/messages/batches" and r.status == 200 then
      local ids = {}
      for i, q in ipairs(cjson.decode(r.body).requests) do ids[i] = q.custom_id end
      out[#out + 1] = ids
    end
  end
  return out
end

-- The mock's counts of batches and requests created (GET /_mock/batches).
local function stats()
  local _, _, raw = mock.request("GET", "/_mock/batches", {}, nil, { url = server.url })
  local v = cjson.decode(raw)
  return { created = v.created, requests = v.requests }
end

local function tmp_state()
  local path = os.tmpname()
  os.remove(path)
  return path
end

local FAST = 0.02       -- poll interval in these specs, seconds

setup(function() server = mock.spawn({}) end)
teardown(function() server.stop() end)

describe("anthropic.bulk.run input", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear(server.url)
  end)
  after_each(function() client:close() end)

  local function with(list, i, r)
    list[i] = r
    return list
  end
  local big = string.rep("x", 2000)
  local rows = {
    { "not a list", "x", {},
      "requests: must be a list or an iterator function of { custom_id = ..., params = { ... } }" },
    { "an empty list", {}, {}, "requests: must hold at least one request" },
    { "a missing custom_id", with(requests(3), 2, { params = request(2).params }), {},
      "requests[2].custom_id: must be a string" },
    { "a duplicate custom_id", with(requests(3), 3, request(1)), {},
      'requests[3].custom_id: "item-001" is also the custom_id of requests[1]; each must be unique' },
    { "bad params", with(requests(2), 2, { custom_id = "x", params = { model = HAIKU, messages = {} } }), {},
      "requests[2].params.max_tokens: must be a positive integer" },
    { "an unknown field", with(requests(2), 1, { custom_id = "a", params = request(1).params, extra = 1 }), {},
      "requests[1].extra: unknown field" },
    { "a request larger than a batch may be", with(requests(2), 2,
      { custom_id = "big", params = { model = HAIKU, max_tokens = 5,
        messages = { { role = "user", content = big } } } }),
      { max_bytes = 1000 }, nil },
    { "an unknown option", requests(1), { poll = 1 }, "opts.poll: unknown option" },
    { "a poll_interval of 0", requests(1), { poll_interval = 0 },
      "opts.poll_interval: must be a number of seconds > 0 and at most 31536000" },
    { "max_requests above the API's limit", requests(1), { max_requests = 100001 },
      "opts.max_requests: must be an integer from 1 to 100000" },
    { "on_done in the request options", requests(1), { options = { on_done = print } },
      "opts.options.on_done: use opts.on_done: the job calls back once" },
    { "a bad request option", requests(1), { options = { timeout = -1 } },
      "opts.options.timeout: must be a number of seconds > 0 and at most 31536000" },
    { "request options not a table", requests(1), { options = 5 }, "opts.options: must be a table" },
  }
  for _, row in ipairs(rows) do
    it("raises UsageError for " .. row[1] .. " before sending anything", function()
      local err = raises(anthropic.bulk.run, client, row[2], row[3])
      assert.is_true(errors.UsageError.is_class_of(err), tostring(err))
      if row[4] then
        assert.are.equal(row[4], err.message)
      else
        assert.matches("^requests%[2%]: is %d+ bytes encoded, more than one batch may hold %(opts.max_bytes 1000%)$",
          err.message)
      end
      assert.are.same({}, mock.requests(server.url))
    end)
  end

  it("reads an iterator to its end and checks it all before sending: a late duplicate sends nothing", function()
    local list, i = with(requests(50), 50, request(7)), 0
    local err = raises(anthropic.bulk.run, client, function() i = i + 1; return list[i] end, {})
    assert.are.equal('requests[50].custom_id: "item-007" is also the custom_id of requests[7]; each must be unique',
      err.message)
    assert.are.same({}, mock.requests(server.url))
  end)
end)

describe("anthropic.bulk.run", function()
  local client
  before_each(function()
    client = new_client()
    mock.clear(server.url)
  end)
  after_each(function() client:close() end)

  it("splits by max_requests, delivers every result once and sums them up", function()
    local got = {}
    local s = anthropic.bulk.run(client, requests(25), { max_requests = 10, poll_interval = FAST,
      on_result = function(id, result, info)
        assert.is_nil(got[id])
        got[id] = result
        assert.matches("^msgbatch_", info.batch_id)
        assert.is_nil(info.redelivery)
      end })
    local sizes = {}
    for i, ids in ipairs(created()) do sizes[i] = #ids end
    assert.are.same({ 10, 10, 5 }, sizes)
    for i = 1, 25 do
      local r = got[string.format("item-%03d", i)]
      assert.are.equal("succeeded", r.type)
      assert.are.equal("You said: question " .. i, r.message.content[1].text)
    end
    assert.are.same({ succeeded = 25, errored = 0, canceled = 0, expired = 0, retried = 0, total = 25 },
      { succeeded = s.succeeded, errored = s.errored, canceled = s.canceled, expired = s.expired,
        retried = s.retried, total = s.total })
    assert.are.equal(3, #s.batch_ids)
    assert.are.same({ id = s.batch_ids[3], requests = 5, retry = false }, s.batches[3])
  end)

  it("splits by max_bytes: every body within it, every request in exactly one batch", function()
    local LIMIT = 1500
    anthropic.bulk.run(client, requests(30), { max_bytes = LIMIT, poll_interval = FAST })
    local seen, n = {}, 0
    for _, r in ipairs(mock.requests(server.url)) do
      if r.method == "POST" then
        assert.is_true(#r.body <= LIMIT, #r.body .. " > " .. LIMIT)
        assert.is_true(#r.body > LIMIT / 2, "batches are filled: " .. #r.body)
        for _, q in ipairs(cjson.decode(r.body).requests) do
          assert.is_nil(seen[q.custom_id])
          seen[q.custom_id], n = true, n + 1
        end
      end
    end
    assert.are.equal(30, n)
    assert.is_true(#created() >= 3)
  end)

  it("counts errored, canceled and expired results as the batch gave them", function()
    local outcomes = { [2] = "errored:invalid_request_error", [3] = "canceled", [4] = "expired",
      [5] = "errored:overloaded_error" }
    local types = {}
    local s = anthropic.bulk.run(client, requests(6, outcomes), { poll_interval = FAST,
      on_result = function(id, result) types[id] = result.type end })
    assert.are.same({ ["item-001"] = "succeeded", ["item-002"] = "errored", ["item-003"] = "canceled",
      ["item-004"] = "expired", ["item-005"] = "errored", ["item-006"] = "succeeded" }, types)
    assert.are.same({ 2, 2, 1, 1, 0 }, { s.succeeded, s.errored, s.canceled, s.expired, s.retried })
  end)

  it("retry_errored resubmits the retryable errors once, in a later batch, and delivers the outcome", function()
    local outcomes = { [2] = "errored_once:overloaded_error", [3] = "errored:invalid_request_error",
      [4] = "errored:api_error" }
    local got = {}
    local s = anthropic.bulk.run(client, requests(5, outcomes), { poll_interval = FAST, retry_errored = true,
      on_result = function(id, result)
        assert.is_nil(got[id], id .. " delivered twice")
        got[id] = result.type
      end })
    -- 2 failed once and then succeeded; 4 failed twice (delivered errored); 3 is not retryable
    assert.are.same({ ["item-001"] = "succeeded", ["item-002"] = "succeeded", ["item-003"] = "errored",
      ["item-004"] = "errored", ["item-005"] = "succeeded" }, got)
    assert.are.same({ { "item-001", "item-002", "item-003", "item-004", "item-005" }, { "item-002", "item-004" } },
      created())
    assert.are.same({ 3, 2, 2 }, { s.succeeded, s.errored, s.retried })
    assert.are.same({ false, true }, { s.batches[1].retry, s.batches[2].retry })
  end)

  it("without retry_errored delivers a retryable error as it is", function()
    local s = anthropic.bulk.run(client, requests(2, { [1] = "errored_once:overloaded_error" }),
      { poll_interval = FAST })
    assert.are.equal(1, s.errored)
    assert.are.equal(1, #created())
  end)

  it("a failed results download or retrieval (5xx) is tried again in a later round; none delivered twice", function()
    -- the requests carrying this header: create, retrieve (in progress), retrieve -> 503; retrieve
    -- (ended), results (its retrieve, then the download -> 500); retrieve, results in full
    local flaky = { headers = { ["x-mock-fault"] = '{"sequence":[{},{},{"status":503},{},{},{"status":500}]}' } }
    local got = {}
    local s = anthropic.bulk.run(client, requests(4), { poll_interval = FAST, options = flaky,
      on_result = function(id)
        assert.is_nil(got[id], id .. " delivered twice")
        got[id] = true
      end })
    assert.are.equal(4, s.succeeded)
    local seen = {}
    for _, r in ipairs(mock.requests(server.url)) do
      seen[#seen + 1] = r.method .. " " .. (r.path:match("/results$") and "results" or r.path:match("/batches$")
        and "batches" or "batch") .. " " .. string.format("%d", r.status)
    end
    assert.are.same({ "POST batches 200", "GET batch 200", "GET batch 503", "GET batch 200", "GET batch 200",
      "GET results 500", "GET batch 200", "GET batch 200", "GET results 200" }, seen)
  end)

  it("a results download cut off after 3 lines: the next round reads on from line 4", function()
    -- the 5th request carrying this header is the first download (after create and 3 retrievals)
    local cut = { headers = { ["x-mock-fault"] = '{"sequence":[{},{},{},{},{"close_after":3}]}' } }
    local order = {}
    local s = anthropic.bulk.run(client, requests(6), { poll_interval = FAST, options = cut,
      on_result = function(id) order[#order + 1] = id end })
    assert.are.same({ "item-001", "item-002", "item-003", "item-004", "item-005", "item-006" }, order)
    assert.are.equal(6, s.succeeded)
    local downloads = 0
    for _, r in ipairs(mock.requests(server.url)) do
      if r.path:match("/results$") then downloads = downloads + 1 end
    end
    assert.are.equal(2, downloads)
  end)

  it("a failure that stays gives up after submit_attempts tries, with the API's error", function()
    local down = { headers = {
      ["x-mock-fault"] = '{"sequence":[{},{},{"status":503},{"status":503},{"status":503}]}' } }
    local err = raises(anthropic.bulk.run, client, requests(2), { poll_interval = FAST, options = down,
      submit_attempts = 3 })
    assert.is_true(errors.InternalServerError.is_class_of(err), tostring(err))
    assert.are.equal(503, err.status)
  end)

  it("with on_done runs as a task that client:poll drives, without blocking the host", function()
    local done, got_err, summary, frames = false, nil, nil, 0
    local task = anthropic.bulk.run(client, requests(12), { max_requests = 5, poll_interval = FAST,
      on_done = function(err, s) done, got_err, summary = true, err, s end })
    assert.is_false(task:is_done())
    while not done do
      frames = frames + 1
      client:poll(10)
    end
    assert.is_nil(got_err)
    assert.are.equal(12, summary.succeeded)
    assert.is_true(frames > 3, "the host ran " .. frames .. " frames")
    assert.are.equal(0, client:poll(0))
  end)

  it("in a task, other requests of the host run and finish while the job waits for its batches", function()
    local slow = { headers = { ["x-mock-fault"] = '{"batch_end_ms":400}' } }
    local job_done, answer_at, job_at = false, nil, nil
    anthropic.bulk.run(client, requests(3), { poll_interval = 0.05, options = slow,
      on_done = function(err)
        assert.is_nil(err)
        job_done, job_at = true, #mock.requests(server.url)
      end })
    client.messages.create({ model = HAIKU, max_tokens = 8, messages = { { role = "user", content = "meanwhile" } } },
      { on_done = function(err, m)
        assert.is_nil(err)
        assert.are.equal("You said: meanwhile", m.content[1].text)
        answer_at = #mock.requests(server.url)
      end })
    while not job_done do client:poll(20) end
    assert.is_number(answer_at)
    assert.is_true(answer_at < job_at, "the create finished while the job waited")
  end)

  it("sleeps between polls of a batch that takes time to end (no busy loop)", function()
    local slow = { headers = { ["x-mock-fault"] = '{"batch_end_ms":300}' } }
    local t0 = require("anthropic.core").now_ms()
    anthropic.bulk.run(client, requests(3), { poll_interval = 0.1, options = slow })
    local ms = require("anthropic.core").now_ms() - t0
    local gets = 0
    for _, r in ipairs(mock.requests(server.url)) do
      if r.method == "GET" and r.path:match("^/v1/messages/batches/msgbatch_[%w_]+$") then gets = gets + 1 end
    end
    assert.is_true(ms >= 300, ms .. " ms")
    -- One retrieval per poll_interval (100 ms) at most, plus the first: a busy loop makes
    -- hundreds. Bounded by the time the job really took, which a loaded machine stretches.
    assert.is_true(gets >= 2 and gets <= ms / 100 + 2, gets .. " retrievals in " .. ms .. " ms")
  end)
end)

describe("anthropic.bulk.run with a state file", function()
  local client, state
  before_each(function()
    client = new_client()
    mock.clear(server.url)
    state = tmp_state()
  end)
  after_each(function()
    client:close()
    os.remove(state)
  end)

  it("after an error in on_result, a rerun redelivers only the interrupted result, flagged, submits nothing", function()
    local first = {}
    local err = raises(anthropic.bulk.run, client, requests(20), { state_file = state, max_requests = 8,
      poll_interval = FAST, on_result = function(id)
        if #first == 11 then error("disk full") end
        first[#first + 1] = id
      end })
    assert.matches("disk full", tostring(err))
    assert.are.equal(0, client:inflight())       -- the results download stopped with the job
    local posts = #created()
    local again, flagged = {}, {}
    local s = anthropic.bulk.run(client, requests(20), { state_file = state, max_requests = 8, poll_interval = FAST,
      on_result = function(id, _, info)
        again[#again + 1] = id
        if info.redelivery then flagged[#flagged + 1] = id end
      end })
    assert.are.equal(posts, #created())
    assert.are.same({ "item-012" }, flagged)
    assert.are.equal("item-012", again[1])
    local all = {}
    for _, id in ipairs(first) do all[#all + 1] = id end
    for _, id in ipairs(again) do all[#all + 1] = id end
    assert.are.equal(20, #all)
    for i = 1, 20 do assert.are.equal(string.format("item-%03d", i), all[i]) end
    assert.are.equal(20, s.succeeded)
    -- a finished job run again delivers nothing and sends nothing
    mock.clear(server.url)
    local s2 = anthropic.bulk.run(client, requests(20), { state_file = state, max_requests = 8,
      on_result = function() error("delivered again") end })
    assert.are.same(s.batch_ids, s2.batch_ids)
    assert.are.same({}, mock.requests(server.url))
  end)

  it("refuses another job's state file before sending anything, and holds no key", function()
    anthropic.bulk.run(client, requests(3), { state_file = state, poll_interval = FAST })
    local f = assert(io.open(state))
    local text = f:read("*a")
    f:close()
    assert.are.equal(1, cjson.decode(text).version)
    assert.is_nil(text:find("sk-ant", 1, true))
    assert.is_nil(text:find("question", 1, true))
    mock.clear(server.url)
    local err = raises(anthropic.bulk.run, client, requests(4), { state_file = state })
    assert.are.equal("opts.state_file: " .. state .. " belongs to another job (its requests differ from these); "
      .. "delete it to start the job afresh", err.message)
    assert.are.same({}, mock.requests(server.url))
  end)

  it("a POST whose reply was lost: the batch it created is found and adopted, not submitted again", function()
    -- the first POST's reply comes after the client's timeout; the mock created the batch
    local lost = { timeout = 0.4, headers = { ["x-mock-fault"] = '{"sequence":[{"delay_ms":1200}]}' } }
    local got = {}
    local s = anthropic.bulk.run(client, requests(7), { state_file = state, max_requests = 4, poll_interval = FAST,
      options = lost, betas = { "beta-1", "beta-2" }, on_result = function(id) got[#got + 1] = id end })
    assert.are.same({ { "item-001", "item-002", "item-003", "item-004" }, { "item-005", "item-006", "item-007" } },
      created())
    local listed = false
    for _, r in ipairs(mock.requests(server.url)) do    -- betas on every call, the lookup's listing too
      assert.are.equal("beta-1,beta-2", r.headers["anthropic-beta"], r.method .. " " .. r.path)
      listed = listed or (r.method == "GET" and r.path == "/v1/messages/batches")
    end
    assert.is_true(listed)
    assert.are.equal(7, #got)
    assert.are.equal(7, s.succeeded)
  end)
end)

describe("anthropic.bulk.run killed with kill -9", function()
  local dir, state, log, progress
  before_each(function()
    mock.clear(server.url)
    dir = os.tmpname()
    state, log, progress = dir .. ".state", dir .. ".log", dir .. ".progress"
  end)
  after_each(function()
    for _, p in ipairs { dir, state, log, progress, state .. ".tmp" } do os.remove(p) end
  end)

  local function child_cmd(stop_after, fault, mode)
    return string.format("%s %s %s %s %s %s %d %s %s", run.interpreter(),
      run.quote(mock.root() .. "/spec/support/bulk_child.lua"),
      run.quote(server.url), run.quote(state), run.quote(log), run.quote(progress), stop_after, run.quote(fault or ""),
      run.quote(mode or ""))
  end

  -- Starts the child in the background; returns its pid.
  local function start(stop_after, fault, mode)
    local p = assert(io.popen("exec " .. child_cmd(stop_after, fault, mode) .. " >/dev/null 2>&1 </dev/null & echo $!"))
    local pid = tonumber(p:read("*l"))
    p:close()
    return pid
  end

  local function wait_for(what, fn)
    local t0 = os.time()
    while not fn() do
      assert(os.time() - t0 < 30, "timed out waiting for " .. what)
      os.execute("sleep 0.05")
    end
  end

  -- Alive and not a zombie (the child is orphaned, and init may take a while to reap it).
  local function running(pid)
    local f = io.open("/proc/" .. pid .. "/stat")
    if not f then return false end
    local stat = f:read("*l") or ""
    f:close()
    local pstate = stat:match("%)%s+(%a)")
    return pstate ~= nil and pstate ~= "Z" and pstate ~= "X"
  end

  local function kill9(pid)
    os.execute("kill -9 " .. pid .. " 2>/dev/null")
    wait_for("the child to die", function() return not running(pid) end)
  end

  local function delivered()
    local ids, f = {}, io.open(log)
    if f then
      for l in f:lines() do ids[#ids + 1] = l:match("^(%S+)") end
      f:close()
    end
    return ids
  end

  -- Each of the n results delivered exactly once (the log), and each request in exactly one
  -- created batch (the mock's log), `twice` (custom_id -> true) in two: the retried ones.
  local function assert_exactly_once(n, format, twice)
    format, twice = format or "item-%03d", twice or {}
    local count = {}
    for _, id in ipairs(delivered()) do count[id] = (count[id] or 0) + 1 end
    for i = 1, n do
      local id = string.format(format, i)
      assert.are.equal(1, count[id], id .. " delivered " .. tostring(count[id]) .. " times")
    end
    assert.are.equal(n, #delivered())
    local in_batches = {}
    for _, ids in ipairs(created()) do
      for _, id in ipairs(ids) do in_batches[id] = (in_batches[id] or 0) + 1 end
    end
    for i = 1, n do
      local id = string.format(format, i)
      assert.are.equal(twice[id] and 2 or 1, in_batches[id], id .. " in " .. tostring(in_batches[id]) .. " batches")
    end
  end

  it("mid-delivery: the rerun delivers the rest, none twice, none lost, and submits no batch again", function()
    local before = stats()
    local pid = start(13)
    wait_for("13 results", function() return io.open(progress) ~= nil end)
    kill9(pid)
    assert.are.equal(13, #delivered())
    local batches_before = #created()
    local out, code = run.command(child_cmd(0))
    assert.are.equal(0, code, out)
    -- the 13th was being delivered when the child died: offered again, flagged, and skipped
    assert.matches("^done 30 3 skipped 1\n", out)
    assert.are.equal(3, #created())
    assert.is_true(batches_before >= 2)
    assert_exactly_once(30)
    local after = stats()
    assert.are.same({ created = 3, requests = 30 },
      { created = after.created - before.created, requests = after.requests - before.requests })
  end)

  it("between the POST and the record of its batch id: the rerun adopts that batch", function()
    -- the first create's reply is held for 5 s; the child dies while it waits for it
    local before = stats()
    local pid = start(0, '{"sequence":[{"delay_ms":5000}]}')
    wait_for("the first POST", function()
      for _, r in ipairs(mock.requests(server.url)) do if r.method == "POST" then return true end end
    end)
    os.execute("sleep 0.3")
    kill9(pid)
    local f = assert(io.open(state))
    local st = cjson.decode(f:read("*a"))
    f:close()
    assert.is_number(st.batches[1].intent_at)
    assert.is_nil(st.batches[1].id)
    local out, code = run.command(child_cmd(0))
    assert.are.equal(0, code, out)
    assert.matches("^done 30 3 ", out)
    assert.are.equal(3, #created())
    assert_exactly_once(30)
    local after = stats()
    assert.are.same({ created = 3, requests = 30 },
      { created = after.created - before.created, requests = after.requests - before.requests })
  end)
  it("killed again and again at one of its first state saves, before or after the rename, until a run ends "
    .. "the job: every result once, none submitted twice", function()
      -- Run r dies at its save 1..6 (cycling), before the rename for six runs, after it for the
      -- next six: the job moves a few saves per run, so the kills fall all along it.
      local runs, kills, before = 0, {}, stats()
      while true do
        local k, when = runs % 6 + 1, math.floor(runs / 6) % 2 == 0 and "before" or "after"
        local out, code = run.command(child_cmd(0, nil, "retry"), { BULK_DIE_AT = k .. ":" .. when })
        runs = runs + 1
        if code == 0 then
          assert.matches("^done 30 ", out)
          break
        end
        assert.are.equal(137, code, out)        -- 128 + SIGKILL
        kills[when] = (kills[when] or 0) + 1
        assert.is_true(runs < 200, "the job does not end")
      end
      print(string.format("\n  [bulk kill -9] %d runs killed at a save (%d before its rename, %d after), "
        .. "the last ran to the end", runs - 1, kills.before or 0, kills.after or 0))
      assert.is_true(runs > 12, "only " .. runs .. " runs")
      assert_exactly_once(30, "rnd-%03d", { ["rnd-007"] = true, ["rnd-019"] = true })
      -- three batches of 10, and one retry batch each for rnd-007 and rnd-019
      local after = stats()
      assert.are.same({ created = 5, requests = 32 },
        { created = after.created - before.created, requests = after.requests - before.requests })
    end)
end)

