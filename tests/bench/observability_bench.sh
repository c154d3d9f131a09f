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
testenv_init
testenv_pg_start
records=${ZETL_BENCH_RECORDS:-300000}
rounds=${ZETL_BENCH_ROUNDS:-5}
export BOOKINGS_PARTITIONS=64
testenv_need "$TESTENV_ZETLCTL"
"$TESTENV_PYTHON" -c 'import zmq, msgpack' 2>/dev/null || testenv_skip "python3-zmq and python3-msgpack are needed"
"$TESTENV_ZETLCTL" gen bookings --count "$records" --disorder 0.3 --duplicates 0.05 --versions 0.2 \
    --seed 11 --out "$TESTENV_DIR/in.jsonl" 2>/dev/null
mkdir -p "$TESTENV_DIR/in" && mv "$TESTENV_DIR/in.jsonl" "$TESTENV_DIR/in/bookings.jsonl"
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")

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

#  run NAME observed|quiet: one load into database NAME; prints "records/s cpu_ms" (cpu_ms: all
#  of zetl's processes)
run () {
    local name=$1 way=$2 start end scraper="" subscriber=""
    testenv_psql "CREATE DATABASE $name" >/dev/null
    bookings_config "$TESTENV_DIR/$name.yaml" "$TESTENV_DIR/in/*.jsonl" "$name"
    if [ "$way" = observed ]; then
        sed -i 's/^  name: test$/  name: test\n  http: 127.0.0.1:0/' "$TESTENV_DIR/$name.yaml"
        scrape "$TESTENV_DIR/run-$name/logs/coordinator.log" "$TESTENV_DIR/$name.scrapes" &
        scraper=$!
        "$TESTENV_PYTHON" "$TESTENV_SOURCE/tests/helpers/events.py" \
            "ipc://$TESTENV_DIR/$name-events.ipc" "$TESTENV_DIR/$name.events" &
        subscriber=$!
    else
        sed -i "s|^  events: .*|  events: off\n  http: off|" "$TESTENV_DIR/$name.yaml"
    fi
    start=$(testenv_now_us)
    bookings_up "$name" "$TESTENV_DIR/$name.yaml" "$name" --workers 2 --sinks 1
    end=$(testenv_now_us)
    [ -z "$scraper" ] || kill "$scraper" 2>/dev/null || true
    [ -z "$subscriber" ] || kill "$subscriber" 2>/dev/null || true
    wait 2>/dev/null || true
    bookings_reconciliation_ok "$TESTENV_DIR/$name.out" || testenv_fail "$name does not balance"
    if [ "$way" = observed ]; then
        [ -s "$TESTENV_DIR/$name.scrapes" ] && [ -s "$TESTENV_DIR/$name.events" ] \
            || testenv_fail "$name: nothing was scraped or no event was seen"
    fi
    grep '"event":"child_exited"' "$TESTENV_DIR/$name.log" \
        | sed -E 's/.*"cpu_ms":([0-9]+).*/\1/' | awk '{ cpu += $1 } END { print cpu }' > "$TESTENV_DIR/$name.cpu"
    awk -v l="$lines" -v us=$((end - start)) -v cpu="$(cat "$TESTENV_DIR/$name.cpu")" \
        'BEGIN { printf "%.0f %d\n", l / (us / 1e6), cpu }'
}

median () { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: > "$TESTENV_DIR/observed" && : > "$TESTENV_DIR/quiet"
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then
        run "observed_$round" observed >> "$TESTENV_DIR/observed"
        run "quiet_$round" quiet >> "$TESTENV_DIR/quiet"
    else
        run "quiet_$round" quiet >> "$TESTENV_DIR/quiet"
        run "observed_$round" observed >> "$TESTENV_DIR/observed"
    fi
    echo "round $round: observed $(tail -1 "$TESTENV_DIR/observed"), quiet $(tail -1 "$TESTENV_DIR/quiet") (records/s, cpu ms)"
done
on=$(cut -d' ' -f1 "$TESTENV_DIR/observed" | median)
off=$(cut -d' ' -f1 "$TESTENV_DIR/quiet" | median)
cpu_on=$(cut -d' ' -f2 "$TESTENV_DIR/observed" | median)
cpu_off=$(cut -d' ' -f2 "$TESTENV_DIR/quiet" | median)
ratio=$(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')
cpu_cost=$(awk -v a="$cpu_on" -v b="$cpu_off" 'BEGIN { printf "%.3f", a / b - 1 }')
scrape_ms=$(cat "$TESTENV_DIR"/observed_*.scrapes | sort -n \
    | awk '{ v[NR] = $1 } END { i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f", v[i] * 1000 }')
echo "records $lines, $rounds rounds each way"
echo "observed (metrics scraped every 1 s, every event topic subscribed): $on records/s, CPU $cpu_on ms"
echo "quiet (cluster.http and cluster.events off): $off records/s, CPU $cpu_off ms"
echo "throughput observed / quiet: $ratio; CPU cost of observing: $cpu_cost (limit 0.02);" \
     "/metrics answered within $scrape_ms ms at p99"
awk -v c="$cpu_cost" 'BEGIN { exit !(c <= 0.02) }' || { echo "FAIL: metrics and events cost more than 2 % of the CPU"; exit 1; }
testenv_pass
