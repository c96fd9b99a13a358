-- tools/check-annotations.lua (the .ci/run step "annotations"): what it accepts and what it
-- reports, on small files written here, and that the library itself passes it.

local run = require "spec.support.run"

local function check(source)
  local path = os.tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(source)
  f:close()
  local out, code = run.command(run.interpreter() .. " tools/check-annotations.lua " .. run.quote(path))
  os.remove(path)
  return (out:gsub(path:gsub("%p", "%%%0"), "FILE")), code
end

describe("tools/check-annotations.lua", function()
  local rows = {
    { "a documented function", "---@param a string\n---@return string\nfunction M.f(a) return a end\n", 0, nil },
    { "a module function with none", "function M.f(a) return a end\n", 1,
      "FILE:1: public function M.f has no --- annotations" },
    { "a missing ---@param", "---@param a string\n---@return string\nfunction M.f(a, b) return a end\n", 1,
      "FILE:3: public function M.f: no ---@param b" },
    { "a missing ---@return", "---@param a string\nfunction M.f(a) if a then return a end end\n", 1,
      "FILE:2: public function M.f returns a value: no ---@return" },
    { "no annotations at all", "-- a plain comment\nfunction Obj:run() end\n", 1,
      "FILE:2: public function Obj:run has no --- annotations" },
    { "a return inside a nested function does not count",
      "---Runs.\nfunction M.f() local g = function() return 1 end end\n", 0, nil },
    { "'end' and 'return' inside strings and comments",
      "---Quotes.\nfunction M.f() local s = \"end return 1\" --[[ return 2 ]] end\n", 0, nil },
    { "private helpers, dispatch tables and _names need nothing",
      "---@private\nfunction M.f(x) return x end\nfunction EVENTS.go(x) return x end\n"
        .. "function M._g(x) return x end\n", 0, nil },
    { "a class without ---@class", "local Thing = {}\nThing.__index = Thing\n", 1,
      "FILE:1: class Thing has no ---@class annotation" },
    { "a class with ---@class", "---@class my.Thing\nlocal Thing = {}\nThing.__index = Thing\n", 0, nil },
    { "varargs", "---@param ... any\nfunction M.f(...) end\n", 0, nil },
  }
  for _, row in ipairs(rows) do
    it(row[1], function()
      local out, code = check(row[2])
      assert.are.equal(row[3], code, out)
      if row[4] then assert.truthy(out:find(row[4], 1, true), out) end
    end)
  end

  it("passes on the library (lua/anthropic, the mock aside)", function()
    local out, code = run.command(run.interpreter() .. " tools/check-annotations.lua")
    assert.are.equal(0, code, out)
    assert.truthy(out:match("^check%-annotations: ok %(%d+ files%)\n$"), out)
  end)
end)
