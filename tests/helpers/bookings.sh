# bookings.sh - the bookings pipeline of zetl's integration tests, and its reference
#
# Sourced after testenv.sh. bookings_config writes a pipeline reading a JSONL glob into the
# table bookings, with every endpoint an ipc:// path in the test's work dir (no fixed ports).
# bookings_reference_md5 computes, by SQL alone, what the table must hold for an input file:
# the latest version (by updated_at) of each booking_id, and prints the md5 of its ordered COPY
# text; bookings_table_md5 prints the same for the loaded table.

export PGTZ=UTC
BOOKINGS_COLUMNS="booking_id, hotel_id, guest_email, amount, currency, status, check_in, nights, channel, updated_at"

#  bookings_config FILE GLOB [NAME] [EXTRA_YAML]: write the configuration to FILE.
bookings_config () {
    local file=$1 glob=$2 name=${3:-c} extra=${4:-}
    cat > "$file" <<YAML
cluster:
  name: test
  workers: ipc://$TESTENV_DIR/$name-workers.ipc
  sinks: ipc://$TESTENV_DIR/$name-sinks.ipc
  producers: ipc://$TESTENV_DIR/$name-producers.ipc
  events: ipc://$TESTENV_DIR/$name-events.ipc
pipelines:
  - id: bookings-etl
    source: { type: file, path: "$glob", format: jsonl }
    id_field: booking_id
    partition_key: hotel_id
    partitions: ${BOOKINGS_PARTITIONS:-16}
    event_time: { field: updated_at, format: iso8601 }
    batch_size: 1000
    batch_linger: 50ms
    batch_timeout: 10s
$extra
    schema:
      booking_id:  { type: string, required: true }
      hotel_id:    { type: int, required: true }
      guest_email: { type: string }
      amount:      { type: number }
      currency:    { type: string }
      status:      { type: string }
      check_in:    { type: date }
      nights:      { type: int }
      channel:     { type: string }
      updated_at:  { type: timestamp, required: true }
    sinks:
      - { type: postgres, table: bookings, primary_key: [booking_id] }
YAML
}

#  bookings_load_raw FILE [DATABASE]: the raw lines of FILE, untouched, in table zetl_test_raw
#  (CSV mode with quote and delimiter bytes JSON never holds)
bookings_load_raw () {
    local file=$1 db=${2:-zetl}
    testenv_psql_in "$db" "DROP TABLE IF EXISTS zetl_test_raw; CREATE TABLE zetl_test_raw (line jsonb)" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
        -c "\\copy zetl_test_raw FROM '$file' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')" >/dev/null
}

#  bookings_latest_sql: a query over zetl_test_raw giving the latest version (by updated_at) of
#  each booking_id, with the bookings columns, in no order
bookings_latest_sql () {
    echo "SELECT DISTINCT ON (booking_id) $BOOKINGS_COLUMNS FROM (
          SELECT line->>'booking_id' AS booking_id, (line->>'hotel_id')::bigint AS hotel_id,
                 line->>'guest_email' AS guest_email, (line->>'amount')::numeric AS amount,
                 line->>'currency' AS currency, line->>'status' AS status,
                 (line->>'check_in')::date AS check_in, (line->>'nights')::bigint AS nights,
                 line->>'channel' AS channel, (line->>'updated_at')::timestamptz AS updated_at
          FROM zetl_test_raw) r
        ORDER BY booking_id, updated_at DESC"
}

#  bookings_reference_md5 FILE [DATABASE]: md5 of what bookings must hold for input FILE.
bookings_reference_md5 () {
    local file=$1 db=${2:-zetl}
    bookings_load_raw "$file" "$db"
    testenv_psql_in "$db" "COPY ($(bookings_latest_sql)) TO STDOUT" | md5sum | cut -d' ' -f1
}

