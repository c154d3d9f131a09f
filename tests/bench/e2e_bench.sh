#!/usr/bin/env bash
# End-to-end benchmark: N generated bookings (default 1 000 000) through zetl (2 workers, 1 sink
# with 2 connections, transactions of 10 000 rows) into PostgreSQL, next to the limit measured in
# the same run on the same rows: zetl-bench-pglimit, a minimal libpq program doing the same COPY
# + last-write-wins upsert in transactions of the same size, on one connection and on two.
# Prints records/s, the ratio to the one-connection limit, CPU-seconds per million records of
# zetl's own processes and each process's peak RSS; then the coordinator's peak RSS for 3x the
# records, to show it does not grow with input size; then the same run without acknowledgements
# and checkpoints (acknowledgements: false: a batch is done once its worker hands it on, and the
# sink neither locks nor writes positions), to print what they cost. Exits 1 if a target is
# missed: ratio >= 0.7, CPU <= 1.5 s per million records, coordinator RSS at 3N <= 1.25 x at N,
# throughput with acknowledgements >= 0.85 x without.
# ZETL_BENCH_RECORDS sets N; ZETL_BENCH_SKIP_3X=1 skips the 3N run; ZETL_BENCH_SKIP_ACKS=1 the run
# without acknowledgements; ZETL_BENCH_PIPELINE adds YAML lines to the pipeline (e.g.
# "    dedup_window: 0s" to compare without deduplication).
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
records=${ZETL_BENCH_RECORDS:-1000000}
export BOOKINGS_PARTITIONS=64  # as in the example configuration
pglimit="$ZETL_BIN/tests/zetl-bench-pglimit"
testenv_need "$pglimit"

gen () {  # gen COUNT DIR
    mkdir -p "$2"
    "$TESTENV_ZETLCTL" gen bookings --count "$1" --disorder 0.3 --duplicates 0.05 --versions 0.2 \
        --seed 11 --out "$2/bookings.jsonl" 2>/dev/null
}

#  zetl_run NAME DIR [YAML]: load DIR into database NAME, YAML lines added to the pipeline; prints "seconds cpu_ms coordinator_rss_kb" and
#  leaves the per-process figures in $TESTENV_DIR/NAME.procs
zetl_run () {
    local name=$1 dir=$2 yaml=${3:-} start end
    testenv_psql "CREATE DATABASE $name" >/dev/null
    bookings_config "$TESTENV_DIR/$name.yaml" "$dir/*.jsonl" "$name" "${ZETL_BENCH_PIPELINE:-}
$yaml"
    start=$(testenv_now_us)
    bookings_up "$name" "$TESTENV_DIR/$name.yaml" "$name" --workers 2 --sinks 1
    end=$(testenv_now_us)
    bookings_reconciliation_ok "$TESTENV_DIR/$name.out" || testenv_fail "$name does not balance"
    grep '"event":"child_exited"' "$TESTENV_DIR/$name.log" \
        | sed -E 's/.*"child":"([^"]*)".*"cpu_ms":([0-9]+),"max_rss_kb":([0-9]+).*/\1 \2 \3/' \
        > "$TESTENV_DIR/$name.procs"
    awk -v us=$((end - start)) '{ cpu += $2; if ($1 == "coordinator") rss = $3 }
        END { printf "%.3f %d %d\n", us / 1e6, cpu, rss }' "$TESTENV_DIR/$name.procs"
}

gen "$records" "$TESTENV_DIR/n"
lines=$(wc -l < "$TESTENV_DIR/n/bookings.jsonl")

#  The limit's rows: the same lines, typed by PostgreSQL, in file order, as COPY text
testenv_psql "CREATE TABLE raw (id bigserial, line jsonb)" >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -c "\\copy raw (line) FROM '$TESTENV_DIR/n/bookings.jsonl' WITH (FORMAT csv, QUOTE e'\\x01', DELIMITER e'\\x02')"
testenv_psql "COPY (SELECT line->>'booking_id', (line->>'hotel_id')::bigint, line->>'guest_email',
    (line->>'amount')::numeric, line->>'currency', line->>'status', (line->>'check_in')::date,
    (line->>'nights')::bigint, line->>'channel', (line->>'updated_at')::timestamptz, 0,
    decode(md5(line::text), 'hex') FROM raw ORDER BY id) TO STDOUT" > "$TESTENV_DIR/rows.copy"
