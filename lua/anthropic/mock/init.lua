-- anthropic.mock: the offline Anthropic API server (bin/anthropic-mock).
--
-- require "anthropic.mock".main(argv) runs the command; .server.new(config)
-- embeds it (listen, then step() from your own loop or run()).

return {
  main = function(argv) return require("anthropic.mock.cli").main(argv) end,
  server = require "anthropic.mock.server",
  config = require "anthropic.mock.config",
  VERSION = require("anthropic.mock.cli").VERSION,
}
