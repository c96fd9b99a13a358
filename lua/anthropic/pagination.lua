-- anthropic.pagination: the API's cursor pages (models.list, messages.batches.list). The
-- request helpers the resources share are anthropic.resource.
--
--   local page = client.models.list{ limit = 5 }   -- page.data, page.has_more, first_id, last_id
--   local older = page:next_page()                  -- nil when there is none
--   for model in page:iter() do ... end             -- every item, fetching pages as needed
--
-- Direction: a listing that started with before_id walks backwards (before_id = first_id of
-- the page in hand); every other listing walks forwards (after_id = last_id). has_more says
-- whether more items lie in the direction of travel. A page is the decoded reply (so pairs()
-- shows only its JSON fields); what it needs to fetch the next one sits in a weak side table.
--
-- The server drives the walk, so the walk is bounded: asking for the page after one whose
-- has_more is true but whose cursor is missing, or is a cursor this listing already used (a
-- server that does not advance), raises an APIError naming the problem; so does passing
-- max_pages (a list parameter, default M.DEFAULT_MAX_PAGES) pages in one listing.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local resource = require "anthropic.resource"
local outcome = require "anthropic.outcome"

local M = {}

local usage = errors.usage

-- ---------------------------------------------------------------------------------------
-- Pages

---@class anthropic.Page
---@field data table[] the items of this page
---@field has_more boolean whether more items lie in the direction of travel
---@field first_id? string
---@field last_id? string
local Page = {}
Page.__index = Page
M.Page = Page

local state = setmetatable({}, { __mode = "k" })   -- page -> { client, path, params, backward }

local LIST_KEYS = { limit = true, after_id = true, before_id = true, betas = true, max_pages = true }

-- Pages one listing may fetch (max_pages): 1,000 pages of up to 1,000 items.
M.DEFAULT_MAX_PAGES = 1000

--- M.check_list_params(params) -> a copy of params (nil becomes {}), validated.
---@param params? table
---@return table
function M.check_list_params(params)
  if params == nil then return { max_pages = M.DEFAULT_MAX_PAGES } end
  if type(params) ~= "table" then usage("params", "must be a table { limit =, after_id =, before_id = }") end
  params = validate.plain(params, "params")
  validate.known_keys(params, LIST_KEYS, "")
  local p = {}
  for k, v in pairs(params) do p[k] = v end
  if p.limit ~= nil and (not validate.is_integer(p.limit) or p.limit < 1 or p.limit > 1000) then
    usage("limit", "must be an integer from 1 to 1000")
  end
  if p.after_id ~= nil then resource.check_id(p.after_id, "after_id") end
  if p.before_id ~= nil then resource.check_id(p.before_id, "before_id") end
  if p.after_id ~= nil and p.before_id ~= nil then
    usage("after_id", "cannot be combined with before_id (one cursor per listing)")
  end
  validate.betas(p.betas, "betas")
  p.max_pages = validate.count(p.max_pages, "max_pages", M.DEFAULT_MAX_PAGES, 2^31 - 1, 1)
  return p
end

local function null_to_nil(v)
  if v == json.null then return nil end
  return v
end

local function make_page(value, st)
  if type(value) ~= "table" or type(value.data) ~= "table" then
    error(errors.new(errors.APIError, { message = "list reply has no data array" }), 0)
  end
  local meta = getmetatable(value)
  state[value] = st
  -- Keep outcome.attach_response's _request_id/_response, with the Page methods behind them.
  if meta and type(meta.__index) == "table" then
    setmetatable(meta.__index, { __index = Page })
    return value
  end
  return setmetatable(value, Page)
end

-- The handler of a list request: finishes like outcome.json_handler, with the reply made into
-- a Page before anyone (on_done, a waiting caller) sees it; a reply that is not a page ends the
-- op with make_page's error.
local function page_handler(st)
  return {
    finish = function(op)
      local err, value = outcome.json_result(op)
      if err == nil then
        local ok, v = pcall(make_page, value, st)
        if ok then value = v else err, value = v, nil end
      end
      op:finish(err, value)
    end,
  }
