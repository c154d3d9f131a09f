/*  zetl_breaker - a circuit breaker in front of a backing service  */
#include "zetl_breaker.h"

#include <assert.h>

void
zetl_breaker_config_defaults (zetl_breaker_config_t *config)
{
    assert (config);
    config->failure_threshold = 5;
    config->open_ms = 5000;
    config->max_open_ms = 60000;
}

void
zetl_breaker_init (zetl_breaker_t *self, const zetl_breaker_config_t *config)
{
    assert (self);
    zetl_breaker_config_t defaults;
    zetl_breaker_config_defaults (&defaults);
    if (!config)
        config = &defaults;
    assert (config->failure_threshold >= 1);
    assert (config->open_ms > 0 && config->max_open_ms >= config->open_ms);
    *self = (zetl_breaker_t){.config = *config, .state = ZETL_BREAKER_CLOSED};
    zetl_backoff_init (&self->backoff, config->open_ms, config->max_open_ms);
}

//  Open for the next period of the schedule, from NOW_MS
static void
s_open (zetl_breaker_t *self, int64_t now_ms)
{
    if (self->state == ZETL_BREAKER_CLOSED) {
        self->opened_total++;
        self->opened_at_ms = now_ms;
    }
    self->state = ZETL_BREAKER_OPEN;
    self->retry_at_ms = now_ms + zetl_backoff_next (&self->backoff);
}

bool
zetl_breaker_allow (zetl_breaker_t *self, int64_t now_ms)
{
    assert (self);
    if (self->state == ZETL_BREAKER_CLOSED)
        return true;
    if (self->state == ZETL_BREAKER_OPEN && now_ms >= self->retry_at_ms) {
        self->state = ZETL_BREAKER_HALF_OPEN;  //  This call is the one trial
        return true;
    }
    self->rejected_total++;
    return false;
}

void
zetl_breaker_success (zetl_breaker_t *self, int64_t now_ms)
{
    assert (self);
    self->successes_total++;
    if (self->state == ZETL_BREAKER_CLOSED)
        self->failures = 0;
    else if (self->state == ZETL_BREAKER_HALF_OPEN) {
        self->open_total_ms += now_ms > self->opened_at_ms ? now_ms - self->opened_at_ms : 0;
        self->state = ZETL_BREAKER_CLOSED;
        self->failures = 0;
        zetl_backoff_reset (&self->backoff);
    }
}

void
zetl_breaker_failure (zetl_breaker_t *self, int64_t now_ms)
{
    assert (self);
    self->failures_total++;
    if (self->state == ZETL_BREAKER_CLOSED) {
        if (++self->failures >= self->config.failure_threshold)
            s_open (self, now_ms);
    }
    else if (self->state == ZETL_BREAKER_HALF_OPEN)
        s_open (self, now_ms);  //  The trial failed: the schedule has doubled
}

zetl_breaker_state_t
zetl_breaker_state (const zetl_breaker_t *self)
{
    assert (self);
    return self->state;
}

int64_t
zetl_breaker_wait_ms (const zetl_breaker_t *self, int64_t now_ms)
{
    assert (self);
    if (self->state == ZETL_BREAKER_CLOSED)
        return 0;
    if (self->state == ZETL_BREAKER_HALF_OPEN)
        return -1;
    return self->retry_at_ms > now_ms ? self->retry_at_ms - now_ms : 0;
}

int64_t
zetl_breaker_open_total_ms (const zetl_breaker_t *self, int64_t now_ms)
{
    assert (self);
    int64_t spell_ms = 0;
    if (self->state != ZETL_BREAKER_CLOSED && now_ms > self->opened_at_ms)
        spell_ms = now_ms - self->opened_at_ms;
    return self->open_total_ms + spell_ms;
}

const char *
zetl_breaker_state_name (zetl_breaker_state_t state)
{
    switch (state) {
    case ZETL_BREAKER_CLOSED:
        return "closed";
    case ZETL_BREAKER_OPEN:
        return "open";
    case ZETL_BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "unknown";
}
