/*  zetl_worker_load - what a worker's heartbeats say of its load  */
#include "zetl_worker_load.h"
#include "zetl_config.h"
#include "zetl_log.h"

#include <czmq.h>
#include <inttypes.h>
#include <unistd.h>

//  One unsigned number from the first line of PATH, 0 if absent or not one
//  ("max" in a cgroup file means no limit)
static uint64_t
s_read_number (const char *path)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return 0;
    unsigned long long value = 0;
    if (fscanf (file, "%llu", &value) != 1)
        value = 0;
    fclose (file);
    return (uint64_t) value;
}

static uint64_t
s_memory_limit (void)
{
    const char *text = getenv ("ZETL_MEMORY_LIMIT");
    if (text && *text) {
        int64_t bytes = 0;
        if (zetl_size_parse (text, &bytes) == 0 && bytes > 0)
            return (uint64_t) bytes;
        zetl_log_warn ("worker", "memory_limit_ignored",
                       json_pack ("{s:s, s:s}", "value", text, "hint",
                                  "ZETL_MEMORY_LIMIT takes a size such as 512MiB"));
    }
    uint64_t limit = s_read_number ("/sys/fs/cgroup/memory.max");
    if (!limit)
        limit = s_read_number ("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    //  cgroup v1 says "no limit" with a number near 2^63
    return limit >= (UINT64_C (1) << 62) ? 0 : limit;
}

void
zetl_worker_load_init (zetl_worker_load_t *self)
{
    memset (self, 0, sizeof *self);
    self->reported_us = zclock_usecs ();
    self->limit_bytes = s_memory_limit ();
}

void
zetl_worker_load_busy (zetl_worker_load_t *self, int64_t us)
{
    self->busy_us += us;
}

uint64_t
zetl_worker_load_rss (void)
{
    FILE *file = fopen ("/proc/self/statm", "r");
    if (!file)
        return 0;
    unsigned long long size = 0, resident = 0;
    int read = fscanf (file, "%llu %llu", &size, &resident);
    fclose (file);
    return read == 2 ? (uint64_t) resident * (uint64_t) sysconf (_SC_PAGESIZE) : 0;
}

uint32_t
zetl_worker_load_report (void *arg, uint64_t *load)
{
    zetl_worker_load_t *self = (zetl_worker_load_t *) arg;
    int64_t now = zclock_usecs ();
    load[ZETL_LOAD_BUSY_US] = (uint64_t) self->busy_us;
    load[ZETL_LOAD_INTERVAL_US] =
        (uint64_t) (now > self->reported_us ? now - self->reported_us : 0);
    load[ZETL_LOAD_RSS_BYTES] = zetl_worker_load_rss ();
    load[ZETL_LOAD_LIMIT_BYTES] = self->limit_bytes;
    load[ZETL_LOAD_LOOKUPS] = self->lookups;
    load[ZETL_LOAD_LOOKUP_HITS] = self->lookup_hits;
    self->busy_us = 0;
    self->reported_us = now;
    return ZETL_LOAD_COUNT;
}
