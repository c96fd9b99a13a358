-- Structured outputs against recorded traffic of the official Python SDK's parse tests
-- (spec/fixtures/conformance/http/python-inline-snapshots/_parse__*: messages.parse and
-- messages.stream with output_config.format json_schema, SDK 0.82.0).
--
-- The recorded request carries the schema as the SDK sent it (already transformed): our
-- for_api must leave it as it is, so the same params give the same request. The recorded reply
-- is served byte for byte by the mock (its replay fault); parse and stream must give the same
-- parsed_output: the first text block's JSON, checked against the schema. Exchanges that were
-- rate limited (the recordings keep the 429s the SDK retried) are skipped.
local anthropic = require "anthropic"
local cjson = require "cjson"
local conformance = require "spec.support.conformance"
local mock = require "spec.support.mock"
local support = require "spec.support.client"

local DIR = conformance.dir() .. "/http/python-inline-snapshots/"
local FILES = {
  "_parse__test_beta_messages__TestAsyncMessages__9381e2b7-7fa1-46f7-9f78-46dc8431ea9d.json",
  "_parse__test_beta_messages__TestAsyncMessages__d7092a7d-b723-4470-8fb0-da138cd103a1.json",
  "_parse__test_messages__TestAsyncParse__924cfccc-c863-44ed-9838-c36b37416eaf.json",
  "_parse__test_messages__TestAsyncParse__d743d628-16aa-4c9f-ae78-51deb578f746.json",
  "_parse__test_messages__TestAsyncStream__a8b7dbb8-2321-4624-abdb-7ba2136b5c38.json",
  "_parse__test_messages__TestSyncParse__bd7029d5-d8d4-4e06-be3a-2ac9c60803a6.json",
  "_parse__test_messages__TestSyncParse__c11eefc7-fff0-4466-8453-42eef73b8876.json",
}

local function exchanges()
  local out = {}
  for _, file in ipairs(FILES) do
    for _, ex in ipairs(cjson.decode(conformance.read(DIR .. file))) do
      if ex.response.status_code == 200 then
        out[#out + 1] = { name = file:match("__(%w+__%x+)") .. (ex.request.body.stream and " (stream)" or ""),
          request = ex.request.body, body = ex.response.body }
      end
    end
  end
  return out
end

-- The first text block of a recorded reply (a Message, or the SSE text of one).
local function recorded_text(body)
  if type(body) == "table" then return body.content[1].text end
  local parts = {}
  for data in body:gmatch("data: ([^\n]+)") do
    local ev = cjson.decode(data)
    if ev.type == "content_block_delta" and ev.delta.type == "text_delta" then parts[#parts + 1] = ev.delta.text end
  end
  return table.concat(parts)
end

describe("structured outputs, replaying the Python SDK's recorded parse traffic", function()
  local tmp = {}
  after_each(function()
    for _, path in ipairs(tmp) do os.remove(path) end
    tmp = {}
  end)

  for _, ex in ipairs(exchanges()) do
    it(ex.name, function()
      mock.clear()
      local path = os.tmpname()
      tmp[#tmp + 1] = path
      local f = assert(io.open(path, "wb"))
      local stream = ex.request.stream == true
      f:write(stream and ex.body or cjson.encode(ex.body))
      f:close()
      local client = support.new_client { default_headers = { ["x-mock-fault"] = cjson.encode {
        replay = path, content_type = not stream and "application/json" or nil } } }
      local sent_schema = ex.request.output_config.format.schema
      local params = { model = ex.request.model, max_tokens = ex.request.max_tokens,
        messages = ex.request.messages, output_config = ex.request.output_config }

      assert.is_nil(conformance.diff(sent_schema, anthropic.schema.for_api(sent_schema)),
        "for_api leaves the SDK's transformed schema as it is")
      local msg
      if stream then
        msg = client.messages.stream(params):final_message()
      else
        msg = client.messages.parse(params)
      end
      client:close()
      local want = cjson.decode(recorded_text(ex.body))
      assert.is_nil(conformance.diff(want, msg.parsed_output))
      assert.is_true(anthropic.schema.check(msg.parsed_output, sent_schema))
      local body = mock.bodies("/v1/messages")[1]
      assert.is_nil(conformance.diff(ex.request.output_config, body.output_config), "the same request")
    end)
  end
end)
