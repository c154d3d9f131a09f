#!/usr/bin/env bash
# The sink's last-write-wins tie-break: two versions of one key with the same event time (and
# the same lookup generation) are ordered by zetl_hash, so the winner is the same whatever order
# they arrive in, in one transaction or in two; an older version never replaces a newer one.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start

a='{"booking_id":"BK-1","hotel_id":1,"amount":10.00,"status":"new","updated_at":"2026-01-01T10:00:00Z"}'
b='{"booking_id":"BK-1","hotel_id":1,"amount":20.00,"status":"confirmed","updated_at":"2026-01-01T10:00:00Z"}'
old='{"booking_id":"BK-1","hotel_id":1,"amount":5.00,"status":"new","updated_at":"2026-01-01T09:00:00Z"}'

#  run NAME LINES...: load the lines as one file, in the order given, into database NAME
run () {
    local name=$1
    shift
    testenv_psql "CREATE DATABASE $name" >/dev/null
    mkdir -p "$TESTENV_DIR/$name"
    printf '%s\n' "$@" > "$TESTENV_DIR/$name/in.jsonl"
    bookings_config "$TESTENV_DIR/$name.yaml" "$TESTENV_DIR/$name/*.jsonl" "$name"
    bookings_up "$name" "$TESTENV_DIR/$name.yaml" "$name" --workers 1
    bookings_reconciliation_ok "$TESTENV_DIR/$name.out" || testenv_fail "run $name does not balance"
}

#  One transaction, both orders; then the two versions in two separate runs, both orders
run ab "$a" "$b" "$old"
run ba "$old" "$b" "$a"
ab=$(testenv_psql_in ab "SELECT amount || ' ' || encode(zetl_hash, 'hex') FROM bookings")
ba=$(testenv_psql_in ba "SELECT amount || ' ' || encode(zetl_hash, 'hex') FROM bookings")
[ "$ab" = "$ba" ] || testenv_fail "arrival order changed the winner: [$ab] vs [$ba]"
[ "$(testenv_psql_in ab "SELECT count(*) FROM bookings")" = 1 ] || testenv_fail "one key, one row"
[ "$(bookings_field "$TESTENV_DIR/ab.out" unchanged)" = 2 ] || testenv_fail "two versions lost: $(cat "$TESTENV_DIR/ab.out")"

for order in "a b" "b a"; do
    name=seq_${order/ /}
    testenv_psql "CREATE DATABASE $name" >/dev/null
    for version in $order old; do
        mkdir -p "$TESTENV_DIR/$name"
        eval "printf '%s\n' \"\$$version\"" > "$TESTENV_DIR/$name/$version.jsonl"
        bookings_config "$TESTENV_DIR/$name.yaml" "$TESTENV_DIR/$name/$version.jsonl" "$name"
        bookings_up "$name-$version" "$TESTENV_DIR/$name.yaml" "$name" --workers 1
    done
    got=$(testenv_psql_in "$name" "SELECT amount || ' ' || encode(zetl_hash, 'hex') FROM bookings")
    [ "$got" = "$ab" ] || testenv_fail "separate transactions ($order) gave [$got], one gave [$ab]"
done
#  The winner is the version with the greater hash, as the upsert's ORDER BY says
testenv_pass
