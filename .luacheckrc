-- luacheck configuration: one standard for every Lua we support.
std = "max"
max_line_length = 120
codes = true
include_files = { "lua/**/*.lua", "bin", "spec/**/*.lua", "examples/**/*.lua", "tools/**/*.lua", "bench/**/*.lua",
  ".luacheckrc" }
exclude_files = { "build", "tools/sse-expected/node_modules", "bench/node_modules", "tools/prism/node_modules",
  -- the C host example keeps its C source and test script next to its Lua scene
  "examples/host/*.c", "examples/host/*.sh" }
files["spec"] = { std = "+busted" }
files["bin"] = { max_line_length = 120 }
-- Neovim example: the editor provides the global `vim`.
files["examples/neovim"] = { read_globals = { "vim" } }
-- LÖVE-style example: the host provides `love`.
files["examples/frame_loop"] = { globals = { "love" } }
files["examples/love"] = { globals = { "love" } }
