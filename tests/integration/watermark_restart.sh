#!/usr/bin/env bash
# The watermark is checkpointed, and a coordinator started again resumes from it. Two runs of
# one pipeline on one database:
#  1. 200 000 bookings in event-time order; the coordinator is killed with SIGKILL a third of the
#     way in and `zetlctl up` starts it again. The new one restores the checkpointed watermark
#     (logged as watermark_restored). Since that value is the watermark in force when
#     the oldest uncommitted record was taken in, no record read again is judged more harshly
#     than the first time: none is too late, every record counts once, the table equals the
#     reference.
#  2. The stream (about an hour of event time) goes on with 1 000 new bookings from its first
#     minute, far more than late_window behind the watermark: a coordinator
#     that forgot the watermark would load them; this one dead-letters them as too_late.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}

mkdir -p "$TESTENV_DIR/in"
"$TESTENV_ZETLCTL" gen bookings --count "$count" --versions 0 --seed 31 --out "$TESTENV_DIR/in/a.jsonl" 2>/dev/null
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl" c "    watermark_delay: 2m
    late_window: 10m
    idle_timeout: 1h"
watermark_row () {
    testenv_psql "SELECT coalesce((SELECT state FROM zetl_checkpoints WHERE pipeline = 'bookings-etl' AND source = 'watermark'), '')"
}
has_watermark_row () { [ -n "$(watermark_row)" ]; }

#  Run 1: killed a third of the way in
"$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --once --run-dir "$TESTENV_DIR/run-c" \
    > "$TESTENV_DIR/c.out" 2>> "$TESTENV_DIR/c.log" &
up=$!
testenv_wait_until 120 bookings_counted $((count / 3)) || testenv_fail "a third of the records never loaded"
testenv_wait_until 10 has_watermark_row
coordinator=$(pgrep -P "$up" -f zetl-coordinator) || testenv_fail "no coordinator under zetlctl up"
kill -KILL "$coordinator"
wait "$up" || testenv_fail "zetlctl up --once failed after the coordinator was killed: $(tail -5 "$TESTENV_DIR/c.log")"
logs=$TESTENV_DIR/run-c/logs
restored=$(grep -rh '"event":"watermark_restored"' "$logs" | grep -o '"watermark_us":[-0-9]*' | head -1 | cut -d: -f2)
[ -n "$restored" ] || testenv_fail "the coordinator started again restored no watermark"
bookings_reconciliation_ok "$TESTENV_DIR/c.out" || testenv_fail "run 1 does not balance: $(cat "$TESTENV_DIR/c.out")"
too_late=$(testenv_psql "SELECT count(*) FROM zetl_dead_letters WHERE reason = 'too_late'")
[ "$too_late" = 0 ] || testenv_fail "$too_late records read again were judged too late"
total=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$total" = "$count" ] || testenv_fail "records counted $total times, not once each ($count)"
[ "$(bookings_reference_md5 "$TESTENV_DIR/in/a.jsonl")" = "$(bookings_table_md5)" ] \
    || testenv_fail "run 1: the table differs from the reference"
after_one=$(watermark_row)

#  Run 2: 1 000 new bookings (new ids) with the event times of the stream's first minute
head -1000 "$TESTENV_DIR/in/a.jsonl" | sed 's/"booking_id":"BK-/"booking_id":"OLD-/' > "$TESTENV_DIR/in/b.jsonl"
bookings_up c2 "$TESTENV_DIR/c.yaml"
grep -rqh "\"watermark_us\":$after_one" "$TESTENV_DIR/run-c2/logs" \
    || testenv_fail "run 2 did not restore the watermark run 1 left ($after_one)"
too_late=$(testenv_psql "SELECT count(*) FROM zetl_dead_letters WHERE reason = 'too_late' AND raw LIKE '%OLD-%'")
[ "$too_late" = 1000 ] || testenv_fail "$too_late of the 1000 old records were dead-lettered too late"
[ "$(bookings_reference_md5 "$TESTENV_DIR/in/a.jsonl")" = "$(bookings_table_md5)" ] \
    || testenv_fail "run 2: the table differs from the reference"
testenv_pass
