#!/usr/bin/env bash
# Retention and max_future on a day-partitioned target (partition_by_day: check_in). A first run
# (retention 30d, max_future 2d) loads bookings spread over many days: those older than the
# window and those later than now + max_future are dead letters with reasons past_retention and
# future, the others create exactly the partitions of their days (plus today's and the next
# days' ahead of time). A second run with retention 10d drops exactly the partitions wholly older
# than 10 days at start, with their keys, and logs each drop; its own input has records on the
# dropped days (dead letters now), bookings of dropped days coming back with a newer version,
# and bookings moving between kept days; its schema gains a column (added to every partition,
# shown by bookings_live). After each run the reconciliation balances, the dead
# letters are exactly the out-of-window records with the right reasons, the partitions are
# exactly the expected ones (listed before and after), and the table holds exactly the expected
# (booking, day) pairs.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
export LC_ALL=C
testenv_init
testenv_pg_start
extra="    too_late: accept"

#  The inputs and what each run must leave, computed from the same days the sink will use (UTC
#  today). Run 1's days skip today-11 and today-10, so that which partitions run 2 drops does not
#  depend on the hour.
mkdir -p "$TESTENV_DIR/a" "$TESTENV_DIR/b" "$TESTENV_DIR/exp"
"$TESTENV_PYTHON" - "$TESTENV_DIR" <<'PY'
import datetime, json, random, sys
out = sys.argv[1]
rng = random.Random(5)
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
today = now.date()
day = lambda offset: today + datetime.timedelta(days=offset)
name = lambda d: "bookings_p" + d.strftime("%Y%m%d")

def record(key, check_in, at):
    return {"booking_id": key, "hotel_id": rng.randint(1, 500), "guest_email": key.lower() + "@example.com",
            "amount": "%d.%02d" % (rng.randint(50, 3000), rng.randrange(100)), "currency": "EUR",
            "status": "confirmed", "check_in": check_in.isoformat(), "nights": rng.randint(1, 14),
            "channel": "direct", "updated_at": at.strftime("%Y-%m-%dT%H:%M:%S.000Z")}

def write(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r).replace('"amount": "%s"' % r["amount"], '"amount": %s' % r["amount"]) + "\n")

def lines(path, items):
    open(path, "w").write("".join(item + "\n" for item in sorted(items)))

#  Run 1: retention 30d, max_future 2d: the window is today-30 .. today+2
kept_offsets = list(range(-20, -11)) + list(range(-9, 2))
a, dead_a, rows = [], [], {}
start = now - datetime.timedelta(days=1)
for number in range(3000):
    key, at = "BK-A%05d" % number, start + datetime.timedelta(seconds=number * 10)
    kind = number % 10
    if kind == 0:
        d = day(rng.randint(-45, -35)); dead_a.append("past_retention\t" + key)
    elif kind == 1:
        d = day(rng.randint(4, 6)); dead_a.append("future\t" + key)
    else:
        d = day(rng.choice(kept_offsets)); rows[key] = d
    a.append(record(key, d, at))
write(out + "/a/bookings.jsonl", a)
lines(out + "/exp/dead-a", dead_a)
ahead = {day(offset) for offset in range(0, 3)}
parts_a = {name(d) for d in set(rows.values()) | ahead}
lines(out + "/exp/parts-a", parts_a)
lines(out + "/exp/rows-a", ["%s\t%s" % (k, d.isoformat()) for k, d in rows.items()])

#  Run 2: retention 10d: partitions before today-10 go at start, with their keys
dropped = {p for p in parts_a if p < name(day(-10))}
lines(out + "/exp/dropped", dropped)
removed = [k for k, d in rows.items() if d < day(-10)]
open(out + "/exp/removed", "w").write("%d\n" % len(removed))
for k in removed:
    del rows[k]
b, dead_b = [], []
start = now - datetime.timedelta(hours=1)
for number in range(1000):
    key, at = "BK-B%05d" % number, start + datetime.timedelta(seconds=number)
    kind = number % 5
    if kind == 0:
        d = day(rng.randint(-20, -12)); dead_b.append("past_retention\t" + key)
    elif kind == 1:
        d = day(rng.randint(4, 5)); dead_b.append("future\t" + key)
    else:
        d = day(rng.randint(-9, 1)); rows[key] = d
    b.append(record(key, d, at))
#  Bookings of dropped days come back, newer; bookings of kept days move to another kept day
at = start + datetime.timedelta(seconds=2000)
for key in sorted(removed)[:200]:
    b.append(record(key, day(-5), at)); rows[key] = day(-5)
for key in sorted(k for k in rows if k.startswith("BK-A") and k not in removed)[:200]:
    moved = day(-9) if rows[key] != day(-9) else day(0)
    b.append(record(key, moved, at)); rows[key] = moved
write(out + "/b/bookings.jsonl", b)
lines(out + "/exp/dead-b", dead_b)
lines(out + "/exp/parts-b", (parts_a - dropped) | {name(d) for d in set(rows.values()) | ahead})
lines(out + "/exp/rows-b", ["%s\t%s" % (k, d.isoformat()) for k, d in rows.items()])
PY

partitions () {
    testenv_psql "SELECT relid::text FROM pg_partition_tree('bookings') WHERE isleaf ORDER BY 1"
}

