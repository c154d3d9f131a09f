/*  zetl_autoscale - the autoscaling signal: how many workers the load asks for

    Fed once a second with what the dispatcher sees (queue depth, workers'
    utilisation and memory, partitions with records held, the counters of
    records in and committed) and, as it dispatches, whether batches wait
    for want of worker credit. Gives desired_workers by the rules of
    DESIGN §9, every threshold and delay from the configuration's
    `autoscaling` section:
    - up, once a condition has held for scale_up_delay: queue depth above
      queue_depth: +depth_step; utilisation above busy_above: +busy_step;
      worker memory above memory_above of its limit: +memory_step (the
      largest step that applies);
    - down by one, once utilisation has stayed below idle_below (and the
      queue at or below queue_depth) for scale_down_delay;
    - never below min_workers or above max_workers, and never raised above
      the partitions with records held (more workers than that would idle).
    Each step restarts its delay. Owned by the dispatcher.
*/
#ifndef ZETL_AUTOSCALE_H_INCLUDED
#define ZETL_AUTOSCALE_H_INCLUDED

#include "zetl_config.h"

typedef struct zetl_autoscale zetl_autoscale_t;

//  What the dispatcher sees, once a second
typedef struct {
    uint32_t workers;             //  workers connected and not draining
    uint64_t queue_records;       //  records held, not yet committed
    uint32_t partitions_lagging;  //  partitions holding records
    double utilisation;           //  workers' mean share of time busy, 0..1
    double memory;                //  the highest worker memory / its limit, 0..1
    uint64_t records_in;          //  counter: records taken in
    uint64_t committed;           //  counter: records committed
    int64_t watermark_lag_ms;     //  the largest pipeline watermark lag, -1 when none
} zetl_autoscale_sample_t;

//  The signal, as published
typedef struct {
    uint32_t desired_workers;
    const char *reason;        //  "depth", "utilisation", "memory", "idle", "steady", "bounds"
    double arrival_rate;       //  records in per second
    double service_rate;       //  records committed per second
    double credit_wait;        //  share of the last interval batches waited for worker credit
    int64_t time_to_drain_ms;  //  queue / service rate; -1 when nothing is served
} zetl_autoscale_signal_t;

//  Create with CONFIG's thresholds (borrowed: must outlive the result).
//  Caller owns the result.
zetl_autoscale_t *zetl_autoscale_new (const zetl_autoscaling_t *config);
void zetl_autoscale_destroy (zetl_autoscale_t **self_p);
//  Whether batches wait for worker credit now (STARVED), at NOW_US: the
//  time until the next note counts as waiting or not.
void zetl_autoscale_note_credit (zetl_autoscale_t *self, bool starved, int64_t now_us);
//  Take SAMPLE, seen at NOW_MS (monotonic), and update the signal.
void zetl_autoscale_update (zetl_autoscale_t *self, const zetl_autoscale_sample_t *sample,
                            int64_t now_ms);
//  The signal as of the last update. Borrowed.
const zetl_autoscale_signal_t *zetl_autoscale_signal (const zetl_autoscale_t *self);

#endif
