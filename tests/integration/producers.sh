#!/usr/bin/env bash
# Producers: `zetlctl produce` sends generated bookings to a running cluster and exits only once
# every batch is ACKed, and an ACK means committed: the table equals the reference at that
# moment. Then a second producer run loses its coordinator to SIGKILL mid-way; the coordinator
# is started again, the producer resends what was not ACKed with the same sequences, and in the
# end every record is counted exactly once and the table equals the reference over both files.
# A line that is not a JSON object is reported with file:line and the rest goes on.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-60000}

bookings_gen "$count" 21 "$TESTENV_DIR/one"
bookings_gen "$count" 22 "$TESTENV_DIR/two"
printf 'not json\n' >> "$TESTENV_DIR/one/bookings.jsonl"
lines_one=$(($(wc -l < "$TESTENV_DIR/one/bookings.jsonl") - 1))
lines_two=$(wc -l < "$TESTENV_DIR/two/bookings.jsonl")
cat "$TESTENV_DIR/one/bookings.jsonl" "$TESTENV_DIR/two/bookings.jsonl" | grep -v '^not json' \
    > "$TESTENV_DIR/both.jsonl"
#  No file source: the glob matches nothing
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/none/*.jsonl" c
producers="ipc://$TESTENV_DIR/c-producers.ipc"
counted () {
    testenv_psql "SELECT coalesce(sum(changed + unchanged + dead_lettered + deduplicated), 0) FROM zetl_stats"
}
counted_at_least () { [ "$(counted 2>/dev/null || echo 0)" -ge "$1" ]; }

testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
testenv_start worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc"
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc"

"$TESTENV_ZETLCTL" produce --timeout 120 --coordinator "$producers" --config "$TESTENV_DIR/c.yaml" \
    --name loader-1 "$TESTENV_DIR/one/bookings.jsonl" > "$TESTENV_DIR/one.out" 2> "$TESTENV_DIR/one.err" \
    || testenv_fail "zetlctl produce failed: $(tail -3 "$TESTENV_DIR/one.err")"
grep -q "\"records\":$lines_one" "$TESTENV_DIR/one.out" || testenv_fail "produce summary: $(cat "$TESTENV_DIR/one.out")"
grep -q '"rejected":1' "$TESTENV_DIR/one.out" || testenv_fail "the bad line was not rejected: $(cat "$TESTENV_DIR/one.out")"
grep -q "bookings.jsonl:$((lines_one + 1)):" "$TESTENV_DIR/one.err" || testenv_fail "the bad line is not named: $(cat "$TESTENV_DIR/one.err")"
#  ACKed means committed: no waiting here
[ "$(counted)" = "$lines_one" ] || testenv_fail "ACKed before committed: $(counted) of $lines_one counted"
#  The producer flushed, so it declared itself caught up, then left: it holds no partition's
#  watermark back, and W is at once the largest event time less watermark_delay (15 min), not
#  held by the least advanced partition until idle_timeout (5 min) passes
latest=$("$TESTENV_PYTHON" - "$TESTENV_DIR/one/bookings.jsonl" <<'PY'
import datetime, json, sys
latest = max(json.loads(line)["updated_at"] for line in open(sys.argv[1]) if line.startswith("{"))
at = datetime.datetime.fromisoformat(latest.replace("Z", "+00:00")) - datetime.timedelta(minutes=15)
print(int(at.timestamp() * 1000000))
PY
)
watermark_caught_up () {
    "$TESTENV_ZETLCTL" status --config "$TESTENV_DIR/c.yaml" --json --timeout 3 2>/dev/null \
        | grep -q "\"watermark_us\":$latest"
}
testenv_wait_until 10 watermark_caught_up
grep -v '^not json' "$TESTENV_DIR/one/bookings.jsonl" > "$TESTENV_DIR/one-good.jsonl"
[ "$(bookings_reference_md5 "$TESTENV_DIR/one-good.jsonl")" = "$(bookings_table_md5)" ] \
    || testenv_fail "after the first producer the table differs from the reference"

#  The second file, with the coordinator killed in the middle and started again
testenv_start producer-2 "$TESTENV_ZETLCTL" produce --timeout 120 --coordinator "$producers" \
    --config "$TESTENV_DIR/c.yaml" --name loader-2 "$TESTENV_DIR/two/bookings.jsonl"
testenv_wait_until 120 counted_at_least $((lines_one + lines_two / 3))
testenv_stop coordinator KILL
testenv_start coordinator-again "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
rc=0
wait "${TESTENV_PID_OF[producer-2]}" || rc=$?
[ "$rc" = 0 ] || testenv_fail "the second producer exited with $rc: $(tail -5 "$TESTENV_DIR/producer-2.log")"
grep -q "\"records\":$lines_two" "$TESTENV_DIR/producer-2.log" || testenv_fail "second summary: $(tail -2 "$TESTENV_DIR/producer-2.log")"
total=$(counted)
[ "$total" = "$((lines_one + lines_two))" ] \
    || testenv_fail "records counted $total times in all, not once each ($((lines_one + lines_two)))"
[ "$(bookings_reference_md5 "$TESTENV_DIR/both.jsonl")" = "$(bookings_table_md5)" ] \
    || testenv_fail "after the coordinator's restart the table differs from the reference"
testenv_pass
