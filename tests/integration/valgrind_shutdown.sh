#!/usr/bin/env bash
# Every process frees what it allocated and makes no invalid access: a small pipeline runs with
# the coordinator, a worker and a sink each under valgrind (memcheck); the coordinator finishes
# with --once, the worker and the sink stop on SIGTERM; then zetlctl gen and zetlctl up --once run
# under valgrind too. Any error or definitely lost block fails the test (valgrind exits 99).
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
command -v valgrind >/dev/null || testenv_skip "valgrind is not installed (apt-get install valgrind)"
if ldd "$TESTENV_COORDINATOR" | grep -q libasan; then
    testenv_skip "this build uses AddressSanitizer, which valgrind cannot run; the plain build runs this test"
fi
testenv_pg_start
vg=(valgrind -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
    --error-exitcode=99)

mkdir -p "$TESTENV_DIR/in"
"${vg[@]}" "$TESTENV_ZETLCTL" gen bookings --count 2000 --duplicates 0.05 --versions 0.2 --seed 3 \
    --out "$TESTENV_DIR/in/bookings.jsonl" 2> "$TESTENV_DIR/gen.log" \
    || testenv_fail "zetlctl gen under valgrind: $(cat "$TESTENV_DIR/gen.log")"
printf '{"broken\n' >> "$TESTENV_DIR/in/bookings.jsonl"  # a dead letter takes its path too
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"

testenv_start coordinator "${vg[@]}" "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml" --once
coordinator=$TESTENV_PID
testenv_start worker "${vg[@]}" "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc" --name worker-1
worker=$TESTENV_PID
testenv_start sink "${vg[@]}" "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc" --name sink-1
sink=$TESTENV_PID
rc=0
wait "$coordinator" || rc=$?
[ "$rc" = 0 ] || testenv_fail "the coordinator under valgrind exited with $rc"
grep -q '"balanced":true' "$TESTENV_DIR/coordinator.log" || testenv_fail "the run does not balance"
for name in worker sink; do
    pid=${TESTENV_PID_OF[$name]}
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    unset "TESTENV_PID_OF[$name]"
    [ "$rc" = 0 ] || testenv_fail "$name under valgrind exited with $rc (99: memory errors or leaks)"
done
: "$worker" "$sink"

#  zetlctl up itself (its children run natively): supervision, local paths, shutdown
testenv_psql "CREATE DATABASE up" >/dev/null
bookings_config "$TESTENV_DIR/up.yaml" "$TESTENV_DIR/in/*.jsonl" up
ZETL_POSTGRES="${ZETL_POSTGRES/dbname=zetl/dbname=up}" "${vg[@]}" "$TESTENV_ZETLCTL" up \
    --config "$TESTENV_DIR/up.yaml" --once --run-dir "$TESTENV_DIR/run-up" \
    > "$TESTENV_DIR/up.out" 2> "$TESTENV_DIR/up.log" \
    || testenv_fail "zetlctl up under valgrind: $(grep -v '^{' "$TESTENV_DIR/up.log" | tail -20)"
testenv_pass
