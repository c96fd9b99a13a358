-- bench/callbacks.lua: what the typed stream callbacks cost per stream, Lua only (decoded
-- events fed to the accumulator and the callback dispatcher, as anthropic.stream does; no
-- network). Shows that a callback which takes no snapshot adds next to nothing, and what a
-- snapshot per delta costs (a Lua string copy of the block so far, O(n) each time).
--   make bench-callbacks            (LUA=luajit ... for another interpreter)
package.path = "lua/?.lua;lua/?/init.lua;" .. package.path
local lua_name = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
package.cpath = "build/" .. lua_name .. "/?.so;" .. package.cpath

local Accumulator = require "anthropic.accumulator"
local stream_callbacks = require "anthropic.stream_callbacks"

local op = { call = function(_, fn, ...) fn(...) return true end }

local function events(block, delta_type, field, total, piece)
  local evs = {
    { type = "message_start", message = { id = "msg_bench", type = "message", role = "assistant", content = {},
      usage = { input_tokens = 1, output_tokens = 0 } } },
    { type = "content_block_start", index = 0, content_block = block },
  }
  for i = 1, total / piece do   -- varied text (a repeated piece would flatter string hashing)
    local chunk = string.format("%0" .. (piece - 1) .. "d ", i)
    evs[#evs + 1] = { type = "content_block_delta", index = 0, delta = { type = delta_type, [field] = chunk } }
  end
  evs[#evs + 1] = { type = "content_block_stop", index = 0 }
  evs[#evs + 1] = { type = "message_delta", delta = { stop_reason = "end_turn" }, usage = { output_tokens = 1 } }
  evs[#evs + 1] = { type = "message_stop" }
  return evs
end

-- The accumulator keeps (and grows) message_start's message and each block: fresh ones per run.
local function fresh(ev)
  local copy = {}
  for k, v in pairs(ev) do copy[k] = v end
  if ev.message then copy.message = { id = ev.message.id, type = "message", role = "assistant", content = {},
    usage = { input_tokens = 1, output_tokens = 0 } } end
  return copy
end

local function run(evs, callbacks, has_schema)
  local t0 = os.clock()
  local acc = Accumulator.new()
  local d = callbacks and stream_callbacks.new(callbacks, has_schema)
  for _, ev in ipairs(evs) do
    local copy = fresh(ev)
    local kind, value = acc:apply(copy)
    assert(kind, value)
    if d then d:fire(op, acc, kind, value, copy) end
  end
  return (os.clock() - t0) * 1000
end

local function best(f)
  local b = math.huge
  for _ = 1, 3 do b = math.min(b, f()) end
  return b
end

local KB = 1024
local thinking = events({ type = "thinking", thinking = "", signature = "" },
  "thinking_delta", "thinking", 256 * KB, 16)
local n = 0
print(string.format("%s: 256 KiB of thinking in 16-byte deltas (%d events), best of 3, CPU ms",
  rawget(_G, "jit") and jit.version or _VERSION, #thinking))
print(string.format("  no callbacks                      %8.1f", best(function() return run(thinking) end)))
print(string.format("  on_thinking(delta)                %8.1f", best(function()
  return run(thinking, { on_thinking = function(dl) n = n + #dl end }) end)))
print(string.format("  on_thinking(delta, snapshot)      %8.1f", best(function()
  return run(thinking, { on_thinking = function(dl, snap) n = n + #dl + #snap end }) end)))
local tool = events({ type = "tool_use", id = "toolu_bench", name = "t", input = {} },
  "input_json_delta", "partial_json", 0, 1)
-- a 16 KiB tool input, in 16-byte fragments
local doc = '{"items": [' .. string.rep('"abcdefghijklm", ', 1000) .. '"end"]}'
for i = #tool - 2, 3, -1 do table.remove(tool, i) end
local at = 3
for i = 1, #doc, 16 do
  table.insert(tool, at, { type = "content_block_delta", index = 0,
    delta = { type = "input_json_delta", partial_json = doc:sub(i, i + 15) } })
  at = at + 1
end
print(string.format("%d-byte tool input in 16-byte fragments (%d events)", #doc, #tool))
print(string.format("  no callbacks                      %8.1f", best(function() return run(tool) end)))
print(string.format("  on_input_json(partial)            %8.1f", best(function()
  return run(tool, { on_input_json = function(p) n = n + #p end }) end)))
print(string.format("  on_input_json(partial, snapshot)  %8.1f", best(function()
  return run(tool, { on_input_json = function(p, v) n = n + #p + (v and 1 or 0) end }) end)))
