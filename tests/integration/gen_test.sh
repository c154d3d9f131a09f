#!/usr/bin/env bash
# gen_test - zetlctl gen bookings: deterministic, exact duplicate and disorder counts, one
# updated_at per version, valid JSON and CSV with the same records.
set -euo pipefail
# shellcheck source=../helpers/testenv.sh
source "$(dirname "$0")/../helpers/testenv.sh"
testenv_init
testenv_need "$TESTENV_ZETLCTL"
cd "$TESTENV_DIR"

gen () {
    "$TESTENV_ZETLCTL" gen bookings "$@"
}
lines () {
    wc -l <"$1" | tr -d ' '
}
#  Records whose updated_at is earlier than one already seen (ISO 8601 UTC compares as text)
out_of_order () {
    awk 'match($0, /"updated_at":"[^"]*"/) { ts = substr($0, RSTART + 14, RLENGTH - 15)
                                              if (ts < max) n++; else max = ts }
         END { print n + 0 }' "$1"
}

# ---- the command line
"$TESTENV_ZETLCTL" --help | grep -q 'gen' || testenv_fail "zetlctl --help does not list gen"
"$TESTENV_ZETLCTL" --version | grep -Eq '^zetlctl [0-9]+\.[0-9]+' || testenv_fail "zetlctl --version"
gen --help | grep -q -- '--count N' || testenv_fail "zetlctl gen --help does not document --count"
rc=0; "$TESTENV_ZETLCTL" no-such-command 2>usage.txt || rc=$?
[ "$rc" = 2 ] && grep -q Usage usage.txt || testenv_fail "an unknown command must print usage and exit 2 (got $rc)"
rc=0; gen --disorder 1.5 2>/dev/null || rc=$?
[ "$rc" = 2 ] || testenv_fail "a bad --disorder must exit 2 (got $rc)"

# ---- same seed, same bytes; another seed, other bytes
args=(--count 10000 --disorder 0.3 --duplicates 0.05 --late 0.01 --versions 0.2)
gen "${args[@]}" --seed 7 --out a.jsonl 2>a.summary
gen "${args[@]}" --seed 7 >b.jsonl 2>/dev/null
gen "${args[@]}" --seed 8 --out c.jsonl 2>/dev/null
[ "$(md5sum <a.jsonl)" = "$(md5sum <b.jsonl)" ] || testenv_fail "the same seed gave different output (--out vs stdout)"
[ "$(md5sum <a.jsonl)" != "$(md5sum <c.jsonl)" ] || testenv_fail "seeds 7 and 8 gave the same output"
[ ! -e a.jsonl.tmp ] || testenv_fail "--out left its .tmp file behind"

# ---- exact duplicates: round(0.05 * 10000) = 500 lines written twice, and nothing else repeated
[ "$(lines a.jsonl)" = 10500 ] || testenv_fail "expected 10500 lines (10000 + 500 copies), got $(lines a.jsonl)"
dups=$(sort a.jsonl | uniq -d | wc -l)
[ "$dups" = 500 ] || testenv_fail "expected 500 duplicated lines, got $dups"
thrice=$(sort a.jsonl | uniq -c | awk '$1 > 2' | wc -l)
[ "$thrice" = 0 ] || testenv_fail "$thrice lines appear more than twice"
[ "$(sort -u a.jsonl | wc -l)" = 10000 ] || testenv_fail "expected 10000 distinct lines"

# ---- versions: no booking_id has two different lines with the same updated_at
sort -u a.jsonl | sed -E 's/.*"booking_id":"([^"]*)".*"updated_at":"([^"]*)".*/\1 \2/' >pairs.txt
clash=$(sort pairs.txt | uniq -d | head -n 3)
[ -z "$clash" ] || testenv_fail "different versions share booking_id and updated_at: $clash"
ids=$(cut -d' ' -f1 pairs.txt | sort -u | wc -l)
[ "$ids" -lt 9500 ] && [ "$ids" -gt 6500 ] || testenv_fail "expected some bookings with versions: $ids distinct ids in 10000 records"

# ---- every line is JSON with the documented fields and formats; the summary adds up
"$TESTENV_PYTHON" - a.jsonl a.summary <<'EOF' || testenv_fail "records or summary are malformed (see above)"
import json, re, sys
from decimal import Decimal
fields = ["booking_id", "hotel_id", "guest_email", "amount", "currency", "status", "check_in",
          "nights", "channel", "updated_at"]
