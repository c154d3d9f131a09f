#!/usr/bin/env bash
# Enrichment from Redis lookup tables, end to end, with a real Redis and PostgreSQL:
#   1. bookings enriched with region and hotel_name from a hotels table equal a reference join
#      computed in SQL from the same CSV (hotels missing from the CSV give nulls: on_miss null);
#      every row carries the version it used (zetl_lut_gen);
#   2. Redis is stopped for 10 s mid-run and started again, empty: the cache is too small to hold
#      the table, so batches wait; the table is loaded again, as a new version (a fresh Redis never
#      reuses a number), so batches pinned to the lost one are pinned again (LUT_GONE); the result
#      still equals the reference and nothing is dead-lettered;
#   3. a changed table is loaded mid-run and a worker is SIGKILLed right after: every row holds
#      the values of the version it carries, both versions are in the table, records read after
#      the switch carry the new one; a malformed CSV loaded meanwhile is refused with its line
#      and changes nothing.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
source "$(dirname "$0")/../helpers/redis.sh"
testenv_init
testenv_pg_start
testenv_redis_start
count=${ZETL_TEST_RECORDS:-100000}

bookings_gen "$count" 17 "$TESTENV_DIR/in"
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")

#  Hotels 1..500, less every 50th: the CSV and the reference both come from PostgreSQL
"$TESTENV_ZETLCTL" gen hotels --hotels 500 --seed 3 --output "$TESTENV_DIR/all-hotels.csv"
testenv_psql "CREATE TABLE hotels_all (hotel_id bigint, hotel_name text, region text, city text)"
psql -X -q -v ON_ERROR_STOP=1 -d zetl \
    -c "\\copy hotels_all FROM '$TESTENV_DIR/all-hotels.csv' WITH (FORMAT csv, HEADER)"
testenv_psql "CREATE TABLE hotels_v1 AS SELECT * FROM hotels_all WHERE hotel_id % 50 <> 0;
              CREATE TABLE hotels_v2 AS SELECT hotel_id, hotel_name || ' II' AS hotel_name,
                                               region || '-2' AS region, city FROM hotels_v1"
for version in v1 v2; do
    psql -X -q -v ON_ERROR_STOP=1 -d zetl \
        -c "\\copy (SELECT * FROM hotels_$version ORDER BY hotel_id) TO '$TESTENV_DIR/hotels-$version.csv' WITH (FORMAT csv, HEADER)"
done
printf 'hotel_id,hotel_name,region,city\n1,A,north,x\n2,"B,south,y\n' > "$TESTENV_DIR/bad.csv"

#  lut_load FILE: load FILE as table hotels; prints its version
lut_load () {
    "$TESTENV_ZETLCTL" lut load "$1" --table hotels --key hotel_id | grep -o '"version":[0-9]*' | cut -d: -f2
}

#  The pipeline, into DATABASE, with the lookup cache's keys LOOKUP
enrich_config () {
    local file=$1 name=$2 lookup=$3
    bookings_config "$file" "$input" "$name" "    enrich:
      - table: hotels
        key: hotel_id
        fields: { region: region, hotel_name: hotel_name }
        on_miss: null"
    echo "lookup: { $lookup }" >> "$file"
}

#  enrich_reference_md5 TABLE DATABASE: the latest version of each booking joined with TABLE
enrich_reference_md5 () {
    local hotels=$1 db=$2
    bookings_load_raw "$input" "$db"
    testenv_psql_in "$db" "COPY (SELECT b.*, h.region, h.hotel_name FROM ($(bookings_latest_sql)) b
        LEFT JOIN $hotels h USING (hotel_id) ORDER BY booking_id) TO STDOUT" | md5sum | cut -d' ' -f1
}

enrich_table_md5 () {
    testenv_psql_in "$1" "COPY (SELECT $BOOKINGS_COLUMNS, region, hotel_name FROM bookings
                               ORDER BY booking_id) TO STDOUT" | md5sum | cut -d' ' -f1
}

#  loaded_at_least DATABASE N: the sinks have committed at least N records there
loaded_at_least () {
    local n
    n=$(testenv_psql_in "$1" "SELECT coalesce(sum(changed + unchanged), 0) FROM zetl_stats" \
        2>/dev/null) || return 1
    [ "${n:-0}" -ge "$2" ]
}

