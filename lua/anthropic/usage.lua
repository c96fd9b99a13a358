-- anthropic.usage: what a client's Messages requests spent, per model and in total
-- (client:usage()).
--
-- One ledger per client. Every Messages request is counted once, when it ends: a create, a
-- stream (its final usage: message_start's counts with message_delta's on top, as the
-- accumulator keeps them), so a tool-runner turn (a create or a stream) and a fallback step (a
-- create on the next model) are counted where they are sent, never again above. A batch's
-- results are counted as they are read (Results:next()). A failed request counts as a request
-- and an error, with the tokens of what it delivered before failing (a stream's err.partial).
--
-- The model is the one the request named (params.model: the model actually sent, after any
-- fallback), so a request's errors and its successes land in the same row; a batch result,
-- which does not carry its request's params, is counted under the model of its reply. A
-- derived client (client:with_options) keeps a ledger of its own whose counts also go to its
-- parent's.

local errors = require "anthropic.errors"
local validate = require "anthropic.validate"

local M = {}

M.FIELDS = { "requests", "errors", "input_tokens", "output_tokens",
             "cache_creation_input_tokens", "cache_read_input_tokens" }

local function zero()
  return { requests = 0, errors = 0, input_tokens = 0, output_tokens = 0,
           cache_creation_input_tokens = 0, cache_read_input_tokens = 0 }
end

--- M.ledger([parent]) -> an empty ledger; counts added to it are added to parent too. It keeps
--- a row per model only: the total is their sum, made when a report is (a request adds to one
--- row per ledger, not two).
---@param parent? table
---@return table
function M.ledger(parent)
  return { models = {}, parent = parent }
end

local huge, type = math.huge, type

--- M.record(ledger, model, usage, failed): one request of `model` ended; `usage` is its
--- Usage table (or nil), `failed` whether it ended in an error. Once per request, so kept
--- to plain arithmetic.
---@param ledger table
---@param model? string
---@param usage? anthropic.Usage
---@param failed? boolean
function M.record(ledger, model, usage, failed)
  if type(model) ~= "string" or model == "" then model = "unknown" end
  local i, o, cw, cr = 0, 0, 0, 0
  if type(usage) == "table" then
    i, o = usage.input_tokens, usage.output_tokens
    cw, cr = usage.cache_creation_input_tokens, usage.cache_read_input_tokens
    -- A count is a non-negative number; anything else (null, a string from a proxy, NaN)
    -- adds 0. Written out, not a function: this runs on every request.
    if type(i) ~= "number" or not (i >= 0 and i < huge) then i = 0 end
    if type(o) ~= "number" or not (o >= 0 and o < huge) then o = 0 end
    if type(cw) ~= "number" or not (cw >= 0 and cw < huge) then cw = 0 end
    if type(cr) ~= "number" or not (cr >= 0 and cr < huge) then cr = 0 end
  end
  local e = failed and 1 or 0
  while ledger do
    local row = ledger.models[model]
    if not row then
      row = zero()
      ledger.models[model] = row
    end
    row.requests = row.requests + 1
    row.errors = row.errors + e
    row.input_tokens = row.input_tokens + i
    row.output_tokens = row.output_tokens + o
    row.cache_creation_input_tokens = row.cache_creation_input_tokens + cw
    row.cache_read_input_tokens = row.cache_read_input_tokens + cr
    ledger = ledger.parent
  end
end

--- M.record_result(ledger, model, err, result): a Messages request ended with (err, result):
--- the tokens of the message it got (result), else of what a failed stream delivered
--- (err.partial); it is an error when err is set (a hook may fail a request that was answered).
---@param ledger table
---@param model? string
---@param err any
---@param result any
function M.record_result(ledger, model, err, result)
  local usage
  if type(result) == "table" then
    usage = result.usage
  elseif type(err) == "table" then
    local partial = rawget(err, "partial")
    usage = type(partial) == "table" and partial.usage or nil
  end
  M.record(ledger, model, usage, err ~= nil)
end

--- M.record_batch_entry(ledger, entry): one decoded batch results line. A succeeded result
--- counts under its message's model; an errored one is a request and an error under "unknown"
--- (its line names no model); canceled and expired requests never ran and are not counted.
---@param ledger table
---@param entry table { custom_id, result = { type, message | error } }
function M.record_batch_entry(ledger, entry)
  local r = type(entry) == "table" and entry.result
  if type(r) ~= "table" then return end
  if r.type == "succeeded" and type(r.message) == "table" then
    M.record(ledger, r.message.model, r.message.usage, false)
  elseif r.type == "errored" then
    M.record(ledger, nil, nil, true)
  end
end

local function copy(row)
  local out = {}
  for i = 1, #M.FIELDS do out[M.FIELDS[i]] = row[M.FIELDS[i]] end
  return out
end

--- M.report(ledger) -> { total = counts, models = { [model] = counts } }: a copy, which later
--- requests do not change.
---@param ledger table
---@return anthropic.UsageReport
function M.report(ledger)
  local models, total = {}, zero()
  for name, row in pairs(ledger.models) do
    models[name] = copy(row)
    for f = 1, #M.FIELDS do
      local field = M.FIELDS[f]
      total[field] = total[field] + row[field]
    end
  end
  return { total = total, models = models }
end

--- M.of(ledger, opts) -> client:usage(opts): the report; opts.reset = true then clears the
--- counts (read and cleared at once, so no request falls between the two).
---@param ledger table
---@param opts? { reset?: boolean }
---@return anthropic.UsageReport
function M.of(ledger, opts)
  if opts ~= nil and type(opts) ~= "table" then errors.usage("options", "must be a table { reset = true }") end
  if opts then validate.known_keys(opts, { reset = true }, "options.") end
  local report = M.report(ledger)
  if opts and opts.reset then M.reset(ledger) end
  return report
end

--- M.reset(ledger): back to zero (the parent's counts are kept).
---@param ledger table
function M.reset(ledger)
  ledger.models = {}
end

---@class anthropic.UsageCounts
---@field requests integer
---@field errors integer
---@field input_tokens integer
---@field output_tokens integer
---@field cache_creation_input_tokens integer
---@field cache_read_input_tokens integer

---@class anthropic.UsageReport
---@field total anthropic.UsageCounts
---@field models table<string, anthropic.UsageCounts>

--- M.format(report) -> lines for a person: the total, then one line per model (sorted).
---@param report anthropic.UsageReport
---@return string
function M.format(report)
  local function line(name, r)
    return string.format("%s: %d request%s%s, input %.0f, output %.0f, cache write %.0f, cache read %.0f",
      name, r.requests, r.requests == 1 and "" or "s",
      r.errors > 0 and string.format(" (%d failed)", r.errors) or "",
      r.input_tokens, r.output_tokens, r.cache_creation_input_tokens, r.cache_read_input_tokens)
  end
  local names = {}
  for name in pairs(report.models) do names[#names + 1] = name end
  table.sort(names)
  local out = { line("usage", report.total) }
  for i = 1, #names do out[#out + 1] = line("  " .. names[i], report.models[names[i]]) end
  return table.concat(out, "\n")
end

return M
