/*  zetl_watermark - event-time watermarks of one pipeline, per partition and global  */
#include "zetl_watermark.h"

#include <czmq.h>

#define S_NONE UINT32_MAX  //  End of the quiet list

typedef struct {
    int64_t max_ts_us;     //  largest event time observed; INT64_MIN before the first
    int64_t last_read_ms;  //  reading clock at its last record
    uint32_t prev;         //  quiet list: partition fed just before it, or S_NONE
    uint32_t next;         //  quiet list: partition fed just after it, or S_NONE
    uint32_t open;         //  list sources covering it that are not caught up
    bool seen;             //  it has had a record
    bool idle;             //  went idle at a tick, and had no record since
    bool released;         //  its sources caught up since its last record
    bool listed;           //  in the quiet list (seen and not idle)
} s_partition_t;

typedef struct {
    bool used;             //  a registered source (else a free slot)
    bool caught_up;        //  it declared itself caught up, and sent nothing since
    uint32_t *partitions;  //  the partitions it covers, or NULL: all of them
    size_t count;          //  entries in partitions
} s_source_t;

struct zetl_watermark {
    uint32_t partitions;       //  P
    s_partition_t *partition;  //  P of them
    int64_t delay_us;          //  watermark_delay
    int64_t late_window_us;    //  late_window
    int64_t idle_timeout_ms;   //  idle_timeout, in reading time
    s_source_t *sources;       //  indexed by source id
    size_t source_slots;       //  entries in sources, used or free
    uint32_t open_all;         //  sources covering every partition that are not caught up
    bool reading;              //  the sources are being read: the reading clock runs
    int64_t read_ms;           //  reading time accumulated before read_since_ms
    int64_t read_since_ms;     //  while reading: when reading last started
    int64_t last_now_ms;       //  latest NOW_MS seen, so the clock never runs backwards
    bool unseen_expired;       //  read for idle_timeout: never-seen partitions stop mattering
    uint32_t seen;             //  partitions that have had a record
    uint32_t head;             //  quiet list: seen, not idle, least recently fed first
    uint32_t tail;             //  quiet list: most recently fed
    bool dirty;                //  something that can move W changed since it was computed
    int64_t watermark_us;      //  W
    int64_t min_active_us;  //  min wm[p] over active partitions when W was computed, or INT64_MAX
    uint32_t active;        //  active partitions when W was computed
    zetl_watermark_counters_t counters;
};

//  A - B for B >= 0, stopping at INT64_MIN
static int64_t
s_minus (int64_t a, int64_t b)
{
    return a < INT64_MIN + b ? INT64_MIN : a - b;
}

static int64_t
s_wm (zetl_watermark_t *self, const s_partition_t *part)
{
    return part->seen ? s_minus (part->max_ts_us, self->delay_us) : INT64_MIN;
}

static bool
s_is_active (const s_partition_t *part)
{
    return part->seen && !part->idle && !part->released;
}

//  The reading clock at NOW_MS: time during which the sources were being read
static int64_t
s_read_clock (zetl_watermark_t *self, int64_t now_ms)
{
    //  A caller's clock that steps back must not make a partition less quiet
    if (now_ms < self->last_now_ms)
        now_ms = self->last_now_ms;
    self->last_now_ms = now_ms;
    return self->read_ms + (self->reading ? now_ms - self->read_since_ms : 0);
}

static void
s_unlink (zetl_watermark_t *self, uint32_t number)
{
    s_partition_t *part = &self->partition[number];
    if (!part->listed)
        return;
    if (part->prev != S_NONE)
        self->partition[part->prev].next = part->next;
    else
        self->head = part->next;
    if (part->next != S_NONE)
        self->partition[part->next].prev = part->prev;
    else
        self->tail = part->prev;
    part->prev = part->next = S_NONE;
    part->listed = false;
}

static void
s_append (zetl_watermark_t *self, uint32_t number)
{
    s_partition_t *part = &self->partition[number];
    part->prev = self->tail;
    part->next = S_NONE;
    if (self->tail != S_NONE)
        self->partition[self->tail].next = number;
    else
        self->head = number;
    self->tail = number;
    part->listed = true;
}

//  Release every partition whose covering sources are all caught up. O(P),
//  but only when a source becomes caught up. Partitions no source covers go
//  too: nothing can feed them.
static void
s_release (zetl_watermark_t *self)
{
    if (self->open_all > 0)
        return;
    for (uint32_t number = 0; number < self->partitions; number++) {
        s_partition_t *part = &self->partition[number];
        if (part->open == 0 && !part->released) {
            part->released = true;
            self->dirty = true;
        }
    }
}

