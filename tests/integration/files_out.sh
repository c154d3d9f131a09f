#!/usr/bin/env bash
# The files target: 200 000 bookings go to a PostgreSQL table and to gzip'd JSONL files at once,
# under `zetlctl up --once`, and the sink is killed with SIGKILL mid-run (`zetlctl up` starts it
# again). While it runs, the day directories are polled: no temp or partial file may ever show.
# Then the lines of every file, decompressed, must be, as a multiset, the records that load,
# computed by python from the input (every distinct record, as JSON in schema order), none
# doubled, each file in the day directory of its rows' event dates; the table equals its
# reference and the reconciliation balances. A second, small pipeline writes CSV + zstd with a
# files target alone (the files writer then writes dead letters and counters itself), in two
# runs with planted crash leftovers between them, and is checked against its own reference.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}

#  files_check.py: the checks over a files target's tree, in python, from the input alone
cat > "$TESTENV_DIR/files_check.py" <<'PY'
import csv, datetime, decimal, gzip, io, json, os, re, subprocess, sys, time

COLUMNS = ["booking_id", "hotel_id", "guest_email", "amount", "currency", "status", "check_in",
           "nights", "channel", "updated_at"]
NAME = re.compile(r"^part-[0-9a-f]{16}-p[0-9]+-([0-9]+)-([0-9]+)\.(jsonl|csv)(\.gz|\.zst)?$")

def read(path):
    data = open(path, "rb").read()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    elif path.endswith(".zst"):
        data = subprocess.run(["zstd", "-dcq"], input=data, stdout=subprocess.PIPE,
                              check=True).stdout
    return data.decode("utf-8")

def ts_text(text):
    when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

def rows_of(path, fmt):
    """The rows of a file: (line text, dict of column -> text or None)"""
    text = read(path)
    if fmt == "jsonl":
        assert text.endswith("\n"), path + ": does not end with a newline"
        for line in text[:-1].split("\n"):
            yield line, json.loads(line)
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        assert header == COLUMNS + ["zetl_deleted"], path + ": header " + repr(header)
        for fields in reader:
            yield ",".join(fields), dict(zip(header, fields))

def tree(root, pipeline):
    """Every file under root/pipeline: (day directory as YYYY-MM-DD, path, name)"""
    base = os.path.join(root, pipeline)
    for dirpath, dirs, files in os.walk(base):
        rel = os.path.relpath(dirpath, base)
        for name in files:
            yield rel.replace(os.sep, "-"), os.path.join(dirpath, name), name

