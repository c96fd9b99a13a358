-- spec.support.client: what most specs start with.
--
--   local support = require "spec.support.client"
--   support.new_client([extra])  a client on the spec mock with the free-tier key and no retries;
--                                `extra` options are added or override those
--   support.scripted(turns [, fault [, extra]])  such a client whose requests carry the mock
--                                fault { turns = turns } (scripted assistant turns) plus `fault`
--   support.raises(fn, ...)      the error fn raised (the spec fails if it returned)

local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"
local assert = require "luassert"   -- busted injects it into spec files only

local M = {}

function M.new_client(extra)
  local opts = { api_key = "sk-ant-mock-free", base_url = mock.url(), max_retries = 0 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return anthropic.new(opts)
end

--- M.scripted(turns [, fault [, extra]]) -> a client whose every request carries the mock fault
--- { turns = turns, ...fault } (docs/mock.md "Scripted turns"): the mock answers turn n with turns[n].
function M.scripted(turns, fault, extra)
  local f = { turns = turns }
  for k, v in pairs(fault or {}) do f[k] = v end
  local opts = { default_headers = { ["x-mock-fault"] = cjson.encode(f) } }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return M.new_client(opts)
end

function M.raises(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return err
end

return M
