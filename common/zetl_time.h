/*  zetl_time - event time: parsing and formatting timestamps and dates

    Pure functions, no state. Event time inside zetl is int64 microseconds
    since the epoch, UTC; dates are int32 days since 1970-01-01. Used by the
    coordinator (extracting event time), workers (casting schema types) and
    sinks (writing COPY text and file names).
*/
#ifndef ZETL_TIME_H_INCLUDED
#define ZETL_TIME_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

//  Parse an ISO 8601 / RFC 3339 timestamp: YYYY-MM-DD, then optionally 'T' or
//  ' ' and hh:mm[:ss[.fraction]] (fraction up to 9 digits, kept to the
//  microsecond), then optionally 'Z', 'z' or an offset ±hh[:mm] / ±hhmm. No
//  offset means UTC. A date alone is its midnight UTC. Leap days checked;
//  second 60 refused. Returns 0 and sets *US, or -1.
int zetl_time_parse_iso8601 (const char *text, size_t len, int64_t *us);
//  Parse a calendar date YYYY-MM-DD (also accepts a full ISO 8601 timestamp
//  and takes its UTC date). Returns 0 and sets *DAYS, or -1.
int zetl_time_parse_date (const char *text, size_t len, int32_t *days);
//  Parse TEXT with strptime-style FORMAT (UTC unless %z is used). Returns 0 or -1.
int zetl_time_parse_strftime (const char *text, size_t len, const char *format, int64_t *us);
//  Parse decimal milliseconds since the epoch ("1714816502113"). Returns 0 or -1.
int zetl_time_parse_unix_ms (const char *text, size_t len, int64_t *us);

//  Format US as "YYYY-MM-DD HH:MM:SS.ffffff+00" (PostgreSQL timestamptz text,
//  always 6 fraction digits). Writes at most SIZE bytes including the NUL;
//  returns the length written. SIZE of 40 is always enough.
size_t zetl_time_format_pg (int64_t us, char *buf, size_t size);
//  Format US as RFC 3339 "YYYY-MM-DDTHH:MM:SS.ffffffZ". Same contract.
size_t zetl_time_format_iso (int64_t us, char *buf, size_t size);
//  Format DAYS as "YYYY-MM-DD". Same contract.
size_t zetl_time_format_date (int32_t days, char *buf, size_t size);
//  Days since the epoch of the UTC date of US.
int32_t zetl_time_days (int64_t us);
//  Now, wall clock, microseconds since the epoch UTC.
int64_t zetl_time_now_us (void);

#endif
