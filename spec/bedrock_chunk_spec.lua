-- A Bedrock stream's chunks in AWS's own shape ({"bytes":"<base64>"}, with or without its
-- "p" padding) are unwrapped by their bytes in C as they arrive (src/bedrock_chunk.c, run by
-- the transfer: core.bedrock_chunk_bytes is that decoder); every other payload is queued
-- whole as `chunk:json`, which the platform reads with cjson. What a stream gets must be what
-- cjson's reading gives, for every payload: the same bytes when both read one, and the same
-- refusal when the payload is not a chunk.

local anthropic = require "anthropic"
local bedrock_mock = require "anthropic.mock.bedrock"
local cjson = require "cjson"
local edits = require "spec.support.edits"
local core = require "anthropic.core"
local hostile = require "spec.support.hostile"

local ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

-- What cjson makes of a payload: the decoded `bytes`, or nil when it is not a chunk.
local function by_cjson(data)
  local ok, t = pcall(cjson.decode, data)
  local b = ok and type(t) == "table" and t.bytes
  return type(b) == "string" and core.base64_decode(b) or nil
end

local function payload(inner, padding)
  local p = padding and (',"p":"' .. padding .. '"') or ""
  return '{"bytes":"' .. core.base64_encode(inner) .. '"' .. p .. "}"
end

local function random_bytes(n)
  local t = {}
  for i = 1, n do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

