-- anthropic.mock.validate: request-body checks for /v1/messages,
-- /v1/messages/count_tokens and each request of a batch.
--
-- Returns the first problem as the real API words it: the field path first
-- ("messages.0.role: Input should be 'user' or 'assistant'"), in the
-- pydantic style the API uses, or the API's own sentences where the recorded
-- traffic shows them (tool_result / tool_use pairing, empty content).
-- Model existence, permissions and the per-model max_tokens ceiling are
-- checked later by the handler (they need the config).

local json = require "anthropic.mock.json"
local sources = require "anthropic.mock.sources"

local M = {}

local null = json.null

local function is_int(v) return type(v) == "number" and v == math.floor(v) end

local BLOCK_TYPES = {
  text = true, image = true, document = true, search_result = true, tool_use = true,
  tool_result = true, thinking = true, redacted_thinking = true, server_tool_use = true,
  web_search_tool_result = true, web_fetch_tool_result = true, code_execution_tool_result = true,
  container_upload = true,
}
local BLOCK_TYPE_LIST = "'text', 'image', 'document', 'search_result', 'tool_use', 'tool_result', " ..
  "'thinking', 'redacted_thinking', 'server_tool_use', 'web_search_tool_result'"

local function want_int(v, where, min, max)
  if v == nil then return where .. ": Field required" end
  if type(v) ~= "number" or v ~= v then return where .. ": Input should be a valid integer" end
  if not is_int(v) then return where .. ": Input should be a valid integer, got a number with a fractional part" end
  if min and v < min then return where .. ": Input should be greater than or equal to " .. min end
  if max and v > max then return where .. ": Input should be less than or equal to " .. max end
end

local function want_number(v, where, min, max)
  if type(v) ~= "number" or v ~= v then return where .. ": Input should be a valid number" end
  if min and v < min then return where .. ": Input should be greater than or equal to " .. min end
  if max and v > max then return where .. ": Input should be less than or equal to " .. max end
end

local function check_block(b, where)
  if not json.is_object(b) then return where .. ": Input should be a valid dictionary" end
  local t = b.type
  if t == nil then return where .. ": Unable to extract tag using discriminator 'type'" end
  if type(t) ~= "string" or not BLOCK_TYPES[t] then
    return where .. ": Input tag '" .. tostring(t) .. "' found using 'type' does not match any of the expected tags: "
      .. BLOCK_TYPE_LIST
  end
  if t == "text" then
    if b.text == nil then return where .. ".text: Field required" end
    if type(b.text) ~= "string" then return where .. ".text: Input should be a valid string" end
  elseif t == "tool_use" or t == "server_tool_use" then
    if b.id == nil then return where .. ".id: Field required" end
    if type(b.id) ~= "string" then return where .. ".id: Input should be a valid string" end
    if b.name == nil then return where .. ".name: Field required" end
    if type(b.name) ~= "string" then return where .. ".name: Input should be a valid string" end
    if b.input == nil then return where .. ".input: Field required" end
    if not json.is_object(b.input) then return where .. ".input: Input should be a valid dictionary" end
  elseif t == "tool_result" then
    if b.tool_use_id == nil then return where .. ".tool_use_id: Field required" end
    if type(b.tool_use_id) ~= "string" then return where .. ".tool_use_id: Input should be a valid string" end
    local c = b.content
    if c ~= nil and type(c) ~= "string" and not json.is_list(c) then
      return where .. ".content: Input should be a valid list"
    end
    if json.is_list(c) and type(c) == "table" then
      for j, inner in ipairs(c) do
        local err = check_block(inner, where .. ".content." .. (j - 1))
        if err then return err end
      end
    end
  elseif t == "image" or t == "document" then
    return sources.check(b, where)
  elseif t == "thinking" then
    if type(b.thinking) ~= "string" then return where .. ".thinking: Field required" end
    if type(b.signature) ~= "string" then return where .. ".signature: Field required" end
  end
