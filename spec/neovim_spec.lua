-- Neovim (docs/neovim.md), in headless Neovim (LuaJIT) against the mock:
--   :checkhealth anthropic   lua/anthropic/health.lua, for a key that is set, wrong and missing,
--                            the live check on and off, and a core built for the wrong Lua
--   :Ask                     the 30-line command of docs/neovim.md, taken from the page itself,
--                            must stream the mock's answer into its window
-- Nothing is skipped: without nvim the spec fails and says what to install.

local mock = require "spec.support.mock"
local run = require "spec.support.run"
local core = require "anthropic.core"

local q = run.quote
local ROOT = mock.root()

local function prepare()
  local _, has = run.command("command -v nvim >/dev/null")
  assert(has == 0, "nvim not found: install Neovim (Debian: apt-get install -y neovim)")
  local out, code = run.command("make --no-print-directory -s LUA=luajit")
  assert(code == 0, "make LUA=luajit failed:\n" .. out)
end

local dead_url = mock.dead_url

-- Runs `body` (Lua) in headless Neovim with the library on its paths (the core built for
-- `core_for`, default luajit); `body` writes its result to the file named by $SPEC_OUT.
-- Returns that file's contents and Neovim's output.
local function nvim(body, env, core_for)
  local script, out_file = os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(string.format([[
local root, out = %q, %q
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = root .. "/build/%s/?.so;" .. package.cpath
vim.opt.runtimepath:prepend(root)
local ok, err = pcall(function()
%s
end)
if not ok then
  local f = io.open(out, "a"); f:write("SPEC SCRIPT FAILED: ", tostring(err), "\n"); f:close()
end
vim.cmd("qa!")
]], ROOT, out_file, core_for or "luajit", body))
  f:close()
  env = env or {}
  local output, code = run.command("timeout 60 nvim --headless -u NONE -i NONE -c " .. q("luafile " .. script), env)
  os.remove(script)
  local rf = io.open(out_file)
  local result = rf and rf:read("*a") or ""
  if rf then rf:close() end
  os.remove(out_file)
  assert(code == 0, "nvim exited with " .. tostring(code) .. ":\n" .. output)
  assert(not result:find("SPEC SCRIPT FAILED", 1, true), result .. output)
  return result, output
end

