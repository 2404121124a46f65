#!/bin/sh
# Replays the seed corpora of the fuzz targets through their plain drivers
# (tests/fuzz/replay_*, built by `make check`). Run by `make check` with
# top_srcdir and top_builddir set; falls back to this script's tree.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$here/../..}
top_builddir=${top_builddir:-$top_srcdir}

status=0
for target in bearer tokenreview headers entry jwt websocket list accessreview canline jose jwks \
    discovery; do
    bin="$top_builddir/tests/fuzz/replay_$target"
    corpus="$top_srcdir/tests/fuzz/corpus/$target"
    if [ ! -x "$bin" ]; then
        echo "FAIL: $bin not built" >&2
        status=1
        continue
    fi
    if [ ! -d "$corpus" ]; then
        echo "FAIL: no corpus $corpus" >&2
        status=1
        continue
    fi
    if "$bin" "$corpus"; then
        echo "PASS: replay_$target"
    else
        echo "FAIL: replay_$target (exit $?)" >&2
        status=1
    fi
done
exit $status