def reference(input_path, fmt):
    """The lines the files must hold: each distinct input record, once (exact duplicates
    are dropped by the coordinator), as the sink writes it"""
    seen, lines = set(), []
    for raw in open(input_path, encoding="utf-8"):
        record = json.loads(raw, parse_float=decimal.Decimal)
        key = json.dumps(record, sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        if fmt == "jsonl":
            parts = []
            for column in COLUMNS:
                value = record.get(column)
                if value is None:
                    text = "null"
                elif column == "updated_at":
                    text = json.dumps(ts_text(value))
                elif isinstance(value, decimal.Decimal):
                    text = str(value)
                else:
                    text = json.dumps(value, ensure_ascii=False)
                parts.append(json.dumps(column) + ":" + text)
            lines.append("{" + ",".join(parts) + "}")
        else:
            fields = []
            for column in COLUMNS:
                value = record.get(column)
                if value is None:
                    fields.append("")
                elif column == "updated_at":
                    fields.append(ts_text(value))
                else:
                    fields.append(str(value))
            lines.append(",".join(fields + ["false"]))
    return lines

def check(root, pipeline, fmt, input_path):
    failures, lines, files = [], [], 0
    for day, path, name in tree(root, pipeline):
        files += 1
        if not NAME.match(name):
            failures.append("unexpected file " + path)
            continue
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", day):
            failures.append("file outside a YYYY/MM/DD directory: " + path)
        for line, row in rows_of(path, fmt):
            lines.append(line)
            if not row["updated_at"].startswith(day):
                failures.append("%s: a row of %s in day directory %s" % (path, row["updated_at"], day))
                break
    expected = reference(input_path, fmt)
    counts = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    doubled = [line for line, n in counts.items() if n > 1]
    if doubled:
        failures.append("%d lines doubled, e.g. %s" % (len(doubled), doubled[0]))
    missing = set(expected) - set(counts)
    extra = set(counts) - set(expected)
    if missing:
        failures.append("%d lines missing, e.g. %s" % (len(missing), sorted(missing)[0]))
    if extra:
        failures.append("%d lines not in the reference, e.g. %s" % (len(extra), sorted(extra)[0]))
    if not failures and sorted(lines) != sorted(expected):
        failures.append("the multiset of lines differs from the reference")
    print("files=%d lines=%d expected=%d" % (files, len(lines), len(expected)))
    for failure in failures[:10]:
        print("FAIL " + failure)
    return 1 if failures else 0

def poll(root, pipeline, stop_file, out_file):
    """Until STOP_FILE exists: every file a day directory shows must be a finished part file
    whose rows lie on that day"""
    seen, polls, violations = set(), 0, []
    while not os.path.exists(stop_file):
        polls += 1
        for day, path, name in list(tree(root, pipeline)):
            if not NAME.match(name):
                violations.append("poll %d: %s" % (polls, path))
                continue
            if path in seen:
                continue
            try:
                for line, row in rows_of(path, "csv" if ".csv" in name else "jsonl"):
                    if not row["updated_at"].startswith(day):
                        violations.append("poll %d: %s has a row of %s" % (polls, path, row["updated_at"]))
                        break
                seen.add(path)
            except FileNotFoundError:
                pass  # an uncommitted file removed by recovery between the listing and the read
            except Exception as error:
                violations.append("poll %d: %s unreadable: %r" % (polls, path, error))
        time.sleep(0.05)  # poll interval
    with open(out_file, "w") as out:
        out.write("polls %d files %d\n" % (polls, len(seen)))
        for violation in violations:
            out.write("VIOLATION " + violation + "\n")

if __name__ == "__main__":
    if sys.argv[1] == "poll":
        poll(*sys.argv[2:6])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]))
PY
checker=$TESTENV_DIR/files_check.py

#  The sink's process id: the zetl-sink child of `zetlctl up`
sink_pid () {
    local pid
    for pid in $(pgrep -P "$1"); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = zetl-sink ] && echo "$pid"
    done
    return 0
}

#  sink_restarted UP OLD: `zetlctl up` runs a sink again, not OLD
sink_restarted () {
    local pid
    pid=$(sink_pid "$1")
    [ -n "$pid" ] && [ "$pid" != "$2" ]
}

#  ---- Run 1: PostgreSQL + JSONL gzip, 200 000 bookings, the sink killed mid-run
bookings_gen "$count" 17 "$TESTENV_DIR/in"
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")
out=$TESTENV_DIR/out
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl" c
cat >> "$TESTENV_DIR/c.yaml" <<YAML
      - { type: files, path: "$out", format: jsonl, compression: gzip }
YAML

"$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --once --run-dir "$TESTENV_DIR/run" \
    > "$TESTENV_DIR/up.out" 2> "$TESTENV_DIR/up.log" &
up=$!
/usr/bin/python3 "$checker" poll "$out" bookings-etl "$TESTENV_DIR/poll.stop" "$TESTENV_DIR/poll.out" &
poller=$!

#  Three kills, at a quarter, half and three quarters of the rows: each may land before, during
#  or after a commit's renames
for quarter in 1 2 3; do
    testenv_wait_until 120 bookings_loaded_at_least $((lines * quarter / 4))
    victim=$(sink_pid "$up")
    [ -n "$victim" ] || testenv_fail "no zetl-sink runs under zetlctl up"
    kill -KILL "$victim"
    bookings_loaded_at_least "$lines" && testenv_fail "the run had loaded everything before kill $quarter"
    testenv_wait_until 30 sink_restarted "$up" "$victim"