end

-- Sends one list request; returns the Page (or, with options.on_done, the op).
local function fetch(st, options)
  local p = st.params
  local query = { limit = p.limit, after_id = p.after_id, before_id = p.before_id }
  return resource.call(st.client, {
    method = "GET", path = st.path, query = query, betas = p.betas,
    handler = page_handler(st),
  }, st.options, options)
end

--- M.list(client, path, params, options) -> Page (or an op when options.on_done is given).
---@param client anthropic.Client
---@param path string
---@param params? table limit, after_id, before_id, betas
---@param options? anthropic.RequestOptions
---@return anthropic.Page page (an operation with options.on_done)
function M.list(client, path, params, options)
  local p = M.check_list_params(params)
  local o = resource.check_options(options)
  -- What the whole listing shares: the cursors it used and the pages it fetched.
  local walk = { used = {}, pages = 1, max_pages = p.max_pages }
  local start = p.after_id or p.before_id
  if start then walk.used[start] = true end
  return fetch({ client = client, path = path, params = p, options = o, backward = p.before_id ~= nil,
    walk = walk }, options)
end

--- page:next_cursor() -> "after_id" or "before_id", id; nil when this is the last page (or
--- when the reply gives no usable cursor: next_page() then says so).
---@return string|nil field "after_id" or "before_id"
---@return string|nil id
function Page:next_cursor()
  local st = state[self]
  if self.has_more ~= true then return nil end
  local key, id = "after_id", null_to_nil(self.last_id)
  if st.backward then key, id = "before_id", null_to_nil(self.first_id) end
  if type(id) ~= "string" or id == "" then return nil end
  return key, id
end

--- page:has_next_page() -> boolean
---@return boolean
function Page:has_next_page()
  return self:next_cursor() ~= nil
end

-- Raises the APIError that ends a walk the server would not let end, with the page's status
-- and request id.
local function bad_walk(page, message)
  local resp = page._response
  error(errors.new(errors.APIError, { message = message, status = resp and resp.status,
    request_id = page._request_id }), 0)
end

--- page:next_page([options]) -> the next Page in the listing's direction, or nil after the
--- last one. Same limit, betas and request options as the first call. Raises an APIError when
--- the reply says has_more but gives no cursor, when the cursor was used before in this
--- listing, or when the listing would pass max_pages.
---@param options? anthropic.RequestOptions
---@return anthropic.Page|nil
function Page:next_page(options)
  local st = state[self]
  if self.has_more ~= true then return nil end
  local key, id = self:next_cursor()
  local field = st.backward and "first_id" or "last_id"
  if key == nil then
    bad_walk(self, "list reply says has_more but has no " .. field .. " to continue from")
  end
  local walk = st.walk
  if walk.used[id] then
    bad_walk(self, string.format("list reply repeats the cursor %s = %q: the listing does not advance",
      field, id))
  end
  if walk.pages >= walk.max_pages then
    bad_walk(self, string.format("listing stopped at max_pages (%d pages); pass a larger max_pages "
      .. "to read further", walk.max_pages))
  end
  walk.used[id] = true
  walk.pages = walk.pages + 1
  local p = {}
  for k, v in pairs(st.params) do p[k] = v end
  p.after_id, p.before_id = nil, nil
  p[key] = id
  local o = st.options
  if options ~= nil then
    o = resource.check_options(options)
  end
  return fetch({ client = st.client, path = st.path, params = p, options = o, backward = st.backward,
    walk = walk }, options)
end

--- page:iter() -> iterator over every item of this page and of the pages after it (fetched
--- one at a time, only when the items in hand are used up). Alias: page:auto_paging_iter().
---@return fun(): any iterator over the items
function Page:iter()
  local page, i = self, 0
  return function()
    while page do
      i = i + 1
      local item = page.data[i]
      if item ~= nil then return item end
      page, i = page:next_page(), 0
    end
    return nil
  end
end
Page.auto_paging_iter = Page.iter

return M
