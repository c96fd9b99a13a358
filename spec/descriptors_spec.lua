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

-- This process's descriptors, one "fd target" line each, leaving out the pipe the listing comes
-- back on: popen closes its copy of the pipe's write end only after the shell has started, so a
-- listing can catch that end, miss it, or list its number and then find it gone, one descriptor
-- either way (CI saw 8 for 7, and 7 for 6, under load). The shell's own stdout is that pipe:
-- every descriptor that names it is skipped, and so is one whose target is gone by the time it
-- is read (this process waits on the listing meanwhile, so that can only be the same pipe).
local function fds()
  local p = assert(io.popen("me=$(readlink /proc/$$/fd/1); for f in /proc/" .. PID .. "/fd/*; do " ..
    "t=$(readlink \"$f\") && [ \"$t\" != \"$me\" ] && echo \"${f##*/} $t\"; done"))
  local text = p:read("*a")
  p:close()
  local _, n = text:gsub("\n", "")
  return { n = n, text = text }
end

-- As many descriptors open as at `base`; a failure lists them then and now, so it says which.
local function assert_as_many_as(base)
  local now = fds()
  assert.equal(base.n, now.n, "descriptors then:\n" .. base.text .. "and now:\n" .. now.text)
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
    local base = fds()
    local c = support.new_client()
    c.messages.create(PARAMS)
    local open = fds().n
    assert.is_true(open > base.n, "a kept-alive connection holds a descriptor (" .. base.n .. " -> " .. open .. ")")
    c:close()
    assert_as_many_as(base)
  end)

  proc_it("closing with a stream and a request in flight releases both", function()
    local base = fds()
    local c = support.new_client()
    local s = c.messages.stream(PARAMS)
    c.messages.create(PARAMS, { on_done = function() end })
    c:poll(10)
    assert.is_true(fds().n > base.n)
    c:close()
    assert_as_many_as(base)
    s:close()
  end)

  proc_it("an unclosed client's descriptors are freed by the collector", function()
    local base = fds()
    do
      local c = support.new_client()
      c.messages.create(PARAMS)
      assert.is_true(fds().n > base.n)
    end
    full_gc()
    assert_as_many_as(base)
  end)

  if _VERSION == "Lua 5.4" then
    proc_it("<close> on a client and on a stream (Lua 5.4)", function()
      local base = fds()
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
      assert_as_many_as(base)
    end)
  end
end)
