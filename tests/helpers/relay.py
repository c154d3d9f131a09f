#!/usr/bin/python3
"""relay.py - a TCP relay for zetl's tests: forwards connections, cuts them, adds latency.

    relay.py --target HOST:PORT [--listen PORT] [--listen-host ADDR] [--port-file FILE]
             [--cut-after-bytes N]... [--down-for SECONDS] [--silent] [--delay-ms D]

Listens on ADDR:PORT (default 127.0.0.1, port 0: the kernel picks one) and forwards each
connection to HOST:PORT, both ways. The port listened on is the first line on stdout, and is
written to FILE with --port-file.

--cut-after-bytes N: once N bytes in all have been delivered client->server (over every
connection), every open connection is reset on both sides (SO_LINGER 0, so RST), in the middle
of whatever is passing; new connections are then reset at once for --down-for SECONDS
(default 2), after which the relay forwards again. Give it several times for several cuts (each
N counts from the start). When the stream is ZeroMQ (ZMTP 3), the cut is never on a frame
boundary: it waits one more byte so that it lands inside a frame, and the log says which.
With --silent, a cut resets nothing: the connections open then go silent instead (nothing more
is read or forwarded either way, and they stay open), as when a network path drops packets
without a word; only new connections get through, once --down-for has passed.

--delay-ms D: every byte is delivered D ms after it was read, in each direction (one-way
latency; order and content are kept).

Logs one JSON object per line on stderr: listening, accepted, closed, cut, reset_while_down,
up, stopped. Exits 0 on SIGTERM or SIGINT. Standard library only.
"""
import argparse
import collections
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

READ_SIZE = 65536
PENDING_MAX = 4 * 1024 * 1024  # bytes queued one way before the relay stops reading that side


def log(event, **fields):
    fields = dict(ts=round(time.time(), 6), event=event, **fields)
    sys.stderr.write(json.dumps(fields, separators=(",", ":")) + "\n")
    sys.stderr.flush()


