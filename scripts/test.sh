#!/bin/sh
# Runs every test of mod_auth_k8ssa: installs what is missing (Debian
# packages), builds with -Werror, then
#   1. make check: C unit tests (cmocka), fuzz-corpus replay, and the pytest
#      integration suite against a real httpd (mpm_event) and the Kubernetes
#      API stand-in;
#   2. the authentication, cache, spoofing and fault tests again under
#      mpm_worker, and those with the authorization, shield and metrics tests
#      under mpm_prefork;
#   3. the unit tests and corpus replay under ASan+UBSan, with every pool
#      allocation of ours a guarded malloc block (tests/common/asan_pools.c);
#   4. the whole integration suite against the module built that way (httpd
#      with the sanitizer runtime preloaded): a sanitizer report in any httpd
#      log fails it;
#   5. each libFuzzer target for a short run (K8SSA_FUZZ_SECONDS, default 3);
#   6. a smoke run of the benchmark (bench/run.py --smoke: checks, no timing);
#   7. the Debian package built, installed, enabled and checked (package.sh).
# The soak (tests/integration/test_soak.py, K8SSA_SOAK_SECONDS, 45 s here) runs
# once, in 1.
set -eu
top="$(cd "$(dirname "$0")/.." && pwd)"
cd "$top"

"$top/scripts/deps.sh"
"$top/scripts/build.sh"

log="$(mktemp)"
trap 'rm -f "$log" "$log.rc"' EXIT
# run LABEL COMMAND...: the command's output goes to the terminal and the log.
run() {
    echo "== $1"
    shift
    rm -f "$log.rc"
    # Not `cmd; echo $?`: under set -e a failing command ends the subshell
    # before the echo, and an older status would stand.
    { rc=0; "$@" 2>&1 || rc=$?; echo "$rc" >"$log.rc"; } | tee -a "$log"
    [ "$(cat "$log.rc" 2>/dev/null)" = 0 ] || { echo "failed: $*"; exit 1; }
}

run "make check (unit, corpus replay, integration under mpm_event)" \
    env K8SSA_SOAK_SECONDS="${K8SSA_SOAK_SECONDS:-45}" make -C build check

MPM_TESTS="tests/integration/test_status.py tests/integration/test_require.py
tests/integration/test_cache.py tests/integration/test_headers.py
tests/integration/test_request_paths.py tests/integration/test_faults.py
tests/integration/test_credentials.py tests/integration/test_access.py
tests/integration/test_shield.py tests/integration/test_metrics.py
tests/integration/test_child_cache.py"
# worker runs one threaded child like event; prefork runs several children
# of one thread each (per-child caches, flights, key sets and metric slots):
# the authorization, shield and metrics tests matter most there.
WORKER_TESTS="tests/integration/test_status.py tests/integration/test_require.py
tests/integration/test_cache.py tests/integration/test_headers.py
tests/integration/test_request_paths.py tests/integration/test_faults.py
tests/integration/test_credentials.py"
# shellcheck disable=SC2086
run "integration (authentication, cache, spoofing, faults) under mpm_worker" \
    env K8SSA_MPM=worker top_builddir="$top/build" tests/integration/run.sh $WORKER_TESTS
# shellcheck disable=SC2086
run "integration (authentication, authorization, cache, spoofing, faults, shield, metrics) under mpm_prefork" \
    env K8SSA_MPM=prefork top_builddir="$top/build" tests/integration/run.sh $MPM_TESTS

mkdir -p build-asan
(cd build-asan && { [ -f Makefile ] || ../configure --enable-werror --enable-sanitizers >/dev/null; } \
    && make -j"$(nproc)" >/dev/null)
run "unit tests and corpus replay under ASan+UBSan" \
    env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    make -C build-asan check TESTS="$(make -s -C build-asan print-unit-tests) tests/fuzz/replay.sh"
# Without the 10,000-review capacity test (100 s here under ASan): it checks
# shmcb's sizing, which runs under mpm_event above; its code paths are the
# cache tests', which run here too.
run "integration against the ASan+UBSan module" \
    env K8SSA_MODULE_SO="$top/build-asan/.libs/mod_auth_k8ssa.so" \
    K8SSA_SANITIZER_PRELOAD="$(gcc -print-file-name=libasan.so)" \
    top_builddir="$top/build-asan" tests/integration/run.sh -m "not soak" \
    --deselect=tests/integration/test_cache_capacity.py::test_default_shmcb_holds_10000_reviews

echo "== libFuzzer targets"
make -C build fuzz >/dev/null
secs="${K8SSA_FUZZ_SECONDS:-3}"
for t in bearer tokenreview headers entry jwt websocket list accessreview canline jose jwks \
        discovery; do
    work="$(mktemp -d)"
    cp "$top/tests/fuzz/corpus/$t/"* "$work/"
    "$top/build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
        "$work" >"$work.log" 2>&1 || { tail -50 "$work.log"; exit 1; }
    echo "fuzz_$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work.log" | grep -o '[0-9]*$' || tail -1 "$work.log")"
    rm -rf "$work" "$work.log"
done
# Not a measurement (1 s per scenario): that the benchmark still runs, every
# scenario answers 2xx and the stand-in sees the reviews each one should cause.
run "benchmark smoke run (bench/run.py --smoke)" /usr/bin/python3 "$top/bench/run.py" --smoke
run "Debian package: dpkg-buildpackage, dpkg -i, a2enmod auth_k8ssa, apache2ctl -t" \
    "$top/scripts/package.sh" --check
# One closing line for people and CI: every C unit test and pytest test run.
unit=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' "$log" | awk '{s+=$1} END {print s+0}')
integ=$(sed -n 's/^=* \([0-9]*\) passed.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
echo "tests: $((unit + integ)) passed, 0 failed"
