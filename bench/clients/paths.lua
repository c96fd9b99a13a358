-- bench/clients/paths.lua: in-process costs of paths that are not a request, the workloads of
-- ours.lua that need no server (it hands them here: require("paths")[w](n)).
--
--   k  anthropic.schema.check of one tool call's input against a tool's JSON Schema, n times.
--      Half the inputs are valid and half carry one error, as a model's calls sometimes do; the
--      run reports `checked` (how many verdicts were right), so a checker that skips work fails.
local common = require "common"
local anthropic = require "anthropic"

-- A realistic tool: what a weather or search tool declares.
local SCHEMA = {
  type = "object",
  properties = {
    city = { type = "string", minLength = 1, maxLength = 100 },
    days = { type = "integer", minimum = 1, maximum = 14 },
    units = { type = "string", enum = { "metric", "imperial" } },
    fields = { type = "array", items = { type = "string" }, maxItems = 8 },
  },
  required = { "city", "days" },
  additionalProperties = false,
}

local function input(i)
  local t = { city = "Paris", days = 1 + i % 14, units = i % 3 == 0 and "imperial" or "metric",
    fields = { "temperature", "wind", "rain" } }
  if i % 2 == 1 then t.days = 20 end      -- out of range: the checker must say so
  return t
end

local M = {}

function M.k(n)
  local check = anthropic.schema.check
  local inputs = {}
  for i = 1, n do inputs[i] = input(i) end
  check(inputs[1], SCHEMA)
  local right = 0
  local c0, t0 = os.clock(), common.now()
  for i = 1, n do
    local ok = check(inputs[i], SCHEMA)
    if ok == (i % 2 == 0) then right = right + 1 end
  end
  local dt, cpu = common.now() - t0, os.clock() - c0
  return { seconds = dt, cpu_seconds = cpu, us_each = cpu / n * 1e6, checked = right }
end

return M
