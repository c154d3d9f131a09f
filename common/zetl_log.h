/*  zetl_log - JSON-lines logging to stderr

    One process-wide logger: each call writes one JSON object per line with
    ts, level, proc, module, event, then the caller's fields. Thread safe
    (one write(2) per line). Rate limiting of repeating events is the
    caller's job (zetl_log_every).
*/
#ifndef ZETL_LOG_H_INCLUDED
#define ZETL_LOG_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum { ZETL_LOG_DEBUG = 0, ZETL_LOG_INFO, ZETL_LOG_WARN, ZETL_LOG_ERROR } zetl_log_level_t;

//  Set the process name written in every line ("zetl-worker"). Borrowed: the
//  string must stay valid for the life of the process.
void zetl_log_init (const char *proc);
//  Set the lowest level written (default info; ZETL_LOG_LEVEL=debug overrides).
void zetl_log_set_level (zetl_log_level_t level);
//  True when a line of LEVEL would be written: check it before building the
//  fields of a per-record line.
bool zetl_log_enabled (zetl_log_level_t level);
//  Write one line. Takes ownership of FIELDS (a JSON object, may be NULL).
void zetl_log (zetl_log_level_t level, const char *module, const char *event, json_t *fields);

#define zetl_log_debug(m, e, f) zetl_log (ZETL_LOG_DEBUG, (m), (e), (f))
#define zetl_log_info(m, e, f) zetl_log (ZETL_LOG_INFO, (m), (e), (f))
#define zetl_log_warn(m, e, f) zetl_log (ZETL_LOG_WARN, (m), (e), (f))
#define zetl_log_error(m, e, f) zetl_log (ZETL_LOG_ERROR, (m), (e), (f))

//  Rate limiter for events that can repeat per record or per frame: returns
//  true on the first call and then at most once per INTERVAL_MS, and counts
//  every call in *SEEN. Caller owns the state (zero-initialised).
typedef struct {
    int64_t last_ms;  //  monotonic time of the last true
    uint64_t seen;    //  calls so far
    bool logged;      //  true once the first call returned true
} zetl_log_limit_t;
bool zetl_log_every (zetl_log_limit_t *limit, int64_t interval_ms);

#endif
