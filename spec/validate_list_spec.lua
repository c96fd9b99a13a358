-- validate.list: what it counts is what the table holds. The caller's __len is never asked
-- (it may lie, or raise), and a hole or a key that is no index is named.
local validate = require "anthropic.validate"

local function refusal(t)
  local ok, err = pcall(validate.list, t, "requests")
  assert.is_false(ok)
  assert.equal("UsageError", err.class_name)
  return err.message
end

describe("validate.list", function()
  it("counts the items held, running no __len of the caller's", function()
    local asked = false
    local t = setmetatable({ "a", "b" }, { __len = function() asked = true; error("boom") end })
    assert.equal(2, validate.list(t, "requests"))
    assert.is_false(asked)
  end)

  it("takes an empty list, and names a hole or a key that is no index", function()
    assert.equal(0, validate.list({}, "requests"))
    assert.equal("requests: must be a list without holes (item 2 is nil)", refusal({ "a", nil, "c" }))
    assert.equal("requests: must be a list (a table with items 1..n), found key x", refusal({ "a", x = 1 }))
  end)
end)
