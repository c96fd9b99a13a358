-- bench/clients/ours_check.lua: exits 0 when this checkout's module loads in this interpreter
-- (bench/run adds the ours-* clients only then), and is what "baseline RSS" measures: the
-- interpreter with everything ours.lua loads, before any request.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
require "ours_env"
require "common"
local anthropic = require "anthropic"
assert(type(anthropic.new) == "function", "anthropic.new is missing")
print(anthropic)