rules = {
    "booking_id": re.compile(r"BK-[0-9]{8}"), "guest_email": re.compile(r"[A-Za-z0-9.]+@[a-z.]+"),
    "currency": re.compile(r"EUR|USD|GBP"), "status": re.compile(r"new|confirmed|cancelled"),
    "check_in": re.compile(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]"), "channel": re.compile(r"[a-z._]+"),
    "updated_at": re.compile(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z"),
}
currencies = {}
versions = {}
for number, line in enumerate(open(sys.argv[1]), 1):
    record = json.loads(line, parse_float=Decimal)
    assert list(record) == fields, f"line {number}: keys {list(record)}"
    for key, rule in rules.items():
        assert isinstance(record[key], str) and rule.fullmatch(record[key]), f"line {number}: {key} {record[key]!r}"
    assert 1 <= record["hotel_id"] <= 500 and 1 <= record["nights"] <= 14, f"line {number}"
    assert re.search(r'"amount":[0-9]+\.[0-9]{2},', line), f"line {number}: amount is not a 2-place decimal"
    assert record["amount"] > 0, f"line {number}: amount {record['amount']}"
    currencies[record["currency"]] = currencies.get(record["currency"], 0) + 1
    versions.setdefault(record["booking_id"], set()).add(line)
assert currencies["EUR"] > currencies.get("USD", 0) > 0 and currencies.get("GBP", 0) > 0, currencies
summary = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
expect = {"records": 10500, "distinct": 10000, "duplicates": 500, "displaced": 3000, "late": 100,
          "distinct_ids": len(versions)}
for key, value in expect.items():
    assert summary[key] == value, f"summary {key}: {summary[key]} != {value}"
assert summary["versions"] == 10000 - len(versions), summary
EOF

# ---- disorder: none asked, none made; asked, about that much
gen --count 20000 --seed 3 --out sorted.jsonl 2>/dev/null
[ "$(out_of_order sorted.jsonl)" = 0 ] || testenv_fail "records out of order with --disorder 0 --late 0"
gen --count 20000 --seed 3 --disorder 0.3 --out disordered.jsonl 2>/dev/null
[ "$(sort sorted.jsonl | md5sum)" = "$(sort disordered.jsonl | md5sum)" ] \
    || testenv_fail "--disorder changed the records, not only their order"
n=$(out_of_order disordered.jsonl)
[ "$n" -ge 5600 ] && [ "$n" -le 6100 ] || testenv_fail "--disorder 0.3: $n of 20000 records out of order, expected about 6000"

# ---- late: about 1% of the records lag hours behind the newest record seen before them
gen --count 20000 --seed 4 --rate 1 --disorder 0.2 --late 0.01 --out late.jsonl 2>/dev/null
late=$("$TESTENV_PYTHON" - late.jsonl <<'EOF'
import json, sys
from datetime import datetime
#  Displaced records lag at most ~3 minutes; late ones 1..6 hours, except those from the last
#  minutes of the stream, which come at its end
newest, late, between = None, 0, 0
for line in open(sys.argv[1]):
    ts = datetime.fromisoformat(json.loads(line)["updated_at"].replace("Z", "+00:00")).timestamp()
    lag = 0 if newest is None else newest - ts
    late += lag > 600
    between += 240 < lag <= 600
    newest = ts if newest is None else max(newest, ts)
print(late, between)
EOF
)
read -r late_n between_n <<<"$late"
[ "$late_n" -ge 160 ] && [ "$late_n" -le 200 ] || testenv_fail "--late 0.01: $late_n records over 10 minutes late, expected 160..200"
[ "$between_n" -le 10 ] || testenv_fail "$between_n records lag 4..10 minutes: displaced records must lag a few minutes at most"

# ---- CSV: header, same records
gen "${args[@]}" --seed 7 --format csv --out a.csv 2>/dev/null
[ "$(head -n 1 a.csv)" = "booking_id,hotel_id,guest_email,amount,currency,status,check_in,nights,channel,updated_at" ] \
    || testenv_fail "CSV header is wrong: $(head -n 1 a.csv)"
[ "$(lines a.csv)" = 10501 ] || testenv_fail "CSV has $(lines a.csv) lines, expected 10501 (header + 10500)"
"$TESTENV_PYTHON" - a.csv a.jsonl <<'EOF' || testenv_fail "CSV and JSONL records differ"
import csv, json, sys
with open(sys.argv[1], newline="") as f:
    rows = [tuple(row.values()) for row in csv.DictReader(f)]
with open(sys.argv[2]) as f:
    records = [tuple(str(v) for v in json.loads(line, parse_float=str).values()) for line in f]
assert rows == records, "first difference at row %d" % next(i for i, (a, b) in enumerate(zip(rows, records)) if a != b)
EOF

testenv_pass
