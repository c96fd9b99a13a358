-- anthropic.models: client.models.list / retrieve.
--
--   local page = client.models.list{ limit = 20 }     -- a Page (anthropic.pagination)
--   for model in page:iter() do print(model.id, model.display_name) end
--   local m = client.models.retrieve("claude-haiku-4-5") -- by id or alias
--
-- Both take request options as their last argument (timeout, max_retries, headers, on_done);
-- betas go in list's params, or in retrieve's options.

local pagination = require "anthropic.pagination"
local resource = require "anthropic.resource"

local M = {}

function M.attach(client)
  local models = {}

  --- models.list([params [, options]]) -> Page of ModelInfo, newest first.
  --- params: limit (1..1000), after_id or before_id, betas.
  function models.list(params, options)
    return pagination.list(client, "/v1/models", params, options)
  end

  --- models.retrieve(model_id [, options]) -> ModelInfo { id, type, display_name, created_at }
  function models.retrieve(model_id, options)
    resource.check_id(model_id, "model_id")
    local o, betas = resource.split_options(options)
    return resource.call(client, {
      method = "GET", path = "/v1/models/" .. resource.path_segment(model_id), betas = betas,
    }, o, options)
  end

  client.models = models
end

return M
