#!/usr/bin/env bash
# Event time end to end, on a stream whose classes are known: with watermark_delay 10m and
# late_window 1h, records arrive on time, out of order, late, too late, as an exact duplicate and
# as a new version of an id. The reconciliation must count each class, the too-late record must
# land in zetl_dead_letters with reason too_late (or load, with too_late: accept), the duplicate
# must be dropped and the new version win. zetlctl reprocess then sends the too-late record back:
# it loads, its dead letter goes, and the reconciliation still balances; a second request finds
# nothing left to send.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
export BOOKINGS_PARTITIONS=1  # one partition: the watermark follows this file's order exactly

mkdir -p "$TESTENV_DIR/in"
row () {  # row ID AMOUNT TIME
    printf '{"booking_id":"%s","hotel_id":7,"amount":%s,"status":"new","updated_at":"2026-01-01T%s:00Z"}\n' "$@"
}
{
    row A 1.00 12:00   # on time
    row B 2.00 12:30   # on time; W = 12:20
    row C 3.00 12:15   # late: behind W, within late_window
    row D 4.00 11:00   # too late: more than 1h behind W
    row B 2.00 12:30   # an exact duplicate of B
    row B 2.50 12:31   # B again with other content: a new version, W = 12:21
    row E 5.00 12:25   # out of order: before 12:31, but not behind W
} > "$TESTENV_DIR/in/events.jsonl"
extra="    watermark_delay: 10m
    late_window: 1h"

bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl" c "$extra"
bookings_up c "$TESTENV_DIR/c.yaml"
out=$(cat "$TESTENV_DIR/c.out")
for want in '"records_in":7' '"records_loaded":5' '"records_dead_lettered":1' \
    '"records_deduplicated":1' '"balanced":true' '"out_of_order":1' '"late":1' '"too_late":1' \
    '"duplicates_dropped":1' '"id_conflicts":1'; do
    grep -q "$want" <<< "$out" || testenv_fail "reconciliation lacks $want: $out"
done
dead=$(testenv_psql "SELECT stage || ' ' || reason || ' ' || field || ' ' || (raw::jsonb->>'booking_id') FROM zetl_dead_letters")
[ "$dead" = "coordinator too_late updated_at D" ] || testenv_fail "dead letters: [$dead]"
rows=$(testenv_psql "SELECT string_agg(booking_id || '=' || amount, ' ' ORDER BY booking_id) FROM bookings")
[ "$rows" = "A=1.00 B=2.50 C=3.00 E=5.00" ] || testenv_fail "rows: [$rows]"

#  Reprocess the too-late record: recorded now, run by the next start of the cluster
"$TESTENV_ZETLCTL" reprocess --config "$TESTENV_DIR/c.yaml" bookings-etl --reason too_late \
    > "$TESTENV_DIR/reprocess.out" 2>> "$TESTENV_DIR/reprocess.log" || testenv_fail "zetlctl reprocess failed"
grep -q '"records":1}' "$TESTENV_DIR/reprocess.out" || testenv_fail "reprocess request: $(cat "$TESTENV_DIR/reprocess.out")"
bookings_up c2 "$TESTENV_DIR/c.yaml"
out=$(cat "$TESTENV_DIR/c2.out")
for want in '"records_in":0' '"records_loaded":1' '"records_dead_lettered":-1' '"balanced":true' \
    '"totals":{"changed":5,"unchanged":1,"dead_lettered":0,"deduplicated":1}' '"reprocessed":1' \
    '"too_late":0'; do
    grep -q "$want" <<< "$out" || testenv_fail "after reprocess: reconciliation lacks $want: $out"
