-- anthropic.reader: the one queued reader under a stream's events and a batch's result lines.
--
-- The engine hands an op's items (decoded events, JSONL lines) to its handler from
-- client:poll(); the handler pushes them here, and the caller takes them one at a time, in
-- order, with take(): a blocking wait outside a task, a yield inside one. After the last item
-- take() raises the op's error, if it failed (so every item that arrived before a failure is
-- read first), or returns nil.
--
--   local q = reader.new(op)          reader.push(q, item)      local item = reader.take(q)
--   reader.clear(q)                   drops what waits (the caller stopped reading)
--   reader.headers_arrived(op, holder) the shared `progress` step: notes the 2xx status and
--                                      headers of the current attempt on holder
--   reader.check_iterable(what, loop)  before a for-in loop: plain Lua 5.1 cannot yield from
--                                      one, so inside a task there it refuses, naming the loop

local compat = require "anthropic.compat"
local errors = require "anthropic.errors"
local engine = require "anthropic.engine"

local M = {}

function M.new(op)
  return { op = op, items = {}, head = 1, tail = 0, closed = false }
end

function M.push(q, item)
  local tail = q.tail + 1
  q.items[tail] = item
  q.tail = tail
end

function M.has_items(q) return q.head <= q.tail end

function M.clear(q)
  q.items, q.head, q.tail = {}, 1, 0
end

local function pop(q)
  local head = q.head
  local item = q.items[head]
  q.items[head] = nil
  if head == q.tail then q.head, q.tail = 1, 0 else q.head = head + 1 end
  return item
end

--- M.take(q) -> the next item, or nil after the last; raises the op's error after the last
--- item (unless the reader was closed by its owner).
function M.take(q)
  while true do
    if q.head <= q.tail then return pop(q) end
    local op = q.op
    if op.done then
      if op.err ~= nil and not q.closed then error(op.err, 0) end
      return nil
    end
    engine.wait(op, function() return q.head <= q.tail end)
  end
end

--- M.headers_arrived(op, holder): once the current attempt's reply has a 2xx status, sets
--- holder.status, holder.headers (the core's read-only Headers), holder.request_id and
--- holder.attempt, and marks the op as progressed. The core retries by itself an attempt that
--- failed before any item, also after its 200 was noted: the new attempt's reply then
--- replaces the old one's (and its request id).
function M.headers_arrived(op, holder)
  local attempt = op.req:attempts()
  if holder.status ~= nil and holder.attempt ~= attempt then
    holder.status, holder.headers, holder.request_id = nil, nil, nil
  end
  if holder.status == nil then
    local st = op.req:status()
    if st >= 200 and st < 300 then
      local h = op.req:headers()
      holder.status, holder.headers, holder.attempt = st, h, attempt
      holder.request_id = h["request-id"]
      op.progressed = true
    end
  end
end

--- M.check_iterable(what, loop_hint [, on_refuse]): on plain Lua 5.1 inside a task, refuses a
--- for-in loop at once (after on_refuse()) with a UsageError naming the while loop that works,
--- instead of failing later with "attempt to yield across a C-call boundary".
function M.check_iterable(what, loop_hint, on_refuse)
  if not compat.iterator_can_yield and engine.in_task() then
    if on_refuse then on_refuse() end
    errors.usage(nil, what .. " inside a task on Lua 5.1 (a for-in iterator cannot yield there): use `"
      .. loop_hint .. "`")
  end
end

return M
