#!/usr/bin/env bash
# One coordinator per pipeline. A second coordinator for the same pipeline waits as a hot
# standby (it binds nothing and reads nothing); when the active one is killed with SIGKILL
# mid-run, the standby takes the pipeline's lock, raises the epoch and finishes the run with the
# same workers and sink: the table equals the reference and every record is counted exactly once.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-100000}

bookings_gen "$count" 3 "$TESTENV_DIR/in"
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")
bookings_config "$TESTENV_DIR/c.yaml" "$input" c

logged () { grep -q "\"event\":\"$2\"" "$TESTENV_DIR/$1.log" 2>/dev/null; }
testenv_start active "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
testenv_wait_until 30 logged active acquired
testenv_start standby "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
testenv_wait_until 30 logged standby standby
testenv_start worker-1 "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc" --name worker-1
testenv_start worker-2 "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc" --name worker-2
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc" --name sink-1
testenv_wait_until 120 bookings_counted $((lines / 3))
logged standby acquired && testenv_fail "the standby took over while the active coordinator ran"
testenv_stop active KILL
testenv_wait_until 30 logged standby acquired
grep '"event":"acquired"' "$TESTENV_DIR/standby.log" | grep -q '"epoch":2' \
    || testenv_fail "the standby did not raise the epoch: $(grep acquired "$TESTENV_DIR/standby.log")"
testenv_wait_until 180 bookings_counted "$lines"
#  Let anything still in flight land, then check that nothing counted twice
testenv_wait_until 60 bookings_idle
total=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$total" = "$lines" ] || testenv_fail "records counted $total times in all, not once each ($lines)"
[ "$(bookings_reference_md5 "$input")" = "$(bookings_table_md5)" ] \
    || testenv_fail "after the takeover the table differs from the reference"
[ "$(testenv_psql "SELECT epoch FROM zetl_coordinators WHERE pipeline = 'bookings-etl'")" = 2 ] \
    || testenv_fail "zetl_coordinators does not hold epoch 2"
testenv_stop standby
testenv_pass