#  run_cluster NAME CONFIG DATABASE: coordinator (--once), two workers and a sink
run_cluster () {
    local name=$1 config=$2 db=$3
    local conninfo="${ZETL_POSTGRES/dbname=zetl/dbname=$db}"
    ZETL_POSTGRES=$conninfo testenv_start "$name-coordinator" "$TESTENV_COORDINATOR" \
        --config "$config" --once
    COORDINATOR=$TESTENV_PID
    for index in 1 2; do
        ZETL_POSTGRES=$conninfo testenv_start "$name-worker-$index" "$TESTENV_WORKER" \
            --coordinator "ipc://$TESTENV_DIR/$name-workers.ipc" --name "worker-$index"
    done
    ZETL_POSTGRES=$conninfo testenv_start "$name-sink" "$TESTENV_SINK" \
        --coordinator "ipc://$TESTENV_DIR/$name-sinks.ipc" --name sink-1
}

#  finish NAME DATABASE: wait for the coordinator, check the reconciliation and no dead letters
finish () {
    local name=$1 db=$2 rc=0
    wait "$COORDINATOR" || rc=$?
    [ "$rc" = 0 ] || testenv_fail "$name: the coordinator exited with $rc"
    grep '"pipeline":"bookings-etl"' "$TESTENV_DIR/$name-coordinator.log" | grep -v '"level"' \
        > "$TESTENV_DIR/$name.out" || true
    bookings_reconciliation_ok "$TESTENV_DIR/$name.out" \
        || testenv_fail "$name: reconciliation does not balance: $(cat "$TESTENV_DIR/$name.out")"
    [ "$(bookings_field "$TESTENV_DIR/$name.out" records_in)" = "$lines" ] \
        || testenv_fail "$name: records_in is not $lines"
    local dead
    dead=$(testenv_psql_in "$db" "SELECT count(*) FROM zetl_dead_letters")
    [ "$dead" = 0 ] || testenv_fail "$name: $dead dead letters: $(testenv_psql_in "$db" \
        "SELECT reason, error FROM zetl_dead_letters LIMIT 3")"
    local worker
    for worker in "$name-worker-1" "$name-worker-2" "$name-worker-1b"; do
        [ -z "${TESTENV_PID_OF[$worker]:-}" ] || testenv_stop "$worker" TERM
    done
    testenv_stop "$name-sink" TERM
}

v1=$(lut_load "$TESTENV_DIR/hotels-v1.csv")
[ -n "$v1" ] || testenv_fail "lut load of hotels-v1.csv printed no version"

#  1. A straight run
testenv_psql "CREATE DATABASE plain"
enrich_config "$TESTENV_DIR/plain.yaml" plain "cache_entries: 1000"
run_cluster plain "$TESTENV_DIR/plain.yaml" plain
finish plain plain
psql -X -q -v ON_ERROR_STOP=1 -d plain -c "CREATE TABLE hotels_v1 (hotel_id bigint, hotel_name text, region text, city text)" \
    -c "\\copy hotels_v1 FROM '$TESTENV_DIR/hotels-v1.csv' WITH (FORMAT csv, HEADER)"
[ "$(enrich_reference_md5 hotels_v1 plain)" = "$(enrich_table_md5 plain)" ] \
    || testenv_fail "plain: enriched table differs from the reference join"
[ "$(testenv_psql_in plain "SELECT count(*) FROM bookings WHERE zetl_lut_gen <> $v1")" = 0 ] \
    || testenv_fail "plain: rows without lookup version $v1"
[ "$(testenv_psql_in plain "SELECT count(*) > 0 FROM bookings WHERE region IS NULL")" = t ] \
    || testenv_fail "plain: no booking of a hotel missing from the table (on_miss: null)"

#  2. Redis down for 10 s mid-run; a cache of 100 entries for 490 hotels, fresh for 50 ms
testenv_psql "CREATE DATABASE outage"
enrich_config "$TESTENV_DIR/outage.yaml" outage "cache_entries: 100, ttl: 50ms, max_stale: 1h"
run_cluster outage "$TESTENV_DIR/outage.yaml" outage
testenv_wait_until 120 loaded_at_least outage $((lines / 5))
#  The coordinator pauses (well inside the 3 s heartbeat rule) while Redis goes, so that the
#  rest of the run meets the outage however fast this machine is
kill -STOP "$COORDINATOR"
testenv_redis_stop
kill -CONT "$COORDINATOR"
sleep 10   # the outage itself: Redis stays down this long
testenv_redis_start
lut_load "$TESTENV_DIR/hotels-v1.csv" > /dev/null   # a fresh Redis: the table is loaded again
finish outage outage
psql -X -q -v ON_ERROR_STOP=1 -d outage -c "CREATE TABLE hotels_v1 (hotel_id bigint, hotel_name text, region text, city text)" \
    -c "\\copy hotels_v1 FROM '$TESTENV_DIR/hotels-v1.csv' WITH (FORMAT csv, HEADER)"
