# shellcheck shell=bash
# redis.sh - a private Redis for zetl's integration tests, sourced after testenv.sh
#
#     source "$(dirname "$0")/../helpers/testenv.sh"
#     source "$(dirname "$0")/../helpers/redis.sh"
#     testenv_init
#     testenv_redis_start                # exports ZETL_REDIS=unix://$TESTENV_DIR/redis/redis.sock
#     testenv_redis_cli HLEN zetl:lut:hotels:v1
#
# The server runs in the foreground as a child started with testenv_start (name "redis", log
# $TESTENV_DIR/redis.log), so the test's cleanup stops it. It listens on a unix socket only
# (port 0) and keeps nothing on disk. No redis-server: the test is skipped (77).

#  Start redis-server on $TESTENV_DIR/redis/redis.sock and wait until it answers PING (10 s).
#  Exports ZETL_REDIS and TESTENV_REDIS_SOCKET.
testenv_redis_start () {
    [ -n "${TESTENV_DIR:-}" ] || testenv_fail "call testenv_init before testenv_redis_start"
    local server
    server=$(command -v redis-server || true)
    [ -n "$server" ] || testenv_skip "no redis-server; apt-get install redis-server"
    command -v redis-cli >/dev/null || testenv_skip "no redis-cli; apt-get install redis-tools"
    TESTENV_REDIS_DIR=$TESTENV_DIR/redis
    TESTENV_REDIS_SOCKET=$TESTENV_REDIS_DIR/redis.sock
    mkdir -p "$TESTENV_REDIS_DIR"
    testenv_start redis "$server" --port 0 --unixsocket "$TESTENV_REDIS_SOCKET" \
        --unixsocketperm 700 --save '' --appendonly no --dir "$TESTENV_REDIS_DIR" --daemonize no
    testenv_wait_until 10 testenv_redis_ping
    export ZETL_REDIS=unix://$TESTENV_REDIS_SOCKET
    export TESTENV_REDIS_DIR TESTENV_REDIS_SOCKET
}

#  Succeed when the test's Redis answers PING.
testenv_redis_ping () {
    [ "$(redis-cli -s "$TESTENV_REDIS_SOCKET" ping 2>/dev/null)" = PONG ]
}

#  redis-cli against the test's Redis, raw output (no quoting, no type prefixes).
testenv_redis_cli () {
    redis-cli -s "$TESTENV_REDIS_SOCKET" --raw "$@"
}

#  Stop the test's Redis (SIGTERM, then wait; KILL after 10 s).
testenv_redis_stop () {
    testenv_stop redis
}
