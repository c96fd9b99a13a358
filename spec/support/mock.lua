-- spec.support.mock: run and talk to bin/anthropic-mock from specs.
--
--   local mock = require "spec.support.mock"
--   mock.url()        base URL: $ANTHROPIC_MOCK_URL, else one mock started for
--                     this process (stopped at exit) on a free port
--   mock.requests()   the decoded request log (list)
--   mock.bodies([route [, url]]) the decoded JSON bodies of the logged requests (on route)
--   mock.clear()      DELETE /_mock/requests (log and fault counters)
--   mock.request(method, path, headers, body [, opts]) -> status, headers, body [, err]
--                     one request on a fresh connection (raw LuaSocket client)
--   mock.connect([url]) -> conn with conn:request(...) for keep-alive tests
--   mock.spawn(args)  a separate mock process: {url=, pid=, stop=}
--   mock.headers(overrides), mock.sse(text), mock.KEYS, mock.lua()
--   mock.dead_url()   a loopback URL where nothing listens (a port held bound, never listening)
--
-- Uses only LuaSocket and lua-cjson. Started mocks get --watch-pid <this
-- process>, so they exit on their own when the test process is gone, even if
-- it crashed; a normal exit also kills them right away (a __gc sentinel).

local socket = require "socket"
local cjson = require "cjson"

local M = {}

M.KEYS = { free = "sk-ant-mock-free", build = "sk-ant-mock-build", scale = "sk-ant-mock-scale" }
M.VERSION = "2023-06-01"
M.MODELS = { haiku = "claude-haiku-4-5", sonnet = "claude-sonnet-4-6", opus = "claude-opus-4-7" }

-- the repo root: two levels above this file
local function root()
  local src = debug.getinfo(1, "S").source:sub(2)
  local dir = src:match("^(.*)/spec/support/[^/]*$")
  if dir then return dir end
  if src:match("^spec/support/") then return "." end
  return "."
end
M.root = root

-- lua() -> the interpreter to run the mock with: $ANTHROPIC_MOCK_LUA, else the
-- same Lua version that runs this code.
function M.lua()
  local env = os.getenv("ANTHROPIC_MOCK_LUA")
  if env and env ~= "" then return env end
  if type(jit) == "table" then return "luajit" end -- luacheck: ignore 113
  return "lua" .. _VERSION:match("%d+%.%d+")
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

local spawned = {}

local function kill(pid)
  os.execute("kill " .. pid .. " 2>/dev/null")
end

-- At exit: 5.2+ and LuaJIT close the state on os.exit(code, true) (busted does
-- that), running this; on 5.1 the mock's --watch-pid does the job.
local function sentinel()
  local function gc()
    for pid in pairs(spawned) do kill(pid) end
  end
  if _VERSION == "Lua 5.1" and newproxy then -- luacheck: ignore 113
    local p = newproxy(true) -- luacheck: ignore 113
    getmetatable(p).__gc = gc
    return p
  end
  return setmetatable({}, { __gc = gc })
end
M._sentinel = sentinel()

