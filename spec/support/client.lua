-- spec.support.client: what most specs start with.
--
--   local support = require "spec.support.client"
--   support.new_client([extra])  a client on the spec mock with the free-tier key and no retries;
--                                `extra` options are added or override those
--   support.raises(fn, ...)      the error fn raised (the spec fails if it returned)

local anthropic = require "anthropic"
local mock = require "spec.support.mock"
local assert = require "luassert"   -- busted injects it into spec files only

local M = {}

function M.new_client(extra)
  local opts = { api_key = "sk-ant-mock-free", base_url = mock.url(), max_retries = 0 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return anthropic.new(opts)
end

function M.raises(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return err
end

return M
