#!/usr/bin/env bash
# Faults mid-run: with 200 000 bookings flowing, a worker is killed with SIGKILL, then the sink
# is killed with SIGKILL and started again. Nothing may be lost or counted twice: the table
# equals the reference and the reconciliation balances with records_in = the input lines.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}

bookings_gen "$count" 9 "$TESTENV_DIR/in"
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"


testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml" --once
coordinator=$TESTENV_PID
workers_ep="ipc://$TESTENV_DIR/c-workers.ipc"
sinks_ep="ipc://$TESTENV_DIR/c-sinks.ipc"
testenv_start worker-1 "$TESTENV_WORKER" --coordinator "$workers_ep" --name worker-1
testenv_start worker-2 "$TESTENV_WORKER" --coordinator "$workers_ep" --name worker-2
testenv_start sink-1 "$TESTENV_SINK" --coordinator "$sinks_ep" --name sink-1

testenv_wait_until 120 bookings_loaded_at_least $((lines / 5))
testenv_stop worker-1 KILL
testenv_wait_until 120 bookings_loaded_at_least $((lines / 2))
testenv_stop sink-1 KILL
testenv_start sink-1-again "$TESTENV_SINK" --coordinator "$sinks_ep" --name sink-1

rc=0
wait "$coordinator" || rc=$?
[ "$rc" = 0 ] || testenv_fail "the coordinator exited with $rc"
grep '"pipeline":"bookings-etl"' "$TESTENV_DIR/coordinator.log" | grep -v '"level"' > "$TESTENV_DIR/once.out" || true
bookings_check "$TESTENV_DIR/once.out" "$TESTENV_DIR/in/bookings.jsonl"
testenv_pass