columns="booking_id,hotel_id,guest_email,amount,currency,status,check_in,nights,channel,updated_at,zetl_lut_gen,zetl_hash"
limit () {  # limit CONNECTIONS: rows/s
    local table=limit_$1
    testenv_psql "CREATE TABLE $table (booking_id text PRIMARY KEY, hotel_id bigint, guest_email text,
        amount numeric, currency text, status text, check_in date, nights bigint, channel text,
        updated_at timestamptz, zetl_lut_gen bigint NOT NULL DEFAULT 0, zetl_hash bytea NOT NULL,
        zetl_deleted boolean NOT NULL DEFAULT false)" >/dev/null
    "$pglimit" "$TESTENV_DIR/rows.copy" "$table" "$columns" booking_id updated_at "$1" 10000 1 \
        | awk '{ print $6 }'
}
limit1=$(limit 1)
limit2=$(limit 2)

read -r seconds cpu_ms rss_n < <(zetl_run zetl_n "$TESTENV_DIR/n")
rate=$(awk -v l="$lines" -v s="$seconds" 'BEGIN { printf "%.0f", l / s }')
ratio=$(awk -v r="$rate" -v l="$limit1" 'BEGIN { printf "%.2f", r / l }')
cpu_per_m=$(awk -v c="$cpu_ms" -v l="$lines" 'BEGIN { printf "%.2f", c / 1000 / (l / 1e6) }')

echo "records $lines"
echo "limit: 1 connection $limit1 rows/s, 2 connections $limit2 rows/s"
echo "zetl: $rate records/s in $seconds s, ratio to the 1-connection limit $ratio (limit 0.70)"
echo "zetl CPU: $cpu_per_m CPU-seconds per million records (limit 1.50), by process:"
awk '{ printf "  %-12s cpu %6.2f s  peak RSS %7.1f MiB\n", $1, $2 / 1000, $3 / 1024 }' "$TESTENV_DIR/zetl_n.procs"

fail=0
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.70) }' || { echo "FAIL: ratio $ratio < 0.70"; fail=1; }
awk -v c="$cpu_per_m" 'BEGIN { exit !(c <= 1.50) }' || { echo "FAIL: $cpu_per_m CPU-s per million > 1.50"; fail=1; }

if [ "${ZETL_BENCH_SKIP_ACKS:-0}" != 1 ]; then
    read -r seconds_off _ _ < <(zetl_run zetl_noack "$TESTENV_DIR/n" "    acknowledgements: false")
    rate_off=$(awk -v l="$lines" -v s="$seconds_off" 'BEGIN { printf "%.0f", l / s }')
    ratio_off=$(awk -v r="$rate_off" -v l="$limit1" 'BEGIN { printf "%.2f", r / l }')
    cost=$(awk -v on="$rate" -v off="$rate_off" 'BEGIN { printf "%.2f", on / off }')
    echo "without acknowledgements and checkpoints: $rate_off records/s, ratio to the limit $ratio_off;" \
         "with them / without: $cost (limit 0.85)"
    [ "$(bookings_table_md5 zetl_noack)" = "$(bookings_table_md5 zetl_n)" ] \
        || { echo "FAIL: the run without acknowledgements loaded another table"; fail=1; }
    awk -v c="$cost" 'BEGIN { exit !(c >= 0.85) }' || { echo "FAIL: acknowledgements cost more than 15 %"; fail=1; }
fi

if [ "${ZETL_BENCH_SKIP_3X:-0}" != 1 ]; then
    gen $((records * 3)) "$TESTENV_DIR/n3"
    read -r seconds3 _ rss_3n < <(zetl_run zetl_3n "$TESTENV_DIR/n3")
    growth=$(awk -v a="$rss_n" -v b="$rss_3n" 'BEGIN { printf "%.2f", b / a }')
    echo "coordinator peak RSS: $((rss_n / 1024)) MiB at $lines records, $((rss_3n / 1024)) MiB at 3x ($seconds3 s); growth $growth (limit 1.25)"
    awk -v g="$growth" 'BEGIN { exit !(g <= 1.25) }' || { echo "FAIL: coordinator RSS grows with input"; fail=1; }
fi
[ "$fail" = 0 ] && testenv_pass
exit 1
