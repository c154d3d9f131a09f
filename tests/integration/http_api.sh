#!/usr/bin/env bash
# The coordinator's HTTP API (docs/API.md) on a running cluster, with `http: 127.0.0.1:0` (the
# port is read from the http_listening log line):
#  - without ZETL_API_TOKEN (under valgrind when it is installed): /healthz 200, /readyz 503
#    naming the missing worker and sink, every POST refused with 403; SIGINT stops it cleanly;
#  - with a token: /readyz 503 until a worker and a sink join, then 200; once the input is
#    loaded, /metrics passes `promtool check metrics` and its series hold this run's figures
#    (records in = the input's lines, committed = records in, deduplicated = what the sink
#    counted, nothing queued); the pipelines' list and detail; the status page at / (HTML;
#    tests/integration/status_page.sh checks it in a browser); 404, 405 (with Allow), 401
#    (no token, wrong token), 400 (bad JSON, unknown field, bad reason), 409 (refresh of a
#    file pipeline), 413 (a body over 64 KiB); reprocess returns a request id whose row exists;
#    cleanup makes the sink drop a day partition past retention at once (not at its hourly
#    upkeep); /metrics answer times are printed; SIGTERM stops it with exit code 0;
#  - with a token again, under valgrind: refresh, reprocess and cleanup on the server's own
#    PostgreSQL connection, then SIGTERM: no memory error or leak;
#  - a fixed port shared by an active coordinator and its standby: the standby logs
#    http_bind_failed, keeps trying, and serves once the active one stops.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
command -v curl >/dev/null || testenv_skip "curl is not installed (apt-get install curl)"
command -v promtool >/dev/null || testenv_skip "promtool is not installed (apt-get install prometheus)"
testenv_pg_start
count=${ZETL_TEST_RECORDS:-5000}
token=zetl-test-token-5f2a
vg=()
#  (ldd's output in a variable: with pipefail, grep -q ending first can fail the pipe)
libraries=$(ldd "$TESTENV_COORDINATOR")
if command -v valgrind >/dev/null && [[ $libraries != *libasan* ]]; then
    vg=(valgrind -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
        --error-exitcode=99)
fi

bookings_gen "$count" 17 "$TESTENV_DIR/in"
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"
#  Any free port; a day-partitioned target (check_in) keeping ten years, for cleanup
sed -i 's/^  name: test$/  name: test\n  http: 127.0.0.1:0/' "$TESTENV_DIR/c.yaml"
sed -i 's/primary_key: \[booking_id\] }/primary_key: [booking_id], partition_by_day: check_in, retention: 3650d, max_future: 3650d }/' \
    "$TESTENV_DIR/c.yaml"

#  start_coordinator NAME [ENV...] -- [PREFIX...]: start one; sets port to its HTTP port
start_coordinator () {
    local name=$1
    shift
    local env=()
    while [ "$1" != -- ]; do env+=("$1"); shift; done
    shift
    testenv_start "$name" env -u ZETL_API_TOKEN "${env[@]}" "$@" "$TESTENV_COORDINATOR" \
        --config "$TESTENV_DIR/c.yaml"
    testenv_wait_until 60 grep -q '"event":"http_listening"' "$TESTENV_DIR/$name.log"
    port=$(grep '"event":"http_listening"' "$TESTENV_DIR/$name.log" | head -1 \
           | grep -o '"port":[0-9]*' | cut -d: -f2)
    [ -n "$port" ] && [ "$port" -gt 0 ] || testenv_fail "$name logged no port: $(grep http_listening "$TESTENV_DIR/$name.log")"
}

#  call METHOD PATH [CURL ARGS...]: print the status code; the body goes to $TESTENV_DIR/body,
#  the headers to $TESTENV_DIR/headers
call () {
    local method=$1 path=$2
    shift 2
    curl -s -o "$TESTENV_DIR/body" -D "$TESTENV_DIR/headers" -w '%{http_code}' --max-time 30 \
        -X "$method" "$@" "http://127.0.0.1:$port$path"
}

#  json EXPR: evaluate the Python expression EXPR on the last body, parsed as j
json () {
    "$TESTENV_PYTHON" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$TESTENV_DIR/body" "$1"
}