#  run NAME RETENTION: load NAME/bookings.jsonl with that retention and check what it left
run () {
    local name=$1 retention=$2 dead
    bookings_config "$TESTENV_DIR/$name.yaml" "$TESTENV_DIR/$name/*.jsonl" "$name" "$extra"
    sed -i "s/primary_key: \[booking_id\] }/primary_key: [booking_id], partition_by_day: check_in, retention: $retention, max_future: 2d }/" \
        "$TESTENV_DIR/$name.yaml"
    #  Run b's schema gains a column: it reaches every partition and the view bookings_live
    [ "$name" = a ] || sed -i 's/^\(      channel: .*\)$/\1\n      note:        { type: string }/' "$TESTENV_DIR/$name.yaml"
    bookings_up "$name" "$TESTENV_DIR/$name.yaml"
    bookings_reconciliation_ok "$TESTENV_DIR/$name.out" \
        || testenv_fail "$name: the reconciliation does not balance: $(cat "$TESTENV_DIR/$name.out")"
    [ "$(bookings_field "$TESTENV_DIR/$name.out" records_in)" = "$(wc -l < "$TESTENV_DIR/$name/bookings.jsonl")" ] \
        || testenv_fail "$name: records_in is not the input's lines: $(cat "$TESTENV_DIR/$name.out")"
    dead=$(wc -l < "$TESTENV_DIR/exp/dead-$name")
    [ "$(bookings_field "$TESTENV_DIR/$name.out" records_dead_lettered)" = "$dead" ] \
        || testenv_fail "$name: not $dead records dead-lettered: $(cat "$TESTENV_DIR/$name.out")"
    testenv_psql "SELECT reason || E'\t' || (raw::json->>'booking_id') FROM zetl_dead_letters
                  WHERE source LIKE '%/$name/%' AND stage = 'sink' AND field = 'check_in'" \
        | sort > "$TESTENV_DIR/$name.dead"
    cmp -s "$TESTENV_DIR/exp/dead-$name" "$TESTENV_DIR/$name.dead" \
        || testenv_fail "$name: dead letters differ: $(diff "$TESTENV_DIR/exp/dead-$name" "$TESTENV_DIR/$name.dead" | head -4)"
    partitions > "$TESTENV_DIR/$name.parts"
    cmp -s "$TESTENV_DIR/exp/parts-$name" "$TESTENV_DIR/$name.parts" \
        || testenv_fail "$name: partitions differ from the expected: $(diff "$TESTENV_DIR/exp/parts-$name" "$TESTENV_DIR/$name.parts" | head -6)"
    testenv_psql "COPY (SELECT booking_id, check_in FROM bookings ORDER BY 1) TO STDOUT" > "$TESTENV_DIR/$name.rows"
    cmp -s "$TESTENV_DIR/exp/rows-$name" "$TESTENV_DIR/$name.rows" \
        || testenv_fail "$name: the table's (booking, day) pairs differ: $(diff "$TESTENV_DIR/exp/rows-$name" "$TESTENV_DIR/$name.rows" | head -4)"
    [ "$(testenv_psql "SELECT count(*) FROM bookings b FULL JOIN bookings_zetl_keys k USING (booking_id)
                       WHERE b.booking_id IS NULL OR k.booking_id IS NULL OR k.zetl_day <> b.check_in")" = 0 ] \
        || testenv_fail "$name: bookings_zetl_keys does not match the table"
}

run a 30d
echo "run a: $(wc -l < "$TESTENV_DIR/a.parts") partitions: $(tr '\n' ' ' < "$TESTENV_DIR/a.parts")"
echo "run a: dead letters $(cut -f1 "$TESTENV_DIR/a.dead" | sort | uniq -c | tr '\n' ' ')"

run b 10d
[ "$(testenv_psql "SELECT count(*) FROM pg_partition_tree('bookings') t JOIN pg_attribute a
                   ON a.attrelid = t.relid AND a.attname = 'note' WHERE t.isleaf")" = "$(wc -l < "$TESTENV_DIR/b.parts")" ] \
    || testenv_fail "the column added by run b is not on every partition"
[ "$(testenv_psql "SELECT count(*) FROM bookings_live WHERE note IS NULL")" = "$(wc -l < "$TESTENV_DIR/b.rows")" ] \
    || testenv_fail "bookings_live does not show the added column on every row"
echo "run b: $(wc -l < "$TESTENV_DIR/b.parts") partitions: $(tr '\n' ' ' < "$TESTENV_DIR/b.parts")"
echo "run b: dead letters $(cut -f1 "$TESTENV_DIR/b.dead" | sort | uniq -c | tr '\n' ' ')"
#  Exactly the partitions past the window were dropped, each logged once with its keys
comm -23 "$TESTENV_DIR/a.parts" "$TESTENV_DIR/b.parts" > "$TESTENV_DIR/gone"
cmp -s "$TESTENV_DIR/exp/dropped" "$TESTENV_DIR/gone" \
    || testenv_fail "dropped partitions differ: $(diff "$TESTENV_DIR/exp/dropped" "$TESTENV_DIR/gone" | head -6)"
grep -h '"event":"partition_dropped"' "$TESTENV_DIR"/run-b/logs/sink-*.log > "$TESTENV_DIR/drops.log" || true
"$TESTENV_PYTHON" - "$TESTENV_DIR/drops.log" "$TESTENV_DIR/exp/dropped" "$TESTENV_DIR/exp/removed" <<'PY' \
    || testenv_fail "the partition_dropped log lines do not match the drops"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
names = sorted(event["partition"] for event in events)
expected = sorted(line.strip() for line in open(sys.argv[2]) if line.strip())
removed = sum(event["keys_removed"] for event in events)
print("logged drops: %d partitions, %d keys removed" % (len(names), removed))
sys.exit(0 if names == expected and removed == int(open(sys.argv[3]).read()) else 1)
PY
echo "dropped: $(tr '\n' ' ' < "$TESTENV_DIR/gone")"
testenv_pass