static void
s_source_set (zetl_watermark_t *self, s_source_t *source, bool caught_up)
{
    if (source->caught_up == caught_up)
        return;
    source->caught_up = caught_up;
    if (source->partitions == NULL) {
        if (caught_up)
            self->open_all--;
        else
            self->open_all++;
    }
    else
        for (size_t index = 0; index < source->count; index++) {
            if (caught_up)
                self->partition[source->partitions[index]].open--;
            else
                self->partition[source->partitions[index]].open++;
        }
    //  Not caught up any more holds nothing back by itself: only a record
    //  makes a partition active again
    if (caught_up)
        s_release (self);
}

static s_source_t *
s_source (zetl_watermark_t *self, uint32_t source_id)
{
    assert (source_id < self->source_slots);
    s_source_t *source = &self->sources[source_id];
    assert (source->used);
    return source;
}

//  Compute W from scratch: O(P), only when dirty
static void
s_recompute (zetl_watermark_t *self)
{
    bool unseen_hold = false;
    int64_t min_active = INT64_MAX;
    int64_t max_seen = INT64_MIN;
    uint32_t active = 0;
    for (uint32_t number = 0; number < self->partitions; number++) {
        const s_partition_t *part = &self->partition[number];
        if (!part->seen) {
            //  It may yet get a record below anything seen so far
            if (!part->released && !self->unseen_expired)
                unseen_hold = true;
            continue;
        }
        int64_t wm = s_wm (self, part);
        if (wm > max_seen)
            max_seen = wm;
        if (s_is_active (part)) {
            active++;
            if (wm < min_active)
                min_active = wm;
        }
    }
    int64_t computed = INT64_MIN;
    if (self->seen > 0 && !unseen_hold)
        computed = active > 0 ? min_active : max_seen;
    if (computed > self->watermark_us)
        self->watermark_us = computed;
    self->min_active_us = min_active;
    self->active = active;
    self->dirty = false;
}

zetl_watermark_t *
zetl_watermark_new (uint32_t partitions, int64_t delay_us, int64_t late_window_us,
                    int64_t idle_timeout_ms)
{
    assert (partitions > 0 && partitions < S_NONE);
    assert (delay_us >= 0 && late_window_us >= 0 && idle_timeout_ms > 0);
    zetl_watermark_t *self = (zetl_watermark_t *) zmalloc (sizeof (zetl_watermark_t));
    self->partitions = partitions;
    self->partition = (s_partition_t *) zmalloc (partitions * sizeof (s_partition_t));
    for (uint32_t number = 0; number < partitions; number++) {
        s_partition_t *part = &self->partition[number];
        part->max_ts_us = INT64_MIN;
        part->prev = part->next = S_NONE;
    }
    self->delay_us = delay_us;
    self->late_window_us = late_window_us;
    self->idle_timeout_ms = idle_timeout_ms;
    self->last_now_ms = INT64_MIN;
    self->head = self->tail = S_NONE;
    self->watermark_us = INT64_MIN;
    self->min_active_us = INT64_MAX;
    return self;
}

void
zetl_watermark_destroy (zetl_watermark_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_watermark_t *self = *self_p;
        for (size_t id = 0; id < self->source_slots; id++)
            free (self->sources[id].partitions);
        free (self->sources);
        free (self->partition);
        free (self);
        *self_p = NULL;
    }
}

uint32_t
zetl_watermark_add_source (zetl_watermark_t *self, const uint32_t *partitions, size_t count)
{
    assert (self);
    assert (partitions || count == 0);
    size_t id = 0;
    while (id < self->source_slots && self->sources[id].used)
        id++;
    if (id == self->source_slots) {
        size_t slots = self->source_slots ? self->source_slots * 2 : 8;
        self->sources = (s_source_t *) realloc (self->sources, slots * sizeof (s_source_t));
        assert (self->sources);
        memset (self->sources + self->source_slots, 0,
                (slots - self->source_slots) * sizeof (s_source_t));
        self->source_slots = slots;
    }
    assert (id < UINT32_MAX);
    s_source_t *source = &self->sources[id];
    source->used = true;
    source->caught_up = true;  //  Turned to not caught up below, counting it as open
    source->partitions = NULL;
    source->count = 0;
    if (partitions) {
        //  An empty list is a source that covers nothing, not one that covers all
        source->partitions = (uint32_t *) zmalloc ((count ? count : 1) * sizeof (uint32_t));
        for (size_t index = 0; index < count; index++) {
            assert (partitions[index] < self->partitions);
            source->partitions[index] = partitions[index];
        }
        source->count = count;
    }
    s_source_set (self, source, false);
    return (uint32_t) id;
}

void
zetl_watermark_remove_source (zetl_watermark_t *self, uint32_t source_id)
{
    assert (self);
    s_source_t *source = s_source (self, source_id);
    s_source_set (self, source, true);  //  Undoes its open counts
    free (source->partitions);
    memset (source, 0, sizeof (s_source_t));
}