#  bookings_table_md5 [DATABASE]: md5 of the loaded table, same columns and order.
bookings_table_md5 () {
    local db=${1:-zetl}
    testenv_psql_in "$db" "COPY (SELECT $BOOKINGS_COLUMNS FROM bookings ORDER BY booking_id) TO STDOUT" \
        | md5sum | cut -d' ' -f1
}

#  bookings_reconciliation_ok FILE: FILE holds the coordinator's reconciliation line, balanced.
bookings_reconciliation_ok () {
    grep -q '"pipeline":"bookings-etl"' "$1" && grep -q '"balanced":true' "$1"
}

#  bookings_field FILE KEY: a number from the reconciliation line in FILE.
bookings_field () {
    grep -o "\"$2\":[0-9]*" "$1" | head -1 | cut -d: -f2
}

#  bookings_check OUT INPUT [DATABASE]: the run whose reconciliation is in OUT read every line
#  of INPUT once (records_in = its lines), balances, and left the table equal to the reference.
bookings_check () {
    local out=$1 input=$2 db=${3:-zetl} lines expected actual
    lines=$(wc -l < "$input")
    bookings_reconciliation_ok "$out" || testenv_fail "reconciliation does not balance: $(cat "$out")"
    [ "$(bookings_field "$out" records_in)" = "$lines" ] \
        || testenv_fail "records_in is not the $lines input lines: $(cat "$out")"
    expected=$(bookings_reference_md5 "$input" "$db")
    actual=$(bookings_table_md5 "$db")
    [ "$expected" = "$actual" ] || testenv_fail "table differs from the reference ($actual != $expected)"
}

#  bookings_up NAME CONFIG [DATABASE] [up options...]: run `zetlctl up --once` with CONFIG into
#  DATABASE (default zetl), run dir $TESTENV_DIR/run-NAME; the reconciliation goes to
#  $TESTENV_DIR/NAME.out and the log to $TESTENV_DIR/NAME.log. Fails the test if it fails.
bookings_up () {
    local name=$1 config=$2 db=${3:-zetl}
    shift $(($# < 3 ? $# : 3))
    ZETL_POSTGRES="${ZETL_POSTGRES/dbname=zetl/dbname=$db}" \
        "$TESTENV_ZETLCTL" up --config "$config" --once --run-dir "$TESTENV_DIR/run-$name" "$@" \
        > "$TESTENV_DIR/$name.out" 2>> "$TESTENV_DIR/$name.log" \
        || testenv_fail "zetlctl up --once ($name) failed: $(tail -5 "$TESTENV_DIR/$name.log")"
}

#  bookings_gen COUNT SEED DIR: the standard test stream (30 % disorder, 5 % exact duplicates,
#  20 % of bookings with later versions) as DIR/bookings.jsonl
bookings_gen () {
    mkdir -p "$3"
    "$TESTENV_ZETLCTL" gen bookings --count "$1" --disorder 0.3 --duplicates 0.05 \
        --versions 0.2 --seed "$2" --out "$3/bookings.jsonl" 2>/dev/null
}

#  bookings_loaded_at_least N: the sinks have committed at least N rows (changed or unchanged)
bookings_loaded_at_least () {
    local n
    n=$(testenv_psql "SELECT coalesce(sum(changed + unchanged), 0) FROM zetl_stats" 2>/dev/null) || return 1
    [ "${n:-0}" -ge "$1" ]
}

#  bookings_counted N: at least N records are committed (loaded, dead-lettered or deduplicated)
bookings_counted () {
    local n
    n=$(testenv_psql "SELECT coalesce(sum(changed + unchanged + dead_lettered + deduplicated), 0) FROM zetl_stats" 2>/dev/null) || return 1
    [ "${n:-0}" -ge "$1" ]
}

#  bookings_idle: nothing more is committed for 2 s
bookings_idle () {
    local before after
    before=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
    testenv_psql "SELECT pg_sleep(2)" >/dev/null
    after=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
    [ "$before" = "$after" ]
}
