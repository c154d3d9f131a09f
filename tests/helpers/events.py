#!/usr/bin/env python3
"""events.py - a plain ZeroMQ client of a zetl coordinator's event socket.

    events.py ENDPOINT OUT

Subscribes to every topic on ENDPOINT (cluster.events), decodes each event (a topic frame and
a msgpack map, proto/PROTOCOL.md §12) and appends it to OUT as one JSON line with "topic" and
"received" (seconds since the epoch) added, until SIGTERM or SIGINT. Needs python3-zmq and
python3-msgpack (Debian).
"""
import json
import signal
import sys
import time

import msgpack
import zmq


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: events.py ENDPOINT OUT")
    endpoint, out_path = sys.argv[1], sys.argv[2]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(endpoint)
    poller = zmq.Poller()
    poller.register(sub, zmq.POLLIN)
    with open(out_path, "a", buffering=1) as out:
        while not stop:
            if not dict(poller.poll(200)):
                continue
            frames = sub.recv_multipart()
            if len(frames) != 2:
                print(f"events.py: an event of {len(frames)} frames", file=sys.stderr)
                continue
            event = msgpack.unpackb(frames[1], raw=False)
            if not isinstance(event, dict):
                print("events.py: an event body that is not a map", file=sys.stderr)
                continue
            event["topic"] = frames[0].decode()
            event["received"] = time.time()
            out.write(json.dumps(event) + "\n")
    sub.close()
    context.term()


if __name__ == "__main__":
    main()
