#!/usr/bin/env bash
# The autoscaling signal, acted on, and the event socket as any ZeroMQ client reads it.
# `zetlctl up --workers 1:4` runs a cluster whose pipeline reads only from producers, with the
# signal's thresholds and delays cut to seconds (autoscaling: in the config) and workers slowed
# to 40 ms a batch (ZETL_FAULT_SLOW_MS), so one worker cannot keep up with a load step. A plain
# Python client (python3-zmq, python3-msgpack) records every event meanwhile.
#   1. Idle, one worker; worker-1 is killed with SIGKILL: membership shows it leave (silent, or
#      restarted when `up` starts it again before its heartbeats are missed)
#      and join again once `up` restarts it.
#   2. A load step (a producer sends every record at once): the queue deepens, desired_workers
#      rises, `up` starts more workers (more than one in all, at most 4).
#   3. The load stops: desired_workers falls back to 1 and `up` drains the extra workers: each
#      says it drained (nothing held when it left), and exits 0.
# Then: every record is counted once, the table equals the reference, the watermark events rose,
# and the worker and autoscale topics carried their fields.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_need "$TESTENV_COORDINATOR" "$TESTENV_WORKER" "$TESTENV_SINK" "$TESTENV_ZETLCTL"
"$TESTENV_PYTHON" -c 'import zmq, msgpack' 2>/dev/null \
    || testenv_skip "python3-zmq and python3-msgpack are needed (scripts/install-deps.sh)"
testenv_pg_start
#  One worker takes 25 000 records/s (40 ms a batch of 1000): the step lasts seconds
count=${ZETL_TEST_RECORDS:-$([ "${ZETL_TEST_SHORT:-0}" = 1 ] && echo 60000 || echo 120000)}

