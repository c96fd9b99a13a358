-- TLS and the http:// policy (issue 9). An HTTPS front (nginx, spec.support.tls_server) with a
-- certificate made at test time proxies to the mock:
--   * verification is on by default: a self-signed certificate is a ConnectionError naming the
--     certificate problem, and the mock's log proves no request got through;
--   * ca_file = that certificate -> success; a CA that did not sign it, or a certificate for
--     another host name -> refused; a ca_file that does not exist -> refused, naming it;
--   * insecure_skip_tls_verify = true -> success (the one, plainly named, way to turn it off);
--   * http:// is accepted for loopback, and for any other host only with allow_insecure_http =
--     true; the check happens in anthropic.new, before any traffic (the non-loopback addresses
--     below are only ever strings: nothing connects to them).

local anthropic = require "anthropic"
local mock = require "spec.support.mock"
local tls = require "spec.support.tls_server"
local support = require "spec.support.client"

local errors = anthropic.errors
local FREE, HAIKU = "sk-ant-mock-free", "claude-haiku-4-5"

local function params()
  return { model = HAIKU, max_tokens = 16, messages = { { role = "user", content = "over TLS" } } }
end

local raises = support.raises

local available, why = tls.available()
local describe_tls = available and describe or function(name) pending(name .. " (" .. why .. ")") end

