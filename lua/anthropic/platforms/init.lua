-- anthropic.platforms: what the cloud platform clients (anthropic.platforms.bedrock,
-- anthropic.platforms.vertex) share. A platform is a table the client keeps as
-- client._platform, with:
--   name, base_url                        shown in messages; the default base URL
--   platform:messages(params, stream)     -> { path, body, betas, accept, stream } (the
--                                          mapping anthropic.messages.route asks for)
--   platform:authorize(client, spec, url, headers) -> the header list to send (signed)
--   platform:secrets()                    -> the strings scrubbed from anything shown
--   platform.stream_event(name, data)     (optional) a non-SSE stream's event -> the
--                                          Anthropic event it carries
--   platform:unauthorized()               (optional) after a 401: may a fresh credential help?

local errors = require "anthropic.errors"

local M = {}

--- M.split(opts, own) -> the platform's options, the client's (transport) options.
---@param opts? table everything the caller passed
---@param own table<string, boolean> the platform's own option names
---@return table platform_opts
---@return table client_opts
function M.split(opts, own)
  if opts ~= nil and type(opts) ~= "table" then errors.usage("options", "must be a table") end
  local mine, rest = {}, {}
  for k, v in pairs(opts or {}) do
    if own[k] then mine[k] = v else rest[k] = v end
  end
  return mine, rest
end

--- M.escape(s [, keep]) -> s percent-encoded but for RFC 3986's unreserved characters (and
--- those of the pattern class `keep`).
---@param s string
---@param keep? string a Lua pattern class of characters left as they are
---@return string
function M.escape(s, keep)
  return (s:gsub("[^%w%-%._~" .. (keep or "") .. "]", function(c) return string.format("%%%02X", c:byte()) end))
end

--- M.body(params) -> a copy of the Messages params without the fields a platform carries
--- elsewhere (model in the URL, stream in the method, betas per platform).
---@param params anthropic.MessageParams
---@return table
function M.body(params)
  local body = {}
  for k, v in pairs(params) do
    if k ~= "betas" and k ~= "model" and k ~= "stream" then body[k] = v end
  end
  return body
end

--- M.restrict(client, name): the first-party-only resources raise a UsageError naming the
--- platform.
---@param client anthropic.Client
---@param name string the platform, for the error
---@return nil
function M.restrict(client, name)
  local function unavailable(what)
    return function() errors.usage(nil, what .. " is not available on " .. name) end
  end
  client.models = setmetatable({}, { __index = function() return unavailable("client.models") end })
  client.messages.batches = setmetatable({}, { __index = function()
    return unavailable("client.messages.batches") end })
  client.files = setmetatable({}, { __index = function() return unavailable("client.files") end })
  return client
end

return M
