#!/usr/bin/env bash
# Deletes. Every 10th booking gets a delete marker (`_deleted: true`, one second after its latest
# version), and every 20th an older version of itself that arrives last, after its delete. A
# delete is a version like any other: the row stays, with zetl_deleted = true, so the older
# version arriving late cannot bring it back, and the view bookings_live hides it. The live view
# equals the reference of the bookings whose latest version is not a delete, the table holds one
# deleted row per deleted booking, and the reconciliation balances.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start

bookings_gen 20000 51 "$TESTENV_DIR/gen"
mkdir -p "$TESTENV_DIR/in"
"$TESTENV_PYTHON" - "$TESTENV_DIR/gen/bookings.jsonl" "$TESTENV_DIR/in/bookings.jsonl" <<'PY'
import datetime, json, sys
lines = [json.loads(line) for line in open(sys.argv[1])]
latest, first, order = {}, {}, []
for record in lines:
    key = record["booking_id"]
    if key not in first:
        first[key] = record
        order.append(key)
    if key not in latest or record["updated_at"] > latest[key]["updated_at"]:
        latest[key] = record
out = [json.dumps(record) for record in lines]
late = []
for number, key in enumerate(order):
    if number % 10:
        continue
    marker = dict(latest[key])
    at = datetime.datetime.fromisoformat(marker["updated_at"].replace("Z", "+00:00"))
    marker["updated_at"] = (at + datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    marker["_deleted"] = True
    out.insert(min(len(out), number * 2 + 50), json.dumps(marker))
    if number % 20 == 0:
        older = dict(first[key])
        older["amount"] = "1.00"   # another version, older than the delete: it must lose
        late.append(json.dumps(older))
open(sys.argv[2], "w").write("\n".join(out + late) + "\n")
PY
input=$TESTENV_DIR/in/bookings.jsonl
bookings_config "$TESTENV_DIR/c.yaml" "$input" c "    delete_field: _deleted"
bookings_up run "$TESTENV_DIR/c.yaml"
bookings_reconciliation_ok "$TESTENV_DIR/run.out" || testenv_fail "the reconciliation does not balance"

#  The reference, from the raw lines: the latest version of each booking, and whether it deletes
bookings_load_raw "$input"
testenv_psql "CREATE TABLE latest AS SELECT DISTINCT ON (line->>'booking_id') line->>'booking_id' AS booking_id,
                  coalesce ((line->>'_deleted')::boolean, false) AS deleted
              FROM zetl_test_raw ORDER BY line->>'booking_id', (line->>'updated_at')::timestamptz DESC" >/dev/null
deleted=$(testenv_psql "SELECT count(*) FROM latest WHERE deleted")
[ "$deleted" -gt 0 ] || testenv_fail "the input holds no delete"
[ "$(testenv_psql "SELECT count(*) FROM bookings WHERE zetl_deleted")" = "$deleted" ] \
    || testenv_fail "$(testenv_psql "SELECT count(*) FROM bookings WHERE zetl_deleted") rows deleted, not $deleted"
[ "$(testenv_psql "SELECT count(*) FROM bookings b JOIN latest l USING (booking_id)
                   WHERE b.zetl_deleted <> l.deleted")" = 0 ] \
    || testenv_fail "rows whose deletion differs from their latest version"
expected=$(testenv_psql_in zetl "COPY (SELECT r.* FROM ($(bookings_latest_sql)) r JOIN latest l
            USING (booking_id) WHERE NOT l.deleted ORDER BY booking_id) TO STDOUT" | md5sum | cut -d' ' -f1)
actual=$(testenv_psql_in zetl "COPY (SELECT $BOOKINGS_COLUMNS FROM bookings_live ORDER BY booking_id)
          TO STDOUT" | md5sum | cut -d' ' -f1)
[ "$expected" = "$actual" ] || testenv_fail "bookings_live differs from the reference"
testenv_pass
