/*  zetl_breaker - a circuit breaker in front of a backing service

    One breaker per service a process calls (PostgreSQL, Redis, an HTTP
    peer). While the service answers, the breaker is CLOSED and every call
    goes out. After failure_threshold failures in a row it OPENs: calls are
    refused at once, without waiting for timeouts, for an open period. Then
    it lets exactly one trial call through (HALF_OPEN): its success closes
    the breaker, its failure opens it again for a period twice as long, up
    to max_open_ms. Each period is drawn at random from its upper half,
    through zetl_backoff (the one retry schedule of zetl), so that many
    processes do not retry in step.

    A plain value owned by whoever makes the calls, on the stack or inside
    its own struct: zetl_breaker_init, and nothing to destroy. One thread.
    Time is passed in, in milliseconds on a monotonic clock (zclock_mono):
    nothing here reads a clock. The caller asks zetl_breaker_allow before
    each call and reports its outcome with zetl_breaker_success or
    zetl_breaker_failure, once per allowed call. An outcome reported while
    OPEN (a call allowed before the breaker opened) is counted but changes
    nothing.
*/
#ifndef ZETL_BREAKER_H_INCLUDED
#define ZETL_BREAKER_H_INCLUDED

#include "zetl_backoff.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    ZETL_BREAKER_CLOSED,     //  calls go out
    ZETL_BREAKER_OPEN,       //  calls are refused until the open period ends
    ZETL_BREAKER_HALF_OPEN,  //  one trial call is out; others are refused
} zetl_breaker_state_t;

typedef struct {
    uint32_t failure_threshold;  //  failures in a row that open it (>= 1); default 5
    int64_t open_ms;             //  the first open period (> 0); default 5 s
    int64_t max_open_ms;         //  the longest open period (>= open_ms); default 60 s
} zetl_breaker_config_t;

typedef struct {
    zetl_breaker_config_t config;  //  copied at init
    zetl_breaker_state_t state;    //  read it with zetl_breaker_state
    uint32_t failures;             //  CLOSED: failures in a row so far
    zetl_backoff_t backoff;        //  open periods: open_ms doubling to max_open_ms
    int64_t opened_at_ms;          //  OPEN, HALF_OPEN: when it left CLOSED
    int64_t retry_at_ms;           //  OPEN: when the trial may go
    //  Counters, for metrics
    uint64_t opened_total;     //  times it went from CLOSED to OPEN
    uint64_t rejected_total;   //  calls refused (zetl_breaker_allow said no)
    uint64_t failures_total;   //  failures reported
    uint64_t successes_total;  //  successes reported
    int64_t open_total_ms;     //  time spent OPEN or HALF_OPEN, up to the last close
} zetl_breaker_t;

//  Fill *CONFIG with the defaults.
void zetl_breaker_config_defaults (zetl_breaker_config_t *config);

//  Set up SELF, CLOSED, with CONFIG (copied; NULL: the defaults), and zero
//  its counters. The values must be in range (the config loader checks
//  them): asserts otherwise.
void zetl_breaker_init (zetl_breaker_t *self, const zetl_breaker_config_t *config);

//  May a call go out at NOW_MS? CLOSED: yes. OPEN: no until the open
//  period has passed; then the breaker goes HALF_OPEN and this call is
//  the one trial: yes. HALF_OPEN: no, the trial is still out. Each no is
//  counted in rejected_total.
bool zetl_breaker_allow (zetl_breaker_t *self, int64_t now_ms);

//  An allowed call succeeded at NOW_MS. CLOSED: the failures in a row
//  start again from 0. HALF_OPEN: the trial succeeded; the breaker
//  closes and the next open period starts again from open_ms.
void zetl_breaker_success (zetl_breaker_t *self, int64_t now_ms);

//  An allowed call failed at NOW_MS. CLOSED: the breaker opens on the
//  failure_threshold-th failure in a row. HALF_OPEN: the trial failed; the
//  breaker opens again, for twice the last period (at most max_open_ms).
void zetl_breaker_failure (zetl_breaker_t *self, int64_t now_ms);

//  The state now. OPEN stays OPEN past its period until zetl_breaker_allow
//  is called.
zetl_breaker_state_t zetl_breaker_state (const zetl_breaker_t *self);

//  How long from NOW_MS until a call may be tried: 0 when
//  zetl_breaker_allow would say yes, the rest of the open period when
//  OPEN, and -1 when HALF_OPEN: not until the trial reports (as
//  zpoller_wait reads -1: wait for that event).
int64_t zetl_breaker_wait_ms (const zetl_breaker_t *self, int64_t now_ms);

//  Time spent OPEN or HALF_OPEN up to NOW_MS, the current spell included.
int64_t zetl_breaker_open_total_ms (const zetl_breaker_t *self, int64_t now_ms);

//  "closed", "open" or "half_open", for logs and metrics labels. A static
//  string.
const char *zetl_breaker_state_name (zetl_breaker_state_t state);

#endif
