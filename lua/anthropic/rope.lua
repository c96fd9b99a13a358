-- anthropic.rope: a string built from many small appends (a stream's text deltas, a tool
-- input's JSON fragments) in O(total bytes). Pieces are gathered in a list and folded into one
-- chunk every FOLD pieces, so the overhead per delta is bounded (a Lua string header and a
-- table slot per piece, FOLD pieces at most); the whole string is made only on demand.
--
--   local r = rope.new([seed])   rope.add(r, piece)   rope.string(r)  -- leaves r as one chunk
-- Pure Lua, no I/O.

local concat, type = table.concat, type

local M = {}

-- Pieces gathered before they are folded into one chunk: bounds the per-delta overhead
-- (a Lua string header and a table slot per piece) to FOLD pieces per buffer.
local FOLD = 64
function M.new(seed)
  local b = { c = {}, nc = 0, p = {}, np = 0 }
  if type(seed) == "string" and seed ~= "" then
    b.c[1], b.nc = seed, 1
  end
  return b
end

function M.add(b, s)
  local np = b.np + 1
  b.p[np] = s
  if np < FOLD then
    b.np = np
    return
  end
  local nc = b.nc + 1
  b.c[nc] = concat(b.p, "", 1, np)
  b.nc = nc
  local p = b.p
  for i = 1, np do p[i] = nil end
  b.np = 0
end

-- The whole content; leaves the buffer holding it as one chunk.
function M.string(b)
  if b.np > 0 then
    b.nc = b.nc + 1
    b.c[b.nc] = concat(b.p, "", 1, b.np)
    local p = b.p
    for i = 1, b.np do p[i] = nil end
    b.np = 0
  end
  if b.nc == 0 then return "" end
  if b.nc == 1 then return b.c[1] end
  local s = concat(b.c, "", 1, b.nc)
  b.c = { s }
  b.nc = 1
  return s
end

return M
