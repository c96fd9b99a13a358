-- spec.support.trees: the table shapes the walk specs (plain_spec, json_prepare_spec) feed both
-- of a walk's implementations.
--
--   local trees = require "spec.support.trees"
--   trees.nest(n)          a table n levels deep: { c = { c = ... } }
--   local rand = trees.rand(seed)
--   rand(n)                an integer in 1..n, the same sequence for the same seed on every Lua

local M = {}

function M.nest(n)
  local top = {}
  local t = top
  for _ = 1, n do
    t.c = {}
    t = t.c
  end
  return top
end

-- A linear congruential generator: math.random differs between Lua versions, and a failing
-- random tree must be the same tree on the next run.
function M.rand(seed)
  local state = seed
  return function(n)
    state = (state * 1103515245 + 12345) % 2147483648
    return math.floor(state / 65536) % n + 1
  end
end

return M
