#!/bin/sh
# Smoke test of installed rocks, run from outside the repository with no LUA_PATH/LUA_CPATH
# (as a user who never ran `luarocks path`): the tree's anthropic and every module it
# installed load, the core exports only luaopen_anthropic_core, and the installed commands,
# run by their full paths, work end to end: <tree>/bin/anthropic-mock serves, and
# <tree>/bin/anthropic-lua asks it a question.
# Usage: sh tools/rock-smoke.sh <lua interpreter> <rock tree>
set -eu
LUA=$1
TREE=$(cd "$2" && pwd)
V=$($LUA -e 'print((_VERSION:gsub("Lua ", "")))')
unset LUA_PATH LUA_CPATH LUA_PATH_5_2 LUA_CPATH_5_2 LUA_PATH_5_3 LUA_CPATH_5_3 LUA_PATH_5_4 LUA_CPATH_5_4
cd /tmp
CORE="$TREE/lib/lua/$V/anthropic/core.so"
exports=$(nm -D --defined-only "$CORE" | awk '$2 ~ /^[TDBR]$/ {print $3}')
[ "$exports" = "luaopen_anthropic_core" ] || { echo "rock-smoke: core.so exports more than luaopen_anthropic_core: $exports"; exit 1; }
$LUA - "$TREE" "$V" <<'LUA'
local tree, v = ...
package.path = tree .. "/share/lua/" .. v .. "/?.lua;" .. tree .. "/share/lua/" .. v .. "/?/init.lua;" .. package.path
package.cpath = tree .. "/lib/lua/" .. v .. "/?.so;" .. package.cpath
local anthropic = require "anthropic"
local core = require "anthropic.core"
-- package.searchpath, which Lua 5.1 lacks: the first file a require would load
local function search(name, paths)
  for pattern in paths:gmatch("[^;]+") do
    local file = pattern:gsub("%?", (name:gsub("%.", "/")))
    local f = io.open(file, "r")
    if f then f:close() return file end
  end
end
assert(search("anthropic.core", package.cpath):find(tree, 1, true), "core not from the tree")
assert(search("anthropic", package.path):find(tree, 1, true), "anthropic not from the tree")
-- every module the rocks installed loads
local p = assert(io.popen("cd " .. tree .. "/share/lua/" .. v .. "/ && find anthropic -name '*.lua'"))
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
# The installed commands, by their full paths.
"$TREE/bin/anthropic-lua" --help >/dev/null || { echo "rock-smoke: anthropic-lua --help failed"; exit 1; }
if [ -e "$TREE/bin/anthropic-mock" ]; then
  out=$(mktemp)
  "$TREE/bin/anthropic-mock" --host 127.0.0.1 --port 0 >"$out" 2>&1 </dev/null &
  mock=$!
  trap 'kill $mock 2>/dev/null; rm -f "$out"' EXIT
  url=
  i=0
  while [ $i -lt 100 ] && [ -z "$url" ]; do
    url=$(sed -n 's/^listening \(http:[^ ]*\)$/\1/p' "$out" | head -n 1)
    [ -n "$url" ] || sleep 0.05
    i=$((i + 1))
  done
  [ -n "$url" ] || { echo "rock-smoke: the installed anthropic-mock did not start:"; cat "$out"; exit 1; }
  answer=$(ANTHROPIC_API_KEY=sk-ant-mock-build ANTHROPIC_BASE_URL=$url \
    "$TREE/bin/anthropic-lua" ask -m claude-haiku-4-5 "hello from the rock" 2>/dev/null) \
    || { echo "rock-smoke: anthropic-lua ask failed"; exit 1; }
  case "$answer" in
    *"hello from the rock"*) ;;
    *) echo "rock-smoke: unexpected answer from the mock: $answer"; exit 1 ;;
  esac
  echo "rock-smoke: installed anthropic-lua asked the installed anthropic-mock: $answer"
fi
echo "rock-smoke: ok ($LUA)"
