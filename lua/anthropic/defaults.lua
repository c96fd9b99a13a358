-- anthropic.defaults: a client's request defaults beyond the transport options: headers
-- from ANTHROPIC_CUSTOM_HEADERS, `default_query` in every URL, and derived clients
-- (client:with_options) that share the engine but have other defaults.

local errors = require "anthropic.errors"
local validate = require "anthropic.validate"

local M = {}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- M.custom_headers(text) -> { name = value }: ANTHROPIC_CUSTOM_HEADERS as Claude Code reads
--- it: one "Name: value" a line (LF or CRLF), name and value trimmed, blank lines skipped. A
--- line that is not a header is a UsageError naming the variable and the line: a header that
--- silently went missing (a gateway's key) would be found much later, and harder.
---@param text? string
---@return table<string, string>
function M.custom_headers(text)
  local out = {}
  if text == nil then return out end
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    line = trim(line:gsub("\r$", ""))
    if line ~= "" then
      local name, value = line:match("^([^:]*):(.*)$")
      name = name and trim(name)
      if not name or name == "" then
        errors.usage("ANTHROPIC_CUSTOM_HEADERS", string.format("line %d is not \"Name: value\"", n))
      end
      out[name] = trim(value)
    end
  end
  return validate.headers(out, "ANTHROPIC_CUSTOM_HEADERS")
end

--- M.check_query(q, name) -> a plain copy of a table of string keys and scalar values (nil
--- for nil), for default_query.
---@param q any
---@param name string
---@return table<string, string|number|boolean>|nil
function M.check_query(q, name)
  if q == nil then return nil end
  if type(q) ~= "table" then errors.usage(name, "must be a table of name = value") end
  q = validate.plain(q, name)
  for k, v in pairs(q) do
    if type(k) ~= "string" or k == "" then errors.usage(name, "keys must be non-empty strings") end
    local t = type(v)
    if t ~= "string" and t ~= "number" and t ~= "boolean" then
      errors.usage(name .. "." .. k, "must be a string, number or boolean")
    end
  end
  return q
end

local function query_keys(url)
  local keys = {}
  local q = url:match("%?([^#]*)")
  if q then
    for pair in q:gmatch("[^&]+") do keys[(pair:match("^[^=]*"))] = true end
  end
  return keys
end

--- M.add_query(url, q, escape) -> url with q's pairs appended (sorted, escaped by `escape`),
--- after any query the URL already has; a name the URL already carries keeps its own value.
---@param url string
---@param q table
---@param escape fun(s: any): string
---@return string
function M.add_query(url, q, escape)
  local have = query_keys(url)
  local names = {}
  for k in pairs(q) do
    if not have[escape(k)] then names[#names + 1] = k end
  end
  if #names == 0 then return url end
  table.sort(names)
  local parts = {}
  for i, k in ipairs(names) do parts[i] = escape(k) .. "=" .. escape(tostring(q[k])) end
  local fragment = url:match("#.*$") or ""
  local base = url:sub(1, #url - #fragment)
  local sep = base:find("?", 1, true) and (base:sub(-1) == "?" and "" or "&") or "?"
  return base .. sep .. table.concat(parts, "&") .. fragment
end

-- What client:with_options takes: the request defaults (the rest, credentials and the base
-- URL, belong to the engine and its connections).
M.DERIVED_OPTIONS = {
  timeout = true, connect_timeout = true, idle_timeout = true, max_retries = true, retry_cap = true,
  max_response_bytes = true, default_headers = true, default_query = true, on_request = true,
  on_response = true, log_level = true, logger = true,
}

-- Fields of a client that are its own (made again for a derived one): its usage ledger and
-- every public table but its defaults: the API resources (client.messages,
-- ...) are closures over their client, so the derived one gets its own.
local OWN = { _usage = true, _closed = true }
local SHARED_TABLES = { default_headers = true, default_query = true }

--- M.derive(parent, opts, build) -> a client of the same class that shares parent's core
--- client (engine, connections, operations) and credentials, with opts over its defaults.
--- `build(child, opts)` (client.lua) applies the options as anthropic.new does.
---@param parent anthropic.Client
---@param opts table
---@param build fun(child: anthropic.Client, opts: table, parent: anthropic.Client)
---@return anthropic.Client
function M.derive(parent, opts, build)
  if opts ~= nil and type(opts) ~= "table" then errors.usage("options", "must be a table") end
  opts = validate.plain(opts or {}, "options")
  validate.known_keys(opts, M.DERIVED_OPTIONS, "")
  local child = {}
  for k, v in pairs(parent) do
    local public_table = type(v) == "table" and type(k) == "string" and k:sub(1, 1) ~= "_"
    if not OWN[k] and not (public_table and not SHARED_TABLES[k]) then child[k] = v end
  end
  setmetatable(child, getmetatable(parent))
  build(child, opts, parent)
  return child
end

return M