done

rc=0
wait "$up" || rc=$?
touch "$TESTENV_DIR/poll.stop"
wait "$poller" || testenv_fail "the poller failed"
[ "$rc" = 0 ] || testenv_fail "zetlctl up --once exited with $rc: $(tail -5 "$TESTENV_DIR/up.log")"
echo "files_out: uncommitted files removed after the kills:" \
    "$(grep -h '"event":"uncommitted_files_removed"' "$TESTENV_DIR"/run/logs/sink-*.log | grep -o '"files":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')" >&2

bookings_check "$TESTENV_DIR/up.out" "$input"
polls=$(head -1 "$TESTENV_DIR/poll.out")
echo "files_out: $polls" >&2
! grep -q VIOLATION "$TESTENV_DIR/poll.out" \
    || testenv_fail "a day directory showed an unfinished file: $(grep VIOLATION "$TESTENV_DIR/poll.out" | head -3)"
[ "$(echo "$polls" | cut -d' ' -f2)" -ge 10 ] || testenv_fail "the tree was polled too rarely: $polls"
[ "$(echo "$polls" | cut -d' ' -f4)" -ge 1 ] || testenv_fail "the polls never saw a file: $polls"
/usr/bin/python3 "$checker" check "$out" bookings-etl jsonl "$input" > "$TESTENV_DIR/check.out" \
    || testenv_fail "the files differ from the reference: $(cat "$TESTENV_DIR/check.out")"
cat "$TESTENV_DIR/check.out" >&2
#  Every loaded record is one line: the reconciliation's records_loaded counts them too
written=$(sed -n 's/.* lines=\([0-9]*\) .*/\1/p' "$TESTENV_DIR/check.out")
[ "$written" = "$(bookings_field "$TESTENV_DIR/up.out" records_loaded)" ] \
    || testenv_fail "$written lines, but records_loaded is $(bookings_field "$TESTENV_DIR/up.out" records_loaded)"
