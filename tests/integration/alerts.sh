#!/usr/bin/env bash
# The alert flags in /api/v1/status and /metrics, each raised by the condition it names and
# cleared when it passes, with the `alerts:` thresholds and windows cut to seconds. Bookings
# from 2024 lag the clock by far more than the threshold, so watermark_lag is up once records
# came. A pipeline fed by a producer:
#   1. Before any record: freshness (nothing arrived for longer than `freshness`).
#   2. 20 % of the records are invalid (hotel_id not an integer): error_rate and completeness
#      rise; freshness falls.
#   3. The input stops: once the burst has moved from the window into the baseline, variation
#      rises (the arrival rate fell from the baseline's to nothing); freshness again.
#   4. The sink is stopped (SIGSTOP) while records come: they are held and none committed, so
#      stopped rises; it falls once the sink goes on (SIGCONT) and commits them.
# /metrics carries the flags as zetl_alert_* gauges and passes promtool; the status's
# outcomes equal zetl_stats; the rules in deploy/prometheus name only metrics that exist.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
command -v curl >/dev/null || testenv_skip "curl is not installed (apt-get install curl)"
testenv_need "$TESTENV_COORDINATOR" "$TESTENV_WORKER" "$TESTENV_SINK" "$TESTENV_ZETLCTL"
testenv_pg_start
count=${ZETL_TEST_RECORDS:-20000}

bookings_gen "$count" 51 "$TESTENV_DIR/in"
#  Every fifth line gets a hotel_id that is no integer: dead-lettered by the worker's schema
awk 'NR % 5 == 0 { sub(/"hotel_id":[0-9]+/, "\"hotel_id\":\"h-x\"") } { print }' \
    "$TESTENV_DIR/in/bookings.jsonl" > "$TESTENV_DIR/mixed.jsonl"
