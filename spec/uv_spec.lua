-- anthropic.uv under plain Lua with the luv rock (Debian's lua-luv: Lua 5.1 to 5.4; it has no
-- LuaJIT build, and a 5.1 build loaded into LuaJIT would bring a second Lua runtime, so under
-- LuaJIT this file is pending: spec/neovim_spec.lua and the Neovim host drive the same module
-- through vim.uv on LuaJIT). The loop is the one a luv program runs: uv.run() returns when
-- nothing is left to watch, so "the loop ended" is itself a check that the driver keeps no
-- handle active once the client is idle.

local cjson = require "cjson"
local anthropic = require "anthropic"
local support = require "spec.support.client"

local HAIKU = "claude-haiku-4-5"

local function params(text)
  return { model = HAIKU, max_tokens = 256, messages = { { role = "user", content = text } } }
end

local function slow(ms) return { ["x-mock-fault"] = cjson.encode { event_delay_ms = ms } } end

if rawget(_G, "jit") then
  describe("anthropic.uv with luv", function()
    pending("lua-luv has no LuaJIT build: covered under Neovim's vim.uv (spec/neovim_spec.lua)")
  end)
  return
end

local uv = require "luv"
local uvdrive = require "anthropic.uv"

-- Runs the loop until it ends by itself; a guard timer (unref'd, so it never keeps the loop
-- alive) fails the spec when it would not.
local function run_loop(limit_ms)
  local stuck = false
  local guard = uv.new_timer()
  guard:start(limit_ms or 10000, 0, function()
    stuck = true
    uv.stop()
  end)
  guard:unref()
  uv.run()
  guard:close()
  uv.run("nowait")        -- let the close callbacks run
  assert.is_false(stuck, "the loop was still running after " .. (limit_ms or 10000) .. " ms")
end

-- The handles open on the default loop (closed ones that have not finished closing excluded).
local function open_handles()
  local n = 0
  uv.walk(function(h) if not h:is_closing() then n = n + 1 end end)
  return n
end