#  expect CODE METHOD PATH [CURL ARGS...]: the call answers CODE; an error is the documented
#  JSON {"error": {"status": CODE, "message": "..."}}
expect () {
    local code=$1 got
    shift
    got=$(call "$@")
    [ "$got" = "$code" ] || testenv_fail "$1 $2 answered $got, not $code: $(cat "$TESTENV_DIR/body")"
    if [ "$code" -ge 400 ]; then
        [ "$(json 'j["error"]["status"]')" = "$code" ] && [ -n "$(json 'j["error"]["message"]')" ] \
            || testenv_fail "$1 $2: the $code reply is not an error object: $(cat "$TESTENV_DIR/body")"
    fi
}

readyz_is () { [ "$(call GET /readyz)" = "$1" ]; }
readyz_says () { [ "$(call GET /readyz)" = 503 ] && grep -q "$1" "$TESTENV_DIR/body"; }
auth=(-H "Authorization: Bearer $token")
posts=(/api/v1/pipelines/bookings-etl/refresh /api/v1/pipelines/bookings-etl/reprocess /api/v1/cleanup)

#  1. No token configured (under valgrind when installed): POST calls are refused, never open
start_coordinator open -- "${vg[@]}"
expect 200 GET /healthz
testenv_wait_until 120 readyz_says 'no worker is connected'
expect 503 GET /readyz
grep -q 'no sink is connected' "$TESTENV_DIR/body" || testenv_fail "/readyz does not name the sink: $(cat "$TESTENV_DIR/body")"
for path in "${posts[@]}"; do
    expect 403 POST "$path"
    expect 403 POST "$path" "${auth[@]}" -d '{}'
done
kill -INT "${TESTENV_PID_OF[open]}"
rc=0
wait "${TESTENV_PID_OF[open]}" || rc=$?
unset "TESTENV_PID_OF[open]"
[ "$rc" = 0 ] || testenv_fail "the coordinator without a token exited with $rc on SIGINT (99: valgrind found errors)"
grep -q '"event":"stopped"' "$TESTENV_DIR/open.log" || testenv_fail "the coordinator did not log its stop"

#  2. With a token: readiness follows the peers
start_coordinator coordinator ZETL_API_TOKEN=$token --
testenv_wait_until 30 readyz_is 503
expect 200 HEAD /healthz -I
testenv_start worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc" --name worker-1
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc" --name sink-1
testenv_wait_until 60 readyz_is 200
[ "$(json 'j["ready"]')" = True ] || testenv_fail "/readyz 200 without ready: $(cat "$TESTENV_DIR/body")"

#  Loaded: the status shows every line in and committed, nothing held
loaded () {
    [ "$(call GET /api/v1/pipelines/bookings-etl)" = 200 ] \
        && [ "$(json 'j["arrival"]["records_in"]')" = "$lines" ] \
        && [ "$(json 'j["committed_records"]')" = "$lines" ] \
        && [ "$(json 'j["queue"]["records_held"]')" = 0 ]
}
testenv_wait_until 120 loaded
[ "$(json 'j["watermark_lag_seconds"] > 0')" = True ] || testenv_fail "no watermark lag: $(cat "$TESTENV_DIR/body")"
[ "$(json 'j["last_commit_at"] is not None')" = True ] || testenv_fail "no last commit: $(cat "$TESTENV_DIR/body")"
expect 200 GET /api/v1/pipelines
[ "$(json '[p["id"] for p in j["pipelines"]]')" = "['bookings-etl']" ] || testenv_fail "pipelines: $(cat "$TESTENV_DIR/body")"
expect 200 GET /api/v1/status
[ "$(json '[w["name"] for w in j["workers"]], [s["name"] for s in j["sinks"]], j["api"]["mutations"]')" \
    = "(['worker-1'], ['sink-1'], True)" ] || testenv_fail "status: $(cat "$TESTENV_DIR/body")"

#  /metrics: valid exposition format, and this run's figures
expect 200 GET /metrics
grep -qi '^content-type: text/plain; version=0.0.4' "$TESTENV_DIR/headers" || testenv_fail "/metrics content type: $(cat "$TESTENV_DIR/headers")"
promtool check metrics < "$TESTENV_DIR/body" > "$TESTENV_DIR/promtool.out" 2>&1 \
    || testenv_fail "promtool check metrics: $(cat "$TESTENV_DIR/promtool.out")"
