#!/usr/bin/env bash
# The HTTP JSON API source against a paginated test API (tests/helpers/http_api.py) that fails
# with 500 and 429 (Retry-After), answers bodies that are not JSON, and sleeps past the client's
# timeout now and then, always the same way for a seed:
#   1. next_link pagination, the next link only in a relative `Link: <...>; rel="next"` header,
#      an API key header from the environment: every record once (records_in = the records the
#      API served = the input lines), the table equals the reference computed from the input,
#      the reconciliation balances, every fault happened, and every request carried the key;
#   2. cursor pagination, the coordinator killed with SIGKILL mid-run and started again: it
#      resumes from the checkpoint in zetl_checkpoints (its first request asks for the page the
#      checkpoint names, the first page is never asked again), reads exactly the records from
#      there on, and the table equals the reference;
#   3. offset pagination, the page a bare array: the same checks, then a second run starts from
#      the saved offset (the end) and reads nothing again.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
#  The same size in every run: the test API injects its faults at pages this size reaches
count=${ZETL_TEST_RECORDS:-100000}
api=$ZETL_SOURCE/tests/helpers/http_api.py
export ZETL_TEST_API_KEY="k-$$-$RANDOM"  # the secret the API expects in X-Api-Key
pg_zetl=$ZETL_POSTGRES

#  api_start NAME ARGS...: run the test API as NAME; sets API_PORT
api_start () {
    local name=$1
    shift
    testenv_start "api-$name" "$TESTENV_PYTHON" "$api" --log "$TESTENV_DIR/api-$name.jsonl" "$@"
    #  Its stdout is its log: the first line is the port
    testenv_wait_until 20 grep -qE '^[0-9]+$' "$TESTENV_DIR/api-$name.log"
    API_PORT=$(head -n 1 "$TESTENV_DIR/api-$name.log")
}

#  api_stat PORT PATH: one value of the API's counters (PATH such as faults.500)
api_stat () {
    "$TESTENV_PYTHON" -c 'import json, sys, urllib.request
value = json.load(urllib.request.urlopen("http://127.0.0.1:%s/stats" % sys.argv[1]))
for key in sys.argv[2].split("."):
    value = value[key]
print(value)' "$1" "$2"
}

#  http_config FILE NAME SOURCE_YAML: the bookings pipeline reading the given source
http_config () {
    local file=$1 name=$2 source=$3
    bookings_config "$file" unused "$name"
    SOURCE_YAML=$source awk '/^    source: \{ type: file/ { print ENVIRON["SOURCE_YAML"]; next } { print }' \
        "$file" > "$file.tmp"
    mv "$file.tmp" "$file"
}

#  check_faults NAME PORT: every kind of fault struck, every request carried the key
check_faults () {
    local kind n
    for kind in 500 429 slow bad_body; do
        n=$(api_stat "$2" "faults.$kind")
        [ "$n" -gt 0 ] || testenv_fail "$1: the API never injected fault $kind"
    done
    [ "$(api_stat "$2" header_bad)" = 0 ] || testenv_fail "$1: requests came without the API key"
    [ "$(api_stat "$2" header_ok)" -gt 0 ] || testenv_fail "$1: no request carried the API key"
}

#  http_state DATABASE: the HTTP source's checkpoint
http_state () {
    testenv_psql_in "$1" "SELECT state FROM zetl_checkpoints WHERE pipeline = 'bookings-etl' AND source = 'http'"
}

#  loaded_at_least DATABASE N: the sinks have committed at least N rows there
loaded_at_least () {
    local n
    n=$(testenv_psql_in "$1" "SELECT coalesce(sum(changed + unchanged), 0) FROM zetl_stats" 2>/dev/null) || return 1
    [ "${n:-0}" -ge "$2" ]
}

faults="--fail-500 0.06 --fail-429 0.03 --slow 0.02 --slow-seconds 2.5 --bad-body 0.03"

