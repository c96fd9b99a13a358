-- anthropic.resource: what every API resource module (models, batches) shares when it sends
-- a request: ids checked and escaped for a path, request options validated (and betas split
-- from them when a call has no params table), and the call itself.
--
--   resource.call(client, { method = "GET", path = "/v1/models/" .. resource.path_segment(id) },
--                 resource.split_options(options), options)

local errors = require "anthropic.errors"
local validate = require "anthropic.validate"
local client_mod = require "anthropic.client"
local outcome = require "anthropic.outcome"

local M = {}

local usage = errors.usage

--- M.path_segment(s): s escaped for use as one path segment. "." and ".." are escaped too,
--- or libcurl would remove them as dot segments and the request would reach another route.
---@param s string
---@return string
function M.path_segment(s)
  if s == "." or s == ".." then return (s:gsub("%.", "%%2E")) end
  return client_mod.url_escape(s)
end

--- M.check_id(v, name): an id must be a non-empty string.
---@param v any
---@param name string
---@return string id
function M.check_id(v, name)
  if type(v) ~= "string" or v == "" then usage(name, "must be a non-empty string") end
  return v
end

--- M.check_options(options) -> validated request options (on_event/on_text belong to streams).
---@param options? anthropic.RequestOptions
---@return table
function M.check_options(options)
  local o = validate.request_options(options)
  if options and (options.on_event ~= nil or options.on_text ~= nil) then
    usage("options", "on_event/on_text are only for messages.stream")
  end
  return o
end

--- M.split_options(options) -> validated request options, betas. The options table of a call
--- that has no params table (retrieve(id, options), ...) may also carry `betas`.
---@param options? anthropic.RequestOptions
---@return table options
---@return string[]|nil betas
function M.split_options(options)
  if options == nil then return validate.request_options(nil), nil end
  if type(options) ~= "table" then usage("options", "must be a table") end
  options = validate.plain(options, "options")
  local rest = {}
  for k, v in pairs(options) do if k ~= "betas" then rest[k] = v end end
  return M.check_options(rest), validate.betas(options.betas, "options.betas")
end

--- M.call(client, spec, o, options): client:_call with the options every resource call takes.
---@param client anthropic.Client
---@param spec table the request (method, path, body, betas, handler)
---@param o table validated options
---@param options? anthropic.RequestOptions what the caller passed (on_done)
---@return any result (an operation with on_done)
function M.call(client, spec, o, options)
  spec.options, spec.headers = o, o.headers
  spec.handler = spec.handler or outcome.json_handler
  spec.callbacks = { on_done = options and options.on_done }
  return client:_call(spec)
end

return M
