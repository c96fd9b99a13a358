-- anthropic.uv: drives a client from a libuv event loop (Neovim's vim.uv / vim.loop, luvit's
-- uv, the luv rock) instead of a poll loop.
--
--   local driver = require("anthropic.uv").attach(client)      -- uv: vim.uv, else luv
--   client.messages.stream(params, { on_text = ..., on_done = ... })
--   -- nothing else: the loop wakes the client when a socket is ready or a timer is due
--   driver:detach()                                            -- the client stays open
--
-- The driver asks the client which sockets libcurl wants watched (client:sockets()) and when
-- it next needs attention (client:timeout()), and keeps one uv poll handle per socket and one
-- uv timer in step with that. client:poll(0) runs only when one of them fires, never on a
-- schedule, so an idle client costs the loop nothing and the loop may exit (plain luv's
-- uv.run() returns once every request is done). The engine tells the driver when a request
-- starts and after any poll (a blocking call elsewhere polls too), so nobody has to "kick" it.
--
-- Callbacks (on_text, on_event, on_done) run inside libuv callbacks: in Neovim that is a "fast
-- event" context where most of vim.api is off limits, so wrap editor work in vim.schedule().
-- An error raised by an on_done callback comes out of client:poll(); the driver hands each one
-- to opts.on_error (default: vim.notify through vim.schedule in Neovim, stderr elsewhere) and
-- keeps driving the other requests.

local errors = require "anthropic.errors"

local M = {}

---@class anthropic.uv.Options
---@field on_error? fun(err: any) where errors raised by on_done callbacks go
---@field budget? integer|{ max_events?: integer, max_ms?: number } each poll's budget (client:poll):
---  what one wake-up may do before the loop runs its other callbacks; the rest is done at once
---  on the next turn of the loop

---@class anthropic.uv.Driver
---@field client anthropic.Client the client being driven
---@field polls integer how many times the driver called client:poll (no busy loop: tests read it)
local Driver = {}
Driver.__index = Driver
M.Driver = Driver

-- The libuv binding of this host: Neovim's, else the luv rock (luvit calls it "uv").
local function default_uv()
  local vim = rawget(_G, "vim")
  if type(vim) == "table" and (vim.uv or vim.loop) then return vim.uv or vim.loop end
  for _, name in ipairs { "luv", "uv" } do
    local ok, uv = pcall(require, name)
    if ok and type(uv) == "table" then return uv end
  end
  return nil
end

local function default_on_error(err)
  local vim = rawget(_G, "vim")
  if type(vim) == "table" and vim.schedule and vim.notify then
    vim.schedule(function() vim.notify("anthropic: " .. tostring(err), vim.log.levels.ERROR) end)
  else
    io.stderr:write("anthropic.uv: ", tostring(err), "\n")
  end
end

---Drives `client` from a libuv loop until `driver:detach()` (or until the client is closed).
---@param client anthropic.Client
---@param uv? table the libuv binding (default: vim.uv or vim.loop in Neovim, else require "luv")
---@param opts? anthropic.uv.Options
---@return anthropic.uv.Driver
function M.attach(client, uv, opts)
  local Client = require("anthropic.client").Client
  if getmetatable(client) ~= Client then errors.usage("client", "expected a Client (from anthropic.new)") end
  client = client._root   -- a derived client (with_options) runs on its root's engine: one driver
  if client._wake then errors.usage("client", "already attached to an event loop driver") end
  uv = uv or default_uv()
  if type(uv) ~= "table" or type(uv.new_timer) ~= "function"
    or type(uv.new_socket_poll or uv.new_poll) ~= "function" then
    errors.usage("uv", "needs a libuv binding (vim.uv, luv): none given and none found")
  end
  if opts ~= nil and type(opts) ~= "table" then errors.usage("opts", "must be a table") end
  opts = opts or {}
  if opts.on_error ~= nil and type(opts.on_error) ~= "function" then
    errors.usage("on_error", "must be a function")
  end
  require("anthropic.engine").poll_budget(opts.budget)   -- a bad budget fails here, not at a poll
  client:sockets()           -- raises "attempt to use a closed client" now rather than later

  local d = setmetatable({
    client = client, uv = uv, polls = 0,
    on_error = opts.on_error or default_on_error,
    budget = opts.budget,
    _handles = {},           -- fd -> { handle, mode }
    _timer = uv.new_timer(),
    _new_poll = uv.new_socket_poll or uv.new_poll,
  }, Driver)
  d._step = function() d:_poll() end
  d._wake = function() if not d._polling then d:_sync() end end
  client._wake = d._wake
  d:_sync()
  return d
end

-- One poll(0) (never waits: the loop did the waiting), then the watchers are brought in line.
-- A poll that raises an on_done error has still serviced every request; the next one raises
-- the next pending error, so this loops until a poll comes back clean.
function Driver:_poll()
  if self._detached then return end
  local client = self.client
  self._polling = true
  for _ = 1, 1000 do
    self.polls = self.polls + 1
    local ok, err = pcall(client.poll, client, 0, self.budget)
    if ok then break end
    if client._core:is_closed() then break end     -- closed from inside a callback
    self.on_error(err)
  end
  self._polling = false
  self:_sync()
end

local function close_handle(h)
  h:stop()
  if not h:is_closing() then h:close() end
end

-- Makes the watchers what the client wants now: a poll handle per socket with its mode, and
-- the timer at the client's next deadline (stopped when it has none). A closed client detaches.
function Driver:_sync()
  if self._detached then return end
  local client = self.client
  if client._core:is_closed() then return self:detach() end
  local want = client:sockets()
  for fd, w in pairs(self._handles) do
    if not want[fd] then
      close_handle(w.handle)
      self._handles[fd] = nil
    end
  end
  for fd, mode in pairs(want) do
    local w = self._handles[fd]
    if not w then
      w = { handle = self._new_poll(fd) }
      self._handles[fd] = w
    end
    -- Restarted on every sync, even with the same mode: libcurl may have closed this
    -- descriptor and opened a new socket with the same number, and a restart registers it anew.
    w.handle:start(mode, self._step)
  end
  local ms = client:timeout()
  self._timer:stop()
  if ms >= 0 then self._timer:start(ms, 0, self._step) end
end

---Syncs the watchers with the client now. Never needed (the engine notifies the driver);
---kept for hosts that changed the client behind the library's back.
function Driver:kick()
  self:_sync()
end

---@return boolean attached false after detach() or once the client was closed
function Driver:is_attached()
  return not self._detached
end

---Stops and closes every handle the driver opened; the client stays open and can be polled by
---hand or attached again. Idempotent.
function Driver:detach()
  if self._detached then return end
  self._detached = true
  for fd, w in pairs(self._handles) do
    close_handle(w.handle)
    self._handles[fd] = nil
  end
  close_handle(self._timer)
  if self.client._wake == self._wake then self.client._wake = nil end
end
Driver.stop = Driver.detach

return M
