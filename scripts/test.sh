#!/bin/sh
# Runs every test of mod_auth_k8ssa: installs what is missing (Debian
# packages), builds with -Werror, then
#   1. make check: C unit tests (cmocka), fuzz-corpus replay, and the pytest
#      integration suite against a real httpd and the Kubernetes API stand-in;
#   2. the unit tests and corpus replay again under ASan+UBSan;
#   3. each libFuzzer target for a short run (K8SSA_FUZZ_SECONDS, default 20).
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"

"$top/scripts/deps.sh"
"$top/scripts/build.sh"

log="$(mktemp)"
trap 'rm -f "$log" "$log.rc"' EXIT
echo "== make check (unit, corpus replay, integration)"
{ make -C build check 2>&1; echo $? >"$log.rc"; } | tee "$log"
[ "$(cat "$log.rc")" -eq 0 ] || { echo "make check failed"; exit 1; }

echo "== unit tests under ASan+UBSan"
mkdir -p build-asan
cd build-asan
[ -f Makefile ] || ../configure --enable-werror --enable-sanitizers >/dev/null
make -j"$(nproc)" >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    make check TESTS="$(make -s print-unit-tests) tests/fuzz/replay.sh"
cd "$top"

echo "== libFuzzer targets"
make -C build fuzz >/dev/null
secs="${K8SSA_FUZZ_SECONDS:-20}"
for t in bearer tokenreview headers entry jwt websocket list; do
    work="$(mktemp -d)"
    cp "$top/tests/fuzz/corpus/$t/"* "$work/"
    "$top/build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
        "$work" >"$work.log" 2>&1 || { tail -50 "$work.log"; exit 1; }
    echo "fuzz_$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$' || tail -1 "$work.log")"
    rm -rf "$work" "$work.log"
done
# One closing line for people and CI: every C unit test and pytest test.
unit=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | awk '{s+=$1} END {print s+0}')
integ=$(sed -n 's/^=* \([0-9]*\) passed.*/\1/p' "$log" | tail -1)
echo "tests: $((unit + ${integ:-0})) passed, 0 failed"
