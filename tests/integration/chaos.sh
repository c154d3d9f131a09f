#!/usr/bin/env bash
# Chaos: producers send 200 000 bookings to a cluster run by `zetlctl up`, in 12 parts one after
# the other over about a minute, while every 2 to 5 s a random process of the cluster (the
# coordinator, a worker or the sink) is killed with SIGKILL; `zetlctl up` starts each one again.
# Each producer exits once all it sent is ACKed, i.e. committed. Then the cluster drains, and
# every record must be counted exactly once, nothing dead-lettered, and the table equal to the
# reference.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}
chaos_s=${ZETL_CHAOS_SECONDS:-60}

bookings_gen "$count" 31 "$TESTENV_DIR/in"
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")
#  No file source: the glob matches nothing; records come from the producer
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/none/*.jsonl" c
producers="ipc://$TESTENV_DIR/c-producers.ipc"

testenv_start up "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --run-dir "$TESTENV_DIR/run"
up=$TESTENV_PID
mkdir -p "$TESTENV_DIR/parts"
split -n l/12 -d "$input" "$TESTENV_DIR/parts/part-"
#  produce_all: each part by a producer of its own, 3 s apart, so that records flow all along
produce_all () {
    local part
    for part in "$TESTENV_DIR"/parts/part-*; do
        "$TESTENV_ZETLCTL" produce --timeout 600 --coordinator "$producers" \
            --config "$TESTENV_DIR/c.yaml" --name "chaos-${part##*-}" "$part" || return 1
        sleep 3   # pacing between parts, so that the chaos meets a steady flow
    done
}
testenv_start producer produce_all
producer=$TESTENV_PID

#  A random child of `zetlctl up` that is a zetl process; the coordinator the first time, so
#  that every run kills it at least once
victim () {
    local pattern='zetl-*'
    [ "$kills" -gt 0 ] || pattern='zetl-coordinat*'
    pgrep -P "$up" | while read -r pid; do
        # shellcheck disable=SC2254
        case "$(cat "/proc/$pid/comm" 2>/dev/null)" in $pattern) echo "$pid" ;; esac
    done | shuf -n 1
}

kills=0
deadline=$(($(date +%s) + chaos_s))
while [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$producer" 2>/dev/null; do
    sleep "$(shuf -i 2-5 -n 1)"   # chaos pacing: the time between two kills
    pid=$(victim)
    [ -n "$pid" ] || continue
    echo "chaos: SIGKILL $(cat "/proc/$pid/comm" 2>/dev/null) $pid" >> "$TESTENV_DIR/chaos.log"
    kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
done
[ "$kills" -ge 3 ] || testenv_fail "only $kills processes were killed: the run ended too soon"

rc=0
wait "$producer" || rc=$?
[ "$rc" = 0 ] || testenv_fail "the producer exited with $rc: $(tail -5 "$TESTENV_DIR/producer.log")"
sent=$(grep -o '"records":[0-9]*' "$TESTENV_DIR/producer.log" | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }')
[ "$sent" = "$lines" ] || testenv_fail "the producers sent $sent records, not $lines"
testenv_wait_until 60 bookings_idle
total=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$total" = "$lines" ] || testenv_fail "records counted $total times in all, not once each ($lines), after $kills kills"
dead=$(testenv_psql "SELECT count(*) FROM zetl_dead_letters")
[ "$dead" = 0 ] || testenv_fail "$dead records dead-lettered: $(testenv_psql "SELECT reason, error FROM zetl_dead_letters LIMIT 3")"
[ "$(bookings_reference_md5 "$input")" = "$(bookings_table_md5)" ] \
    || testenv_fail "after $kills kills the table differs from the reference"
echo "chaos: $kills processes killed" >&2
testenv_stop up
testenv_pass
