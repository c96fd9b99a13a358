-- anthropic.cli_chat: the `anthropic-lua chat`, `models` and `check` commands (the rest of the
-- CLI is anthropic.cli, which dispatches here).
--
-- chat is a conversation (anthropic.conversation) read line by line from stdin: every line is
-- a turn, answers go to stdout (streamed when it is a terminal), the prompt and notes to
-- stderr, and only when stdin is a terminal. Lines starting with "/" are commands. A failed
-- turn is reported and the session goes on; a rejected key (401) ends it with exit code 3.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local access = require "anthropic.access"
local conversation = require "anthropic.conversation"
local text_of = require("anthropic.stream").text_of

local M = {}

M.HELP = [[
/model [NAME]     show or change the model
/system [TEXT]    show or set the system prompt ("/system -" clears it)
/save FILE        write the conversation to FILE (JSON; load it with anthropic.conversation.load)
/clear            forget the history
/help             this list
/exit             leave (so does Ctrl-D)
]]

local cli_output = require "anthropic.cli_output"
local note, pad = cli_output.note, cli_output.pad


-- One turn: the answer on stdout, streamed on a terminal. Raises the turn's error.
local function turn(conv, line, out, state)
  if out.term.stdout then
    local s = conv:stream(line)
    local last = "\n"
    for ev in s:events() do
      if ev.type == "content_block_delta" and type(ev.delta) == "table" and ev.delta.type == "text_delta" then
        out.stdout:write(ev.delta.text)
        out.stdout:flush()
        last = ev.delta.text
        state.open_line = last:sub(-1) ~= "\n"
      end
    end
    s:final_message()
    if last:sub(-1) ~= "\n" then out.stdout:write("\n") end
    state.open_line = false
  else
    local text = text_of(conv:ask(line))
    out.stdout:write(text, text:sub(-1) == "\n" and "" or "\n")
  end
  out.stdout:flush()
end