describe_tls("TLS verification", function()
  local dir, srv, cert, key, other_ca, wrong_host

  setup(function()
    dir = tls.tempdir()
    cert, key = tls.make_cert(dir, "server", "DNS:localhost,IP:127.0.0.1")
    other_ca = tls.make_cert(dir, "other", "DNS:localhost,IP:127.0.0.1")
    wrong_host = { tls.make_cert(dir, "wrong-host", "DNS:api.example.com") }
    srv = tls.start { dir = dir, cert = cert, key = key, upstream = mock.url() }
  end)
  teardown(function()
    if srv then srv.stop() end
    tls.remove_dir(dir)
  end)
  before_each(function() mock.clear() end)

  -- connect_timeout: a TLS handshake (and loading the system CA store) takes seconds under
  -- valgrind; the default 5 s would turn a certificate error into a Timeout there.
  local function client(extra)
    local opts = { api_key = FREE, base_url = srv.url, max_retries = 0, connect_timeout = 120 }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return anthropic.new(opts)
  end

  it("is on by default: a self-signed certificate is a ConnectionError naming the problem", function()
    local c = client()
    local err = raises(c.messages.create, params())
    assert.are.equal("ConnectionError", err.class_name, tostring(err))
    assert.is_true(err:is(errors.ConnectionError))
    assert.truthy(err.message:find("SSL certificate problem: self%-?signed certificate"), err.message)
    assert.are.equal(0, #mock.requests(), "a request got through an unverified connection")
    c:close()
  end)

  it("refuses a stream the same way", function()
    local c = client()
    local err = raises(c.messages.stream, params())
    assert.are.equal("ConnectionError", err.class_name, tostring(err))
    assert.truthy(err.message:find("SSL certificate problem", 1, true), err.message)
    assert.are.equal(0, #mock.requests())
    c:close()
  end)

  it("ca_file = the server's certificate: requests and streams succeed", function()
    local c = client { ca_file = cert }
    local msg = c.messages.create(params())
    assert.are.equal("You said: over TLS", msg.content[1].text)
    assert.are.equal("You said: over TLS", c.messages.stream(params()):final_text())
    local log = mock.requests()
    assert.are.equal(2, #log)
    assert.are.equal("***", log[1].headers["x-api-key"])
    c:close()
  end)

  it("ca_file = a CA that did not sign the certificate: refused", function()
    local c = client { ca_file = other_ca }
    local err = raises(c.messages.create, params())
    assert.are.equal("ConnectionError", err.class_name, tostring(err))
    assert.truthy(err.message:find("SSL certificate problem", 1, true), err.message)
    assert.are.equal(0, #mock.requests())
    c:close()
  end)

  it("a trusted certificate for another host name: refused (the host name is checked)", function()
    local d2 = tls.tempdir()
    local s2
    finally(function()
      if s2 then s2.stop() end
      tls.remove_dir(d2)
    end)
    s2 = tls.start { dir = d2, cert = wrong_host[1], key = wrong_host[2], upstream = mock.url() }
    local c = anthropic.new { api_key = FREE, base_url = s2.url, max_retries = 0, ca_file = wrong_host[1],
      connect_timeout = 120 }
    local err = raises(c.messages.create, params())
    assert.are.equal("ConnectionError", err.class_name, tostring(err))
    assert.truthy(err.message:find("127.0.0.1", 1, true), err.message)
    assert.truthy(err.message:lower():find("subject"), err.message)
    assert.are.equal(0, #mock.requests())
    c:close()
  end)

  it("a ca_file that does not exist: refused, naming the file", function()
    local missing = dir .. "/no-such-ca.pem"
    local c = client { ca_file = missing }
    local err = raises(c.messages.create, params())
    assert.are.equal("ConnectionError", err.class_name, tostring(err))
    assert.truthy(err.message:find(missing, 1, true), err.message)
    assert.are.equal(0, #mock.requests())
    c:close()
  end)

  it("insecure_skip_tls_verify = true turns verification off", function()
    local c = client { insecure_skip_tls_verify = true }
    assert.are.equal("You said: over TLS", c.messages.create(params()).content[1].text)
    assert.are.equal(1, #mock.requests())
    c:close()
  end)

  it("insecure_skip_tls_verify = false is the default and verifies", function()
    local c = client { insecure_skip_tls_verify = false }
    local err = raises(c.messages.create, params())
    assert.truthy(err.message:find("SSL certificate problem", 1, true), err.message)
    c:close()
  end)

  it("verification stays per client: a verifying client next to an insecure one still refuses", function()
    local insecure = client { insecure_skip_tls_verify = true }
    local strict = client()
    assert.are.equal("message", insecure.messages.create(params()).type)
    local err = raises(strict.messages.create, params())
    assert.truthy(err.message:find("SSL certificate problem", 1, true), err.message)
    assert.are.equal("message", insecure.messages.create(params()).type)
    assert.are.equal(2, #mock.requests())
    insecure:close()
    strict:close()
  end)

  -- The specs run two Luas at once, each starting HTTPS fronts on ports it chose as free. When the
  -- other process's server holds the chosen port, the front must move to new ports, not report
  -- "up" because something accepts there (CI once saw this as certificate errors and requests
  -- landing in the other process's mock).
  it("the test's own HTTPS front comes up on new ports when its first choice is taken", function()
    local socket = require "socket"
    local squatter = assert(socket.bind("127.0.0.1", 0))
    local _, taken = squatter:getsockname()
    taken = tonumber(taken)
    local d2 = tls.tempdir()
    local s2
    finally(function()
      squatter:close()
      if s2 then s2.stop() end
      tls.remove_dir(d2)
    end)
    s2 = tls.start { dir = d2, cert = cert, key = key, upstream = mock.url(), first_ports = { taken } }
    assert.are_not.equal(taken, s2.port)
    local c = anthropic.new { api_key = FREE, base_url = s2.url, max_retries = 0, ca_file = cert,
      connect_timeout = 120 }
    assert.are.equal("You said: over TLS", c.messages.create(params()).content[1].text)
    assert.are.equal(1, #mock.requests())
    c:close()
  end)
end)

describe("http:// base URLs", function()
  -- Addresses in documentation/private ranges, used only as strings: anthropic.new must refuse
  -- (or accept) them without connecting anywhere.
  local REMOTE = { "http://10.255.255.1", "http://192.0.2.10:8080/v1", "http://api.anthropic.com",
    "http://[2001:db8::1]:80", "http://localhost.localdomain.example" }

  for _, url in ipairs(REMOTE) do
    it("refuses " .. url .. " without allow_insecure_http", function()
      local err = raises(anthropic.new, { api_key = FREE, base_url = url })
      assert.is_true(err:is(errors.UsageError))
      assert.truthy(err.message:find("^base_url: plain http:// is only allowed to a loopback host; pass "
        .. "allow_insecure_http = true to send the key unencrypted to "), err.message)
    end)

    it("accepts " .. url .. " with allow_insecure_http = true (no request made)", function()
      local c = anthropic.new { api_key = FREE, base_url = url, allow_insecure_http = true }
      assert.are.equal(url, c.base_url)
      assert.are.equal(0, c:inflight())
      c:close()
    end)
  end

  it("refuses an ANTHROPIC_BASE_URL of plain http:// to a remote host the same way", function()
    local run = require "spec.support.run"
    local out, code = run.lua([[
      local anthropic = require "anthropic"
      local ok, err = pcall(anthropic.new, {})
      io.write(tostring(err))
      os.exit(ok and 0 or 3)
    ]], { ANTHROPIC_API_KEY = FREE, ANTHROPIC_BASE_URL = "http://10.255.255.1:8080", ANTHROPIC_AUTH_TOKEN = "" })
    assert.are.equal(3, code, out)
    assert.are.equal("UsageError: base_url: plain http:// is only allowed to a loopback host; pass "
      .. "allow_insecure_http = true to send the key unencrypted to 10.255.255.1", out)
  end)

  local LOOPBACK = { "http://127.0.0.1:1", "http://127.8.9.10", "http://localhost:8080/prefix", "http://[::1]:9",
    "HTTP://LOCALHOST" }
  for _, url in ipairs(LOOPBACK) do
    it("accepts loopback " .. url .. " without the option", function()
      local c = anthropic.new { api_key = FREE, base_url = url }
      assert.are.equal(0, c:inflight())
      c:close()
    end)
  end

  it("and plain http:// to the loopback mock works end to end", function()
    local c = anthropic.new { api_key = FREE, base_url = mock.url(), max_retries = 0 }
    assert.are.equal("message", c.messages.create(params()).type)
    c:close()
  end)

  -- A proxy from the environment would carry loopback plain-http traffic, key included, off the
  -- machine. Each row runs a client in a subprocess whose environment names a "proxy" that is a
  -- listener of ours: the request must go straight to the mock, and nothing reach the listener.
  for _, var in ipairs { "http_proxy", "ALL_PROXY", "all_proxy" } do
    it("a loopback http:// base URL ignores " .. var .. " from the environment", function()
      local socket = require "socket"
      local run = require "spec.support.run"
      local proxy = assert(socket.bind("127.0.0.1", 0))
      local _, pport = proxy:getsockname()
      local out, code = run.lua(string.format([[
        local anthropic = require "anthropic"
        local c = anthropic.new { api_key = %q, base_url = %q, max_retries = 0, timeout = 3 }
        local ok, res = pcall(c.messages.create, { model = %q, max_tokens = 8,
          messages = { { role = "user", content = "direct" } } })
        io.write(ok and res.content[1].text or tostring(res))
        os.exit(ok and 0 or 3)
      ]], FREE, mock.url(), HAIKU), { [var] = "http://127.0.0.1:" .. pport, ANTHROPIC_API_KEY = "" })
      proxy:settimeout(0)
      local conn = proxy:accept()
      local seen = conn and conn:receive("*l") or nil
      if conn then conn:close() end
      proxy:close()
      assert.is_nil(seen, "the request went to the proxy: " .. tostring(seen))
      assert.are.equal(0, code, out)
      assert.are.equal("You said: direct", out)
    end)
  end

  it("an https:// base URL still goes through https_proxy (a CONNECT tunnel keeps it encrypted)", function()
    local socket = require "socket"
    local run = require "spec.support.run"
    local proxy = assert(socket.bind("127.0.0.1", 0))
    local _, pport = proxy:getsockname()
    local out = run.lua([[
      local anthropic = require "anthropic"
      local c = anthropic.new { api_key = "sk-ant-mock-free", base_url = "https://127.0.0.1:9", max_retries = 0,
        timeout = 1 }
      local ok, err = pcall(c.messages.create, { model = "m", max_tokens = 1, messages = {} })
      io.write(tostring(err))
    ]], { https_proxy = "http://127.0.0.1:" .. pport, ANTHROPIC_API_KEY = "" })
    proxy:settimeout(0)
    local conn = proxy:accept()
    local line = conn and conn:receive("*l") or nil
    if conn then conn:close() end
    proxy:close()
    assert.are.equal("CONNECT 127.0.0.1:9 HTTP/1.1", line, out)
  end)

  it("https:// to any host needs no option", function()
    local c = anthropic.new { api_key = FREE, base_url = "https://10.255.255.1:8443" }
    assert.are.equal("https://10.255.255.1:8443", c.base_url)
    c:close()
  end)
end)
