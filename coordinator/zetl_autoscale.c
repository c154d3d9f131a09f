/*  zetl_autoscale - the autoscaling signal  */
#include "zetl_autoscale.h"

#include <czmq.h>

#define S_RATE_WEIGHT 0.3  //  weight of the newest second in the rates' moving average

struct zetl_autoscale {
    const zetl_autoscaling_t *config;
    zetl_autoscale_signal_t signal;
    int64_t up_since_ms;    //  when the current up condition began, 0 none
    int64_t down_since_ms;  //  when the current idle spell began, 0 none
    int64_t last_ms;        //  the previous update, 0 before the first
    uint64_t last_in;       //  its counters
    uint64_t last_committed;
    bool starved;            //  batches wait for credit now
    int64_t noted_us;        //  when that was last noted
    int64_t starved_us;      //  waiting time since the last update
    int64_t window_from_us;  //  when that time began to count
};

zetl_autoscale_t *
zetl_autoscale_new (const zetl_autoscaling_t *config)
{
    zetl_autoscale_t *self = (zetl_autoscale_t *) zmalloc (sizeof (zetl_autoscale_t));
    self->config = config;
    self->signal.desired_workers = config->min_workers;
    self->signal.reason = "steady";
    self->signal.time_to_drain_ms = -1;
    self->noted_us = self->window_from_us = zclock_usecs ();
    return self;
}

void
zetl_autoscale_destroy (zetl_autoscale_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

void
zetl_autoscale_note_credit (zetl_autoscale_t *self, bool starved, int64_t now_us)
{
    if (self->starved && now_us > self->noted_us)
        self->starved_us += now_us - self->noted_us;
    self->starved = starved;
    self->noted_us = now_us;
}

//  Rates and credit wait over the interval since the last update
static void
s_rates (zetl_autoscale_t *self, const zetl_autoscale_sample_t *sample, int64_t now_ms)
{
    zetl_autoscale_signal_t *signal = &self->signal;
    if (self->last_ms && now_ms > self->last_ms) {
        double seconds = (double) (now_ms - self->last_ms) / 1000.0;
        double in = (double) (sample->records_in - self->last_in) / seconds;
        double out = (double) (sample->committed - self->last_committed) / seconds;
        signal->arrival_rate = S_RATE_WEIGHT * in + (1 - S_RATE_WEIGHT) * signal->arrival_rate;
        signal->service_rate = S_RATE_WEIGHT * out + (1 - S_RATE_WEIGHT) * signal->service_rate;
    }
    self->last_ms = now_ms;
    self->last_in = sample->records_in;
    self->last_committed = sample->committed;
    int64_t now_us = zclock_usecs ();
    zetl_autoscale_note_credit (self, self->starved, now_us);
    int64_t window = now_us - self->window_from_us;
    signal->credit_wait = window > 0 ? (double) self->starved_us / (double) window : 0;
    self->starved_us = 0;
    self->window_from_us = now_us;
    signal->time_to_drain_ms =
        signal->service_rate >= 1
            ? (int64_t) ((double) sample->queue_records * 1000.0 / signal->service_rate)
        : sample->queue_records ? -1
                                : 0;
}

//  The step up the sample asks for, 0 none; *REASON names its rule
static uint32_t
s_step_up (const zetl_autoscaling_t *config, const zetl_autoscale_sample_t *sample,
           const char **reason)
{
    uint32_t step = 0;
    if (sample->queue_records > (uint64_t) config->queue_depth && config->depth_step > step)
        step = config->depth_step, *reason = "depth";
    if (sample->workers && sample->utilisation * 100 > config->busy_above &&
        config->busy_step > step)
        step = config->busy_step, *reason = "utilisation";
    if (sample->memory * 100 > config->memory_above && config->memory_step > step)
        step = config->memory_step, *reason = "memory";
    return step;
}

void
zetl_autoscale_update (zetl_autoscale_t *self, const zetl_autoscale_sample_t *sample,
                       int64_t now_ms)
{
    const zetl_autoscaling_t *config = self->config;
    zetl_autoscale_signal_t *signal = &self->signal;
    s_rates (self, sample, now_ms);
    const char *reason = "steady";
    uint32_t step = s_step_up (config, sample, &reason);
    bool idle = !step && sample->utilisation * 100 < config->idle_below &&
                sample->queue_records <= (uint64_t) config->queue_depth;
    self->up_since_ms = step ? (self->up_since_ms ? self->up_since_ms : now_ms) : 0;
    self->down_since_ms = idle ? (self->down_since_ms ? self->down_since_ms : now_ms) : 0;
    uint32_t desired = signal->desired_workers;
    if (step && now_ms - self->up_since_ms >= config->scale_up_delay_ms) {
        uint32_t cap = sample->partitions_lagging > config->min_workers ? sample->partitions_lagging
                                                                        : config->min_workers;
        uint32_t raised = desired + step < cap ? desired + step : cap;
        if (raised <= desired)
            reason = "bounds";
        desired = raised > desired ? raised : desired;
        self->up_since_ms = now_ms;
    }
    else if (idle) {
        reason = "idle";
        if (now_ms - self->down_since_ms >= config->scale_down_delay_ms && desired > 0) {
            desired--;
            self->down_since_ms = now_ms;
        }
    }
    if (desired < config->min_workers)
        desired = config->min_workers;
    if (desired > config->max_workers)
        desired = config->max_workers, reason = "bounds";
    signal->desired_workers = desired;
    signal->reason = reason;
}

const zetl_autoscale_signal_t *
zetl_autoscale_signal (const zetl_autoscale_t *self)
{
    return &self->signal;
}
