#!/usr/bin/env bash
# Two regions: cluster a loads 20 000 bookings from a file into its database zetl_a, and its
# pipeline's only target is `forward` to cluster b, a central one whose bookings pipeline is fed
# by producers alone and writes the table bookings in its database zetl_b. The link a -> b goes
# through tests/helpers/relay.py: 40 ms each way (about 80 ms round trip), and cut once a third of
# the way through (both sides reset, new connections refused for 10 s). a's sink is killed with
# SIGKILL once mid-run and started again. In the end b's table equals the reference computed
# from a's input, no booking is there twice, a's reconciliation balances (every record read was
# forwarded, dead-lettered or deduplicated, once), and b counted every forwarded record at least
# once (some twice: resent after the cut or the kill, and dropped there as duplicates).
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-20000}
relay=$TESTENV_SOURCE/tests/helpers/relay.py
started_us=$(testenv_now_us)

testenv_psql "CREATE DATABASE zetl_a" >/dev/null
testenv_psql "CREATE DATABASE zetl_b" >/dev/null
postgres_a=${ZETL_POSTGRES/dbname=zetl/dbname=zetl_a}
postgres_b=${ZETL_POSTGRES/dbname=zetl/dbname=zetl_b}

bookings_gen "$count" 31 "$TESTENV_DIR/in"
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")

#  ---- Cluster b: producers over TCP, the table bookings in zetl_b
port_b=$(testenv_free_port)
bookings_config "$TESTENV_DIR/b.yaml" "$TESTENV_DIR/none/*.jsonl" b
sed -i -e 's/^  name: test$/  name: b\n  http: off/' \
    -e "s|^  producers: .*|  producers: tcp://127.0.0.1:$port_b|" \
    -e 's|^    source: .*|    source: { type: producer }|' "$TESTENV_DIR/b.yaml"
grep -q 'type: producer' "$TESTENV_DIR/b.yaml" && grep -q '  name: b' "$TESTENV_DIR/b.yaml" \
    || testenv_fail "cannot write cluster b's configuration"
testenv_start b-coordinator env ZETL_POSTGRES="$postgres_b" "$TESTENV_COORDINATOR" \
    --config "$TESTENV_DIR/b.yaml"
testenv_start b-worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/b-workers.ipc"
testenv_start b-sink env ZETL_POSTGRES="$postgres_b" "$TESTENV_SINK" \
    --coordinator "ipc://$TESTENV_DIR/b-sinks.ipc" --name b-sink-1
listening () {
    "$TESTENV_PYTHON" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1"
}
testenv_wait_until 20 listening "$port_b"

#  ---- The link: 40 ms each way, cut once a third of a's input has passed (msgpack is a bit
#  smaller than the JSON lines, so this is about a third of the way), down for 10 s
cut_bytes=$(($(stat -c %s "$input") / 3))
testenv_start relay "$TESTENV_PYTHON" "$relay" --target "127.0.0.1:$port_b" \
    --port-file "$TESTENV_DIR/relay.port" --delay-ms 40 --cut-after-bytes "$cut_bytes" --down-for 10
testenv_wait_until 10 test -s "$TESTENV_DIR/relay.port"
link=tcp://127.0.0.1:$(cat "$TESTENV_DIR/relay.port")

#  ---- Cluster a: the file, forwarded to b's bookings-etl through the relay
bookings_config "$TESTENV_DIR/a.yaml" "$TESTENV_DIR/in/*.jsonl" a
sed -i -e 's/^  name: test$/  name: a\n  http: off/' \
    -e "s|^      - { type: postgres, table: bookings, primary_key: \[booking_id\] }|      - { type: forward, coordinator: \"$link\", pipeline: bookings-etl, timeout: 2s }|" \
    "$TESTENV_DIR/a.yaml"
grep -q 'type: forward' "$TESTENV_DIR/a.yaml" || testenv_fail "cannot write cluster a's configuration"
target="forward:$link/bookings-etl"
testenv_start a-coordinator env ZETL_POSTGRES="$postgres_a" "$TESTENV_COORDINATOR" \
    --config "$TESTENV_DIR/a.yaml" --once
coordinator_a=$TESTENV_PID
testenv_start a-worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/a-workers.ipc"
testenv_start a-sink env ZETL_POSTGRES="$postgres_a" "$TESTENV_SINK" \
    --coordinator "ipc://$TESTENV_DIR/a-sinks.ipc" --name sink-1

#  Records a has committed: forwarded (ACKed by b), dead-lettered or deduplicated
committed_a () {
    testenv_psql_in zetl_a "SELECT coalesce(sum(changed + unchanged + dead_lettered + deduplicated), 0) FROM zetl_stats" 2>/dev/null || echo 0
}
committed_a_at_least () { [ "$(committed_a)" -ge "$1" ]; }
events () { grep -c "\"event\":\"$2\"" "$1" || true; }

