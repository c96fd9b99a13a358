-- anthropic.pagination: the API's cursor pages (models.list, messages.batches.list), and the
-- small request helpers the models and batches resources share (ids in paths, betas, options).
--
--   local page = client.models.list{ limit = 5 }   -- page.data, page.has_more, first_id, last_id
--   local older = page:next_page()                  -- nil when there is none
--   for model in page:iter() do ... end             -- every item, fetching pages as needed
--
-- Direction: a listing that started with before_id walks backwards (before_id = first_id of
-- the page in hand); every other listing walks forwards (after_id = last_id). has_more says
-- whether more items lie in the direction of travel. A page is the decoded reply (so pairs()
-- shows only its JSON fields); what it needs to fetch the next one sits in a weak side table.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local client_mod = require "anthropic.client"
local engine = require "anthropic.engine"

local M = {}

local usage = errors.usage

-- ---------------------------------------------------------------------------------------
-- Shared request helpers

--- M.path_segment(s): s escaped for use as one path segment. "." and ".." are escaped too,
--- or libcurl would remove them as dot segments and the request would reach another route.
function M.path_segment(s)
  if s == "." or s == ".." then return (s:gsub("%.", "%%2E")) end
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

--- M.check_id(v, name): an id must be a non-empty string.
function M.check_id(v, name)
  if type(v) ~= "string" or v == "" then usage(name, "must be a non-empty string") end
  return v
end

--- M.check_options(options) -> validated request options (on_event/on_text belong to streams).
function M.check_options(options)
  local o = validate.request_options(options)
  if options and (options.on_event ~= nil or options.on_text ~= nil) then
    usage("options", "on_event/on_text are only for messages.stream")
  end
  return o
end

--- M.split_options(options) -> validated request options, betas. The options table of a call
--- that has no params table (retrieve(id, options), ...) may also carry `betas`.
function M.split_options(options)
  if options == nil then return validate.request_options(nil), nil end
  if type(options) ~= "table" then usage("options", "must be a table") end
  options = validate.plain(options, "options")
  local rest = {}
  for k, v in pairs(options) do if k ~= "betas" then rest[k] = v end end
  return M.check_options(rest), validate.betas(options.betas, "options.betas")
end

--- M.call(client, spec, o, options): client:_call with the options every resource call takes.
function M.call(client, spec, o, options)
  spec.options, spec.headers = o, o.headers
  spec.handler = spec.handler or client_mod.json_handler
  spec.callbacks = { on_done = options and options.on_done }
  return client:_call(spec)
end

--- M.transforming(transform) -> a handler that finishes like client.json_handler, with
--- transform(value) applied to a successful result before anyone (on_done, a waiting caller)
--- sees it.
function M.transforming(transform)
  local Op = engine.Op
  return {
    finish = function(op)
      -- json_handler ends with op:finish(err, value); this per-op override sees it first.
      op.finish = function(self, err, value)
        self.finish = nil
        if err == nil then
          local ok, v = pcall(transform, value)
          if ok then value = v else err, value = v, nil end
        end
        return Op.finish(self, err, value)
      end
      return client_mod.json_handler.finish(op)
    end,
  }
end

-- ---------------------------------------------------------------------------------------
-- Pages

local Page = {}
Page.__index = Page
M.Page = Page

local state = setmetatable({}, { __mode = "k" })   -- page -> { client, path, params, backward }

local LIST_KEYS = { limit = true, after_id = true, before_id = true, betas = true }

--- M.check_list_params(params) -> a copy of params (nil becomes {}), validated.
function M.check_list_params(params)
  if params == nil then return {} end
  if type(params) ~= "table" then usage("params", "must be a table { limit =, after_id =, before_id = }") end
  params = validate.plain(params, "params")
  validate.known_keys(params, LIST_KEYS, "")
  local p = {}
  for k, v in pairs(params) do p[k] = v end
  if p.limit ~= nil and (not validate.is_integer(p.limit) or p.limit < 1 or p.limit > 1000) then
    usage("limit", "must be an integer from 1 to 1000")
  end
  if p.after_id ~= nil then M.check_id(p.after_id, "after_id") end
  if p.before_id ~= nil then M.check_id(p.before_id, "before_id") end
  if p.after_id ~= nil and p.before_id ~= nil then
    usage("after_id", "cannot be combined with before_id (one cursor per listing)")
  end
  validate.betas(p.betas, "betas")
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
  -- Keep client.attach_response's _request_id/_response, with the Page methods behind them.
  if meta and type(meta.__index) == "table" then
    setmetatable(meta.__index, { __index = Page })
    return value
  end
  return setmetatable(value, Page)
end

-- Sends one list request; returns the Page (or, with options.on_done, the op).
local function fetch(st, options)
  local p = st.params
  local query = { limit = p.limit, after_id = p.after_id, before_id = p.before_id }
  return M.call(st.client, {
    method = "GET", path = st.path, query = query, betas = p.betas,
    handler = M.transforming(function(value) return make_page(value, st) end),
  }, st.options, options)
end

--- M.list(client, path, params, options) -> Page (or an op when options.on_done is given).
function M.list(client, path, params, options)
  local p = M.check_list_params(params)
  local o = M.check_options(options)
  return fetch({ client = client, path = path, params = p, options = o, backward = p.before_id ~= nil },
    options)
end

--- page:next_cursor() -> "after_id" or "before_id", id; nil when this is the last page.
function Page:next_cursor()
  local st = state[self]
  if self.has_more ~= true then return nil end
  if st.backward then
    local id = null_to_nil(self.first_id)
    if id == nil then return nil end
    return "before_id", id
  end
  local id = null_to_nil(self.last_id)
  if id == nil then return nil end
  return "after_id", id
end

--- page:has_next_page() -> boolean
function Page:has_next_page()
  return self:next_cursor() ~= nil
end

--- page:next_page([options]) -> the next Page in the listing's direction, or nil after the
--- last one. Same limit, betas and request options as the first call.
function Page:next_page(options)
  local st = state[self]
  local key, id = self:next_cursor()
  if key == nil then return nil end
  local p = {}
  for k, v in pairs(st.params) do p[k] = v end
  p.after_id, p.before_id = nil, nil
  p[key] = id
  local o = st.options
  if options ~= nil then
    o = M.check_options(options)
  end
  return fetch({ client = st.client, path = st.path, params = p, options = o, backward = st.backward },
    options)
end

--- page:iter() -> iterator over every item of this page and of the pages after it (fetched
--- one at a time, only when the items in hand are used up). Alias: page:auto_paging_iter().
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
