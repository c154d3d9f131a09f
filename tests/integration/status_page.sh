#!/usr/bin/env bash
# The status page (GET /, docs/API.md) in a browser. A cluster runs with `http: 127.0.0.1:0`,
# and a producer sends bookings at a steady pace for about 15 s (ZETL_TEST_FLOW_S). Meanwhile
# headless Chromium loads the page and its DOM is dumped, after the page's first polls of
# /api/v1/status, twice: the page renders and lists the pipeline, whose records_in is a number
# > 0 that grows from the first dump to the second (the page updates as records flow). A
# screenshot of the page while records flow is kept (its path is printed). Once the producer has
# every record ACKed, a last dump shows records_in and committed equal to the input's lines,
# nothing held, the reconciliation balanced, lateness and duplicates as the API has them, the
# worker and the sink, and readiness with nothing missing.
set -euo pipefail
source "$(dirname "$0")/../helpers/testenv.sh"
source "$(dirname "$0")/../helpers/bookings.sh"
testenv_init
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || testenv_skip "chromium is not installed (scripts/install-deps.sh, or apt-get install chromium)"
command -v curl >/dev/null || testenv_skip "curl is not installed (apt-get install curl)"
testenv_need "$TESTENV_COORDINATOR" "$TESTENV_WORKER" "$TESTENV_SINK" "$TESTENV_ZETLCTL"
testenv_pg_start
count=${ZETL_TEST_RECORDS:-15000}
flow_s=${ZETL_TEST_FLOW_S:-15}
artifacts=${ZETL_ARTIFACTS:-$ZETL_BIN/tests/artifacts}
mkdir -p "$artifacts"

bookings_gen "$count" 31 "$TESTENV_DIR/in"
lines=$(wc -l < "$TESTENV_DIR/in/bookings.jsonl")
#  Records come from the producer only: the file glob matches nothing
bookings_config "$TESTENV_DIR/c.yaml" "$TESTENV_DIR/none/*.jsonl"
sed -i 's/^  name: test$/  name: test\n  http: 127.0.0.1:0/' "$TESTENV_DIR/c.yaml"

testenv_start coordinator "$TESTENV_COORDINATOR" --config "$TESTENV_DIR/c.yaml"
testenv_wait_until 60 grep -q '"event":"http_listening"' "$TESTENV_DIR/coordinator.log"
port=$(grep '"event":"http_listening"' "$TESTENV_DIR/coordinator.log" | head -1 \
       | grep -o '"port":[0-9]*' | cut -d: -f2)
[ -n "$port" ] && [ "$port" -gt 0 ] || testenv_fail "the coordinator logged no port"
url="http://127.0.0.1:$port/"
testenv_start worker "$TESTENV_WORKER" --coordinator "ipc://$TESTENV_DIR/c-workers.ipc" --name worker-1
testenv_start sink "$TESTENV_SINK" --coordinator "ipc://$TESTENV_DIR/c-sinks.ipc" --name sink-1
ready () { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${url}readyz")" = 200 ]; }
testenv_wait_until 60 ready

#  api EXPR: evaluate the Python expression EXPR on the pipeline's status, parsed as p
api () {
    curl -s --max-time 10 "${url}api/v1/pipelines/bookings-etl" > "$TESTENV_DIR/api.json" || return 1
    "$TESTENV_PYTHON" -c 'import json, sys; p = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
        "$TESTENV_DIR/api.json" "$1"
}
api_in_above () { [ "$(api 'p["arrival"]["records_in"]')" -gt "$1" ]; }

#  The page as the test reads it: a summary of a dumped DOM, as JSON (the body's poll count and
#  state, readiness, every data-field of each pipeline by its data-value, the peers' rows)
cat > "$TESTENV_DIR/page.py" <<'PY'
import html.parser, json, sys

class Page(html.parser.HTMLParser):
    VOID = {"meta", "link", "br", "img", "input", "hr", "col", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack, self.elements = [], []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "up": list(self.stack)}
        self.elements.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index]["tag"] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data

