-- client:usage() (issue 20): every Messages request counted once, when it ends, per model and
-- in total: creates, streams (message_delta's final counts), tool-runner turns, fallback steps,
-- batch results as they are read; errors too; reset; derived clients; the CLI's --usage.
local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local support = require "spec.support.client"
local usage = require "anthropic.usage"

local HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-6"
local raises, fault = support.raises, support.fault

local function params(model, extra)
  local p = { model = model or HAIKU, max_tokens = 32, messages = { { role = "user", content = "Hello there" } } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local ZERO = { requests = 0, errors = 0, input_tokens = 0, output_tokens = 0,
               cache_creation_input_tokens = 0, cache_read_input_tokens = 0 }

-- The counts a list of Usage tables adds up to, for `requests` requests of which `errors` failed.
local function counts(requests, errors, usages)
  local c = { requests = requests, errors = errors, input_tokens = 0, output_tokens = 0,
              cache_creation_input_tokens = 0, cache_read_input_tokens = 0 }
  for _, u in ipairs(usages) do
    for k in pairs(c) do
      if k ~= "requests" and k ~= "errors" and type(u[k]) == "number" then c[k] = c[k] + u[k] end
    end
  end
  return c
end

describe("client:usage()", function()
  local client
  before_each(function()
    mock.clear()
    client = support.new_client()
  end)
  after_each(function() client:close() end)

  it("starts at zero, with no model rows", function()
    assert.same({ total = ZERO, models = {} }, client:usage())
  end)

  it("counts a create under its model: the reply's usage, one request", function()
    local msg = client.messages.create(params())
    assert.is_true(msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0)
    local u = client:usage()
    assert.same(counts(1, 0, { msg.usage }), u.total)
    assert.same(counts(1, 0, { msg.usage }), u.models[HAIKU])
  end)

  it("counts a stream once, with message_delta's final output_tokens", function()
    local s = client.messages.stream(params())
    local final = s:final_message()
    local u = client:usage()
    assert.equal(1, u.total.requests)
    assert.is_true(final.usage.output_tokens > 1, "the final count comes from message_delta")
    assert.same(counts(1, 0, { final.usage }), u.models[HAIKU])
  end)

  it("counts a non-blocking stream when it ends, not before", function()
    local done
    local s = client.messages.stream(params(), { on_done = function(err, msg) done = { err, msg } end })
    assert.equal(0, client:usage().total.requests)
    while not s:is_done() do client:poll(50) end
    assert.is_nil(done[1])
    assert.same(counts(1, 0, { done[2].usage }), client:usage().total)
  end)

  it("counts a failed request as a request and an error of its model, with no tokens", function()
    local err = raises(client.messages.create, params(), fault { status = 400, error_type = "invalid_request_error" })
    assert.equal("BadRequest", err.class_name)
    assert.same(counts(1, 1, {}), client:usage().models[HAIKU])
  end)

  it("counts a stream that failed after content as an error with the tokens it delivered", function()
    local s = client.messages.stream(params(), fault { error_after = 2 })
    local err = raises(s.final_message, s)
    assert.equal("StreamError", err.class_name)
    assert.is_table(err.partial.usage)
    assert.same(counts(1, 1, { err.partial.usage }), client:usage().total)
  end)

  it("counts a stream the caller closed after content as a request, not an error, with its tokens so far", function()
    local s = client.messages.stream(params(), fault { event_delay_ms = 100 })
    local ev = s:next_event()
    while ev and ev.type ~= "content_block_delta" do ev = s:next_event() end
    local snapshot = s:current_message()
    assert.is_false(s:is_done())
    s:close()
    local u = client:usage().total
    assert.equal(1, u.requests)
    assert.equal(0, u.errors)
    assert.equal(snapshot.usage.input_tokens, u.input_tokens)
  end)

  it("counts each retried request once: attempts are the core's, not requests", function()
    local c = support.new_client { max_retries = 2 }
    local msg = c.messages.create(params(),
      fault { sequence = { { status = 529, headers = { ["retry-after-ms"] = "5" } } } })
    assert.equal(2, msg._response.attempts)
    assert.same(counts(1, 0, { msg.usage }), c:usage().total)
    c:close()
  end)

  it("counts a fallback per model actually sent: the denied model's error, then the answer", function()
    local fallback = require "anthropic.fallback"
    local msg = fallback.create(client, params(SONNET), { models = { SONNET, HAIKU }, ttl = 0 })
    local u = client:usage()
    assert.same(counts(1, 1, {}), u.models[SONNET])
    assert.same(counts(1, 0, { msg.usage }), u.models[HAIKU])
    assert.same(counts(2, 1, { msg.usage }), u.total)
  end)

  for _, streamed in ipairs { false, true } do
    it("counts a tool-runner turn once (each turn is a " .. (streamed and "stream" or "create")
      .. "): two turns, two requests", function()
      local c = support.scripted {
        { text = "Looking.", tool_use = { name = "t", input = {}, id = "toolu_1" } }, "Done." }
      local tool = anthropic.tool { name = "t", input_schema = { type = "object" }, run = function() return "ok" end }
      local runner = c.messages.tool_runner(params(HAIKU, { tools = { tool } }), { stream = streamed })
      local usages = {}
      for m in runner:messages() do usages[#usages + 1] = m.usage end
      assert.equal(2, #usages)
      assert.same(counts(2, 0, usages), c:usage().total)
      c:close()
    end)
  end

  it("counts batch results as they are read, under each result's model", function()
    local b = client.messages.batches.create({ requests = {
      { custom_id = "a", params = params(HAIKU) }, { custom_id = "b", params = params(HAIKU) },
    } }, { headers = { ["x-mock-fault"] = '{"batch_pending_polls":0}' } })
    local before = client:usage()
    assert.equal(0, before.total.requests, "creating a batch spends nothing yet")
    local usages = {}
    for entry in client.messages.batches.results(b.id) do
      assert.equal("succeeded", entry.result.type)
      usages[#usages + 1] = entry.result.message.usage
    end
    assert.same(counts(2, 0, usages), client:usage().models[HAIKU])
  end)

  it("returns a copy: later requests do not change a report already taken", function()
    local first = client:usage()
    client.messages.create(params())
    assert.same(ZERO, first.total)
  end)

  it("usage{ reset = true } returns the counts and clears them", function()
    local msg = client.messages.create(params())
    local u = client:usage { reset = true }
    assert.same(counts(1, 0, { msg.usage }), u.total)
    assert.same({ total = ZERO, models = {} }, client:usage())
  end)

  it("refuses unknown options and a non-table", function()
    assert.equal("options.rest: unknown option", raises(client.usage, client, { rest = true }).message)
    assert.equal("options: must be a table { reset = true }", raises(client.usage, client, true).message)
  end)

  it("a derived client counts its own, and its parent counts everything", function()
    local child = client:with_options { timeout = 30 }
    local m1 = client.messages.create(params())
    local m2 = child.messages.create(params())
    assert.same(counts(1, 0, { m2.usage }), child:usage().total)
    assert.same(counts(2, 0, { m1.usage, m2.usage }), client:usage().total)
    child:usage { reset = true }
    assert.same(counts(2, 0, { m1.usage, m2.usage }), client:usage().total, "the parent's counts stay")
  end)
end)

describe("anthropic.usage ledger", function()
  it("adds every token field, cache ones included, per model and in total", function()
    local l = usage.ledger()
    usage.record(l, "m1", { input_tokens = 10, output_tokens = 5, cache_creation_input_tokens = 100,
      cache_read_input_tokens = 7 }, false)
    usage.record(l, "m2", { input_tokens = 1, output_tokens = 2, cache_read_input_tokens = 3 }, true)
    local r = usage.report(l)
    assert.same({ requests = 1, errors = 0, input_tokens = 10, output_tokens = 5,
      cache_creation_input_tokens = 100, cache_read_input_tokens = 7 }, r.models.m1)
    assert.same({ requests = 2, errors = 1, input_tokens = 11, output_tokens = 7,
      cache_creation_input_tokens = 100, cache_read_input_tokens = 10 }, r.total)
  end)

  it("ignores counts that are not non-negative numbers (a proxy's null or string)", function()
    local l = usage.ledger()
    usage.record(l, "m", { input_tokens = cjson.null, output_tokens = "9", cache_read_input_tokens = -3 }, false)
    usage.record(l, nil, { input_tokens = 1 / 0, output_tokens = 0 / 0, cache_creation_input_tokens = true }, false)
    assert.same(counts(2, 0, {}), usage.report(l).total)
    assert.is_table(usage.report(l).models.unknown, "no model: counted under unknown")
  end)

  it("counts an errored batch result as an error, canceled and expired ones not at all", function()
    local l = usage.ledger()
    usage.record_batch_entry(l, { custom_id = "a", result = { type = "errored", error = {} } })
    usage.record_batch_entry(l, { custom_id = "b", result = { type = "canceled" } })
    usage.record_batch_entry(l, { custom_id = "c", result = { type = "expired" } })
    assert.same(counts(1, 1, {}), usage.report(l).total)
  end)

  it("formats the report for a person: the total, then each model, sorted", function()
    local l = usage.ledger()
    usage.record(l, "b-model", { input_tokens = 3, output_tokens = 4 }, false)
    usage.record(l, "a-model", { input_tokens = 1, output_tokens = 2 }, true)
    assert.equal("usage: 2 requests (1 failed), input 4, output 6, cache write 0, cache read 0\n"
      .. "  a-model: 1 request (1 failed), input 1, output 2, cache write 0, cache read 0\n"
      .. "  b-model: 1 request, input 3, output 4, cache write 0, cache read 0", usage.format(usage.report(l)))
  end)
end)

describe("anthropic-lua --usage", function()
  local cli = require("spec.support.cli").run

  it("prints the usage on stderr after the answer, never on stdout", function()
    mock.clear()
    local stdout, stderr, code = cli({ "ask", "--usage", "-m", HAIKU, "--fallback", "", "Hi" })
    assert.equal(0, code, stderr)
    assert.is_nil(stdout:find("usage:", 1, true))
    local line = stderr:match("usage: 1 request, input %d+, output %d+, cache write 0, cache read 0")
    assert.is_string(line, stderr)
    assert.is_string(stderr:match("\n  " .. HAIKU:gsub("%-", "%%-") .. ": 1 request"), stderr)
  end)

  it("prints nothing of it without --usage", function()
    local _, stderr, code = cli({ "ask", "-m", HAIKU, "--fallback", "", "Hi" })
    assert.equal(0, code, stderr)
    assert.is_nil(stderr:find("usage:", 1, true))
  end)
end)
