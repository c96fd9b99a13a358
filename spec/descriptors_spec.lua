-- Resources are released on time (issue 15): client:close() gives back every socket and
-- descriptor at once; Lua 5.4's <close> works on clients and streams; a client nobody closed
-- has its descriptors freed by the collector. Counted in /proc/self/fd (Linux).

local anthropic = require "anthropic"
local support = require "spec.support.client"

local PARAMS = { model = "claude-haiku-4-5", max_tokens = 16, messages = { { role = "user", content = "hi" } } }

local PID
do
  local f = io.open("/proc/self/stat")
  if f then
    PID = f:read("*l"):match("^%d+")
    f:close()
  end
end

-- Descriptors of this process, leaving out the pipe the count comes back on: popen closes its
-- copy of the pipe's write end only after the shell has started, so a listing can catch that
-- end or miss it, one descriptor either way (CI saw 8 for 7 under load). The shell's own
-- stdout is that pipe; every descriptor of this process that names it is skipped.
local function fd_count()
  local p = assert(io.popen("me=$(readlink /proc/$$/fd/1); for f in /proc/" .. PID ..
    "/fd/*; do [ \"$(readlink \"$f\")\" = \"$me\" ] || echo; done | wc -l"))
  local n = tonumber(p:read("*a"))
  p:close()
  return n
end

local function full_gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

local function proc_it(name, fn)
  if PID then it(name, fn) else pending(name .. " (needs /proc)") end
end

describe("descriptors", function()
  before_each(full_gc)

  proc_it("client:close() releases the connection it keeps alive, at once", function()
    local base = fd_count()
    local c = support.new_client()
    c.messages.create(PARAMS)
    local open = fd_count()
    assert.is_true(open > base, "a kept-alive connection holds a descriptor (" .. base .. " -> " .. open .. ")")
    c:close()
    assert.equal(base, fd_count())
  end)

  proc_it("closing with a stream and a request in flight releases both", function()
    local base = fd_count()
    local c = support.new_client()
    local s = c.messages.stream(PARAMS)
    c.messages.create(PARAMS, { on_done = function() end })
    c:poll(10)
    assert.is_true(fd_count() > base)
    c:close()
    assert.equal(base, fd_count())
    s:close()
  end)

  proc_it("an unclosed client's descriptors are freed by the collector", function()
    local base = fd_count()
    do
      local c = support.new_client()
      c.messages.create(PARAMS)
      assert.is_true(fd_count() > base)
    end
    full_gc()
    assert.equal(base, fd_count())
  end)

  if _VERSION == "Lua 5.4" then
    proc_it("<close> on a client and on a stream (Lua 5.4)", function()
      local base = fd_count()
      local chunk = assert(load([[
        local anthropic, support, PARAMS = ...
        local c <close> = support.new_client()
        do
          local s <close> = c.messages.stream(PARAMS)
          for _ in s:events() do break end
        end
        local text = c.messages.create(PARAMS).content[1].text
        return c, text
      ]]))
      local c, text = chunk(anthropic, support, PARAMS)
      assert.equal("string", type(text))
      assert.is_true(c._core:is_closed(), "<close> closed the client")
      assert.equal(base, fd_count())
    end)
  end
end)