page = Page()
page.feed(open(sys.argv[1], encoding="utf-8").read())
summary = {"pipelines": {}, "workers": [], "sinks": [], "alerts": []}
for element in page.elements:
    attrs = element["attrs"]
    if element["tag"] == "body":
        summary["polls"] = int(attrs.get("data-polls", "0"))
        summary["poll_state"] = attrs.get("data-state")
    if attrs.get("id") in ("ready", "state", "cluster"):
        summary[attrs["id"]] = element["text"].strip()
    if attrs.get("id") in ("missing", "alerts", "pipelines"):
        summary[attrs["id"] + "_count"] = int(attrs.get("data-count", "-1"))
    if "data-alert" in attrs:
        summary["alerts"].append(attrs["data-alert-pipeline"] + "/" + attrs["data-alert"])
    if attrs.get("id") == "scaling":
        summary["desired_workers"] = attrs.get("data-value")
    for role in ("worker", "sink"):
        if "data-" + role in attrs:
            summary[role + "s"].append(attrs["data-" + role])
    if "data-field" in attrs:
        for up in element["up"]:
            if "data-pipeline" in up["attrs"]:
                fields = summary["pipelines"].setdefault(up["attrs"]["data-pipeline"], {})
                value = attrs.get("data-value")
                fields[attrs["data-field"]] = value
                fields[attrs["data-field"] + "_text"] = element["text"].strip()
print(json.dumps(summary))
PY

browser=(--headless=new --no-sandbox --disable-gpu --no-first-run --disable-extensions
         --hide-scrollbars --user-data-dir="$TESTENV_DIR/chromium-profile")
#  dump NAME: the page's DOM, in $TESTENV_DIR/NAME.html, once it has polled the status a few
#  times (virtual time: the page's timers run at once, its requests take the time they take)
dump () {
    timeout 120 "$chromium" "${browser[@]}" --virtual-time-budget=4000 --dump-dom "$url" \
        > "$TESTENV_DIR/$1.html" 2>> "$TESTENV_DIR/chromium.log" \
        || testenv_fail "chromium --dump-dom $url failed: $(tail -3 "$TESTENV_DIR/chromium.log")"
    cp "$TESTENV_DIR/$1.html" "$artifacts/status_page_$1.html"
    "$TESTENV_PYTHON" "$TESTENV_DIR/page.py" "$TESTENV_DIR/$1.html" > "$TESTENV_DIR/$1.json" \
        || testenv_fail "the $1 dump does not parse: $(head -c 300 "$TESTENV_DIR/$1.html")"
    [ "$(page "$1" 'j["polls"] >= 1 and j["poll_state"] == "ok"')" = True ] \
        || testenv_fail "the page did not read the status before the $1 dump: $(cat "$TESTENV_DIR/$1.json")"
}
#  page NAME EXPR: evaluate the Python expression EXPR on the summary of dump NAME, parsed as j
#  (p: the bookings-etl pipeline's fields)
page () {
    "$TESTENV_PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1]))
p = j["pipelines"].get("bookings-etl", {})
print(eval(sys.argv[2]))' "$TESTENV_DIR/$1.json" "$2"
}

