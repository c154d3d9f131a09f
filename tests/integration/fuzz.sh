#!/usr/bin/env bash
#  fuzz - build the libFuzzer targets of tests/fuzz with clang and run each for a while
#
#  The main build may use gcc, which has no libFuzzer: this makes a build of its own with clang
#  and -DZETL_FUZZ=ON (the zetl libraries instrumented too) in the work dir, builds only the fuzz
#  targets, and runs each one for ZETL_FUZZ_SECONDS (default 10) on a copy of its seed corpus
#  (tests/fuzz/corpus/<target>), with ASan and UBSan. Any crash, leak, timeout or out-of-memory
#  fails the test and prints the reproducer's path (the work dir is kept on failure). Skips (77)
#  when clang or its libFuzzer is missing.
#
#      ZETL_FUZZ_SECONDS=60 ZETL_SOURCE=$PWD bash tests/integration/fuzz.sh
#      ZETL_FUZZ_TARGETS="proto_fuzz" ...     only these targets
#      ZETL_FUZZ_JOBS=2                        parallel compile jobs (default 2)
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
testenv_init

seconds=${ZETL_FUZZ_SECONDS:-10}
jobs=${ZETL_FUZZ_JOBS:-2}
fuzz_dir=$ZETL_SOURCE/tests/fuzz
targets=${ZETL_FUZZ_TARGETS:-$(find "$fuzz_dir" -maxdepth 1 -name '*_fuzz.c' -printf '%f\n' \
    | sed 's/\.c$//' | sort | paste -sd ' ')}

command -v clang >/dev/null 2>&1 || testenv_skip "clang is not installed; apt-get install clang"
command -v cmake >/dev/null 2>&1 || testenv_skip "cmake is not installed"
#  libFuzzer ships with clang on most systems, not all
cat >"$TESTENV_DIR/probe.c" <<'EOF'
int LLVMFuzzerTestOneInput (const unsigned char *data, unsigned long size);
int LLVMFuzzerTestOneInput (const unsigned char *data, unsigned long size) { return !data && size; }
EOF
clang -fsanitize=fuzzer,address,undefined "$TESTENV_DIR/probe.c" -o "$TESTENV_DIR/probe" \
    >"$TESTENV_DIR/probe.log" 2>&1 \
    || testenv_skip "clang cannot link -fsanitize=fuzzer (no libFuzzer); see $TESTENV_DIR/probe.log"

build=$TESTENV_DIR/build
started=$(testenv_now_us)
echo "fuzz: building $targets with clang in $build"
cmake -S "$ZETL_SOURCE" -B "$build" -DCMAKE_C_COMPILER=clang -DZETL_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$TESTENV_DIR/configure.log" 2>&1 \
    || testenv_fail "cmake could not configure the clang fuzz build; see $TESTENV_DIR/configure.log"
# shellcheck disable=SC2086  # one word per target
cmake --build "$build" -j "$jobs" --target $targets >"$TESTENV_DIR/build.log" 2>&1 \
    || testenv_fail "the fuzz targets did not build; see $TESTENV_DIR/build.log"
echo "fuzz: built in $(( ($(testenv_now_us) - started) / 1000000 )) s; ${seconds} s per target"

failed=()
for target in $targets; do
    binary=$build/tests/fuzz/$target
    seeds=$fuzz_dir/corpus/$target
    corpus=$TESTENV_DIR/corpus/$target  #  libFuzzer adds what it finds here, never to the seeds
    artifacts=$TESTENV_DIR/artifacts/$target
    log=$TESTENV_DIR/$target.log
    [ -x "$binary" ] || testenv_fail "$binary was not built; see $TESTENV_DIR/build.log"
    [ -d "$seeds" ] || testenv_fail "no seed corpus for $target: add a few inputs to $seeds"
    mkdir -p "$corpus" "$artifacts"
    cp -R "$seeds/." "$corpus/"
    rc=0
    #  -malloc_limit_mb: no input of 4 KiB has a reason to ask for more in one allocation
    "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    found=$(find "$artifacts" -type f | sort)
    if [ "$rc" != 0 ] || [ -n "$found" ]; then
        failed+=("$target")
        echo "fuzz: $target FAILED (exit $rc) after ${runs:-?} executions; log $log" >&2
        grep -E '==ERROR|^SUMMARY|check failed|_fuzz: ' "$log" | head -n 5 >&2 || true
        for reproducer in $found; do
            echo "fuzz: reproducer $reproducer" >&2
            echo "fuzz: run it again with: $binary $reproducer" >&2
        done
    else
        inputs=$(find "$corpus" -type f | wc -l)
        echo "fuzz: $target ok, ${runs:-?} executions in ${seconds} s, corpus $inputs inputs"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    testenv_fail "fuzzing found crashes in: ${failed[*]} (reproducers above)"
fi
testenv_pass