#  The files target committed every position the table did
behind=$(testenv_psql "SELECT count(*) FROM zetl_offsets p JOIN zetl_offsets f USING (pipeline, source, partition)
                       WHERE p.target = 'postgres:bookings' AND f.target = 'files:$out' AND f.position < p.position")
[ "$behind" = 0 ] || testenv_fail "$behind keys of the files target are behind the table's"
[ -z "$(ls -A "$out/.zetl/tmp")" ] || testenv_fail "temp files left: $(ls "$out/.zetl/tmp" | head -3)"

#  ---- Run 2: CSV + zstd, a files target alone, with strings CSV must quote and bad records,
#  in two runs over one growing file. Between them, every key gets what a writer killed between
#  its renames and its commit leaves: a visible file above the committed position, listed by an
#  intent. The second run's first commit of each key must remove it.
mkdir -p "$TESTENV_DIR/in2"
input2=$TESTENV_DIR/in2/bookings.jsonl
all2=$TESTENV_DIR/all2.jsonl
"$TESTENV_ZETLCTL" gen bookings --count 3000 --duplicates 0.05 --versions 0.2 --disorder 0.3 \
    --seed 5 --out "$all2" 2>/dev/null
cat >> "$all2" <<'JSON'
{"booking_id":"BK-Q1","hotel_id":7,"guest_email":"a,\"b\"\nc@x.org","amount":1.50,"currency":"EUR","status":"new","check_in":"2026-01-02","nights":1,"channel":"","updated_at":"2026-01-01T12:00:00.5+02:00"}
{"booking_id":"BK-BAD1","hotel_id":"not a number","updated_at":"2026-01-01T12:00:00Z"}
{"booking_id":"BK-BAD2","hotel_id":3}
JSON
#  The second run's coordinator starts with no deduplication state: the copies of records that
#  the first run read are left out of its part, so that no exact duplicate straddles the runs
head -n 1500 "$all2" > "$input2"
tail -n +1501 "$all2" | awk 'NR == FNR { seen[$0] = 1; next } !seen[$0]' "$input2" - \
    > "$TESTENV_DIR/part-b.jsonl"
lines2=$(($(wc -l < "$input2") + $(wc -l < "$TESTENV_DIR/part-b.jsonl")))
cat "$input2" "$TESTENV_DIR/part-b.jsonl" | head -n $((lines2 - 2)) > "$TESTENV_DIR/good2.jsonl"
out2=$TESTENV_DIR/out2
bookings_config "$TESTENV_DIR/c2.yaml" "$TESTENV_DIR/in2/*.jsonl" c2
sed -i "s|      - { type: postgres, table: bookings, primary_key: \[booking_id\] }|      - { type: files, path: \"$out2\", format: csv, compression: zstd }|" \
    "$TESTENV_DIR/c2.yaml"
grep -q 'type: files' "$TESTENV_DIR/c2.yaml" || testenv_fail "could not write the CSV run's configuration"
testenv_psql "CREATE DATABASE zetl2" >/dev/null
bookings_up csv-a "$TESTENV_DIR/c2.yaml" zetl2

#  A leftover per key: part-<source>-p<partition>-<C+1>-<C+1>, C the highest committed position
planted=0
for key in $(find "$out2/bookings-etl" -name 'part-*' -printf '%f\n' | sed 's/^part-\([0-9a-f]*-p[0-9]*\)-.*/\1/' | sort -u); do
    last=$(find "$out2/bookings-etl" -name "part-$key-*" -printf '%f\n' | sed 's/.*-\([0-9]*\)\.csv\.zst$/\1/' | sort -n | tail -1)
    dir=$(dirname "$(find "$out2/bookings-etl" -name "part-$key-*-$last.csv.zst" | head -1)")
    name="part-$key-$((last + 1))-$((last + 1)).csv.zst"
    printf 'leftover\r\n' | zstd -q > "$dir/$name"
    printf '%s\t%s\n' $((last + 1)) "${dir#"$out2/"}/$name" > "$out2/.zetl/intent/bookings-etl/$key"
    planted=$((planted + 1))
done
[ "$planted" -gt 0 ] || testenv_fail "the first CSV run wrote no files"
cat "$TESTENV_DIR/part-b.jsonl" >> "$input2"
bookings_up csv-b "$TESTENV_DIR/c2.yaml" zetl2
removed=$(grep -h '"event":"uncommitted_files_removed"' "$TESTENV_DIR"/run-csv-b/logs/sink-*.log \
          | grep -o '"files":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
echo "files_out: $planted leftovers planted, $removed removed" >&2
/usr/bin/python3 "$checker" check "$out2" bookings-etl csv "$TESTENV_DIR/good2.jsonl" > "$TESTENV_DIR/check2.out" \
    || testenv_fail "the CSV files differ from the reference: $(cat "$TESTENV_DIR/check2.out")"
cat "$TESTENV_DIR/check2.out" >&2
[ "$removed" = "$planted" ] || testenv_fail "$planted leftovers planted, $removed removed"
[ -z "$(ls -A "$out2/.zetl/intent/bookings-etl")" ] || testenv_fail "intents left: $(ls "$out2/.zetl/intent/bookings-etl")"
#  The files writer accounted for every record itself: written, dead-lettered or deduplicated
accounted=$(testenv_psql_in zetl2 "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats WHERE target = 'files:$out2'")
[ "$accounted" = "$lines2" ] || testenv_fail "the CSV runs accounted for $accounted records, not $lines2"
dead2=$(testenv_psql_in zetl2 "SELECT count(*) FROM zetl_dead_letters WHERE target = 'files:$out2'")
[ "$dead2" = 2 ] || testenv_fail "the CSV run dead-lettered $dead2 records, not the 2 bad ones"
testenv_pass