cp "$TESTENV_DIR/body" "$TESTENV_DIR/metrics.txt"
metric () {
    grep "^zetl_$1 " "$TESTENV_DIR/metrics.txt" | cut -d' ' -f2
}
p='{cluster="test",pipeline="bookings-etl"}'
deduplicated=$(testenv_psql "SELECT sum(deduplicated) FROM zetl_stats")
for check in "records_in_total$p $lines" "records_committed_total$p $lines" \
             "records_deduplicated_total$p $deduplicated" "queue_records$p 0" "queue_batches$p 0" \
             "batches_in_flight$p 0" 'workers_connected{cluster="test"} 1' \
             'sinks_connected{cluster="test"} 1' 'ready{cluster="test"} 1' \
             'worker_assigned_batches{cluster="test",worker="worker-1"} 0' \
             'desired_workers{cluster="test"} 1' 'worker_draining{cluster="test",worker="worker-1"} 0'; do
    [ "$(metric "${check% *}")" = "${check##* }" ] \
        || testenv_fail "/metrics: zetl_${check% *} is '$(metric "${check% *}")', not ${check##* }"
done
for series in "records_out_of_order_total$p" "records_late_total$p" "watermark_seconds$p" \
              "watermark_lag_seconds$p" 'worker_credit{cluster="test",worker="worker-1"}' \
              'sink_credit{cluster="test",sink="sink-1"}' 'worker_busy_ratio{cluster="test",worker="worker-1"}' \
              'worker_resident_memory_bytes{cluster="test",worker="worker-1"}' 'service_rate{cluster="test"}' \
              'credit_wait_ratio{cluster="test"}' "end_to_end_latency_seconds_sum$p"; do
    [ -n "$(metric "$series")" ] || testenv_fail "/metrics lacks zetl_$series"
done
#  Latency histograms: one observation per committed batch, every one under +Inf
batches=$(metric "batch_latency_seconds_count$p")
[ "${batches:-0}" -gt 0 ] && [ "$(metric "end_to_end_latency_seconds_count$p")" = "$batches" ] \
    && [ "$(metric "batch_latency_seconds_bucket${p%\}},le=\"+Inf\"}")" = "$batches" ] \
    || testenv_fail "/metrics: the latency histograms do not count each committed batch once"

[ "$(metric "records_out_of_order_total$p")" -gt 0 ] || testenv_fail "30 % disorder, yet no out-of-order record counted"
times=()
for _ in 1 2 3 4 5; do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/metrics")")
done
echo "/metrics: $(wc -c < "$TESTENV_DIR/metrics.txt") bytes, answered in ${times[*]} s"

#  Errors: unknown paths and pipelines, methods, tokens, bodies
expect 404 GET /api/v1/pipelines/nope
expect 404 GET /api/v1/nothing
expect 404 GET /index.html
expect 200 GET /
grep -qi '^content-type: text/html' "$TESTENV_DIR/headers" || testenv_fail "GET / is not HTML: $(cat "$TESTENV_DIR/headers")"
grep -q "fetch('api/v1/status'" "$TESTENV_DIR/body" || testenv_fail "GET / does not read the status: $(head -c 300 "$TESTENV_DIR/body")"
expect 404 POST /api/v1/pipelines/nope/reprocess "${auth[@]}"
expect 405 GET /api/v1/cleanup
grep -qi '^allow: POST' "$TESTENV_DIR/headers" || testenv_fail "405 without Allow: POST: $(cat "$TESTENV_DIR/headers")"
expect 405 GET /api/v1/pipelines/bookings-etl/reprocess
expect 405 POST /metrics
grep -qi '^allow: GET, HEAD' "$TESTENV_DIR/headers" || testenv_fail "405 without Allow: GET, HEAD: $(cat "$TESTENV_DIR/headers")"
for path in "${posts[@]}"; do
    expect 401 POST "$path"
    grep -qi '^www-authenticate: Bearer' "$TESTENV_DIR/headers" || testenv_fail "401 without WWW-Authenticate"
    expect 401 POST "$path" -H "Authorization: Bearer wrong-$token"
    expect 401 POST "$path" -H "Authorization: Bearer ${token}x"
    expect 401 POST "$path" -H "Authorization: Basic $token"
    expect 400 POST "$path" "${auth[@]}" -d '{"force": tru'
    expect 400 POST "$path" "${auth[@]}" -d '[1, 2]'
    expect 400 POST "$path" "${auth[@]}" -d '{"nonsense": 1}'
done
expect 400 POST /api/v1/pipelines/bookings-etl/refresh "${auth[@]}" -d '{"force": "yes"}'
expect 400 POST /api/v1/pipelines/bookings-etl/reprocess "${auth[@]}" -d '{"reason": "drop table"}'
head -c 70000 /dev/zero | tr '\0' ' ' > "$TESTENV_DIR/big.json"
expect 413 POST /api/v1/pipelines/bookings-etl/reprocess "${auth[@]}" --data-binary "@$TESTENV_DIR/big.json"
expect 409 POST /api/v1/pipelines/bookings-etl/refresh "${auth[@]}" -d '{"force": true}'
grep -q 'file source' "$TESTENV_DIR/body" || testenv_fail "the refusal does not say why: $(cat "$TESTENV_DIR/body")"

