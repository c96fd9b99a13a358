#!/bin/sh
# Checks that what `make`, `make demo` and (with --test) `make test` need is installed. When
# something is missing: as root it installs it (tools/install-deps.sh), otherwise it says the
# one command to run. Usage: sh tools/check-deps.sh [lua interpreter, default lua5.4] [--test]
LUA=${1:-lua5.4}
TEST=${2:-}
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $1"; }
check() {
  missing=""
  need "$LUA"; need cc; need pkg-config; need busted; need luacheck
  pkg-config --exists libcurl 2>/dev/null || missing="$missing libcurl-dev"
  if command -v "$LUA" >/dev/null 2>&1; then
    "$LUA" -e 'require "cjson"' 2>/dev/null || missing="$missing lua-cjson"
    "$LUA" -e 'require "socket"' 2>/dev/null || missing="$missing lua-socket"
  fi
  if [ "$TEST" = "--test" ]; then
    # the specs also run the other hosts and servers: every Lua, Neovim, nginx, openssl, git
    for l in lua5.1 lua5.2 lua5.3 lua5.4 luajit nvim nginx openssl git luarocks; do
      [ "$l" = "$LUA" ] || need "$l"
    done
    # Node.js runs the optional schema check: installed when we can, else skipped (tools/prism)
    [ "$(id -u)" -ne 0 ] || need node
  fi
}
check
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "missing:$missing -- installing (tools/install-deps.sh)" >&2
  sh "$(dirname "$0")/install-deps.sh" && check
  [ -z "$missing" ] && exit 0
fi
echo "missing:$missing" >&2
echo "install them (Debian/Ubuntu):  sudo sh tools/install-deps.sh" >&2
exit 1
