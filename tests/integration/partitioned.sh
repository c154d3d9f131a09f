#!/usr/bin/env bash
# Day-partitioned targets keep last-write-wins exactly. A stream of bookings whose versions move
# from day to day (check_in changes, some updated_at ties broken by hash, delete markers, exact
# duplicates) is loaded into a table partitioned by day, in several arrival orders (shuffles with
# different seeds), with partition_key nights so that the versions of one booking reach both
# connections of the sink. After each run every booking is in exactly one partition, the one of
# its day, the keys table agrees with the table, the reconciliation balances, and the table's
# content is byte for byte that of the same input loaded into a plain (unpartitioned) target.
# A last order partitions by updated_at (a timestamp: versions move within a day as well).
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
keys=${ZETL_TEST_KEYS:-20000}
seeds=${ZETL_TEST_SEEDS:-"1 2 3"}
extra="    delete_field: _deleted
    watermark_delay: 1d
    late_window: 30d
    dedup_window: 7d
    too_late: accept"

#  The stream: KEYS bookings, each with 1-5 versions in the last 3 days; a version moves
#  check_in to another day half of the time, one in 20 shares its updated_at with the version
#  before (the hash decides), one booking in 20 ends with a delete marker, 3 % of lines repeat.
mkdir -p "$TESTENV_DIR/gen"
"$TESTENV_PYTHON" - "$keys" "$TESTENV_DIR/gen/all.jsonl" <<'PY'
import datetime, json, random, sys
count, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(7)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
today = now.date()
lines = []
for number in range(count):
    key = "BK-%08d" % number
    at = now - datetime.timedelta(days=3) + datetime.timedelta(seconds=rng.randrange(129600))
    check_in = today - datetime.timedelta(days=rng.randrange(30))
    versions = rng.randint(1, 5)
    for version in range(versions):
        if version and rng.random() < 0.5:
            check_in = today - datetime.timedelta(days=rng.randrange(30))
        if version and rng.random() >= 0.05:
            at += datetime.timedelta(seconds=rng.randrange(1, 21600))
        record = {"booking_id": key, "hotel_id": rng.randint(1, 500),
                  "guest_email": "guest%d@example.com" % number,
                  "amount": "%d.%02d" % (rng.randint(50, 3000), rng.randrange(100)),
                  "currency": rng.choice(["EUR", "USD", "GBP"]),
                  "status": rng.choice(["new", "confirmed", "cancelled"]),
                  "check_in": check_in.isoformat(), "nights": rng.randint(1, 14),
                  "channel": rng.choice(["direct", "booking.com", "expedia"]),
                  "updated_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        if version == versions - 1 and number % 20 == 0:
            record["_deleted"] = True
        line = json.dumps(record).replace('"amount": "%s"' % record["amount"],
                                          '"amount": %s' % record["amount"])
        lines.append(line)
        if rng.random() < 0.03:
            lines.append(line)
open(out, "w").write("\n".join(lines) + "\n")
PY

#  shuffle SEED DIR: the stream in another arrival order, as DIR/bookings.jsonl
shuffle () {
    mkdir -p "$2"
    "$TESTENV_PYTHON" - "$1" "$TESTENV_DIR/gen/all.jsonl" "$2/bookings.jsonl" <<'PY'
import random, sys
lines = open(sys.argv[2]).readlines()
random.Random(int(sys.argv[1])).shuffle(lines)
open(sys.argv[3], "w").writelines(lines)
PY
}

#  load NAME INPUT [DAY_COLUMN]: load INPUT into database NAME, partitioned by DAY_COLUMN or
#  plain; partition_key nights spreads a booking's versions over both sink connections
load () {
    local name=$1 input=$2 day=${3:-} sink="primary_key: [booking_id] }"
    [ -z "$day" ] || sink="primary_key: [booking_id], partition_by_day: $day, max_future: 2d }"
    testenv_psql "CREATE DATABASE $name" >/dev/null
    bookings_config "$TESTENV_DIR/$name.yaml" "$input" "$name" "$extra"
    sed -i -e "s/partition_key: hotel_id/partition_key: nights/" \
        -e "s/primary_key: \[booking_id\] }/$sink/" "$TESTENV_DIR/$name.yaml"
    grep -q "connections" "$TESTENV_DIR/$name.yaml" && testenv_fail "the sink must use the default connections (2)"
    bookings_up "$name" "$TESTENV_DIR/$name.yaml" "$name"
    bookings_reconciliation_ok "$TESTENV_DIR/$name.out" \
        || testenv_fail "$name: the reconciliation does not balance: $(cat "$TESTENV_DIR/$name.out")"
    [ "$(bookings_field "$TESTENV_DIR/$name.out" records_in)" = "$(wc -l < "$input")" ] \
        || testenv_fail "$name: records_in is not the input's lines: $(cat "$TESTENV_DIR/$name.out")"
    [ "$(bookings_field "$TESTENV_DIR/$name.out" records_dead_lettered)" = 0 ] \
        || testenv_fail "$name: records were dead-lettered: $(testenv_psql_in "$name" "SELECT reason, error FROM zetl_dead_letters LIMIT 3")"
}

#  content DATABASE: the table's COPY text, every column, ordered by key
content () {
    testenv_psql_in "$1" "COPY (SELECT $BOOKINGS_COLUMNS, zetl_lut_gen, zetl_hash, zetl_deleted
                               FROM bookings ORDER BY booking_id) TO STDOUT"
}

