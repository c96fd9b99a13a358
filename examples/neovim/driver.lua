-- examples/neovim/driver.lua: headless Neovim test of anthropic_uv.lua.
--
--   nvim --headless -u NONE -c 'luafile examples/neovim/driver.lua'
--
-- (Neovim >= 0.9 can also run it with `nvim --headless -u NONE -l examples/neovim/driver.lua`.)
-- Needs the module built for LuaJIT (`make LUA=luajit`). Uses the mock at $ANTHROPIC_MOCK_URL,
-- or starts bin/anthropic-mock itself (with $ANTHROPIC_MOCK_LUA, default lua5.4).
--
-- It streams three replies through vim.uv (socket watchers + one timer, no polling loop) into a
-- scratch buffer while a 10 ms ticker timer runs, then checks: every stream ended with the
-- exact text; the buffer holds the first reply; the ticker kept ticking (small max gap); and
-- client:poll ran about once per network wake-up, not in a busy loop. It prints one line
--   neovim: ok streams=3 ticks=... max_tick_gap_ms=... polls=... events=...
-- and exits with status 0, or 1 with a reason.

local uv = vim.uv or vim.loop

local STREAMS = 3
local EVENT_DELAY_MS = 20
local TICK_MS = 10
-- The longest acceptable pause of the 10 ms ticker. A blocked editor pauses for the whole
-- stream (over 600 ms); a loaded 2-core CI machine preempts Neovim for up to ~50 ms now and then.
local MAX_GAP_MS = tonumber(os.getenv("NVIM_MAX_TICK_GAP_MS") or "") or 150
local LIMIT_MS = 20000

local here = debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/[^/]*$") or "."
local headless = dofile(here .. "/headless.lua")
headless.use_checkout(here)
local root = here .. "/../.."

local mock_proc
local finish = headless.reporter(LIMIT_MS, "neovim: FAILED streams still running after " .. LIMIT_MS .. " ms",
  function() if mock_proc then mock_proc:kill("sigterm") end end)

local function fail(why)
  finish(false, "neovim: FAILED " .. why)
end

-- Starts bin/anthropic-mock and calls back with its URL (the first stdout line names it).
local function start_mock(cb)
  local out = uv.new_pipe(false)
  local buf = ""
  local lua = os.getenv("ANTHROPIC_MOCK_LUA") or "lua5.4"
  mock_proc = uv.spawn(lua, {
    args = { root .. "/bin/anthropic-mock", "--host", "127.0.0.1", "--port", "0" },
    stdio = { nil, out, nil },
  }, function() end)
  if not mock_proc then return fail("could not start the mock with " .. lua) end
  out:read_start(function(err, data)
    if err or not data then return end
    buf = buf .. data
    local url = buf:match("listening (http://%S+)")
    if url then
      out:read_stop()
      vim.schedule(function() cb(url) end)   -- leave the fast-event context first
    end
  end)
end

local function run(url)
  local ok_req, anthropic = pcall(require, "anthropic")
  if not ok_req then
    return fail("cannot load the library (build it with `make LUA=luajit`): " .. tostring(anthropic))
  end
  local uvdrive = require "anthropic_uv"
  local client = anthropic.new { api_key = "sk-ant-mock-free", base_url = url, max_retries = 0 }
  local driver = uvdrive.attach(client, { on_error = function(err) fail("on_done raised: " .. tostring(err)) end })

  -- The ticker: stands for the editor's own work (redraws, timers, input).
  local ticker = uv.new_timer()
  local ticks, max_gap, last_tick = 0, 0, uv.hrtime()
  ticker:start(TICK_MS, TICK_MS, function()
    local now = uv.hrtime()
    local gap = (now - last_tick) / 1e6
    if gap > max_gap then max_gap = gap end
    last_tick = now
    ticks = ticks + 1
  end)

  local buf = vim.api.nvim_create_buf(false, true)
  local streams, events, pending = {}, 0, STREAMS
  local started = uv.hrtime()

  local function all_done()
    local elapsed_ms = (uv.hrtime() - started) / 1e6
    ticker:stop()
    ticker:close()
    driver:stop()
    client:close()
    vim.schedule(function()
      local problems = {}
      for i, s in ipairs(streams) do
        local final = s.msg and s.msg.content[1].text
        if s.err then
          problems[#problems + 1] = "stream " .. i .. ": " .. tostring(s.err)
        elseif table.concat(s.text) ~= s.expected or final ~= s.expected then
          problems[#problems + 1] = string.format("stream %d: got %q, expected %q", i, table.concat(s.text), s.expected)
        end
      end
      local in_buffer = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
      if in_buffer ~= streams[1].expected then
        problems[#problems + 1] = string.format("buffer holds %q", in_buffer)
      end
      -- The ticker should have fired about every 10 ms while the streams ran.
      if ticks < elapsed_ms / TICK_MS / 2 then
        problems[#problems + 1] = string.format("only %d ticks in %.0f ms", ticks, elapsed_ms)
      end
      if max_gap > MAX_GAP_MS then
        problems[#problems + 1] = string.format("ticker stalled: max gap %.1f ms > %d ms", max_gap, MAX_GAP_MS)
      end
      -- Event driven: about one poll per network wake-up. A busy loop would poll thousands of times.
      if driver.polls > 2 * events + 20 then
        problems[#problems + 1] = string.format("%d polls for %d events: busy polling", driver.polls, events)
      end
      local v = vim.version()
      local line = string.format("streams=%d ticks=%d max_tick_gap_ms=%.1f polls=%d events=%d elapsed_ms=%.0f "
        .. "nvim=%d.%d.%d uv=%s", STREAMS, ticks, max_gap, driver.polls, events, elapsed_ms,
        v.major, v.minor, v.patch, vim.uv and "vim.uv" or "vim.loop")
      if #problems == 0 then finish(true, "neovim: ok " .. line)
      else finish(false, "neovim: FAILED " .. line .. " problems: " .. table.concat(problems, "; ")) end
    end)
  end

  for i = 1, STREAMS do
    local words = {}
    for w = 1, 20 do words[w] = "n" .. i .. "w" .. w end
    local s = { text = {}, prompt = "neovim stream " .. i .. ": " .. table.concat(words, " ") }
    s.expected = "You said: " .. s.prompt
    streams[i] = s
    client.messages.stream({
      model = "claude-haiku-4-5", max_tokens = 1024, messages = { { role = "user", content = s.prompt } },
    }, {
      headers = { ["x-mock-fault"] = anthropic.json.encode { event_delay_ms = EVENT_DELAY_MS } },
      on_event = function() events = events + 1 end,
      on_text = function(delta)
        s.text[#s.text + 1] = delta
        if i == 1 then
          local so_far = table.concat(s.text)
          -- A fast-event callback: touch the buffer from the main loop.
          vim.schedule(function() vim.api.nvim_buf_set_lines(buf, 0, -1, false, { so_far }) end)
        end
      end,
      on_done = function(err, msg)
        s.err, s.msg = err, msg
        pending = pending - 1
        if pending == 0 then all_done() end
      end,
    })
  end
  driver:kick()
end

-- Any error in the setup fails the run at once (instead of waiting for the guard timer).
local function run_checked(url)
  local ok, err = pcall(run, url)
  if not ok then fail("setup raised: " .. tostring(err)) end
end

local env_url = os.getenv("ANTHROPIC_MOCK_URL")
if env_url and env_url ~= "" then
  run_checked(env_url)
else
  start_mock(run_checked)
end