bookings_gen 3000 52 "$TESTENV_DIR/more"
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/none/*.jsonl"
sed -i 's/^  name: test$/  name: test\n  http: 127.0.0.1:0/' "$TESTENV_DIR/c.yaml"
cat >> "$TESTENV_DIR/c.yaml" <<'YAML'
alerts:
  freshness: 3s
  stopped_after: 2s
  window: 5s
  baseline: 5s
YAML

testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
testenv_wait_until 60 grep -q '"event":"http_listening"' "$TESTENV_DIR/coordinator.log"
port=$(grep '"event":"http_listening"' "$TESTENV_DIR/coordinator.log" | head -1 \
       | grep -o '"port":[0-9]*' | cut -d: -f2)
url="http://127.0.0.1:$port"
testenv_start worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc" --name worker-1
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc" --name sink-1
sink_pid=$TESTENV_PID

#  flag NAME: the pipeline's alert flag NAME in /api/v1/status (True or False)
flag () {
    curl -s --max-time 5 "$url/api/v1/status" > "$TESTENV_DIR/status.json" || return 1
    "$TESTENV_PYTHON" -c '
import json, sys
status = json.load(open(sys.argv[1]))
pipeline = [p for p in status["pipelines"] if p["id"] == "bookings-etl"][0]
raised = {(a["pipeline"], a["alert"]) for a in status["alerts"]}
flag = pipeline["alerts"][sys.argv[2]]
assert flag == (("bookings-etl", sys.argv[2]) in raised), "the list and the flags disagree"
print(flag)' "$TESTENV_DIR/status.json" "$1"
}
up () { [ "$(flag "$1")" = True ]; }
down () { [ "$(flag "$1")" = False ]; }
produce () {
    "$TESTENV_ZETLCTL" produce --config "$TESTENV_DIR/c.yaml" --name "$1" "$2" \
        > "$TESTENV_DIR/produce-$1.out" 2> "$TESTENV_DIR/produce-$1.log"
}

#  1. Nothing arrived yet
testenv_wait_until 30 up freshness
for name in error_rate completeness variation stopped watermark_lag; do
    down "$name" || testenv_fail "$name is raised before any record: $(cat "$TESTENV_DIR/status.json")"
done

#  2. A fifth of the records are dead-lettered
lines=$(wc -l < "$TESTENV_DIR/mixed.jsonl")
produce mixed "$TESTENV_DIR/mixed.jsonl" || testenv_fail "produce failed: $(tail -3 "$TESTENV_DIR/produce-mixed.log")"
testenv_wait_until 30 up error_rate
testenv_wait_until 10 up completeness
testenv_wait_until 10 up watermark_lag
down freshness || testenv_fail "freshness stays raised although records just came"
#  Once every record of the burst is committed, and while it is still in the window: a fifth
error_rate_near () {
    curl -s --max-time 5 "$url/api/v1/status" > "$TESTENV_DIR/status.json" || return 1
    "$TESTENV_PYTHON" -c '
import json, sys
pipeline = [p for p in json.load(open(sys.argv[1]))["pipelines"] if p["id"] == "bookings-etl"][0]
error_rate = pipeline["quality"]["error_rate"]
sys.exit(0 if error_rate is not None and 0.18 < error_rate < 0.22 else 1)' "$TESTENV_DIR/status.json"
}
testenv_wait_until 10 error_rate_near

#  3. The input stops: the rate falls from the baseline's to nothing
testenv_wait_until 30 up variation
testenv_wait_until 10 up freshness
testenv_wait_until 10 down error_rate   # the window holds no record any more
dead=$(testenv_psql "SELECT sum(dead_lettered) FROM zetl_stats")
loaded=$(testenv_psql "SELECT sum(changed + unchanged) FROM zetl_stats")
"$TESTENV_PYTHON" - "$TESTENV_DIR/status.json" "$dead" "$loaded" <<'PY' || testenv_fail "outcomes differ from zetl_stats"
import json, sys
pipeline = [p for p in json.load(open(sys.argv[1]))["pipelines"] if p["id"] == "bookings-etl"][0]
assert pipeline["outcomes"]["dead_lettered"] == int(sys.argv[2]), pipeline["outcomes"]
assert pipeline["outcomes"]["loaded"] == int(sys.argv[3]), pipeline["outcomes"]
PY

#  4. The sink stops while records come
kill -STOP "$sink_pid"
produce more "$TESTENV_DIR/more/bookings.jsonl" &
producer=$!
testenv_wait_until 30 up stopped
kill -CONT "$sink_pid"
wait "$producer" || testenv_fail "produce failed after the sink went on: $(tail -3 "$TESTENV_DIR/produce-more.log")"
testenv_wait_until 30 down stopped

#  /metrics: the same flags, valid exposition
curl -s --max-time 5 "$url/metrics" > "$TESTENV_DIR/metrics.txt"
if command -v promtool >/dev/null; then
    promtool check metrics < "$TESTENV_DIR/metrics.txt" > "$TESTENV_DIR/promtool.out" 2>&1 \
        || testenv_fail "promtool check metrics: $(cat "$TESTENV_DIR/promtool.out")"
fi
p='{cluster="test",pipeline="bookings-etl"}'
for name in error_rate watermark_lag stopped completeness freshness variation; do
    grep -q "^zetl_alert_$name$p [01]\$" "$TESTENV_DIR/metrics.txt" || testenv_fail "/metrics lacks zetl_alert_$name"
done
grep -q "^zetl_alert_watermark_lag$p 1\$" "$TESTENV_DIR/metrics.txt" || testenv_fail "zetl_alert_watermark_lag is not 1"
dead=$(testenv_psql "SELECT sum(dead_lettered) FROM zetl_stats")
metric_is () { curl -s --max-time 5 "$url/metrics" | grep -q "^$1 $2\$"; }
testenv_wait_until 10 metric_is "zetl_records_dead_lettered_total$p" "$dead"
#  Dead letters by stage: all of them the worker's (the schema refused them), counted every 10 s
worker_dead=$(testenv_psql "SELECT count(*) FROM zetl_dead_letters WHERE stage = 'worker'")
[ "$worker_dead" = "$dead" ] || testenv_fail "$worker_dead of $dead dead letters are the worker's"
testenv_wait_until 15 metric_is "zetl_dead_letters${p%\}},stage=\"worker\"}" "$dead"

#  Every metric the alert rules use exists here (or is Prometheus' own)
rules=$TESTENV_SOURCE/deploy/prometheus/zetl-alerts.yaml
if [ -f "$rules" ]; then
    names=$("$TESTENV_PYTHON" -c '
import re, sys, yaml
rules = [r for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]
print("\n".join(sorted({re.sub(r"_(bucket|sum|count)$", "", n)
                        for r in rules for n in re.findall(r"zetl_[a-z_]+", r["expr"])})))' "$rules")
    for name in $names; do
        grep -q "^# TYPE $name " "$TESTENV_DIR/metrics.txt" \
            || testenv_fail "deploy/prometheus/zetl-alerts.yaml uses $name, which /metrics does not have"
    done
fi
testenv_stop coordinator
testenv_pass
