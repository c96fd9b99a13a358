#!/bin/sh
# Installs what building, testing and the demo need on Debian/Ubuntu (run as root or with sudo).
#   sudo sh tools/install-deps.sh          # runtime + tests
#   sudo sh tools/install-deps.sh --ci     # + sanitizer, valgrind, fuzzing and host-test tools
set -eu
PKGS="make gcc pkg-config libcurl4-openssl-dev libssl-dev zlib1g-dev ca-certificates
lua5.1 lua5.2 lua5.3 lua5.4 luajit liblua5.1-0-dev liblua5.2-dev liblua5.3-dev liblua5.4-dev
libluajit-5.1-dev lua-cjson lua-socket lua-busted lua-check luarocks"
# Node.js (>= 18.20, for the prism schema check and the SDK comparisons) comes with the
# machine image; Debian's own nodejs package is older, so it is not installed here.
CI_PKGS="clang valgrind cppcheck neovim nginx openssl procps time"
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
