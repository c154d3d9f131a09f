#!/usr/bin/env bash
# Hosts apart (DESIGN §10): the coordinator, two workers, a sink and PostgreSQL each run on a
# host of their own (network namespaces joined by a bridge, 10.77.0.0/24), over a slow and lossy
# network: every worker reaches the coordinator, and the sink's data endpoint, through a relay
# adding 50 ms each way (tests/helpers/relay.py; the sink advertises its relay's address), and
# drops 1 % of its packets at random each way (nftables). Mid-run, worker-1's cable is pulled
# for 5 s and plugged back: the coordinator must find it silent, hand its batches to worker-2,
# and take it back once it says HELLO again. In the end, the table equals the reference and
# every input line is counted once (the reconciliation balances, records_in and the sum of
# zetl_stats are the lines). Skips (77) when not root or the kernel refuses namespaces.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
source "$(dirname "$0")/../helpers/netns.sh"
testenv_init
netns_init
testenv_need "$TESTENV_COORDINATOR" "$TESTENV_WORKER" "$TESTENV_SINK" "$TESTENV_ZETLCTL"
count=${ZETL_TEST_RECORDS:-60000}
relay=$TESTENV_SOURCE/tests/helpers/relay.py
delay_ms=50
cut_s=5

netns_add coord 10.77.0.1
netns_add pg 10.77.0.5
netns_add w1 10.77.0.11
netns_add w2 10.77.0.12
netns_add sink 10.77.0.21
netns_add_loss w1 1
netns_add_loss w2 1

#  PostgreSQL on its own host, over TCP for zetl (the test's psql keeps the unix socket)
TESTENV_PG_LISTEN=10.77.0.5 TESTENV_PG_NETNS=$NETNS_PREFIX-pg testenv_pg_start
export ZETL_POSTGRES="host=10.77.0.5 port=$PGPORT dbname=zetl user=$PGUSER connect_timeout=5"
psql_bin=$TESTENV_PG_BINDIR/psql
[ -x "$psql_bin" ] || psql_bin=psql
for host in coord sink; do
    [ "$(netns_exec "$host" "$psql_bin" -X -A -t -d "$ZETL_POSTGRES" -c "SELECT 1" 2>&1)" = 1 ] \
        || testenv_fail "PostgreSQL at 10.77.0.5 is not reachable from $host"
done

