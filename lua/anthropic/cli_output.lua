-- anthropic.cli_output: the writers the CLI prints through, so that no credential reaches its
-- output whatever a server or proxy echoes back.

local redact = require("anthropic.client").redact

local M = {}

--- M.note(out, ...) writes narration on stderr, after flushing stdout so that the two streams
--- keep their order when both go to one terminal or file.
---@param out table the CLI's writers { stdout, stderr, ... }
---@param ... string the text
function M.note(out, ...)
  out.stdout:flush()
  out.stderr:write(...)
end

--- M.pad(s, n) -> s padded to n display columns (counts UTF-8 characters, not bytes).
---@param s string
---@param n integer
---@return string
function M.pad(s, n)
  local _, cont = s:gsub("[\128-\191]", "")
  return s .. string.rep(" ", math.max(0, n - (#s - cont)))
end

--- M.scrubbed(file, secrets) -> a writer like file whose output never holds a run of 8 or more
--- characters of any of secrets. The library already keeps credentials out of errors; this is
--- the last line of defence for whatever a server or proxy echoes back (a request id, a header,
--- streamed text) that reaches the output. A streamed answer arrives in small writes, and a key
--- split across them would match in no single one: so the writer holds back the tail after the
--- last byte that occurs in no secret (a space, a newline, most punctuation). No run can cross
--- such a byte, so everything before it can be checked and shown at once. The tail is shown
--- with the next write, or by w:drain() at the end; one that grows past HOLD_MAX is shown
--- (scrubbed) anyway, so output is never held without bound.
local HOLD_MAX = 64 * 1024
---@param file file*|table anything with write and flush
---@param secrets string[]
---@return file*|table writer
function M.scrubbed(file, secrets)
  if #secrets == 0 then return file end
  local chars = {}
  for _, s in ipairs(secrets) do
    for c in s:gmatch(".") do chars[c] = true end
  end
  local class = {}
  for c in pairs(chars) do class[#class + 1] = c:match("%w") and c or "%" .. c end
  table.sort(class)
  local last_boundary = "^.*()[^" .. table.concat(class) .. "]"   -- anchored: one pass, not one per start
  -- The held tail has no boundary in it (it is what followed the last one), so only the new
  -- text needs searching, and the tail is kept as pieces: tiny writes cost what they write.
  local held, nheld, held_bytes = {}, 0, 0
  local function take_held(extra)
    local text = table.concat(held, "", 1, nheld) .. extra
    for i = 1, nheld do held[i] = nil end
    nheld, held_bytes = 0, 0
    return text
  end
  local w = {}
  ---@private
  function w.write(_, ...)
    local chunk = table.concat({ ... })
    local cut = chunk:match(last_boundary)
    if not cut and held_bytes + #chunk <= HOLD_MAX then
      nheld, held_bytes = nheld + 1, held_bytes + #chunk
      held[nheld] = chunk
      return w
    end
    cut = cut or #chunk
    local text = take_held(chunk:sub(1, cut))
    if cut < #chunk then
      nheld, held_bytes = 1, #chunk - cut
      held[1] = chunk:sub(cut + 1)
    end
    local ok, err = file:write(redact(text, secrets))
    if not ok then return nil, err end
    return w
  end
  ---@private
  function w.drain()
    if nheld == 0 then return true end
    return file:write(redact(take_held(""), secrets))
  end
  ---@private
  function w.flush() return file:flush() end
  return w
end

return M
