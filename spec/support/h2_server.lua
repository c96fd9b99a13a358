-- spec.support.h2_server: nginx serving canned Messages replies over HTTPS, once with HTTP/2 and
-- once without, with an access log that says which TCP connection carried which request.
--
--   local h2 = require "spec.support.h2_server"
--   assert(h2.available())                      -- openssl, nginx, and nginx built with http_v2
--   local dir = tls.tempdir()                   -- spec.support.tls_server's helpers make the
--   local cert, key = tls.make_cert(dir, ...)   -- temp dir and the self-signed certificate
--   local srv = h2.start { dir = dir, cert = cert, key = key, limit_rate = "200k", routes = {
--     { prefix = "stream", type = "text/event-stream", body = sse_bytes },
--     { prefix = "json", type = "application/json", body = json_bytes } } }
--   srv.h2, srv.h1     -- "https://127.0.0.1:P" (ALPN offers h2) and "https://127.0.0.1:Q" (http/1.1 only)
--   local mark = srv.mark(); ...; srv.log(mark) -- access log lines written since mark, parsed
--   srv.stop()
--
-- nginx cannot branch on a request body and its static handler refuses POST (405), so each route
-- is a file <dir>/www/<prefix>/v1/messages and `error_page 405 =200 $uri` turns the refused POST
-- into an internal GET of that file: a client whose base_url is srv.h2 .. "/stream" gets the SSE
-- body. Every reply carries `request-id: req_<nginx $request_id>` so a test can find the log line
-- of each of its requests. `limit_rate` (per request, also per HTTP/2 stream) makes replies last
-- long enough that concurrent requests really overlap.
--
-- Everything (config, pid, logs, temp paths, docroot) lives under `dir`. nginx runs in the
-- foreground as the current user (master_process off: no fork, no user switch) and is watched by
-- a shell loop that stops it when this test process is gone, as in spec.support.tls_server.

local socket = require "socket"
local tls = require "spec.support.tls_server"

local M = {}

local quote = tls.quote

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = p:read("*a")
  p:close()
  local body, rc = out:match("^(.*)__rc=(%d+)%s*$")
  return tonumber(rc), body
end

--- available() -> true, or false and why (what is missing, in words a CI log reader can act on)
function M.available()
  local ok, why = tls.available()
  if not ok then return false, why end
  local _, out = sh("nginx -V")
  if not out:find("--with-http_v2_module", 1, true) then
    return false, "nginx was built without the HTTP/2 module (`nginx -V` does not list "
      .. "--with-http_v2_module); install Debian's nginx package"
  end
  return true
end

local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

-- One line per request, fields separated by single spaces; $request (the original request
-- line) keeps the client's method, $request_method would say GET after the 405 redirect.
local LOG_FORMAT = "$server_port $connection $connection_requests $server_protocol $request_id "
  .. "$status $msec $request_time $request_length $body_bytes_sent \"$request\""

local CONF = [[
daemon off;
master_process off;
worker_processes 1;
pid @DIR@/nginx.pid;
error_log @DIR@/error.log warn;
events { worker_connections 512; }
http {
    log_format anth_h2 '@LOG_FORMAT@';
    access_log @DIR@/access.log anth_h2;
    client_body_temp_path @DIR@/tmp/body;
    proxy_temp_path @DIR@/tmp/proxy;
    fastcgi_temp_path @DIR@/tmp/fastcgi;
    uwsgi_temp_path @DIR@/tmp/uwsgi;
    scgi_temp_path @DIR@/tmp/scgi;
    types { }
    etag off;
    server_tokens off;
    keepalive_requests 1000;
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:@H2PORT@ ssl http2;
        listen 127.0.0.1:@H1PORT@ ssl;
        ssl_certificate @CERT@;
        ssl_certificate_key @KEY@;
        root @DIR@/www;
@LOCATIONS@
        location / { return 404; }
    }
}
]]

local LOCATION = [[
        location = /@PREFIX@/v1/messages {
            default_type @TYPE@;
            add_header request-id req_$request_id always;
            add_header cache-control no-cache always;
            limit_rate @RATE@;
            error_page 405 =200 $uri;
        }
]]

local function parse(line)
  local port, conn, nreq, proto, rid, status, msec, rtime, rlen, sent, request = line:match(
    "^(%d+) (%d+) (%d+) (%S+) (%x+) (%d+) ([%d.]+) ([%d.]+) (%d+) (%d+) \"(.*)\"$")
  if not port then error("unparsable access log line: " .. line, 0) end
  local start_s = tonumber(msec) - tonumber(rtime)
  return {
    port = tonumber(port), connection = conn, connection_requests = tonumber(nreq), protocol = proto,
    request_id = "req_" .. rid, status = tonumber(status), finish = tonumber(msec),
    start = start_s, request_time = tonumber(rtime), request_length = tonumber(rlen),
    bytes = tonumber(sent), request = request,
  }
end

--- start{ dir, cert, key, routes = { {prefix, type, body}, ... }, limit_rate = "0" }
---   -> { h2, h1, h2_port, h1_port, pid, mark(), log([mark]), stop() }
function M.start(o)
  local locs = {}
  for _, r in ipairs(o.routes) do
    assert(r.prefix:match("^[%w_-]+$"), "route prefix must be a plain word")
    assert(sh("mkdir -p " .. quote(o.dir .. "/www/" .. r.prefix .. "/v1")) == 0)
    write(o.dir .. "/www/" .. r.prefix .. "/v1/messages", r.body)
    locs[#locs + 1] = (LOCATION:gsub("@(%u+)@", { PREFIX = r.prefix, TYPE = r.type,
      RATE = o.limit_rate or "0" }))
  end
  write(o.dir .. "/access.log", "")
  local pid, ports = tls.nginx { dir = o.dir, ports = 2, conf = function(p)
    return (CONF:gsub("@([%u%d_]+)@", {
      DIR = o.dir, H2PORT = tostring(p[1]), H1PORT = tostring(p[2]), CERT = o.cert, KEY = o.key,
      LOG_FORMAT = LOG_FORMAT, LOCATIONS = table.concat(locs),
    }))
  end }
  local h2_port, h1_port = ports[1], ports[2]
  local srv = {
    h2 = "https://127.0.0.1:" .. h2_port, h1 = "https://127.0.0.1:" .. h1_port,
    h2_port = h2_port, h1_port = h1_port, pid = pid,
  }
  function srv.stop()
    if srv.pid then
      sh("kill " .. srv.pid)
      srv.pid = nil
    end
  end

  local log_path = o.dir .. "/access.log"
  --- mark() -> a position in the access log; log(mark [, want]) -> the requests logged after it.
  --- nginx writes a request's line after it sent the reply, so a client can hold its last reply
  --- before the line is there: with `want`, log() waits (up to 5 s) until that many complete
  --- lines are in, and only ever parses whole lines.
  function srv.mark()
    local f = assert(io.open(log_path, "rb"))
    local size = f:seek("end")
    f:close()
    return size
  end
  function srv.log(since, want)
    local deadline = socket.gettime() + 5
    while true do
      local f = assert(io.open(log_path, "rb"))
      f:seek("set", since or 0)
      local text = f:read("*a")
      f:close()
      local out = {}
      for line in text:gmatch("([^\n]*)\n") do out[#out + 1] = parse(line) end
      if not want or #out >= want or socket.gettime() > deadline then return out end
      socket.sleep(0.02)
    end
  end
  return srv
end

return M
