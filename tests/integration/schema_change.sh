#!/usr/bin/env bash
# Schema changes of a PostgreSQL target. A pipeline loads a first file; then its schema gains a
# computed column (total = amount * nights): the sink adds the column, nullable, and the next
# file's rows carry it while the first file's rows keep NULL. Then the schema changes a type, and
# then it drops a column: each time the sink refuses, with an error that names the table, the
# column and what to do, and the table is left as it was.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start

bookings_gen 3000 41 "$TESTENV_DIR/one"
bookings_gen 3000 42 "$TESTENV_DIR/two"
mkdir -p "$TESTENV_DIR/in"
cp "$TESTENV_DIR/one/bookings.jsonl" "$TESTENV_DIR/in/one.jsonl"
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl" c
bookings_up first "$TESTENV_DIR/c.yaml"

#  The schema gains total, computed
cp "$TESTENV_DIR/two/bookings.jsonl" "$TESTENV_DIR/in/two.jsonl"
sed -e 's/^    schema:$/    transform:\n      - compute: { total: "amount * nights" }\n    schema:/' \
    -e 's/^      updated_at:  { type: timestamp, required: true }$/&\n      total:       { type: number }/' \
    "$TESTENV_DIR/c.yaml" > "$TESTENV_DIR/gained.yaml"
grep -q 'total:       { type: number }' "$TESTENV_DIR/gained.yaml" || testenv_fail "could not add total"
bookings_up gained "$TESTENV_DIR/gained.yaml"
grep -q '"event":"column_added"' "$TESTENV_DIR/run-gained/logs/sink-1.log" \
    || testenv_fail "the sink did not log the column it added"
[ "$(testenv_psql "SELECT data_type FROM information_schema.columns
                   WHERE table_name = 'bookings' AND column_name = 'total'")" = numeric ] \
    || testenv_fail "column total was not added as numeric"
bookings_load_raw "$TESTENV_DIR/two/bookings.jsonl"
two=$(testenv_psql "SELECT count(*) FROM bookings WHERE booking_id IN
                    (SELECT line->>'booking_id' FROM zetl_test_raw)")
[ "$two" -gt 0 ] || testenv_fail "no row of the second file"
wrong=$(testenv_psql "SELECT count(*) FROM bookings WHERE booking_id IN
                      (SELECT line->>'booking_id' FROM zetl_test_raw)
                      AND total IS DISTINCT FROM amount * nights")
[ "$wrong" = 0 ] || testenv_fail "$wrong rows of the second file without total = amount * nights"
[ "$(testenv_psql "SELECT count(*) > 0 FROM bookings WHERE total IS NULL")" = t ] \
    || testenv_fail "the first file's rows should keep a NULL total"

#  refused NAME YAML WORDS: zetlctl up with YAML logs a refusal from the sink holding WORDS;
#  the table's columns do not change
refused () {
    local name=$1 yaml=$2 words=$3 before after
    before=$(testenv_psql "SELECT string_agg (column_name || ' ' || data_type, ',' ORDER BY column_name)
                           FROM information_schema.columns WHERE table_name = 'bookings'")
    testenv_start "$name" "$TESTENV_ZETLCTL" up --config "$yaml" --run-dir "$TESTENV_DIR/run-$name"
    testenv_wait_until 60 grep -q "$words" "$TESTENV_DIR/run-$name/logs/sink-1.log"
    testenv_stop "$name"
    after=$(testenv_psql "SELECT string_agg (column_name || ' ' || data_type, ',' ORDER BY column_name)
                          FROM information_schema.columns WHERE table_name = 'bookings'")
    [ "$before" = "$after" ] || testenv_fail "$name changed the table: $before -> $after"
}
sed 's/^      nights:      { type: int }$/      nights:      { type: string }/' \
    "$TESTENV_DIR/gained.yaml" > "$TESTENV_DIR/retyped.yaml"
refused retyped "$TESTENV_DIR/retyped.yaml" 'column nights is bigint, the schema says text: zetl adds columns but changes no type'
grep -v '^      channel:' "$TESTENV_DIR/gained.yaml" > "$TESTENV_DIR/dropped.yaml"
refused dropped "$TESTENV_DIR/dropped.yaml" 'has a column channel that the schema does not'
testenv_pass
