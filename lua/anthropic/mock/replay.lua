-- anthropic.mock.replay: the "replay" fault, a recorded transcript served
-- byte for byte as a 200 text/event-stream body (or, with content_type, as a
-- 200 reply of that type: a recorded JSON Message).
--
-- The file is cut into writes of "chunk" bytes (1 = one byte per write) or,
-- with chunk = "random", of sizes 1..64 drawn from a seeded generator that is
-- the same on every Lua version (Park-Miller, exact in doubles and ints).
-- Each write is its own HTTP chunk, sent at once (the socket has TCP_NODELAY);
-- write_delay_ms waits between writes. Relative paths resolve against the
-- mock's working directory.

local sched = require "anthropic.mock.sched"

local M = {}

-- sizes(total, chunk, seed) -> iterator of piece sizes
function M.sizes(total, chunk, seed)
  local state = math.floor(tonumber(seed) or 1) % 2147483647
  if state <= 0 then state = state + 2147483646 end
  local done = 0
  return function()
    if done >= total then return nil end
    local n
    if chunk == "random" then
      state = (state * 16807) % 2147483647
      n = state % 64 + 1
    else
      n = chunk or total
    end
    if n > total - done then n = total - done end
    done = done + n
    return n
  end
end

-- read(path) -> bytes | nil, message
function M.read(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "replay: cannot read " .. tostring(err) end
  local data = f:read("*a")
  f:close()
  return data
end

-- serve(ex, fault): the reply (the file was read already by the router). With a
-- content_type other than text/event-stream (a recorded JSON reply), the file is
-- the whole body, sent with Content-Length.
function M.serve(ex, fault, data)
  local ct = fault.content_type
  if ct and not ct:lower():find("^text/event%-stream") then
    return ex:send(200, ct, data)
  end
  local w = ex:sse()
  if not w.flush_head() then ex.keep_alive = false; return end
  local delay = (fault.write_delay_ms or 0) / 1000
  local pos = 1
  for n in M.sizes(#data, fault.chunk, fault.seed) do
    if delay > 0 and pos > 1 then sched.sleep(delay) end
    if not w:send(data:sub(pos, pos + n - 1)) then ex.keep_alive = false; return end
    pos = pos + n
  end
  if not w.finish() then ex.keep_alive = false end
end

return M
