#!/usr/bin/env bash
# Stopping drains, and a restart resumes: `zetlctl up` gets SIGINT mid-run; the coordinator
# stops its sources, lets the batches in flight commit, and everything stops in order. A second
# `up --once` over the same files then loads the rest: the table equals the reference, and the
# counters over both runs add up to exactly the input lines (nothing lost, nothing twice).
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}

bookings_gen "$count" 5 "$TESTENV_DIR/in"
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"

up_gone () {
    ! kill -0 "$1" 2>/dev/null
}

testenv_start up "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --run-dir "$TESTENV_DIR/run"
up=$TESTENV_PID
testenv_wait_until 120 bookings_loaded_at_least $((lines / 4))
kill -INT "$up"
testenv_wait_until 60 up_gone "$up"
rc=0
wait "$up" || rc=$?
[ "$rc" = 130 ] || testenv_fail "zetlctl up should exit 130 after SIGINT, got $rc"
grep -q '"event":"drained"' "$TESTENV_DIR/run/logs/coordinator.log" \
    || testenv_fail "the coordinator did not drain: $(tail -3 "$TESTENV_DIR/run/logs/coordinator.log")"
first=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$first" -lt "$lines" ] || testenv_fail "the first run was not stopped mid-run ($first of $lines)"

bookings_up again "$TESTENV_DIR/c.yaml"
bookings_reconciliation_ok "$TESTENV_DIR/again.out" || testenv_fail "second run: $(cat "$TESTENV_DIR/again.out")"
total=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$total" = "$lines" ] || testenv_fail "both runs counted $total records for $lines input lines"
[ "$(bookings_table_md5)" = "$(bookings_reference_md5 "$TESTENV_DIR/in/bookings.jsonl")" ] \
    || testenv_fail "table differs from the reference after a drain and a restart"
testenv_pass
