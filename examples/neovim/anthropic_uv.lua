-- examples/neovim/anthropic_uv.lua: drive an anthropic client from Neovim's event loop.
--
-- Plugin-style module (copy it into your plugin's lua/ directory). Instead of polling on a
-- timer, it asks the client which sockets libcurl wants watched (client:sockets()) and when it
-- next needs attention (client:timeout()), and lets libuv wake it: one vim.uv poll handle per
-- socket and one timer. The editor never blocks and never spins.
--
--   local anthropic = require "anthropic"
--   local uvdrive = require "anthropic_uv"
--   local client = anthropic.new {}
--   local driver = uvdrive.attach(client)
--   client.messages.stream(params, {
--     on_text = function(delta) vim.schedule(function() append(delta) end) end,
--     on_done = function(err, msg) ... end,
--   })
--   driver:kick()        -- after starting requests: sync the watchers now
--
-- Callbacks (on_text, on_event, on_done) run inside libuv callbacks, a "fast event" context
-- where most of vim.api is off limits: wrap editor work in vim.schedule(), as above.
-- An error raised by an on_done callback comes out of client:poll(); the driver hands it to
-- opts.on_error (default: report it with vim.notify via vim.schedule) and keeps going.

local uv = vim.uv or vim.loop     -- vim.uv from Neovim 0.10, vim.loop before

local M = {}

local Driver = {}
Driver.__index = Driver

--- M.attach(client [, opts]) -> driver. opts.on_error(err): where on_done errors go.
function M.attach(client, opts)
  opts = opts or {}
  local d = setmetatable({
    client = client,
    handles = {},              -- fd -> uv poll handle
    timer = uv.new_timer(),
    polls = 0,                 -- how many times client:poll ran (for tests: no busy loop)
    on_error = opts.on_error or function(err)
      vim.schedule(function() vim.notify("anthropic: " .. tostring(err), vim.log.levels.ERROR) end)
    end,
  }, Driver)
  d.step = function() d:_step() end
  d.on_ready = function() d:_step() end
  return d
end

-- Lets the client work (never waits: poll(0)), then re-arms the watchers for what it wants now.
function Driver:_step()
  if self.stopped then return end
  self.polls = self.polls + 1
  local ok, err = pcall(self.client.poll, self.client, 0)
  if not ok then self.on_error(err) end
  self:kick()
end

--- driver:kick() syncs the watchers with the client: call it after starting requests.
function Driver:kick()
  if self.stopped then return end
  local client = self.client
  local ok, want = pcall(client.sockets, client)
  if not ok then return self:stop() end           -- the client was closed
  for fd, h in pairs(self.handles) do
    if not want[fd] then
      h:stop()
      h:close()
      self.handles[fd] = nil
    end
  end
  for fd, mode in pairs(want) do
    local h = self.handles[fd]
    if not h then
      h = uv.new_poll(fd)
      self.handles[fd] = h
    end
    -- Restarted every time, even with the same mode: libcurl may have closed this descriptor
    -- and opened a new socket with the same number, and a restart re-registers it with epoll.
    h:start(mode, self.on_ready)
  end
  self.timer:stop()
  local ms = client:timeout()
  if ms >= 0 then self.timer:start(ms, 0, self.step) end
end

--- driver:stop() closes every handle the driver opened (the client stays open).
function Driver:stop()
  if self.stopped then return end
  self.stopped = true
  for fd, h in pairs(self.handles) do
    h:stop()
    h:close()
    self.handles[fd] = nil
  end
  self.timer:stop()
  self.timer:close()
end

return M
