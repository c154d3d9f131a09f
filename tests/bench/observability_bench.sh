#!/usr/bin/env bash
# What metrics and the event socket cost: N generated bookings (default 300 000) through zetl
# (2 workers, 1 sink) into PostgreSQL, R times each way (default 5), the order swapped each round:
# observed (the HTTP server scraped for /metrics every second, a ZeroMQ client subscribed to every
# event topic) and quiet (cluster.http and cluster.events off). Prints, each way, the median
# records/s and the median CPU-seconds of zetl's processes (coordinator, workers, sink), and the
# ratios. On this 2-core machine throughput varies by 20 % from one run to the next, ten times
# the cost to measure, so the verdict is on CPU, what observing takes from the processing: the
# observed runs may spend at most 2 % more CPU than the quiet ones (target: cost under 2 %).
# ZETL_BENCH_RECORDS sets N, ZETL_BENCH_ROUNDS sets R.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
source "$(dirname "$0")/../helpers/ab_bench.sh"
testenv_init
testenv_pg_start
testenv_need "$TESTENV_ZETLCTL"
"$TESTENV_PYTHON" -c 'import zmq, msgpack' 2>/dev/null || testenv_skip "python3-zmq and python3-msgpack are needed"
ab_setup "${ZETL_BENCH_RECORDS:-300000}"

#  scrape LOG OUT: once the coordinator logged its HTTP port in LOG, GET /metrics every second
#  (as a busy Prometheus would), appending the answer times to OUT, until killed
scrape () {
    local port=""
    while [ -z "$port" ]; do
        port=$(grep -o '"event":"http_listening".*"port":[0-9]*' "$1" 2>/dev/null | grep -o '[0-9]*$' | head -1) || true
        sleep 0.2  # waiting for the coordinator to start: nothing to poll but its log
    done
    while true; do
        curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/metrics" >> "$2" || true
        sleep 1  # the scrape interval
    done
}

ab_prepare_observed () {
    sed -i 's/^  name: test$/  name: test\n  http: 127.0.0.1:0/' "$2"
    scrape "$TESTENV_DIR/run-$1/logs/coordinator.log" "$TESTENV_DIR/$1.scrapes" &
    SCRAPER=$!
    "$TESTENV_PYTHON" "$TESTENV_SOURCE/tests/helpers/events.py" "ipc://$TESTENV_DIR/$1-events.ipc" \
        "$TESTENV_DIR/$1.events" &
    SUBSCRIBER=$!
}
ab_finish_observed () {
    kill "$SCRAPER" "$SUBSCRIBER" 2>/dev/null || true
    wait "$SCRAPER" "$SUBSCRIBER" 2>/dev/null || true
    [ -s "$TESTENV_DIR/$1.scrapes" ] && [ -s "$TESTENV_DIR/$1.events" ] \
        || testenv_fail "$1: nothing was scraped or no event was seen"
}
ab_prepare_quiet () { sed -i "s|^  events: .*|  events: off\n  http: off|" "$2"; }
ab_finish_quiet () { :; }

rounds=${ZETL_BENCH_ROUNDS:-5}
ab_rounds "$rounds" observed quiet
on=$(ab_median observed 1) off=$(ab_median quiet 1)
cpu_on=$(ab_median observed 2) cpu_off=$(ab_median quiet 2)
ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
cpu_cost=$(awk -v a="$cpu_on" -v b="$cpu_off" 'BEGIN { printf "%.3f", a / b - 1 }')
scrape_ms=$(cat "$TESTENV_DIR"/observed_*.scrapes | sort -n \
    | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] * 1000 }')
echo "records $AB_LINES, $rounds rounds each way"
echo "observed (metrics scraped every 1 s, every event topic subscribed): $on records/s, CPU $cpu_on ms"
echo "quiet (cluster.http and cluster.events off): $off records/s, CPU $cpu_off ms"
echo "throughput observed / quiet: $ratio; CPU cost of observing: $cpu_cost (limit 0.02);" \
     "/metrics answered within $scrape_ms ms at p99"
awk -v c="$cpu_cost" 'BEGIN { exit !(c <= 0.02) }' || { echo "FAIL: metrics and events cost more than 2 % of the CPU"; exit 1; }
testenv_pass
