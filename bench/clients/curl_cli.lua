-- bench/clients/curl_cli.lua: what Lua editor plugins do today, one `curl` process per request.
--
--   lua5.4 bench/clients/curl_cli.lua a|b BASE_URL N      (contract: bench/clients/common.lua)
-- The request JSON is built with cjson and handed to curl on its command line, the reply read
-- from a pipe (io.popen) and decoded with cjson; streams are read from the pipe in 64 KB
-- pieces through the pure-Lua SSE decoder. A new process, and so a new TCP connection, per
-- request. Concurrency (c) would need a pipe multiplexer that plain Lua lacks: n/a.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local common = require "common"
local cjson = common.cjson

local w, base, n = common.args("curl-cli", arg)

local function shq(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function command(stream)
  return "curl -s" .. (stream and "N" or "") .. " -X POST " .. shq(base .. "/v1/messages") ..
    " -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01'" ..
    " -H " .. shq("x-api-key: " .. common.API_KEY) ..
    " --data-binary " .. shq(cjson.encode(common.params(stream)))
end

local function create()
  local f = assert(io.popen(command(false), "r"))
  local body = f:read("*a")
  f:close()
  local msg = cjson.decode(body)
  if msg.type ~= "message" then error("not a message: " .. body:sub(1, 200), 0) end
  return #msg.content[1].text
end

local function stream()
  local f = assert(io.popen(command(true), "r"))
  local feed, finish = common.sse_accumulator()
  while true do
    local chunk = f:read(65536)
    if not chunk then break end
    feed(chunk)
  end
  f:close()
  return finish()
end

-- os.clock() does not see the curl children, so no cpu_seconds: it would flatter this client.
local function timed(once)
  local r = common.timed(n, once)
  r.cpu_seconds = nil
  return r
end

common.main("curl-cli", w, n, function()
  if w == "a" then return timed(create) end
  if w == "b" then return timed(stream) end
  common.unsupported(w)
end)