bookings_gen "$count" 41 "$TESTENV_DIR/in"
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
#  Records come from the producer only: the file glob matches nothing
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/none/*.jsonl"
cat >> "$TESTENV_DIR/c.yaml" <<'YAML'
autoscaling:
  min_workers: 1
  max_workers: 4
  queue_depth: 2000
  scale_up_delay: 1s
  scale_down_delay: 1s
YAML
#  Bad bounds are refused before anything starts
for bad in 0 4:2 x 2:x 1:101; do
    rc=0
    "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --workers "$bad" --run-dir "$TESTENV_DIR/bad" \
        > /dev/null 2> "$TESTENV_DIR/bad.err" || rc=$?
    [ "$rc" = 2 ] && grep -q "expected N or MIN:MAX" "$TESTENV_DIR/bad.err" \
        || testenv_fail "--workers $bad: exit $rc, $(cat "$TESTENV_DIR/bad.err")"
done
events=$TESTENV_DIR/events.jsonl
testenv_start events "$TESTENV_PYTHON" "$TESTENV_SOURCE/tests/helpers/events.py" \
    "ipc://$TESTENV_DIR/c-events.ipc" "$events"
export ZETL_FAULT_SLOW_MS=40
testenv_start up "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --workers 1:4 \
    --run-dir "$TESTENV_DIR/run"
unset ZETL_FAULT_SLOW_MS
logs=$TESTENV_DIR/run/logs

#  seen PYTHON-CONDITION: some event E (a dict) satisfies the condition
seen () {
    "$TESTENV_PYTHON" - "$events" "$1" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
sys.exit(0 if any(eval(sys.argv[2], {}, {"e": e}) for e in events) else 1)
PY
}
#  last_desired: desired_workers in the newest autoscale event
last_desired () {
    "$TESTENV_PYTHON" - "$events" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print([e for e in events if e["topic"] == "autoscale"][-1]["desired_workers"])
PY
}
desired_is () { [ "$(last_desired 2>/dev/null)" = "$1" ]; }
log_has () { grep -q "$2" "$1" 2>/dev/null; }

#  1. Idle with one worker; a worker dies and comes back
#  (worker-1's first join may come before the client's subscription is in place: PUB drops
#  what is published before a subscriber is connected, so it is not looked for)
testenv_wait_until 60 seen 'e["topic"] == "autoscale" and e["workers"] == 1 and e["desired_workers"] == 1'
[ ! -e "$logs/worker-2.log" ] || testenv_fail "a second worker started before any load"
#  worker-1's pid as `up` logged it (pgrep could find another cluster's worker-1)
worker_pid=$(grep '"event":"child_started","child":"worker-1"' "$TESTENV_DIR/up.log" | tail -1 \
    | grep -o '"pid":[0-9]*' | cut -d: -f2)
[ -n "$worker_pid" ] && kill -0 "$worker_pid" || testenv_fail "no worker-1 process"
kill -KILL "$worker_pid"
testenv_wait_until 30 seen 'e["topic"] == "membership" and e["name"] == "worker-1" and e["change"] == "left" and e["reason"] in ("silent", "restarted")'
testenv_wait_until 30 "$TESTENV_PYTHON" -c '
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
left = [e["received"] for e in events if e["topic"] == "membership" and e["name"] == "worker-1" and e["change"] == "left"]
back = [e for e in events if e["topic"] == "membership" and e["name"] == "worker-1" and e["change"] == "joined" and e["received"] > left[0]]
sys.exit(0 if left and back else 1)' "$events"

#  2. A load step
"$TESTENV_ZETLCTL" produce --config "$TESTENV_DIR/c.yaml" --name step \
    "$TESTENV_DIR/in/bookings.jsonl" > "$TESTENV_DIR/produce.out" 2> "$TESTENV_DIR/produce.log" &
producer=$!
testenv_wait_until 60 seen 'e["topic"] == "autoscale" and e["desired_workers"] > 1'
testenv_wait_until 30 log_has "$TESTENV_DIR/up.log" '"event":"scaled"'
testenv_wait_until 60 seen 'e["topic"] == "membership" and e["name"] == "worker-2" and e["change"] == "joined"'
wait "$producer" || testenv_fail "the producer failed: $(tail -3 "$TESTENV_DIR/produce.log")"
testenv_wait_until 120 bookings_counted "$lines"

#  3. The load is gone: back to one worker, the others drained
testenv_wait_until 60 desired_is 1
retired () { [ "$(grep -c '"event":"worker_retired"' "$TESTENV_DIR/up.log")" -ge "$1" ]; }
started=$(ls "$logs" | grep -c '^worker-')
[ "$started" -ge 2 ] && [ "$started" -le 4 ] || testenv_fail "$started workers ran, not 2 to 4"
testenv_wait_until 60 retired $((started - 1))
for n in $(seq 2 "$started"); do
    grep -q '"event":"drained"' "$logs/worker-$n.log" \
        || testenv_fail "worker-$n did not drain: $(tail -3 "$logs/worker-$n.log")"
    grep '"event":"worker_retired"' "$TESTENV_DIR/up.log" | grep "\"worker-$n\"" | grep -q '"exit_code":0' \
        || testenv_fail "worker-$n did not exit 0 when drained"
done
seen 'e["topic"] == "membership" and e["name"] == "worker-2" and e["change"] == "left" and e["reason"] == "drained"' \
    || testenv_fail "no membership event shows worker-2 leaving drained"
seen 'e["topic"] == "membership" and e["change"] == "draining"' \
    || testenv_fail "no membership event shows a worker draining"

#  Nothing lost or counted twice; the table is exact
testenv_stop up INT
testenv_stop events
total=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$total" = "$lines" ] || testenv_fail "$total records counted for $lines lines"
[ "$(bookings_table_md5)" = "$(bookings_reference_md5 "$TESTENV_DIR/in/bookings.jsonl")" ] \
    || testenv_fail "the table differs from the reference"

#  The events as a client reads them
"$TESTENV_PYTHON" - "$events" <<'PY' || testenv_fail "the events are not as documented"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
marks = [e["watermark_us"] for e in events if e["topic"] == "watermark"]
assert len(set(marks)) >= 2 and marks == sorted(marks), f"watermarks did not rise: {marks[:5]}"
workers = [e for e in events if e["topic"] == "worker"]
assert workers and all({"name", "credit", "assigned", "busy", "rss_bytes", "draining"} <= set(e) for e in workers)
assert any(e["busy"] > 0.5 for e in workers), "no worker was seen busy under load"
assert any(e["rss_bytes"] > 0 for e in workers)
sockets = [e for e in events if e["topic"] == "connection"]
assert any(e["socket"] == "workers" and e["change"] == "closed" for e in sockets), "no connection closed"
assert any(e["socket"] == "workers" and e["change"] == "accepted" for e in sockets), "no connection accepted"
scale = [e for e in events if e["topic"] == "autoscale"]
keys = {"desired_workers", "reason", "workers", "queue_records", "time_to_drain_ms", "watermark_lag_ms",
        "partitions_lagging", "arrival_rate", "service_rate", "utilisation", "credit_wait", "memory"}
assert all(keys <= set(e) for e in scale)
peak = max(e["desired_workers"] for e in scale)
assert 2 <= peak <= 4, f"desired_workers peaked at {peak}"
assert any(e["arrival_rate"] > 0 for e in scale) and any(e["service_rate"] > 0 for e in scale)
print(f"events: {len(events)}; desired_workers peaked at {peak}")
PY
testenv_pass
