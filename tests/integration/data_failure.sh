#!/usr/bin/env bash
# A record that PostgreSQL refuses for its data (an amount of 1e200000 is a valid exact decimal for
# the worker, but beyond what numeric holds) must not hold back its batch or its partition:
# the batch is split in halves until the record stands alone, which is then tried max_retries
# times and dead-lettered with stage sink, reason rejected and PostgreSQL's error. Every other
# record loads, the table equals the reference over the good lines, and the reconciliation
# balances.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start

mkdir -p "$TESTENV_DIR/in"
"$TESTENV_ZETLCTL" gen bookings --count 20000 --versions 0 --seed 8 --out "$TESTENV_DIR/all.jsonl" 2>/dev/null
#  Lines 5000 and 12345 get an amount numeric cannot hold; the reference is computed without them
"$TESTENV_PYTHON" - "$TESTENV_DIR/all.jsonl" "$TESTENV_DIR/in/bookings.jsonl" "$TESTENV_DIR/good.jsonl" <<'PY'
import re, sys
lines = open(sys.argv[1]).readlines()
with open(sys.argv[2], "w") as both, open(sys.argv[3], "w") as good:
    for number, line in enumerate(lines, 1):
        if number in (5000, 12345):
            line = re.sub(r'"amount":[^,]*', r'"amount":1e200000', line)
        else:
            good.write(line)
        both.write(line)
PY
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl" c "    max_retries: 2
    retry_delay: 100ms"
bookings_up c "$TESTENV_DIR/c.yaml"
out=$TESTENV_DIR/c.out
bookings_reconciliation_ok "$out" || testenv_fail "the reconciliation does not balance: $(cat "$out")"
for want in "\"records_in\":$lines" "\"records_loaded\":$((lines - 2))" '"records_dead_lettered":2'; do
    grep -q "$want" "$out" || testenv_fail "reconciliation lacks $want: $(cat "$out")"
done
dead=$(testenv_psql "SELECT string_agg(stage || ' ' || reason || ' ' || (position('numeric' in error) > 0)::text, ';') FROM zetl_dead_letters")
[ "$dead" = "sink rejected true;sink rejected true" ] || testenv_fail "dead letters: [$dead]"
grep -rq '"event":"batch_split"' "$TESTENV_DIR/run-c/logs" || testenv_fail "no batch was split"
[ "$(bookings_reference_md5 "$TESTENV_DIR/good.jsonl")" = "$(bookings_table_md5)" ] \
    || testenv_fail "the table differs from the reference over the good lines"
testenv_pass
