#!/usr/bin/env bash
# A hung worker: with 200 000 bookings flowing, one of two workers is frozen with SIGSTOP for 10 s
# (its socket stays open, its heartbeats stop), then thawed with SIGCONT. Its batches go to the
# other worker meanwhile; when it wakes, whatever it still sends for them is a replay. Nothing is
# lost or counted twice: the table equals the reference and the reconciliation balances with
# records_in = the input lines; the frozen worker is seen to leave, and to come back and work.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}

bookings_gen "$count" 12 "$TESTENV_DIR/in"
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"

testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml" --once
coordinator=$TESTENV_PID
workers_ep="ipc://$TESTENV_DIR/c-workers.ipc"
testenv_start worker-1 "$TESTENV_WORKER" --coordinator "$workers_ep" --name worker-1
frozen=$TESTENV_PID
testenv_start worker-2 "$TESTENV_WORKER" --coordinator "$workers_ep" --name worker-2
testenv_start sink-1 "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc" --name sink-1

lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
testenv_wait_until 120 bookings_loaded_at_least $((lines / 5))
kill -STOP "$frozen"
sleep 10   # the hang itself: the worker stays frozen this long
kill -CONT "$frozen"

rc=0
wait "$coordinator" || rc=$?
[ "$rc" = 0 ] || testenv_fail "the coordinator exited with $rc"
grep '"pipeline":"bookings-etl"' "$TESTENV_DIR/coordinator.log" | grep -v '"level"' > "$TESTENV_DIR/once.out" || true
bookings_check "$TESTENV_DIR/once.out" "$TESTENV_DIR/in/bookings.jsonl"
grep '"event":"worker_left"' "$TESTENV_DIR/coordinator.log" | grep -q '"peer":"worker-1"' \
    || testenv_fail "the frozen worker was never seen to leave"
kill -0 "$frozen" 2>/dev/null || testenv_fail "the thawed worker did not survive"
testenv_pass
