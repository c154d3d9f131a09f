#!/usr/bin/env bash
# Recovery benchmark: how long zetl takes to commit again after a process dies. A cluster run by
# `zetlctl up` (2 workers, 1 sink; up restarts what dies) loads N generated bookings (default
# 1 000 000, ZETL_BENCH_RECORDS); while it runs, a worker, then the sink, then the coordinator is
# killed with SIGKILL. For each, the time from the kill to the first commit after it (a
# zetl_stats total that grows, polled every 10 ms; for the sink and the coordinator, the first
# once `zetlctl up` has started the replacement, since what commits before is what was already
# in flight), next to the time between two commits in steady state just before (the limit:
# commits cannot come faster than that). Prints one JSON
# line per kill, then checks the table against the reference. Exits 1 if a recovery takes more
# than 15 s (a heartbeat timeout of 3 s plus a restart's backoff and start-up).
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
records=${ZETL_BENCH_RECORDS:-1000000}

bookings_gen "$records" 5 "$TESTENV_DIR/in"
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")
bookings_config "$TESTENV_DIR/c.yaml" "$input" c

committed () {
    testenv_psql "SELECT coalesce(sum(changed + unchanged + dead_lettered + deduplicated), 0) FROM zetl_stats"
}

#  wait_commit FROM: microseconds from now until the committed total exceeds FROM
wait_commit () {
    local from=$1 start now
    start=$(testenv_now_us)
    while [ "$(committed)" -le "$from" ]; do
        now=$(testenv_now_us)
        [ $((now - start)) -lt 120000000 ] || testenv_fail "no commit for 120 s"
        sleep 0.01  # the polling interval of the measurement
    done
    echo $(($(testenv_now_us) - start))
}

#  replaced NAME STARTS: up has started NAME more than STARTS times
replaced () {
    [ "$(grep -c "\"child_started\",\"child\":\"$1\"" "$TESTENV_DIR/up.log")" -gt "$2" ]
}

#  child_pid NAME: the pid of up's child NAME (coordinator, worker-1, sink-1)
child_pid () {
    grep "\"event\":\"child_started\",\"child\":\"$1\"" "$TESTENV_DIR/up.log" | tail -1 \
        | sed -E 's/.*"pid":([0-9]+).*/\1/'
}

testenv_start up "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --run-dir "$TESTENV_DIR/run"
testenv_wait_until 120 bookings_counted $((lines / 20))
rc=0
for victim in worker-1 sink-1 coordinator; do
    #  Steady state: the time between two commits
    steady=$(wait_commit "$(committed)")
    before=$(committed)
    pid=$(child_pid "$victim")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || testenv_fail "no running $victim"
    starts=$(grep -c "\"child_started\",\"child\":\"$victim\"" "$TESTENV_DIR/up.log")
    killed_at=$(testenv_now_us)
    kill -KILL "$pid"
    if [ "$victim" != worker-1 ]; then
        #  The only sink, or the coordinator: what commits before its replacement runs is what
        #  was in flight; recovery is the first commit once the replacement is up
        testenv_wait_until 60 replaced "$victim" "$starts"
        before=$(committed)
    fi
    wait_commit "$before" > /dev/null
    recovery=$(($(testenv_now_us) - killed_at))
    echo "{\"bench\":\"recovery\",\"killed\":\"$victim\",\"first_commit_after_ms\":$((recovery / 1000)),\"steady_commit_interval_ms\":$((steady / 1000))}"
    [ "$recovery" -le 15000000 ] || rc=1
    #  Let it settle before the next kill
    testenv_wait_until 60 bookings_counted $(($(committed) + lines / 20))
done
testenv_wait_until 600 bookings_counted "$lines"
testenv_wait_until 60 bookings_idle
[ "$(bookings_reference_md5 "$input")" = "$(bookings_table_md5)" ] \
    || testenv_fail "after the kills the table differs from the reference"
testenv_stop up
exit "$rc"