end

local function has_content(content)
  if type(content) == "string" then return content ~= "" end
  return type(content) == "table" and #content > 0
end

local function tool_ids(content, kind, field)
  local list, set = {}, {}
  if type(content) ~= "table" then return list, set end
  for j, b in ipairs(content) do
    if type(b) == "table" and b.type == kind and type(b[field]) == "string" then
      list[#list + 1] = { id = b[field], index = j - 1 }
      set[b[field]] = true
    end
  end
  return list, set
end

local function check_messages(messages)
  if messages == nil then return "messages: Field required" end
  if not json.is_list(messages) then return "messages: Input should be a valid list" end
  if #messages == 0 then return "messages: List should have at least 1 item after validation, not 0" end
  for i, m in ipairs(messages) do
    local where = "messages." .. (i - 1)
    if not json.is_object(m) then return where .. ": Input should be a valid dictionary" end
    if m.role == nil then return where .. ".role: Field required" end
    if m.role ~= "user" and m.role ~= "assistant" then
      return where .. ".role: Input should be 'user' or 'assistant'"
    end
    if m.content == nil then return where .. ".content: Field required" end
    local c = m.content
    if type(c) ~= "string" then
      if not json.is_list(c) then return where .. ".content: Input should be a valid list" end
      for j, b in ipairs(c) do
        local err = check_block(b, where .. ".content." .. (j - 1))
        if err then return err end
      end
    end
    local final_assistant = (i == #messages and m.role == "assistant")
    if not has_content(c) and not final_assistant then
      return where .. ": all messages must have non-empty content except for the optional final assistant message"
    end
    if type(c) == "table" then
      for _, b in ipairs(c) do
        if b.type == "text" and b.text == "" then return "messages: text content blocks must be non-empty" end
      end
    end
  end
  -- tool_use / tool_result pairing, worded as the API words it
  for i, m in ipairs(messages) do
    if m.role == "user" then
      local results = tool_ids(m.content, "tool_result", "tool_use_id")
      if #results > 0 then
        local prev = messages[i - 1]
        local _, uses = tool_ids(prev and prev.role == "assistant" and prev.content, "tool_use", "id")
        for _, r in ipairs(results) do
          if not uses[r.id] then
            return "messages." .. (i - 1) .. ".content." .. r.index .. ": unexpected `tool_use_id` found in " ..
              "`tool_result` blocks: " .. r.id .. ". Each `tool_result` block must have a corresponding " ..
              "`tool_use` block in the previous message."
          end
        end
      end
    elseif m.role == "assistant" and i < #messages then
      local uses = tool_ids(m.content, "tool_use", "id")
      if #uses > 0 then
        local nxt = messages[i + 1]
        local _, results = tool_ids(nxt and nxt.role == "user" and nxt.content, "tool_result", "tool_use_id")
        local missing = {}
        for _, u in ipairs(uses) do
          if not results[u.id] then missing[#missing + 1] = u.id end
        end
        if #missing > 0 then
          return "messages." .. i .. ": `tool_use` ids were found without `tool_result` blocks immediately " ..
            "after: " .. table.concat(missing, ", ") .. ". Each `tool_use` block must have a corresponding " ..
            "`tool_result` block in the next message."
        end
      end
    end
  end
end

local function check_tools(p)
  local names = {}
  if p.tools ~= nil then
    if not json.is_list(p.tools) then return "tools: Input should be a valid list" end
    for i, t in ipairs(p.tools) do
      local where = "tools." .. (i - 1)
      if not json.is_object(t) then return where .. ": Input should be a valid dictionary" end
      local custom = t.type == nil or t.type == "custom"
      if t.name == nil then return where .. ".name: Field required" end
      if type(t.name) ~= "string" then return where .. ".name: Input should be a valid string" end
      if custom and not t.name:match("^[%w_%-]+$") or #t.name > 128 then
        return where .. ".name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'"
      end
      if names[t.name] then return "tools: Tool names must be unique." end
      names[t.name] = true
      if custom then
        if t.input_schema == nil then return where .. ".input_schema: Field required" end
        if not json.is_object(t.input_schema) then
          return where .. ".input_schema: Input should be a valid dictionary"
        end
      end
    end
  end
  local tc = p.tool_choice
  if tc ~= nil then
    if not json.is_object(tc) then return "tool_choice: Input should be a valid dictionary" end
    local t = tc.type
    if t == nil then return "tool_choice: Unable to extract tag using discriminator 'type'" end
    if t ~= "auto" and t ~= "any" and t ~= "tool" and t ~= "none" then
      return "tool_choice: Input tag '" .. tostring(t) ..
        "' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
    end
    if t == "tool" then
      if tc.name == nil then return "tool_choice.tool.name: Field required" end
      if type(tc.name) ~= "string" then return "tool_choice.tool.name: Input should be a valid string" end
      if not names[tc.name] then return "tool_choice.name: Tool '" .. tc.name .. "' not found in `tools`" end
    end
    if (t == "any" or t == "tool") and next(names) == nil then
      return "tool_choice: `tool_choice` may only be specified while providing tools."
    end
  end
end

-- check(params, kind) -> nil | message. kind: "create" | "count" | "batch"
function M.check(p, kind)
  if not json.is_object(p) then return "Input should be a valid dictionary or object to extract fields from" end
  if p.model == nil then return "model: Field required" end
  if type(p.model) ~= "string" then return "model: Input should be a valid string" end
  local err = check_messages(p.messages)
  if err then return err end
  if kind ~= "count" then
    err = want_int(p.max_tokens, "max_tokens", 1)
    if err then return err end
  end
  if p.system ~= nil and type(p.system) ~= "string" then
    if not json.is_list(p.system) then return "system: Input should be a valid string" end
    for j, b in ipairs(p.system) do
      if not json.is_object(b) or b.type ~= "text" then
        return "system." .. (j - 1) .. ".type: Input should be 'text'"
      end
      if type(b.text) ~= "string" then return "system." .. (j - 1) .. ".text: Field required" end
    end
  end
  if p.stream ~= nil and p.stream ~= null and type(p.stream) ~= "boolean" then
    return "stream: Input should be a valid boolean"
  end
  if kind == "batch" and p.stream == true then
    return "stream: Streaming is not supported in the Message Batches API"
  end
  if p.temperature ~= nil then
    err = want_number(p.temperature, "temperature", 0, 1)
    if err then return err end
  end
  if p.top_p ~= nil then
    err = want_number(p.top_p, "top_p", 0, 1)
    if err then return err end
  end
  if p.top_k ~= nil then
    err = want_int(p.top_k, "top_k", 0)
    if err then return err end
  end
  if p.stop_sequences ~= nil then
    if not json.is_list(p.stop_sequences) then return "stop_sequences: Input should be a valid list" end
    for j, s in ipairs(p.stop_sequences) do
      if type(s) ~= "string" then return "stop_sequences." .. (j - 1) .. ": Input should be a valid string" end
    end
  end
  if p.metadata ~= nil and not json.is_object(p.metadata) then
    return "metadata: Input should be a valid dictionary"
  end
  err = check_tools(p)
  if err then return err end
  local th = p.thinking
  if th ~= nil then
    if not json.is_object(th) then return "thinking: Input should be a valid dictionary" end
    if th.type == "enabled" then
      err = want_int(th.budget_tokens, "thinking.enabled.budget_tokens", 1024)
      if err then return err end
      if kind ~= "count" and is_int(p.max_tokens) and p.max_tokens <= th.budget_tokens then
        return "`max_tokens` must be greater than `thinking.budget_tokens`."
      end
    elseif th.type ~= "disabled" and th.type ~= "adaptive" then
      return "thinking: Input tag '" .. tostring(th.type) ..
        "' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'"
    end
  end
end

return M
