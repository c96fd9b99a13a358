-- anthropic.batches: client.messages.batches (Message Batches: many Messages requests run
-- server-side, at half price, results fetched later).
--
--   local b = client.messages.batches.create{ requests = {
--     { custom_id = "q1", params = { model = "claude-haiku-4-5", max_tokens = 64, messages = {...} } },
--   } }
--   b = client.messages.batches.retrieve(b.id)          -- until b.processing_status == "ended"
--   for entry in client.messages.batches.results(b.id) do
--     print(entry.custom_id, entry.result.type)          -- succeeded / errored / canceled / expired
--   end
--
-- results() streams the JSONL file: the core's line mode queues one event per line, this
-- module keeps the raw lines of the latest read and decodes one per step of the loop, so memory
-- holds a few lines, never the file. The core pauses the transfer while undelivered lines pile
-- up, so a slow loop slows the download instead of growing memory.
--
-- Every call takes request options last (timeout, max_retries, headers, on_done; results has
-- no on_done); betas go in create's params and list's params, else in the options.

local errors = require "anthropic.errors"
local json = require "anthropic.json"
local validate = require "anthropic.validate"
local engine = require "anthropic.engine"
local reader = require "anthropic.reader"
local outcome = require "anthropic.outcome"
local pagination = require "anthropic.pagination"
local resource = require "anthropic.resource"
local usage_mod = require "anthropic.usage"

local M = {}

local usage = errors.usage
local BASE = "/v1/messages/batches"

-- ---------------------------------------------------------------------------------------
-- create: validation

local function prefixed(fn, prefix, ...)
  local ok, err = pcall(fn, ...)
  if ok then return end
  if errors.UsageError.is_class_of(err) then
    err.message = prefix .. err.message
    err.param = prefix .. (err.param or "")
  end
  error(err, 0)
end

--- Checks one batch request `r` (named `where` in messages) and returns its custom_id: a
--- string of the API's pattern, not already in `seen` (custom_id -> position), and Messages
--- params valid for messages.create. Records the id in `seen` under `position`.
---@param r any
---@param where string
---@param seen table<string, integer>
---@param position integer
---@return string custom_id
function M.check_request(r, where, seen, position)
  if type(r) ~= "table" then usage(where, "must be a table { custom_id = ..., params = { ... } }") end
  local id = r.custom_id
  if type(id) ~= "string" then usage(where .. ".custom_id", "must be a string") end
  if #id < 1 or #id > 64 or id:find("[^%w_%-]") then
    usage(where .. ".custom_id", "must be 1 to 64 characters from A-Z, a-z, 0-9, _ and -, got "
      .. string.format("%q", id))
  end
  if seen[id] then
    usage(where .. ".custom_id", string.format("%q is also the custom_id of requests[%d]; each must be unique",
      id, seen[id]))
  end
  seen[id] = position
  local p = r.params
  if type(p) ~= "table" then usage(where .. ".params", "must be a table of Messages parameters") end
  if p.stream ~= nil then usage(where .. ".params.stream", "batch requests cannot stream") end
  if p.betas ~= nil then usage(where .. ".params.betas", "put betas on the batches.create params") end
  prefixed(validate.message_params, where .. ".params.", p, true)
  return id
end

--- Checks create's params before anything is encoded: a non-empty list of requests, each
--- passing check_request.
---@param params table { requests = { { custom_id, params } }, betas }
function M.check_create_params(params)
  if type(params) ~= "table" then usage("params", "must be a table { requests = { ... } }") end
  local n = validate.list(params.requests, "requests")
  if n == 0 then usage("requests", "must hold at least one request") end
  local seen = {}
  for i = 1, n do M.check_request(params.requests[i], "requests[" .. i .. "]", seen, i) end
  validate.betas(params.betas, "betas")
end

-- ---------------------------------------------------------------------------------------
-- results: the JSONL stream

---@class anthropic.BatchResults
---@overload fun(): table|nil
local Results = {}
Results.__index = Results
M.Results = Results