describe("Bedrock chunk payloads", function()
  local client, stream_event
  -- What a stream makes of one `chunk` payload: the transfer's unwrapping, else the
  -- platform's cjson reading.
  local function as_streamed(data)
    local bytes = core.bedrock_chunk_bytes(data)
    if bytes then return stream_event("chunk", bytes) end
    return stream_event("chunk:json", data)
  end
  setup(function()
    client = anthropic.bedrock { region = "us-east-1", access_key_id = "AKIDMOCKBUILD",
      secret_access_key = "mock-secret", base_url = "http://127.0.0.1:9" }
    stream_event = client._platform.stream_event
    math.randomseed(20261204)
  end)
  teardown(function() client:close() end)

  it("reads AWS's shape by its bytes, with and without padding, for every length", function()
    for n = 0, 80 do
      local inner = random_bytes(n)
      for _, padding in ipairs({ false, "", ALNUM:sub(1, n % #ALNUM), " !#$%&'()*+,-./:;<=>?@[]^_`{|}~" }) do
        local data = payload(inner, padding or nil)
        assert.are.equal(inner, core.bedrock_chunk_bytes(data), data)
        local name, got = as_streamed(data)
        assert.are.equal("chunk", name)
        assert.are.equal(inner, got)
        -- the same payload read by cjson (a server naming it chunk:json) gives the same
        name, got = stream_event("chunk:json", data)
        assert.are.equal("chunk", name)
        assert.are.equal(inner, got)
      end
    end
    local long = random_bytes(100000)   -- past the C side's stack buffer
    assert.are.equal(long, core.bedrock_chunk_bytes(payload(long, "abc")))
  end)

  it("leaves other JSON to cjson, which reads it as before", function()
    local rows = {
      { '{"bytes":"\\/\\/\\/\\/"}', "\255\255\255" },            -- escapes JSON decodes
      { '{"bytes":"\\u0041AAA"}', "\0\0\0" },
      { '{ "bytes" : "eyJ9" }', "{\"}" },                          -- spacing
      { '{"p":"abc","bytes":"eyJ9"}', "{\"}" },                    -- order
      { '{"bytes":"eyJ9","p":"a\\"b"}', "{\"}" },                  -- an escaped quote in the padding
      { '{"bytes":"eyJ9","p":"\\u00e9"}', "{\"}" },
      { '{"bytes":"eyJ9","p":"a\tb"}', "{\"}" },               -- a raw tab, which cjson lets by
      { '{"bytes":"eyJ9","other":[1,2]}', "{\"}" },
    }
    for _, row in ipairs(rows) do
      assert.is_nil(core.bedrock_chunk_bytes(row[1]), row[1])
      local name, got = as_streamed(row[1])
      assert.are.equal("chunk", name, row[1])
      assert.are.equal(row[2], got, row[1])
    end
  end)

  it("refuses what is not a chunk the same way on both paths", function()
    local rows = {
      "", "not json", "{}", '{"bytes":1}', '{"bytes":"eyJ"}', '{"bytes":"a=b="}',
      '{"bytes":"eyJ9"', '{"bytes":"eyJ9"}}', '{"bytes":"eyJ9","p":"a"b"}',
      '{"bytes":"ey J9"}',
    }
    for _, data in ipairs(rows) do
      assert.is_nil(core.bedrock_chunk_bytes(data), data)
      local name, got, etype, message = as_streamed(data)
      assert.is_nil(name, data)
      assert.are.equal(data, got)
      assert.is_nil(etype)
      assert.are.equal("Bedrock chunk without base64 `bytes`", message)
    end
  end)

  it("agrees with cjson on 20,000 payloads one to three edits away from AWS's shape", function()
    local bytes = { '"', "\\", "}", "{", ",", " ", "\t", "=", "p", ":", "\0", "A", "/", "+", "\127", "\233" }
    local fast, refused = 0, 0
    for _ = 1, 20000 do
      local padding = math.random() < 0.7 and ALNUM:sub(1, math.random(0, 20)) or nil
      local d = payload(random_bytes(math.random(0, 40)), padding)
      d = edits.near(d, bytes)
      local want = by_cjson(d)
      local got = core.bedrock_chunk_bytes(d)
      if got ~= nil then
        fast = fast + 1
        assert.are.equal(want, got, d)
      end
      local name, data = as_streamed(d)
      if want then
        assert.are.equal("chunk", name, d)
        assert.are.equal(want, data, d)
      else
        refused = refused + 1
        assert.is_nil(name, d)
      end
    end
    -- Both paths were exercised: edits that keep the shape (a base64 letter for another)
    -- and edits that break it.
    assert.is_true(fast > 1000, "payloads read by their bytes: " .. fast)
    assert.is_true(refused > 1000, "payloads refused: " .. refused)
  end)
end)

-- The same through a live stream: chunks in AWS's shape (unwrapped in C, text deltas handed
-- over by index), in other JSON (read by cjson), a message a server named chunk:json, and
-- messages of other kinds, served as event-stream frames.
describe("a Bedrock stream's chunks", function()
  local function event_frame(kind, body)
    return bedrock_mock.frame({ { ":event-type", kind }, { ":content-type", "application/json" },
      { ":message-type", "event" } }, body)
  end
  local function encoded(event) return type(event) == "string" and event or cjson.encode(event) end
  local function aws(event) return payload(encoded(event), "abcdef") end
  local function reordered(event)
    return '{"p":"x","bytes":"' .. core.base64_encode(encoded(event)) .. '"}'
  end
  -- A text delta as the API writes it (its members in the API's order).
  local function delta(text)
    return '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":'
      .. cjson.encode(text) .. "}}"
  end
  local START = { type = "message_start", message = { id = "msg_bedrock_chunks", type = "message",
    role = "assistant", model = "claude-sonnet-4-5", content = {}, stop_reason = cjson.null,
    stop_sequence = cjson.null, usage = { input_tokens = 3, output_tokens = 1 } } }
  local BLOCK = { type = "content_block_start", index = 0, content_block = { type = "text", text = "" } }
  local STOP_BLOCK = { type = "content_block_stop", index = 0 }
  local END = { type = "message_delta", delta = { stop_reason = "end_turn", stop_sequence = cjson.null },
    usage = { output_tokens = 6 } }

  local function serve(frames)
    local body = table.concat(frames)
    return hostile.start { repeat_last = true, replies = { hostile.reply(200,
      { "Content-Type: application/vnd.amazon.eventstream" }, body) } }
  end
  local function bedrock_on(srv)
    return anthropic.bedrock { region = "us-east-1", access_key_id = "AKIDMOCKBUILD",
      secret_access_key = "mock-secret", base_url = srv.url, max_retries = 0 }
  end
  local PARAMS = { model = "claude-sonnet-4-5", max_tokens = 16,
    messages = { { role = "user", content = "hi" } } }

  it("reads every shape into one Message, and nothing from a message of another kind", function()
    local srv = serve {
      event_frame("chunk", aws(START)),
      event_frame("chunk", aws(BLOCK)),
      event_frame("chunk", aws(delta("Hel"))),                  -- by its bytes, by index
      event_frame("chunk", reordered(delta("lo"))),             -- cjson
      event_frame("chunk:json", aws(delta(" wor"))),            -- a server's chunk:json: cjson
      event_frame("content_block_delta", delta("NOT A CHUNK")),   -- another kind: nothing
      event_frame("chunk", aws(delta("ld \"quoted\"\n"))),      -- escapes: the full decoder
      event_frame("chunk", payload('{"type":"content_block_delta","index":0,'
        .. '"delta":{"type":"text_delta","text":"\\u00e9"}}')),
      event_frame("chunk", aws(STOP_BLOCK)),
      event_frame("chunk", aws(END)),
      event_frame("chunk", aws({ type = "message_stop" })),
    }
    local c = bedrock_on(srv)
    local s = c.messages.stream(PARAMS)
    local texts = {}
    for ev in s:events() do
      if ev.type == "content_block_delta" then texts[#texts + 1] = ev.delta.text end
    end
    local msg = s:final_message()
    c:close()
    srv.stop()
    assert.are.same({ "Hel", "lo", " wor", "ld \"quoted\"\n", "\195\169" }, texts)
    assert.are.equal("Hello world \"quoted\"\n\195\169", msg.content[1].text)
    assert.are.equal("msg_bedrock_chunks", msg.id)
    assert.are.equal("end_turn", msg.stop_reason)
    assert.are.equal(6, msg.usage.output_tokens)
  end)

  it("a chunk that carries no event ends the stream with an error and the partial message", function()
    local srv = serve {
      event_frame("chunk", aws(START)),
      event_frame("chunk", aws(BLOCK)),
      event_frame("chunk", aws(delta("kept"))),
      event_frame("chunk", '{"bytes":"a=b="}'),
      event_frame("chunk", aws(delta("never"))),
    }
    local c = bedrock_on(srv)
    local s = c.messages.stream(PARAMS)
    local ok, err = pcall(s.final_message, s)
    c:close()
    srv.stop()
    assert.is_false(ok)
    assert.matches("Bedrock chunk without base64 `bytes`", err.message, 1, true)
    assert.are.equal("kept", err.partial.content[1].text)
  end)
end)
