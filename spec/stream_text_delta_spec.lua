-- A stream's text deltas in the API's own frame are read without decoding them into tables
-- (src/text_delta.c through take_events' text_deltas and core.text_delta, json.decode_string
-- for escaped text, Stream:_on_text_delta, Accumulator:add_text). What the caller
-- gets must be what the full decode gives: the same text, events, order and errors, for the
-- frame with the API's padding, for every escape, for text that mimics the frame's end, and for
-- deltas of other shapes (which take the full decode). Each stream here is served by the mock
-- from a transcript this spec writes, and read four ways: final_message, events(), on_text and
-- on_event.

local anthropic = require "anthropic"
local cjson = require "cjson"
local edits = require "spec.support.edits"
local json = require "anthropic.json"
local Accumulator = require "anthropic.accumulator"
local support = require "spec.support.client"
local mock = require "spec.support.mock"

local errors = anthropic.errors

local PARAMS = { model = "claude-haiku-4-5", max_tokens = 64, messages = { { role = "user", content = "Hi" } } }
local FRAME = '{"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":'

local function event(name, data) return "event: " .. name .. "\ndata: " .. data .. "\n\n" end

-- An SSE transcript: one text block per entry of `blocks` (a list of the data lines of its
-- deltas, in the order given; an entry { index = i, data = d } sends d as is).
local function transcript(deltas, nblocks)
  local out = { event("message_start", '{"type":"message_start","message":{"id":"msg_1","type":"message",'
    .. '"role":"assistant","model":"claude-haiku-4-5","content":[],"stop_reason":null,'
    .. '"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}') }
  for i = 0, (nblocks or 1) - 1 do
    out[#out + 1] = event("content_block_start",
      ('{"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}'):format(i))
  end
  for _, d in ipairs(deltas) do out[#out + 1] = event("content_block_delta", d) end
  for i = 0, (nblocks or 1) - 1 do
    out[#out + 1] = event("content_block_stop", ('{"type":"content_block_stop","index":%d}'):format(i))
  end
  out[#out + 1] = event("message_delta", '{"type":"message_delta","delta":{"stop_reason":"end_turn",'
    .. '"stop_sequence":null},"usage":{"output_tokens":5}}')
  out[#out + 1] = event("message_stop", '{"type":"message_stop"}')
  return table.concat(out)
end

local files = {}
local function replay_of(body, extra)
  local path = os.tmpname()
  files[#files + 1] = path
  local f = assert(io.open(path, "wb"))
  f:write(body)
  f:close()
  return support.fault({ replay = path, chunk = "random", seed = 11 }, extra)
end

-- What the full decode makes of the deltas: each block's text, and the deltas' texts in order.
local function expected_texts(deltas, nblocks)
  local blocks, seq = {}, {}
  for i = 1, nblocks or 1 do blocks[i] = "" end
  for _, d in ipairs(deltas) do
    local ev = cjson.decode(d)
    blocks[ev.index + 1] = blocks[ev.index + 1] .. ev.delta.text
    seq[#seq + 1] = ev.delta.text
  end
  return blocks, seq
end

local function block_texts(msg)
  local out = {}
  for i, b in ipairs(msg.content) do out[i] = b.text end
  return out
end

describe("text deltas in the API's frame", function()
  local client
  setup(function() client = support.new_client() end)
  teardown(function()
    client:close()
    for _, p in ipairs(files) do os.remove(p) end
  end)

  -- Reads the stream of `deltas` four ways and checks each against the full decode.
  local function check_all_ways(deltas, nblocks)
    local blocks, seq = expected_texts(deltas, nblocks)
    local body = transcript(deltas, nblocks)

    local msg = client.messages.stream(PARAMS, replay_of(body)):final_message()
    assert.are.same(blocks, block_texts(msg))

    local s = client.messages.stream(PARAMS, replay_of(body))
    local got = {}
    for ev in s:events() do
      if ev.type == "content_block_delta" then got[#got + 1] = ev end
    end
    assert.are.equal(#deltas, #got)
    for i, d in ipairs(deltas) do
      local want = cjson.decode(d)
      assert.are.same(want, got[i])
      assert.are.equal(math.type and "integer" or "number", math.type and math.type(got[i].index) or type(got[i].index))
    end
    assert.are.same(blocks, block_texts(s:final_message()))

    local texts, snaps = {}, {}
    local op = client.messages.stream(PARAMS, replay_of(body, {
      on_text = function(t, snap) texts[#texts + 1] = t; snaps[#snaps + 1] = snap end,
    }))
    while not op:is_done() do client:poll(50) end
    assert.are.same(seq, texts)
    assert.are.same(blocks, block_texts(op:final_message()))
    if (nblocks or 1) == 1 then assert.are.equal(blocks[1], snaps[#snaps]) end

    local on_event = {}
    op = client.messages.stream(PARAMS, replay_of(body, {
      on_event = function(ev) if ev.type == "content_block_delta" then on_event[#on_event + 1] = ev end end,
    }))
    while not op:is_done() do client:poll(50) end
    assert.are.equal(#deltas, #on_event)
    for i, d in ipairs(deltas) do assert.are.same(cjson.decode(d), on_event[i]) end
  end

  local function framed(index, literal, tail) return FRAME:format(index) .. literal .. (tail or "}}") end

  it("reads the frame with and without the API's padding", function()
    check_all_ways {
      framed(0, '"Hello"'), framed(0, '" there"', "}        }"), framed(0, '","', "} }"),
      framed(0, '"!"', "}" .. string.rep(" ", 64) .. "}"), framed(0, '"?"', "}" .. string.rep(" ", 65) .. "}"),
    }
  end)

  it("decodes every escape as cjson does", function()
    check_all_ways {
      framed(0, '"start"'), framed(0, [["line\nbreak\ttab\r"]]), framed(0, [["quote \" and backslash \\"]]),
      framed(0, [["\u00e9\u4e2d\ud83d\ude00 \/ \b\f"]]), framed(0, '"naïve ☃"'), framed(0, '""'),
      framed(0, [["ends in a backslash \\"]], "}   }"),
    }
  end)

  it("is not fooled by text that looks like the frame's end", function()
    check_all_ways {
      framed(0, '"a"'), framed(0, [["x\"}  }"]]), framed(0, [["\"}"]], "}  }"),
      framed(0, [["\"}}"]]), framed(0, [["}} \"} }"]], "} }"),
    }
  end)

  it("takes the full decode for deltas of any other shape, with the same result", function()
    check_all_ways {
      framed(0, '"a"'),
      framed(0, '"b","extra":1'),                                                 -- another key after the text
      framed(0, '"c"', "}\t}"), framed(0, '"d"', "}} "), framed(0, '"e"', " }}"),  -- other whitespace
      framed(0, ' "f"'),                                                           -- a space before the text
      '{"index":0,"type":"content_block_delta","delta":{"text":"g","type":"text_delta"}}',
      '{"type":"content_block_delta", "index":0, "delta":{"type":"text_delta","text":"h"}}',
      '{"type":"content_block_delta","index":0.0,"delta":{"type":"text_delta","text":"i"}}',
      framed(0, '"j"'),
    }
  end)

  it("follows the index from block to block, and back", function()
    check_all_ways({
      framed(0, '"zero "'), framed(0, '"more "'), framed(1, '"one "'), framed(1, '"more "'),
      framed(0, '"back to zero"'), framed(1, '" and one"'),
    }, 2)
  end)

  it("reads the same from Bedrock, whose events arrive named chunk", function()
    local bedrock = anthropic.bedrock { region = "us-east-1", access_key_id = "AKIDMOCKBUILD",
      secret_access_key = "mock-aws-secret-build", base_url = mock.url(), max_retries = 0 }
    local deltas = { framed(0, '"a"'), framed(0, [["\"}  }"]], "}   }"), framed(0, [["\u00e9\n"]]),
      framed(0, '"b","extra":1'), framed(0, '"c"') }
    local blocks = expected_texts(deltas)
    local msg = bedrock.messages.stream(PARAMS, replay_of(transcript(deltas))):final_message()
    assert.are.same(blocks, block_texts(msg))
    bedrock:close()
  end)

  it("ignores a framed delta without an event name, or named ping, as the full path does", function()
    local body = transcript { framed(0, '"kept "') }
    body = body:gsub("(event: content_block_stop)", "data: " .. framed(0, '"unnamed "') .. "\n\n"
      .. event("ping", framed(0, '"ping "')) .. "%1", 1)
    local msg = client.messages.stream(PARAMS, replay_of(body)):final_message()
    assert.are.equal("kept ", msg.content[1].text)
  end)

  it("fails a framed delta that is not JSON as the full decode does", function()
    for _, bad in ipairs { framed(0, [["unterminated\"]]), framed(0, '"bad \\x escape"'), framed(0, '"a" "b"'),
      framed(0, '"x"', "}x}"), framed(0, '"x"', "}}}"), framed(0, '"x"', "}\v}"), framed(0, '"x"', "} .}"),
      -- cjson takes a NUL for the end of its input: a string holding one ends the document
      framed(0, '"x"\0 y"'), framed(0, '"x\0y"') } do
      local body = transcript { framed(0, '"ok "'), bad }
      local ok, err = pcall(function() return client.messages.stream(PARAMS, replay_of(body)):final_message() end)
      assert.is_false(ok, bad)
      assert.is_true(errors.StreamError.is_class_of(err), tostring(err))
      assert.truthy(err.message:find("is not JSON", 1, true), err.message)
      assert.are.equal("ok ", err.partial.content[1].text)
    end
  end)

  it("fails a framed delta whose text is not a string as the full decode does", function()
    local body = transcript { framed(0, '"ok "'), framed(0, "5") }
    local ok, err = pcall(function() return client.messages.stream(PARAMS, replay_of(body)):final_message() end)
    assert.is_false(ok)
    assert.truthy(err.message:find("text_delta without text", 1, true), err.message)
  end)
end)

describe("json.decode_string", function()
  it("decodes exactly one JSON string, and nothing else", function()
    assert.are.equal("a\nb\"é", json.decode_string([["a\nb\"\u00e9"]]))
    assert.are.equal("", json.decode_string('""'))
    assert.are.equal("x", json.decode_string(' "x" '))
    for _, no in ipairs { '"a" "b"', '"a', "5", "null", '{"a":1}', '["a"]', "", '"\\q"', '"a"}' } do
      assert.is_nil(json.decode_string(no), no)
    end
  end)
end)

describe("Accumulator:add_text", function()
  local function started()
    local acc = Accumulator.new()
    assert(acc:apply(cjson.decode('{"type":"message_start","message":{"id":"m","type":"message",'
      .. '"role":"assistant","model":"x","content":[],"stop_reason":null,"stop_sequence":null,'
      .. '"usage":{"input_tokens":1,"output_tokens":1}}}')))
    assert(acc:apply { type = "content_block_start", index = 0, content_block = { type = "text", text = "" } })
    assert(acc:apply { type = "content_block_start", index = 1,
      content_block = { type = "thinking", thinking = "", signature = "" } })
    return acc
  end

  it("appends to a text block once its first delta made the buffer", function()
    local acc = started()
    assert.is_false(acc:add_text(0, "first"), "the block's first delta takes apply")
    assert.are.equal("text", (acc:apply { type = "content_block_delta", index = 0,
      delta = { type = "text_delta", text = "first" } }))
    assert.is_true(acc:add_text(0, " second"))
    assert.is_true(acc:add_text(0.0, " third"))
    assert.are.equal("first second third", acc:message().content[1].text)
  end)

  it("changes nothing for what is not the common case", function()
    local acc = started()
    acc:apply { type = "content_block_delta", index = 0, delta = { type = "text_delta", text = "t" } }
    acc:apply { type = "content_block_delta", index = 1, delta = { type = "thinking_delta", thinking = "th" } }
    local cases = { { 1, "x" }, { 2, "x" }, { -1, "x" }, { 0.5, "x" }, { 0 / 0, "x" }, { math.huge, "x" },
      { "0", "x" }, { 0, 5 }, { 0, nil } }
    for _, args in ipairs(cases) do
      assert.is_false(acc:add_text(args[1], args[2]), tostring(args[1]) .. ", " .. tostring(args[2]))
    end
    assert.are.equal("t", acc:message().content[1].text)
    assert.are.equal("th", acc:message().content[2].thinking)
    acc:apply { type = "content_block_stop", index = 0 }
    acc:apply { type = "content_block_stop", index = 1 }
    acc:apply { type = "message_delta", delta = { stop_reason = "end_turn" }, usage = { output_tokens = 2 } }
    acc:apply { type = "message_stop" }
    assert.is_false(acc:add_text(0, "late"))
    assert.are.equal("t", acc:message().content[1].text)
  end)
end)

-- core.text_delta (src/text_delta.c), the frame's reader for every path: what it reads must be
-- what cjson reads, and what it leaves must be left whole.
describe("core.text_delta", function()
  local core = require "anthropic.core"

  -- cjson's reading of data when it is the frame's document: index, text; else nil.
  local function by_cjson(data)
    local ok, ev = pcall(cjson.decode, data)
    if not ok or type(ev) ~= "table" or ev.type ~= "content_block_delta" then return nil end
    local d = ev.delta
    if type(d) ~= "table" or d.type ~= "text_delta" or type(d.text) ~= "string" then return nil end
    return ev.index, d.text
  end

  it("leaves a string with a NUL whole, since cjson stops reading there", function()
    assert.is_nil(core.text_delta(FRAME:format(0) .. '"ab"\0 x"}}'))
    assert.is_nil(core.text_delta(FRAME:format(0) .. '"a\0b"}}'))
    assert.are.equal("ab", json.decode_string('"ab"\0 x"'))   -- the quirk it avoids
  end)

  it("reads plain text as it is and hands escaped text to cjson", function()
    local index, text, quoted = core.text_delta(FRAME:format(3) .. '"Hi there"}   }')
    assert.are.same({ 3, "Hi there" }, { index, text })
    assert.is_nil(quoted)
    index, text, quoted = core.text_delta(FRAME:format(0) .. '"a\\nb\\"c"}}')
    assert.are.equal(0, index)
    assert.is_nil(text)
    assert.are.equal('"a\\nb\\"c"', quoted)
    assert.are.equal('a\nb"c', json.decode_string(quoted))
    assert.is_nil(core.text_delta('{"type":"content_block_delta","index":0}'))
  end)

  it("agrees with cjson on 20,000 frames one to three edits away from the API's", function()
    math.randomseed(20261204)
    local bytes = { '"', "\\", "}", "{", ",", " ", "\t", "\n", ":", "\0", "0", "1", "a", "\127", "\233", "u" }
    local read, left = 0, 0
    for _ = 1, 20000 do
      local words = {}
      for w = 1, math.random(0, 4) do words[w] = ("x"):rep(math.random(0, 6)) end
      local d = FRAME:format(math.random(0, 120)) .. cjson.encode(table.concat(words, " ")) .. "}"
        .. (" "):rep(math.random(0, 3) == 0 and math.random(0, 66) or 0) .. "}"
      d = edits.near(d, bytes)
      local index, text, quoted = core.text_delta(d)
      if index then
        read = read + 1
        if quoted then text = json.decode_string(quoted) end
        local want_index, want_text = by_cjson(d)
        -- A string cjson refuses (bad escapes, or two strings: `"a","x":"b"`) leaves the
        -- event to the full decode, which stream.lua then does.
        if text ~= nil then assert.are.same({ want_index, want_text }, { index, text }, d) end
      else
        left = left + 1
      end
    end
    assert.is_true(read > 500, "frames read: " .. read)
    assert.is_true(left > 1000, "frames left whole: " .. left)
  end)
end)
