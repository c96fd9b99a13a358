-- bench/gen-es-fixture.lua OUT: writes OUT/www/es/long, the 20,000-delta stream of
-- www/sse/long framed as Amazon Bedrock sends it (AWS event-stream messages, each event's JSON
-- base64-encoded in a `chunk`, CRCs over prelude and message), for workload g. The framing is the
-- offline mock's own (anthropic.mock.bedrock.from_sse), so bench and mock agree byte for byte.
-- Needs this checkout's core built for lua5.4 (bench/run runs it after `make LUA=lua5.4`).
local out = assert(arg[1], "usage: gen-es-fixture.lua OUT")
-- ours_env finds the checkout from arg[0], as the clients beside it run it.
local here = arg[0]:gsub("[^/]*$", "")
rawset(arg, 0, here .. "clients/ours_env.lua")
package.path = here .. "clients/?.lua;" .. package.path
require "ours_env"
local bedrock = require "anthropic.mock.bedrock"

local f = assert(io.open(out .. "/www/sse/long", "rb"))
local sse = f:read("*a")
f:close()
os.execute("mkdir -p '" .. out .. "/www/es'")
local es = bedrock.from_sse(sse)
f = assert(io.open(out .. "/www/es/long", "wb"))
f:write(es)
f:close()
io.stderr:write(("gen-es-fixture: www/es/long, %d bytes\n"):format(#es))