#  Reprocess: a request row
expect 202 POST /api/v1/pipelines/bookings-etl/reprocess "${auth[@]}" -d '{"reason": "too_late"}'
request=$(json 'j["request"]')
[ "$(testenv_psql "SELECT count(*) FROM zetl_reprocess_requests WHERE id = $request AND pipeline = 'bookings-etl' AND reason = 'too_late'")" = 1 ] \
    || testenv_fail "no zetl_reprocess_requests row for request $request"
expect 202 POST /api/v1/pipelines/bookings-etl/reprocess "${auth[@]}"
[ "$(json 'j["reason"]')" = too_late ] || testenv_fail "reprocess without a body: $(cat "$TESTENV_DIR/body")"

#  Cleanup: a day partition past retention (2010, retention ten years) goes now, not within the hour
testenv_psql "CREATE TABLE bookings_p20100101 PARTITION OF bookings FOR VALUES FROM ('2010-01-01') TO ('2010-01-02')"
expect 202 POST /api/v1/cleanup "${auth[@]}"
request=$(json 'j["request"]')
[ "$(json 'j["targets"]')" = "['postgres:bookings']" ] || testenv_fail "cleanup targets: $(cat "$TESTENV_DIR/body")"
testenv_wait_until 30 testenv_psql_true "SELECT to_regclass('bookings_p20100101') IS NULL"
testenv_wait_until 30 testenv_psql_true "SELECT done_at IS NOT NULL FROM zetl_cleanup_requests WHERE id = $request"
grep -q '"event":"partition_dropped".*bookings_p20100101' "$TESTENV_DIR/sink.log" || testenv_fail "the sink did not log the drop"

testenv_stop coordinator  # TERM
grep -q '"event":"stopped","exit_code":0' "$TESTENV_DIR/coordinator.log" || testenv_fail "the coordinator did not stop with 0: $(tail -3 "$TESTENV_DIR/coordinator.log")"

#  3. Under valgrind (when installed): the POST calls' own connection, then SIGTERM
if [ ${#vg[@]} -gt 0 ]; then
    start_coordinator checked ZETL_API_TOKEN=$token -- "${vg[@]}"
    testenv_wait_until 120 readyz_is 200
    expect 202 POST /api/v1/pipelines/bookings-etl/reprocess "${auth[@]}"
    expect 409 POST /api/v1/pipelines/bookings-etl/refresh "${auth[@]}"
    expect 202 POST /api/v1/cleanup "${auth[@]}" -d '{}'
    expect 200 GET /metrics
    expect 200 GET /api/v1/status
    expect 200 GET /
    kill -TERM "${TESTENV_PID_OF[checked]}"
    rc=0
    wait "${TESTENV_PID_OF[checked]}" || rc=$?
    unset "TESTENV_PID_OF[checked]"
    [ "$rc" = 0 ] || testenv_fail "the coordinator under valgrind exited with $rc (99: memory errors or leaks)"
fi

#  4. A fixed port shared by an active coordinator and its hot standby on this host: the standby
#     (under valgrind when installed) cannot bind, says so, and binds once the active one is gone
port=$(testenv_free_port)
sed "s/^  http: 127.0.0.1:0$/  http: 127.0.0.1:$port/" "$TESTENV_DIR/c.yaml" > "$TESTENV_DIR/fixed.yaml"
testenv_start active env ZETL_API_TOKEN=$token "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/fixed.yaml"
testenv_wait_until 60 readyz_is 200
testenv_start standby env ZETL_API_TOKEN=$token "${vg[@]}" "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/fixed.yaml"
testenv_wait_until 60 grep -q '"event":"http_bind_failed"' "$TESTENV_DIR/standby.log"
testenv_stop active  # TERM
testenv_wait_until 60 grep -q '"event":"http_listening"' "$TESTENV_DIR/standby.log"
testenv_wait_until 120 readyz_is 200
kill -INT "${TESTENV_PID_OF[standby]}"
rc=0
wait "${TESTENV_PID_OF[standby]}" || rc=$?
unset "TESTENV_PID_OF[standby]"
[ "$rc" = 0 ] || testenv_fail "the standby exited with $rc on SIGINT (99: valgrind found errors)"
testenv_pass
