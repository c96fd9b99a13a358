-- anthropic.history: turns a message history as plugins keep it into one the Messages API
-- accepts, without losing what it can keep. Pure functions on tables; the caller's tables are
-- never modified (blocks are copied, nested values such as tool inputs shared).
--
-- The rules, in the order they are applied (docs/conversation.md has them with examples):
--   1. system    messages with role "system" are lifted out, in order, into the system prompt
--                (after the one given); the API has no system role in `messages`
--   2. empty     text blocks with no text are dropped, and so are messages left with no
--                content; an empty string content is no content
--   3. thinking  thinking and redacted_thinking blocks are kept as they are, signatures and all,
--                in their place; a thinking block without a signature cannot be sent back (the
--                API rejects it) and is dropped
--   4. merge     consecutive turns of the same role become one turn, their content in order
--   5. pairing   every tool_result follows its tool_use: in a user turn the tool_result blocks
--                come first; a tool_use whose result is missing from the next user turn gets a
--                tool_result marked is_error (the call never completed); a tool_result whose
--                tool_use is not in the turn before becomes a text block (its text kept)
-- Applying it twice changes nothing more (specs check that).

local errors = require "anthropic.errors"

local M = {}

M.MISSING_RESULT = "(no result: this tool call did not complete)"

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- A content value as a list of block copies ({ } for no content).
local function blocks_of(content, where)
  if type(content) == "string" then
    if content == "" then return {} end
    return { { type = "text", text = content } }
  end
  if type(content) ~= "table" then
    errors.usage(where .. ".content", "must be a string or a list of content blocks")
  end
  local out = {}
  for i, b in ipairs(content) do
    if type(b) ~= "table" then errors.usage(where .. ".content[" .. i .. "]", "must be a content block table") end
    out[#out + 1] = copy(b)
  end
  return out
end

-- The text of a content value (for lifting system messages and orphan tool results).
local function text_of(content)
  if type(content) == "string" then return content end
  local parts = {}
  for _, b in ipairs(type(content) == "table" and content or {}) do
    if type(b) == "table" and b.type == "text" and type(b.text) == "string" then parts[#parts + 1] = b.text end
  end
  return table.concat(parts, "\n")
end

-- Rule 1: the system prompt with the system-role messages appended (a string, or a list of
-- text blocks when the given prompt is one), and the other messages.
local function lift_system(messages, system)
  local lifted, rest = {}, {}
  for i, m in ipairs(messages) do
    local where = "messages[" .. i .. "]"
    if type(m) ~= "table" then errors.usage(where, "must be a table { role = ..., content = ... }") end
    if m.role == "system" then
      local t = text_of(m.content)
      if t ~= "" then lifted[#lifted + 1] = t end
    elseif m.role == "user" or m.role == "assistant" then
      rest[#rest + 1] = { role = m.role, blocks = blocks_of(m.content, where), where = where }
    else
      errors.usage(where .. ".role", "must be 'user', 'assistant' or 'system', got " .. tostring(m.role))
    end
  end
  if #lifted == 0 then return system, rest end
  if type(system) == "table" then
    local s = {}
    for _, b in ipairs(system) do s[#s + 1] = b end
    for _, t in ipairs(lifted) do s[#s + 1] = { type = "text", text = t } end
    return s, rest
  end
  if type(system) == "string" and system ~= "" then table.insert(lifted, 1, system) end
  return table.concat(lifted, "\n\n"), rest
end

-- Rules 2 and 3 on one turn's blocks.
local function keep(b)
  if b.type == "text" then return type(b.text) == "string" and b.text ~= "" end
  if b.type == "thinking" then return type(b.signature) == "string" and b.signature ~= "" end
  return true
end

local function clean(turns)
  local out = {}
  for _, t in ipairs(turns) do
    local kept = {}
    for _, b in ipairs(t.blocks) do if keep(b) then kept[#kept + 1] = b end end
    if #kept > 0 then
      t.blocks = kept
      out[#out + 1] = t
    end
  end
  return out
end

-- Rule 4.
local function merge(turns)
  local out = {}
  for _, t in ipairs(turns) do
    local last = out[#out]
    if last and last.role == t.role then
      for _, b in ipairs(t.blocks) do last.blocks[#last.blocks + 1] = b end
    else
      out[#out + 1] = t
    end
  end
  return out
end

local function tool_use_ids(turn)
  local ids, order = {}, {}
  if turn and turn.role == "assistant" then
    for _, b in ipairs(turn.blocks) do
      if b.type == "tool_use" and type(b.id) == "string" and not ids[b.id] then
        ids[b.id] = true
        order[#order + 1] = b.id
      end
    end
  end
  return ids, order
end

-- Rule 5 on the user turn after `prev` (nil: none before it): results first, orphans to text.
local function pair_results(prev, turn)
  local uses = tool_use_ids(prev)
  local results, others, seen = {}, {}, {}
  for _, b in ipairs(turn.blocks) do
    if b.type == "tool_result" then
      if uses[b.tool_use_id] and not seen[b.tool_use_id] then
        seen[b.tool_use_id] = true
        results[#results + 1] = b
      else
        local t = text_of(b.content)
        if t ~= "" then
          local label = "(result of tool call " .. tostring(b.tool_use_id) .. ") "
          others[#others + 1] = { type = "text", text = label .. t }
        end
      end
    else
      others[#others + 1] = b
    end
  end
  return results, others, seen
end

local function pair(turns)
  for i, t in ipairs(turns) do
    if t.role == "user" then
      local prev = turns[i - 1]
      local results, others, seen = pair_results(prev, t)
      local _, order = tool_use_ids(prev)
      local missing = {}
      for _, id in ipairs(order) do
        if not seen[id] then
          missing[#missing + 1] = { type = "tool_result", tool_use_id = id, is_error = true,
            content = M.MISSING_RESULT }
        end
      end
      local blocks = {}
      for _, b in ipairs(missing) do blocks[#blocks + 1] = b end
      for _, b in ipairs(results) do blocks[#blocks + 1] = b end
      for _, b in ipairs(others) do blocks[#blocks + 1] = b end
      t.blocks = blocks
    end
  end
  -- A last assistant turn with tool_use blocks waits for the caller's results: left as it is.
  return turns
end

-- Back to API messages: a turn that is one text block goes out as a plain string, the form
-- people write; anything else as its list of blocks.
local function plain_text(b)
  for k in pairs(b) do if k ~= "type" and k ~= "text" then return false end end
  return b.type == "text"
end

local function to_messages(turns)
  local out = {}
  for i, t in ipairs(turns) do
    local b = t.blocks
    if #b == 1 and plain_text(b[1]) then
      out[i] = { role = t.role, content = b[1].text }
    else
      out[i] = { role = t.role, content = b }
    end
  end
  return out
end

---@class anthropic.NormalizedHistory
---@field messages table[] the messages, as the API accepts them
---@field system string|table[]|nil the system prompt with any lifted system messages

---Normalises a message history (the rules at the top of this file). Never modifies its input.
---@param messages table[] { role = "user"|"assistant"|"system", content = string|table[] }
---@param system? string|table[] the system prompt the lifted system messages are added to
---@return table[] messages
---@return string|table[]|nil system
function M.normalize(messages, system)
  if type(messages) ~= "table" then errors.usage("messages", "must be a list of messages") end
  if system ~= nil and type(system) ~= "string" and type(system) ~= "table" then
    errors.usage("system", "must be a string or a list of text blocks")
  end
  local sys, turns = lift_system(messages, system)
  turns = merge(clean(turns))
  turns = merge(clean(pair(turns)))   -- pairing may empty a turn (an orphan result with no text)
  turns = pair(turns)
  return to_messages(turns), sys
end

return M
