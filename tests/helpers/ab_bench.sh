# ab_bench.sh - compare two ways of running the same load, for benchmarks (source it after
# testenv.sh and bookings.sh, and after testenv_pg_start).
#
#     ab_setup RECORDS             generate RECORDS bookings into $TESTENV_DIR/in; sets AB_LINES
#     ab_rounds ROUNDS A B         load them ROUNDS times each way, the order swapped each round;
#                                  way X is prepared by the caller's function ab_prepare_X NAME
#                                  CONFIG (edit CONFIG, start helpers; may set AB_UP_ENV, an array
#                                  of VAR=value for `zetlctl up`) and ended by ab_finish_X NAME
#     ab_median WAY FIELD          the median of FIELD (1 records/s, 2 CPU ms of zetl's processes)
#
# Each load runs `zetlctl up --once --workers 2 --sinks 1` into a database of its own, and must
# balance.

ab_setup () {
    export BOOKINGS_PARTITIONS=64
    mkdir -p "$TESTENV_DIR/in"
    "$TESTENV_ZETLCTL" gen bookings --count "$1" --disorder 0.3 --duplicates 0.05 --versions 0.2 \
        --seed 11 --out "$TESTENV_DIR/in/bookings.jsonl" 2>/dev/null
    AB_LINES=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
}

#  ab_load NAME WAY: one load; appends "records/s cpu_ms" to $TESTENV_DIR/WAY
ab_load () {
    local name=$1 way=$2 start end
    testenv_psql "CREATE DATABASE $name" >/dev/null
    bookings_config "$TESTENV_DIR/$name.yaml" "$TESTENV_DIR/in/*.jsonl" "$name"
    AB_UP_ENV=()
    "ab_prepare_$way" "$name" "$TESTENV_DIR/$name.yaml"
    start=$(testenv_now_us)
    env "${AB_UP_ENV[@]}" ZETL_POSTGRES="${ZETL_POSTGRES/dbname=zetl/dbname=$name}" \
        "$TESTENV_ZETLCTL" up --config "$TESTENV_DIR/$name.yaml" --once --run-dir "$TESTENV_DIR/run-$name" \
        --workers 2 --sinks 1 > "$TESTENV_DIR/$name.out" 2>> "$TESTENV_DIR/$name.log" \
        || testenv_fail "zetlctl up --once ($name) failed: $(tail -5 "$TESTENV_DIR/$name.log")"
    end=$(testenv_now_us)
    "ab_finish_$way" "$name"
    bookings_reconciliation_ok "$TESTENV_DIR/$name.out" || testenv_fail "$name does not balance"
    local cpu
    cpu=$(grep '"event":"child_exited"' "$TESTENV_DIR/$name.log" \
          | sed -E 's/.*"cpu_ms":([0-9]+).*/\1/' | awk '{ cpu += $1 } END { print cpu + 0 }')
    awk -v l="$AB_LINES" -v us=$((end - start)) -v cpu="$cpu" \
        'BEGIN { printf "%.0f %d\n", l / (us / 1e6), cpu }' >> "$TESTENV_DIR/$way"
}

ab_rounds () {
    local rounds=$1 a=$2 b=$3 round
    : > "$TESTENV_DIR/$a"
    : > "$TESTENV_DIR/$b"
    for round in $(seq 1 "$rounds"); do
        if [ $((round % 2)) = 1 ]; then
            ab_load "${a}_$round" "$a" && ab_load "${b}_$round" "$b"
        else
            ab_load "${b}_$round" "$b" && ab_load "${a}_$round" "$a"
        fi
        echo "round $round: $a $(tail -1 "$TESTENV_DIR/$a"), $b $(tail -1 "$TESTENV_DIR/$b") (records/s, cpu ms)"
    done
}

ab_median () {
    cut -d' ' -f"$2" "$TESTENV_DIR/$1" | sort -n \
        | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
