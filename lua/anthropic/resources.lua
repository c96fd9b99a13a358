-- anthropic.resources: attaches the API resources to a new client (client.messages, ...).
-- Each resource module exposes attach(client) and adds its functions as closures over the
-- client, so they are called with a dot: client.messages.create(params).

local resources = {}

resources.MODULES = { "anthropic.messages", "anthropic.models", "anthropic.batches", "anthropic.files" }

---Adds client.messages, client.models, client.messages.batches and client.files to a new client.
---@param client anthropic.Client
function resources.attach(client)
  for _, name in ipairs(resources.MODULES) do
    require(name).attach(client)
  end
end

return resources
