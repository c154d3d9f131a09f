#!/usr/bin/env bash
# PostgreSQL extraction benchmark: N rows (default 1 000 000) of a bookings-shaped table read by
# zetl's PostgreSQL source path (zetl-bench-extract: one snapshot, a server-side cursor, pages of
# page_size rows as JSON, each converted into a record) next to the limit measured in the same
# run on the same rows: a plain `COPY (SELECT … ORDER BY updated_at, booking_id) TO STDOUT`.
# Prints rows/s of both and the ratio; best of 3 runs each. Exits 1 below the target ratio 0.7.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
rows=${ZETL_BENCH_RECORDS:-1000000}
tool="$ZETL_BIN/tests/zetl-bench-extract"
testenv_need "$tool"

testenv_psql "CREATE TABLE orders (booking_id text PRIMARY KEY, hotel_id bigint NOT NULL,
    guest_email text, amount numeric, currency text, status text, check_in date, nights bigint,
    channel text, updated_at timestamptz NOT NULL)" >/dev/null
testenv_psql "INSERT INTO orders SELECT 'B' || lpad(n::text, 9, '0'), 1 + n % 997,
    'guest' || n || '@example.com', round((n % 100000) * 0.37, 2), 'EUR', 'confirmed',
    date '2026-12-01' + n % 90, 1 + n % 14, 'web', timestamptz '2026-10-01' + n * interval '1 second'
    FROM generate_series (1, $rows) n" >/dev/null
testenv_psql "CREATE INDEX ON orders (updated_at, booking_id)" >/dev/null
testenv_psql "VACUUM ANALYZE orders" >/dev/null

bookings_config "$TESTENV_DIR/c.yaml" unused c
sed -i "s|^    source: .*|    source: { type: postgres, table: orders, key: [booking_id], settle: 0s }|" "$TESTENV_DIR/c.yaml"

best () {  # best "CMD": the best rows/s of 3 runs of CMD, which prints "rows seconds rows/s"
    local run out best=0 rate
    for run in 1 2 3; do
        out=$(eval "$1")
        [ "$(echo "$out" | cut -d' ' -f1)" = "$rows" ] || testenv_fail "read $(echo "$out" | cut -d' ' -f1) rows, not $rows"
        rate=$(echo "$out" | cut -d' ' -f3)
        [ "$rate" -le "$best" ] || best=$rate
    done
    echo "$best"
}
copy_once () {
    local start end
    start=$(testenv_now_us)
    testenv_psql "COPY (SELECT $BOOKINGS_COLUMNS FROM orders ORDER BY updated_at, booking_id) TO STDOUT" > "$TESTENV_DIR/copy.out"
    end=$(testenv_now_us)
    awk -v n="$(wc -l < "$TESTENV_DIR/copy.out")" -v us=$((end - start)) \
        'BEGIN { printf "%d %.3f %.0f\n", n, us / 1e6, n / (us / 1e6) }'
}
limit=$(best copy_once)
zetl=$(best "'$tool' '$TESTENV_DIR/c.yaml' bookings-etl")
ratio=$(awk -v z="$zetl" -v l="$limit" 'BEGIN { printf "%.2f", z / l }')
echo "extract_bench: $rows rows; COPY (SELECT) TO STDOUT $limit rows/s; zetl extraction $zetl rows/s; ratio $ratio (target >= 0.70)"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.7) }' || testenv_fail "extraction at $ratio of COPY, below 0.70"
testenv_pass
