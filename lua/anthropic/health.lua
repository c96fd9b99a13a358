-- anthropic.health: `:checkhealth anthropic` in Neovim (docs/neovim.md).
--
-- Reports what a user needs to know when the library does not work in their editor: whether
-- anthropic.core loads and was built for this Lua's ABI (a module built for PUC Lua 5.4 cannot
-- load into Neovim's LuaJIT), which libcurl it runs on (version, TLS backend, HTTP/2), whether
-- lua-cjson is there, which credentials are set (whether, never their value) and where requests
-- go. Only on request, because it sends a request, a live check: GET /v1/models against the
-- configured base URL, with `:let g:anthropic_health_live = 1` or check{ live = true }.
--
-- The report functions are Neovim's (vim.health.start/ok/warn/error/info from 0.9 on, the
-- health module's report_* before); M.check takes another reporter for use outside Neovim.

local M = {}

M.MIN_CURL = "7.68.0"           -- the oldest libcurl the C core supports (docs/architecture.md)

---@class anthropic.health.Reporter
---@field start fun(name: string)
---@field ok fun(msg: string)
---@field warn fun(msg: string, advice?: string[])
---@field error fun(msg: string, advice?: string[])
---@field info fun(msg: string)

---@class anthropic.health.Options
---@field live? boolean send GET /v1/models to the configured base URL (default: g:anthropic_health_live)
---@field reporter? anthropic.health.Reporter where the report goes (default: Neovim's health API)
---@field getenv? fun(name: string): string? (default os.getenv)
---@field client_options? table extra options for the live check's client (base_url, timeout, ...)

-- Neovim's reporter, whichever API this version has.
local function neovim_reporter()
  local vim = rawget(_G, "vim")
  local h = type(vim) == "table" and vim.health
  if not (h and h.start) then h = require "health" end    -- Neovim < 0.9
  local function pick(new, old) return h[new] or h[old] end
  return {
    start = pick("start", "report_start"), ok = pick("ok", "report_ok"),
    warn = pick("warn", "report_warn"), error = pick("error", "report_error"),
    info = pick("info", "report_info"),
  }
end

local function version_number(v)
  local a, b, c = tostring(v):match("^(%d+)%.(%d+)%.?(%d*)")
  if not a then return 0 end
  return tonumber(a) * 10000 + tonumber(b) * 100 + (tonumber(c) or 0)
end

-- The ABI of the running Lua, as LUA_VERSION_NUM (LuaJIT loads 5.1 modules).
local function running_abi()
  local major, minor = _VERSION:match("(%d+)%.(%d+)")
  return tonumber(major) * 100 + tonumber(minor)
end

local function running_lua()
  local jit = rawget(_G, "jit")
  return type(jit) == "table" and jit.version or _VERSION
end

local function check_core(r)
  r.start("anthropic.core (the C module)")
  local ok, core = pcall(require, "anthropic.core")
  if not ok then
    r.error("anthropic.core does not load under " .. running_lua() .. ": " .. tostring(core), {
      "build it for this Lua (Neovim: `make LUA=luajit`, or install the rock with "
        .. "`luarocks --lua-version=5.1`)",
      "and put its directory on package.cpath (docs/neovim.md)",
    })
    return nil
  end
  local where = package.searchpath and package.searchpath("anthropic.core", package.cpath)
  r.ok(string.format("anthropic.core %s%s", tostring(core.version), where and (" from " .. where) or ""))
  local abi, want = core.lua_abi, running_abi()
  local function dotted(n) return string.format("%d.%d", math.floor(n / 100), n % 100) end
  if abi == nil then
    r.warn("anthropic.core does not say which Lua it was built for (an older build?)")
  elseif abi ~= want then
    r.error(string.format("anthropic.core was built for the Lua %s ABI, this is %s (%s)",
      dotted(abi), running_lua(), dotted(want)), { "rebuild it for this Lua" })
  else
    r.ok(string.format("built for the Lua %s ABI, running %s", dotted(abi), running_lua()))
  end
  return core
end

local function check_curl(r, core)
  r.start("libcurl")
  local c = core.curl or { version = core.curl_version, features = {} }
  local features = c.features or {}
  if version_number(c.version) < version_number(M.MIN_CURL) then
    r.error("libcurl " .. tostring(c.version) .. " is older than " .. M.MIN_CURL, { "upgrade libcurl" })
  else
    r.ok("libcurl " .. tostring(c.version))
  end
  if c.ssl_version and c.ssl_version ~= "" then
    r.ok("TLS backend: " .. c.ssl_version)
  else
    r.error("libcurl has no TLS backend: https:// requests (the real API) cannot work",
      { "install a libcurl built with TLS (Debian: libcurl4 with OpenSSL)" })
  end
  if features.http2 then
    r.ok("HTTP/2: yes (concurrent requests share one connection)")
  else
    r.warn("HTTP/2: no (every concurrent request opens its own connection)")
  end
  if c.libz_version and c.libz_version ~= "" then r.info("zlib: " .. c.libz_version) end
end

local function check_cjson(r)
  r.start("lua-cjson")
  local ok, cjson = pcall(require, "cjson")
  if ok then
    r.ok("lua-cjson " .. tostring(cjson._VERSION or "(no version)"))
  else
    r.error("lua-cjson does not load: " .. tostring(cjson), { "install lua-cjson for " .. running_lua() })
  end
  return ok
end

local function env_reader(getenv)
  return function(name)
    local v = getenv(name)
    if v == nil or v == "" then return nil end
    return v
  end
end

local function check_credentials(r, env)
  r.start("credentials and endpoint")
  local key, token = env("ANTHROPIC_API_KEY"), env("ANTHROPIC_AUTH_TOKEN")
  -- Whether they are set, and never any part of them: not a prefix, not a length.
  if key then r.ok("ANTHROPIC_API_KEY is set")
  elseif token then r.ok("ANTHROPIC_AUTH_TOKEN is set (sent as Authorization: Bearer)")
  else
    r.warn("neither ANTHROPIC_API_KEY nor ANTHROPIC_AUTH_TOKEN is set",
      { "set ANTHROPIC_API_KEY in the environment Neovim starts from, or pass api_key to anthropic.new" })
  end
  if key and token then r.info("ANTHROPIC_AUTH_TOKEN is set too; the key is used") end
  local base = env("ANTHROPIC_BASE_URL")
  r.info("base URL: " .. (base or require("anthropic.client").DEFAULT_BASE_URL)
    .. (base and " (ANTHROPIC_BASE_URL)" or " (default)"))
  return key or token
end

local function check_live(r, env, opts)
  local anthropic = require "anthropic"
  local key = env("ANTHROPIC_API_KEY")
  local copts = { timeout = 10, max_retries = 0, api_key = key, base_url = env("ANTHROPIC_BASE_URL"),
    auth_token = (not key) and env("ANTHROPIC_AUTH_TOKEN") or nil }
  for k, v in pairs(opts.client_options or {}) do copts[k] = v end
  local ok, client = pcall(anthropic.new, copts)
  if not ok then
    r.error("cannot make a client: " .. tostring(client))
    return
  end
  local ok2, page = pcall(client.models.list, { limit = 1 })
  client:close()
  local base = client.base_url
  if ok2 then
    local rid = page._request_id
    r.ok(string.format("GET %s/v1/models: ok%s", base, rid and (" (request id " .. rid .. ")") or ""))
    return
  end
  local err = page
  local errs = anthropic.errors
  local advice
  if errs.is(err, errs.AuthenticationFailed) then
    advice = { "the key was rejected (401): check ANTHROPIC_API_KEY (set, complete, not revoked)" }
  elseif errs.is(err, errs.ConnectionError) then
    advice = { "could not reach " .. base .. ": check the network, proxy settings and ANTHROPIC_BASE_URL" }
  end
  r.error(string.format("GET %s/v1/models failed: %s", base, tostring(err)), advice)
end

---Runs the checks. Neovim calls it for `:checkhealth anthropic`.
---@param opts? anthropic.health.Options
function M.check(opts)
  opts = opts or {}
  local r = opts.reporter or neovim_reporter()
  local env = env_reader(opts.getenv or os.getenv)
  local core = check_core(r)
  if core then check_curl(r, core) end
  local has_cjson = check_cjson(r)
  local has_credentials = check_credentials(r, env)
  local live = opts.live
  if live == nil then
    local vim = rawget(_G, "vim")
    live = type(vim) == "table" and vim.g and (vim.g.anthropic_health_live == 1
      or vim.g.anthropic_health_live == true)
  end
  r.start("live check")
  if not live then
    r.info("off: `:let g:anthropic_health_live = 1` then `:checkhealth anthropic` sends GET /v1/models")
  elseif not (core and has_cjson) then
    r.error("skipped: the library does not load")
  elseif not has_credentials then
    r.error("skipped: no credentials are set")
  else
    check_live(r, env, opts)
  end
end

return M
