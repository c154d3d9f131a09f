#!/usr/bin/env bash
# Poison records, under load: one record makes every worker that processes it abort, another makes
# the worker refuse its batch for its data (zetl's fault injection, ZETL_FAULT_CRASH_ON and
# ZETL_FAULT_ERROR_ON, matching a text in each record). Each sits in a batch of 1 000. Workers
# die and are restarted by `zetlctl up`; the coordinator takes a batch workers keep dying on
# for poison, splits it until the record stands alone and dead-letters that record (stage worker,
# reason crashed) after max_retries more deaths; the refused one is dead-lettered with reason
# rejected. Every other record loads, the table equals the reference over the good lines, the
# reconciliation balances, and the workers died a bounded number of times.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}

mkdir -p "$TESTENV_DIR/in"
"$TESTENV_ZETLCTL" gen bookings --count "$count" --versions 0 --seed 12 --out "$TESTENV_DIR/all.jsonl" 2>/dev/null
#  A third of the way in, a record that crashes workers; at two thirds, one they refuse. The
#  reference is computed without them.
"$TESTENV_PYTHON" - "$TESTENV_DIR/all.jsonl" "$TESTENV_DIR/in/bookings.jsonl" "$TESTENV_DIR/good.jsonl" <<'PY'
import re, sys
lines = open(sys.argv[1]).readlines()
poison = {len(lines) // 3: "poison-crash@example.com", 2 * len(lines) // 3: "poison-error@example.com"}
with open(sys.argv[2], "w") as both, open(sys.argv[3], "w") as good:
    for number, line in enumerate(lines):
        if number in poison:
            line = re.sub(r'"guest_email":"[^"]*"', '"guest_email":"%s"' % poison[number], line)
        else:
            good.write(line)
        both.write(line)
PY
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl" c "    max_retries: 2
    retry_delay: 100ms"
ZETL_FAULT_CRASH_ON=poison-crash ZETL_FAULT_ERROR_ON=poison-error \
    bookings_up c "$TESTENV_DIR/c.yaml" zetl --workers 2
out=$TESTENV_DIR/c.out
bookings_reconciliation_ok "$out" || testenv_fail "the reconciliation does not balance: $(cat "$out")"
for want in "\"records_in\":$lines" "\"records_loaded\":$((lines - 2))" '"records_dead_lettered":2'; do
    grep -q "$want" "$out" || testenv_fail "reconciliation lacks $want: $(cat "$out")"
done
dead=$(testenv_psql "SELECT string_agg(stage || ' ' || reason || ' ' || (raw::text LIKE '%poison-' || CASE reason WHEN 'crashed' THEN 'crash' ELSE 'error' END || '%')::text, ';' ORDER BY reason) FROM zetl_dead_letters")
[ "$dead" = "worker crashed true;worker rejected true" ] || testenv_fail "dead letters: [$dead]"
error=$(testenv_psql "SELECT error FROM zetl_dead_letters WHERE reason = 'crashed'")
[[ "$error" == *"workers died processing it"* ]] || testenv_fail "the crash dead letter's error: [$error]"
logs=$TESTENV_DIR/run-c/logs
grep -rq '"event":"batch_suspected"' "$logs" || testenv_fail "no batch was suspected"
grep -rq '"pieces":16' "$logs" || testenv_fail "the crashing batch was not split in 16"
#  Isolating the record from a batch of 1 000 takes 2 deaths to suspect it, 3 splits in 16, 4 and
#  1, then max_retries deaths: a few more than 6 at most, whichever worker each lands on
deaths=$(grep -c '"event":"child_died"' "$TESTENV_DIR/c.log" || true)
[ "$deaths" -ge 4 ] && [ "$deaths" -le 10 ] || testenv_fail "workers died $deaths times"
[ "$(bookings_reference_md5 "$TESTENV_DIR/good.jsonl")" = "$(bookings_table_md5)" ] \
    || testenv_fail "the table differs from the reference over the good lines"
testenv_pass
