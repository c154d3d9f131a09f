#!/usr/bin/env bash
# Files target benchmark: the write rate of a sink's files writer (zetl-bench-filesink drives one
# writer alone with N bookings rows in batches of 1000, default 200 000) as JSONL uncompressed,
# gzip and zstd, next to the least work writing the same rows could take, measured in the same
# run on the same disk: `cat` of the same JSONL bytes into one file, then sync of that file.
# Each figure is the best of 5 runs after a warm-up. Prints rows/s and MB/s (of JSONL text), the
# bytes on disk, and the ratio of the writer's time to cat's for the same JSONL bytes, against a
# limit per compression; exits 1 if a ratio is over its limit.
# ZETL_BENCH_ROWS sets N.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
testenv_pg_start
rows=${ZETL_BENCH_ROWS:-200000}
tool="$ZETL_BIN/tests/zetl-bench-filesink"
testenv_need "$tool"
declare -A limit=([none]=15 [gzip]=20 [zstd]=15)   # the writer's time / cat's time: hundreds of fsyncs against one
reps=5

#  run MODE REP: one run of the writer into $TESTENV_DIR/out-MODE-REP; prints its seconds
run () {
    local mode=$1 rep=$2 out=$TESTENV_DIR/out-$1-$2
    bookings_config "$TESTENV_DIR/$mode-$rep.yaml" "$TESTENV_DIR/none/*.jsonl" "b$rep"
    sed -i "s|      - { type: postgres, table: bookings, primary_key: \[booking_id\] }|      - { type: files, path: \"$out\", format: jsonl, compression: $mode }|" \
        "$TESTENV_DIR/$mode-$rep.yaml"
    "$tool" "$TESTENV_DIR/$mode-$rep.yaml" "$rows" 2>> "$TESTENV_DIR/tool.log" | cut -d' ' -f2
}

#  best SECONDS...: the smallest
best () {
    printf '%s\n' "$@" | sort -g | head -1
}

#  The JSONL text of a run's files, decompressed, into FILE
jsonl_of () {
    find "$1/bookings-etl" -type f -name 'part-*' | sort | while read -r file; do
        case "$file" in
            *.gz) gzip -dc "$file" ;;
            *.zst) zstd -dcq "$file" ;;
            *) cat "$file" ;;
        esac
    done > "$2"
}

run none warmup > /dev/null
declare -A seconds=() disk=()
for mode in none gzip zstd; do
    times=()
    for rep in $(seq 1 $reps); do
        times+=("$(run "$mode" "$rep")")
    done
    seconds[$mode]=$(best "${times[@]}")
    disk[$mode]=$(find "$TESTENV_DIR/out-$mode-1/bookings-etl" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
done
jsonl_of "$TESTENV_DIR/out-none-1" "$TESTENV_DIR/all.jsonl"
bytes=$(stat -c %s "$TESTENV_DIR/all.jsonl")
lines=$(wc -l < "$TESTENV_DIR/all.jsonl")
[ "$lines" = "$rows" ] || testenv_fail "the writer wrote $lines lines for $rows rows"
for mode in gzip zstd; do
    jsonl_of "$TESTENV_DIR/out-$mode-1" "$TESTENV_DIR/$mode.jsonl"
    cmp -s "$TESTENV_DIR/all.jsonl" "$TESTENV_DIR/$mode.jsonl" \
        || testenv_fail "the $mode files do not hold the same lines as the uncompressed ones"
done

#  The baseline: cat of the same bytes (in the page cache) to the same disk, then sync
cat "$TESTENV_DIR/all.jsonl" > /dev/null
cat_times=()
for rep in 0 $(seq 1 $reps); do
    start=$(testenv_now_us)
    cat "$TESTENV_DIR/all.jsonl" > "$TESTENV_DIR/cat-$rep.jsonl"
    sync "$TESTENV_DIR/cat-$rep.jsonl"
    end=$(testenv_now_us)
    [ "$rep" = 0 ] || cat_times+=("$(awk -v us=$((end - start)) 'BEGIN { printf "%.4f", us / 1e6 }')")
done
cat_s=$(best "${cat_times[@]}")

rc=0
awk -v b="$bytes" -v s="$cat_s" 'BEGIN { printf "cat baseline: %d bytes in %.3f s, %.1f MB/s\n", b, s, b / s / 1e6 }'
for mode in none gzip zstd; do
    verdict=$(awk -v s="${seconds[$mode]}" -v c="$cat_s" -v l="${limit[$mode]}" \
        'BEGIN { print (s / c <= l) ? "ok" : "over" }')
    [ "$verdict" = ok ] || rc=1
    awk -v m="$mode" -v r="$rows" -v s="${seconds[$mode]}" -v b="$bytes" -v d="${disk[$mode]}" \
        -v c="$cat_s" -v l="${limit[$mode]}" -v v="$verdict" \
        'BEGIN { printf "files jsonl %-4s %d rows in %.3f s: %.0f rows/s, %.1f MB/s of JSONL, %.1f MB on disk; ratio to cat %.2f, limit %.2f: %s\n",
                 m, r, s, r / s, b / s / 1e6, d / 1e6, s / c, l, v }'
done
[ "$rc" = 0 ] || testenv_fail "a ratio is over its limit"
testenv_pass
