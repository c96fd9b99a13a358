-- bench/gen-fixtures.lua: writes the bytes nginx serves to every benchmark client.
--
--   lua5.4 bench/gen-fixtures.lua OUTDIR
--
-- OUTDIR/www/v1/messages             canned non-streaming Message (~1 KB JSON)
-- OUTDIR/www/sse/long                 20,000 content_block_delta events (workloads b, e-firehose)
-- OUTDIR/www/sse/short                2,000 content_block_delta events (workload c)
-- OUTDIR/www/sse/slow                 1,000 content_block_delta events (workload e, rate-limited)
-- OUTDIR/expected.json                what a correct client must end up with (text byte counts,
--                                     event counts), so bench/run can reject a client that "wins"
--                                     by not decoding.
--
-- Invariants: output is byte-identical on every run and every Lua version (own LCG, no
-- math.random), so numbers from different runs describe the same bytes. Events use the real
-- wire format of the Messages API, including the space padding inside data lines that the real
-- API sends (see spec/fixtures/conformance/sse/python/stream-b-fallback.sse), a ping after
-- content_block_start, occasional "\n" escapes and non-ASCII text.

local outdir = assert(arg[1], "usage: gen-fixtures.lua OUTDIR")

local seed = 20260101
local function rnd(n) -- 1..n; Park-Miller: products stay below 2^53, so 5.1 floats == 5.4 integers
  seed = (seed * 16807) % 2147483647
  return seed % n + 1
end

local words = {
  "the", "Moon", "passes", "between", "Sun", "and", "Earth,", "casting", "a", "shadow",
  "that", "blocks", "some", "or", "all", "of", "light", "for", "viewers", "inside", "it.",
  "Totality", "can", "turn", "day", "into", "twilight", "(for", "few", "minutes),", "corona",
  "becomes", "visible", "to", "naked", "eye", "**Solar", "eclipses**", "happen", "when",
  "ring", "of", "fire", "annular", "partial", "total", "éclipse", "naïve", "—", "“quoted”",
  "tab\there", "`code`", "{json}", "back\\slash", "42", "3.14159", "—and", "so", "on.",
}

local function piece()
  -- A delta's text is a few tokens: 1 to 4 words, sometimes a paragraph break, like the
  -- real API's text_delta sizes (a handful of bytes to a few dozen).
  local t = {}
  for i = 1, rnd(4) do t[i] = words[rnd(#words)] end
  local s = " " .. table.concat(t, " ")
  if rnd(25) == 1 then s = s .. "\n\n" end
  return s
end

-- JSON string escaping for the characters our word list can contain.
local esc = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t" }
local function jstr(s) return '"' .. s:gsub('["\\\n\t]', esc) .. '"' end

local function pad() return string.rep(" ", rnd(17) - 1) end

local function mkdir(p) assert(os.execute("mkdir -p '" .. p .. "'")) end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  assert(f:write(s))
  assert(f:close())
end

local function sse(model, msg_id, ndeltas)
  local out, text, n = {}, {}, 0
  local function ev(name, data)
    n = n + 1
    out[#out + 1] = "event: " .. name .. "\ndata: " .. data .. "\n\n"
  end
  ev("message_start", '{"type":"message_start","message":{"model":"' .. model .. '","id":"' .. msg_id ..
    '","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,' ..
    '"usage":{"input_tokens":31,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,' ..
    '"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,' ..
    '"service_tier":"standard"}}' .. pad() .. "}")
  ev("content_block_start", '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}' ..
    pad() .. "}")
  ev("ping", '{"type": "ping"}')
  for i = 1, ndeltas do
    local s = piece()
    text[i] = s
    ev("content_block_delta", '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":' ..
      jstr(s) .. "}" .. pad() .. "}")
  end
  ev("content_block_stop", '{"type":"content_block_stop","index":0       }')
  ev("message_delta", '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},' ..
    '"usage":{"output_tokens":' .. ndeltas .. "}}")
  ev("message_stop", '{"type":"message_stop"    }')
  local body, full = table.concat(out), table.concat(text)
  return body, { events = n, deltas = ndeltas, text_bytes = #full, body_bytes = #body }
end

-- The canned reply: the shape of a real claude response (cf. the go cassettes in
-- spec/fixtures/conformance/http), about 1 KB.
local reply_text = "Solar eclipses happen when the Moon passes between the Sun and the Earth, casting a " ..
  "shadow that blocks some or all of the Sun's light for viewers inside it.\n\nThe three main types:\n" ..
  "- Total (the Moon completely covers the Sun's disk)\n- Partial (only part of the Sun is covered)\n" ..
  "- Annular (the famous \"ring of fire\")\n\nTotality can turn day into twilight for a few minutes, and " ..
  "the Sun's corona becomes visible to the naked eye. Temperatures drop noticeably while the shadow passes."
local message = '{"model":"claude-sonnet-4-6","id":"msg_01VLZuPg94y7NULJySZhEDJY","type":"message",' ..
  '"role":"assistant","content":[{"type":"text","text":' .. jstr(reply_text) .. '}],' ..
  '"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":402,' ..
  '"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":' ..
  '{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":189,' ..
  '"service_tier":"standard"}}'

mkdir(outdir .. "/www/v1")
mkdir(outdir .. "/www/sse")
write(outdir .. "/www/v1/messages", message)
local long_body, long = sse("claude-sonnet-4-6", "msg_01BenchLongStream000001", 20000)
write(outdir .. "/www/sse/long", long_body)
local short_body, short = sse("claude-sonnet-4-6", "msg_01BenchShortStream00001", 2000)
write(outdir .. "/www/sse/short", short_body)
local slow_body, slow = sse("claude-sonnet-4-6", "msg_01BenchSlowStream000001", 1000)
write(outdir .. "/www/sse/slow", slow_body)

local function obj(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = '"' .. k .. '":' .. t[k] end
  return "{" .. table.concat(keys, ",") .. "}"
end
write(outdir .. "/expected.json", obj {
  message = obj { text_bytes = #reply_text, body_bytes = #message },
  long = obj(long),
  short = obj(short),
  slow = obj(slow),
} .. "\n")
