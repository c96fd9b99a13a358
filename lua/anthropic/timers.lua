-- anthropic.timers: one client's list of wake-ups that are not transfers (engine.sleep).
--
-- A task that sleeps (a bulk job between two polls of its batches) must not block the host,
-- and the host's client:poll must wake it when its time comes. libcurl's timers belong to
-- transfers, so the engine keeps these itself: poll shortens its wait to the earliest one,
-- sleeps on the monotonic clock when no transfer is in flight (the core's poll returns at once
-- then), and runs the due ones after servicing the operations.

local core = require "anthropic.core"

local M = {}

local now_ms = core.now_ms

M.now_ms = now_ms

--- Adds a wake-up: fn() runs from the first poll at or after at_ms (core.now_ms's clock).
---@param client anthropic.Client
---@param at_ms number
---@param fn function
function M.add(client, at_ms, fn)
  client = client._root or client   -- a derived client (with_options) is polled through its root
  local list = client._timers
  if list == nil then
    list = {}
    client._timers = list
  end
  list[#list + 1] = { at = at_ms, fn = fn }
  -- An event-loop driver (anthropic.uv) re-arms its timer for the new deadline.
  if client._wake then client._wake() end
end

---@param client anthropic.Client
---@return integer pending wake-ups
function M.count(client)
  local list = client._timers
  return list and #list or 0
end

--- The wait a poll may spend, shortened to the earliest wake-up.
---@param client anthropic.Client
---@param wait_ms number
---@return number
function M.bound(client, wait_ms)
  local list = client._timers
  if not list or #list == 0 then return wait_ms end
  local now = now_ms()
  for i = 1, #list do
    local left = list[i].at - now
    if left < wait_ms then wait_ms = left end
  end
  -- Whole ms, rounded up: the core's sleep and poll truncate, and a wake-up 0.4 ms early
  -- would find nothing due and spin through polls of 0 ms until it is.
  return wait_ms > 0 and math.ceil(wait_ms) or 0
end

--- Runs (and removes) every wake-up that is due. Ones added while they run wait for a later poll.
---@param client anthropic.Client
function M.run_due(client)
  local list = client._timers
  if not list or #list == 0 then return end
  local now, due, keep = now_ms(), {}, {}
  for i = 1, #list do
    local t = list[i]
    if t.at <= now then due[#due + 1] = t else keep[#keep + 1] = t end
  end
  if #due == 0 then return end
  client._timers = keep
  for i = 1, #due do due[i].fn() end
end

return M
