# shellcheck shell=bash
# testenv.sh - helpers for zetl's integration tests, sourced by tests/integration/*.sh
#
#     set -euo pipefail
#     source "$(dirname "$0")/../helpers/testenv.sh"
#     testenv_init                       # work dir, cleanup on exit
#     testenv_pg_start                   # private PostgreSQL; exports ZETL_POSTGRES, PGHOST, ...
#     testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/pipeline.yaml"
#     testenv_wait_until 30 testenv_psql_true "SELECT count(*) = 1000 FROM bookings"
#     testenv_pass
#
# Exit codes follow ctest: 0 passed, 1 failed, 77 skipped (e.g. no PostgreSQL server programs).
# ctest sets ZETL_BIN (the build directory) and ZETL_SOURCE; by hand, export them or run from a
# checkout with a build/ directory. Functions that end the test (testenv_fail, testenv_skip, the
# deadline of testenv_wait_until) exit the shell they run in: call them from the test's own shell,
# not inside $( ).

TESTENV_SOURCE=${ZETL_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ZETL_SOURCE=$TESTENV_SOURCE
ZETL_BIN=${ZETL_BIN:-$TESTENV_SOURCE/build}
TESTENV_COORDINATOR=$ZETL_BIN/coordinator/zetl-coordinator
TESTENV_WORKER=$ZETL_BIN/worker/zetl-worker
TESTENV_SINK=$ZETL_BIN/sink/zetl-sink
TESTENV_ZETLCTL=$ZETL_BIN/ctl/zetlctl
PATH=$ZETL_BIN/ctl:$ZETL_BIN/coordinator:$ZETL_BIN/worker:$ZETL_BIN/sink:$PATH
export ZETL_SOURCE ZETL_BIN TESTENV_COORDINATOR TESTENV_WORKER TESTENV_SINK TESTENV_ZETLCTL PATH

TESTENV_PYTHON=/usr/bin/python3   # the system interpreter: another python3 on PATH may lack modules
TESTENV_PG_PORT=${TESTENV_PG_PORT:-5432}
TESTENV_PG_STARTED=
TESTENV_PG_AS=()
declare -A TESTENV_PID_OF=()

#  Print MSG as the reason the test failed, with the end of every log in the work dir, and exit 1.
testenv_fail () {
    echo "FAIL: ${TESTENV_NAME:-test}: $*" >&2
    if [ -n "${TESTENV_DIR:-}" ] && [ -d "$TESTENV_DIR" ]; then
        local log
        while IFS= read -r log; do
            echo "---- last lines of $log" >&2
            tail -n 20 "$log" >&2
        done < <(find "$TESTENV_DIR" -maxdepth 2 -name '*.log' -type f 2>/dev/null | sort)
    fi
    exit 1
}

testenv_pass () {
    echo "PASS: ${TESTENV_NAME:-test}"
    exit 0
}

#  Skip the test (ctest shows it as "Skipped", never "Passed"): MSG says what is missing.
testenv_skip () {
    echo "SKIP: ${TESTENV_NAME:-test}: $*" >&2
    exit 77
}

#  Check that a built binary exists, else fail with what to do.
testenv_need () {
    local binary
    for binary in "$@"; do
        [ -x "$binary" ] || testenv_fail "$binary is missing; build first (cmake --build build) or set ZETL_BIN"
    done
}

testenv_now_us () {
    local now=${EPOCHREALTIME/[.,]/}
    echo "${now#0}"
}

#  Make the work dir TESTENV_DIR (exported) and arrange cleanup on exit: processes the test
#  started are stopped (TERM, then KILL after 10 s), PostgreSQL is stopped, and the dir is
#  removed unless the test failed (then it is kept and named) or TESTENV_KEEP=1.
testenv_init () {
    TESTENV_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
    TESTENV_DIR=$(mktemp -d "${TMPDIR:-/tmp}/zetl-$TESTENV_NAME.XXXXXX") \
        || testenv_fail "cannot create a work dir under ${TMPDIR:-/tmp}"
    #  When root, PostgreSQL runs as user postgres, which must be able to reach its directory
    if [ "$(id -u)" = 0 ]; then
        chmod 0711 "$TESTENV_DIR"
    fi
    export TESTENV_NAME TESTENV_DIR
    trap testenv_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

#  Every descendant of process $1 (children first listed by ps, any depth).
testenv_descendants () {
    ps -e -o pid=,ppid= | awk -v root="$1" '
        { parent[$1] = $2; pids[++n] = $1 }
        END {
            keep[root] = 1
            do {
                changed = 0
                for (i = 1; i <= n; i++)
                    if (!(pids[i] in keep) && (parent[pids[i]] in keep)) { keep[pids[i]] = 1; changed = 1 }
            } while (changed)
            for (p in keep) if (p != root) print p
        }'
}

#  Send TERM to PIDS, wait up to 10 s for them to exit, then KILL what is left.
testenv_terminate () {
    local pid alive deadline
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null || true
    deadline=$(($(testenv_now_us) + 10000000))
    while :; do
        alive=()
        for pid in "$@"; do
            if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]; then
                alive+=("$pid")
            fi
        done
        [ ${#alive[@]} -gt 0 ] || return 0
        if [ "$(testenv_now_us)" -ge "$deadline" ]; then
            echo "testenv: killing ${alive[*]}: still running 10 s after TERM" >&2
            kill -KILL "${alive[@]}" 2>/dev/null || true
            return 0
        fi
        sleep 0.1  # poll interval, until the deadline
    done
}

testenv_cleanup () {
    local rc=$? pid postmaster='' pids=()
    set +e
    trap - EXIT
    if [ -n "$TESTENV_PG_STARTED" ] && [ -f "$TESTENV_PG_DIR/data/postmaster.pid" ]; then
        postmaster=$(head -n 1 "$TESTENV_PG_DIR/data/postmaster.pid")
    fi
    #  Whatever the test started and is still running, PostgreSQL aside (pg_ctl stops it)
    for pid in $(testenv_descendants $$); do
        [ "$pid" != "$postmaster" ] && kill -0 "$pid" 2>/dev/null && pids+=("$pid")
    done
    testenv_terminate "${pids[@]}"
    wait 2>/dev/null
    #  Every PostgreSQL with its data in the work dir: ours, and any a zetlctl up left behind
    if [ -n "${TESTENV_DIR:-}" ] && [ -d "$TESTENV_DIR" ]; then
        local pidfile bindir as=()
        bindir=$(testenv_pg_bindir) || bindir=
        [ "$(id -u)" != 0 ] || as=(runuser -u postgres --)
        while IFS= read -r pidfile; do
            [ -n "$bindir" ] || break
            "${as[@]}" "$bindir/pg_ctl" -D "$(dirname "$pidfile")" -m immediate -w -t 30 -s stop \
                >/dev/null 2>&1 </dev/null
        done < <(find "$TESTENV_DIR" -maxdepth 5 -name postmaster.pid 2>/dev/null)
    fi
    if [ -n "${TESTENV_DIR:-}" ] && [ -d "$TESTENV_DIR" ]; then
        if [ "$rc" = 0 ] || [ "$rc" = 77 ] && [ "${TESTENV_KEEP:-0}" != 1 ]; then
            rm -rf "$TESTENV_DIR"
        else
            echo "testenv: work dir kept for inspection: $TESTENV_DIR" >&2
        fi
    fi
    exit "$rc"
}

#  Run CMD... in the background as NAME, output in $TESTENV_DIR/NAME.log. Sets TESTENV_PID
#  (and TESTENV_PID_OF[NAME]); cleanup stops it if it is still running at the end.
testenv_start () {
    local name=$1
    shift
    "$@" >>"$TESTENV_DIR/$name.log" 2>&1 </dev/null &
    TESTENV_PID=$!
    TESTENV_PID_OF[$name]=$TESTENV_PID
}

#  Stop the process started as NAME: SIGNAL (default TERM), then wait for it (KILL after 10 s).
#  With KILL, it is killed at once, as a crash would.
testenv_stop () {
    local name=$1 signal=${2:-TERM} pid=${TESTENV_PID_OF[$1]:-}
    [ -n "$pid" ] || testenv_fail "testenv_stop: nothing was started as '$name'"
    if [ "$signal" = TERM ]; then
        testenv_terminate "$pid"
    else
        kill -"$signal" "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "TESTENV_PID_OF[$name]"
}

#  Run CMD... every 0.1 s until it succeeds (its output hidden), or fail the test after
#  TIMEOUT_S seconds (decimals allowed).
testenv_wait_until () {
    local timeout=$1 deadline
    shift
    deadline=$(($(testenv_now_us) + $(awk -v t="$timeout" 'BEGIN { printf "%d", t * 1000000 }')))
    until "$@" >/dev/null 2>&1; do
        if [ "$(testenv_now_us)" -ge "$deadline" ]; then
            testenv_fail "timed out after ${timeout} s waiting for: $*"
        fi
        sleep 0.1  # poll interval, until the deadline
    done
}

#  Print a TCP port on 127.0.0.1 that is free now (the kernel picks it).
testenv_free_port () {
    "$TESTENV_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

#  The newest installed PostgreSQL server programs: /usr/lib/postgresql/<version>/bin, else PATH.
testenv_pg_bindir () {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r) \
               "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")"; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

#  testenv_pg_initdb DATA LOG USER: a new cluster in DATA. The first one made for a build is kept
#  as a template under $ZETL_BIN/tests (renamed into place whole, so a reader never sees half of
#  one) and later ones are copies of it: a copy takes a fifth of initdb's time
testenv_pg_initdb () {
    local data=$1 log=$2 user=$3
    local template=${ZETL_BIN:+$ZETL_BIN/tests/pg-template-$user}
    if [ -n "$template" ] && [ -f "$template/PG_VERSION" ] && cp -a "$template" "$data"; then
        return 0
    fi
    rm -rf "$data"
    "${TESTENV_PG_AS[@]}" "$TESTENV_PG_BINDIR/initdb" -D "$data" -U "$user" -A trust -E UTF8 \
        --locale=C --no-sync >>"$log" 2>&1 </dev/null \
        || testenv_fail "initdb failed for $data; see $log"
    printf "\ninclude_if_exists 'zetl.conf'\n" >>"$data/postgresql.conf"
    if [ -n "$template" ] && [ ! -e "$template" ] && mkdir -p "${template%/*}"; then
        cp -a "$data" "$template.$$" && mv -T "$template.$$" "$template" 2>/dev/null \
            || rm -rf "$template.$$"
    fi
}

#  Start a private PostgreSQL in $TESTENV_DIR/pg (initdb on first use; unix socket there, no
#  TCP; as user postgres via runuser when root) with a database zetl, and export ZETL_POSTGRES,
#  PGHOST, PGPORT, PGDATABASE and PGUSER so zetl and psql reach it. Skips the test (77) when
#  the server programs are missing. Durable enough for tests: fsync on, synchronous_commit off.
#  Opt-in TCP: with TESTENV_PG_LISTEN=ADDR it also listens on ADDR (port TESTENV_PG_PORT) and
#  trusts clients on the networks its host is on (pg_hba samenet); TESTENV_PG_NETNS=NS starts
#  it in network namespace NS (ip netns exec), where ADDR is. The unix socket stays the same.
testenv_pg_start () {
    [ -n "${TESTENV_DIR:-}" ] || testenv_fail "call testenv_init before testenv_pg_start"
    TESTENV_PG_BINDIR=$(testenv_pg_bindir) \
        || testenv_skip "no PostgreSQL server programs (initdb, pg_ctl, postgres); apt-get install postgresql"
    TESTENV_PG_DIR=$TESTENV_DIR/pg
    local data=$TESTENV_PG_DIR/data log=$TESTENV_PG_DIR/localpg.log user
    mkdir -p "$TESTENV_PG_DIR"
    chmod 0700 "$TESTENV_PG_DIR"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 \
            || testenv_fail "running as root, PostgreSQL must run as user postgres, which does not exist; install postgresql"
        TESTENV_PG_AS=(runuser -u postgres --)
        chown postgres:postgres "$TESTENV_PG_DIR"
        user=postgres
    else
        TESTENV_PG_AS=()
        user=$(id -un)
    fi
    [ -d "$data" ] || testenv_pg_initdb "$data" "$log" "$user"
    local listen='' netns=()
    if [ -n "${TESTENV_PG_LISTEN:-}" ]; then
        listen=$TESTENV_PG_LISTEN
        grep -q '^host all all samenet trust$' "$data/pg_hba.conf" \
            || echo 'host all all samenet trust' >>"$data/pg_hba.conf"
    fi
    [ -z "${TESTENV_PG_NETNS:-}" ] || netns=(ip netns exec "$TESTENV_PG_NETNS")
    cat >"$data/zetl.conf" <<EOF
listen_addresses = '$listen'
unix_socket_directories = '$TESTENV_PG_DIR'
port = $TESTENV_PG_PORT
fsync = on
synchronous_commit = off
EOF
    [ -z "${TESTENV_PG_AS[*]}" ] || chown postgres:postgres "$data/zetl.conf"
    "${netns[@]}" "${TESTENV_PG_AS[@]}" "$TESTENV_PG_BINDIR/pg_ctl" -D "$data" \
        -l "$TESTENV_PG_DIR/postgres.log" -w -t 60 -s start >>"$log" 2>&1 </dev/null \
        || testenv_fail "pg_ctl start failed for $data; see $log and $TESTENV_PG_DIR/postgres.log"
    TESTENV_PG_STARTED=1
    export PGHOST=$TESTENV_PG_DIR PGPORT=$TESTENV_PG_PORT PGDATABASE=zetl PGUSER=$user
    export ZETL_POSTGRES="host=$TESTENV_PG_DIR port=$TESTENV_PG_PORT dbname=zetl user=$user"
    export TESTENV_PG_DIR TESTENV_PG_BINDIR
    if [ "$(testenv_psql_in postgres "SELECT count(*) FROM pg_database WHERE datname = 'zetl'")" != 1 ]; then
        testenv_psql_in postgres "CREATE DATABASE zetl" >/dev/null \
            || testenv_fail "cannot create database zetl in $TESTENV_PG_DIR"
    fi
}

#  Stop the test's PostgreSQL (fast: sessions are cut, committed data stays).
testenv_pg_stop () {
    [ -n "$TESTENV_PG_STARTED" ] || return 0
    "${TESTENV_PG_AS[@]}" "$TESTENV_PG_BINDIR/pg_ctl" -D "$TESTENV_PG_DIR/data" -m fast -w -t 60 \
        -s stop >>"$TESTENV_PG_DIR/localpg.log" 2>&1 </dev/null \
        || testenv_fail "pg_ctl stop failed for $TESTENV_PG_DIR/data; see $TESTENV_PG_DIR/localpg.log"
    TESTENV_PG_STARTED=
}

testenv_pg_restart () {
    testenv_pg_stop
    testenv_pg_start
}

#  psql against the test's database: SQL's result unaligned, no headers; fails on any error.
testenv_psql () {
    testenv_psql_in zetl "$@"
}

#  The same against DATABASE.
testenv_psql_in () {
    local database=$1
    shift
    local psql=$TESTENV_PG_BINDIR/psql
    [ -x "$psql" ] || psql=psql
    "$psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$database" -c "$@"
}

#  Succeed when SQL's single value is t (for testenv_wait_until).
testenv_psql_true () {
    [ "$(testenv_psql "$1" 2>/dev/null)" = t ]
}
