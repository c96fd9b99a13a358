-- The specs' own loopback ports. The specs run two Luas at once (.ci/run), each starting servers
-- on ports it picks: a port must stay what the spec took it for until the spec is done with it.
-- (The HTTPS fronts' case is in tls_spec: they come up on new ports when theirs was taken.)

local socket = require "socket"
local mock = require "spec.support.mock"

describe("mock.dead_url", function()
  it("refuses connections, and no other server can take its port meanwhile", function()
    local url = mock.dead_url()
    local port = tonumber(url:match("^http://127%.0%.0%.1:(%d+)$"))
    assert.truthy(port, url)
    local c = socket.tcp()
    local ok, err = c:connect("127.0.0.1", port)
    c:close()
    assert.is_nil(ok)
    assert.are.equal("connection refused", err)
    local other = socket.tcp()
    local bound, why = other:bind("127.0.0.1", port)
    other:close()
    assert.is_nil(bound, "another server took the dead URL's port")
    assert.are.equal("address already in use", why)
  end)
end)