def reset(sock):
    """Close SOCK abruptly: RST, not FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class Zmtp:
    """Follows ZMTP 3 framing in one direction, to tell whether a position is inside a frame."""

    def __init__(self):
        self.greeting = b""  # the first 64 bytes, until complete
        self.valid = None  # None: not known yet; False: not ZMTP
        self.header = b""  # the frame header read so far
        self.body_left = 0  # bytes of the current frame's body still to come
        self.size = 0  # size of the current (or last) frame's body
        self.command = False  # the current frame is a command frame
        self.frames = 0  # frames begun

    def feed(self, data):
        pos = 0
        while pos < len(data) and self.valid is not False:
            if len(self.greeting) < 64:
                take = data[pos:pos + 64 - len(self.greeting)]
                self.greeting += take
                pos += len(take)
                if len(self.greeting) >= 10 and self.valid is None:
                    self.valid = self.greeting[0] == 0xFF and self.greeting[9] == 0x7F
                continue
            if self.body_left > 0:
                take = min(self.body_left, len(data) - pos)
                self.body_left -= take
                pos += take
                continue
            if not self.header:
                self.frames += 1
            self.header += data[pos:pos + 1]
            pos += 1
            flags = self.header[0]
            need = 9 if flags & 0x02 else 2
            if len(self.header) == need:
                self.size = int.from_bytes(self.header[1:], "big")
                self.command = bool(flags & 0x04)
                self.body_left = self.size
                self.header = b""

    def inside(self):
        """True when the position reached is strictly inside a frame (or the greeting)."""
        if not self.valid:
            return True  # no framing known: any position will do
        return len(self.greeting) < 64 or bool(self.header) or self.body_left > 0

    def describe(self):
        if not self.valid:
            return None
        if len(self.greeting) < 64:
            return {"in": "greeting", "done": len(self.greeting)}
        if self.header:
            return {"in": "frame_header", "frame": self.frames}
        return {"in": "command" if self.command else "message_frame", "frame": self.frames,
                "frame_size": self.size, "frame_done": self.size - self.body_left}


class Direction:
    """Bytes read from one socket, waiting to be written to the other."""

    def __init__(self, src, dst):
        self.src, self.dst = src, dst
        self.queue = collections.deque()  # (due time, bytes)
        self.pending = 0
        self.eof = False  # the source said end of stream
        self.shut = False  # the end was passed on (shutdown SHUT_WR)
        self.blocked = False  # the destination took no more: wait until writable
        self.delivered = 0


class Connection:
    def __init__(self, number, client, server, peer):
        self.number, self.client, self.server, self.peer = number, client, server, peer
        self.up = Direction(client, server)  # client -> server
        self.down = Direction(server, client)  # server -> client
        self.zmtp = Zmtp()
        self.registered = {}
        self.silent = False  # cut with --silent: kept open, nothing moves


class Relay:
    def __init__(self, args):
        self.args = args
        self.target = args.target
        self.cuts = sorted(args.cut_after_bytes or [])
        self.delay = args.delay_ms / 1000.0
        self.delivered_up = 0  # client -> server bytes delivered, all connections
        self.down_until = None
        self.connections = []
        self.count = 0
        self.stopping = False
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((args.listen_host, args.listen))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, None)

    # -- connections

    def accept(self):
        try:
            client, peer = self.listener.accept()
        except OSError:
            return
        now = time.monotonic()
        if self.down_until is not None and now < self.down_until:
            reset(client)
            log("reset_while_down", peer="%s:%d" % peer,
                down_left_ms=int((self.down_until - now) * 1000))
            return
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError as error:
            reset(client)
            log("target_unreachable", peer="%s:%d" % peer, error=str(error))
            return
        for sock in (client, server):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.count += 1
        self.connections.append(Connection(self.count, client, server, "%s:%d" % peer))
        log("accepted", connection=self.count, peer="%s:%d" % peer)

    def close(self, conn, why, abrupt):
        for sock in (conn.client, conn.server):
            if sock in conn.registered:
                self.selector.unregister(sock)
            if abrupt:
                reset(sock)
            else:
                sock.close()
        conn.registered = {}
        if conn in self.connections:
            self.connections.remove(conn)
        log("closed", connection=conn.number, why=why, up_bytes=conn.up.delivered,
            down_bytes=conn.down.delivered)

    def cut(self, conn):
        threshold = self.cuts.pop(0)
        log("cut", connection=conn.number, after_bytes=self.delivered_up, asked=threshold,
            connection_bytes=conn.up.delivered, open_connections=len(self.connections),
            zmtp=conn.zmtp.describe(), down_for_s=self.args.down_for,
            mode="silent" if self.args.silent else "reset")
        for other in list(self.connections):
            if not self.args.silent:
                self.close(other, "cut", abrupt=True)
            elif not other.silent:
                other.silent = True
                for sock in list(other.registered):
                    self.selector.unregister(sock)
                other.registered = {}
        self.down_until = time.monotonic() + self.args.down_for

    def cut_due(self, conn):
        """Cut if the next threshold is reached. Returns True when it cut."""
        if not self.cuts or self.delivered_up < self.cuts[0]:
            return False
        if not conn.zmtp.inside():
            self.cuts[0] = self.delivered_up + 1  # on a frame boundary: one byte more, into the next
            return False
        self.cut(conn)
        return True

    # -- moving bytes

    def read(self, conn, way):
        if way.eof or way.pending >= PENDING_MAX:
            return True
        try:
            data = way.src.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError as error:
            self.close(conn, "read failed: %s" % error.strerror, abrupt=True)
            return False
        if not data:
            way.eof = True
        else:
            way.queue.append((time.monotonic() + self.delay, data))
            way.pending += len(data)
        return True

    def write(self, conn, way, now):
        """Deliver what is due. Returns False when the connection is gone or silent."""
        if conn.silent:
            return False
        while way.queue and way.queue[0][0] <= now:
            due, data = way.queue[0]
            limit = len(data)
            if way is conn.up and self.cuts:
                if self.cut_due(conn):  # a threshold already passed (several close together)
                    return False
                limit = min(limit, self.cuts[0] - self.delivered_up)
            try:
                sent = way.dst.send(data[:limit])
            except (BlockingIOError, InterruptedError):
                way.blocked = True
                return True
            except OSError as error:
                self.close(conn, "write failed: %s" % error.strerror, abrupt=True)
                return False
            way.blocked = False
            way.delivered += sent
            way.pending -= sent
            if way is conn.up:
                self.delivered_up += sent
                conn.zmtp.feed(data[:sent])
                if self.cut_due(conn):
                    return False
            if sent < len(data):
                way.queue[0] = (due, data[sent:])
            else:
                way.queue.popleft()
        if way.eof and not way.queue and not way.shut:
            way.shut = True
            try:
                way.dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        return True

    def next_due(self, now):
        due = None
        for conn in self.connections:
            for way in (conn.up, conn.down):
                if way.queue and not way.blocked and not conn.silent:
                    due = way.queue[0][0] if due is None else min(due, way.queue[0][0])
        if self.down_until is not None:
            due = self.down_until if due is None else min(due, self.down_until)
        return None if due is None else max(due - now, 0)

    def register(self, conn):
        """Watch each socket for what its connection needs now."""
        wants = {conn.client: 0, conn.server: 0}
        for way in (conn.up, conn.down):
            if not way.eof and way.pending < PENDING_MAX:
                wants[way.src] |= selectors.EVENT_READ
            if way.blocked:
                wants[way.dst] |= selectors.EVENT_WRITE
        for sock, events in wants.items():
            had = conn.registered.get(sock, 0)
            if events == had:
                continue
            if had and events:
                self.selector.modify(sock, events, conn)
            elif events:
                self.selector.register(sock, events, conn)
            else:
                self.selector.unregister(sock)
            if events:
                conn.registered[sock] = events
            else:
                conn.registered.pop(sock, None)

    def turn(self):
        now = time.monotonic()
        if self.down_until is not None and now >= self.down_until:
            self.down_until = None
            log("up")
        for conn in list(self.connections):
            if conn.up.eof and conn.down.eof and conn.up.shut and conn.down.shut:
                self.close(conn, "ended", abrupt=False)
                continue
            if self.write(conn, conn.up, now) and conn in self.connections:
                self.write(conn, conn.down, now)
            if conn in self.connections and not conn.silent:
                self.register(conn)
        timeout = self.next_due(time.monotonic())
        timeout = 0.2 if timeout is None else min(timeout, 0.2)  # SIGTERM is seen between waits
        for key, events in self.selector.select(timeout):
            if key.data is None:
                self.accept()
                continue
            conn = key.data
            if conn not in self.connections:
                continue
            if events & selectors.EVENT_WRITE:
                for way in (conn.up, conn.down):
                    if way.dst is key.fileobj:
                        way.blocked = False
            if events & selectors.EVENT_READ:
                way = conn.up if key.fileobj is conn.client else conn.down
                self.read(conn, way)

    def run(self):
        port = self.listener.getsockname()[1]
        sys.stdout.write("%d\n" % port)
        sys.stdout.flush()
        if self.args.port_file:
            with open(self.args.port_file + ".tmp", "w") as out:
                out.write("%d\n" % port)
            os.replace(self.args.port_file + ".tmp", self.args.port_file)
        log("listening", host=self.args.listen_host, port=port,
            target="%s:%d" % self.target, cuts=self.cuts, down_for_s=self.args.down_for,
            silent=self.args.silent, delay_ms=self.args.delay_ms)
        while not self.stopping:
            self.turn()
        for conn in list(self.connections):
            self.close(conn, "stopping", abrupt=False)
        self.listener.close()
        log("stopped", connections=self.count, up_bytes=self.delivered_up,
            cuts_left=len(self.cuts))


def parse_target(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("give HOST:PORT, such as 127.0.0.1:5570 (got %r)" % text)
    return host, int(port)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", required=True, type=parse_target, help="HOST:PORT to forward to")
    parser.add_argument("--listen", type=int, default=0, help="port to listen on (0: any)")
    parser.add_argument("--listen-host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port-file", help="write the port listened on to this file")
    parser.add_argument("--cut-after-bytes", type=int, action="append", metavar="N",
                        help="reset every connection once N bytes went client->server (repeatable)")
    parser.add_argument("--down-for", type=float, default=2.0, metavar="SECONDS",
                        help="after a cut, reset new connections for this long (default 2)")
    parser.add_argument("--silent", action="store_true",
                        help="a cut leaves the open connections silent instead of resetting them")
    parser.add_argument("--delay-ms", type=float, default=0.0, metavar="D",
                        help="one-way latency added to each direction")
    args = parser.parse_args()
    if not 0 <= args.listen < 65536:
        parser.error("--listen %d: give a port, 0..65535" % args.listen)
    if any(n < 1 for n in args.cut_after_bytes or []):
        parser.error("--cut-after-bytes: give a number of bytes, 1 or more")
    if args.down_for < 0 or args.delay_ms < 0:
        parser.error("--down-for and --delay-ms must be 0 or more")
    try:
        relay = Relay(args)
    except OSError as error:
        sys.stderr.write("relay.py: cannot listen on %s:%d: %s\n"
                         % (args.listen_host, args.listen, error.strerror))
        return 1

    def stop(signum, frame):
        relay.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    relay.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
