#!/usr/bin/env bash
# PostgreSQL outages under load. With 200 000 bookings flowing through `zetlctl up` (which
# restarts the coordinator when its lock session breaks), PostgreSQL is stopped for 8 s, longer
# than max_retries batch deadlines (3 x 2 s), then started again; later it is restarted at once.
# Outages delay records, never drop them: nothing is dead-lettered, every record is counted once,
# the table equals the reference, and the sinks' circuit breaker opened and closed again.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
count=${ZETL_TEST_RECORDS:-200000}

bookings_gen "$count" 21 "$TESTENV_DIR/in"
input=$TESTENV_DIR/in/bookings.jsonl
lines=$(wc -l < "$input")
bookings_config "$TESTENV_DIR/c.yaml" "$input" c
sed -i 's/batch_timeout: 10s/batch_timeout: 2s/' "$TESTENV_DIR/c.yaml"
grep -q 'batch_timeout: 2s' "$TESTENV_DIR/c.yaml" || testenv_fail "could not set batch_timeout"

testenv_start up "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/c.yaml" --run-dir "$TESTENV_DIR/run"
testenv_wait_until 120 bookings_counted $((lines / 5))
testenv_pg_stop
sleep 8   # the outage itself: PostgreSQL stays down this long
testenv_pg_start
testenv_wait_until 180 bookings_counted $((lines * 3 / 5))
testenv_pg_restart
testenv_wait_until 240 bookings_counted "$lines"
testenv_wait_until 60 bookings_idle

total=$(testenv_psql "SELECT sum(changed + unchanged + dead_lettered + deduplicated) FROM zetl_stats")
[ "$total" = "$lines" ] || testenv_fail "records counted $total times in all, not once each ($lines)"
dead=$(testenv_psql "SELECT count(*) FROM zetl_dead_letters")
[ "$dead" = 0 ] || testenv_fail "$dead records dead-lettered during an outage: $(testenv_psql \
    "SELECT reason, error FROM zetl_dead_letters LIMIT 3")"
[ "$(bookings_reference_md5 "$input")" = "$(bookings_table_md5)" ] \
    || testenv_fail "after the outages the table differs from the reference"
grep -q '"event":"breaker_opened"' "$TESTENV_DIR"/run/logs/sink-*.log \
    || testenv_fail "no sink logged its PostgreSQL breaker opening"
grep -q '"event":"breaker_closed"' "$TESTENV_DIR"/run/logs/sink-*.log \
    || testenv_fail "no sink logged its PostgreSQL breaker closing again"
testenv_stop up
testenv_pass
