/*  zetl_backoff - exponential backoff with jitter  */
#include "zetl_backoff.h"

#include <czmq.h>

void
zetl_backoff_init (zetl_backoff_t *self, int64_t initial_ms, int64_t cap_ms)
{
    assert (initial_ms > 0 && cap_ms >= initial_ms);
    self->initial_ms = initial_ms;
    self->cap_ms = cap_ms;
    zetl_backoff_reset (self);
}

int64_t
zetl_backoff_next (zetl_backoff_t *self)
{
    int64_t delay = self->next_ms;
    self->next_ms = delay * 2 > self->cap_ms ? self->cap_ms : delay * 2;
    self->failures++;
    int64_t half = delay / 2;
    return delay - half + (half > 0 ? (int64_t) randof ((int) (half + 1)) : 0);
}

void
zetl_backoff_reset (zetl_backoff_t *self)
{
    self->next_ms = self->initial_ms;
    self->failures = 0;
}
