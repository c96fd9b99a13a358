-- validate.request_options: a call given no options reads one shared, read-only table (none is
-- made per request), and a call given options gets a checked copy of its own.
local validate = require "anthropic.validate"

describe("request options", function()
  it("a call given none reads the shared empty table, which no one can write", function()
    local o = validate.request_options(nil)
    assert.equal(validate.NO_OPTIONS, o)
    assert.is_nil(next(o))
    assert.has_error(function() o.timeout = 1 end, "anthropic: validate.NO_OPTIONS is read-only")
    assert.is_nil(next(o))
    assert.is_false(getmetatable(o))
  end)

  it("a call given options gets a checked table of its own", function()
    local given = { timeout = 5, max_retries = 1 }
    local o = validate.request_options(given)
    assert.are_not.equal(given, o)
    assert.are_not.equal(validate.NO_OPTIONS, o)
    assert.equal(5, o.timeout)
    assert.equal(1, o.max_retries)
    assert.is_nil(next(validate.NO_OPTIONS))
  end)
end)