#  ---- 1. next_link, Link header, relative links
bookings_gen "$count" 21 "$TESTENV_DIR/in-link"
input=$TESTENV_DIR/in-link/bookings.jsonl
lines=$(wc -l < "$input")
# shellcheck disable=SC2086
api_start link --data "$input" --mode next_link --next-in header --page-size 1000 --seed 3 \
    --expect-header X-Api-Key --expect-env ZETL_TEST_API_KEY $faults
http_config "$TESTENV_DIR/link.yaml" link "    source:
      type: http
      url: \"http://127.0.0.1:$API_PORT/records\"
      pagination: next_link
      records: data
      headers: { X-Api-Key: \"\${ZETL_TEST_API_KEY}\" }
      timeout: 1500ms
      schedule: 1s"
bookings_up link "$TESTENV_DIR/link.yaml" zetl --workers 2 --sinks 1
bookings_check "$TESTENV_DIR/link.out" "$input"
[ "$(api_stat "$API_PORT" records_served)" = "$lines" ] \
    || testenv_fail "next_link: the API served $(api_stat "$API_PORT" records_served) records, not $lines"
check_faults next_link "$API_PORT"
[ "$(api_stat "$API_PORT" first_page_requests)" -ge 1 ] || testenv_fail "next_link: no first page"
echo "next_link: $lines records, $(api_stat "$API_PORT" requests) requests, faults $(api_stat "$API_PORT" faults)"

#  ---- 2. cursor, the coordinator killed mid-run and restarted
testenv_psql "CREATE DATABASE zetl2" >/dev/null
bookings_gen "$count" 22 "$TESTENV_DIR/in-cursor"
input=$TESTENV_DIR/in-cursor/bookings.jsonl
lines=$(wc -l < "$input")
# shellcheck disable=SC2086
api_start cursor --data "$input" --mode cursor --page-size 500 --seed 4 \
    --expect-header X-Api-Key --expect-env ZETL_TEST_API_KEY $faults
http_config "$TESTENV_DIR/cursor.yaml" cursor "    source:
      type: http
      url: \"http://127.0.0.1:$API_PORT/records?sort=id\"
      pagination: cursor
      records: items
      next: meta.next_cursor
      headers: { X-Api-Key: \"\${ZETL_TEST_API_KEY}\" }
      timeout: 1500ms
      schedule: 1s"
#  The processes of this part write into zetl2
export ZETL_POSTGRES="${pg_zetl/dbname=zetl/dbname=zetl2}"
resumable () {
    local state
    state=$(http_state zetl2) && [ -n "$state" ] && [ "$state" != '{"cursor":null}' ]
}
testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/cursor.yaml" --once
testenv_start worker-1 "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/cursor-workers.ipc" --name worker-1
testenv_start worker-2 "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/cursor-workers.ipc" --name worker-2
testenv_start sink-1 "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/cursor-sinks.ipc" --name sink-1
testenv_wait_until 120 loaded_at_least zetl2 $((lines / 4))
testenv_wait_until 60 resumable
testenv_stop coordinator KILL
counted=$(testenv_psql_in zetl2 "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$counted" -lt "$lines" ] || testenv_fail "cursor: the coordinator was not killed mid-run ($counted of $lines)"
#  No coordinator runs now: the checkpoint and the API's request count stay as they are
state=$(http_state zetl2)
killed_at=$(api_stat "$API_PORT" requests)
testenv_start coordinator-again "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/cursor.yaml" --once
rc=0
wait "$TESTENV_PID" || rc=$?
[ "$rc" = 0 ] || testenv_fail "cursor: the restarted coordinator exited with $rc"
grep '"pipeline":"bookings-etl"' "$TESTENV_DIR/coordinator-again.log" | grep -v '"level"' \
    > "$TESTENV_DIR/cursor.out" || true
bookings_reconciliation_ok "$TESTENV_DIR/cursor.out" \
    || testenv_fail "cursor: the reconciliation does not balance: $(cat "$TESTENV_DIR/cursor.out")"
[ "$(bookings_table_md5 zetl2)" = "$(bookings_reference_md5 "$input" zetl2)" ] \
    || testenv_fail "cursor: the table differs from the reference after the restart"
#  What the API saw after the kill: the resume page first, never the first page again
read -r first_token first_start restarted_first_pages < <("$TESTENV_PYTHON" -c 'import json, sys
after = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["seq"] > int(sys.argv[2])]
after.sort(key=lambda e: e["seq"])
print(after[0]["token"], after[0]["start"], sum(1 for e in after if e["start"] == 0))' \
    "$TESTENV_DIR/api-cursor.jsonl" "$killed_at")
expected_token=$("$TESTENV_PYTHON" -c 'import json, sys; print(json.loads(sys.argv[1])["cursor"])' "$state")
[ "$first_token" = "$expected_token" ] \
    || testenv_fail "cursor: the restart asked first for $first_token, not the checkpoint's $expected_token"
[ "$first_start" -gt 0 ] && [ "$restarted_first_pages" = 0 ] \
    || testenv_fail "cursor: the restart read from the first page again"
records_in=$(bookings_field "$TESTENV_DIR/cursor.out" records_in)
[ "$records_in" = $((lines - first_start)) ] \
    || testenv_fail "cursor: the restart read $records_in records, not the $((lines - first_start)) after the checkpoint"
check_faults cursor "$API_PORT"
echo "cursor: killed after $counted of $lines records; resumed at record $first_start ($state)"
testenv_stop worker-1
testenv_stop worker-2
testenv_stop sink-1
export ZETL_POSTGRES=$pg_zetl

#  ---- 3. offset, a bare array; a second run reads nothing again
testenv_psql "CREATE DATABASE zetl3" >/dev/null
bookings_gen $((count / 5)) 23 "$TESTENV_DIR/in-offset"
input=$TESTENV_DIR/in-offset/bookings.jsonl
lines=$(wc -l < "$input")
# shellcheck disable=SC2086
api_start offset --data "$input" --mode offset --seed 7 \
    --expect-header X-Api-Key --expect-env ZETL_TEST_API_KEY $faults
http_config "$TESTENV_DIR/offset.yaml" offset "    source:
      type: http
      url: \"http://127.0.0.1:$API_PORT/records\"
      pagination: offset
      page_size: 400
      headers: { X-Api-Key: \"\${ZETL_TEST_API_KEY}\" }
      timeout: 1500ms
      schedule: 1s"
bookings_up offset "$TESTENV_DIR/offset.yaml" zetl3 --workers 2 --sinks 1
bookings_check "$TESTENV_DIR/offset.out" "$input" zetl3
[ "$(api_stat "$API_PORT" records_served)" = "$lines" ] \
    || testenv_fail "offset: the API served $(api_stat "$API_PORT" records_served) records, not $lines"
check_faults offset "$API_PORT"
[ "$(http_state zetl3)" = "{\"offset\":$lines}" ] \
    || testenv_fail "offset: the checkpoint is $(http_state zetl3), not offset $lines"
bookings_up offset-again "$TESTENV_DIR/offset.yaml" zetl3
[ "$(bookings_field "$TESTENV_DIR/offset-again.out" records_in)" = 0 ] \
    || testenv_fail "offset: a second run read records again: $(cat "$TESTENV_DIR/offset-again.out")"
[ "$(api_stat "$API_PORT" first_page_requests)" -ge 1 ] || testenv_fail "offset: no first page"
[ "$(testenv_psql_in zetl3 "SELECT count(*) FROM zetl_offsets WHERE source LIKE 'bookings-etl@http-run-%'")" = 0 ] \
    || testenv_fail "offset: finished runs left rows in zetl_offsets"
testenv_pass
