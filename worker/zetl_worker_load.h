/*  zetl_worker_load - what a worker's heartbeats say of its load

    The share of time it spends processing batches, its resident memory and
    the limit on it, and its lookups, for the coordinator's autoscaling
    signal (PROTOCOL.md §7, zetl_load_t). The limit is ZETL_MEMORY_LIMIT
    (a size: 512MiB) when set, else the worker's cgroup memory limit, else
    0 (unbounded). Belongs to the worker's thread.
*/
#ifndef ZETL_WORKER_LOAD_H_INCLUDED
#define ZETL_WORKER_LOAD_H_INCLUDED

#include "zetl_proto.h"

typedef struct {
    int64_t busy_us;       //  processing since the last report
    int64_t reported_us;   //  when the last report was made (zclock_usecs)
    uint64_t limit_bytes;  //  memory limit, 0 unbounded
    uint64_t lookups;      //  lookups made since start (set by the worker)
    uint64_t lookup_hits;  //  of which served from its cache
} zetl_worker_load_t;

//  Start counting now; find the memory limit.
void zetl_worker_load_init (zetl_worker_load_t *self);
//  US more microseconds spent processing.
void zetl_worker_load_busy (zetl_worker_load_t *self, int64_t us);
//  A zetl_session_load_fn: fill LOAD and start a new interval. ARG is the
//  zetl_worker_load_t.
uint32_t zetl_worker_load_report (void *arg, uint64_t *load);
//  Resident memory of this process in bytes, 0 when unknown.
uint64_t zetl_worker_load_rss (void);

#endif
