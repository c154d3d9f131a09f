#!/usr/bin/env bash
# PostgreSQL source. A table `orders` in another database is extracted incrementally (schedule 1 s,
# settle 1 s, pages of 500 rows, lookback 2 min) by a cluster run by `zetlctl up`, while another
# connection keeps inserting and updating it:
#   - 20 000 rows first, 3 000 of them sharing one updated_at (many page edges fall inside them),
#   - bursts of rows inserted in one transaction (one updated_at for the whole burst) and updates
#     of rows already extracted,
#   - a transaction that inserts a row and commits seconds later, after extractions have passed
#     its updated_at, and a row inserted with an updated_at 30 s in the past: both inside the
#     lookback, so the next runs still find them.
# The target must end equal to the source table, nothing dead-lettered. Then `zetlctl refresh
# --force` re-reads the whole table: every row once more, the table unchanged. Finally a
# full_refresh pipeline with delete_missing: after rows are deleted from the source, exactly
# their keys are marked deleted in the target and the live view equals the source.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start

testenv_psql_in postgres "CREATE DATABASE shop" >/dev/null
testenv_psql_in shop "CREATE TABLE orders (
    booking_id text PRIMARY KEY, hotel_id bigint NOT NULL, guest_email text, amount numeric,
    currency text, status text, check_in date, nights bigint, channel text,
    updated_at timestamptz NOT NULL)" >/dev/null
#  20 000 rows over the last hour, 3 000 of them at one instant
testenv_psql_in shop "INSERT INTO orders
    SELECT 'B' || lpad(n::text, 7, '0'), 1 + n % 97, 'guest' || n || '@example.com',
           round((n % 1000) * 1.37, 2), 'EUR', 'new', date '2026-12-01' + n % 60, 1 + n % 7, 'web',
           CASE WHEN n BETWEEN 5000 AND 7999 THEN now () - interval '40 minutes'
                ELSE now () - interval '1 hour' + n * interval '150 milliseconds' END
    FROM generate_series (1, 20000) n" >/dev/null

source_conninfo="host=$TESTENV_PG_DIR port=$PGPORT dbname=shop user=$PGUSER"
pg_source () {  # the postgres source line of pipeline config FILE, with MODE and EXTRA keys
    local file=$1 mode=$2 extra=$3
    sed -i "s|^    source: .*|    source: { type: postgres, conninfo: \"$source_conninfo\", table: orders, mode: $mode, key: [booking_id], $extra }|" "$file"
}
bookings_config "$TESTENV_DIR/c.yaml" unused c
pg_source "$TESTENV_DIR/c.yaml" incremental "lookback: 2m, settle: 1s, schedule: 1s, page_size: 500"

#  The same rows, the same columns and order, from the source and from the target
source_md5 () {
    testenv_psql_in shop "COPY (SELECT $BOOKINGS_COLUMNS FROM orders ORDER BY booking_id) TO STDOUT" \
        | md5sum | cut -d' ' -f1
}
target_equals_source () {
    [ "$(source_md5)" = "$(bookings_table_md5)" ]
}

testenv_start up "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --run-dir "$TESTENV_DIR/run"
testenv_wait_until 120 bookings_loaded_at_least 20000

#  The writer: 15 s of bursts and updates, a late commit, a row with an older updated_at
"$TESTENV_PYTHON" - "$source_conninfo" <<'PY'
import random, sys, time
import psycopg2
random.seed(7)
conn = psycopg2.connect(sys.argv[1])
late = psycopg2.connect(sys.argv[1])
cur, late_cur = conn.cursor(), late.cursor()
late_cur.execute("""INSERT INTO orders VALUES ('LATE-COMMIT', 5, 'late@example.com', 9.99, 'EUR',
                   'new', '2026-12-24', 2, 'phone', now())""")   # committed in 5 s
late_opened = time.time()
number, end = 30000, time.time() + 15
while time.time() < end:
    burst = [(f"B{number + i:07d}", 1 + i % 97, f"burst{number + i}@example.com",
              round(random.random() * 500, 2), "EUR", "new", "2026-12-10", 3, "app")
             for i in range(200)]
    number += 200
    cur.executemany("INSERT INTO orders VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())", burst)
    cur.execute("""UPDATE orders SET amount = amount + 1, status = 'confirmed',
                   updated_at = clock_timestamp ()
                   WHERE booking_id IN (SELECT booking_id FROM orders ORDER BY random () LIMIT 100)""")
    conn.commit()
    if late_opened and time.time() - late_opened > 5:
        late.commit()            # its updated_at is 5 s old by now: extractions have passed it
        late_opened = None
    time.sleep(0.1)              # pacing of the writer: about 10 bursts a second
cur.execute("""INSERT INTO orders VALUES ('OLDER-TS', 6, 'older@example.com', 1.00, 'EUR', 'new',
               '2026-12-25', 1, 'phone', now() - interval '30 seconds')""")
