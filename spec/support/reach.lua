-- spec.support.reach: every string reachable from a value, for the specs that check where a
-- secret must not be.
--
--   reach.strings(v, fn)   calls fn(s, path) for every string reachable from v: v itself, keys
--                          and values at any depth, and metatables (functions' upvalues are
--                          not followed: the client keeps its credentials in a private table
--                          by design). path is like ".error.message" or ".headers<key>".

local M = {}

function M.strings(v, fn)
  local seen = {}
  local function walk(x, path)
    local t = type(x)
    if t == "string" then
      fn(x, path)
    elseif t == "table" and not seen[x] then
      seen[x] = true
      for k, item in pairs(x) do
        walk(k, path .. "<key>")
        walk(item, path .. "." .. tostring(k))
      end
      local mt = getmetatable(x)
      if type(mt) == "table" then walk(mt, path .. "<mt>") end
    end
  end
  walk(v, "")
end

return M
