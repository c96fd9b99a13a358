-- anthropic.cli_term: what the `anthropic-lua` command knows of its terminal. It streams answers
-- and uses colour only where a person reads them: on a terminal. Colour follows
-- https://no-color.org: any non-empty NO_COLOR turns it off, and so does TERM=dumb.

local M = {}

local FDS = { stdin = 0, stdout = 1, stderr = 2 }

local STYLES = { red = "31", green = "32", yellow = "33", dim = "2", bold = "1" }

---Whether each standard stream is a terminal, and where colour may be used.
---@param is_tty? fun(name: "stdin"|"stdout"|"stderr"): boolean (default: anthropic.core.isatty)
---@param env fun(name: string): string? reads the environment ("" reads as nil)
---@return table term { stdin, stdout, stderr = is a terminal; color = { stdout, stderr } }
function M.detect(is_tty, env)
  if not is_tty then
    local isatty = require("anthropic.core").isatty
    is_tty = function(name) return isatty(FDS[name]) end
  end
  local t = { stdin = is_tty("stdin"), stdout = is_tty("stdout"), stderr = is_tty("stderr") }
  local allowed = env("NO_COLOR") == nil and env("TERM") ~= "dumb"
  t.color = { stdout = allowed and t.stdout, stderr = allowed and t.stderr }
  return t
end

---Wraps text in an SGR style when `on`; the text as it is otherwise.
---@param on boolean
---@param style "red"|"green"|"yellow"|"dim"|"bold"
---@param text string
---@return string
function M.paint(on, style, text)
  if not on or text == "" then return text end
  return "\27[" .. STYLES[style] .. "m" .. text .. "\27[0m"
end

return M
