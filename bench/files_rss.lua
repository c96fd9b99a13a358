-- bench/files_rss.lua: what a 200 MB upload and a 200 MB download to a path cost the client's
-- memory (issue 18: each must raise peak RSS by less than 20 MB).
--
--   make bench-files    (or, with LUA_PATH/LUA_CPATH as make sets them: lua5.4 bench/files_rss.lua [MB])
--
-- The file is generated in a fresh temporary directory and removed at the end (never committed).
-- The client runs in this process; the mock (its own process) keeps the upload in its memory,
-- which is not counted. Peak RSS is the kernel's VmHWM of this process (Linux), read before
-- and after each transfer: the growth is what the transfer cost at its worst moment. Prints
-- one line per transfer and exits non-zero when a figure is 20 MB or more. The last line, a
-- 32 MB download into a string, shows the measure sees memory when memory is used.
local anthropic = require "anthropic"
local cjson = require "cjson"
local mock = require "spec.support.mock"

local MB = 1024 * 1024
local SIZE = (tonumber(arg and arg[1]) or 200) * MB
local LIMIT_KB = 20 * 1024

local function status_kb(field)
  local f = assert(io.open("/proc/self/status", "r"), "needs Linux /proc")
  local s = f:read("*a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+) kB"))
end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. mock.shell_quote(dir)))
local config = dir .. "/mock.json"
local cf = assert(io.open(config, "wb"))
cf:write(cjson.encode { max_file_bytes = SIZE + MB })
cf:close()
local server = mock.spawn { "--config", config }

-- The upload's source, written by a subprocess so this process's peak is not raised by it.
local path = dir .. "/upload.bin"
assert(os.execute(string.format("yes 0123456789abcdef 2>/dev/null | head -c %d > %s", SIZE, mock.shell_quote(path))))
local client = anthropic.new { api_key = mock.KEYS.free, base_url = server.url, max_retries = 0 }
client.files.list { limit = 1 }       -- warm up: a connection, the JSON path, the core's buffers
collectgarbage("collect")

local failed = false
local function measure(what, fn)
  collectgarbage("collect")
  local before = status_kb("VmHWM")
  local t0 = os.time()
  local result = fn()
  local grew = status_kb("VmHWM") - before
  print(string.format("%-36s peak RSS +%6.1f MB (VmHWM %d -> %d kB, ~%d s)", what, grew / 1024, before,
    before + grew, os.time() - t0))
  if grew >= LIMIT_KB then failed = true end
  return result
end

local label = string.format("%d MB", SIZE / MB)
local uploaded = measure("upload from a path, " .. label, function()
  return client.files.upload { path = path }
end)
assert(uploaded.size_bytes == SIZE, "uploaded size " .. tostring(uploaded.size_bytes))
os.remove(path)

local _, _, body = mock.request("POST", "/_mock/files", {}, cjson.encode { size_bytes = SIZE, filename = "out.bin" },
  { url = server.url })
local made = cjson.decode(body)
local out = dir .. "/download.bin"
local got = measure("download to a path, " .. label, function()
  return client.files.download(made.id, { path = out })
end)
assert(got.size_bytes == SIZE, "downloaded size " .. tostring(got.size_bytes))

local _, _, body2 = mock.request("POST", "/_mock/files", {}, cjson.encode { size_bytes = 32 * MB },
  { url = server.url })
local small = cjson.decode(body2)
local failed_before = failed
local bytes = measure("download to a string, 32 MB (scale)", function()
  return client.files.download(small.id, { max_bytes = 64 * MB })
end)
assert(#bytes == 32 * MB)
failed = failed_before           -- this row is expected to cost its size

client:close()
server.stop()
os.execute("rm -rf " .. mock.shell_quote(dir))
if failed then
  io.stderr:write("files_rss: a transfer raised peak RSS by 20 MB or more\n")
  os.exit(1)
end
