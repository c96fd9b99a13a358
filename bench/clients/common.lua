-- bench/clients/common.lua: what every Lua benchmark client shares, so each client file holds
-- only its own way of doing HTTP.
--
-- The CLI contract (all clients, any language): `<client> <workload> <base_url> <n>` prints one
-- JSON line {"client","workload","n","seconds", ...} on stdout and exits 0, or prints
-- {"client","error"} and exits 1. "seconds" covers the timed part only (after one untimed
-- warm-up request for a and b); "cpu_seconds" (optional) is the process's CPU time over the
-- same part. What a correct run must also report, per workload:
--   a  text_bytes: #content[1].text of the last reply                 (n sequential requests)
--   b  text_bytes: #final accumulated text of the last stream         (n sequential streams)
--   c  text_bytes: sum over the n streams run at once on one thread
--   e  text_bytes (sum), polls, p50_us, p99_us, max_us, p99_cpu_us     (n streams, frame loop)
-- bench/run compares text_bytes with build/bench/expected.json, so a client cannot win by
-- skipping the decoding.
--
-- Works on Lua 5.1-5.4 and LuaJIT; needs lua-cjson and LuaSocket (socket.gettime, the clock).

local cjson = require "cjson"
local socket = require "socket"

local M = { cjson = cjson, now = socket.gettime, sleep = socket.sleep }

M.API_KEY = "sk-ant-bench-not-a-key" -- nginx ignores it; never a real key

-- The request every client sends: a realistic small Messages call.
function M.params(stream)
  return {
    model = "claude-sonnet-4-6",
    max_tokens = 1024,
    stream = stream or nil,
    messages = { { role = "user", content = "Hello, Claude" } },
  }
end

-- Parses argv per the contract; `name` is the client's report name.
function M.args(name, argv)
  local w, base, n = argv[1], argv[2], tonumber(argv[3])
  if not (w and base and n and n > 0) then
    io.stderr:write("usage: ", name, " a|b|c|e BASE_URL N\n")
    os.exit(2)
  end
  return w, base, n
end

local function emit(t)
  io.stdout:write(cjson.encode(t), "\n")
  io.stdout:flush()
end

-- Runs fn(...) under pcall and prints the result line (or an error line), adding client/workload/n.
-- On success it returns, so the script ends normally and the state is closed (profilers such as
-- luajit -jp report at that point); on failure it exits 1.
function M.main(name, w, n, fn, ...)
  local ok, res = pcall(fn, ...)
  if not ok or type(res) ~= "table" then
    emit { client = name, workload = w, error = tostring(res) }
    os.exit(1)
  end
  res.client, res.workload, res.n = name, w, n
  emit(res)
end

function M.unsupported(w)
  error("workload " .. tostring(w) .. " is not supported by this client", 0)
end

-- Times `n` calls of once(), after one untimed warm-up call. once() returns text_bytes.
-- cpu_seconds is this process's CPU time over the same span (os.clock), which a busy machine
-- disturbs far less than wall time.
function M.timed(n, once)
  once()
  local c0, t0 = os.clock(), M.now()
  local bytes
  for _ = 1, n do bytes = once() end
  return { seconds = M.now() - t0, cpu_seconds = os.clock() - c0, text_bytes = bytes }
end

-- Percentiles of a list of numbers (nearest rank), in the units given.
function M.percentile(list, p)
  table.sort(list)
  local k = math.ceil(p / 100 * #list)
  if k < 1 then k = 1 end
  return list[k]
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs argv as a whole process n times (after one untimed warm-up run, so the page cache is as
-- warm as for the other workloads), each timed from spawn to exit. Returns the contract's table:
-- seconds (all n), per-process p50/max in ms, text_bytes of the last run's stdout (its trailing
-- newline dropped), and the child's own `startup_us` figure when it prints one (startup_child).
function M.spawn_timed(n, argv)
  local parts = {}
  for i = 1, #argv do parts[i] = shell_quote(argv[i]) end
  local cmd = table.concat(parts, " ") .. " 2>/dev/null"
  local function once()
    local t0 = M.now()
    local f = assert(io.popen(cmd, "r"))
    local out = f:read("*a")
    local ok, how, code = f:close()
    local dt = M.now() - t0
    if ok ~= true and not (ok == 0 or code == 0) then
      error("child process failed (" .. tostring(how) .. " " .. tostring(code) .. "): " .. cmd, 0)
    end
    return dt, out
  end
  once()
  local walls, inner, total, out = {}, {}, 0, ""
  for i = 1, n do
    local dt
    dt, out = once()
    walls[i] = dt * 1e3
    total = total + dt
    local us = out:match('"startup_us":%s*([%d.]+)')
    if us then inner[#inner + 1] = tonumber(us) end
  end
  local res = {
    seconds = total, p50_ms = M.percentile(walls, 50), max_ms = M.percentile(walls, 100),
    text_bytes = #(out:gsub("\n$", "")),
  }
  if #inner > 0 then
    res.startup_us = M.percentile(inner, 50)
    res.loaded = #inner
  end
  return res
end

-- A pure-Lua text/event-stream decoder feeding a Messages accumulator: what a pure-Lua client
-- has to do for each byte of a stream. feed(chunk) takes any split of the body; finish()
-- returns the accumulated text. Each data line is decoded with cjson (every event, like the
-- SDKs do); text deltas are kept in a table and concatenated once at the end.
function M.sse_accumulator()
  local buf, pos = "", 1
  local event, data = nil, nil
  local blocks, current = {}, nil
  local decode = cjson.decode
  local stopped = false

  local function dispatch()
    if not data then return end
    local ev = decode(data)
    local t = ev.type
    if t == "content_block_delta" then
      local d = ev.delta
      if d.type == "text_delta" then
        local parts = blocks[ev.index + 1]
        parts[#parts + 1] = d.text
      end
    elseif t == "content_block_start" then
      current = { ev.content_block.text or "" }
      blocks[ev.index + 1] = current
    elseif t == "message_stop" then
      stopped = true
    elseif t == "error" or event == "error" then
      error("stream error: " .. tostring(ev.error and ev.error.type), 0)
    end
    event, data = nil, nil
  end

  local function feed(chunk)
    buf = buf:sub(pos) .. chunk
    pos = 1
    while true do
      local nl = buf:find("\n", pos, true)
      if not nl then break end
      local line = buf:sub(pos, nl - 1)
      pos = nl + 1
      if line:byte(-1) == 13 then line = line:sub(1, -2) end
      if line == "" then
        dispatch()
      elseif line:sub(1, 6) == "data: " then
        data = data and (data .. "\n" .. line:sub(7)) or line:sub(7)
      elseif line:sub(1, 7) == "event: " then
        event = line:sub(8)
      end
    end
  end

  local function finish()
    if pos <= #buf then feed("\n") end
    dispatch()
    if not stopped then error("stream ended without message_stop", 0) end
    local n = 0
    for i = 1, #blocks do n = n + #table.concat(blocks[i]) end
    return n
  end

  return feed, finish
end

return M
