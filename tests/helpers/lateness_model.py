"""lateness_model.py - which records of a JSONL stream arrive late or too late, from first principles

    /usr/bin/python3 lateness_model.py FILE PARTITIONS KEY_FIELD TIME_FIELD DELAY_S LATE_WINDOW_S

Reads FILE in arrival order (one JSON record per line, positions = byte offsets) and prints
"late POSITION" or "too_late POSITION" for each record the rules of zetl's event time give that
class, for a single file source whose partitions never go idle:

  - partition p = xxh3_64(text of KEY_FIELD's JSON value) mod PARTITIONS;
  - max_ts[p] is the newest event time accepted in p, wm[p] = max_ts[p] - DELAY;
  - W is -inf until every partition has had a record, then min over p of wm[p], never moving
    back;
  - a record with ts < W - LATE_WINDOW is too late (and not accepted: it moves nothing),
    ts < W is late, else on time; every record that is not too late is accepted.

Independent of zetl's code: the only thing shared is the xxh3 function, from libxxhash.
"""
import ctypes
import datetime
import json
import sys


def main():
    path, partitions, key_field, time_field = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    delay_us, late_us = int(float(sys.argv[5]) * 1e6), int(float(sys.argv[6]) * 1e6)
    xxh = ctypes.CDLL("libxxhash.so.0")
    xxh.XXH3_64bits.restype = ctypes.c_uint64
    xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    max_ts = [None] * partitions
    seen = 0
    watermark = None
    position = 0
    out = sys.stdout
    with open(path, "rb") as stream:
        for line in stream:
            record = json.loads(line)
            key = json.dumps(record[key_field], separators=(",", ":")).encode()
            if isinstance(record[key_field], str):
                key = record[key_field].encode()
            p = xxh.XXH3_64bits(key, len(key)) % partitions
            when = datetime.datetime.fromisoformat(record[time_field].replace("Z", "+00:00"))
            delta = when - epoch
            ts = (delta.days * 86400 + delta.seconds) * 1000000 + delta.microseconds
            if watermark is not None and ts < watermark - late_us:
                out.write("too_late %d\n" % position)
            else:
                if watermark is not None and ts < watermark:
                    out.write("late %d\n" % position)
                if max_ts[p] is None:
                    seen += 1
                    max_ts[p] = ts
                elif ts > max_ts[p]:
                    max_ts[p] = ts
                if seen == partitions:
                    low = min(max_ts) - delay_us
                    if watermark is None or low > watermark:
                        watermark = low
            position += len(line)


if __name__ == "__main__":
    main()