#  check_layout DATABASE DAY_EXPRESSION DAYS: every row is in the leaf partition of its day,
#  once, there are at least DAYS partitions, and the keys table holds each key once with the
#  row's day and winner
check_layout () {
    local db=$1 day=$2 days=$3 n
    n=$(testenv_psql_in "$db" "SELECT count(*) FROM (SELECT booking_id FROM bookings GROUP BY 1
                               HAVING count(*) > 1) d")
    [ "$n" = 0 ] || testenv_fail "$db: $n bookings are in more than one partition"
    n=$(testenv_psql_in "$db" "SELECT count(*) FROM bookings b
                               WHERE tableoid::regclass::text <> 'bookings_p' || to_char($day, 'YYYYMMDD')")
    [ "$n" = 0 ] || testenv_fail "$db: $n rows are not in the partition of their day"
    n=$(testenv_psql_in "$db" "SELECT count(*) FROM pg_partition_tree('bookings') WHERE isleaf")
    [ "$n" -ge "$days" ] || testenv_fail "$db: only $n day partitions"
    n=$(testenv_psql_in "$db" "SELECT count(*) FROM bookings b FULL JOIN bookings_zetl_keys k USING (booking_id)
                               WHERE b.booking_id IS NULL OR k.booking_id IS NULL OR k.zetl_day <> $day
                               OR k.zetl_hash <> b.zetl_hash OR k.updated_at <> b.updated_at")
    [ "$n" = 0 ] || testenv_fail "$db: $n keys differ between bookings_zetl_keys and bookings"
}

#  The reference: the stream as generated, into a plain table
load plain "$TESTENV_DIR/gen/all.jsonl"
content plain > "$TESTENV_DIR/plain.copy"
rows=$(wc -l < "$TESTENV_DIR/plain.copy")
[ "$(testenv_psql_in plain "SELECT count(*) FROM bookings WHERE zetl_deleted")" -gt 0 ] \
    || testenv_fail "the stream holds no delete marker"
echo "reference: $(wc -l < "$TESTENV_DIR/gen/all.jsonl") lines, $rows rows"

for seed in $seeds; do
    shuffle "$seed" "$TESTENV_DIR/s$seed"
    load "p$seed" "$TESTENV_DIR/s$seed/bookings.jsonl" check_in
    check_layout "p$seed" b.check_in 30
    moved=$(testenv_psql_in "p$seed" "SELECT count(*) FROM bookings_zetl_keys WHERE zetl_moved_from IS NOT NULL")
    [ "$moved" -gt 0 ] || testenv_fail "p$seed: no key moved to another day"
    content "p$seed" > "$TESTENV_DIR/p$seed.copy"
    cmp -s "$TESTENV_DIR/plain.copy" "$TESTENV_DIR/p$seed.copy" \
        || testenv_fail "p$seed: the partitioned table differs from the plain one: $(diff "$TESTENV_DIR/plain.copy" "$TESTENV_DIR/p$seed.copy" | head -4)"
    echo "p$seed: shuffled with seed $seed, partitioned by check_in ($moved keys last moved day): table = plain table"
done

#  By a timestamp: a version moves within its day as well as across days
shuffle 99 "$TESTENV_DIR/s99"
load t99 "$TESTENV_DIR/s99/bookings.jsonl" updated_at
check_layout t99 "(b.updated_at AT TIME ZONE 'UTC')::date" 4
content t99 > "$TESTENV_DIR/t99.copy"
cmp -s "$TESTENV_DIR/plain.copy" "$TESTENV_DIR/t99.copy" \
    || testenv_fail "t99: the table partitioned by updated_at differs from the plain one: $(diff "$TESTENV_DIR/plain.copy" "$TESTENV_DIR/t99.copy" | head -4)"
echo "t99: shuffled with seed 99, partitioned by updated_at: table = plain table"
testenv_pass
