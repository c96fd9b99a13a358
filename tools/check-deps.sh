#!/bin/sh
# Checks that what `make` and `make demo`/`make test` need is installed, and says how to get
# it when it is not. Usage: sh tools/check-deps.sh [lua interpreter, default lua5.4]
LUA=${1:-lua5.4}
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $1"; }
need "$LUA"; need cc; need make; need pkg-config; need busted; need luacheck
pkg-config --exists libcurl 2>/dev/null || missing="$missing libcurl-dev"
if command -v "$LUA" >/dev/null 2>&1; then
  "$LUA" -e 'require "cjson"' 2>/dev/null || missing="$missing lua-cjson"
  "$LUA" -e 'require "socket"' 2>/dev/null || missing="$missing lua-socket"
fi
if [ -n "$missing" ]; then
  echo "missing:$missing" >&2
  echo "install them (Debian/Ubuntu):  sudo sh tools/install-deps.sh" >&2
  exit 1
fi