conn.commit()
PY

testenv_wait_until 120 target_equals_source
[ "$(testenv_psql "SELECT count(*) FROM bookings WHERE booking_id IN ('LATE-COMMIT', 'OLDER-TS')")" = 2 ] \
    || testenv_fail "the late-committed rows did not arrive"
dead=$(testenv_psql "SELECT count(*) FROM zetl_dead_letters")
[ "$dead" = 0 ] || testenv_fail "$dead dead letters: $(testenv_psql "SELECT reason, error FROM zetl_dead_letters LIMIT 3")"
[ -n "$(testenv_psql "SELECT state FROM zetl_checkpoints WHERE source = 'pg:orders'")" ] \
    || testenv_fail "no extraction watermark in zetl_checkpoints"

#  A forced refresh reads every row again; the table stays as it is
rows=$(testenv_psql_in shop "SELECT count(*) FROM orders")
#  (Each run re-reads the rows of the last lookback too, so the counters keep moving: --wait
#  returns once the forced run is committed everywhere)
counted () { testenv_psql "SELECT sum(changed + unchanged + deduplicated) FROM zetl_stats"; }
before=$(counted)
"$TESTENV_ZETLCTL" refresh --config "$TESTENV_DIR/c.yaml" bookings-etl --force --wait --timeout 120 \
    > "$TESTENV_DIR/refresh.out" || testenv_fail "zetlctl refresh --force failed"
after=$(counted)
[ $((after - before)) -ge "$rows" ] \
    || testenv_fail "the forced refresh counted $((after - before)) records, not all $rows rows"
target_equals_source || testenv_fail "the table changed after a forced refresh"
[ "$(testenv_psql "SELECT count(*) FROM zetl_offsets WHERE source LIKE 'pg:orders@run-%'")" -le \
  "$(testenv_psql "SELECT 2 * count(DISTINCT partition) FROM zetl_offsets")" ] \
    || testenv_fail "finished runs left their rows in zetl_offsets"

#  A failing extraction (its key column gone) leaves the watermark where it was; once the
#  column is back the next run reads on from there, the row written meanwhile included
watermark () { testenv_psql "SELECT state FROM zetl_checkpoints WHERE source = 'pg:orders'"; }
failed_runs () { grep -c '"event":"extraction_failed"' "$TESTENV_DIR/run/logs/coordinator.log" || true; }
before=$(watermark)
testenv_psql_in shop "ALTER TABLE orders RENAME COLUMN booking_id TO bid;
                      INSERT INTO orders VALUES ('DURING-FAILURE', 7, 'x@example.com', 2.00, 'EUR', 'new',
                                                 '2026-12-26', 1, 'web', now () - interval '5 seconds')" >/dev/null
extraction_failed_twice () { [ "$(failed_runs)" -ge 2 ]; }
testenv_wait_until 60 extraction_failed_twice
[ "$(watermark)" = "$before" ] || testenv_fail "a failed extraction moved the watermark: $before -> $(watermark)"
testenv_psql_in shop "ALTER TABLE orders RENAME COLUMN bid TO booking_id" >/dev/null
testenv_wait_until 60 target_equals_source
testenv_stop up

#  full_refresh with delete_missing, in a database of its own, run by `zetlctl up --once`
testenv_psql_in postgres "CREATE DATABASE zetl_full" >/dev/null
bookings_config "$TESTENV_DIR/full.yaml" unused full "    delete_field: _deleted"
pg_source "$TESTENV_DIR/full.yaml" full_refresh "delete_missing: true"
bookings_up full1 "$TESTENV_DIR/full.yaml" zetl_full
[ "$(source_md5)" = "$(bookings_table_md5 zetl_full)" ] || testenv_fail "the first full refresh differs from the source"
testenv_psql_in shop "DELETE FROM orders WHERE booking_id IN (SELECT booking_id FROM orders ORDER BY md5 (booking_id) LIMIT 500);
                      UPDATE orders SET status = 'cancelled', updated_at = now () WHERE hotel_id = 3" >/dev/null
bookings_up full2 "$TESTENV_DIR/full.yaml" zetl_full
gone=$(testenv_psql_in zetl_full "SELECT count(*) FROM bookings WHERE zetl_deleted")
[ "$gone" = 500 ] || testenv_fail "$gone rows marked deleted, not the 500 deleted from the source"
live_md5=$(testenv_psql_in zetl_full "COPY (SELECT $BOOKINGS_COLUMNS FROM bookings_live ORDER BY booking_id) TO STDOUT" | md5sum | cut -d' ' -f1)
[ "$(source_md5)" = "$live_md5" ] || testenv_fail "the live view differs from the source after delete_missing"
bookings_reconciliation_ok "$TESTENV_DIR/full2.out" || testenv_fail "the full refresh does not reconcile: $(cat "$TESTENV_DIR/full2.out")"
testenv_pass
