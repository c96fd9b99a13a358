-- anthropic.mock.reply: the deterministic "model".
--
-- plan(params, opts) turns validated Messages parameters into a reply plan:
-- the content blocks (thinking, text, tool_use) already cut into the pieces
-- that become stream deltas, the stop reason and the usage. The same plan
-- feeds the JSON reply (message()) and the SSE stream (anthropic.mock.sse),
-- so both always agree. Same request in, same reply out.
--
-- Rules (docs/mock.md has the user-facing version):
--   text      "You said: <text of the last user message>" (first 2000 bytes),
--             or "The tool returned: <text>" after a tool_result;
--             split into word pieces ("%s*%S+"), one output token each.
--   tool_use  tools given and tool_choice any/tool, or the last user text
--             names a tool (tool_choice auto/absent): a tool_use block whose
--             input satisfies its input_schema; with "auto" it is preceded by
--             a short text block. Its JSON is streamed as input_json_delta
--             fragments (a first "" then pieces of 7,5,9,3,11,... bytes).
--   json      output_config.format json_schema (and no tool call): the text is a JSON
--             document that satisfies the schema (the tool-input rules), streamed in the
--             tool-input fragment sizes; opts.break_schema drops the first required property
--             (or, without one, answers the string "mock-broken"), so checks can be tested.
--   thinking  thinking.type "enabled"/"adaptive": a thinking block first.
--   usage     input_tokens = 4 + ceil(#canonical JSON of system, messages,
--             tools, tool_choice / 4); output_tokens = pieces + fragments.
--   max_tokens cuts the reply at that many output tokens (stop_reason
--             "max_tokens"); stop_sequences cut the text (stop_reason
--             "stop_sequence").

local json = require "anthropic.mock.json"
local schema = require "anthropic.mock.schema"
local turns = require "anthropic.mock.turns"

local M = {}

local MAX_ECHO = 2000

local MESSAGE = json.order({ "model", "id", "type", "role", "content", "stop_reason", "stop_sequence", "usage" })
local USAGE = json.order({ "input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
  "cache_creation", "output_tokens", "service_tier" })
local CACHE = json.order({ "ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens" })
local TEXT = json.order({ "type", "text" })
local TOOL = json.order({ "type", "id", "name", "input" })
local THINK = json.order({ "type", "thinking", "signature" })
M.ORDER = { MESSAGE = MESSAGE, USAGE = USAGE, CACHE = CACHE, TEXT = TEXT, TOOL = TOOL, THINK = THINK }

