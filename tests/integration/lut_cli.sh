#!/usr/bin/env bash
# zetlctl lut end to end: zetlctl gen hotels writes the hotels table, lut load loads it and
# lut list --json shows it; a reload takes the next version and collects the old one; a
# malformed CSV is refused with its line number and the previous version stays current, with
# no partial version left in Redis; --config FILE supplies the Redis URL when neither --redis
# nor ZETL_REDIS does, and a command given no Redis at all says how to give one.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/redis.sh"
testenv_init
testenv_need "$TESTENV_ZETLCTL"
testenv_redis_start
url=$ZETL_REDIS
unset ZETL_REDIS  # each command below names its Redis
cd "$TESTENV_DIR"

#  json_get FILE EXPR: evaluate the Python expression EXPR on the JSON document in FILE (as j)
json_get () {
    "$TESTENV_PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

#  gen hotels: 500 rows by default, deterministic for a seed
zetlctl gen hotels --seed 7 --output hotels.csv 2>gen.log || testenv_fail "gen hotels failed"
[ "$(head -n 1 hotels.csv)" = "hotel_id,hotel_name,region,city" ] || testenv_fail "header: $(head -n 1 hotels.csv)"
[ "$(wc -l < hotels.csv)" = 501 ] || testenv_fail "hotels.csv has $(wc -l < hotels.csv) lines, not 501"
[ "$(tail -n 1 hotels.csv | cut -d, -f1)" = 500 ] || testenv_fail "last hotel id: $(tail -n 1 hotels.csv)"
zetlctl gen hotels --seed 7 2>>gen.log | cmp -s - hotels.csv || testenv_fail "gen hotels is not deterministic"
zetlctl gen hotels --seed 8 2>>gen.log | cmp -s - hotels.csv && testenv_fail "--seed changes nothing"
zetlctl gen hotels --help | grep -q -- '--hotels N' || testenv_fail "gen hotels --help"

#  load, then list --json
zetlctl lut load hotels.csv --table hotels --key hotel_id --redis "$url" > load1.json 2>load.log \
    || testenv_fail "lut load failed: $(cat load.log)"
v1=$(json_get load1.json 'j["version"]')
[ "$(json_get load1.json '(j["table"], j["rows"], j["previous"], j["removed_versions"])')" = "('hotels', 500, 0, 0)" ] \
    || testenv_fail "load: $(cat load1.json)"
zetlctl lut list --json --redis "$url" > list1.json || testenv_fail "lut list --json failed"
[ "$(json_get list1.json '[(t["table"], t["version"], t["rows"], t["key"], t["columns"]) for t in j["tables"]]')" \
    = "[('hotels', $v1, 500, 'hotel_id', 'hotel_id,hotel_name,region,city')]" ] || testenv_fail "list: $(cat list1.json)"
[ "$(json_get list1.json '[(v["version"], v["rows"], v["pinned"]) for v in j["tables"][0]["versions"]]')" \
    = "[($v1, 500, False)]" ] || testenv_fail "versions: $(cat list1.json)"
[ "$(testenv_redis_cli HLEN "zetl:lut:hotels:v$v1")" = 500 ] || testenv_fail "HLEN of version $v1"
testenv_redis_cli HGET "zetl:lut:hotels:v$v1" 7 | grep -q "hotel_name" || testenv_fail "row 7 is not in Redis"

#  Reload: the next version, the old one collected
zetlctl lut load hotels.csv --table hotels --key hotel_id --redis "$url" > load2.json 2>>load.log \
    || testenv_fail "second lut load failed: $(cat load.log)"
v2=$(json_get load2.json 'j["version"]')
[ "$v2" -gt "$v1" ] || testenv_fail "version $v2 after $v1"
[ "$(json_get load2.json '(j["previous"], j["removed_versions"])')" = "($v1, 1)" ] || testenv_fail "reload: $(cat load2.json)"

#  A malformed file: refused with its line, nothing changes
{ cat hotels.csv; echo '501,"Broken, Hotel",Alps,Riga'; echo '502,Short Row'; } > bad.csv
if zetlctl lut load bad.csv --table hotels --key hotel_id --redis "$url" > bad.out 2> bad.err; then
    testenv_fail "a malformed CSV was loaded: $(cat bad.out)"
fi
grep -q 'bad.csv:503: row 503 has 2 fields, the header has 4' bad.err || testenv_fail "unclear refusal: $(cat bad.err)"
[ ! -s bad.out ] || testenv_fail "a refused load printed: $(cat bad.out)"
{ cat hotels.csv; echo '7,"Again",Alps,Oslo'; } > dup.csv
zetlctl lut load dup.csv --table hotels --key hotel_id --redis "$url" 2> dup.err && testenv_fail "a duplicate key was loaded"
grep -q 'dup.csv:502: key "7" is already the key of line 8' dup.err || testenv_fail "unclear refusal: $(cat dup.err)"
zetlctl lut list --json --redis "$url" > list2.json || testenv_fail "lut list after the refusal failed"
[ "$(json_get list2.json '[(t["version"], [v["version"] for v in t["versions"]]) for t in j["tables"]]')" \
    = "[($v2, [$v2])]" ] || testenv_fail "after the refusal: $(cat list2.json)"
[ "$(testenv_redis_cli KEYS 'zetl:lut:hotels:v[0-9]*')" = "zetl:lut:hotels:v$v2" ] \
    || testenv_fail "version keys left: $(testenv_redis_cli KEYS 'zetl:lut:hotels:v[0-9]*' | tr '\n' ' ')"

#  --config supplies the URL; ZETL_REDIS and --redis come first
cat > zetl.yaml <<YAML
redis: "$url"
pipelines:
  - id: minimal
    source: { type: file, path: in.jsonl }
    partition_key: key
    event_time: { field: at }
    schema:
      key: { type: string, required: true }
      at: { type: timestamp, required: true }
    sinks:
      - { type: files, path: out/minimal }
YAML
zetlctl lut list --config zetl.yaml --json > list3.json 2> config.err || testenv_fail "lut list --config failed: $(cat config.err)"
cmp -s list2.json list3.json || testenv_fail "--config lists otherwise: $(cat list3.json)"
zetlctl gen hotels --hotels 20 --output small.csv 2>>gen.log
zetlctl lut load small.csv --table hotels-small --key hotel_id --config zetl.yaml > load3.json 2>>config.err \
    || testenv_fail "lut load --config failed: $(cat config.err)"
[ "$(json_get load3.json '(j["table"], j["rows"])')" = "('hotels-small', 20)" ] || testenv_fail "load3: $(cat load3.json)"
ZETL_REDIS=$url zetlctl lut list > list.txt || testenv_fail "lut list with ZETL_REDIS failed"
grep -Eq "^hotels +$v2 +500 +hotel_id " list.txt || testenv_fail "readable list: $(cat list.txt)"
grep -Eq "^hotels-small +[0-9]+ +20 +hotel_id " list.txt || testenv_fail "readable list: $(cat list.txt)"
ZETL_REDIS="unix://$TESTENV_DIR/none.sock" zetlctl lut list --config zetl.yaml 2> env.err \
    && testenv_fail "ZETL_REDIS did not come before --config"
grep -q "cannot connect to Redis at unix://$TESTENV_DIR/none.sock" env.err || testenv_fail "unclear error: $(cat env.err)"

#  No Redis anywhere: bad usage, and the message says how to give one
set +e
zetlctl lut list 2> none.err
rc=$?
set -e
[ "$rc" = 2 ] || testenv_fail "lut list without a Redis exited $rc"
grep -q "pass --redis URL, set ZETL_REDIS" none.err || testenv_fail "unclear error: $(cat none.err)"
zetlctl lut load --help | grep -q -- '--key COL' || testenv_fail "lut load --help"
zetlctl lut list --help | grep -q -- '--json' || testenv_fail "lut list --help"
testenv_pass