local results_handler = {}

-- Keeps the raw lines (decoded one at a time by the loop) and frees the engine's slots, which
-- it would otherwise keep holding until the next read.
---@private
function results_handler.events(op, buf, n)
  local r = op.results
  local q, bytes = r.q, r.bytes
  for i = 1, n do
    local line = buf[2 * i]
    reader.push(q, line)
    bytes = bytes + #line
    buf[2 * i - 1], buf[2 * i] = nil, nil
  end
  r.bytes = bytes
  op.progressed = true
end

---@private
function results_handler.progress(op)
  reader.headers_arrived(op, op.results)
end

---@private
function results_handler.finish(op)
  local f = outcome.read(op.req)
  if f.transport ~= "none" or f.status < 200 or f.status >= 300 then
    return op:finish(op.client:_error(f))
  end
  op:finish(nil, true)
end

-- The results path: results_url when it lies under this client's base_url (it may carry a
-- query), else the API's own path. The key is never sent to a host the caller didn't choose.
local function results_path(client, batch, id)
  local url = batch.results_url
  local base = client.base_url .. "/"
  if type(url) == "string" and url:sub(1, #base) == base then return url:sub(#base) end
  return BASE .. "/" .. resource.path_segment(id) .. "/results"
end

local function not_ended(batch, id)
  local status = tostring(batch.processing_status)
  return errors.new(errors.UsageError, {
    param = "message_batch_id",
    message = string.format("message_batch_id: batch %s has not ended (processing_status %q); its results "
      .. "are available once processing_status is \"ended\"", id, status),
    processing_status = batch.processing_status, batch = batch,
  })
end

--- Starts the results download for an ended batch; waits for the reply's status line.
---@param client anthropic.Client
---@param id string
---@param options? anthropic.RequestOptions
---@return anthropic.BatchResults
function M.results(client, id, options)
  resource.check_id(id, "message_batch_id")
  local o, betas = resource.split_options(options)
  if options and options.on_done then
    usage("options.on_done", "results() is an iterator; inside anthropic.spawn(fn) it yields instead of blocking")
  end
  local batch = client.messages.batches.retrieve(id, options)
  if batch.processing_status ~= "ended" or type(batch.results_url) ~= "string" then
    error(not_ended(batch, id), 0)
  end
  local r = setmetatable({ batch = batch, count = 0, bytes = 0, client = client }, Results)
  r.op = client:_send {
    method = "GET", path = results_path(client, batch, id), stream = "lines", accept = "application/x-jsonl",
    betas = betas, options = o, headers = o.headers, handler = results_handler,
  }
  r.op.results = r
  r.q = reader.new(r.op)
  engine.wait(r.op, function() return r.status ~= nil end)
  -- Failed before a 2xx status: raise here. After one, the lines that did arrive come first and
  -- the loop raises the error after them.
  if r.status == nil and r.op.err ~= nil then error(r.op.err, 0) end
  return r
end

--- results() / results:next() -> the next decoded entry { custom_id, result }, or nil at the
--- end. Raises the transfer's error (after every line that arrived before it), or APIError
--- for a line that is not a JSON object.
---@return table|nil entry { custom_id, result = { type = "succeeded", message } | { type = "errored", error } | ... }
function Results:next()
  local line = reader.take(self.q)
  if line == nil then return nil end
  self.count = self.count + 1
  local entry, perr = json.decode(line)
  if type(entry) ~= "table" then
    local err = errors.new(errors.APIError, {
      message = string.format("results line %d is not a JSON object (%s)", self.count,
        perr or ("got " .. type(entry))),
      request_id = self.request_id,
    })
    self:close()
    error(err, 0)
  end
  usage_mod.record_batch_entry(self.client._usage, entry)   -- what the batch's requests spent
  return entry
end

-- The generic for calls the reader through __call. Plain Lua 5.1 cannot yield from a for-in
-- iterator (it is called across a C boundary), so inside a task there this refuses at once,
-- naming the loop that works, instead of failing with "attempt to yield across ...", and
-- stops the download it would otherwise leave in flight.
function Results:__call()
  reader.check_iterable("batch results cannot be read with a for-in loop",
    "while true do local entry = results:next(); if not entry then break end ... end",
    function() self:close() end)
  return self:next()
end

--- results:close() stops the download and frees the connection; the loop then ends.
--- Lua 5.4's generic for calls it when the loop is left early (break, error).
function Results:close()
  if self.closed then return end
  self.closed = true
  self.q.closed = true
  reader.clear(self.q)
  self.op:cancel()
end
Results.__close = Results.close

--- results:ready() -> true when the next line is already read: next() returns without waiting.
---@return boolean
function Results:ready() return reader.has_items(self.q) end

---@return boolean done every entry was handed out
function Results:is_done() return self.op.done and not reader.has_items(self.q) end

-- ---------------------------------------------------------------------------------------

---@param client anthropic.Client
function M.attach(client)
  local messages = client.messages
  if messages == nil then
    error("anthropic.batches must be attached after anthropic.messages (resources.MODULES order)", 2)
  end
  local batches = {}

  --- batches.create{ requests = { { custom_id =, params = {...} }, ... }, betas = {...} } -> MessageBatch
  ---@param params table { requests = { { custom_id = string, params = anthropic.MessageParams } }, betas? }
  ---@param options? anthropic.RequestOptions
  ---@return table batch MessageBatch (an operation with options.on_done)
  function batches.create(params, options)
    if type(params) == "table" then params = json.plain(params) end   -- checked is sent
    M.check_create_params(params)
    local o = resource.check_options(options)
    return resource.call(client, {
      method = "POST", path = BASE, body = require("anthropic.messages").body(params), betas = params.betas,
    }, o, options)
  end

  --- batches.retrieve(message_batch_id [, options]) -> MessageBatch
  ---@param id string
  ---@param options? anthropic.RequestOptions
  ---@return table batch MessageBatch
  function batches.retrieve(id, options)
    resource.check_id(id, "message_batch_id")
    local o, betas = resource.split_options(options)
    return resource.call(client, {
      method = "GET", path = BASE .. "/" .. resource.path_segment(id), betas = betas,
    }, o, options)
  end

  --- batches.list([params [, options]]) -> Page of MessageBatch, newest first.
  ---@param params? table limit, after_id, before_id, betas
  ---@param options? anthropic.RequestOptions
  ---@return anthropic.Page page of MessageBatch
  function batches.list(params, options)
    return pagination.list(client, BASE, params, options)
  end

  --- batches.cancel(message_batch_id [, options]) -> MessageBatch (processing_status "canceling")
  ---@param id string
  ---@param options? anthropic.RequestOptions
  ---@return table batch MessageBatch
  function batches.cancel(id, options)
    resource.check_id(id, "message_batch_id")
    local o, betas = resource.split_options(options)
    return resource.call(client, {
      method = "POST", path = BASE .. "/" .. resource.path_segment(id) .. "/cancel", betas = betas,
    }, o, options)
  end

  --- batches.delete(message_batch_id [, options]) -> { id, type = "message_batch_deleted" }
  ---@param id string
  ---@param options? anthropic.RequestOptions
  ---@return table deleted { id, type = "message_batch_deleted" }
  function batches.delete(id, options)
    resource.check_id(id, "message_batch_id")
    local o, betas = resource.split_options(options)
    return resource.call(client, {
      method = "DELETE", path = BASE .. "/" .. resource.path_segment(id), betas = betas,
    }, o, options)
  end

  --- batches.results(message_batch_id [, options]) -> Results: call it (or use it in a generic
  --- for) for one decoded entry at a time. Raises UsageError naming processing_status when the
  --- batch has not ended.
  ---@param id string
  ---@param options? anthropic.RequestOptions
  ---@return anthropic.BatchResults
  function batches.results(id, options)
    local r = M.results(client, id, options)
    return r, nil, nil, r
  end

  messages.batches = batches
end

return M
