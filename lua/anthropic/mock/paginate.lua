-- anthropic.mock.paginate: the API's cursor pagination for list endpoints
-- (models, message batches), plus query-string parsing.
--
-- Items are newest first. limit 1..1000 (default 20). after_id: the page just
-- after that item; before_id: the page just before it. has_more says whether
-- more items lie beyond the page in the direction of travel. first_id and
-- last_id are the ids of the page's ends, null for an empty page.

local json = require "anthropic.mock.json"

local M = {}

local function unescape(s)
  s = s:gsub("%+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- query(s) -> table of first values
function M.query(s)
  local q = {}
  for pair in (s or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k = unescape(k)
    if q[k] == nil then q[k] = unescape(v) end
  end
  return q
end

local LIST = json.order({ "data", "has_more", "first_id", "last_id" })

-- page(items, q, id_of) -> {data, has_more, first_id, last_id} | nil, message
function M.page(items, q, id_of)
  local limit = 20
  if q.limit ~= nil then
    if not q.limit:match("^%s*[+-]?%d+%s*$") then
      return nil, "limit: Input should be a valid integer, unable to parse string as an integer"
    end
    limit = tonumber(q.limit)
    if limit < 1 then return nil, "limit: Input should be greater than or equal to 1" end
    if limit > 1000 then return nil, "limit: Input should be less than or equal to 1000" end
  end
  local after, before = q.after_id, q.before_id
  if after and before then return nil, "Cannot specify both `before_id` and `after_id`." end
  local function index_of(id)
    for i, it in ipairs(items) do if id_of(it) == id then return i end end
  end
  local first, last, has_more
  if after then
    local i = index_of(after)
    if not i then first, last, has_more = 1, 0, false
    else
      first = i + 1
      last = math.min(#items, i + limit)
      has_more = last < #items
    end
  elseif before then
    local i = index_of(before)
    if not i then first, last, has_more = 1, 0, false
    else
      last = i - 1
      first = math.max(1, last - limit + 1)
      has_more = first > 1
    end
  else
    first = 1
    last = math.min(#items, limit)
    has_more = last < #items
  end
  local data = json.array()
  for i = first, last do data[#data + 1] = items[i] end
  return json.obj(LIST, {
    data = data, has_more = has_more,
    first_id = data[1] and id_of(data[1]) or json.null,
    last_id = data[#data] and id_of(data[#data]) or json.null,
  })
end

return M
