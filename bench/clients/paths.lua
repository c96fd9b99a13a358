-- bench/clients/paths.lua: in-process costs of paths beyond a request, the workloads of ours.lua
-- it hands here (require("paths")[w](n, base)).
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

--   r  the tool runner's own work per turn: n runs of two turns (tool_use, then the answer)
--      against the offline mock (base), minus the same two requests made with
--      messages.create; CPU time of this process only (the mock is another process). Reports
--      `checked`: runs whose final text is the mock's answer after the tool's result.
local WEATHER = anthropic.tool {
  name = "get_weather", description = "Current weather for a city",
  input_schema = { type = "object", properties = { city = { type = "string" } } },
  run = function(args) return "sunny in " .. tostring(args.city) end,
}

function M.r(n, base)
  local client = anthropic.new { api_key = "sk-ant-mock-free", base_url = base, max_retries = 0 }
  local function params()
    return { model = "claude-haiku-4-5", max_tokens = 256, tools = { WEATHER },
      messages = { { role = "user", content = "Use get_weather: what is the weather in Paris?" } } }
  end
  local function by_hand()      -- the same two requests, and no runner
    local p = params()
    local first = client.messages.create(p)
    local tu
    for _, b in ipairs(first.content) do if b.type == "tool_use" then tu = b end end
    assert(tu, "the mock did not call the tool")
    p.messages[2] = { role = "assistant", content = first.content }
    p.messages[3] = { role = "user", content = { { type = "tool_result", tool_use_id = tu.id,
      content = WEATHER.run(tu.input) } } }
    return client.messages.create(p)
  end
  local function runner()
    return client.messages.tool_runner(params()):run_until_done()
  end
  local function text_of(msg)
    local text = {}
    for _, b in ipairs(msg.content) do if b.type == "text" then text[#text + 1] = b.text end end
    return table.concat(text)
  end
  local want = text_of(by_hand())
  assert(want ~= "", "the mock gave no answer after the tool result")
  runner()
  -- Interleaved batches (10 plain runs, then 10 runner runs), so drift of a busy machine hits
  -- both alike; the figure is the median of the batches' differences.
  local function cpu_of(fn, count)
    local c0, right = os.clock(), 0
    for _ = 1, count do
      if text_of(fn()) == want then right = right + 1 end
    end
    return os.clock() - c0, right
  end
  local t0, diffs, right, ran = common.now(), {}, 0, 0
  local batch = 10
  for b = 1, math.max(1, math.floor(n / batch)) do
    local plain = cpu_of(by_hand, batch)
    local cpu, ok = cpu_of(runner, batch)
    diffs[b] = (cpu - plain) / (2 * batch) * 1e6
    right, ran = right + ok, ran + cpu
  end
  return { seconds = common.now() - t0, cpu_seconds = ran, us_each = common.percentile(diffs, 50),
    checked = right, n_runs = #diffs * batch }
end

return M
