#!/usr/bin/python3
"""http_api.py - a paginated JSON API for zetl's HTTP source tests, with faults.

Serves the records of a JSONL file (one JSON object a line, served as its exact text) in pages,
on 127.0.0.1 at a port the kernel picks, which it prints on stdout. GET /records is the API;
GET /stats answers the counters below as JSON. Pagination (--mode):

  next_link  {"data": [...], "links": {"next": "/records?page=<token>"}}: a relative link, in the
             body or (--next-in header) only in a `Link: <...>; rel="next"` header; none on the last
  cursor     {"items": [...], "meta": {"next_cursor": "<token>"}}, ?cursor=<token>; null on the last
  offset     a bare array, ?offset=N&limit=M

Tokens are opaque (a hash of the seed and the page's first record). Faults (--fail-500, --fail-429
with Retry-After, --slow: sleeps --slow-seconds, past the client's timeout, then answers 503;
--bad-body: 200 with a body that is not JSON) strike each request with their probability, drawn
from a generator seeded by (seed, page, attempt): the same seed gives the same faults whatever the
timing, and the third and later attempts at a page always succeed. A request lacking the header
--expect-header with the value of the environment variable --expect-env gets 401.

Every request is logged as one JSON line (--log): seq (arrival order), page start, token, attempt,
fault, status, records. Counters: requests, faults by kind, status counts, records_served (records
in pages answered 200), first_page_requests, header_ok, header_bad. The server stops by itself
after --max-seconds.
"""
import argparse
import hashlib
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Api:
    def __init__(self, args):
        self.args = args
        with open(args.data, encoding="utf-8") as data:
            self.records = [line.rstrip("\n") for line in data if line.strip()]
        self.lock = threading.Lock()
        self.log = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr
        self.seq = 0
        self.attempts = {}  # page start -> requests so far
        self.stats = {"requests": 0, "records_served": 0, "first_page_requests": 0,
                      "header_ok": 0, "header_bad": 0, "status": {},
                      "faults": {"500": 0, "429": 0, "slow": 0, "bad_body": 0}}
        self.expected = os.environ.get(args.expect_env) if args.expect_env else None
        if args.expect_header and self.expected is None:
            sys.exit(f"http_api.py: --expect-env {args.expect_env} is not set")
        # Tokens of every page start, both ways
        size = args.page_size
        self.token_of = {}
        self.start_of = {}
        for start in range(0, len(self.records) + 1, size):
            token = hashlib.sha1(f"{args.seed}:{start}".encode()).hexdigest()[:16]
            self.token_of[start] = token
            self.start_of[token] = start

    def begin(self, start):
        """Count a request for the page at START: its seq, attempt and fault."""
        with self.lock:
            self.seq += 1
            attempt = self.attempts.get(start, 0) + 1
            self.attempts[start] = attempt
            self.stats["requests"] += 1
            if start == 0:
                self.stats["first_page_requests"] += 1
            seq = self.seq
        fault = None
        if attempt <= 2:
            draw = random.Random(f"{self.args.seed}:{start}:{attempt}").random()
            for name, chance in (("500", self.args.fail_500), ("429", self.args.fail_429),
                                 ("slow", self.args.slow), ("bad_body", self.args.bad_body)):
                if draw < chance:
                    fault = name
                    break
                draw -= chance
        return seq, attempt, fault

    def finish(self, entry):
        with self.lock:
            status = str(entry["status"])
            self.stats["status"][status] = self.stats["status"].get(status, 0) + 1
            if entry.get("fault"):
                self.stats["faults"][entry["fault"]] += 1
            if entry["status"] == 200 and not entry.get("fault"):
                self.stats["records_served"] += entry["records"]
            self.log.write(json.dumps(entry, sort_keys=True) + "\n")
            self.log.flush()

    def page(self, query):
        """(start, count, token, body, headers) of the page QUERY asks for, or None."""
        mode, size, total = self.args.mode, self.args.page_size, len(self.records)
        token = None
        if mode == "offset":
            try:
                start = int(query.get("offset", ["0"])[0])
                size = min(int(query.get("limit", [str(size)])[0]), 10000)
            except ValueError:
                return None
        else:
            token = query.get("page" if mode == "next_link" else "cursor", [None])[0]
            if token is not None and token not in self.start_of:
                return None
            start = self.start_of[token] if token else 0
        rows = self.records[start:start + size]
        end = start + len(rows)
        following = self.token_of.get(end) if end < total else None
        headers = {}
        text = "[" + ",".join(rows) + "]"
        if mode == "offset":
            body = text
        elif mode == "cursor":
            body = '{"items":%s,"meta":{"next_cursor":%s}}' % (text, json.dumps(following))
        else:
            link = f"/records?page={following}" if following else None
            if self.args.next_in == "header":
                body = '{"data":%s}' % text
                if link:
                    headers["Link"] = f'<{link}>; rel="next", </records>; rel="first"'
            else:
                body = '{"data":%s,"links":{"next":%s}}' % (text, json.dumps(link))
        return start, len(rows), token, body, headers


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as APIs do

    def log_message(self, *args):
        pass  # Requests are logged as JSON lines by Api.finish

    def answer(self, status, body, headers=None):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # The client gave up (its timeout): it asks again

    def do_GET(self):
        api = self.server.api
        url = urlsplit(self.path)
        if url.path == "/stats":
            with api.lock:
                return self.answer(200, json.dumps(api.stats))
        if url.path != "/records":
            return self.answer(404, '{"error":"no such path"}')
        if api.args.expect_header:
            with api.lock:
                ok = self.headers.get(api.args.expect_header) == api.expected
                api.stats["header_ok" if ok else "header_bad"] += 1
            if not ok:
                return self.answer(401, '{"error":"bad or missing key"}')
        page = api.page(parse_qs(url.query))
        if page is None:
            return self.answer(400, '{"error":"bad page parameters"}')
        start, count, token, body, headers = page
        seq, attempt, fault = api.begin(start)
        entry = {"seq": seq, "start": start, "token": token, "attempt": attempt, "fault": fault,
                 "records": count, "query": url.query}
        if fault == "500":
            entry["status"] = 500
            api.finish(entry)
            return self.answer(500, '{"error":"injected"}')
        if fault == "429":
            entry["status"] = 429
            api.finish(entry)
            return self.answer(429, '{"error":"slow down"}', {"Retry-After": "1"})
        if fault == "slow":
            entry["status"] = 503
            api.finish(entry)
            time.sleep(api.args.slow_seconds)  # Past the client's timeout: it must give up and retry
            return self.answer(503, '{"error":"too slow"}')
        if fault == "bad_body":
            entry["status"] = 200
            api.finish(entry)
            return self.answer(200, "<html>upstream error</html>")
        entry["status"] = 200
        api.finish(entry)
        return self.answer(200, body, headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="JSONL file of the records to serve")
    parser.add_argument("--mode", choices=("next_link", "cursor", "offset"), required=True)
    parser.add_argument("--next-in", choices=("body", "header"), default="body")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fail-500", type=float, default=0.0)
    parser.add_argument("--fail-429", type=float, default=0.0)
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--slow-seconds", type=float, default=3.0)
    parser.add_argument("--bad-body", type=float, default=0.0)
    parser.add_argument("--expect-header")
    parser.add_argument("--expect-env")
    parser.add_argument("--log")
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.api = Api(args)
    print(server.server_address[1], flush=True)
    timer = threading.Timer(args.max_seconds, server.shutdown)  # Stops by itself
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
