#!/bin/sh
# examples/love/test.sh [STREAMS]: runs the LÖVE game (examples/love/) under a virtual X display
# (xvfb-run) against a mock and checks its report: every stream done with its exact text, and the
# frame time figures printed. Needs love (11.x), xvfb and the core built for LuaJIT
# (make LUA=luajit). The mock is $ANTHROPIC_MOCK_URL (tools/with-mock.sh starts one for the run).
# Exit status: 0 when the game printed its success line, 1 otherwise.
set -u
streams=${1:-4}
for tool in love xvfb-run; do
    command -v "$tool" >/dev/null 2>&1 || { echo "love-test: $tool not found (Debian: apt-get install -y love xvfb)" >&2; exit 1; }
done
[ -f build/luajit/anthropic/core.so ] || { echo "love-test: build the core for LuaJIT first: make LUA=luajit" >&2; exit 1; }
url=${ANTHROPIC_MOCK_URL:?run it with a mock: sh tools/with-mock.sh sh examples/love/test.sh}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# Software GL under Xvfb; no sound device is opened (conf.lua turns audio off).
xvfb-run -a -s "-screen 0 1024x768x24" timeout 60 love examples/love --url "$url" --streams "$streams" \
    >"$tmp/love.out" 2>"$tmp/love.err"
rc=$?
line=$(grep '^love: ' "$tmp/love.out" | tail -n 1)
echo "$line"
case "$line" in
"love: ok streams=$streams done=$streams/$streams frames="*" p50_frame_ms="*" p99_frame_ms="*" longest_frame_ms="*" p50_poll_ms="*" texts=$streams/$streams "*) ;;
*)
    echo "love-test: FAILED (exit $rc): expected 'love: ok streams=$streams done=$streams/$streams frames=... p50_frame_ms=... texts=$streams/$streams ...'" >&2
    cat "$tmp/love.out" "$tmp/love.err" >&2
    exit 1
    ;;
esac
[ "$rc" -eq 0 ] || { echo "love-test: FAILED: exit status $rc" >&2; cat "$tmp/love.err" >&2; exit 1; }
echo "love-test: ok"
