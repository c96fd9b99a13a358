-- anthropic.mock.turns: scripted assistant turns, for testing agents offline.
--
-- The "turns" fault field is a list: element n is what the assistant says on turn n of a
-- conversation. The turn of a request is 1 + the number of assistant messages it carries, so
-- the script follows the conversation itself (a retry or a second client replays the same
-- turn; a pause_turn continuation, which sends the assistant turn back, moves on to the next
-- one). After the list, the ordinary deterministic reply. An element is a string (the text),
-- or an object:
--   text        a text block (first)
--   tool_use    { name, input (default {}), id (default toolu_mock_NNNNNN) }, or a list of them
--   content     instead of text/tool_use: the blocks in order, { type = "text", text } or
--               { type = "tool_use", name, input, id }
--   stop_reason default "tool_use" when a tool is used, else "end_turn" (e.g. "pause_turn",
--               "refusal", "stop_sequence")
--   max_tokens  cut the reply after this many output tokens (one per text piece and per
--               input_json fragment): stop_reason "max_tokens", a tool input cut short streams
--               partial JSON and is {} in the JSON reply
-- The request's own max_tokens and stop_sequences still apply.

local json = require "anthropic.mock.json"

local M = {}

local FIELDS = { text = true, tool_use = true, content = true, stop_reason = true, max_tokens = true }

local function check_tool(t, where)
  if not json.is_object(t) then return where .. ": expected an object" end
  for k in pairs(t) do
    if k ~= "name" and k ~= "input" and k ~= "id" and k ~= "type" then
      return where .. ": unknown field '" .. tostring(k) .. "'"
    end
  end
  if type(t.name) ~= "string" or t.name == "" then return where .. ".name: expected a non-empty string" end
  if t.input ~= nil and not json.is_object(t.input) then return where .. ".input: expected an object" end
  if t.id ~= nil and (type(t.id) ~= "string" or t.id == "") then return where .. ".id: expected a non-empty string" end
  return nil
end

local function check_turn(el, where)
  if type(el) == "string" then return nil end
  if not json.is_object(el) then return where .. ": expected a string or an object" end
  for k in pairs(el) do
    if not FIELDS[k] then return where .. ": unknown field '" .. tostring(k) .. "'" end
  end
  if el.text ~= nil and type(el.text) ~= "string" then return where .. ".text: expected a string" end
  if el.content ~= nil and (el.text ~= nil or el.tool_use ~= nil) then
    return where .. ": use either content or text/tool_use"
  end
  local tu = el.tool_use
  if tu ~= nil then
    if json.is_list(tu) and next(tu) ~= nil then
      for i, t in ipairs(tu) do
        local err = check_tool(t, where .. ".tool_use." .. (i - 1))
        if err then return err end
      end
    else
      local err = check_tool(tu, where .. ".tool_use")
      if err then return err end
    end
  end
  if el.content ~= nil then
    if not json.is_list(el.content) then return where .. ".content: expected a list" end
    for i, b in ipairs(el.content) do
      local bw = where .. ".content." .. (i - 1)
      if not json.is_object(b) then return bw .. ": expected an object" end
      if b.type == "text" then
        if type(b.text) ~= "string" then return bw .. ".text: expected a string" end
      elseif b.type == "tool_use" then
        local err = check_tool(b, bw)
        if err then return err end
      else
        return bw .. ".type: expected \"text\" or \"tool_use\""
      end
    end
  end
  if el.stop_reason ~= nil and type(el.stop_reason) ~= "string" then
    return where .. ".stop_reason: expected a string"
  end
  local mt = el.max_tokens
  if mt ~= nil and (type(mt) ~= "number" or mt < 0 or mt ~= math.floor(mt)) then
    return where .. ".max_tokens: expected an integer >= 0"
  end
  return nil
end

--- check(turns) -> nil, or the message for what is wrong ("turns.1.tool_use.name: ...").
function M.check(turns)
  if not json.is_list(turns) then return "turns: expected a list" end
  for i, el in ipairs(turns) do
    local err = check_turn(el, "turns." .. (i - 1))
    if err then return err end
  end
  return nil
end

--- pick(turns, params) -> the element for this request's turn, or nil past the script.
function M.pick(turns, params)
  local n = 1
  for _, m in ipairs(type(params.messages) == "table" and params.messages or {}) do
    if type(m) == "table" and m.role == "assistant" then n = n + 1 end
  end
  local el = turns[n]
  if type(el) == "string" then return { text = el } end
  return el
end

--- blocks(turn, pieces, fragments, make_id) -> the reply plan's blocks and its stop_reason.
--- pieces/fragments are anthropic.mock.reply's cutters (text into word pieces, JSON into
--- input_json fragments).
function M.blocks(turn, pieces, fragments, make_id)
  local list = turn.content
  if list == nil then
    list = {}
    if turn.text then list[1] = { type = "text", text = turn.text } end
    local tu = turn.tool_use
    if tu ~= nil then
      if not (json.is_list(tu) and next(tu) ~= nil) then tu = { tu } end
      for _, t in ipairs(tu) do
        list[#list + 1] = { type = "tool_use", name = t.name, input = t.input, id = t.id }
      end
    end
  end
  local blocks, uses_tool = {}, false
  for _, b in ipairs(list) do
    if b.type == "text" then
      blocks[#blocks + 1] = { type = "text", pieces = pieces(b.text) }
    else
      uses_tool = true
      local input = b.input or {}
      local text_json = json.encode_spaced(input)
      blocks[#blocks + 1] = { type = "tool_use", name = b.name, input = input, json = text_json,
        id = b.id or (make_id and make_id("toolu")) or "toolu_mock_000000", pieces = fragments(text_json) }
    end
  end
  return blocks, turn.stop_reason or (uses_tool and "tool_use" or "end_turn")
end

return M
