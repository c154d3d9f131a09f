#!/usr/bin/env bash
# Bad input gets a clear error and loses nothing else. Records: a malformed JSON line, a record
# without the partition key, one whose key does not cast to int, one whose amount is not a
# number, one without its event time, and a CSV row with the wrong column count each land in
# zetl_dead_letters with their reason and field, and so does each record beyond a limit of the
# limits: section (a string longer than max_string, more fields than max_fields, a line larger
# than max_record; reason over_limit); every good record is loaded, and the reconciliation
# balances. An unknown configuration key is refused naming file, line and key;
# PostgreSQL unreachable at start is refused with what to do.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init

#  Configuration errors need no database
cat > "$TESTENV_DIR/unknown.yaml" <<'YAML'
pipelines:
  - id: p
    sourse: { type: file, path: x.jsonl }
YAML
rc=0
"$TESTENV_COORDINATOR" --config "$TESTENV_DIR/unknown.yaml" 2> "$TESTENV_DIR/unknown.err" || rc=$?
[ "$rc" = 2 ] || testenv_fail "an unknown key should exit 2, got $rc"
grep -q 'unknown.yaml:3' "$TESTENV_DIR/unknown.err" && grep -q 'sourse' "$TESTENV_DIR/unknown.err" \
    || testenv_fail "the error does not name line 3 and the key: $(cat "$TESTENV_DIR/unknown.err")"

