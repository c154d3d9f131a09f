#!/usr/bin/env bash
# A producer's link cut at the network level: `zetlctl produce` sends bookings over TCP to the
# coordinator's cluster.producers through a relay (tests/helpers/relay.py) that resets the
# connection on both sides in the middle of a ZeroMQ frame of a batch, and then resets every new
# connection for 2 s. The producer notices no ACK, resends what is not ACKed, is told it is
# unknown on the new connection, says HELLO again and resends; the coordinator ACKs again or
# ignores what it already took. In the end the producer exits 0, the table equals the reference,
# and each record is counted exactly once: the coordinator took as many records as lines were
# sent (records_in), and records_in = loaded + dead-lettered + deduplicated. A second run cuts
# the link twice. A third one leaves the link silent instead (open, but nothing passes either way,
# as when a network path drops packets without a reset): ZMTP heartbeats must find it dead, so
# that the producer connects again rather than wait for TCP to give up minutes later.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}
relay=$TESTENV_SOURCE/tests/helpers/relay.py

bookings_gen "$count" 41 "$TESTENV_DIR/one"
bookings_gen $((count / 2)) 42 "$TESTENV_DIR/two"
bookings_gen $((count / 4)) 43 "$TESTENV_DIR/three"
cat "$TESTENV_DIR/one/bookings.jsonl" "$TESTENV_DIR/two/bookings.jsonl" > "$TESTENV_DIR/both.jsonl"
cat "$TESTENV_DIR/both.jsonl" "$TESTENV_DIR/three/bookings.jsonl" > "$TESTENV_DIR/all.jsonl"
#  No file source (the glob matches nothing); producers over TCP on loopback, as over a network
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/none/*.jsonl" c
coordinator_port=$(testenv_free_port)
sed -i "s|^  producers: .*|  producers: tcp://127.0.0.1:$coordinator_port|" "$TESTENV_DIR/c.yaml"
grep -q "producers: tcp://127.0.0.1:$coordinator_port" "$TESTENV_DIR/c.yaml" \
    || testenv_fail "cannot set cluster.producers in $TESTENV_DIR/c.yaml"

testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
testenv_start worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc"
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc"

counted () {
    testenv_psql "SELECT coalesce(sum(changed + unchanged + dead_lettered + deduplicated), 0) FROM zetl_stats"
}
#  records_in of the coordinator's latest stats event: the records it took from producers
records_in () {
    "$TESTENV_ZETLCTL" status --config "$TESTENV_DIR/c.yaml" --json --timeout 3 2>/dev/null \
        | grep -o '"records_in":[0-9]*' | head -1 | cut -d: -f2
}
records_in_is () { [ "$(records_in)" = "$1" ]; }
#  The number of EVENT lines in the JSON log FILE (0 if none)
events () { grep -c "\"event\":\"$2\"" "$1" || true; }

#  records_in reaches TOTAL within 15 s (stats events come every few seconds), or the test fails
#  with what it is: more means a resent record was taken twice
wait_records_in () {
    local total=$1 deadline=$(($(testenv_now_us) + 15000000))
    until [ "$(records_in)" = "$total" ]; do
        [ "$(testenv_now_us)" -lt "$deadline" ] \
            || testenv_fail "$2: the coordinator took $(records_in) records, not the $total sent"
        sleep 0.2  # poll interval, until the deadline
    done
}

#  scenario NAME MODE FILE REFERENCE TOTAL CUT_BYTES...: send FILE as producer NAME through a
#  relay that cuts the link once CUT_BYTES have passed (each), by resetting it (MODE reset) or
#  leaving it silent (MODE silent), and check that every record arrived exactly once: TOTAL
#  records counted in all, the table equal to the reference of REFERENCE
scenario () {
    local name=$1 mode=$2 file=$3 reference=$4 total=$5 lines port rc=0 cut_args=() cut
    shift 5
    for cut in "$@"; do cut_args+=(--cut-after-bytes "$cut"); done
    [ "$mode" = reset ] || cut_args+=(--silent)
    lines=$(wc -l < "$file")
    local log=$TESTENV_DIR/producer-$name.log relay_log=$TESTENV_DIR/relay-$name.log
    testenv_start "relay-$name" "$TESTENV_PYTHON" "$relay" --target "127.0.0.1:$coordinator_port" \
        --port-file "$TESTENV_DIR/relay-$name.port" --down-for 2 "${cut_args[@]}"
    testenv_wait_until 10 test -s "$TESTENV_DIR/relay-$name.port"
    port=$(cat "$TESTENV_DIR/relay-$name.port")

    testenv_start "producer-$name" "$TESTENV_ZETLCTL" produce --timeout 120 \
        --coordinator "tcp://127.0.0.1:$port" --name "$name" "$file"
    wait "${TESTENV_PID_OF[producer-$name]}" || rc=$?
    [ "$rc" = 0 ] || testenv_fail "$name: zetlctl produce exited with $rc: $(tail -5 "$log")"
    grep -q "\"records\":$lines," "$log" || testenv_fail "$name: summary: $(tail -1 "$log")"

    #  The relay cut the link as asked, each time inside a ZeroMQ frame, and the producer
    #  connected again after each cut (reset: it tried while the link was down, too)
    [ "$(events "$relay_log" cut)" = $# ] \
        || testenv_fail "$name: the relay cut $(events "$relay_log" cut) times, not $#"
    if grep '"event":"cut"' "$relay_log" \
        | grep -qv '"zmtp":{"in":"\(message_frame\|frame_header\|command\)"'; then
        testenv_fail "$name: a cut was not inside a ZeroMQ frame: $(grep '"event":"cut"' "$relay_log")"
    fi
    [ "$(events "$relay_log" accepted)" -gt $# ] \
        || testenv_fail "$name: the producer did not connect again after each cut"
    [ "$mode" = silent ] || [ "$(events "$relay_log" reset_while_down)" -ge 1 ] \
        || testenv_fail "$name: the producer never tried to reconnect while the link was down"
    #  The producer found itself unknown on the new connection, said HELLO again and resent
    [ "$(events "$log" producer_rehello)" -ge $# ] \
        || testenv_fail "$name: no producer_rehello after each cut"
    [ "$(events "$log" producer_session)" -ge $# ] \
        || testenv_fail "$name: no new session (which resends) after each cut"
    grep -q '"resent":[1-9]' "$log" || testenv_fail "$name: nothing was resent: $(tail -1 "$log")"
    [ "$(grep '"event":"producer_joined"' "$TESTENV_DIR/coordinator.log" | grep -c "\"producer\":\"$name\"")" -gt $# ] \
        || testenv_fail "$name: the coordinator did not see the producer again after each cut"

    #  ACKed means committed: every record is counted, once, by the time produce exits
    [ "$(counted)" = "$total" ] || testenv_fail "$name: records counted $(counted) times in all, not once each ($total)"
    #  and the coordinator took each line once: resends were ACKed again or ignored
    wait_records_in "$total" "$name"
    [ "$(bookings_reference_md5 "$reference")" = "$(bookings_table_md5)" ] \
        || testenv_fail "$name: the table differs from the reference"
    testenv_stop "relay-$name"
    grep -q '"event":"stopped"' "$relay_log" || testenv_fail "$name: the relay did not stop cleanly"
}

#  One cut, a third of the way through (msgpack on the wire is smaller than the JSON lines)
lines_one=$(wc -l < "$TESTENV_DIR/one/bookings.jsonl")
size_one=$(stat -c %s "$TESTENV_DIR/one/bookings.jsonl")
scenario cut-once reset "$TESTENV_DIR/one/bookings.jsonl" "$TESTENV_DIR/one/bookings.jsonl" \
    "$lines_one" $((size_one / 3))
#  Under ZETL_TEST_SHORT (the sanitizer run) one cut is enough: the plain run holds the rest
if [ "${ZETL_TEST_SHORT:-0}" = 1 ]; then
    testenv_pass
fi
#  Two cuts in one run
lines_two=$(wc -l < "$TESTENV_DIR/two/bookings.jsonl")
size_two=$(stat -c %s "$TESTENV_DIR/two/bookings.jsonl")
scenario cut-twice reset "$TESTENV_DIR/two/bookings.jsonl" "$TESTENV_DIR/both.jsonl" \
    $((lines_one + lines_two)) $((size_two / 4)) $((size_two / 2))
#  A silent link, half-way through. produce's --timeout 120 bounds the wait: without heartbeats
#  the dead connection would stay open until TCP gives up, about 15 minutes later
lines_three=$(wc -l < "$TESTENV_DIR/three/bookings.jsonl")
size_three=$(stat -c %s "$TESTENV_DIR/three/bookings.jsonl")
scenario cut-silent silent "$TESTENV_DIR/three/bookings.jsonl" "$TESTENV_DIR/all.jsonl" \
    $((lines_one + lines_two + lines_three)) $((size_three / 2))
testenv_pass
