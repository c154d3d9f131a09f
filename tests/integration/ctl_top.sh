#!/usr/bin/env bash
# `zetlctl top` on a running cluster, read from the coordinator's event socket:
#  - started before any worker or sink joins (under valgrind when it is installed and the build
#    has no sanitizer), it draws plain frames while the bookings are loaded: they name the
#    pipeline, records in > 0, committed counts that rise to the input's lines and a commit rate
#    above 0; SIGINT ends it with exit 0 and no memory error or leak;
#  - `zetlctl top --plain --iterations 3` draws exactly 3 frames, with no escape code, that show
#    every line in and committed and one worker connected; when the event socket carries
#    "worker" events, the workers table names worker-1, and SIGTERM also ends top cleanly;
#  - a missing or bad --config is a clear error with exit 2, a bad option too; with no
#    coordinator publishing, top exits 1 and says so.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_need "$TESTENV_ZETLCTL" "$TESTENV_COORDINATOR" "$TESTENV_WORKER" "$TESTENV_SINK"
testenv_pg_start
count=${ZETL_TEST_RECORDS:-20000}
vg=()
#  (ldd's output in a variable: with pipefail, grep -q ending first can fail the pipe)
libraries=$(ldd "$TESTENV_ZETLCTL")
if command -v valgrind >/dev/null && [[ $libraries != *libasan* ]]; then
    vg=(valgrind -q --leak-check=full --error-exitcode=9)
fi

bookings_gen "$count" 31 "$TESTENV_DIR/in"
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"
events="ipc://$TESTENV_DIR/c-events.ipc"

#  rows FILE: the pipeline's rows of every frame in FILE (PIPELINE IN COMMITTED REC/S ...)
rows () { grep '^bookings-etl ' "$1" || true; }
#  frames FILE: how many frames FILE holds
frames () { grep -c '^zetl top ' "$1" || true; }
#  committed_reached FILE: a frame in FILE shows every input line in and committed
committed_reached () { rows "$1" | awk -v n="$lines" '$2 == n && $3 == n { ok = 1 } END { exit !ok }'; }
#  has_topic TOPIC: the event socket carries TOPIC events (waits up to 3 s: most come each second)
has_topic () {
    "$TESTENV_PYTHON" - "$events" "$1" <<'PY'
import sys, zmq
sub = zmq.Context.instance().socket(zmq.SUB)
sub.setsockopt(zmq.LINGER, 0)
sub.setsockopt(zmq.RCVTIMEO, 3000)
sub.setsockopt(zmq.SUBSCRIBE, sys.argv[2].encode())
sub.connect(sys.argv[1])
try:
    while sub.recv_multipart()[0] != sys.argv[2].encode():
        pass
except zmq.Again:
    sys.exit(1)
PY
}
stopped_cleanly () {
    local name=$1 rc=0
    wait "${TESTENV_PID_OF[$name]}" || rc=$?
    unset "TESTENV_PID_OF[$name]"
    [ "$rc" = 0 ] || testenv_fail "zetlctl top ($name) exited with $rc (9: valgrind found errors): $(tail -5 "$TESTENV_DIR/$name.err")"
    ! grep -q $'\033' "$TESTENV_DIR/$name.out" || testenv_fail "$name: escape codes in plain frames"
}

#  1. Bad usage and configuration: exit 2 with a message naming the problem
expect_usage_error () {
    local pattern=$1 rc=0
    shift
    "$TESTENV_ZETLCTL" top "$@" > "$TESTENV_DIR/bad.out" 2> "$TESTENV_DIR/bad.err" || rc=$?
    [ "$rc" = 2 ] || testenv_fail "zetlctl top $* exited with $rc, not 2"
    grep -q -- "$pattern" "$TESTENV_DIR/bad.err" || testenv_fail "zetlctl top $*: no '$pattern' in: $(cat "$TESTENV_DIR/bad.err")"
    [ ! -s "$TESTENV_DIR/bad.out" ] || testenv_fail "zetlctl top $*: wrote frames: $(cat "$TESTENV_DIR/bad.out")"
}
#  A misspelt key
sed 's/^    batch_size: 1000$/    batch_size: 1000\n    batch_sizes: 9/' "$TESTENV_DIR/c.yaml" > "$TESTENV_DIR/bad.yaml"
expect_usage_error "$TESTENV_DIR/missing.yaml" --config "$TESTENV_DIR/missing.yaml" --plain
expect_usage_error 'bad.yaml:[0-9]*:.*batch_sizes' --config "$TESTENV_DIR/bad.yaml" --plain
expect_usage_error '--config FILE is required' --plain
expect_usage_error '--interval abc' --config "$TESTENV_DIR/c.yaml" --interval abc
expect_usage_error '--iterations -2' --config "$TESTENV_DIR/c.yaml" --iterations -2

