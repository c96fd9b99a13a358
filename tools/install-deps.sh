#!/bin/sh
# Installs what building, testing and the demo need on Debian/Ubuntu (run as root or with sudo).
#   sudo sh tools/install-deps.sh          # runtime + tests
#   sudo sh tools/install-deps.sh --ci     # + sanitizer, valgrind, fuzzing and host-test tools
set -eu
# What `make`, `make demo` and `make test` need: the build, every Lua, the specs' helpers
# (LuaSocket for the mock, Neovim for the editor host, nginx and openssl for the TLS and
# HTTP/2 specs, git for the self-containment check) and LuaRocks for the install specs.
PKGS="make gcc pkg-config libcurl4-openssl-dev ca-certificates git
lua5.1 lua5.2 lua5.3 lua5.4 luajit liblua5.1-0-dev liblua5.2-dev liblua5.3-dev liblua5.4-dev
libluajit-5.1-dev lua-cjson lua-socket lua-busted lua-check luarocks
neovim nginx openssl procps"
# Node.js >= 18.20 with npm runs the prism schema check (a test-only tool): Debian 12's nodejs
# is 18.20. A Node.js installed some other way (NodeSource, nvm) is kept as it is.
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"
# .ci/run also builds with clang, runs the sanitizers, valgrind and cppcheck.
CI_PKGS="clang valgrind cppcheck time"
if [ "${1:-}" = "--ci" ]; then PKGS="$PKGS $CI_PKGS"; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: needs root: run  sudo sh tools/install-deps.sh $*" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
echo "install-deps: ok"
