#!/bin/sh
# tools/with-mock.sh CMD [ARG...]: runs CMD with $ANTHROPIC_MOCK_URL naming a mock of the API:
# the one already named there, else bin/anthropic-mock started on a free port of 127.0.0.1 for
# this run (under $ANTHROPIC_MOCK_LUA, default lua5.4) and stopped when CMD ends.
# Exit status: CMD's; 1 when the mock did not start.
set -u
if [ -n "${ANTHROPIC_MOCK_URL:-}" ]; then exec "$@"; fi
mock_lua=${ANTHROPIC_MOCK_LUA:-lua5.4}
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
"$mock_lua" bin/anthropic-mock --host 127.0.0.1 --port 0 >"$tmp/mock.out" 2>"$tmp/mock.err" </dev/null &
pid=$!
url=
i=0
while [ $i -lt 100 ]; do
    url=$(sed -n 's/^listening \(http:[^ ]*\)$/\1/p' "$tmp/mock.out" | head -n 1)
    [ -n "$url" ] && break
    sleep 0.05
    i=$((i + 1))
done
if [ -z "$url" ]; then
    echo "with-mock: the mock did not start:" >&2
    cat "$tmp/mock.err" >&2
    exit 1
fi
ANTHROPIC_MOCK_URL=$url "$@"
