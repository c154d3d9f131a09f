/*  zetl_backoff - exponential backoff with jitter

    The one retry schedule of zetl: the first delay is `initial`, each
    further one twice the last, never more than `cap`, and each delay drawn
    at random from its upper half so that many retrying processes do not
    retry in step. A plain value owned by whoever retries.
*/
#ifndef ZETL_BACKOFF_H_INCLUDED
#define ZETL_BACKOFF_H_INCLUDED

#include <stdint.h>

typedef struct {
    int64_t initial_ms;  //  first delay
    int64_t cap_ms;      //  longest delay
    int64_t next_ms;     //  the delay the next failure gets (before jitter)
    uint32_t failures;   //  failures since the last success
} zetl_backoff_t;

//  Set up a schedule from INITIAL_MS doubling up to CAP_MS.
void zetl_backoff_init (zetl_backoff_t *self, int64_t initial_ms, int64_t cap_ms);
//  A failure: returns how long to wait before the next try.
int64_t zetl_backoff_next (zetl_backoff_t *self);
//  A success: the next failure starts again from the initial delay.
void zetl_backoff_reset (zetl_backoff_t *self);

#endif
