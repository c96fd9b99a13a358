-- anthropic.cli_args: the command line of `anthropic-lua` (anthropic.cli): the help text,
-- the exit codes it lists, and parsing argv into options. A mistake raises a table whose
-- metatable is M.UsageFailure ({ message }), which the CLI turns into exit code 2.

local fallback = require "anthropic.fallback"
local access = require "anthropic.access"

local M = {}

M.EXIT = { ok = 0, internal = 1, usage = 2, auth = 3, permission = 4, api = 5, network = 6, parse = 7 }
M.DEFAULT_MODEL = "claude-sonnet-4-6"
M.DEFAULT_MAX_TOKENS = 1024

M.HELP = [[
anthropic-lua: talk to the Anthropic Messages API from the command line.

Usage:
  anthropic-lua ask [options] [PROMPT...]
      Send PROMPT (the words joined by spaces) and print the answer on stdout, streamed as
      it arrives when stdout is a terminal. Text piped on stdin is the prompt when none is
      given, and is appended to it when one is (git diff | anthropic-lua ask "review this").
      Which model answered, and any fallback, is reported on stderr. --file attaches files.
  anthropic-lua chat [options]
      A conversation: each line you type is a turn; the history is kept. /model NAME,
      /system TEXT, /save FILE, /clear, /help, /exit (or Ctrl-D).
  anthropic-lua models [--check] [options]
      List the models (GET /v1/models); --check also probes which this key may use.
  anthropic-lua check [options] [MODEL...]
      Probe which models this key may use (all of GET /v1/models when no MODEL is given),
      concurrently, and print MODEL, ✓/✗, REASON (error class) and REQUEST ID.
  anthropic-lua files list|upload|info|download|rm [options] [ARG...]
      The Files API (upload a file once, refer to it by its id): list (newest first),
      upload PATH... (prints each new file id), info ID..., download ID (to --output PATH,
      or to stdout when stdout is not a terminal), rm ID...

Options for ask and chat:
  -m, --model MODEL        the model (default $ANTHROPIC_MODEL, the config file, else
                           claude-sonnet-4-6, falling back to claude-haiku-4-5 quietly)
  --system TEXT            a system prompt
  --max-tokens N           the answer's token limit (default 1024)
  --temperature T          sampling temperature, 0 to 1
  --usage                  print the requests' token usage on stderr at the end
Options for ask:
  --fallback M2,M3         models to try, in order, when MODEL is denied (PermissionDenied)
                           or not found (default claude-haiku-4-5; "" for none)
  --fallback-on CLASSES    also fall back on Overloaded and/or RateLimited (comma list)
  --stream, --no-stream    stream the answer, or wait for all of it (default: stream when
                           stdout is a terminal)
  --json-schema FILE       ask for JSON matching the JSON Schema in FILE; print the checked
                           value as JSON (exit 7, with the errors, when the answer breaks it)
  --file PATH              attach an image (PNG, JPEG, GIF, WebP), a PDF or a UTF-8 text
                           file, its type read from its bytes, not its name (repeatable; the
                           files come before the prompt)
  --upload                 send the --file attachments through the Files API instead of
                           inline (each new file id is reported on stderr; they are kept)
Options for files:
  --limit N                (list) at most N files (default all)
  -o, --output PATH        (download) write the content to PATH, complete or not at all
Options for check and models:
  --probe KIND             messages (default: max_tokens=1, the request the API gates on
                           the model) or count_tokens (free, see docs/access.md)
  --check                  (models) probe each model for access, as check does
Common options:
  --provider NAME          anthropic (default), bedrock (Amazon Bedrock) or vertex (Google
                           Vertex AI); see Environment for their credentials
  --region REGION          the Bedrock or Vertex region (default from the environment)
  --project ID             the Vertex project (default $ANTHROPIC_VERTEX_PROJECT_ID)
  --json                   print one JSON document on stdout (for scripts)
  --base-url URL           API base URL (default $ANTHROPIC_BASE_URL or https://api.anthropic.com)
  --timeout SECONDS        per-request timeout
  --max-retries N          retries of 429/5xx/529 and connection failures (default 2)
  --header 'NAME: VALUE'   an extra request header (repeatable)
  -h, --help               this help;  --version  the version

Environment:
  ANTHROPIC_API_KEY        the API key (required; never printed). ANTHROPIC_AUTH_TOKEN is
                           used instead (Authorization: Bearer) when no key is set.
  ANTHROPIC_BASE_URL       default for --base-url
  ANTHROPIC_MODEL          default for --model
  ANTHROPIC_LOG            debug, info, warn or error: log each request on stderr
                           (credentials redacted); ANTHROPIC_CUSTOM_HEADERS: extra headers,
                           one 'Name: value' a line
  NO_COLOR                 no colour (colour is used only on a terminal anyway)
Config file: $XDG_CONFIG_HOME/anthropic-lua/config.lua (a table) or config.json, with any of
  model, fallback, max_tokens, temperature, system, base_url, timeout, max_retries
  (never a key). Flags override the environment, which overrides the file.
  --provider bedrock:      AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or
                           AWS_PROFILE and ~/.aws/credentials; AWS_REGION or
                           AWS_DEFAULT_REGION; ANTHROPIC_BEDROCK_BASE_URL for --base-url
  --provider vertex:       GOOGLE_OAUTH_ACCESS_TOKEN (an access token), else
                           GOOGLE_APPLICATION_CREDENTIALS (a service-account key file);
                           ANTHROPIC_VERTEX_PROJECT_ID, CLOUD_ML_REGION;
                           ANTHROPIC_VERTEX_BASE_URL for --base-url
  None of these values is ever printed.

Exit codes:
  0  ok (check, models --check: at least one model is available)
  1  internal error (a bug: please report it)
  2  usage error (bad command line, or a bad config file)
  3  authentication failed (401: the key is wrong, revoked or missing)
  4  permission denied: no model in the chain may be used with this key (403 or 404)
     (check: no model is available; files: no such file)
  5  other API error (400, 429, 529, 5xx, an error event in a stream, ...)
  6  network error (connection refused, DNS, TLS, timeout)
  7  the answer is not JSON or breaks the --json-schema (the errors are on stderr)
]]

-- ---------------------------------------------------------------------------------------
-- Command line parsing

local UsageFailure = {}     -- raised (as a table { message }) for command line mistakes
M.UsageFailure = UsageFailure

local function fail_usage(msg)
  error(setmetatable({ message = msg }, UsageFailure), 0)
end
M.fail_usage = fail_usage

-- Options: name -> { key, takes_value, commands (a set; nil: every command), repeatable }
local ASK, TALK, PROBE = { ask = true }, { ask = true, chat = true }, { check = true, models = true }
local FILES = { files = true }
local OPTS = {
  ["--json"] = { key = "json" },
  ["--provider"] = { key = "provider", value = true },
  ["--region"] = { key = "region", value = true },
  ["--project"] = { key = "project_id", value = true },
  ["--base-url"] = { key = "base_url", value = true },
  ["--timeout"] = { key = "timeout", value = true },
  ["--max-retries"] = { key = "max_retries", value = true },
  ["--header"] = { key = "headers", value = true, list = true },
  ["--help"] = { key = "help" }, ["-h"] = { key = "help" },
  ["--version"] = { key = "version" },
  ["--model"] = { key = "model", value = true, cmd = TALK }, ["-m"] = { key = "model", value = true, cmd = TALK },
  ["--fallback"] = { key = "fallback", value = true, cmd = ASK },
  ["--fallback-on"] = { key = "fallback_on", value = true, cmd = ASK },
  ["--stream"] = { key = "stream", cmd = ASK },
  ["--no-stream"] = { key = "no_stream", cmd = ASK },
  ["--max-tokens"] = { key = "max_tokens", value = true, cmd = TALK },
  ["--system"] = { key = "system", value = true, cmd = TALK },
  ["--temperature"] = { key = "temperature", value = true, cmd = TALK },
  ["--probe"] = { key = "probe", value = true, cmd = PROBE },
  ["--check"] = { key = "check_access", cmd = { models = true } },
  ["--json-schema"] = { key = "json_schema", value = true, cmd = ASK },
  ["--usage"] = { key = "usage", cmd = TALK },
  ["--file"] = { key = "files", value = true, list = true, cmd = ASK },
  ["--upload"] = { key = "upload", cmd = ASK },
  ["--limit"] = { key = "limit", value = true, cmd = FILES },
  ["--output"] = { key = "output", value = true, cmd = FILES }, ["-o"] = { key = "output", value = true, cmd = FILES },
}

local COMMANDS = { ask = true, chat = true, check = true, files = true, models = true }
local COMMAND_LIST = "ask, chat, check, files or models"
-- files SUBCOMMAND: { fewest, most } arguments, and the option only it takes.
local FILE_COMMANDS = { list = { 0, 0, "--limit" }, upload = { 1 }, info = { 1 }, download = { 1, 1, "--output" },
  rm = { 1 } }

-- "'ask'", "'ask' and 'chat'": the commands of an option, for its usage error.
local function command_names(set)
  local list = {}
  for name in pairs(set) do list[#list + 1] = "'" .. name .. "'" end
  table.sort(list)
  if #list == 1 then return list[1] end
  return table.concat(list, ", ", 1, #list - 1) .. " and " .. list[#list]
end
M.PROVIDERS = { anthropic = true, bedrock = true, vertex = true }

--- M.parse(argv) -> { command, args = {...}, <options> } or raises a usage failure.
---@param argv string[]
---@return table options
function M.parse(argv)
  local o = { args = {}, headers = {}, files = {} }
  local i, rest = 1, false
  local pending = {}          -- options seen before the command (checked once it is known)
  while i <= #argv do
    local a = argv[i]
    if rest or a == "-" or a:sub(1, 1) ~= "-" then
      if o.command == nil and not o.help and not o.version then
        if not COMMANDS[a] then fail_usage("unknown command '" .. a .. "' (expected " .. COMMAND_LIST .. ")") end
        o.command = a
      else
        o.args[#o.args + 1] = a
      end
    elseif a == "--" then
      rest = true
    else
      local name, inline = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local spec = OPTS[name]
      if not spec then fail_usage("unknown option " .. name) end
      local value = true
      if spec.value then
        if inline then value = inline
        else
          i = i + 1
          value = argv[i]
          if value == nil then fail_usage(name .. " needs a value") end
        end
      elseif inline then
        fail_usage(name .. " takes no value")
      end
      if spec.list then o[spec.key][#o[spec.key] + 1] = value else o[spec.key] = value end
      pending[#pending + 1] = { name = name, spec = spec }
    end
    i = i + 1
  end
  if o.help or o.version then return o end
  if not o.command then fail_usage("missing command (" .. COMMAND_LIST .. ")") end
  for _, p in ipairs(pending) do
    if p.spec.cmd and not p.spec.cmd[o.command] then
      fail_usage(p.name .. " is an option of " .. command_names(p.spec.cmd) .. ", not of '" .. o.command .. "'")
    end
  end
  if o.stream and o.no_stream then fail_usage("--stream and --no-stream contradict each other") end

  local function number(key, name, min, integer, max)
    if o[key] == nil then return end
    local n = tonumber(o[key])
    if not n or n ~= n or n < min or (max and n > max) or (integer and n ~= math.floor(n)) then
      fail_usage(name .. " must be " .. (integer and "an integer" or "a number") .. " >= " .. min
        .. (max and (" and <= " .. max) or "") .. ", got '" .. tostring(o[key]) .. "'")
    end
    o[key] = n
  end
  number("timeout", "--timeout", 0.001)
  number("max_retries", "--max-retries", 0, true)
  number("max_tokens", "--max-tokens", 1, true)
  number("temperature", "--temperature", 0, false, 1)
  number("limit", "--limit", 1, true)

  local headers = {}
  for _, h in ipairs(o.headers) do
    local k, v = h:match("^%s*([^:%s]+)%s*:%s*(.-)%s*$")
    if not k then fail_usage("--header must look like 'Name: value', got '" .. h .. "'") end
    local lk = k:lower()
    if lk == "x-api-key" or lk == "authorization" or lk == "x-amz-security-token" then
      fail_usage("--header " .. k .. ": credentials come from "
        .. ((o.provider or "anthropic") == "anthropic" and "ANTHROPIC_API_KEY" or "the environment") .. " only")
    end
    headers[k] = v
  end
  o.headers = headers

  if o.command == "chat" and #o.args > 0 then
    fail_usage("chat takes no PROMPT: type the turns once it has started")
  end
  o.provider = o.provider or "anthropic"
  if not M.PROVIDERS[o.provider] then
    fail_usage("--provider must be anthropic, bedrock or vertex, got '" .. tostring(o.provider) .. "'")
  end
  if (o.region or o.project_id) and o.provider == "anthropic" then
    fail_usage((o.region and "--region" or "--project") .. " needs --provider bedrock or vertex")
  end
  if o.project_id and o.provider ~= "vertex" then fail_usage("--project needs --provider vertex") end
  if o.upload and #o.files == 0 then fail_usage("--upload needs --file PATH") end
  if (o.upload or o.command == "files") and o.provider ~= "anthropic" then
    fail_usage((o.upload and "--upload" or "files") .. " needs the Files API, which only --provider anthropic has")
  end
  if o.command == "files" then M.check_files(o) end
  if o.command == "ask" then
    local on = {}
    if o.fallback_on then
      for c in tostring(o.fallback_on):gmatch("[^,%s]+") do
        if c ~= "Overloaded" and c ~= "RateLimited" then
          fail_usage("--fallback-on accepts Overloaded and RateLimited, got '" .. c .. "'")
        end
        on[#on + 1] = c
      end
    end
    o.on = on
  elseif (o.command == "check" or o.command == "models") and o.probe and not access.PROBES[o.probe] then
    fail_usage("--probe must be messages or count_tokens, got '" .. tostring(o.probe) .. "'")
  end
  return o
end

--- M.check_files(o): the subcommand of `files`, its number of arguments and its options.
---@param o table parsed options (o.args[1] the subcommand)
function M.check_files(o)
  local sub = o.args[1]
  local rule = FILE_COMMANDS[sub]
  if not rule then
    fail_usage(sub == nil and "files needs a subcommand (list, upload, info, download or rm)"
      or ("unknown files subcommand '" .. sub .. "' (expected list, upload, info, download or rm)"))
  end
  local n = #o.args - 1
  local what = ({ upload = "PATH", info = "ID", download = "ID", rm = "ID" })[sub]
  if n < rule[1] then
    fail_usage("files " .. sub .. " needs " .. (rule[2] == 1 and "an " or "at least one ") .. what)
  end
  if rule[2] and n > rule[2] then
    fail_usage("files " .. sub .. " takes " .. (rule[2] == 0 and "no arguments" or ("one " .. what)) .. ", got "
      .. n)
  end
  for _, opt in ipairs { { "limit", "--limit" }, { "output", "--output" } } do
    if o[opt[1]] ~= nil and rule[3] ~= opt[2] then
      fail_usage(opt[2] .. " is an option of 'files " .. (opt[2] == "--limit" and "list" or "download")
        .. "', not of 'files " .. sub .. "'")
    end
  end
end

local function add_model(chain, m)
  for _, seen in ipairs(chain) do if seen == m then return end end
  chain[#chain + 1] = m
end

--- M.resolve(o, env, config) fills in what the command line left out, from the environment
--- (ANTHROPIC_MODEL, ANTHROPIC_BASE_URL), then the config file, then the built-in defaults:
--- o.model, o.chain (the model and its fallbacks), o.default_model (true when nobody chose the
--- model), base_url, max_tokens, temperature, system, timeout, max_retries.
---@param o table parsed options (M.parse)
---@param env fun(name: string): string?
---@param config? anthropic.cli.Config
---@return table o
function M.resolve(o, env, config)
  config = config or {}
  local model = o.model or env("ANTHROPIC_MODEL") or config.model
  o.default_model = model == nil
  o.model = model or M.DEFAULT_MODEL
  local chain = { o.model }
  local fb = o.fallback
  if fb == nil then fb = config.fallback end
  if fb == nil then fb = { fallback.DEFAULT_MODEL } end
  if type(fb) == "string" then
    for m in fb:gmatch("[^,%s]+") do add_model(chain, m) end
  else
    for _, m in ipairs(fb) do add_model(chain, m) end
  end
  o.chain = chain
  o.base_url = o.base_url or env("ANTHROPIC_BASE_URL") or config.base_url
  for _, k in ipairs { "max_tokens", "temperature", "system", "timeout", "max_retries" } do
    if o[k] == nil then o[k] = config[k] end
  end
  return o
end

return M