#  2. Nobody publishes yet: exit 1, saying where it listened
rc=0
"$TESTENV_ZETLCTL" top --config "$TESTENV_DIR/c.yaml" --plain --iterations 1 \
    > "$TESTENV_DIR/silent.out" 2> "$TESTENV_DIR/silent.err" || rc=$?
[ "$rc" = 1 ] || testenv_fail "with no coordinator, zetlctl top exited with $rc, not 1"
grep -q "no event came on $events" "$TESTENV_DIR/silent.err" || testenv_fail "silence: $(cat "$TESTENV_DIR/silent.err")"

#  3. top watching while the bookings load; the worker and sink join once it draws frames
testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
publishing () { "$TESTENV_ZETLCTL" status --config "$TESTENV_DIR/c.yaml" --json --timeout 2; }
testenv_wait_until 60 publishing
testenv_start watching bash -c 'exec "$@" > "$TESTENV_DIR/watching.out" 2> "$TESTENV_DIR/watching.err"' \
    top "${vg[@]}" "$TESTENV_ZETLCTL" top --config "$TESTENV_DIR/c.yaml" --plain --interval 0.5
testenv_wait_until 60 grep -q '^bookings-etl ' "$TESTENV_DIR/watching.out"
testenv_start worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc" --name worker-1
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc" --name sink-1
testenv_wait_until 120 committed_reached "$TESTENV_DIR/watching.out"
kill -INT "${TESTENV_PID_OF[watching]}"
stopped_cleanly watching
rows "$TESTENV_DIR/watching.out" | awk '$2 > 0 { ok = 1 } END { exit !ok }' \
    || testenv_fail "no frame shows records in: $(rows "$TESTENV_DIR/watching.out" | tail -3)"
rows "$TESTENV_DIR/watching.out" | awk '$4 != "-" && $4 > 0 { ok = 1 } END { exit !ok }' \
    || testenv_fail "no frame shows records committed per second: $(rows "$TESTENV_DIR/watching.out")"
rows "$TESTENV_DIR/watching.out" | awk '$3 < last { exit 1 } { last = $3 }' \
    || testenv_fail "the committed count went backwards: $(rows "$TESTENV_DIR/watching.out")"

#  4. Three frames of the loaded cluster
rc=0
timeout 60 "$TESTENV_ZETLCTL" top --config "$TESTENV_DIR/c.yaml" --plain --iterations 3 \
    > "$TESTENV_DIR/three.out" 2> "$TESTENV_DIR/three.err" || rc=$?
[ "$rc" = 0 ] || testenv_fail "zetlctl top --iterations 3 exited with $rc: $(cat "$TESTENV_DIR/three.err")"
[ "$(frames "$TESTENV_DIR/three.out")" = 3 ] || testenv_fail "not 3 frames: $(cat "$TESTENV_DIR/three.out")"
! grep -q $'\033' "$TESTENV_DIR/three.out" || testenv_fail "escape codes in plain frames"
[ "$(rows "$TESTENV_DIR/three.out" | wc -l)" = 3 ] || testenv_fail "the pipeline is not in every frame: $(cat "$TESTENV_DIR/three.out")"
rows "$TESTENV_DIR/three.out" | awk -v n="$lines" '$2 != n || $3 != n { exit 1 }' \
    || testenv_fail "frames do not show the $lines lines in and committed: $(rows "$TESTENV_DIR/three.out")"
[ "$(grep -c '^workers 1 connected' "$TESTENV_DIR/three.out")" = 3 ] \
    || testenv_fail "frames do not show one worker connected: $(grep '^workers' "$TESTENV_DIR/three.out")"

#  5. Worker events, once the coordinator publishes them: the workers table names worker-1
if has_topic worker; then
    grep -q '^worker-1 ' "$TESTENV_DIR/three.out" \
        || testenv_fail "\"worker\" events are published, yet no frame names worker-1: $(cat "$TESTENV_DIR/three.out")"
    echo "worker events: checked"
else
    echo "worker events: not published by this coordinator; workers table not checked"
fi

#  6. SIGTERM ends it cleanly too
testenv_start terminated bash -c 'exec "$@" > "$TESTENV_DIR/terminated.out" 2> "$TESTENV_DIR/terminated.err"' \
    top "${vg[@]}" "$TESTENV_ZETLCTL" top --config "$TESTENV_DIR/c.yaml" --plain
testenv_wait_until 60 grep -q '^bookings-etl ' "$TESTENV_DIR/terminated.out"
kill -TERM "${TESTENV_PID_OF[terminated]}"
stopped_cleanly terminated
testenv_pass
