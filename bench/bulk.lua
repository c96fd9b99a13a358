-- bench/bulk.lua: what a bulk job costs on this side of the wire (anthropic.bulk).
--
--   make bench-bulk   (or, with LUA_PATH/LUA_CPATH as make sets them: lua5.4 bench/bulk.lua [N])
--
-- One job of N requests (default 10,000) in batches of 2,500 against a mock of its own
-- (batches end on their first retrieval), run twice: without a state file, and with one (about one
-- atomic save per delivered result). Prints the wall time of each, the difference per result
-- (what the state file costs), the state file's size, and the time to read and check the
-- requests alone (json.plain, validation, encoding, fingerprint).
local anthropic = require "anthropic"
local core = require "anthropic.core"
local mock = require "spec.support.mock"

local N = tonumber(arg and arg[1]) or 10000
local srv = mock.spawn({})

local function requests()
  local list = {}
  for i = 1, N do
    list[i] = { custom_id = string.format("r%06d", i), params = { model = "claude-haiku-4-5", max_tokens = 16,
      messages = { { role = "user", content = "question number " .. i } } } }
  end
  return list
end

local FAULT = { headers = { ["x-mock-fault"] = '{"batch_pending_polls":0}' } }

local function job(state_file)
  local c = anthropic.new { api_key = "sk-ant-mock-build", base_url = srv.url, max_retries = 0 }
  local got, list = 0, requests()
  local t0 = core.now_ms()
  local s = anthropic.bulk.run(c, list, { max_requests = 2500, poll_interval = 0.01, state_file = state_file,
    options = FAULT, on_result = function() got = got + 1 end })
  local ms = core.now_ms() - t0
  c:close()
  assert(got == N and s.succeeded == N, "every result delivered")
  return ms
end

-- reading and checking alone: a job whose state file says it is done sends nothing
local state = os.tmpname()
os.remove(state)
local plain = job(nil)
local with_state = job(state)
local f = assert(io.open(state))
local size = #f:read("*a")
f:close()
local c = anthropic.new { api_key = "sk-ant-mock-build", base_url = srv.url }
local list = requests()
local t0 = core.now_ms()
anthropic.bulk.run(c, list, { max_requests = 2500, state_file = state })
local read_ms = core.now_ms() - t0
c:close()
os.remove(state)
srv.stop()

print(string.format("bulk %s, %d requests in %d batches: %.0f ms without a state file, %.0f ms with one "
  .. "(%.1f us more per result: its state saves; the file is %d bytes); reading and checking the requests: %.0f ms "
  .. "(%.1f us each)", _VERSION .. (rawget(_G, "jit") and " (LuaJIT)" or ""), N, math.ceil(N / 2500), plain,
  with_state, (with_state - plain) * 1000 / N, size, read_ms, read_ms * 1000 / N))
