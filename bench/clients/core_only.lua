-- bench/clients/core_only.lua: the floor under the library, for the profiles of (a) in
-- bench/PROFILES.md (not a client bench/run compares; nothing a user would write).
--
--   lua5.4 bench/clients/core_only.lua a|d BASE_URL N       (contract: bench/clients/common.lua)
-- a: N sequential requests on anthropic.core alone: one core:request with the prebuilt body
--    and headers a create sends, polled until done, its body read, closed. What our binding and
--    engine cost on top of the libcurl floor (bench/clients/floor.c), with no Lua library above.
-- d: the same, plus json.decode of each reply, the one step above the core no client can skip.
-- The difference to ours.lua's `a` is what the library's Lua does per request: params checked
-- and copied, the body encoded, the op, the outcome, usage. Instructions per request: run it
-- under callgrind with N = 300 and N = 600 and take the difference (PROFILES.md).
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local interp = require "ours_env"
local common = require "common"
local anthropic = require "anthropic"
local json = require "anthropic.json"

local name = "core-only-" .. interp
local w, base, n = common.args(name, arg)
if w ~= "a" and w ~= "d" then common.unsupported(w) end

local client = anthropic.new { api_key = common.API_KEY, base_url = base, max_retries = 0 }
local core = client._core
local url = base .. "/v1/messages"
local body = json.encode(common.params())
local headers = { "x-api-key: " .. common.API_KEY, "anthropic-version: 2023-06-01",
  "accept: application/json", "content-type: application/json", "Expect:" }

local function once()
  local req = core:request {
    method = "POST", url = url, headers = headers, body = body, timeout_ms = 600000,
    connect_timeout_ms = 5000, idle_timeout_ms = 0, max_retries = 0, retry_cap_ms = 8000,
    max_response_bytes = 1e8,
  }
  while not req:is_done() do core:poll(1000) end
  if req:status() ~= 200 then error("status " .. req:status(), 0) end
  local reply = req:body()
  req:close()
  if w == "d" then return #json.decode(reply).content[1].text end
  return #reply
end

common.main(name, w, n, common.timed, n, once)