[ "$(enrich_reference_md5 hotels_v1 outage)" = "$(enrich_table_md5 outage)" ] \
    || testenv_fail "outage: enriched table differs from the reference join"
grep -q '"batches_waiting":[1-9]' "$TESTENV_DIR"/outage-worker-*.log \
    || testenv_fail "outage: no worker reports a batch that waited for Redis"
grep -q '"event":"peer_error".*"code":7' "$TESTENV_DIR/outage-coordinator.log" \
    || testenv_fail "outage: no batch pinned to the lost version was pinned again (LUT_GONE)"

#  3. A new version mid-run, a worker SIGKILLed just after; a malformed CSV refused
testenv_psql "CREATE DATABASE switch"
v1=$(lut_load "$TESTENV_DIR/hotels-v1.csv")
enrich_config "$TESTENV_DIR/switch.yaml" switch "cache_entries: 1000"
run_cluster switch "$TESTENV_DIR/switch.yaml" switch
testenv_wait_until 120 loaded_at_least switch $((lines / 4))
v2=$(lut_load "$TESTENV_DIR/hotels-v2.csv")
testenv_stop switch-worker-1 KILL
ZETL_POSTGRES="${ZETL_POSTGRES/dbname=zetl/dbname=switch}" testenv_start switch-worker-1b "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/switch-workers.ipc" \
    --name worker-1
if "$TESTENV_ZETLCTL" lut load "$TESTENV_DIR/bad.csv" --table hotels --key hotel_id \
        2> "$TESTENV_DIR/bad.err"; then
    testenv_fail "a malformed CSV was loaded"
fi
grep -q 'bad.csv:3' "$TESTENV_DIR/bad.err" || testenv_fail "the refusal does not name line 3: $(cat "$TESTENV_DIR/bad.err")"
[ "$(testenv_redis_cli HGET zetl:lut:hotels version)" = "$v2" ] \
    || testenv_fail "the refused CSV changed the current version"
finish switch switch
psql -X -q -v ON_ERROR_STOP=1 -d switch \
    -c "CREATE TABLE hotels_v (v bigint, hotel_id bigint, hotel_name text, region text, city text)" \
    -c "CREATE TABLE hotels_tmp (hotel_id bigint, hotel_name text, region text, city text)" \
    -c "\\copy hotels_tmp FROM '$TESTENV_DIR/hotels-v1.csv' WITH (FORMAT csv, HEADER)" \
    -c "INSERT INTO hotels_v SELECT $v1, * FROM hotels_tmp; TRUNCATE hotels_tmp" \
    -c "\\copy hotels_tmp FROM '$TESTENV_DIR/hotels-v2.csv' WITH (FORMAT csv, HEADER)" \
    -c "INSERT INTO hotels_v SELECT $v2, * FROM hotels_tmp"
wrong=$(testenv_psql_in switch "SELECT count(*) FROM bookings b LEFT JOIN hotels_v h
                                 ON h.v = b.zetl_lut_gen AND h.hotel_id = b.hotel_id
                                 WHERE b.zetl_lut_gen NOT IN ($v1, $v2)
                                    OR b.region IS DISTINCT FROM h.region
                                    OR b.hotel_name IS DISTINCT FROM h.hotel_name")
[ "$wrong" = 0 ] || testenv_fail "switch: $wrong rows hold values of another version than theirs"
for version in "$v1" "$v2"; do
    [ "$(testenv_psql_in switch "SELECT count(*) > 0 FROM bookings WHERE zetl_lut_gen = $version")" = t ] \
        || testenv_fail "switch: no row carries version $version"
done
#  Most batches went out after the switch: at least a third of the rows carry it
[ "$(testenv_psql_in switch "SELECT count(*) FILTER (WHERE zetl_lut_gen = $v2) * 3 >= count(*) FROM bookings")" = t ] \
    || testenv_fail "switch: fewer than a third of the rows carry the new version"
testenv_pass
