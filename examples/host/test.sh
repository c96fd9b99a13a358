#!/bin/sh
# examples/host/test.sh BIN [STREAMS]: runs the C host (both loops) against a mock and checks its reports.
# Uses $ANTHROPIC_MOCK_URL when set, else starts bin/anthropic-mock on a free port for the run.
# Exit status: 0 when the host printed its success line, 1 otherwise.
set -u
bin=$1
streams=${2:-10}
mock_lua=${ANTHROPIC_MOCK_LUA:-lua5.4}
url=${ANTHROPIC_MOCK_URL:-}
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
if [ -z "$url" ]; then
    "$mock_lua" bin/anthropic-mock --host 127.0.0.1 --port 0 >"$tmp/mock.out" 2>"$tmp/mock.err" </dev/null &
    pid=$!
    i=0
    while [ $i -lt 100 ]; do
        url=$(sed -n 's/^listening \(http:[^ ]*\)$/\1/p' "$tmp/mock.out" | head -n 1)
        [ -n "$url" ] && break
        sleep 0.05
        i=$((i + 1))
    done
    if [ -z "$url" ]; then
        echo "host-test: the mock did not start:" >&2
        cat "$tmp/mock.err" >&2
        exit 1
    fi
fi
# Both loops: a game's 16 ms frames, and an event loop on client:sockets()/client:timeout().
for loop in frames events; do
    out=$("$bin" --url "$url" --streams "$streams" --loop "$loop" --lua-dir lua --script examples/host/scene.lua)
    rc=$?
    echo "$out"
    case "$out" in
    "host: ok streams=$streams loop=$loop "*" texts=$streams/$streams core=static"*) ;;
    *)
        echo "host-test: FAILED (exit $rc): expected 'host: ok streams=$streams loop=$loop ... texts=$streams/$streams core=static'" >&2
        exit 1
        ;;
    esac
    [ "$rc" -eq 0 ] || { echo "host-test: FAILED: exit status $rc" >&2; exit 1; }
done
echo "host-test: ok"
