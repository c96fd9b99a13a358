-- spec.support.gc_stress: a busted helper (--helper=spec/support/gc_stress.lua) that makes the
-- garbage collector as eager as it can be, so that every __gc of anthropic.core (Client,
-- Request) runs as early as the object becomes unreachable, including while transfers are in
-- flight and while other requests of the same client are being serviced. `make valgrind` runs
-- the core specs with it; memcheck then sees any use of memory a finalizer already freed.
--
--   * the collector never pauses between cycles (setpause 0) and does a large step per
--     allocation (setstepmul), so objects are finalized shortly after they are dropped;
--   * a full collection after every test and two after every file (the second one frees what
--     the first one's finalizers released; once per test would double valgrind's run time).
--
-- ANTHROPIC_GC_STRESS=0 turns it off (the helper then changes nothing).

local busted = require "busted"

local on = os.getenv("ANTHROPIC_GC_STRESS") ~= "0"

local function full_collect()
  collectgarbage("collect")
  collectgarbage("collect")
end

if on then
  -- Lua 5.4 still accepts setpause/setstepmul (they map onto the incremental mode's
  -- parameters); on 5.1, 5.2, 5.3 and LuaJIT they are the native knobs.
  collectgarbage("setpause", 0)
  collectgarbage("setstepmul", 1000)
  busted.subscribe({ "test", "end" }, function()
    collectgarbage("collect")
    return nil, true
  end)
  busted.subscribe({ "file", "end" }, function()
    full_collect()
    return nil, true
  end)
end

return { full_collect = full_collect, enabled = on }
