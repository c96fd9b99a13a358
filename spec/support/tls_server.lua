-- spec.support.tls_server: an HTTPS front for the mock, for the TLS specs.
--
--   local tls = require "spec.support.tls_server"
--   local ok, why = tls.available()                 -- openssl and nginx on PATH?
--   local dir = tls.tempdir()
--   local cert, key = tls.make_cert(dir, "a", "DNS:localhost,IP:127.0.0.1")
--   local srv = tls.start { dir = dir, cert = cert, key = key, upstream = mock.url() }
--   srv.url  -> "https://127.0.0.1:PORT"   (every request is proxied to the mock, unbuffered)
--   srv.stop()
--
-- The certificate is self-signed (a P-256 key, valid for two days), made at test time with the
-- openssl command; nothing is written outside `dir`. nginx runs in the foreground with
-- master_process off (no fork, no user switch, same as root or not) and is watched by a small
-- shell loop that stops it when this test process is gone, so a crashed run leaves nothing behind.

local socket = require "socket"

local M = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.quote = quote

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.*)__rc=(%d+)%s*$")
  return tonumber(rc), body
end

local function which(name)
  local rc = sh("command -v " .. name .. " >/dev/null")
  return rc == 0
end

--- available() -> true, or false and what is missing
function M.available()
  local missing = {}
  for _, tool in ipairs { "openssl", "nginx" } do
    if not which(tool) then missing[#missing + 1] = tool end
  end
  if #missing > 0 then return false, "missing: " .. table.concat(missing, ", ") end
  return true
end

--- tempdir() -> a new private directory (removed by remove_dir)
function M.tempdir()
  local rc, out = sh("mktemp -d \"${TMPDIR:-/tmp}/anthropic-tls.XXXXXX\"")
  assert(rc == 0, "mktemp failed: " .. out)
  return (out:gsub("%s+$", ""))
end

function M.remove_dir(dir)
  if dir and dir:match("anthropic%-tls%.") then sh("rm -rf " .. quote(dir)) end
end

--- make_cert(dir, name, san) -> cert path, key path. A self-signed certificate for `san`
--- ("DNS:localhost,IP:127.0.0.1"), also usable as its own CA file.
function M.make_cert(dir, name, san)
  local cert, key = dir .. "/" .. name .. ".crt", dir .. "/" .. name .. ".key"
  local rc, out = sh(string.format(
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      .. "-subj %s -addext %s -keyout %s -out %s",
    quote("/CN=lua-anthropic test " .. name), quote("subjectAltName=" .. san), quote(key), quote(cert)))
  assert(rc == 0, "openssl could not make a certificate: " .. out)
  return cert, key
end

-- n distinct free loopback ports: all are bound before any is released.
local function free_ports(n)
  local held, ports = {}, {}
  for i = 1, n do
    held[i] = assert(socket.bind("127.0.0.1", 0))
    local _, port = held[i]:getsockname()
    ports[i] = tonumber(port)
  end
  for i = 1, n do held[i]:close() end
  return ports
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

local ATTEMPTS = 5

--- nginx{ dir, ports = n, conf = function(ports) -> config text [, first_ports = {...}] }
---   -> pid, ports
--- Starts nginx on n fresh loopback ports and returns once this nginx is serving them. A port is
--- free when chosen and can be taken before nginx binds it (the specs run two Luas at once, each
--- starting servers), and then a plain "the port accepts" check would pass against the other
--- process's server. nginx writes its pid file only after it bound every listener, so "the pid
--- file names our pid" is the readiness test; a bind that failed is retried on new ports.
--- The config must say `pid <dir>/nginx.pid;` and `error_log <dir>/error.log`. first_ports (for
--- the spec of this helper) replaces the first choice of ports.
function M.nginx(o)
  local pid_path, log_path = o.dir .. "/nginx.pid", o.dir .. "/error.log"
  assert(sh("mkdir -p " .. quote(o.dir .. "/tmp")) == 0)
  local last
  for attempt = 1, ATTEMPTS do
    local ports = attempt == 1 and o.first_ports or free_ports(o.ports)
    local path = o.dir .. "/nginx.conf"
    local f = assert(io.open(path, "w"))
    f:write(o.conf(ports))
    f:close()
    os.remove(pid_path)
    os.remove(log_path)
    -- $PPID of the shell io.popen runs is this process: the watcher stops nginx once it is gone.
    local cmd = string.format("nginx -p %s -c %s -e %s </dev/null >/dev/null 2>&1 & n=$!; echo pid $n; "
      .. "( while kill -0 $PPID 2>/dev/null && kill -0 $n 2>/dev/null; do sleep 1; done; kill $n 2>/dev/null ) "
      .. "</dev/null >/dev/null 2>&1 &",
      quote(o.dir), quote(path), quote(log_path))
    local p = assert(io.popen(cmd, "r"))
    local pid = tonumber((p:read("*l") or ""):match("^pid (%d+)"))
    p:close()
    assert(pid, "nginx did not start")
    local deadline = socket.gettime() + 10
    while true do
      if tonumber((read_file(pid_path) or ""):match("^%s*(%d+)")) == pid then return pid, ports end
      local log = read_file(log_path) or ""
      -- nginx retries a failed bind for 2.5 s before it exits: no need to wait for that
      local taken = log:find("Address already in use", 1, true)
      if taken or sh("kill -0 " .. pid) ~= 0 or socket.gettime() > deadline then
        sh("kill " .. pid)
        last = "nginx did not come up on ports " .. table.concat(ports, ", ") .. ": " .. log
        if not taken then error(last, 2) end
        break
      end
      socket.sleep(0.02)
    end
  end
  error(last .. " (" .. ATTEMPTS .. " attempts)", 2)
end

local CONF = [[
daemon off;
master_process off;
worker_processes 1;
pid @DIR@/nginx.pid;
error_log @DIR@/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path @DIR@/tmp/body;
    proxy_temp_path @DIR@/tmp/proxy;
    fastcgi_temp_path @DIR@/tmp/fastcgi;
    uwsgi_temp_path @DIR@/tmp/uwsgi;
    scgi_temp_path @DIR@/tmp/scgi;
    server {
        listen 127.0.0.1:@PORT@ ssl;
        ssl_certificate @CERT@;
        ssl_certificate_key @KEY@;
        location / {
            proxy_pass @UPSTREAM@;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 300s;
        }
    }
}
]]

--- start{ dir, cert, key, upstream } -> { url, port, pid, stop }
function M.start(o)
  local pid, ports = M.nginx { dir = o.dir, ports = 1, first_ports = o.first_ports, conf = function(p)
    return (CONF:gsub("@(%u+)@", { DIR = o.dir, PORT = tostring(p[1]), CERT = o.cert, KEY = o.key,
      UPSTREAM = o.upstream }))
  end }
  local port = ports[1]
  local srv = { url = "https://127.0.0.1:" .. port, port = port, pid = pid }
  function srv.stop()
    if srv.pid then
      sh("kill " .. srv.pid)
      srv.pid = nil
    end
  end
  return srv
end

return M