-- spawn(args) -> {url, pid, host, port, stop}. args: list of extra CLI args.
function M.spawn(args)
  local parts = {}
  for _, a in ipairs(args or {}) do parts[#parts + 1] = shell_quote(a) end
  local cmd = string.format("exec %s %s --host 127.0.0.1 --port 0 --watch-pid $PPID %s </dev/null & echo pid $!",
    M.lua(), shell_quote(root() .. "/bin/anthropic-mock"), table.concat(parts, " "))
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
    if pid then kill(pid) end
    error("anthropic-mock did not start (see its stderr above)", 2)
  end
  spawned[pid] = true
  local h = { url = url, pid = pid }
  h.host, h.port = url:match("^http://([^:/]+):(%d+)")
  h.port = tonumber(h.port)
  function h.stop()
    if spawned[pid] then
      spawned[pid] = nil
      kill(pid)
    end
  end
  return h
end

-- The ports of dead_url, held for the life of this process: bound but never listening, a port
-- refuses every connection, and no other process (the specs run two Luas at once) can take it,
-- as it could a port chosen and then released.
local dead_ports = {}

function M.dead_url()
  local s = assert(socket.tcp())
  assert(s:bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  dead_ports[#dead_ports + 1] = s
  return "http://127.0.0.1:" .. port
end

local shared

function M.url()
  local env = os.getenv("ANTHROPIC_MOCK_URL")
  if env and env ~= "" then return (env:gsub("/+$", "")) end
  if not shared then shared = M.spawn({}) end
  return shared.url
end

-- split(url) -> host, port, base path
local function split(url)
  local host, port, path = url:match("^http://([^:/]+):?(%d*)(.*)$")
  if not host then error("not an http:// URL: " .. tostring(url), 3) end
  return host, tonumber(port) or 80, path
end

function M.headers(overrides)
  local h = { ["x-api-key"] = M.KEYS.scale, ["anthropic-version"] = M.VERSION,
    ["content-type"] = "application/json" }
  for k, v in pairs(overrides or {}) do
    if v == false then h[k] = nil else h[k] = v end
  end
  return h
end

local Conn = {}
Conn.__index = Conn

-- connect([url], timeout [, total]) -> conn (raises when the connection is refused)
-- timeout: seconds per socket operation, or for the whole connection if total.
function M.connect(url, timeout, total)
  url = url or M.url()
  local host, port, base = split(url)
  local sock = socket.tcp()
  sock:settimeout(timeout or 15)
  local ok, err = sock:connect(host, port)
  if not ok then error("cannot connect to " .. url .. ": " .. tostring(err), 2) end
  sock:setoption("tcp-nodelay", true)
  local deadline = total and (socket.gettime() + (timeout or 15)) or nil
  -- LuaSocket timeouts are per call: a total deadline is enforced here
  local wrapped = setmetatable({}, { __index = function(_, name)
    return function(_, ...)
      if deadline and name == "receive" then
        local left = deadline - socket.gettime()
        if left <= 0 then return nil, "timeout", "" end
        sock:settimeout(left)
      end
      return sock[name](sock, ...)
    end
  end })
  return setmetatable({ sock = wrapped, raw = sock, host = host, port = port, base = base }, Conn)
end

-- send(method, path, headers, body, opts): opts.chunked = list of body pieces
-- sent with Transfer-Encoding: chunked; opts.raw = exact bytes to send.
function Conn:send(method, path, headers, body, opts)
  opts = opts or {}
  if opts.raw then return self.sock:send(opts.raw) end
  if type(body) == "table" then body = cjson.encode(body) end
  local lines = { method .. " " .. self.base .. path .. " HTTP/1.1", "host: " .. self.host .. ":" .. self.port }
  local has = {}
  local names = {}
  for k in pairs(headers or {}) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    lines[#lines + 1] = k .. ": " .. tostring(headers[k])
    has[k:lower()] = true
  end
  local payload
  if opts.chunked then
    lines[#lines + 1] = "transfer-encoding: chunked"
    local out = {}
    for _, piece in ipairs(opts.chunked) do
      out[#out + 1] = string.format("%x\r\n", #piece) .. piece .. "\r\n"
    end
    out[#out + 1] = "0\r\n\r\n"
    payload = table.concat(out)
  elseif body then
    if not has["content-length"] then lines[#lines + 1] = "content-length: " .. #body end
    payload = body
  end
  local ok, err = self.sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (payload or ""))
  if not ok then return nil, err end
  return true
end

local function read_line(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, err end
  return (line:gsub("\r$", ""))
end

-- read(opts) -> status, headers, body [, err]
-- opts.on_chunk(data): called per received body piece (chunked replies);
-- a reply cut short returns what arrived and err ("closed" / "timeout").
function Conn:read(opts)
  opts = opts or {}
  local sock = self.sock
  local line, err
  repeat
    line, err = read_line(sock)
    if not line then return nil, nil, nil, err end
    local code = tonumber(line:match("^HTTP/%d%.%d (%d+)"))
    local headers = {}
    while true do
      local h, herr = read_line(sock)
      if not h then return nil, nil, nil, herr end
      if h == "" then break end
      local k, v = h:match("^([^:]+):%s*(.-)%s*$")
      k = k:lower()
      headers[k] = headers[k] and (headers[k] .. ", " .. v) or v
    end
    if code ~= 100 then
      self.status, self.headers = code, headers
      break
    end
  until false
  local headers, parts = self.headers, {}
  local function got(data)
    parts[#parts + 1] = data
    if opts.on_chunk then opts.on_chunk(data) end
  end
  if opts.head_only then return self.status, headers, nil end
  if (headers["transfer-encoding"] or ""):find("chunked") then
    while true do
      local sz, serr = read_line(sock)
      if not sz then return self.status, headers, table.concat(parts), serr end
      local n = tonumber(sz:match("^(%x+)"), 16)
      if not n then return self.status, headers, table.concat(parts), "bad chunk" end
      if n == 0 then
        read_line(sock)
        break
      end
      local data, derr, partial = sock:receive(n)
      if not data then
        if partial and #partial > 0 then got(partial) end
        return self.status, headers, table.concat(parts), derr
      end
      got(data)
      read_line(sock)
    end
  elseif headers["content-length"] then
    local n = tonumber(headers["content-length"])
    if n > 0 then
      local data, derr, partial = sock:receive(n)
      if not data then return self.status, headers, partial or "", derr end
      got(data)
    end
  else
    local data, _, partial = sock:receive("*a")
    got(data or partial or "")
  end
  return self.status, headers, table.concat(parts)
end

function Conn:request(method, path, headers, body, opts)
  local ok, err = self:send(method, path, headers, body, opts)
  if not ok then return nil, nil, nil, err end
  return self:read(opts)
end

function Conn:close()
  self.raw:close()
end

-- request(method, path, headers, body [, opts]) -> status, headers, body [, err]
-- opts.url: another mock's base URL; opts.timeout: seconds (default 15).
function M.request(method, path, headers, body, opts)
  opts = opts or {}
  local c = M.connect(opts.url, opts.timeout)
  local status, h, b, err = c:request(method, path, headers, body, opts)
  c:close()
  return status, h, b, err
end

-- json_request(method, path, body [, header_overrides, opts]) -> status, decoded body, headers
function M.json_request(method, path, body, overrides, opts)
  local status, h, b, err = M.request(method, path, M.headers(overrides), body, opts)
  local ok, decoded = pcall(cjson.decode, b or "")
  return status, ok and decoded or b, h, err
end

-- sse(text) -> list of {event=, data=(decoded JSON or raw string)}
function M.sse(text)
  local out = {}
  for block in (text .. "\n\n"):gmatch("(.-)\r?\n\r?\n") do
    if block ~= "" then
      local ev, data = nil, {}
      for l in (block .. "\n"):gmatch("(.-)\r?\n") do
        local k, v = l:match("^(%w+): ?(.*)$")
        if k == "event" then ev = v elseif k == "data" then data[#data + 1] = v end
      end
      local raw = table.concat(data, "\n")
      local ok, decoded = pcall(cjson.decode, raw)
      out[#out + 1] = { event = ev or "message", data = ok and decoded or raw, raw = raw }
    end
  end
  return out
end

function M.requests(url)
  local status, _, body = M.request("GET", "/_mock/requests", {}, nil, { url = url })
  assert(status == 200, "GET /_mock/requests failed: " .. tostring(status))
  return cjson.decode(body).requests
end

-- bodies([route [, url]]) -> the decoded JSON bodies of the logged requests, in order (only
-- those on `route`, e.g. "/v1/messages", when given).
function M.bodies(route, url)
  local out = {}
  for _, r in ipairs(M.requests(url)) do
    if route == nil or r.route == route then out[#out + 1] = cjson.decode(r.body) end
  end
  return out
end

function M.clear(url)
  local status = M.request("DELETE", "/_mock/requests", {}, nil, { url = url })
  assert(status == 200, "DELETE /_mock/requests failed: " .. tostring(status))
end

-- run(args) -> exit code, combined stdout+stderr (for commands that end; one
-- that starts serving by mistake is killed after 10 s, exit code 124)
function M.run(args)
  local parts = {}
  for _, a in ipairs(args or {}) do parts[#parts + 1] = shell_quote(a) end
  local p = assert(io.popen(string.format("timeout 10 %s %s %s </dev/null 2>&1; echo \"rc=$?\"", M.lua(),
    shell_quote(root() .. "/bin/anthropic-mock"), table.concat(parts, " "))))
  local out = p:read("*a")
  p:close()
  local code = tonumber(out:match("rc=(%d+)%s*$"))
  return code, (out:gsub("rc=%d+%s*$", ""))
end

return M