mkdir -p "$TESTENV_DIR/in" "$TESTENV_DIR/csv"
cat > "$TESTENV_DIR/in/bad.jsonl" <<'JSONL'
{"booking_id":"BK-1","hotel_id":1,"amount":10.50,"status":"new","updated_at":"2026-01-01T10:00:00Z"}
{"booking_id":"BK-2","hotel_id":2,"amount":11.00,"status":"new","updated_at":"2026-01-01T10:01:00Z"
{"booking_id":"BK-3","amount":12.00,"status":"new","updated_at":"2026-01-01T10:02:00Z"}
{"booking_id":"BK-4","hotel_id":"abc","amount":13.00,"status":"new","updated_at":"2026-01-01T10:03:00Z"}
{"booking_id":"BK-5","hotel_id":5,"amount":"12,5","status":"new","updated_at":"2026-01-01T10:04:00Z"}
{"booking_id":"BK-6","hotel_id":6,"amount":14.00,"status":"new"}
{"booking_id":"BK-7","hotel_id":7,"amount":15.25,"status":"confirmed","updated_at":"2026-01-01T10:06:00+02:00"}
JSONL
#  Beyond the limits set below: a 100-byte string, 13 fields, a 1.1 KiB line
long=$(printf 'x%.0s' $(seq 1 100)) longer=$(printf 'y%.0s' $(seq 1 1100))
cat >> "$TESTENV_DIR/in/bad.jsonl" <<JSONL
{"booking_id":"BK-8","hotel_id":8,"guest_email":"$long","updated_at":"2026-01-01T10:07:00Z"}
{"booking_id":"BK-9","hotel_id":9,"f1":1,"f2":2,"f3":3,"f4":4,"f5":5,"f6":6,"f7":7,"f8":8,"f9":9,"f10":10,"updated_at":"2026-01-01T10:08:00Z"}
{"booking_id":"BK-20","hotel_id":20,"updated_at":"2026-01-01T10:09:00Z","notes":"$longer"}
JSONL
cat > "$TESTENV_DIR/csv/bad.csv" <<'CSV'
booking_id,hotel_id,amount,status,updated_at
BK-10,10,1.00,new,2026-01-01T11:00:00Z
BK-11,11,2.00,new
BK-12,12,"3.00",new,2026-01-01T11:02:00Z
CSV

#  PostgreSQL unreachable at start: a clear error, exit 1
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"
rc=0
ZETL_POSTGRES="host=$TESTENV_DIR/nowhere port=1 dbname=zetl" \
    "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --once --run-dir "$TESTENV_DIR/run0" \
    > /dev/null 2> "$TESTENV_DIR/unreachable.err" || rc=$?
[ "$rc" = 1 ] || testenv_fail "PostgreSQL unreachable should exit 1, got $rc"
grep -q 'cannot connect to PostgreSQL.*set ZETL_POSTGRES' "$TESTENV_DIR/unreachable.err" \
    || testenv_fail "unclear error: $(cat "$TESTENV_DIR/unreachable.err")"

testenv_pg_start
sed -i '1i limits: { max_record: 1KiB, max_fields: 12, max_string: 64B }' "$TESTENV_DIR/c.yaml"
#  A second pipeline reads the CSV file into its own table
cat >> "$TESTENV_DIR/c.yaml" <<YAML
  - id: bookings-csv
    source: { type: file, path: "$TESTENV_DIR/csv/*.csv", format: csv }
    id_field: booking_id
    partition_key: hotel_id
    partitions: 4
    event_time: { field: updated_at }
    schema:
      booking_id: { type: string, required: true }
      hotel_id:   { type: int, required: true }
      amount:     { type: number }
      status:     { type: string }
      updated_at: { type: timestamp, required: true }
    sinks:
      - { type: postgres, table: bookings_csv, primary_key: [booking_id] }
YAML
bookings_up c "$TESTENV_DIR/c.yaml"
grep -q '"pipeline":"bookings-etl".*"records_in":10,"records_loaded":2,.*"records_dead_lettered":8,.*"balanced":true' "$TESTENV_DIR/c.out" \
    || testenv_fail "JSONL reconciliation: $(cat "$TESTENV_DIR/c.out")"
grep -q '"pipeline":"bookings-csv".*"records_in":3,"records_loaded":2,.*"records_dead_lettered":1,.*"balanced":true' "$TESTENV_DIR/c.out" \
    || testenv_fail "CSV reconciliation: $(cat "$TESTENV_DIR/c.out")"

dead=$(testenv_psql "SELECT string_agg(pipeline || ' ' || stage || ' ' || reason || ' ' || coalesce(field, '-'), '; ' ORDER BY pipeline, position) FROM zetl_dead_letters")
want="bookings-csv source malformed -; bookings-etl source malformed -; bookings-etl source missing_field hotel_id; bookings-etl worker cast hotel_id; bookings-etl worker cast amount; bookings-etl source missing_field updated_at; bookings-etl source over_limit -; bookings-etl source over_limit -; bookings-etl source over_limit -"
errors=$(testenv_psql "SELECT string_agg(error, '; ' ORDER BY position) FROM zetl_dead_letters WHERE reason = 'over_limit'")
[ "$errors" = "a string is longer than limits.max_string; the record has more fields than limits.max_fields; the record is larger than limits.max_record" ] \
    || testenv_fail "over_limit errors: [$errors]"
[ "$dead" = "$want" ] || testenv_fail "dead letters: got [$dead], want [$want]"
raw=$(testenv_psql "SELECT raw FROM zetl_dead_letters WHERE pipeline = 'bookings-csv'")
[[ "$raw" == BK-11,11,2.00,new* ]] || testenv_fail "the CSV dead letter lacks its raw row: [$raw]"
rows=$(testenv_psql "SELECT string_agg(booking_id || '=' || amount || '@' || updated_at, ' ' ORDER BY booking_id) FROM bookings")
[ "$rows" = "BK-1=10.50@2026-01-01 10:00:00+00 BK-7=15.25@2026-01-01 08:06:00+00" ] \
    || testenv_fail "good JSONL rows: [$rows]"
rows=$(testenv_psql "SELECT string_agg(booking_id || '=' || amount, ' ' ORDER BY booking_id) FROM bookings_csv")
[ "$rows" = "BK-10=1.00 BK-12=3.00" ] || testenv_fail "good CSV rows: [$rows]"
testenv_pass