void
zetl_watermark_source_caught_up (zetl_watermark_t *self, uint32_t source_id, bool caught_up)
{
    assert (self);
    s_source_set (self, s_source (self, source_id), caught_up);
}

bool
zetl_watermark_source_is_caught_up (zetl_watermark_t *self, uint32_t source_id)
{
    assert (self);
    return s_source (self, source_id)->caught_up;
}

void
zetl_watermark_reading (zetl_watermark_t *self, bool reading, int64_t now_ms)
{
    assert (self);
    //  Bank the reading time so far; the clock then runs from NOW_MS or stops
    self->read_ms = s_read_clock (self, now_ms);
    self->read_since_ms = self->last_now_ms;
    self->reading = reading;
}

void
zetl_watermark_tick (zetl_watermark_t *self, int64_t now_ms)
{
    assert (self);
    int64_t clock = s_read_clock (self, now_ms);
    //  The quiet list is in the order of last records, so the idle ones are
    //  at its head and the first partition still fed recently ends the walk
    while (self->head != S_NONE) {
        uint32_t number = self->head;
        s_partition_t *part = &self->partition[number];
        if (clock - part->last_read_ms < self->idle_timeout_ms)
            break;
        s_unlink (self, number);
        part->idle = true;
        self->dirty = true;
    }
    if (!self->unseen_expired && clock >= self->idle_timeout_ms) {
        self->unseen_expired = true;
        self->dirty = true;
    }
}

int
zetl_watermark_classify (zetl_watermark_t *self, uint32_t partition, int64_t ts_us)
{
    assert (self);
    assert (partition < self->partitions);
    int64_t watermark = zetl_watermark_get (self);
    if (ts_us >= watermark) {
        self->counters.on_time++;
        if (ts_us < self->partition[partition].max_ts_us) {
            self->counters.out_of_order++;
            return ZETL_WATERMARK_ON_TIME | ZETL_WATERMARK_OUT_OF_ORDER;
        }
        return ZETL_WATERMARK_ON_TIME;
    }
    if (ts_us >= s_minus (watermark, self->late_window_us)) {
        self->counters.late++;
        return ZETL_WATERMARK_LATE;
    }
    self->counters.too_late++;
    return ZETL_WATERMARK_TOO_LATE;
}

void
zetl_watermark_observe (zetl_watermark_t *self, uint32_t partition, uint32_t source_id,
                        int64_t ts_us, int64_t now_ms)
{
    assert (self);
    assert (partition < self->partitions);
    s_source_t *source = s_source (self, source_id);
    s_partition_t *part = &self->partition[partition];
    //  W can only move if the partition joins the active ones, or if it was
    //  the lowest of them and rises; any other record leaves W as it is
    if (!s_is_active (part))
        self->dirty = true;
    else if (ts_us > part->max_ts_us && s_wm (self, part) <= self->min_active_us)
        self->dirty = true;

    if (!part->seen) {
        part->seen = true;
        self->seen++;
    }
    if (ts_us > part->max_ts_us)
        part->max_ts_us = ts_us;
    part->idle = false;
    part->released = false;
    part->last_read_ms = s_read_clock (self, now_ms);
    s_unlink (self, partition);
    s_append (self, partition);
    s_source_set (self, source, false);
    self->counters.observed++;
}

int64_t
zetl_watermark_get (zetl_watermark_t *self)
{
    assert (self);
    if (self->dirty)
        s_recompute (self);
    return self->watermark_us;
}

void
zetl_watermark_restore (zetl_watermark_t *self, int64_t watermark_us)
{
    assert (self);
    if (watermark_us > self->watermark_us)
        self->watermark_us = watermark_us;
}

uint32_t
zetl_watermark_active (zetl_watermark_t *self)
{
    assert (self);
    if (self->dirty)
        s_recompute (self);
    return self->active;
}

uint32_t
zetl_watermark_partitions (zetl_watermark_t *self)
{
    assert (self);
    return self->partitions;
}

void
zetl_watermark_partition (zetl_watermark_t *self, uint32_t partition, int64_t now_ms,
                          zetl_watermark_partition_t *status)
{
    assert (self);
    assert (partition < self->partitions);
    assert (status);
    const s_partition_t *part = &self->partition[partition];
    int64_t clock = s_read_clock (self, now_ms);
    status->seen = part->seen;
    status->active = s_is_active (part);
    status->idle = part->idle;
    status->caught_up = part->released;
    status->max_ts_us = part->max_ts_us;
    status->watermark_us = s_wm (self, part);
    status->quiet_ms = clock - (part->seen ? part->last_read_ms : 0);
}

void
zetl_watermark_counters (zetl_watermark_t *self, zetl_watermark_counters_t *counters)
{
    assert (self);
    assert (counters);
    *counters = self->counters;
}
