-- anthropic.headers: a reply's headers as Lua sees them. The C core parsed the header block
-- once, as it arrived (src/headers.c), and hands over a read-only copy of that parsed list
-- (an anthropic.Headers userdata); this module wraps it in a read-only table view. Nothing is
-- parsed here and nothing goes back into C but a header name.
--
--   local h = msg._response.headers
--   h["request-id"], h["Retry-After"]    -- any case; repeats joined with ", "; nil if absent
--   h()                                  -- a plain table copy { lowercased name = value }
--   for name, value in pairs(h) do ... end   -- Lua 5.2+ (__pairs); on 5.1/LuaJIT use h()
--
-- Writing to it raises "response headers are read-only". A view made for an error carries the
-- client's redaction, so a proxy that echoes the key shows "[redacted]" here.

local M = {}

local next, setmetatable, error, pairs = next, setmetatable, error, pairs

-- view -> { core Headers userdata, redact function or false }; weak, so a view costs nothing
-- once dropped.
local source = setmetatable({}, { __mode = "k" })

local function plain(view)
  local s = source[view]
  local t = s[1]()
  local redact = s[2]
  if redact then
    local out = {}
    for k, v in pairs(t) do out[redact(k)] = redact(v) end
    t = out
  end
  return t
end

local View = {
  __index = function(view, name)
    local s = source[view]
    local v = s[1][name]
    if v ~= nil and s[2] then v = s[2](v) end
    return v
  end,
  __newindex = function() error("response headers are read-only", 2) end,
  __pairs = function(view) return next, plain(view), nil end,
  __call = plain,
  __name = "anthropic.Headers",
}

--- M.view(core_headers [, redact]) -> the read-only table view, or nil for nil.
function M.view(core_headers, redact)
  if core_headers == nil then return nil end
  local v = setmetatable({}, View)
  source[v] = { core_headers, redact or false }
  return v
end

--- M.is_view(v) -> true for a table made by M.view.
function M.is_view(v)
  return source[v] ~= nil
end

return M