-- pieces(text) -> list of strings whose concatenation is text
function M.pieces(text)
  local out = {}
  for p in text:gmatch("%s*%S+") do out[#out + 1] = p end
  if #out == 0 then
    if text ~= "" then out[1] = text end
    return out
  end
  local trailing = text:match("%s+$")
  if trailing then out[#out] = out[#out] .. trailing end
  return out
end

-- cut s to at most n bytes without splitting a UTF-8 sequence
local function utf8_cut(s, n)
  if #s <= n then return s end
  local i = n
  while i > 0 do
    local b = s:byte(i + 1)
    if not b or b < 0x80 or b >= 0xC0 then break end
    i = i - 1
  end
  return s:sub(1, i) .. "..."
end

local function content_text(content, with_results)
  if type(content) == "string" then return content, false end
  local parts, has_result = {}, false
  if type(content) ~= "table" then return "", false end
  for _, b in ipairs(content) do
    if type(b) == "table" then
      if b.type == "text" and type(b.text) == "string" then
        parts[#parts + 1] = b.text
      elseif b.type == "tool_result" then
        has_result = true
        if with_results then parts[#parts + 1] = (content_text(b.content or "", false)) end
      end
    end
  end
  return table.concat(parts, " "), has_result
end

-- last_user(params) -> text (text blocks only), has_tool_result, result_text
function M.last_user(params)
  local msgs = params.messages or {}
  for i = #msgs, 1, -1 do
    local m = msgs[i]
    if type(m) == "table" and m.role == "user" then
      local text, has_result = content_text(m.content, false)
      local result_text = ""
      if has_result then
        local parts = {}
        for _, b in ipairs(m.content) do
          if type(b) == "table" and b.type == "tool_result" then
            parts[#parts + 1] = (content_text(b.content or "", false))
          end
        end
        result_text = table.concat(parts, " ")
      end
      return text, has_result, result_text
    end
  end
  return "", false, ""
end

local function custom_tools(params)
  local out = {}
  if type(params.tools) ~= "table" then return out end
  for _, t in ipairs(params.tools) do
    if type(t) == "table" and (t.type == nil or t.type == "custom") and type(t.name) == "string" then
      out[#out + 1] = t
    end
  end
  return out
end

-- pick_tool(params, user_text, has_result) -> tool, forced | nil
function M.pick_tool(params, user_text, has_result)
  local tools = custom_tools(params)
  if #tools == 0 then return nil end
  local tc = type(params.tool_choice) == "table" and params.tool_choice or {}
  if tc.type == "none" then return nil end
  if tc.type == "tool" then
    for _, t in ipairs(tools) do if t.name == tc.name then return t, true end end
    return nil
  end
  local mentioned
  for _, t in ipairs(tools) do
    if user_text:find(t.name, 1, true) then mentioned = t; break end
  end
  if tc.type == "any" then return mentioned or tools[1], true end
  if has_result then return nil end
  return mentioned, false
end

local SIZES = { 7, 5, 9, 3, 11 }

-- fragments(s) -> pieces of s at several places (never empty pieces)
function M.fragments(s)
  local out, i, k = {}, 1, 1
  while i <= #s do
    local n = SIZES[(k - 1) % #SIZES + 1]
    out[#out + 1] = s:sub(i, i + n - 1)
    i, k = i + n, k + 1
  end
  return out
end

function M.input_tokens(params)
  local t = { system = params.system, messages = params.messages, tools = params.tools,
    tool_choice = params.tool_choice }
  local s = json.encode(t)
  return 4 + math.ceil(#s / 4)
end

local function word_pieces(base, n)
  local words = {}
  for w in base:gmatch("%S+") do words[#words + 1] = w end
  if #words == 0 then words[1] = "mock" end
  local out = {}
  for k = 1, n do
    out[k] = (k == 1 and "" or " ") .. words[(k - 1) % #words + 1]
  end
  return out
end

-- The schema of a json_schema output format, or nil.
local function output_schema(params)
  local oc = type(params.output_config) == "table" and params.output_config
  local f = oc and type(oc.format) == "table" and oc.format
  if f and f.type == "json_schema" and type(f.schema) == "table" then return f.schema end
  return nil
end

-- The JSON document answering a json_schema format; broken = it misses the schema.
local function structured_text(s, broken)
  local value = schema.value(s)
  if broken then
    local first = type(s.required) == "table" and s.required[1]
    if type(value) == "table" and type(first) == "string" then
      value[first] = nil
    else
      value = "mock-broken"
    end
  end
  return json.encode(value)
end

-- plan(params, opts) -> plan
-- opts.deltas (exact text piece count), opts.text (exact reply text),
-- opts.stop_reason (override), opts.make_id(kind) (tool_use ids, signatures),
-- opts.break_schema (a json_schema answer that misses its schema),
-- opts.turn (a scripted turn from anthropic.mock.turns: its blocks replace the rules above).
function M.plan(params, opts)
  opts = opts or {}
  local user_text, has_result, result_text = M.last_user(params)
  local blocks = {}

  local th = type(params.thinking) == "table" and params.thinking.type
  if th == "enabled" or th == "adaptive" then
    blocks[#blocks + 1] = { type = "thinking",
      pieces = M.pieces("Thinking about: " .. utf8_cut(user_text ~= "" and user_text or "(no text)", 200)),
      signature = opts.make_id and opts.make_id("sig") or "sig_mock_000000" }
  end

  local tool, forced, text, stop_reason, stop_sequence
  if opts.turn then
    -- A scripted turn (anthropic.mock.turns) says what the blocks are; stops and max_tokens
    -- still apply below.
    local scripted
    scripted, stop_reason = turns.blocks(opts.turn, M.pieces, M.fragments, opts.make_id)
    for _, b in ipairs(scripted) do blocks[#blocks + 1] = b end
  else
    tool, forced = M.pick_tool(params, user_text, has_result)
  end
  if opts.turn then
    text = nil
  elseif opts.text then
    text = opts.text
  elseif tool then
    text = not forced and ("I'll use the " .. tool.name .. " tool.") or nil
  elseif has_result then
    text = "The tool returned: " .. (result_text ~= "" and utf8_cut(result_text, MAX_ECHO) or "(nothing)")
  else
    text = "You said: " .. (user_text ~= "" and utf8_cut(user_text, MAX_ECHO) or "(no text)")
  end
  local out_schema = not opts.turn and not opts.text and not tool and output_schema(params)
  if out_schema then
    blocks[#blocks + 1] = { type = "text", pieces = M.fragments(structured_text(out_schema, opts.break_schema)) }
  elseif opts.deltas and not opts.turn then
    blocks[#blocks + 1] = { type = "text", pieces = word_pieces(text or "mock", opts.deltas) }
  elseif text then
    blocks[#blocks + 1] = { type = "text", pieces = M.pieces(text) }
  end

  if not opts.turn then stop_reason = tool and "tool_use" or "end_turn" end

  -- stop_sequences cut the (last) text block and drop what follows
  if type(params.stop_sequences) == "table" and #params.stop_sequences > 0 then
    for bi, b in ipairs(blocks) do
      if b.type == "text" then
        local full = table.concat(b.pieces)
        local best, seq
        for _, s in ipairs(params.stop_sequences) do
          if type(s) == "string" and s ~= "" then
            local at = full:find(s, 1, true)
            if at and (not best or at < best) then best, seq = at, s end
          end
        end
        if best then
          b.pieces = M.pieces(full:sub(1, best - 1))
          for j = #blocks, bi + 1, -1 do blocks[j] = nil end
          stop_reason, stop_sequence = "stop_sequence", seq
          tool = nil
          break
        end
      end
    end
  end

  if tool then
    local input = schema.value(type(tool.input_schema) == "table" and tool.input_schema or {})
    if type(input) ~= "table" or json.is_list(input) and next(input) ~= nil then input = {} end
    local text_json = json.encode_spaced(input)
    blocks[#blocks + 1] = { type = "tool_use", name = tool.name, input = input, json = text_json,
      id = opts.make_id and opts.make_id("toolu") or "toolu_mock_000000",
      pieces = M.fragments(text_json) }
  end

  -- max_tokens: each piece / fragment is one output token
  local budget = math.floor(tonumber(params.max_tokens) or math.huge)
  if opts.turn and opts.turn.max_tokens then budget = math.min(budget, opts.turn.max_tokens) end
  local used = 0
  for bi, b in ipairs(blocks) do
    local n = #b.pieces
    if not (opts.deltas and not opts.turn and b.type == "text") and used + n > budget then
      local keep = math.max(0, budget - used)
      for j = #b.pieces, keep + 1, -1 do b.pieces[j] = nil end
      b.partial = true
      for j = #blocks, bi + 1, -1 do blocks[j] = nil end
      used = used + keep
      stop_reason, stop_sequence = "max_tokens", nil
      break
    end
    used = used + n
  end

  return {
    blocks = blocks,
    stop_reason = opts.stop_reason or stop_reason,
    stop_sequence = stop_sequence,
    input_tokens = M.input_tokens(params),
    output_tokens = math.max(used, 1),
  }
end

function M.usage(plan, output_tokens)
  return json.obj(USAGE, {
    input_tokens = plan.input_tokens, cache_creation_input_tokens = 0, cache_read_input_tokens = 0,
    cache_creation = json.obj(CACHE, { ephemeral_5m_input_tokens = 0, ephemeral_1h_input_tokens = 0 }),
    output_tokens = output_tokens or plan.output_tokens, service_tier = "standard",
  })
end

-- block_json(block) -> the finished content block (for the JSON reply)
function M.block_value(b)
  if b.type == "text" then
    return json.obj(TEXT, { type = "text", text = table.concat(b.pieces) })
  elseif b.type == "thinking" then
    return json.obj(THINK, { type = "thinking", thinking = table.concat(b.pieces), signature = b.signature })
  else
    local input = b.partial and {} or b.input
    return json.obj(TOOL, { type = "tool_use", id = b.id, name = b.name, input = input })
  end
end

-- message(plan, id, model_id) -> Message table (encode with anthropic.mock.json)
function M.message(plan, id, model_id)
  local content = json.array()
  for i, b in ipairs(plan.blocks) do content[i] = M.block_value(b) end
  return json.obj(MESSAGE, {
    model = model_id, id = id, type = "message", role = "assistant", content = content,
    stop_reason = plan.stop_reason, stop_sequence = plan.stop_sequence or json.null,
    usage = M.usage(plan),
  })
end

return M
