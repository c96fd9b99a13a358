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
  anthropic-lua check [options] [MODEL...]
      Probe which models this key may use (all of GET /v1/models when no MODEL is given),
      concurrently, and print MODEL, ✓/✗, REASON (error class) and REQUEST ID.
  anthropic-lua ask [options] PROMPT...
      Send PROMPT (the words joined by spaces; "-" reads stdin) and print the answer on
      stdout. Which model answered, and any fallback, is reported on stderr.

Options for ask:
  -m, --model MODEL        the model to ask (default claude-sonnet-4-6)
  --fallback M2,M3         models to try, in order, when MODEL is denied (PermissionDenied)
                           or not found (default claude-haiku-4-5; "" for none)
  --fallback-on CLASSES    also fall back on Overloaded and/or RateLimited (comma list)
  --stream                 print the answer as it arrives
  --max-tokens N           the answer's token limit (default 1024)
  --system TEXT            a system prompt
  --json-schema FILE       ask for JSON matching the JSON Schema in FILE; print the checked
                           value as JSON (exit 7, with the errors, when the answer breaks it)
Options for check:
  --probe KIND             messages (default: max_tokens=1, the request the API gates on
                           the model) or count_tokens (free, see docs/access.md)
Common options:
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

Exit codes:
  0  ok (check: at least one model is available)
  1  internal error (a bug: please report it)
  2  usage error (bad command line)
  3  authentication failed (401: the key is wrong, revoked or missing)
  4  permission denied: no model in the chain may be used with this key (403 or 404)
     (check: no model is available)
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

-- Options: name -> { key, takes_value, commands (nil: every command), repeatable }
local OPTS = {
  ["--json"] = { key = "json" },
  ["--base-url"] = { key = "base_url", value = true },
  ["--timeout"] = { key = "timeout", value = true },
  ["--max-retries"] = { key = "max_retries", value = true },
  ["--header"] = { key = "headers", value = true, list = true },
  ["--help"] = { key = "help" }, ["-h"] = { key = "help" },
  ["--version"] = { key = "version" },
  ["--model"] = { key = "model", value = true, cmd = "ask" }, ["-m"] = { key = "model", value = true, cmd = "ask" },
  ["--fallback"] = { key = "fallback", value = true, cmd = "ask" },
  ["--fallback-on"] = { key = "fallback_on", value = true, cmd = "ask" },
  ["--stream"] = { key = "stream", cmd = "ask" },
  ["--max-tokens"] = { key = "max_tokens", value = true, cmd = "ask" },
  ["--system"] = { key = "system", value = true, cmd = "ask" },
  ["--json-schema"] = { key = "json_schema", value = true, cmd = "ask" },
  ["--probe"] = { key = "probe", value = true, cmd = "check" },
}

local COMMANDS = { ask = true, check = true }

--- M.parse(argv) -> { command, args = {...}, <options> } or raises a usage failure.
function M.parse(argv)
  local o = { args = {}, headers = {} }
  local i, rest = 1, false
  local pending = {}          -- options seen before the command (checked once it is known)
  while i <= #argv do
    local a = argv[i]
    if rest or a == "-" or a:sub(1, 1) ~= "-" then
      if o.command == nil and not o.help and not o.version then
        if not COMMANDS[a] then fail_usage("unknown command '" .. a .. "' (expected check or ask)") end
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
  if not o.command then fail_usage("missing command (check or ask)") end
  for _, p in ipairs(pending) do
    if p.spec.cmd and p.spec.cmd ~= o.command then
      fail_usage(p.name .. " is an option of '" .. p.spec.cmd .. "', not of '" .. o.command .. "'")
    end
  end

  local function number(key, name, min, integer)
    if o[key] == nil then return end
    local n = tonumber(o[key])
    if not n or n < min or (integer and n ~= math.floor(n)) then
      fail_usage(name .. " must be " .. (integer and "an integer" or "a number") .. " >= " .. min
        .. ", got '" .. tostring(o[key]) .. "'")
    end
    o[key] = n
  end
  number("timeout", "--timeout", 0.001)
  number("max_retries", "--max-retries", 0, true)
  number("max_tokens", "--max-tokens", 1, true)

  local headers = {}
  for _, h in ipairs(o.headers) do
    local k, v = h:match("^%s*([^:%s]+)%s*:%s*(.-)%s*$")
    if not k then fail_usage("--header must look like 'Name: value', got '" .. h .. "'") end
    local lk = k:lower()
    if lk == "x-api-key" or lk == "authorization" then
      fail_usage("--header " .. k .. ": credentials come from ANTHROPIC_API_KEY only")
    end
    headers[k] = v
  end
  o.headers = headers

  if o.command == "ask" then
    if #o.args == 0 then fail_usage("ask needs a PROMPT") end
    local chain = { o.model or M.DEFAULT_MODEL }
    if o.fallback == nil then chain[2] = fallback.DEFAULT_MODEL
    else
      for m in tostring(o.fallback):gmatch("[^,%s]+") do chain[#chain + 1] = m end
    end
    o.chain = chain
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
  elseif o.probe and not access.PROBES[o.probe] then
    fail_usage("--probe must be messages or count_tokens, got '" .. tostring(o.probe) .. "'")
  end
  return o
end

return M
