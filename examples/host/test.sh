#!/bin/sh
# examples/host/test.sh BIN [STREAMS]: runs the C host (both loops) against a mock and checks its reports.
# The mock is $ANTHROPIC_MOCK_URL (tools/with-mock.sh starts one for the run).
# Exit status: 0 when the host printed its success line, 1 otherwise.
set -u
bin=$1
streams=${2:-10}
url=${ANTHROPIC_MOCK_URL:?run it with a mock: sh tools/with-mock.sh sh examples/host/test.sh BIN}
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
