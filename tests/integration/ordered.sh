#!/usr/bin/env bash
# ordered: true. Records of a partition reach the target in event-time order once the watermark
# passes them: with one partition and disorder within the watermark delay, every transaction's
# rows are no older than the previous one's. A reorder buffer too small for the disorder lets
# records leave early, counted as reorder_overflow, and loses none. A coordinator killed with
# SIGKILL mid-run and started again resumes from the checkpoints and the positions committed
# above them: the table equals the reference and every record is counted exactly once.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-60000}
conninfo=$ZETL_POSTGRES

#  No versions and no duplicates: each row is written once, by the transaction that loads it
mkdir -p "$TESTENV_DIR/in"
"$TESTENV_ZETLCTL" gen bookings --count "$count" --disorder 0.3 --versions 0 --seed 5 \
    --out "$TESTENV_DIR/in/bookings.jsonl" 2>/dev/null
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")
ordered="    ordered: true
    watermark_delay: 5m
    late_window: 1d
    idle_timeout: 1h"

#  1. In order: one partition, a buffer large enough
export BOOKINGS_PARTITIONS=1
testenv_psql "CREATE DATABASE inorder" >/dev/null
bookings_config "$TESTENV_DIR/a.yaml" "$input" a "$ordered"
bookings_up a "$TESTENV_DIR/a.yaml" inorder
bookings_check "$TESTENV_DIR/a.out" "$input" inorder
grep -q '"reorder_overflow":0' "$TESTENV_DIR/a.out" || testenv_fail "overflow with a large buffer: $(cat "$TESTENV_DIR/a.out")"
#  Transactions in commit order (xmin) hold ever newer rows
overlaps=$(testenv_psql_in inorder "WITH t AS (SELECT xmin::text::bigint AS x, min(updated_at) AS lo,
    max(updated_at) AS hi FROM bookings GROUP BY 1)
    SELECT count(*) FROM t a JOIN t b ON b.x > a.x AND b.lo < a.hi")
transactions=$(testenv_psql_in inorder "SELECT count(DISTINCT xmin::text) FROM bookings")
[ "$overlaps" = 0 ] || testenv_fail "rows left out of event-time order: $overlaps overlapping transaction pairs"
[ "$transactions" -gt 5 ] || testenv_fail "too few transactions ($transactions) to show an order"

#  2. A buffer too small: records leave early, counted, none lost
testenv_psql "CREATE DATABASE overflow" >/dev/null
bookings_config "$TESTENV_DIR/b.yaml" "$input" b "$ordered
    reorder_records: 50"
bookings_up b "$TESTENV_DIR/b.yaml" overflow
bookings_check "$TESTENV_DIR/b.out" "$input" overflow
overflow=$(bookings_field "$TESTENV_DIR/b.out" reorder_overflow)
[ "${overflow:-0}" -gt 0 ] || testenv_fail "no reorder_overflow with a 50-record buffer: $(cat "$TESTENV_DIR/b.out")"

#  3. The coordinator killed mid-run, 8 partitions, then started again
export BOOKINGS_PARTITIONS=8
testenv_psql "CREATE DATABASE crash" >/dev/null
bookings_config "$TESTENV_DIR/c.yaml" "$input" c "$ordered"
export ZETL_POSTGRES="${conninfo/dbname=zetl/dbname=crash}"
testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml" --once
testenv_start worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc"
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc"
counted () {
    local n
    n=$(testenv_psql_in crash "SELECT coalesce(sum(changed + unchanged + dead_lettered + deduplicated), 0) FROM zetl_stats" 2>/dev/null) || return 1
    [ "${n:-0}" -ge "$1" ]
}
testenv_wait_until 120 counted $((lines / 3))
testenv_stop coordinator KILL
testenv_start coordinator-again "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml" --once
rc=0
wait "${TESTENV_PID_OF[coordinator-again]}" || rc=$?
[ "$rc" = 0 ] || testenv_fail "the restarted coordinator exited with $rc"
total=$(testenv_psql_in crash "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$total" = "$lines" ] || testenv_fail "records counted $total times in all, not once each ($lines)"
above=$(testenv_psql_in crash "SELECT count(*) FROM zetl_offsets WHERE above IS NOT NULL")
[ "$(bookings_reference_md5 "$input" crash)" = "$(bookings_table_md5 crash)" ] \
    || testenv_fail "after the coordinator's crash the table differs from the reference"
echo "ordered: $lines records, $overflow left a 50-record buffer early, $above keys kept positions above their checkpoint"
testenv_pass
