local anthropic = require "anthropic"
local client = anthropic.new{}          -- ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL from the env

local ok, msg = pcall(client.messages.create, {
  model = "claude-sonnet-4-6", max_tokens = 512,
  messages = { { role = "user", content = "Say hello in Lua." } },
})
if ok then print(msg.content[1].text, msg._request_id)
elseif msg:is(anthropic.errors.PermissionDenied) then print("this key may not use Sonnet")
elseif msg:is(anthropic.errors.AuthenticationFailed) then print("check ANTHROPIC_API_KEY")
else error(msg) end
