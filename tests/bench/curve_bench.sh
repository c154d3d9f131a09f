#!/usr/bin/env bash
# What CURVE costs: N generated bookings (default 300 000) through zetl (2 workers, 1 sink) into
# PostgreSQL, R times each way (default 5), the order swapped each round: every socket on TCP
# loopback, with CURVE (one key pair for the cluster, docs/SECURITY.md) and without. Prints each
# way's median records/s and CPU-seconds of zetl's processes, and the throughput ratio (target:
# CURVE at most 20 % lower, so the ratio is at least 0.80). Exits 1 if the target is missed.
# ZETL_BENCH_RECORDS sets N, ZETL_BENCH_ROUNDS sets R.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
source "$(dirname "$0")/../helpers/ab_bench.sh"
testenv_init
testenv_pg_start
testenv_need "$TESTENV_ZETLCTL"
ab_setup "${ZETL_BENCH_RECORDS:-300000}"
"$TESTENV_ZETLCTL" keys new cluster --dir "$TESTENV_DIR/keys" > /dev/null
mkdir -p "$TESTENV_DIR/allowed" && cp "$TESTENV_DIR/keys/cluster" "$TESTENV_DIR/allowed/"

#  tcp NAME CONFIG: every endpoint on TCP loopback, free ports
tcp () {
    local role
    for role in workers sinks producers events; do
        sed -i "s|^  $role: .*|  $role: tcp://127.0.0.1:$(testenv_free_port)|" "$2"
    done
}
ab_prepare_curve () {
    tcp "$@"
    AB_UP_ENV=(ZETL_CURVE_CERT="$TESTENV_DIR/keys/cluster" ZETL_CURVE_SERVER="$TESTENV_DIR/keys/cluster"
               ZETL_CURVE_ALLOWED="$TESTENV_DIR/allowed")
}
ab_finish_curve () {
    grep -q '"event":"curve_on"' "$TESTENV_DIR/run-$1/logs/coordinator.log" || testenv_fail "$1 ran without CURVE"
}
ab_prepare_clear () { tcp "$@"; }
ab_finish_clear () { :; }

rounds=${ZETL_BENCH_ROUNDS:-5}
ab_rounds "$rounds" curve clear
on=$(ab_median curve 1) off=$(ab_median clear 1)
cpu_on=$(ab_median curve 2) cpu_off=$(ab_median clear 2)
ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
echo "records $AB_LINES, $rounds rounds each way, every socket on TCP loopback"
echo "with CURVE: $on records/s, CPU $cpu_on ms; without: $off records/s, CPU $cpu_off ms"
echo "throughput with / without CURVE: $ratio (limit 0.80)"
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.80) }' || { echo "FAIL: CURVE costs more than 20 %"; exit 1; }
testenv_pass
