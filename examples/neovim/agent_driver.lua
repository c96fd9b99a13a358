-- examples/neovim/agent_driver.lua: headless Neovim test of an agent that never blocks the editor
-- (docs/tools.md "Neovim").
--
--   ANTHROPIC_MOCK_URL=http://127.0.0.1:PORT \
--     nvim --headless -u NONE -c 'luafile examples/neovim/agent_driver.lua'
--
-- Needs the module built for LuaJIT (`make LUA=luajit`) and a running anthropic-mock. The mock
-- scripts two turns (read the buffer, then answer); the tool runner runs in a task driven by
-- vim.uv watchers (anthropic_uv.lua). Approval is asked through anthropic.await and answered
-- 50 ms later by a timer standing in for vim.ui.select; the tool reads the buffer from the main
-- loop (vim.api is off limits in fast events). A 10 ms ticker stands for the editor's own work.
-- Checks: the answer streamed into the buffer, the tool result sent was the buffer's text,
-- approval was asked once, the ticker never stalled, poll ran per wake-up (no busy loop). Prints
--   neovim_agent: ok turns=2 ticks=... max_tick_gap_ms=... polls=... elapsed_ms=...
-- and exits 0, or prints FAILED with the reason and exits 1.

local uv = vim.uv or vim.loop

local TICK_MS = 10
local MAX_GAP_MS = tonumber(os.getenv("NVIM_MAX_TICK_GAP_MS") or "") or 150
local LIMIT_MS = 20000
local CODE = { "local function greet(name)", "  print('hello ' .. name)", "end" }
local ANSWER = "greet(name) prints a greeting."

local here = debug.getinfo(1, "S").source:gsub("^@", ""):match("^(.*)/[^/]*$") or "."
local headless = dofile(here .. "/headless.lua")
headless.use_checkout(here)
local finish = headless.reporter(LIMIT_MS, "neovim_agent: FAILED still running after " .. LIMIT_MS .. " ms")

local function run(url)
  local anthropic = require "anthropic"
  local uvdrive = require "anthropic_uv"
  local client = anthropic.new { api_key = "sk-ant-mock-free", base_url = url, max_retries = 0,
    default_headers = { ["x-mock-fault"] = anthropic.json.encode { event_delay_ms = 10, turns = {
      { text = "Let me read your buffer.", tool_use = { name = "read_buffer", input = {} } }, ANSWER } } } }
  local driver = uvdrive.attach(client, {
    on_error = function(err) finish(false, "neovim_agent: FAILED " .. tostring(err)) end })

  local ticker = uv.new_timer()
  local ticks, max_gap, last_tick = 0, 0, uv.hrtime()
  ticker:start(TICK_MS, TICK_MS, function()
    local now = uv.hrtime()
    max_gap = math.max(max_gap, (now - last_tick) / 1e6)
    last_tick = now
    ticks = ticks + 1
  end)

  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, CODE)
  local out = vim.api.nvim_create_buf(false, true)
  local asked, started = 0, uv.hrtime()

  local read_buffer = anthropic.tool {
    name = "read_buffer", description = "The text of the user's buffer",
    input_schema = { type = "object", properties = {} },
    run = function()
      return anthropic.await(function(resume)
        vim.schedule(function()
          resume(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"))
          driver:kick()
        end)
      end)
    end,
  }

  local runner
  local task = anthropic.spawn(function()
    runner = client.messages.tool_runner({
      model = "claude-haiku-4-5", max_tokens = 512, tools = { read_buffer },
      messages = { { role = "user", content = "Explain the code in my buffer." } },
    }, {
      stream = true,
      on_text = function(_, snapshot)
        vim.schedule(function() vim.api.nvim_buf_set_lines(out, 0, -1, false, { snapshot }) end)
      end,
      on_tool_call = function()
        asked = asked + 1
        return anthropic.await(function(resume)
          vim.defer_fn(function() resume(true); driver:kick() end, 50)   -- the user clicks "allow"
        end)
      end,
    })
    return runner:run_until_done()
  end)

  task.on_done = function(err, final)
    local elapsed_ms = (uv.hrtime() - started) / 1e6
    ticker:stop()
    ticker:close()
    driver:stop()
    client:close()
    vim.schedule(function()
      local line = string.format("turns=%d ticks=%d max_tick_gap_ms=%.1f polls=%d elapsed_ms=%.0f",
        runner and runner.iterations or 0, ticks, max_gap, driver.polls, elapsed_ms)
      if err then return finish(false, "neovim_agent: FAILED " .. line .. " error: " .. tostring(err)) end
      local problems = {}
      local function expect(ok, what) if not ok then problems[#problems + 1] = what end end
      expect(final.content[1].text == ANSWER, "final text " .. tostring(final.content[1].text))
      expect(runner.stop_reason == "end_turn", "stop_reason " .. tostring(runner.stop_reason))
      local result = runner.params.messages[3].content[1]
      expect(result.content == table.concat(CODE, "\n") and not result.is_error, "tool result " .. vim.inspect(result))
      expect(asked == 1, "approval asked " .. asked .. " times")
      vim.wait(200, function() return vim.api.nvim_buf_get_lines(out, 0, -1, false)[1] == ANSWER end)
      expect(vim.api.nvim_buf_get_lines(out, 0, -1, false)[1] == ANSWER, "answer not in the buffer")
      expect(max_gap <= MAX_GAP_MS, string.format("ticker stalled: %.1f ms", max_gap))
      expect(ticks >= elapsed_ms / TICK_MS / 2, "only " .. ticks .. " ticks")
      expect(driver.polls < 200, driver.polls .. " polls: busy polling")
      if #problems == 0 then finish(true, "neovim_agent: ok " .. line)
      else finish(false, "neovim_agent: FAILED " .. line .. " problems: " .. table.concat(problems, "; ")) end
    end)
  end
  driver:kick()
end

local url = os.getenv("ANTHROPIC_MOCK_URL")
if not url or url == "" then
  finish(false, "neovim_agent: FAILED set ANTHROPIC_MOCK_URL to a running anthropic-mock")
else
  local ok, err = pcall(run, url)
  if not ok then finish(false, "neovim_agent: FAILED setup raised: " .. tostring(err)) end
end
