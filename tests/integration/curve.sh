#!/usr/bin/env bash
# CURVE on every socket the coordinator binds and on the sinks' data endpoints. Key pairs come
# from `zetlctl keys new`; the coordinator's curve: section names its own and the directory of
# public certificates it lets in (worker-1, sink-1 and a watcher; not the intruder).
#   1. A worker whose key is not allowed cannot join: its handshakes are refused and counted
#      (connections_refused in the status, connection_refused in the log), it is never welcomed,
#      and no record is loaded while it is the only worker.
#   2. worker-1, with an allowed key, joins; every record loads once and the table equals the
#      reference (workers reach the sink's data endpoint with the key the sink announced).
#   3. The event socket: a subscriber with an allowed key reads stats; the intruder's key reads
#      nothing (zetlctl status gives up), and its refusals are counted too.
#   4. Bad keys are refused with a clear message and exit 2; a coordinator without CURVE that
#      listens beyond loopback warns.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_need "$TESTENV_COORDINATOR" "$TESTENV_WORKER" "$TESTENV_SINK" "$TESTENV_ZETLCTL"
testenv_pg_start
count=${ZETL_TEST_RECORDS:-20000}

keys=$TESTENV_DIR/keys allowed=$TESTENV_DIR/allowed
mkdir -p "$allowed"
for name in coordinator worker-1 sink-1 watcher intruder; do
    "$TESTENV_ZETLCTL" keys new "$name" --dir "$keys" > "$TESTENV_DIR/key-$name.json" \
        || testenv_fail "zetlctl keys new $name failed"
done
[ "$(stat -c %a "$keys/worker-1_secret")" = 600 ] || testenv_fail "a secret key file is readable by others"
"$TESTENV_ZETLCTL" keys new worker-1 --dir "$keys" 2> "$TESTENV_DIR/again.err" && testenv_fail "a key pair was overwritten"
grep -q "exists already" "$TESTENV_DIR/again.err" || testenv_fail "overwrite refused without saying why"
for name in worker-1 sink-1 watcher; do cp "$keys/$name" "$allowed/"; done

bookings_gen "$count" 61 "$TESTENV_DIR/in"
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
p_workers=$(testenv_free_port) p_sinks=$(testenv_free_port) p_events=$(testenv_free_port)
p_producers=$(testenv_free_port) p_data=$(testenv_free_port)
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"
sed -i -e "s|^  workers: .*|  workers: tcp://127.0.0.1:$p_workers|" \
       -e "s|^  sinks: .*|  sinks: tcp://127.0.0.1:$p_sinks|" \
       -e "s|^  producers: .*|  producers: tcp://127.0.0.1:$p_producers|" \
       -e "s|^  events: .*|  events: tcp://127.0.0.1:$p_events|" "$TESTENV_DIR/c.yaml"
printf 'curve:\n  certificate: %s/coordinator\n  allowed: %s\n' "$keys" "$allowed" >> "$TESTENV_DIR/c.yaml"

#  as NAME COMMAND...: run COMMAND with NAME's key pair and the coordinator's public key, through
#  env, which becomes COMMAND: testenv_start then holds COMMAND's own pid, to stop it
as () {
    local name=$1
    shift
    env ZETL_CURVE_CERT="$keys/$name" ZETL_CURVE_SERVER="$keys/coordinator" ZETL_CURVE_ALLOWED="$allowed" "$@"
}
as_env () {  # as_env NAME: the same, as words for testenv_start (no shell function in between)
    AS=(env ZETL_CURVE_CERT="$keys/$1" ZETL_CURVE_SERVER="$keys/coordinator" ZETL_CURVE_ALLOWED="$allowed")
}
refused () {  # refused N: the coordinator counted at least N refused handshakes
    [ "$(grep -c '"event":"connection_refused"' "$TESTENV_DIR/coordinator.log")" -ge "${1:-1}" ]
}

testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
testenv_wait_until 30 grep -q '"event":"curve_on"' "$TESTENV_DIR/coordinator.log"
as_env sink-1
testenv_start sink "${AS[@]}" "$TESTENV_SINK" --coordinator "tcp://127.0.0.1:$p_sinks" --name sink-1 \
    --bind "tcp://127.0.0.1:$p_data"
testenv_wait_until 30 grep -q '"event":"sink_joined"' "$TESTENV_DIR/coordinator.log"

