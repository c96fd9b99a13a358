#!/bin/sh
# Smoke test of an installed rock, run from outside the repository: require "anthropic" and
# every bundled module through the tree's paths, and run the installed bin/ scripts.
# Usage: sh tools/rock-smoke.sh <lua interpreter> <rock tree>
set -eu
LUA=$1
TREE=$(cd "$2" && pwd)
V=$($LUA -e 'print((_VERSION:gsub("Lua ", "")))')
export LUA_PATH="$TREE/share/lua/$V/?.lua;$TREE/share/lua/$V/?/init.lua;;"
export LUA_CPATH="$TREE/lib/lua/$V/?.so;;"
cd /tmp
$LUA - "$TREE" <<'LUA'
local tree = ...
local anthropic = require "anthropic"
local core = require "anthropic.core"
assert(package.searchpath("anthropic.core", package.cpath):find(tree, 1, true), "core not from the tree")
assert(package.searchpath("anthropic", package.path):find(tree, 1, true), "anthropic not from the tree")
-- every module the rock installed loads
local p = assert(io.popen("cd " .. tree .. "/share/lua/*/ && find anthropic -name '*.lua'"))
local n = 0
for path in p:lines() do
  local name = path:gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
  require(name)
  n = n + 1
end
p:close()
assert(n > 5, "too few modules installed")
local ok, err = pcall(anthropic.new, { api_key = "sk-ant-mock-free", base_url = "ftp://x" })
assert(not ok and err:is(anthropic.errors.UsageError))
print(string.format("rock-smoke: %s, %d modules, core %s, libcurl %s", _VERSION, n, core.version, core.curl_version))
LUA
# the installed scripts start and answer
for b in anthropic-lua anthropic-mock; do
  if [ -e "$TREE/bin/$b" ]; then "$TREE/bin/$b" --help >/dev/null || { echo "rock-smoke: $b --help failed"; exit 1; }; fi
done
echo "rock-smoke: ok ($LUA)"
