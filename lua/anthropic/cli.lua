-- anthropic.cli: the `anthropic-lua` command (bin/anthropic-lua is a thin launcher).
--
--   anthropic-lua check [MODEL...]                  which models may this key use?
--   anthropic-lua ask [--model M] [--fallback M2,M3] [--no-stream] [--json-schema FILE] PROMPT
--   anthropic-lua chat [--model M] [--system TEXT]   a multi-turn session (anthropic.cli_chat)
--   anthropic-lua models [--check]                  the models, and which this key may use
--   anthropic-lua files list|upload|info|download|rm; ask --file PATH [--upload]  (anthropic.cli_files)
--   --provider bedrock|vertex sends either through Amazon Bedrock or Google Vertex AI, with
--   the credentials those platforms read from the environment (docs/platforms.md).
--
-- Output contract: stdout carries the result (the table, the answer, or one JSON document with
-- --json); stderr carries the narration (which model answered, fallbacks, errors and hints), so
-- `anthropic-lua ask ... > answer.txt` stores only the answer. The API key comes from
-- ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN) only, never from the command line, and is never
-- printed: errors are printed with tostring(err), which never holds it.
--
-- Exit codes (M.EXIT; docs/cli.md and --help list them):
--   0 ok · 1 internal error (a bug) · 2 usage error · 3 authentication failed or no key ·
--   4 permission denied: no model in the chain (or, for check, none at all) may be used ·
--   5 other API error · 6 network error (connection, timeout) · 7 the answer broke --json-schema.

local anthropic = require "anthropic"
local errors = require "anthropic.errors"
local json = require "anthropic.json"
local fallback = require "anthropic.fallback"
local access = require "anthropic.access"
local client_mod = require "anthropic.client"
local text_of = require("anthropic.stream").text_of
local term_mod = require "anthropic.cli_term"
local cli_config = require "anthropic.cli_config"
local structured = require "anthropic.structured"
local log = require "anthropic.log"
local usage = require "anthropic.usage"

local cli_args = require "anthropic.cli_args"
local note = require("anthropic.cli_output").note
local cli_files = require "anthropic.cli_files"

local M = {}

M.EXIT, M.HELP, M.parse, M.resolve = cli_args.EXIT, cli_args.HELP, cli_args.parse, cli_args.resolve
M.DEFAULT_MODEL, M.DEFAULT_MAX_TOKENS = cli_args.DEFAULT_MODEL, cli_args.DEFAULT_MAX_TOKENS
local UsageFailure, fail_usage = cli_args.UsageFailure, cli_args.fail_usage
-- UsageError params that mean "no credentials": exit 3, like a missing API key.
local CREDENTIAL_PARAMS = { api_key = true, access_key_id = true, access_token = true, profile = true }


-- ---------------------------------------------------------------------------------------
-- Errors -> exit codes, hints, JSON

local function is(err, class) return errors.is(err, class) end

--- M.exit_code(err) -> the exit code for an error raised while running a command.
---@param err any
---@return integer
function M.exit_code(err)
  if getmetatable(err) == UsageFailure then return M.EXIT.usage end
  if not errors.AnthropicError.is_class_of(err) then return M.EXIT.internal end
  if is(err, errors.UsageError) then
    return CREDENTIAL_PARAMS[err.param] and M.EXIT.auth or M.EXIT.usage
  end
  if is(err, errors.AuthenticationFailed) then return M.EXIT.auth end
  if is(err, errors.PermissionDenied) or is(err, errors.NotFound) then return M.EXIT.permission end
  if is(err, errors.ConnectionError) then return M.EXIT.network end
  if is(err, errors.ParseError) then return M.EXIT.parse end
  return M.EXIT.api
end

-- The flag that sets a library parameter, so that messages and hints name what the user types.
local FLAG_OF = {
  max_tokens = "--max-tokens", temperature = "--temperature", model = "--model", system = "--system",
  timeout = "--timeout", base_url = "--base-url", max_retries = "--max-retries", headers = "--header",
  default_headers = "--header", ["options.headers"] = "--header", ["options.timeout"] = "--timeout",
}
M.FLAG_OF = FLAG_OF

