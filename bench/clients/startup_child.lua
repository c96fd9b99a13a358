-- bench/clients/startup_child.lua: one fresh process of workload s. Times (CPU, os.clock) what a
-- host pays before its first request: `require "anthropic"` and anthropic.new{}, and prints
-- {"startup_us": ...}. ours.lua runs it n times and also times each whole process.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
require "ours_env"
local clock = os.clock
local c0 = clock()
local anthropic = require "anthropic"
local client = anthropic.new { api_key = "sk-ant-bench-not-a-key" }
local us = (clock() - c0) * 1e6
assert(client, "anthropic.new returned nothing")
io.stdout:write(('{"startup_us":%.1f}\n'):format(us))