describe("anthropic.uv with luv", function()
  local client
  before_each(function() client = support.new_client() end)
  after_each(function()
    client:close()
    uv.run("nowait")
  end)

  it("streams several replies concurrently while a ticker keeps ticking, then lets the loop end", function()
    local before = open_handles()
    local driver = uvdrive.attach(client, uv)
    local streams, pending_n, events = {}, 3, 0
    local ticker, ticks = uv.new_timer(), 0
    ticker:start(10, 10, function() ticks = ticks + 1 end)
    for i = 1, 3 do
      local s = { text = {}, prompt = "luv stream " .. i .. " of three" }
      streams[i] = s
      client.messages.stream(params(s.prompt), {
        headers = slow(15),
        on_event = function() events = events + 1 end,
        on_text = function(delta) s.text[#s.text + 1] = delta end,
        on_done = function(err, msg)
          s.err, s.msg = err, msg
          pending_n = pending_n - 1
          if pending_n == 0 then ticker:close() end
        end,
      })
    end
    run_loop()
    for i, s in ipairs(streams) do
      assert.is_nil(s.err, "stream " .. i)
      assert.are.equal("You said: " .. s.prompt, table.concat(s.text))
      assert.are.equal("You said: " .. s.prompt, s.msg.content[1].text)
    end
    assert.is_true(ticks > 5, "the ticker ran " .. ticks .. " times")
    -- Woken by the network: about one poll per batch of events, never a busy loop.
    assert.is_true(driver.polls > 0 and driver.polls <= 2 * events + 20,
      driver.polls .. " polls, " .. events .. " events")
    assert.is_true(driver:is_attached())
    driver:detach()
    uv.run("nowait")
    assert.are.equal(before, open_handles())
  end)

  it("drives a derived client (with_options) through its root: one driver, the same engine", function()
    local child = client:with_options { max_retries = 1 }
    local driver = uvdrive.attach(child, uv)
    assert.equal(driver.client, client)
    local got
    child.messages.create(params("from the child"), { on_done = function(err, msg) got = { err, msg } end })
    run_loop()
    assert.is_nil(got[1])
    assert.are.equal("You said: from the child", got[2].content[1].text)
    assert.equal("client: already attached to an event loop driver",
      support.raises(uvdrive.attach, client, uv).message)
    driver:detach()
  end)

  it("wakes a task sleeping on a derived client's timer, with nothing in flight to kick it", function()
    local child = client:with_options { max_retries = 1 }
    local driver = uvdrive.attach(client, uv)
    local woke
    -- The task's only wake-up is a timer (engine.sleep): no request starts, so only the timer
    -- itself can tell the driver to arm its uv timer.
    anthropic.spawn(function()
      require("anthropic.engine").sleep(child, 0.05)
      woke = true
    end)
    run_loop(2000)
    assert.is_true(woke, "the sleeping task never woke")
    driver:detach()
  end)

  it("never polls an idle client, and keeps no handle active for it", function()
    local driver = uvdrive.attach(client, uv)
    local t = uv.new_timer()
    t:start(100, 0, function() t:close() end)
    run_loop(2000)            -- ends after the 100 ms timer: the driver keeps nothing active
    assert.are.equal(0, driver.polls)
    driver:detach()
  end)

  it("picks up requests started from a callback, without a kick", function()
    uvdrive.attach(client, uv)
    local second
    client.messages.create(params("first"), {
      on_done = function(err)
        assert.is_nil(err)
        client.messages.create(params("second"), { on_done = function(e2, msg) second = e2 or msg end })
      end,
    })
    run_loop()
    assert.are.equal("You said: second", second.content[1].text)
  end)

  it("stays in step when a blocking call polls the client outside the loop", function()
    local driver = uvdrive.attach(client, uv)
    local msg = client.messages.create(params("blocking"))
    assert.are.equal("You said: blocking", msg.content[1].text)
    local later
    client.messages.create(params("later"), { on_done = function(err, m) later = err or m end })
    run_loop()
    assert.are.equal("You said: later", later.content[1].text)
    assert.is_true(driver:is_attached())
  end)

  it("hands on_done errors to on_error and keeps driving the other requests", function()
    local seen, done = {}, {}
    uvdrive.attach(client, uv, { on_error = function(err) seen[#seen + 1] = tostring(err) end })
    for i = 1, 3 do
      client.messages.create(params("r" .. i), {
        on_done = function()
          done[#done + 1] = i
          if i ~= 2 then error("boom " .. i, 0) end
        end,
      })
    end
    run_loop()
    assert.are.equal(3, #done)
    table.sort(seen)
    assert.are.same({ "boom 1", "boom 3" }, seen)
  end)

  it("detach() closes its handles mid-stream, the client stays usable and can be attached again", function()
    local before = open_handles()
    local driver = uvdrive.attach(client, uv)
    local result
    client.messages.stream(params("detached mid-way"), {
      headers = slow(50),
      on_done = function(err, msg) result = err or msg end,
    })
    assert.is_true(open_handles() > before)
    driver:detach()
    driver:detach()            -- idempotent
    uv.run("nowait")
    assert.are.equal(before, open_handles())
    assert.is_false(driver:is_attached())
    assert.is_nil(result)      -- nothing drives it now
    local again = uvdrive.attach(client, uv)
    run_loop()
    assert.are.equal("You said: detached mid-way", result.content[1].text)
    again:detach()
  end)

  it("detaches itself when the client is closed, and the loop ends", function()
    local driver = uvdrive.attach(client, uv)
    local result
    client.messages.stream(params("closed under it"), {
      headers = slow(50),
      on_event = function() client:close() end,
      on_done = function(err) result = err end,
    })
    run_loop()
    assert.is_false(driver:is_attached())
    assert.is_true(result:is(anthropic.errors.ConnectionError))
  end)

  it("with a budget, each wake-up does at most that much and the loop comes back for the rest", function()
    -- One event a poll: the driver must poll again at once (timeout() is 0 while events wait),
    -- not wait for more bytes from a socket that has none left to send.
    local driver = uvdrive.attach(client, uv, { budget = { max_events = 1, max_ms = 1e-6 } })
    local got, events
    events = 0
    client.messages.stream(params("one poll per event, every one delivered"), {
      on_event = function() events = events + 1 end,
      on_done = function(err, msg) assert.is_nil(err); got = msg.content[1].text end,
    })
    run_loop()
    assert.are.equal("You said: one poll per event, every one delivered", got)
    assert.is_true(driver.polls >= events, driver.polls .. " polls for " .. events .. " events")
    driver:detach()
  end)

  it("refuses bad arguments with a UsageError", function()
    local rows = {
      { function() uvdrive.attach(nil, uv) end, "client: expected a Client" },
      { function() uvdrive.attach(client, { now = 1 }) end, "uv: needs a libuv binding" },
      { function() uvdrive.attach(client, uv, { on_error = 1 }) end, "on_error: must be a function" },
      { function() uvdrive.attach(client, uv, { budget = { max_ms = 0 } }) end, "budget.max_ms: must be a number > 0" },
      { function()
          local d = uvdrive.attach(client, uv)
          local ok, err = pcall(uvdrive.attach, client, uv)
          d:detach()
          if not ok then error(err, 0) end
        end, "client: already attached" },
      { function()
          local c = support.new_client()
          c:close()
          uvdrive.attach(c, uv)
        end, "attempt to use a closed client" },
    }
    for _, row in ipairs(rows) do
      local err = support.raises(row[1])
      assert.is_true(anthropic.errors.is(err, anthropic.errors.UsageError), tostring(err))
      assert.truthy(tostring(err):find(row[2], 1, true), tostring(err))
    end
  end)
end)