#  1. The intruder
as_env intruder
testenv_start intruder "${AS[@]}" "$TESTENV_WORKER" --coordinator "tcp://127.0.0.1:$p_workers" --name intruder
testenv_wait_until 30 refused 1
#  The intruder keeps trying (its handshakes fail at once); give it a few of its hello intervals
#  to be sure none gets through: a deliberate wait, since what is checked is that nothing happens
sleep 3
grep -q '"event":"config_adopted"' "$TESTENV_DIR/intruder.log" && testenv_fail "the intruder was welcomed"
grep -q '"event":"worker_joined"' "$TESTENV_DIR/coordinator.log" && testenv_fail "the intruder joined"
[ "$(testenv_psql "SELECT coalesce(sum(changed + unchanged), 0) FROM zetl_stats")" = 0 ] \
    || testenv_fail "records were loaded with only the intruder as a worker"

#  2. An allowed worker
as_env worker-1
testenv_start worker "${AS[@]}" "$TESTENV_WORKER" --coordinator "tcp://127.0.0.1:$p_workers" --name worker-1
testenv_wait_until 120 bookings_counted "$lines"
grep '"event":"sink_joined"' "$TESTENV_DIR/worker.log" | grep -q '"curve":true' \
    || testenv_fail "worker-1 did not reach the sink over CURVE: $(grep sink_joined "$TESTENV_DIR/worker.log")"
[ "$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")" = "$lines" ] \
    || testenv_fail "records were not counted exactly once"
[ "$(bookings_table_md5)" = "$(bookings_reference_md5 "$TESTENV_DIR/in/bookings.jsonl")" ] \
    || testenv_fail "the table differs from the reference"
grep -q '"event":"config_adopted"' "$TESTENV_DIR/intruder.log" && testenv_fail "the intruder was welcomed later"

#  3. The event socket
as watcher "$TESTENV_ZETLCTL" status --config "$TESTENV_DIR/c.yaml" --json --timeout 10 \
    > "$TESTENV_DIR/watcher.out" 2> "$TESTENV_DIR/watcher.err" \
    || testenv_fail "an allowed subscriber read no stats: $(cat "$TESTENV_DIR/watcher.err")"
grep -q '"pipeline":"bookings-etl"' "$TESTENV_DIR/watcher.out" || testenv_fail "the watcher's stats: $(cat "$TESTENV_DIR/watcher.out")"
before=$(grep -c '"event":"connection_refused"' "$TESTENV_DIR/coordinator.log" || true)
rc=0
as intruder "$TESTENV_ZETLCTL" status --config "$TESTENV_DIR/c.yaml" --json --timeout 3 \
    > "$TESTENV_DIR/snoop.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && ! grep -q '"pipeline"' "$TESTENV_DIR/snoop.out" \
    || testenv_fail "the intruder read events (exit $rc): $(cat "$TESTENV_DIR/snoop.out")"
#  The refusal log is limited to one in 10 s per socket: the events socket had none before
testenv_wait_until 15 refused $((before + 1))
grep '"event":"connection_refused"' "$TESTENV_DIR/coordinator.log" | grep -q '"socket":"events"' \
    || testenv_fail "the event socket's refusal was not logged"

#  4. Bad keys, and the warning without CURVE
rc=0
ZETL_CURVE_CERT=$TESTENV_DIR/nothing "$TESTENV_WORKER" --coordinator "tcp://127.0.0.1:$p_workers" \
    2> "$TESTENV_DIR/badkey.err" || rc=$?
[ "$rc" = 2 ] && grep -q "does not load" "$TESTENV_DIR/badkey.err" \
    || testenv_fail "a missing key pair: exit $rc, $(cat "$TESTENV_DIR/badkey.err")"
rc=0
ZETL_CURVE_CERT=$keys/worker-1 "$TESTENV_WORKER" --coordinator "tcp://127.0.0.1:$p_workers" \
    2> "$TESTENV_DIR/noserver.err" || rc=$?
[ "$rc" = 2 ] && grep -q "ZETL_CURVE_SERVER" "$TESTENV_DIR/noserver.err" \
    || testenv_fail "no server key: exit $rc, $(cat "$TESTENV_DIR/noserver.err")"
#  A second coordinator of the same pipelines waits as a standby, having read its configuration:
#  without curve: and bound beyond loopback, it warns at once
sed -e '/^curve:/,$d' -e "s|tcp://127.0.0.1:$p_workers|tcp://0.0.0.0:$p_workers|" "$TESTENV_DIR/c.yaml" > "$TESTENV_DIR/open.yaml"
testenv_start open "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/open.yaml"
testenv_wait_until 30 grep -q '"event":"listening_in_clear"' "$TESTENV_DIR/open.log"
testenv_stop open
testenv_stop intruder
testenv_stop worker
testenv_stop sink
testenv_stop coordinator
testenv_pass