done
rows=$(testenv_psql "SELECT string_agg(booking_id || '=' || amount, ' ' ORDER BY booking_id) FROM bookings")
[ "$rows" = "A=1.00 B=2.50 C=3.00 D=4.00 E=5.00" ] || testenv_fail "rows after reprocess: [$rows]"
dead=$(testenv_psql "SELECT count(*) FROM zetl_dead_letters")
[ "$dead" = 0 ] || testenv_fail "dead letters left after reprocess: $dead"
"$TESTENV_ZETLCTL" reprocess --config "$TESTENV_DIR/c.yaml" bookings-etl --reason too_late --wait \
    > "$TESTENV_DIR/reprocess2.out" 2>> "$TESTENV_DIR/reprocess.log" || testenv_fail "second zetlctl reprocess failed"
grep -q '"records":0}' "$TESTENV_DIR/reprocess2.out" || testenv_fail "second request: $(cat "$TESTENV_DIR/reprocess2.out")"
"$TESTENV_ZETLCTL" reprocess --config "$TESTENV_DIR/c.yaml" no-such --reason too_late 2> "$TESTENV_DIR/err.txt" \
    && testenv_fail "reprocess of an unknown pipeline succeeded"
grep -q "names no pipeline 'no-such'" "$TESTENV_DIR/err.txt" || testenv_fail "unclear error: $(cat "$TESTENV_DIR/err.txt")"

#  too_late: accept keeps the record and still counts it
testenv_psql "CREATE DATABASE accept" >/dev/null
bookings_config "$TESTENV_DIR/a.yaml" "$TESTENV_DIR/in/*.jsonl" a "$extra
    too_late: accept"
bookings_up a "$TESTENV_DIR/a.yaml" accept
out=$(cat "$TESTENV_DIR/a.out")
for want in '"records_loaded":6' '"records_dead_lettered":0' '"too_late":1' '"balanced":true'; do
    grep -q "$want" <<< "$out" || testenv_fail "too_late accept: reconciliation lacks $want: $out"
done
rows=$(testenv_psql_in accept "SELECT string_agg(booking_id, ' ' ORDER BY booking_id) FROM bookings")
[ "$rows" = "A B C D E" ] || testenv_fail "too_late accept rows: [$rows]"
#  zetlctl status reads the same classes and the watermark from the event socket
testenv_psql "CREATE DATABASE live" >/dev/null
bookings_config "$TESTENV_DIR/l.yaml" "$TESTENV_DIR/in/*.jsonl" l "$extra"
export ZETL_POSTGRES="${ZETL_POSTGRES/dbname=zetl/dbname=live}"
testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/l.yaml"
testenv_start worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/l-workers.ipc"
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/l-sinks.ipc"
status_shows () {
    "$TESTENV_ZETLCTL" status --config "$TESTENV_DIR/l.yaml" --json --timeout 2 > "$TESTENV_DIR/status.json" &&
        grep -q '"committed":7' "$TESTENV_DIR/status.json"
}
testenv_wait_until 30 status_shows
w=$(date -u -d 2026-01-01T12:21:00Z +%s)000000
for want in '"pipeline":"bookings-etl"' "\"watermark_us\":$w" '"records_in":7' '"late":1' \
    '"too_late":1' '"deduplicated":1' '"out_of_order":1' '"workers":1' '"sinks":1' \
    '"connections":2'; do
    grep -q "$want" "$TESTENV_DIR/status.json" || testenv_fail "status lacks $want: $(cat "$TESTENV_DIR/status.json")"
done
#  A running coordinator picks a reprocess request up by itself; --wait returns once it is done
"$TESTENV_ZETLCTL" reprocess --config "$TESTENV_DIR/l.yaml" bookings-etl --reason too_late --wait \
    --timeout 30 > "$TESTENV_DIR/reprocess3.out" 2>> "$TESTENV_DIR/reprocess.log" ||
    testenv_fail "reprocess --wait on a running cluster failed: $(cat "$TESTENV_DIR/reprocess.log")"
rows=$(testenv_psql_in live "SELECT string_agg(booking_id, ' ' ORDER BY booking_id) FROM bookings")
[ "$rows" = "A B C D E" ] || testenv_fail "live rows after reprocess: [$rows]"
testenv_pass