--- M.usage_line(err) -> the text of a library UsageError in the CLI's words: the parameter as
--- its flag, and no advice about library calls (the hint gives the flags instead).
---@param err anthropic.AnthropicError a UsageError
---@return string
function M.usage_line(err)
  local message = tostring(err.message or "")
  message = message:gsub(": use client%.messages%.stream%(params%), or set an explicit timeout$", "")
  local flag = err.param and FLAG_OF[err.param]
  if flag and message:sub(1, #err.param + 2) == err.param .. ": " then
    message = flag .. ": " .. message:sub(#err.param + 3)
  end
  return "UsageError: " .. message
end

local function hint(err, o, base_url)
  if errors.is(err, errors.UsageError) and err.param == "api_key" then
    return "set ANTHROPIC_API_KEY (the key is read from the environment only)"
  end
  if errors.is(err, errors.UsageError) then
    if err.param == "max_tokens" and tostring(err.message):find("non-streaming", 1, true) then
      return "stream the answer (leave out --no-stream), lower --max-tokens, or give --timeout SECONDS"
    end
    local flag = err.param and FLAG_OF[err.param]
    return flag and ("check " .. flag) or nil
  end
  if errors.is(err, errors.AuthenticationFailed) then
    if o.provider == "bedrock" then
      return "AWS rejected the credentials (" .. tostring(err.type) .. "): check AWS_ACCESS_KEY_ID, "
        .. "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (or the profile). A model the account may "
        .. "not use is 403 AccessDeniedException (PermissionDenied) instead."
    elseif o.provider == "vertex" then
      return "Google rejected the access token: check GOOGLE_OAUTH_ACCESS_TOKEN or "
        .. "GOOGLE_APPLICATION_CREDENTIALS"
    end
    return access.AUTH_HINT
  end
  if errors.is(err, errors.PermissionDenied) or errors.is(err, errors.NotFound) then
    if o.command == "ask" then
      return "no model in the chain (" .. table.concat(o.chain, ", ") .. ") may be used with this key; "
        .. "`anthropic-lua check` shows which models it may use"
    end
    return nil
  end
  if errors.is(err, errors.ConnectionError) then
    return "could not reach " .. tostring(base_url) .. ": check the network, proxy settings and --base-url"
  end
  return nil
end

--- M.error_json(err) -> the error as the --json output shows it.
---@param err any
---@return table
function M.error_json(err)
  if not errors.AnthropicError.is_class_of(err) then return { class = "error", message = tostring(err) } end
  return {
    class = err.class_name, status = err.status, type = err.type,
    message = err.message ~= nil and tostring(err.message) or nil, request_id = err.request_id,
    errors = err.errors and json.array(err.errors) or nil, raw = err.raw,
  }
end

local function report_json(report)
  if not report then return nil end
  local attempts = {}
  for i, a in ipairs(report.attempts) do
    attempts[i] = { model = a.model, ok = a.ok == true, error_class = a.error_class,
      request_id = a.request_id, skipped = a.skipped or nil }
  end
  return { used_model = report.used_model, chain = json.array(report.chain),
    attempts = json.array(attempts) }
end

-- ---------------------------------------------------------------------------------------
-- Commands


--- M.new_client(o, env [, out]) -> a Client from the key in the environment and the options'
--- settings. With ANTHROPIC_LOG set, its log lines go to out.stderr (scrubbed like all output).
---@param o table resolved options (base_url, timeout, max_retries, headers)
---@param env fun(name: string): string?
---@param out? table the CLI's writers
---@return anthropic.Client
function M.new_client(o, env, out)
  local function get(name)
    local v = env(name)
    if v ~= "" then return v end
  end
  local common = { timeout = o.timeout, max_retries = o.max_retries, default_headers = o.headers }
  local level = get("ANTHROPIC_LOG")
  if level and out then
    common.logger = function(l, m, f) out.stderr:write(log.format(l, m, f), "\n") end
    -- A level the library does not know is left to it: it warns and ignores it.
    if log.LEVELS[level] or level == "off" then common.log_level = level end
  end
  if o.provider == "bedrock" then
    common.region = o.region
    common.base_url = o.base_url or get("ANTHROPIC_BEDROCK_BASE_URL")
    return anthropic.bedrock(common)
  elseif o.provider == "vertex" then
    common.region, common.project_id = o.region, o.project_id
    common.base_url = o.base_url or get("ANTHROPIC_VERTEX_BASE_URL")
    common.access_token = get("GOOGLE_OAUTH_ACCESS_TOKEN")
    return anthropic.vertex(common)
  end
  local from_env = client_mod.from_env(env)
  local api_key = from_env.api_key
  local auth_token = api_key == nil and from_env.auth_token or nil   -- the key wins
  if api_key == nil and auth_token == nil then
    errors.usage("api_key", "no API key: ANTHROPIC_API_KEY is not set")
  end
  common.api_key, common.auth_token, common.base_url = api_key, auth_token, o.base_url or from_env.base_url
  return anthropic.new(common)
end

-- The prompt: the arguments, with what is piped on stdin appended (or alone, with none). A
-- terminal on stdin is never read: nobody would know it waits for them.
local function read_prompt(o, stdin, term)
  if #o.args == 1 and o.args[1] == "-" then
    local text = stdin:read("*a") or ""
    if text == "" then fail_usage("the prompt read from stdin is empty") end
    return text
  end
  local prompt = table.concat(o.args, " ")
  if not term.stdin then
    local piped = stdin:read("*a") or ""
    if piped ~= "" then prompt = prompt == "" and piped or (prompt .. "\n\n" .. piped) end
  end
  if prompt == "" then fail_usage("ask needs a PROMPT (as arguments, or piped on stdin)") end
  return prompt
end

local function describe_fallback(report)
  local from = {}
  for _, a in ipairs(report.attempts) do
    if not a.ok then
      from[#from + 1] = a.model .. ": " .. tostring(a.error_class) .. (a.skipped and ", remembered" or "")
    end
  end
  return from
end

-- The JSON Schema in --json-schema FILE (a usage failure when it cannot be read or is not JSON).
local function read_schema(path)
  local f, oerr = io.open(path, "rb")
  if not f then fail_usage("--json-schema: cannot read " .. tostring(oerr)) end
  local text = f:read("*a") or ""
  f:close()
  local s, jerr = json.decode(text)
  if type(s) ~= "table" then
    fail_usage("--json-schema " .. path .. ": not a JSON Schema object"
      .. (jerr and (" (" .. tostring(jerr) .. ")") or ""))
  end
  return s
end

local function ask(o, env, out, state)
  local want = o.json_schema and read_schema(o.json_schema)
  local prompt = read_prompt(o, out.stdin, out.term)
  local attachments = cli_files.prepare(o)     -- checked before any request
  local client = M.new_client(o, env, out)
  state.client = client
  local turn, uploaded, betas = cli_files.content(attachments, prompt, client, out, o.json)
  local params = {
    model = o.chain[1], max_tokens = o.max_tokens or M.DEFAULT_MAX_TOKENS,
    messages = { { role = "user", content = turn } },
    system = o.system, temperature = o.temperature, betas = betas,
    output_config = want and { format = { type = "json_schema", schema = want } } or nil,
  }
  local fopts = { models = o.chain, on = o.on, ttl = 0 }
  -- Nobody chose the built-in default: a key that may not use it (a Haiku-only key) gets the
  -- fallback's answer without a warning on every call.
  if not o.json and not o.default_model then
    fopts.on_fallback = function(attempt, next_model)
      local e = attempt.error
      local what = errors.AnthropicError.is_class_of(e) and tostring(e) or tostring(attempt.error_class)
      note(out, out.paint("stderr", "yellow", string.format("anthropic-lua: %s: %s; falling back to %s",
        attempt.model, what, next_model)), "\n")
    end
  end
  local msg, report, text
  if o.stream or (out.term.stdout and not o.no_stream and not o.json) then
    local s
    -- messages.stream checks a json_schema answer itself (final_message().parsed_output).
    s, report = fallback.stream(client, params, fopts)
    state.report = report
    local wrote_any, last = false, ""
    for ev in s:events() do
      if not o.json and not o.json_schema and ev.type == "content_block_delta" and type(ev.delta) == "table"
        and ev.delta.type == "text_delta" then
        out.stdout:write(ev.delta.text)
        out.stdout:flush()
        wrote_any, last = true, ev.delta.text
        state.open_line = last:sub(-1) ~= "\n"
      end
    end
    msg = s:final_message()
    text = text_of(msg)
    if not o.json and not o.json_schema and (not wrote_any or last:sub(-1) ~= "\n") then out.stdout:write("\n") end
    state.open_line = false
  else
    local send = structured.prepare(params)
    msg, report = fallback.create(client, send, fopts)
    state.report = report
    if want then structured.attach(msg, want) end
    text = text_of(msg)
    if not o.json and not want then out.stdout:write(text, text:sub(-1) == "\n" and "" or "\n") end
  end
  if want and not o.json then out.stdout:write(json.encode(msg.parsed_output), "\n") end
  client:close()

  local request_id = report.attempts[#report.attempts].request_id
  if o.json then
    out.stdout:write(json.encode({
      model = report.used_model, text = text, stop_reason = msg.stop_reason, usage = msg.usage,
      request_id = request_id, fallback = report_json(report), message = msg,
      parsed_output = want and msg.parsed_output or nil, uploaded = uploaded and json.array(uploaded) or nil,
    }), "\n")
  else
    local from = describe_fallback(report)
    local line = "anthropic-lua: answered by " .. report.used_model
    if #from > 0 and not o.default_model then line = line .. " (fell back from " .. table.concat(from, "; ") .. ")" end
    note(out, out.paint("stderr", "dim", line .. (request_id and (", request_id " .. request_id) or "")), "\n")
  end
  return M.EXIT.ok
end

--- M.scrubbed(file, secrets): the CLI's output writer (anthropic.cli_output), kept here for
--- callers of the CLI module.
M.scrubbed = require("anthropic.cli_output").scrubbed

--- M.report(err, o, out) -> exit code: prints an error of a command (with its hint) on stderr,
--- or as one JSON document on stdout with --json. `out.report` is the fallback report, if any.
---@param err any
---@param o table the command's options
---@param out table { stdout, stderr, paint, report }
---@return integer exit code
function M.report(err, o, out)
  local code = M.exit_code(err)
  if code == M.EXIT.usage and getmetatable(err) == UsageFailure then
    note(out, "anthropic-lua: ", err.message, "\n", "Try 'anthropic-lua --help'.\n")
    return code
  end
  if code == M.EXIT.internal then
    note(out, out.paint("stderr", "red", "anthropic-lua: internal error: "), tostring(err), "\n")
    return code
  end
  local h = hint(err, o, o.base_url or client_mod.DEFAULT_BASE_URL)
  if o.json then
    local doc = { error = M.error_json(err) }
    doc.error.hint = h
    doc.fallback = report_json(out.report or (type(err) == "table" and err.fallback) or nil)
    out.stdout:write(json.encode(doc), "\n")
  else
    local line = errors.is(err, errors.UsageError) and M.usage_line(err) or tostring(err)
    note(out, out.paint("stderr", "red", "anthropic-lua: error: "), line, "\n")
    if errors.is(err, errors.ParseError) then
      for _, e in ipairs(err.errors or {}) do note(out, "anthropic-lua:   ", e.path, ": ", e.reason, "\n") end
      if err.raw then note(out, "anthropic-lua: the answer was: ", err.raw, "\n") end
    end
    if h then note(out, out.paint("stderr", "yellow", "anthropic-lua: hint: "), h, "\n") end
  end
  return code
end

local run   -- the body of M.main, below: M.main drains the scrubbed writers after it

--- M.main(argv [, sys]) -> exit code. sys = { stdout, stderr, stdin, getenv, is_tty } for tests
--- (default the process's; is_tty(name) says whether "stdin"/"stdout"/"stderr" is a terminal).
---@param argv? string[]
---@param sys? table { stdout, stderr, stdin, getenv, is_tty }
---@return integer exit code
function M.main(argv, sys)
  sys = sys or {}
  local getenv = sys.getenv or os.getenv
  local function env(name)               -- an empty variable reads as unset
    local v = getenv(name)
    if v == nil or v == "" then return nil end
    return v
  end
  local from_env = client_mod.from_env(getenv)
  local secrets = {}
  -- The platforms' secrets too (the platform clients read them from the environment).
  for _, v in ipairs { from_env.api_key or "", from_env.auth_token or "",
    getenv("AWS_SECRET_ACCESS_KEY") or "", getenv("AWS_SESSION_TOKEN") or "",
    getenv("GOOGLE_OAUTH_ACCESS_TOKEN") or "" } do
    if #v >= 8 then secrets[#secrets + 1] = v end
  end
  local term = term_mod.detect(sys.is_tty, env)
  local out = { stdout = M.scrubbed(sys.stdout or io.stdout, secrets),
    stderr = M.scrubbed(sys.stderr or io.stderr, secrets), stdin = sys.stdin or io.stdin, term = term }
  ---@private
  function out.paint(stream, style, text) return term_mod.paint(term.color[stream], style, text) end
  local ok, code = pcall(run, argv, env, out)
  for _, w in ipairs { out.stdout, out.stderr } do
    if w.drain then w.drain() end
    w:flush()
  end
  if not ok then error(code, 0) end
  return code
end

run = function(argv, env, out)

  local okp, o = pcall(M.parse, argv or {})
  if not okp then
    if getmetatable(o) == UsageFailure then
      note(out, "anthropic-lua: ", o.message, "\n", "Try 'anthropic-lua --help'.\n")
      return M.EXIT.usage
    end
    error(o, 0)
  end
  if o.help then
    out.stdout:write(M.HELP)
    return M.EXIT.ok
  end
  if o.version then
    out.stdout:write("anthropic-lua ", anthropic.VERSION, "\n")
    return M.EXIT.ok
  end
  local config, _, problem = cli_config.load(env)
  if problem then
    note(out, "anthropic-lua: ", problem, "\n")
    return M.EXIT.usage
  end
  M.resolve(o, env, config)

  local state = {}
  local cli_chat = require "anthropic.cli_chat"
  local commands = { ask = ask, check = cli_chat.check, chat = cli_chat.chat, models = cli_chat.models,
    files = cli_files.files }
  local ok, res = pcall(commands[o.command], o, env, out, state)
  if not ok then
    if state.open_line then out.stdout:write("\n") end   -- end a partly streamed answer
    if state.client then pcall(state.client.close, state.client) end
    out.report = state.report
    res = M.report(res, o, out)
  end
  -- --usage: what the command's requests spent, after the answer (or the error).
  if o.usage and state.client then note(out, usage.format(state.client:usage()), "\n") end
  return res
end

return M