-- The report as { {level, text} }: "  - OK: text" (Neovim < 0.10) or "- ✅ OK text" (0.10+).
local function entries(report)
  local list = {}
  for line in report:gmatch("[^\n]+") do
    local rest = line:match("^%s*%- (.*)$")
    if rest then
      rest = rest:gsub("^[^%w]+", "")
      local level, text = rest:match("^(%u+):? (.*)$")
      if level == "OK" or level == "WARNING" or level == "ERROR" or level == "INFO" then
        list[#list + 1] = { level, text }
      end
    end
  end
  return list
end

local function has_entry(list, level, text)
  for _, e in ipairs(list) do
    if e[1] == level and e[2]:find(text, 1, true) then return true end
  end
  return false
end

local HEALTH = [[
  if os.getenv("SPEC_LIVE") == "1" then vim.g.anthropic_health_live = 1 end
  vim.cmd("checkhealth anthropic")
  vim.cmd("silent write! " .. out)
]]

describe(":checkhealth anthropic", function()
  setup(prepare)

  local url = mock.url()
  local curl = core.curl
  local rows = {
    { name = "a key set, no live check",
      env = { ANTHROPIC_API_KEY = mock.KEYS.free },
      want = {
        { "OK", "anthropic.core " .. core.version .. " from " .. ROOT .. "/build/luajit/anthropic/core.so" },
        { "OK", "built for the Lua 5.1 ABI, running LuaJIT" },
        { "OK", "libcurl " .. curl.version },
        { "OK", "TLS backend: " .. curl.ssl_version },
        { curl.features.http2 and "OK" or "WARNING", "HTTP/2: " .. (curl.features.http2 and "yes" or "no") },
        { "OK", "lua-cjson 2." },
        { "OK", "ANTHROPIC_API_KEY is set" },
        { "INFO", "base URL: " .. url .. " (ANTHROPIC_BASE_URL)" },
        { "INFO", "off: `:let g:anthropic_health_live = 1`" },
      } },
    { name = "the live check with a good key",
      env = { ANTHROPIC_API_KEY = mock.KEYS.build, SPEC_LIVE = "1" },
      want = { { "OK", "GET " .. url .. "/v1/models: ok (request id req_" } } },
    { name = "the live check with a wrong key",
      env = { ANTHROPIC_API_KEY = "sk-ant-mock-wrong-key-123", SPEC_LIVE = "1" },
      want = { { "ERROR", "GET " .. url .. "/v1/models failed: AuthenticationFailed" } },
      also = "the key was rejected (401)" },
    { name = "the live check with nothing listening",
      env = { ANTHROPIC_API_KEY = mock.KEYS.free, SPEC_LIVE = "1", ANTHROPIC_BASE_URL = dead_url() },
      want = { { "ERROR", "/v1/models failed: ConnectionError" } },
      also = "check the network" },
    { name = "a bearer token instead of a key",
      env = { ANTHROPIC_API_KEY = "", ANTHROPIC_AUTH_TOKEN = "mock-bearer-token-xyz" },
      want = { { "OK", "ANTHROPIC_AUTH_TOKEN is set (sent as Authorization: Bearer)" } } },
    { name = "no credentials, live check asked for",
      env = { ANTHROPIC_API_KEY = "", ANTHROPIC_AUTH_TOKEN = "", SPEC_LIVE = "1" },
      want = { { "WARNING", "neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set" },
        { "ERROR", "skipped: no credentials are set" } } },
    { name = "a core built for Lua 5.4 loaded into Neovim's LuaJIT",
      env = { ANTHROPIC_API_KEY = mock.KEYS.free }, core_for = "lua5.4",
      want = { { "ERROR", "anthropic.core does not load under LuaJIT" } },
      also = "make LUA=luajit" },
  }
  for _, row in ipairs(rows) do
    it(row.name, function()
      local env = { ANTHROPIC_BASE_URL = url, ANTHROPIC_AUTH_TOKEN = "" }
      for k, v in pairs(row.env) do env[k] = v end
      if row.core_for then
        local out, code = run.command("make --no-print-directory -s LUA=" .. row.core_for)
        assert(code == 0, out)
      end
      local report = nvim(HEALTH, env, row.core_for)
      local list = entries(report)
      for _, w in ipairs(row.want) do
        assert.is_true(has_entry(list, w[1], w[2]), "no " .. w[1] .. " '" .. w[2] .. "' in:\n" .. report)
      end
      if row.also then assert.truthy(report:find(row.also, 1, true), report) end
      -- Whether a credential is set, never any part of it.
      for _, name in ipairs { "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN" } do
        local secret = env[name]
        if secret and secret ~= "" then
          assert.is_nil(report:find(secret, 1, true), report)
          assert.is_nil(report:find(secret:sub(1, 12), 1, true), report)
        end
      end
    end)
  end
end)

-- The block after "<!-- ask.lua -->" in docs/neovim.md.
local function ask_block()
  local f = assert(io.open(ROOT .. "/docs/neovim.md"))
  local doc = f:read("*a")
  f:close()
  local block = doc:match("<!%-%- ask%.lua %-%->\n```lua\n(.-)\n```")
  assert(block, "docs/neovim.md has no ```lua block after <!-- ask.lua -->")
  return block
end

describe("docs/neovim.md's :Ask command", function()
  setup(prepare)

  it("is at most 30 lines", function()
    local _, n = ask_block():gsub("\n", "")
    assert.is_true(n + 1 <= 30, (n + 1) .. " lines")
  end)

  local rows = {
    { name = "streams the answer into a new window",
      prompt = "how do I reverse a list in Lua?", model = nil,
      want = "^You said: how do I reverse a list in Lua%?$" },
    { name = "shows the error (one line, no key) when the key may not use the model",
      prompt = "hello", model = "claude-opus-4-7",
      want = "^\n\nPermissionDenied: 403 permission_error" },
  }
  for _, row in ipairs(rows) do
    it(row.name, function()
      local path = os.tmpname()
      local f = assert(io.open(path, "w"))
      f:write(ask_block(), "\n")
      f:close()
      local body = string.format([[
  dofile(%q)
  local before = vim.api.nvim_get_current_win()
  %s
  vim.cmd("Ask " .. %q)
  local buf = vim.api.nvim_get_current_buf()
  local function text() return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n") end
  local done = vim.wait(15000, function() return text():find(%q) ~= nil end, 10)
  local f = io.open(out, "w")
  f:write(done and "done\n" or "timeout\n", vim.api.nvim_get_current_win() ~= before and "new window\n" or "",
    vim.bo[buf].buftype, "\n", text())
  f:close()
]], path, row.model and string.format("vim.g.anthropic_model = %q", row.model) or "", row.prompt,
        row.want:gsub("^%^", ""):gsub("%$$", ""))
      local result = nvim(body, { ANTHROPIC_API_KEY = mock.KEYS.free, ANTHROPIC_BASE_URL = mock.url(),
        ANTHROPIC_AUTH_TOKEN = "" })
      os.remove(path)
      local status, win, buftype, text = result:match("^(%w+)\n(new window)\n(%w*)\n(.*)$")
      assert.are.equal("done", status, result)
      assert.are.equal("new window", win, result)
      assert.are.equal("nofile", buftype, result)
      assert.truthy(text:match(row.want), text)
      assert.is_nil(text:find(mock.KEYS.free, 1, true), text)
    end)
  end
end)
