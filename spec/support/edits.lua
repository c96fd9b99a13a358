-- spec.support.edits: texts a few random edits away from a good one, for the specs that hold
-- a byte-level shortcut to the full decode it stands in for (bedrock_chunk_spec,
-- stream_text_delta_spec). Uses math.random: seed it first.

local M = {}

--- M.near(text, bytes) -> text after one to three edits (insert, delete or replace), each at a
--- random place, with mostly a byte of `bytes` (a list of one-byte strings), else any byte.
---@param text string
---@param bytes string[]
---@return string
function M.near(text, bytes)
  for _ = 1, math.random(1, 3) do
    local at = math.random(1, #text + 1)
    local c = math.random() < 0.8 and bytes[math.random(#bytes)] or string.char(math.random(0, 255))
    local kind = math.random(3)
    if kind == 1 then text = text:sub(1, at - 1) .. c .. text:sub(at)
    elseif kind == 2 then text = text:sub(1, at - 1) .. text:sub(at + 1)
    else text = text:sub(1, at - 1) .. c .. text:sub(at + 1) end
  end
  return text
end

return M
