-- examples/demo.lua: what `make demo` runs. The problem this project was started for, in
-- three commands: which models may this key use, an answer from Sonnet that falls back to
-- Haiku when the key may not use Sonnet, and a wrong key that is reported as a key problem
-- (AuthenticationFailed, exit 3) rather than as "no model is accessible".
--
-- Offline by default: it starts the bundled mock (bin/anthropic-mock --port 0) and uses the
-- mock's free-tier key (Haiku only), then stops the mock, also when a step fails. Against the
-- real API only when asked explicitly: ANTHROPIC_DEMO_REAL=1 with ANTHROPIC_API_KEY set (that
-- sends three tiny probes and two short questions; the key is never printed).
--
-- Each step runs bin/anthropic-lua as a subprocess with this same interpreter (arg[-1]), so
-- what is shown is what a user would type. Exit code 0 when every step ended as expected.

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local script_dir = (arg and arg[0] or ""):match("^(.*)[/\\][^/\\]*$") or "."
local root = script_dir .. "/.."
local lua = arg and arg[-1] or "lua"
local cli = root .. "/bin/anthropic-lua"

local function say(fmt, ...) io.stdout:write(string.format(fmt, ...), "\n"); io.stdout:flush() end

-- Exit code of os.execute across Lua 5.1 (raw wait status), LuaJIT and 5.2+ (true/nil, "exit", n).
local function exit_code(a, _, c)
  if type(a) == "number" then return a >= 256 and math.floor(a / 256) or a end
  if c ~= nil then return c end
  return a and 0 or 1
end

-- Starts the mock; returns its pid and base URL. --watch-pid makes it exit with this process.
local function start_mock()
  local cmd = string.format("exec %s %s --host 127.0.0.1 --port 0 --watch-pid $PPID </dev/null & echo pid $!",
    shell_quote(lua), shell_quote(root .. "/bin/anthropic-mock"))
  local p = assert(io.popen(cmd, "r"))
  local pid, url
  while not (pid and url) do
    local line = p:read("*l")
    if not line then break end
    pid = pid or tonumber(line:match("^pid (%d+)$"))
    url = url or line:match("^listening (http://%S+)$")
  end
  p:close()
  if not url then
    if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
    error("the mock did not start (see its message above)", 0)
  end
  return pid, url
end

local failures = 0

-- Runs one CLI step: shows the command line, runs it, checks the exit code.
local function step(narration, env, shown_env, args, expected)
  say("")
  say("# %s", narration)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = a:find("[%s'\"$]") and shell_quote(a) or a end
  say("$ %santhropic-lua %s", shown_env, table.concat(quoted, " "))
  local prefix = {}
  for k, v in pairs(env) do prefix[#prefix + 1] = k .. "=" .. shell_quote(v) end
  local qargs = {}
  for i, a in ipairs(args) do qargs[i] = shell_quote(a) end
  -- stdin from /dev/null: `ask` appends piped stdin to its prompt, and these steps pipe nothing.
  local code = exit_code(os.execute(string.format("env %s %s %s %s </dev/null", table.concat(prefix, " "),
    shell_quote(lua), shell_quote(cli), table.concat(qargs, " "))))
  if code == expected then
    say("# -> exit %d, as expected", code)
  else
    failures = failures + 1
    say("# -> exit %d, expected %d: this step did not go as it should", code, expected)
  end
end

local function demo(mode, url, good_key)
  local env = { ANTHROPIC_API_KEY = good_key }
  if url then env.ANTHROPIC_BASE_URL = url end
  local shown = url and ("ANTHROPIC_BASE_URL=" .. url .. " ") or ""
  local key_label = mode == "mock" and "the mock's free-tier key (Haiku only)" or "your ANTHROPIC_API_KEY"

  step("Which models may this key use? One tiny probe per model, all at once; key: " .. key_label .. ".",
    env, shown, { "check", "claude-opus-4-7", "claude-sonnet-4-6", "claude-haiku-4-5" }, 0)

  step("Ask Sonnet; if the key may not use it (403 PermissionDenied), fall back to Haiku and say so on stderr.",
    env, shown, { "ask", "--model", "claude-sonnet-4-6", "--fallback", "claude-haiku-4-5", "--max-tokens", "64",
      "Say hello in five words." }, 0)

  local wrong = { ANTHROPIC_API_KEY = "sk-ant-demo-not-a-real-key", ANTHROPIC_BASE_URL = url }
  step("The same question with a wrong key: 401 AuthenticationFailed is a key problem, no fallback (exit 3).",
    wrong, shown .. "ANTHROPIC_API_KEY=<a wrong key> ",
    { "ask", "--model", "claude-sonnet-4-6", "--max-tokens", "64", "Say hello in five words." }, 3)
end

local function main()
  local key = os.getenv("ANTHROPIC_API_KEY")
  local real = os.getenv("ANTHROPIC_DEMO_REAL") == "1" and key ~= nil and key ~= ""
  if real then
    say("# Demo against the real Anthropic API (ANTHROPIC_DEMO_REAL=1). The key is never printed.")
    demo("real", os.getenv("ANTHROPIC_BASE_URL"), key)
    return
  end
  if os.getenv("ANTHROPIC_DEMO_REAL") == "1" then
    say("# ANTHROPIC_DEMO_REAL=1 but ANTHROPIC_API_KEY is not set: using the offline mock instead.")
  end
  local pid, url = start_mock()
  say("# Started the offline mock of the API at %s (pid %d); set ANTHROPIC_DEMO_REAL=1 and", url, pid)
  say("# ANTHROPIC_API_KEY to run this against the real API instead.")
  local ok, err = pcall(demo, "mock", url, "sk-ant-mock-free")
  os.execute("kill " .. pid .. " 2>/dev/null")
  say("")
  say("# Stopped the mock.")
  if not ok then error(err, 0) end
end

local ok, err = pcall(main)
if not ok then
  io.stderr:write("demo: ", tostring(err), "\n")
  os.exit(1)
end
if failures > 0 then
  say("# %d step(s) did not end as expected.", failures)
  os.exit(1)
end
say("# Done: every step ended as expected.")
