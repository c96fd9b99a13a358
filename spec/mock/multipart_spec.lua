-- anthropic.mock.multipart (issue 18): the mock's streamed multipart/form-data parser, fed the
-- same body in every split (one byte at a time, at every offset, in random pieces), with content
-- that looks like a delimiter, quoted and bare boundaries, transport padding, the size cap, and
-- bodies that are not multipart.

local multipart = require "anthropic.mock.multipart"

local B = "----lua-anthropic-7d1f"
local CT = "multipart/form-data; boundary=" .. B

local function body(parts, opts)
  opts = opts or {}
  local out = { opts.preamble or "" }
  for _, p in ipairs(parts) do
    out[#out + 1] = "--" .. B .. (opts.padding or "") .. "\r\n"
    local cd = 'Content-Disposition: form-data; name="' .. p.name .. '"'
    if p.filename then cd = cd .. '; filename="' .. p.filename .. '"' end
    out[#out + 1] = cd .. "\r\n"
    if p.type then out[#out + 1] = "Content-Type: " .. p.type .. "\r\n" end
    out[#out + 1] = "\r\n" .. p.content .. "\r\n"
  end
  out[#out + 1] = "--" .. B .. "--\r\n" .. (opts.epilogue or "")
  return table.concat(out)
end

local function parse(text, pieces, max, ct)
  local p = assert(multipart.new(ct or CT, max))
  local i = 1
  for _, n in ipairs(pieces) do
    p:write(text:sub(i, i + n - 1))
    i = i + n
  end
  p:write(text:sub(i))
  return p:finish()
end

local function content(part) return table.concat(part.chunks) end

local TRICKY = "line one\r\n--" .. B:sub(1, 10) .. "\r\n\r\n--" .. B:sub(1, #B - 1) .. "\0\255\r\n-"

describe("anthropic.mock.multipart", function()
  local parts = {
    { name = "purpose", content = "assistants" },
    { name = "file", filename = "a.bin", type = "application/octet-stream", content = TRICKY },
  }
  local text = body(parts, { preamble = "ignored preamble\r\n", epilogue = "ignored epilogue" })

  it("parses fields, file names, types and content", function()
    local got = assert(parse(text, {}))
    assert.equal(2, #got)
    assert.equal("purpose", got[1].name)
    assert.equal("assistants", content(got[1]))
    assert.equal("file", got[2].name)
    assert.equal("a.bin", got[2].filename)
    assert.equal("application/octet-stream", got[2].content_type)
    assert.equal(TRICKY, content(got[2]))
    assert.equal(#TRICKY, got[2].size)
  end)

  it("gives the same result however the body is split", function()
    local ones = {}
    for i = 1, #text do ones[i] = 1 end
    assert.equal(TRICKY, content(assert(parse(text, ones))[2]))
    for cut = 1, #text - 1 do
      local got = assert(parse(text, { cut }))
      assert.equal(TRICKY, content(got[2]), "split at " .. cut)
      assert.equal("assistants", content(got[1]))
    end
    math.randomseed(18)
    for _ = 1, 200 do
      local pieces, left = {}, #text
      while left > 0 do
        local n = math.random(1, 40)
        pieces[#pieces + 1] = n
        left = left - n
      end
      assert.equal(TRICKY, content(assert(parse(text, pieces))[2]))
    end
  end)

  it("keeps a large part as the pieces it came in, never joined", function()
    local big = string.rep("0123456789", 100000)
    local t = body({ { name = "file", filename = "big", content = big } })
    local p = assert(multipart.new(CT))
    for i = 1, #t, 65536 do p:write(t:sub(i, i + 65535)) end
    local got = assert(p:finish())
    assert.is_true(#got[1].chunks > 10)
    assert.equal(big, content(got[1]))
  end)

  it("takes quoted boundaries, any case of the parameter, and transport padding", function()
    local got = assert(parse(body(parts, { padding = " \t" }), {}, nil, 'Multipart/Form-Data; BOUNDARY="' .. B .. '"'))
    assert.equal(TRICKY, content(got[2]))
  end)

  it("stops keeping a part past the cap and says too_large", function()
    local got, err = parse(text, { 7 }, #TRICKY - 1)
    assert.is_nil(got)
    assert.equal("too_large", err)
    assert.is_truthy(parse(text, { 7 }, #TRICKY))
  end)

  it("refuses what is not multipart, or is cut short, or has no name", function()
    assert.is_nil(multipart.new("application/json"))
    assert.is_nil(multipart.new("multipart/form-data"))
    assert.is_nil(multipart.new(nil))
    local got, err = parse(text:sub(1, #text - 30), {})
    assert.is_nil(got)
    assert.equal("malformed", err)
    got, err = parse("--" .. B .. "\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" .. B .. "--\r\n", {})
    assert.is_nil(got)
    assert.equal("malformed", err)
    got, err = parse("--" .. B .. "junk\r\n", {})
    assert.is_nil(got)
    assert.equal("malformed", err)
  end)
end)
