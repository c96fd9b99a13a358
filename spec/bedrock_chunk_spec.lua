-- A Bedrock stream's chunks in AWS's own shape ({"bytes":"<base64>"}, with or without its
-- "p" padding) are read by their bytes in C (core.bedrock_chunk_bytes, src/bedrock_chunk.c);
-- every other payload goes through cjson. What a stream gets must be what cjson's reading
-- gives, for every payload: the same bytes when both read one, and the same refusal when
-- the payload is not a chunk.

local anthropic = require "anthropic"
local cjson = require "cjson"
local edits = require "spec.support.edits"
local core = require "anthropic.core"

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
        local name, got = stream_event("chunk", data)
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
      local name, got = stream_event("chunk", row[1])
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
      local name, got, etype, message = stream_event("chunk", data)
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
      local name, data = stream_event("chunk", d)
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
