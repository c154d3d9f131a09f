#!/usr/bin/env bash
# test.sh - install what is missing, build zetl and run every test (benchmarks aside).
#
#     scripts/test.sh              build/ (RelWithDebInfo), then ctest
#     scripts/test.sh --sanitize   the same, then again in build-asan/ with ASan and UBSan (the
#                                  fuzz test, which always builds with them, runs once)
#
# Exits with ctest's code: 0 when every test passed or was skipped. ZETL_JOBS sets the build's
# parallelism (default: the number of CPUs). Tests run one at a time: integration tests start
# servers and clusters of their own.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=0
for arg in "$@"; do
    case "$arg" in
        --sanitize) sanitize=1 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "test.sh: unknown option '$arg'; use --sanitize or --help" >&2; exit 2 ;;
    esac
done

bash scripts/install-deps.sh
jobs=${ZETL_JOBS:-$(nproc)}

#  run_suite DIR EXCLUDE [cmake options...]: build in DIR, run every test but the benchmarks and
#  those matching EXCLUDE (a ctest regex; empty for none)
run_suite () {
    local dir=$1 exclude=$2
    shift 2
    #  Explicit returns: set -e does not apply inside a function called with ||
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" || return
    cmake --build "$dir" -j "$jobs" || return
    ctest --test-dir "$dir" -LE bench ${exclude:+-E "$exclude"} --output-on-failure -j1
}

rc=0
run_suite build "" || rc=$?
if [ "$sanitize" = 1 ]; then
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    #  integration/fuzz builds its own clang build with ASan and UBSan whatever the suite's
    #  build: once is enough. The longest load tests run shorter under the sanitizers (one
    #  arrival-order seed, 20 s of chaos, and ZETL_TEST_SHORT: fewer scenarios or records where
    #  a test says so): the plain run above holds them at full size, and the whole suite stays
    #  within 20 minutes on two cores
    ZETL_TEST_SEEDS=${ZETL_TEST_SEEDS:-11} ZETL_CHAOS_SECONDS=${ZETL_CHAOS_SECONDS:-20} \
    ZETL_TEST_SHORT=${ZETL_TEST_SHORT:-1} \
    run_suite build-asan '^integration/fuzz$' -DZETL_SANITIZE=ON || rc=$?
fi
exit "$rc"