bookings_gen "$count" 77 "$TESTENV_DIR/in"
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/in/*.jsonl"
sed -i -e 's|^  producers: .*|  producers: tcp://10.77.0.1:5570|' \
       -e 's|^  workers: .*|  workers: tcp://10.77.0.1:5571|' \
       -e 's|^  sinks: .*|  sinks: tcp://10.77.0.1:5572|' \
       -e 's|^  events: .*|  events: tcp://10.77.0.1:5573|' "$TESTENV_DIR/c.yaml"
[ "$(grep -c '^  [a-z]*: tcp://10.77.0.1:557[0-3]$' "$TESTENV_DIR/c.yaml")" = 4 ] \
    || testenv_fail "cannot set the cluster endpoints in $TESTENV_DIR/c.yaml"

#  relay NAME HOST LISTEN_ADDR:PORT TARGET: a relay adding the delay, on HOST
relay () {
    netns_start "relay-$1" "$2" "$TESTENV_PYTHON" "$relay" --listen-host "${3%:*}" --listen "${3#*:}" \
        --target "$4" --delay-ms "$delay_ms" --port-file "$TESTENV_DIR/relay-$1.port"
}
#  On the coordinator's host, one relay per worker to its worker endpoint; on the sink's host,
#  one to its data endpoint, which it advertises
relay coord-w1 coord 10.77.0.1:6571 10.77.0.1:5571
relay coord-w2 coord 10.77.0.1:6572 10.77.0.1:5571
relay sink-data sink 10.77.0.21:6580 127.0.0.1:5580
for name in coord-w1 coord-w2 sink-data; do
    testenv_wait_until 10 test -s "$TESTENV_DIR/relay-$name.port"
done

netns_start coordinator coord "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml" --once
coordinator=$TESTENV_PID
netns_start sink-1 sink "$TESTENV_SINK" --coordinator tcp://10.77.0.1:5572 --name sink-1 \
    --bind tcp://127.0.0.1:5580 --advertise tcp://10.77.0.21:6580
#  Each batch takes slow_ms more on a worker, so that the run outlasts the cut and the worker's
#  return by several seconds (without, the 60 000 records take about 3 s)
export ZETL_FAULT_SLOW_MS=${ZETL_FAULT_SLOW_MS:-400}
netns_start worker-1 w1 "$TESTENV_WORKER" --coordinator tcp://10.77.0.1:6571 --name worker-1
netns_start worker-2 w2 "$TESTENV_WORKER" --coordinator tcp://10.77.0.1:6572 --name worker-2

#  The number of EVENT lines in the JSON log FILE [whose line also holds TEXT]
events () { grep "\"event\":\"$2\"" "$1" | grep -c -- "${3:-}" || true; }
#  Both workers joined, and both sent results to the sink through its relay, from their hosts
both_working () {
    [ "$(events "$TESTENV_DIR/coordinator.log" worker_joined '"peer":"worker-1"')" -ge 1 ] \
        && [ "$(events "$TESTENV_DIR/coordinator.log" worker_joined '"peer":"worker-2"')" -ge 1 ] \
        && [ "$(events "$TESTENV_DIR/relay-sink-data.log" accepted '"peer":"10.77.0.11:')" -ge 1 ] \
        && [ "$(events "$TESTENV_DIR/relay-sink-data.log" accepted '"peer":"10.77.0.12:')" -ge 1 ]
}
testenv_wait_until 60 both_working
testenv_wait_until 120 bookings_counted $((lines / 5))
bookings_counted "$lines" && testenv_fail "the run ended before the cut: give ZETL_TEST_RECORDS more"

#  The cut: worker-1's port on the switch goes down for cut_s seconds, packets vanish silently
testenv_wait_until 10 netns_reaches w1 10.77.0.1
counted_at_cut=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
cut_at=$(testenv_now_us)
connections_before=$(events "$TESTENV_DIR/relay-coord-w1.log" accepted)
netns_cut w1
netns_reaches w1 10.77.0.1 2 && testenv_fail "worker-1's host still reaches the coordinator's host after the cut"
#  Deliberate: the link stays down cut_s seconds in all (the probe above took some of them)
sleep "$(awk -v left=$((cut_at + cut_s * 1000000 - $(testenv_now_us))) 'BEGIN { printf "%.3f", (left > 0 ? left / 1e6 : 0) }')"
netns_restore w1
testenv_wait_until 10 netns_reaches w1 10.77.0.1

#  The coordinator found worker-1 silent and took it back once it said HELLO again; the worker
#  found the coordinator silent and connected again through its relay
#  (a HELLO repeated while the first was under way also shows as leaving and joining: what counts
#  is joining after leaving for silence)
rejoined () {
    awk '/"peer":"worker-1"/ && /"event":"worker_left"/ && /"why":"heartbeats stopped"/ { left = 1 }
         /"peer":"worker-1"/ && /"event":"worker_joined"/ && left { back = 1 }
         END { exit !back }' "$TESTENV_DIR/coordinator.log"
}
rejoined_or_ended () { rejoined || ! kill -0 "$coordinator" 2>/dev/null; }
testenv_wait_until 30 rejoined_or_ended
rejoined || testenv_fail "worker-1 did not come back in the $((($(testenv_now_us) - cut_at) / 1000000 - cut_s)) s" \
    "between the link's return and the end of the run (if that is short, give ZETL_TEST_RECORDS more)"
[ "$(events "$TESTENV_DIR/worker-1.log" coordinator_silent)" -ge 1 ] \
    || testenv_fail "worker-1 never found the coordinator silent during the cut"
[ "$(events "$TESTENV_DIR/relay-coord-w1.log" accepted '"peer":"10.77.0.11:')" -gt "$connections_before" ] \
    || testenv_fail "worker-1 did not connect again through its relay after the cut"
[ "$(grep '"event":"worker_left"' "$TESTENV_DIR/coordinator.log" | grep '"peer":"worker-2"' \
      | grep -vc '"why":"said HELLO again"' || true)" = 0 ] \
    || testenv_fail "worker-2 left too, but its link was never cut"

#  The run completes; the coordinator exits 0 with a balanced reconciliation
coordinator_exited () { ! kill -0 "$coordinator" 2>/dev/null; }
testenv_wait_until 240 coordinator_exited
rc=0
wait "$coordinator" || rc=$?
[ "$rc" = 0 ] || testenv_fail "the coordinator exited with $rc"
counted=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$counted_at_cut" -lt "$lines" ] \
    || testenv_fail "every line was counted before the cut ($counted_at_cut): the cut was not mid-run"
grep '"pipeline":"bookings-etl"' "$TESTENV_DIR/coordinator.log" | grep -v '"level"' > "$TESTENV_DIR/once.out" || true
bookings_check "$TESTENV_DIR/once.out" "$input"
[ "$counted" = "$lines" ] \
    || testenv_fail "zetl_stats counts $counted records, not the $lines input lines once each"
dead=$(testenv_psql "SELECT sum(dead_lettered) FROM zetl_stats")
[ "$dead" = 0 ] || testenv_fail "$dead records were dead-lettered: outages must never count as tries"

#  The network was as said: the relays delayed every worker's traffic, and the loss rules dropped
#  packets on both workers' hosts
for name in coord-w1 coord-w2 sink-data; do
    grep '"event":"listening"' "$TESTENV_DIR/relay-$name.log" | grep -q "\"delay_ms\":$delay_ms" \
        || testenv_fail "relay $name did not add ${delay_ms} ms"
done
[ "$(events "$TESTENV_DIR/relay-coord-w2.log" accepted '"peer":"10.77.0.12:')" -ge 1 ] \
    || testenv_fail "worker-2 did not reach the coordinator through its relay"
#  worker-1 got batches again once back: its connections made after the cut carried more than
#  a batch's bytes (about 125 kB) coordinator->worker (the relay counts them as they close)
testenv_stop relay-coord-w1
after_cut=$(grep '"event":"closed"' "$TESTENV_DIR/relay-coord-w1.log" \
    | awk -v before="$connections_before" -F'[:,]' '
        { for (i = 1; i < NF; i++) { if ($i == "\"connection\"") c = $(i + 1); if ($i == "\"down_bytes\"") d = $(i + 1) }
          if (c > before) sum += d }
        END { print sum + 0 }')
[ "$after_cut" -gt 100000 ] \
    || testenv_fail "worker-1 got no batch after the cut ($after_cut bytes from the coordinator)"
for host in w1 w2; do
    [ "$(netns_dropped "$host")" -ge 1 ] || testenv_fail "no packet was dropped on $host"
done
#  The workers and the sink stop cleanly (exit 0, no sanitizer report) after what they went through
for name in worker-1 worker-2 sink-1; do
    kill -TERM "${TESTENV_PID_OF[$name]}" 2>/dev/null || true
done
for name in worker-1 worker-2 sink-1; do
    pid=${TESTENV_PID_OF[$name]}
    testenv_wait_until 30 eval "! kill -0 $pid 2>/dev/null"
    rc=0
    wait "$pid" || rc=$?
    unset "TESTENV_PID_OF[$name]"
    [ "$rc" = 0 ] || testenv_fail "$name exited with $rc when stopped"
    ! grep -q 'Sanitizer\|runtime error' "$TESTENV_DIR/$name.log" \
        || testenv_fail "$name: sanitizer report in $TESTENV_DIR/$name.log"
done
echo "multihost: $lines lines; packets dropped: w1 $(netns_dropped w1) of $(netns_packets w1)," \
    "w2 $(netns_dropped w2) of $(netns_packets w2);" \
    "counted before the cut: $counted_at_cut; bytes to worker-1 after it: $after_cut"
testenv_pass
