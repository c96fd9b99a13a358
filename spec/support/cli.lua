-- spec.support.cli: runs bin/anthropic-lua as a subprocess against the mock.
--
--   cli.run(args [, opts]) -> stdout, stderr, exit code   stdout/stderr are files, stdin opts.stdin
--                                                         (text) or /dev/null: nothing is a terminal
--   cli.pty(args [, opts]) -> output, exit code           inside a pseudo-terminal (`script`, from
--                                                         util-linux): stdin, stdout and stderr are
--                                                         the terminal; output is both, "\r\n" -> "\n";
--                                                         opts.input is typed into it
-- opts.key (default the free key; false: none), opts.base_url (default the mock),
-- opts.model_env (ANTHROPIC_MODEL), opts.config_home (XDG_CONFIG_HOME; default a directory that
-- does not exist, so no config file of the machine's leaks in), opts.env ({ NAME = value }).
-- Both assert that no key appears in anything the command printed.

local mock = require "spec.support.mock"
local run = require "spec.support.run"
local assert = require "luassert"

local M = {}

M.CLI = mock.root() .. "/bin/anthropic-lua"
M.WRONG = "sk-ant-wrong-key-123"
local ALL_KEYS = { mock.KEYS.free, mock.KEYS.build, mock.KEYS.scale, M.WRONG }

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  os.remove(path)
  return s
end

local function write_temp(text)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

local function env_prefix(opts)
  local key = opts.key
  if key == nil then key = mock.KEYS.free end
  local env = {
    ANTHROPIC_API_KEY = key or "", ANTHROPIC_AUTH_TOKEN = "", ANTHROPIC_BASE_URL = opts.base_url or mock.url(),
    ANTHROPIC_MODEL = opts.model_env or "", XDG_CONFIG_HOME = opts.config_home or "/nonexistent/anthropic-lua-spec",
    NO_COLOR = "", TERM = "xterm",
  }
  for k, v in pairs(opts.env or {}) do env[k] = v end
  local names = {}
  for k in pairs(env) do names[#names + 1] = k end
  table.sort(names)
  local parts = {}
  for i, k in ipairs(names) do parts[i] = k .. "=" .. run.quote(env[k]) end
  return "env " .. table.concat(parts, " ")
end

local function command_line(args, opts)
  local quoted = {}
  for i, a in ipairs(args) do quoted[i] = run.quote(a) end
  return string.format("%s %s %s %s", env_prefix(opts), run.quote(run.interpreter()), run.quote(M.CLI),
    table.concat(quoted, " "))
end

local function no_keys(...)
  for _, text in ipairs { ... } do
    for _, k in ipairs(ALL_KEYS) do assert.is_nil(text:find(k, 1, true), "a key was printed") end
  end
end

function M.run(args, opts)
  opts = opts or {}
  local out_path, err_path = os.tmpname(), os.tmpname()
  local in_path = opts.stdin and write_temp(opts.stdin)
  local cmd = string.format("%s %s >%s 2>%s; echo $?", command_line(args, opts),
    in_path and ("<" .. run.quote(in_path)) or "</dev/null", run.quote(out_path), run.quote(err_path))
  local p = assert(io.popen(cmd, "r"))
  local code = tonumber(p:read("*a"):match("(%d+)%s*$"))
  p:close()
  if in_path then os.remove(in_path) end
  local stdout, stderr = slurp(out_path), slurp(err_path)
  no_keys(stdout, stderr)
  return stdout, stderr, code
end

function M.pty(args, opts)
  opts = opts or {}
  local in_path = write_temp(opts.input or "")
  local cmd = string.format("timeout 30 script -qefc %s /dev/null <%s 2>&1; echo \"__exit=$?\"",
    run.quote(command_line(args, opts)), run.quote(in_path))
  local p = assert(io.popen(cmd, "r"))
  local text = p:read("*a")
  p:close()
  os.remove(in_path)
  local body, code = text:match("^(.*)__exit=(%d+)%s*$")
  body = body:gsub("\r\n", "\n")
  no_keys(body)
  return body, tonumber(code)
end

return M
