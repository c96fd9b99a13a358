-- The tool runner against recorded tool-runner traffic of the official SDKs
-- (spec/fixtures/conformance/http: Python's inline snapshots, TypeScript's nock recordings).
--
-- Each recorded reply is served by the mock byte for byte (its "replay" fault, one element of a
-- sequence per turn); the runner gets the recorded first request as its params and tools that
-- return what the SDK's test tools returned. Then every request the runner sent must equal the
-- recorded request of that turn: the assistant turn sent back, and tool_result blocks in the
-- same order, with the same tool_use_id, content and is_error.
local anthropic = require "anthropic"
local cjson = require "cjson"
local conformance = require "spec.support.conformance"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local HTTP = conformance.dir() .. "/http/"

local function load(rel)
  return cjson.decode(conformance.read(HTTP .. rel))
end

-- { requests = { body, ... }, replies = { { body = text, content_type = ... }, ... } }
local function python(id)
  local name
  for _, f in ipairs { "092be1de-d3f8-4c22-a4ea-a7ad54689836", "10e53c1d-51be-4c64-b5bf-99adb3fa4719",
    "555fb399-a54c-455b-9ac5-2c9673f18e12", "a8ac789b-f856-48cd-9ff3-d5f36799e432",
    "e075a6c2-de4d-4125-9709-f0e178058190" } do
    if f:sub(1, #id) == id then name = f end
  end
  local rec = { requests = {}, replies = {} }
  for i, ex in ipairs(load("python-inline-snapshots/tools__test_runners__TestSyncRunTools__" .. name .. ".json")) do
    rec.requests[i] = ex.request.body
    local body = ex.response.body
    rec.replies[i] = type(body) == "string" and { body = body, content_type = "text/event-stream" }
      or { body = cjson.encode(body), content_type = "application/json" }
  end
  return rec
end

local function typescript(first)
  local all = load("typescript/ToolRunner.nock.json")
  local rec = { requests = {}, replies = {} }
  for i = first, first + 1 do
    rec.requests[#rec.requests + 1] = all[i].body
    rec.replies[#rec.replies + 1] = { body = cjson.encode(all[i].response), content_type = "application/json" }
  end
  return rec
end

-- The test tools of the Python suite: json.dumps of a fixed report (Python escapes the degree sign).
local function py_weather(input)
  return string.format('{"location": "%s", "temperature": "%s", "condition": "Sunny"}', input.location,
    input.units == "c" and "20\\u00b0C" or "68\\u00b0F")
end

local CASES = {
  { "python: one tool, its result as text", python("a8ac789b"), py_weather },
  { "python: text before the tool_use, two turns of tools", python("e075a6c2"), py_weather },
  { "python: a server_tool_use block beside the tool_use is left to the server", python("092be1de"), py_weather },
  { "python: a tool that raises gives is_error with its text", python("10e53c1d"),
    function() error("RuntimeError('Unexpected error, try again')", 0) end },
  { "python: streamed turns", python("555fb399"), py_weather, stream = true },
  { "typescript: one tool", typescript(1), function() return "Tool result" end },
  { "typescript: two tool_use blocks, two results in order", typescript(3),
    function(input) return "Called with " .. input.count end },
  { "typescript: a tool whose property is named input", typescript(5), function() return "Tool result" end },
}

-- The recorded request without the fields a Lua request leaves out (TypeScript sends
-- "stream": false on a create).
local function comparable(body)
  local out = {}
  for k, v in pairs(body) do if k ~= "stream" then out[k] = v end end
  return out
end

describe("tool runner, replaying recorded SDK traffic", function()
  local tmp = {}
  before_each(function() mock.clear() end)
  after_each(function()
    for _, path in ipairs(tmp) do os.remove(path) end
    tmp = {}
  end)

  for _, case in ipairs(CASES) do
    it(case[1], function()
      local rec, run = case[2], case[3]
      local sequence = {}
      for i, reply in ipairs(rec.replies) do
        local path = os.tmpname()
        tmp[#tmp + 1] = path
        local f = assert(io.open(path, "wb"))
        f:write(reply.body)
        f:close()
        sequence[i] = { replay = path, content_type = reply.content_type }
      end
      local client = support.new_client {
        default_headers = { ["x-mock-fault"] = cjson.encode { sequence = sequence } } }
      local first = rec.requests[1]
      local params = { model = first.model, max_tokens = first.max_tokens, messages = first.messages, tools = {} }
      for i, def in ipairs(first.tools) do
        local t = {}
        for k, v in pairs(def) do t[k] = v end
        t.run = run
        params.tools[i] = anthropic.tool(t)
      end
      local runner = client.messages.tool_runner(params, { max_iterations = #rec.requests, stream = case.stream })
      runner:run_until_done()

      local sent = mock.bodies()
      assert.equal(#rec.requests, #sent)
      for i, want in ipairs(rec.requests) do
        assert.equal(want.stream == true, sent[i].stream == true)
        local diff = conformance.diff(comparable(want), comparable(sent[i]))
        assert(diff == nil, "request " .. i .. ": " .. tostring(diff))
      end
      -- the runner's conversation is what the SDK sent, plus the last turn and its tool results
      local last = rec.requests[#rec.requests]
      for i, m in ipairs(last.messages) do
        assert.is_nil(conformance.diff(m, runner.params.messages[i]))
      end
    end)
  end
end)
