-- anthropic.compat: the few Lua-version differences the pure-Lua modules care about.
--
-- compat.pcall is a pcall that a task may yield through. Lua 5.2+ and LuaJIT can yield
-- across pcall; plain Lua 5.1 cannot ("attempt to yield across metamethod/C-call boundary"),
-- so there it runs the function in a coroutine of its own and forwards every yield outward.
-- Plain 5.1 cannot yield from a for-in iterator either; compat.iterator_can_yield says so.

local compat = {}

compat.unpack = table.unpack or unpack   -- luacheck: ignore 113
compat.pack = table.pack or function(...) return { n = select("#", ...), ... } end

local is_plain_51 = _VERSION == "Lua 5.1" and not rawget(_G, "jit")

-- Whether a for-in iterator may yield (the generic for calls it across a C boundary on 5.1).
compat.iterator_can_yield = not is_plain_51

if is_plain_51 then
  local pack, unpack = compat.pack, compat.unpack
  local co_create, co_resume, co_status, co_yield =
    coroutine.create, coroutine.resume, coroutine.status, coroutine.yield
  local plain_pcall = pcall
  compat.pcall = function(fn, ...)
    if not coroutine.running() then return plain_pcall(fn, ...) end
    local co = co_create(fn)
    local res = pack(co_resume(co, ...))
    while true do
      if not res[1] then return false, res[2] end
      if co_status(co) == "dead" then return true, unpack(res, 2, res.n) end
      res = pack(co_resume(co, co_yield(unpack(res, 2, res.n))))
    end
  end
else
  compat.pcall = pcall
end

return compat