#  A producer sends the input over FLOW_S seconds, in 20 slices a second
cat > "$TESTENV_DIR/pace.py" <<'PY'
import sys, time
lines = open(sys.argv[1], "rb").readlines()
slices = int(float(sys.argv[2]) * 20)
for index in range(slices):
    sys.stdout.buffer.write(b"".join(lines[index * len(lines) // slices:(index + 1) * len(lines) // slices]))
    sys.stdout.buffer.flush()
    time.sleep(0.05)  # the pace is the point: records keep flowing while the page is read
PY
testenv_start producer bash -c "'$TESTENV_PYTHON' '$TESTENV_DIR/pace.py' '$TESTENV_DIR/in/bookings.jsonl' $flow_s \
    | '$TESTENV_ZETLCTL' produce --timeout 120 --config '$TESTENV_DIR/c.yaml' --name page-producer -"
producer=$TESTENV_PID

#  1. While records flow: the pipeline is listed, and records_in is > 0 and grows
testenv_wait_until 60 api_in_above 0
dump first
[ "$(page first 'list(j["pipelines"])')" = "['bookings-etl']" ] \
    || testenv_fail "the page does not list the pipeline: $(cat "$TESTENV_DIR/first.json")"
first=$(page first 'p["records_in"]')
[[ $first =~ ^[0-9]+$ ]] && [ "$first" -gt 0 ] \
    || testenv_fail "records_in on the page is '$first', not a number > 0: $(cat "$TESTENV_DIR/first.json")"
[ "$first" -lt "$lines" ] || testenv_fail "every record was in before the first dump: give the flow more time (ZETL_TEST_FLOW_S)"
testenv_wait_until 60 api_in_above $((first + lines / 20))
dump second
second=$(page second 'p["records_in"]')
[[ $second =~ ^[0-9]+$ ]] && [ "$second" -gt "$first" ] \
    || testenv_fail "records_in on the page did not grow: $first, then '$second'"
echo "records_in on the page: $first, then $second (of $lines)"
timeout 120 "$chromium" "${browser[@]}" --virtual-time-budget=4000 --window-size=1280,900 \
    --screenshot="$artifacts/status_page.png" "$url" >> "$TESTENV_DIR/chromium.log" 2>&1 \
    || testenv_fail "chromium --screenshot failed: $(tail -3 "$TESTENV_DIR/chromium.log")"
[ "$(head -c 8 "$artifacts/status_page.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
    || testenv_fail "the screenshot $artifacts/status_page.png is not a PNG"
echo "screenshot: $artifacts/status_page.png"

#  2. Idle: every record in and committed, and the page says so
rc=0
wait "$producer" || rc=$?
unset "TESTENV_PID_OF[producer]"
[ "$rc" = 0 ] || testenv_fail "the producer exited with $rc: $(tail -3 "$TESTENV_DIR/producer.log")"
grep -q "\"records\":$lines," "$TESTENV_DIR/producer.log" || testenv_fail "producer summary: $(tail -2 "$TESTENV_DIR/producer.log")"
loaded () {
    [ "$(api 'p["arrival"]["records_in"], p["committed_records"], p["queue"]["records_held"]')" \
        = "($lines, $lines, 0)" ]
}
testenv_wait_until 60 loaded
dump idle
for check in "p['records_in'] $lines" "p['committed'] $lines" "p['recon_records_in'] $lines" \
             "p['recon_committed'] $lines" "p['pending'] 0" "p['queue_records'] 0" \
             "p['balanced'] true" "j['ready'] ready" "j['missing_count'] 0" \
             "j['workers'] ['worker-1']" "j['sinks'] ['sink-1']" "j['cluster'] test" \
             "j['desired_workers'] 1" "'bookings-etl/watermark_lag'in(j['alerts']) True" \
             "j['alerts_count']==len(j['alerts']) True"; do
    [ "$(page idle "${check% *}")" = "${check##* }" ] \
        || testenv_fail "on the page, ${check% *} is '$(page idle "${check% *}")', not ${check##* }"
done
for field in out_of_order late too_late deduplicated; do
    want=$(api "p['arrival']['$field']")
    [ "$(page idle "p['$field']")" = "$want" ] \
        || testenv_fail "on the page, $field is '$(page idle "p['$field']")', not $want as in the API"
done
[ "$(page idle "p['out_of_order']")" -gt 0 ] || testenv_fail "30 % disorder, yet no out-of-order record"
[ -n "$(page idle "p['watermark']")" ] && [ -n "$(page idle "p['watermark_lag']")" ] \
    || testenv_fail "no watermark on the page: $(cat "$TESTENV_DIR/idle.json")"
testenv_pass