local function command(conv, line, out)
  local name, arg = line:match("^/(%S+)%s*(.-)%s*$")
  if name == "exit" or name == "quit" then return "exit" end
  if name == "model" then
    if arg ~= "" then conv.model = arg end
    note(out, "model: ", conv.model, "\n")
  elseif name == "system" then
    if arg == "-" then conv.system = nil elseif arg ~= "" then conv.system = arg end
    note(out, "system: ", type(conv.system) == "string" and conv.system or "(none)", "\n")
  elseif name == "save" then
    if arg == "" then
      note(out, "/save needs a FILE\n")
    else
      local ok, err = pcall(conv.save, conv, arg)
      if ok then note(out, string.format("saved %d messages to %s\n", #conv:messages(), arg))
      else note(out, "anthropic-lua: ", tostring(err.message or err), "\n") end
    end
  elseif name == "clear" then
    conv:clear()
    note(out, "history cleared\n")
  elseif name == "help" then
    note(out, M.HELP)
  else
    note(out, "unknown command /", tostring(name), " (/help lists them)\n")
  end
end

-- The built-in default model is one nobody chose: when this key may not use it (403/404), the
-- session moves to the fallback once, says so once, and asks again.
local function falls_back(o, conv, err, out)
  if not (o.default_model and conv.model == o.chain[1] and o.chain[2]) then return false end
  if not (errors.is(err, errors.PermissionDenied) or errors.is(err, errors.NotFound)) then return false end
  note(out, out.paint("stderr", "dim", string.format("anthropic-lua: using %s (this key may not use %s; "
    .. "/model NAME to choose)", o.chain[2], conv.model)), "\n")
  conv.model = o.chain[2]
  return true
end

---The chat command: reads turns from out.stdin until /exit or end of input.
---@param o table the parsed and resolved command line (anthropic.cli.parse, resolve)
---@param env fun(name: string): string? reads the environment ("" reads as nil)
---@param out table { stdout, stderr, stdin, term, paint } (anthropic.cli.main)
---@param state table where the command leaves its client (closed on an error)
---@return integer exit code (anthropic.cli.EXIT)
function M.chat(o, env, out, state)
  local cli = require "anthropic.cli"
  local client = cli.new_client(o, env, out)
  state.client = client
  local params = { client = client, model = o.model, system = o.system,
    max_tokens = o.max_tokens or cli.DEFAULT_MAX_TOKENS, temperature = o.temperature }
  local conv = conversation(params)
  local interactive = out.term.stdin
  if interactive then
    note(out, out.paint("stderr", "dim", "anthropic-lua chat with " .. conv.model
      .. ": /help for commands, /exit or Ctrl-D to leave"), "\n")
  end
  while true do
    if interactive then note(out, out.paint("stderr", "bold", "> ")) end
    local line = out.stdin:read("*l")
    if line == nil then
      if interactive then note(out, "\n") end
      break
    end
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    if line:sub(1, 1) == "/" then
      if command(conv, line, out) == "exit" then break end
    elseif line ~= "" then
      local ok, err = pcall(turn, conv, line, out, state)
      if not ok and falls_back(o, conv, err, out) then ok, err = pcall(turn, conv, line, out, state) end
      if not ok then
        if state.open_line then out.stdout:write("\n") end
        state.open_line = false
        local code = cli.report(err, { command = "chat", chain = { conv.model }, base_url = o.base_url }, out)
        if code == cli.EXIT.auth or code == cli.EXIT.internal then
          client:close()
          return code
        end
        if code == cli.EXIT.permission then
          note(out, out.paint("stderr", "yellow", "anthropic-lua: hint: "), "choose another model with /model NAME "
            .. "(`anthropic-lua models --check` lists the ones this key may use)\n")
        end
      end
    end
  end
  client:close()
  return cli.EXIT.ok
end

---The check command: which of the models (the arguments, or the usual chain on a platform)
---this key may use, as a table or --json; the exit code says whether any may.
---@param o table the parsed and resolved command line
---@param env fun(name: string): string?
---@param out table { stdout, stderr, stdin, term, paint }
---@return integer exit code (anthropic.cli.EXIT)
function M.check(o, env, out)
  local cli = require "anthropic.cli"
  local client = cli.new_client(o, env, out)
  -- The platforms have no model list to probe by default: the usual chain then.
  local wanted = #o.args > 0 and o.args or nil
  if not wanted and o.provider ~= "anthropic" then wanted = access.DEFAULT_PREFERENCES end
  local results, list = access.check(client, wanted,
    { probe = o.probe })
  local available, worst = 0, cli.EXIT.permission
  local rows = {}
  for i, model in ipairs(list) do
    local r = results[model]
    if r.ok then available = available + 1
    else
      local code = cli.exit_code(r.error)
      if code == cli.EXIT.network then worst = code
      elseif code ~= cli.EXIT.permission and worst ~= cli.EXIT.network then worst = code end
    end
    rows[i] = r
  end
  client:close()

  if o.json then
    local models = {}
    for i, r in ipairs(rows) do
      models[i] = { model = r.model, ok = r.ok, request_id = r.request_id,
        error = (not r.ok) and cli.error_json(r.error) or nil }
    end
    out.stdout:write(json.encode({ models = json.array(models), available = available }), "\n")
  else
    local w = #"MODEL"
    for _, r in ipairs(rows) do w = math.max(w, #r.model) end
    local rw = #"REASON"
    for _, r in ipairs(rows) do
      if not r.ok then rw = math.max(rw, #tostring(r.error.class_name or "error")) end
    end
    out.stdout:write(pad("MODEL", w), "  ACCESS  ", pad("REASON", rw), "  REQUEST ID\n")
    for _, r in ipairs(rows) do
      local reason = r.ok and "" or tostring(errors.AnthropicError.is_class_of(r.error) and r.error.class_name
        or "error")
      local mark = out.paint("stdout", r.ok and "green" or "red", r.ok and "✓" or "✗")   -- one column wide
      out.stdout:write(pad(r.model, w), "  ", mark, "       ", pad(reason, rw), "  ", r.request_id or "-", "\n")
    end
    out.stdout:write(string.format("\n%d of %d model%s available to this key.\n", available, #rows,
      #rows == 1 and "" or "s"))
    for _, r in ipairs(rows) do
      local code = (not r.ok) and cli.exit_code(r.error)
      if code and code ~= cli.EXIT.permission then
        note(out, "anthropic-lua: ", r.model, ": ", tostring(r.error), "\n")
      end
    end
  end
  if available > 0 then return cli.EXIT.ok end
  return worst
end


---The models command: every model of GET /v1/models, with --check the access of this key to
---each (as `check` probes it).
---@param o table the parsed and resolved command line
---@param env fun(name: string): string?
---@param out table { stdout, stderr, stdin, term, paint }
---@param state table
---@return integer exit code (anthropic.cli.EXIT)
function M.models(o, env, out, state)
  local cli = require "anthropic.cli"
  local client = cli.new_client(o, env, out)
  state.client = client
  local list = {}
  for m in client.models.list({ limit = 1000 }):iter() do list[#list + 1] = m end
  local results, available = nil, 0
  if o.check_access then
    local ids = {}
    for i, m in ipairs(list) do ids[i] = m.id end
    results = #ids > 0 and access.check(client, ids, { probe = o.probe }) or {}
    for _, id in ipairs(ids) do if results[id].ok then available = available + 1 end end
  end
  client:close()
  if o.json then
    local rows = {}
    for i, m in ipairs(list) do
      local r = results and results[m.id]
      rows[i] = { id = m.id, display_name = m.display_name, created_at = m.created_at,
        ok = r and r.ok or nil, error = r and not r.ok and r.error.class_name or nil }
    end
    out.stdout:write(json.encode { models = json.array(rows), available = results and available or nil }, "\n")
  else
    local w, dw = #"ID", #"DISPLAY NAME"
    for _, m in ipairs(list) do
      w, dw = math.max(w, #m.id), math.max(dw, #tostring(m.display_name or ""))
    end
    out.stdout:write(pad("ID", w), "  ", pad("DISPLAY NAME", dw), "  CREATED", results and "               ACCESS"
      or "", "\n")
    for _, m in ipairs(list) do
      local line = pad(m.id, w) .. "  " .. pad(tostring(m.display_name or ""), dw) .. "  "
        .. pad(tostring(m.created_at or ""):sub(1, 20), 20)
      if results then
        local r = results[m.id]
        line = line .. "  " .. out.paint("stdout", r.ok and "green" or "red", r.ok and "✓" or "✗")
          .. (r.ok and "" or ("  " .. tostring(r.error.class_name or "error")))
      end
      out.stdout:write((line:gsub("%s+$", "")), "\n")
    end
    if results then
      out.stdout:write(string.format("\n%d of %d model%s available to this key.\n", available, #list,
        #list == 1 and "" or "s"))
    end
  end
  if results then
    if available > 0 then return cli.EXIT.ok end
    for _, m in ipairs(list) do
      local code = cli.exit_code(results[m.id].error)
      if code ~= cli.EXIT.permission then return code end
    end
    return cli.EXIT.permission
  end
  return cli.EXIT.ok
end

return M