#  The kill: once the link was cut and came back, and a has committed half of its input
testenv_wait_until 60 grep -q '"event":"cut"' "$TESTENV_DIR/relay.log"
testenv_wait_until 60 committed_a_at_least $((lines / 2))
committed_a_at_least "$lines" && testenv_fail "a had committed everything before its sink was killed"
testenv_stop a-sink KILL
testenv_start a-sink-again env ZETL_POSTGRES="$postgres_a" "$TESTENV_SINK" \
    --coordinator "ipc://$TESTENV_DIR/a-sinks.ipc" --name sink-1

#  a's coordinator (--once) ends once every record is committed there, which for a forward
#  target means ACKed by b, which means committed in b
deadline=$(($(testenv_now_us) + 90000000))
while kill -0 "$coordinator_a" 2>/dev/null; do
    [ "$(testenv_now_us)" -lt "$deadline" ] \
        || testenv_fail "cluster a did not finish within 90 s: $(committed_a) of $lines committed"
    sleep 0.2  # poll interval, until the deadline
done
rc=0
wait "$coordinator_a" || rc=$?
[ "$rc" = 0 ] || testenv_fail "a's coordinator exited with $rc"

#  a: its reconciliation balances, and it read every line once
grep '"pipeline":"bookings-etl"' "$TESTENV_DIR/a-coordinator.log" | grep -v '"level"' \
    > "$TESTENV_DIR/a.out" || true
bookings_reconciliation_ok "$TESTENV_DIR/a.out" \
    || testenv_fail "a's reconciliation does not balance: $(cat "$TESTENV_DIR/a.out")"
[ "$(bookings_field "$TESTENV_DIR/a.out" records_in)" = "$lines" ] \
    || testenv_fail "a's records_in is not the $lines input lines: $(cat "$TESTENV_DIR/a.out")"
grep -q "\"target\":\"$target\"" "$TESTENV_DIR/a.out" \
    || testenv_fail "a's reconciliation is not the forward target's: $(cat "$TESTENV_DIR/a.out")"
forwarded=$(bookings_field "$TESTENV_DIR/a.out" records_loaded)

#  b: the table equals the reference of a's input, and nothing is in it twice
expected=$(bookings_reference_md5 "$input" zetl_b)
actual=$(bookings_table_md5 zetl_b)
[ "$expected" = "$actual" ] || testenv_fail "b's table differs from the reference of a's input"
doubled=$(testenv_psql_in zetl_b "SELECT count(*) - count(DISTINCT booking_id) FROM bookings")
[ "$doubled" = 0 ] || testenv_fail "$doubled bookings are in b's table more than once"
#  b counted each forwarded record at least once (loaded, or dropped as a duplicate of itself)
counted_b=$(testenv_psql_in zetl_b "SELECT coalesce(sum(changed + unchanged + dead_lettered + deduplicated), 0) FROM zetl_stats")
[ "$counted_b" -ge "$forwarded" ] \
    || testenv_fail "b counted $counted_b records, fewer than the $forwarded a forwarded"
dead_b=$(testenv_psql_in zetl_b "SELECT count(*) FROM zetl_dead_letters")
[ "$dead_b" = 0 ] || testenv_fail "b dead-lettered $dead_b forwarded records"

#  What happened on the way: the link was cut, and came back; the sink that was killed had the
#  same producer name as the one started again, and b saw both sessions
[ "$(events "$TESTENV_DIR/relay.log" cut)" = 1 ] \
    || testenv_fail "the relay cut the link $(events "$TESTENV_DIR/relay.log" cut) times, not once"
[ "$(events "$TESTENV_DIR/relay.log" reset_while_down)" -ge 1 ] \
    || testenv_fail "a never tried to reconnect while the link was down"
grep -q '"event":"producer_connected".*"name":"a-bookings-etl/sink-1"' "$TESTENV_DIR/a-sink-again.log" \
    || testenv_fail "the restarted sink did not connect to b as a-bookings-etl/sink-1"
[ "$(grep '"event":"producer_joined"' "$TESTENV_DIR/b-coordinator.log" | grep -c '"producer":"a-bookings-etl/sink-1"')" -ge 2 ] \
    || testenv_fail "b did not see the producer again after the cut and the kill"
positions=$(testenv_psql_in zetl_a "SELECT count(*) FROM zetl_offsets WHERE target = '$target' AND position >= 0")
[ "$positions" -gt 0 ] || testenv_fail "a keeps no positions for $target"
deduplicated_b=$(testenv_psql_in zetl_b "SELECT coalesce(sum(deduplicated), 0) FROM zetl_stats")
echo "forward: $lines lines, $forwarded forwarded, b counted $counted_b ($deduplicated_b as duplicates)," \
    "$(cat "$TESTENV_DIR"/a-sink*.log | grep -c '"event":"producer_session"' || true) new sessions," \
    "$((($(testenv_now_us) - started_us) / 1000)) ms" >&2
testenv_pass
