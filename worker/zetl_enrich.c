/*  zetl_enrich - a pipeline's lookups in Redis tables, a batch at a time  */
#include "zetl_enrich.h"
#include "zetl_breaker.h"
#include "zetl_log.h"
#include "zetl_lookup_cache.h"
#include "zetl_lut.h"
#include "zetl_proto.h"
#include "zetl_proto_walk.h"
#include "zetl_record.h"
#include "zetl_redis.h"

#include <czmq.h>

//  What a record's lookup in one table has found so far
typedef enum {
    S_FOUND,    //  the row, or the key is known to be missing (row NULL)
    S_PENDING,  //  to fetch, with nothing to fall back on
    S_STALE     //  to fetch; the stale answer serves if Redis cannot
} s_state_t;

typedef struct {
    const uint8_t *row;  //  the row's packed map (in the batch zone), or NULL: no such key
    uint32_t size;       //  bytes at row
    uint8_t state;       //  s_state_t
} s_slot_t;

//  A key to fetch: its slot and text (in the batch zone)
typedef struct {
    size_t slot;
    const char *key;
    size_t len;
    bool fetched;  //  Redis answered for it: cached once the batch is done
} s_pending_t;

typedef struct {
    s_pending_t *items;
    size_t count, room;
} s_pendings_t;

struct zetl_enrich {
    const zetl_config_t *config;
    zetl_lookup_cache_t *cache;      //  NULL when lookup.cache_entries is 0
    redisContext *redis;             //  NULL until connected, and after an error
    zetl_breaker_t breaker;          //  in front of Redis
    zhashx_t *table_ids;             //  table name -> its number in the cache, + 1
    uint64_t *seen;                  //  per table number: the newest version seen
    //  The batch
    const zetl_pipeline_t *pipeline;
    uint32_t *tables;                //  per enrichment of the pipeline: its table number
    uint64_t luts[ZETL_PROTO_MAX_LUTS];
    s_slot_t *slots;                 //  per record, per enrichment
    size_t slot_count, slot_room;
    s_pendings_t pending[ZETL_PROTO_MAX_LUTS];
    msgpack_zone zone;               //  keys and rows of the batch
    int64_t fetched_ms;              //  when Redis answered the batch's fetch
    int64_t begun_ms;                //  when the batch began: the time its lookups are made
    char reason[512];
    bool gone;                       //  the fetch found a pinned version missing
    //  Counters
    uint64_t lookups, hits, stale_served, keys_fetched, round_trips, redis_errors, retries;
    int64_t fetch_us_total, fetch_us_max;
};

//  The table number of NAME, made on first use
static uint32_t
s_table_id (zetl_enrich_t *self, const char *name)
{
    uintptr_t id = (uintptr_t) zhashx_lookup (self->table_ids, name);
    if (!id) {
        id = zhashx_size (self->table_ids) + 1;
        zhashx_insert (self->table_ids, name, (void *) id);
    }
    return (uint32_t) (id - 1);
}

zetl_enrich_t *
zetl_enrich_new (const zetl_config_t *config)
{
    zetl_enrich_t *self = (zetl_enrich_t *) zmalloc (sizeof (zetl_enrich_t));
    self->config = config;
    const zetl_lookup_t *lookup = &config->lookup;
    if (lookup->cache_entries > 0 && lookup->cache_memory_bytes >= (int64_t) ZETL_LOOKUP_CACHE_MIN_BYTES) {
        zetl_lookup_cache_config_t cache = {(size_t) lookup->cache_entries,
                                            (size_t) lookup->cache_memory_bytes, lookup->ttl_ms,
                                            lookup->negative_ttl_ms, lookup->max_stale_ms};
        if (cache.ttl_ms > cache.max_stale_ms)
            cache.ttl_ms = cache.max_stale_ms;
        if (cache.negative_ttl_ms > cache.max_stale_ms)
            cache.negative_ttl_ms = cache.max_stale_ms;
        self->cache = zetl_lookup_cache_new (&cache);
    }
    zetl_breaker_init (&self->breaker, NULL);
    self->table_ids = zhashx_new ();
    size_t tables = 0;
    for (size_t index = 0; index < config->pipeline_count; index++)
        tables += config->pipelines[index].enrich_count;
    self->seen = (uint64_t *) zmalloc ((tables + 1) * sizeof (uint64_t));
    self->tables = (uint32_t *) zmalloc (ZETL_PROTO_MAX_LUTS * sizeof (uint32_t));
    bool ready = msgpack_zone_init (&self->zone, 65536);
    assert (ready);
    return self;
}

void
zetl_enrich_destroy (zetl_enrich_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_enrich_t *self = *self_p;
        zetl_lookup_cache_destroy (&self->cache);
        if (self->redis)
            redisFree (self->redis);
        zhashx_destroy (&self->table_ids);
        free (self->seen);
        free (self->tables);
        free (self->slots);
        for (size_t step = 0; step < ZETL_PROTO_MAX_LUTS; step++)
            free (self->pending[step].items);
        msgpack_zone_destroy (&self->zone);
        free (self);
        *self_p = NULL;
    }
}

int
zetl_enrich_begin (zetl_enrich_t *self, size_t pipeline, const uint64_t *luts, uint32_t count,
                   const char **reason)
{
    assert (pipeline < self->config->pipeline_count);
    self->pipeline = &self->config->pipelines[pipeline];
    if (count != self->pipeline->enrich_count) {
        *reason = "the batch carries no lookup-table version for each enrichment";
        return -1;
    }
    msgpack_zone_clear (&self->zone);
    self->slot_count = 0;
    self->begun_ms = zclock_mono ();
    for (uint32_t step = 0; step < count; step++) {
        if (luts[step] == 0) {
            *reason = "the batch carries lookup-table version 0";
            return -1;
        }
        self->luts[step] = luts[step];
        self->pending[step].count = 0;
        uint32_t table = s_table_id (self, self->pipeline->enrich[step].table);
        self->tables[step] = table;
        if (luts[step] > self->seen[table]) {
            //  A switch: entries of older versions will not be asked for again
            self->seen[table] = luts[step];
            if (self->cache)
                zetl_lookup_cache_drop_older (self->cache, table, luts[step]);
        }
    }
    return 0;
}

//  A copy of LEN bytes at DATA in the batch zone
static const uint8_t *
s_keep (zetl_enrich_t *self, const void *data, size_t len)
{
    uint8_t *copy = (uint8_t *) msgpack_zone_malloc (&self->zone, len ? len : 1);
    assert (copy);
    if (len)
        memcpy (copy, data, len);
    return copy;
}

static void
s_add_pending (s_pendings_t *pending, size_t slot, const char *key, size_t len)
{
    if (pending->count == pending->room) {
        pending->room = pending->room ? pending->room * 2 : 256;
        pending->items =
            (s_pending_t *) realloc (pending->items, pending->room * sizeof (s_pending_t));
        assert (pending->items);
    }
    pending->items[pending->count++] = (s_pending_t) {slot, key, len, false};
}

//  The slot of STEP for the next record, answered from the cache if it can
static void
s_want_step (zetl_enrich_t *self, size_t step, size_t slot, zetl_fields_t *fields, int64_t now)
{
    const char *key_field = self->pipeline->enrich[step].key;
    s_slot_t *answer = &self->slots[slot];
    *answer = (s_slot_t) {NULL, 0, S_FOUND};
    const msgpack_object *value = zetl_fields_get (fields, key_field, strlen (key_field));
    char scratch[64];
    const char *text;
    size_t len;
    if (!value || zetl_record_value_text (value, scratch, sizeof scratch, &text, &len) != 0)
        return;  //  No key: nothing to look up, as for a key the table lacks
    self->lookups++;
    zetl_lookup_cache_result_t cached = {NULL, 0, false, 0};
    zetl_lookup_cache_status_t status =
        self->cache ? zetl_lookup_cache_lookup (self->cache, self->tables[step], self->luts[step],
                                                text, len, now, &cached)
                    : ZETL_LOOKUP_CACHE_MISS;
    //  The cache's bytes stay valid until its next insert, and inserts
    //  wait for zetl_enrich_end: no copy
    if (status != ZETL_LOOKUP_CACHE_MISS && cached.value) {
        answer->row = (const uint8_t *) cached.value;
        answer->size = (uint32_t) cached.size;
    }
    if (status == ZETL_LOOKUP_CACHE_FRESH) {
        self->hits++;
        return;
    }
    answer->state = status == ZETL_LOOKUP_CACHE_STALE ? S_STALE : S_PENDING;
    s_add_pending (&self->pending[step], slot, (const char *) s_keep (self, text, len), len);
}

size_t
zetl_enrich_want (zetl_enrich_t *self, zetl_fields_t *fields)
{
    size_t steps = self->pipeline->enrich_count;
    if (self->slot_count + steps > self->slot_room) {
        self->slot_room = (self->slot_count + steps) * 2;
        self->slots = (s_slot_t *) realloc (self->slots, self->slot_room * sizeof (s_slot_t));
        assert (self->slots);
    }
    size_t record = self->slot_count / (steps ? steps : 1);
    for (size_t step = 0; step < steps; step++)
        s_want_step (self, step, self->slot_count + step, fields, self->begun_ms);
    self->slot_count += steps;
    return record;
}

//  Forget the connection after a failure; the breaker hears of it
static void
s_redis_failed (zetl_enrich_t *self, const char *what, char *error)
{
    snprintf (self->reason, sizeof self->reason, "%s: %s", what, error ? error : "no answer");
    free (error);
    if (self->redis)
        redisFree (self->redis);
    self->redis = NULL;
    self->redis_errors++;
    zetl_breaker_failure (&self->breaker, zclock_mono ());
}

//  One HMGET per enrichment with keys to fetch, all sent before any reply is read
static void
s_send_hmgets (zetl_enrich_t *self)
{
    for (size_t step = 0; step < self->pipeline->enrich_count; step++) {
        s_pendings_t *pending = &self->pending[step];
        if (!pending->count)
            continue;
        size_t argc = pending->count + 2;
        const char **argv = (const char **) malloc (argc * sizeof (char *));
        size_t *lens = (size_t *) malloc (argc * sizeof (size_t));
        assert (argv && lens);
        char key[ZETL_LUT_KEY_SIZE];
        zetl_lut_version_key (key, sizeof key, self->pipeline->enrich[step].table, self->luts[step]);
        argv[0] = "HMGET", lens[0] = 5;
        argv[1] = key, lens[1] = strlen (key);
        for (size_t item = 0; item < pending->count; item++) {
            argv[item + 2] = pending->items[item].key;
            lens[item + 2] = pending->items[item].len;
        }
        redisAppendCommandArgv (self->redis, (int) argc, argv, lens);
        free (argv);
        free (lens);
    }
}

//  The reply to STEP's HMGET: each key's row, or nil when the version lacks it
static void
s_take_rows (zetl_enrich_t *self, size_t step, const redisReply *reply)
{
    s_pendings_t *pending = &self->pending[step];
    for (size_t item = 0; item < pending->count; item++) {
        const redisReply *row = reply->element[item];
        s_slot_t *answer = &self->slots[pending->items[item].slot];
        answer->state = S_FOUND;
        pending->items[item].fetched = true;
        if (row->type == REDIS_REPLY_STRING) {
            answer->row = s_keep (self, row->str, row->len);
            answer->size = (uint32_t) row->len;
        }
        else {
            answer->row = NULL;
            answer->size = 0;
        }
        self->keys_fetched++;
    }
}

//  The version a batch is pinned to must still be there: an empty reply
//  for every key could also mean the version was deleted, so check it
static int
s_version_exists (zetl_enrich_t *self, size_t step, char **error)
{
    char key[ZETL_LUT_KEY_SIZE];
    zetl_lut_version_key (key, sizeof key, self->pipeline->enrich[step].table, self->luts[step]);
    redisReply *reply = zetl_redis_command (self->redis, error, "EXISTS", "EXISTS %s", key);
    if (!reply)
        return -1;
    bool exists = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    freeReplyObject (reply);
    if (!exists) {
        *error = zsys_sprintf ("version %" PRIu64 " of lookup table %s is no longer in Redis",
                               self->luts[step], self->pipeline->enrich[step].table);
        self->gone = true;
    }
    return exists ? 0 : -1;
}

//  Every pending key from Redis. Returns 0, or -1 after s_redis_failed
static int
s_fetch (zetl_enrich_t *self)
{
    char *error = NULL;
    if (!self->redis) {
        const char *url = self->config->redis ? self->config->redis : "unix:///tmp/zetl/redis.sock";
        self->redis = zetl_redis_connect (url, (int) self->config->lookup.timeout_ms, &error);
        if (!self->redis) {
            s_redis_failed (self, "cannot reach Redis", error);
            return -1;
        }
    }
    s_send_hmgets (self);
    self->round_trips++;
    //  Every reply is read before any other command goes out
    redisReply *replies[ZETL_PROTO_MAX_LUTS] = {NULL};
    size_t steps = self->pipeline->enrich_count, step;
    for (step = 0; step < steps; step++) {
        if (!self->pending[step].count)
            continue;
        replies[step] = zetl_redis_next_reply (self->redis, "HMGET", &error);
        if (!replies[step] || replies[step]->type != REDIS_REPLY_ARRAY
            || replies[step]->elements != self->pending[step].count)
            break;
    }
    self->fetched_ms = zclock_mono ();
    for (size_t done = 0; step == steps && done < steps; done++) {
        if (!replies[done])
            continue;
        bool all_missing = true;
        for (size_t item = 0; item < replies[done]->elements; item++)
            all_missing &= replies[done]->element[item]->type != REDIS_REPLY_STRING;
        if (all_missing && s_version_exists (self, done, &error) != 0)
            step = 0;  //  Fails the fetch, below
        else
            s_take_rows (self, done, replies[done]);
    }
    for (size_t done = 0; done < steps; done++)
        if (replies[done])
            freeReplyObject (replies[done]);
    if (step != steps && self->gone) {
        //  Redis answers: the batch, not Redis, is at fault
        snprintf (self->reason, sizeof self->reason, "%s", error);
        free (error);
        zetl_breaker_success (&self->breaker, zclock_mono ());
        return -1;
    }
    if (step != steps) {
        s_redis_failed (self, "Redis lookup failed", error);
        return -1;
    }
    zetl_breaker_success (&self->breaker, zclock_mono ());
    return 0;
}

//  Redis could not answer: stale answers serve; a key with none fails the batch
static zetl_status_t
s_fall_back (zetl_enrich_t *self, const char **reason)
{
    zetl_status_t status = ZETL_OK;
    for (size_t step = 0; step < self->pipeline->enrich_count; step++) {
        s_pendings_t *pending = &self->pending[step];
        for (size_t item = 0; item < pending->count; item++) {
            s_slot_t *answer = &self->slots[pending->items[item].slot];
            if (answer->state == S_STALE) {
                answer->state = S_FOUND;
                self->stale_served++;
            }
            else if (answer->state == S_PENDING)
                status = ZETL_RETRY;
        }
    }
    if (status == ZETL_RETRY) {
        self->retries++;
        *reason = self->reason;
    }
    return status;
}

zetl_status_t
zetl_enrich_fetch (zetl_enrich_t *self, const char **reason)
{
    bool any = false;
    for (size_t step = 0; step < self->pipeline->enrich_count; step++)
        any |= self->pending[step].count > 0;
    if (!any)
        return ZETL_OK;
    int64_t start = zclock_usecs ();
    self->gone = false;
    int rc;
    if (zetl_breaker_allow (&self->breaker, zclock_mono ()))
        rc = s_fetch (self);
    else {
        snprintf (self->reason, sizeof self->reason,
                  "Redis is unreachable (circuit breaker open); the batch waits for it");
        rc = -1;
    }
    int64_t took = zclock_usecs () - start;
    self->fetch_us_total += took;
    if (took > self->fetch_us_max)
        self->fetch_us_max = took;
    if (rc != 0 && self->gone) {
        *reason = self->reason;
        return ZETL_REJECT;
    }
    return rc == 0 ? ZETL_OK : s_fall_back (self, reason);
}

//  Set the output fields of enrichment STEP from ROW (a packed map), or to nil
static void
s_copy_columns (const zetl_enrichment_t *lookup, const msgpack_object *row, zetl_fields_t *fields)
{
    for (size_t pair = 0; pair < lookup->field_count; pair++) {
        const msgpack_object *value = row ? zetl_record_get (row, lookup->fields[2 * pair + 1]) : NULL;
        msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
        zetl_fields_set (fields, lookup->fields[2 * pair], value ? *value : nil);
    }
}

zetl_status_t
zetl_enrich_apply (zetl_enrich_t *self, size_t record, zetl_fields_t *fields,
                   zetl_reject_t *reject)
{
    size_t steps = self->pipeline->enrich_count;
    for (size_t step = 0; step < steps; step++) {
        const zetl_enrichment_t *lookup = &self->pipeline->enrich[step];
        const s_slot_t *answer = &self->slots[record * steps + step];
        assert (answer->state == S_FOUND);
        if (answer->row) {
            zetl_walk_cursor_t cur = {answer->row, answer->row + answer->size};
            size_t budget = ZETL_WALK_MAX_OBJECTS;
            msgpack_object row;
            if (zetl_walk_object (&cur, fields->zone, &row, 0, &budget) == NULL
                && row.type == MSGPACK_OBJECT_MAP) {
                s_copy_columns (lookup, &row, fields);
                continue;
            }
        }
        //  A key the table lacks (or a row that is not a map: loaded by something else)
        if (lookup->on_miss == ZETL_ON_MISS_NULL)
            s_copy_columns (lookup, NULL, fields);
        else if (lookup->on_miss == ZETL_ON_MISS_DEAD_LETTER) {
            char what[160];
            snprintf (what, sizeof what, "is not a key of lookup table %s (version %" PRIu64 ")",
                      lookup->table, self->luts[step]);
            const msgpack_object *key = zetl_fields_get (fields, lookup->key, strlen (lookup->key));
            char scratch[64];
            const char *text = NULL;
            size_t len = 0;
            if (key)
                zetl_record_value_text (key, scratch, sizeof scratch, &text, &len);
            return zetl_reject (reject, "lookup_miss", lookup->key, what, text ? text : "", len);
        }
    }
    return ZETL_OK;
}

void
zetl_enrich_end (zetl_enrich_t *self)
{
    for (size_t step = 0; self->cache && step < self->pipeline->enrich_count; step++) {
        const s_pendings_t *pending = &self->pending[step];
        for (size_t item = 0; item < pending->count; item++) {
            const s_pending_t *key = &pending->items[item];
            const s_slot_t *answer = &self->slots[key->slot];
            if (!key->fetched)
                continue;
            if (answer->row)
                zetl_lookup_cache_insert (self->cache, self->tables[step], self->luts[step],
                                          key->key, key->len, answer->row, answer->size,
                                          self->fetched_ms);
            else
                zetl_lookup_cache_insert_negative (self->cache, self->tables[step],
                                                   self->luts[step], key->key, key->len,
                                                   self->fetched_ms);
        }
    }
}

void
zetl_enrich_counts (const zetl_enrich_t *self, uint64_t *lookups, uint64_t *hits)
{
    *lookups = self->lookups;
    *hits = self->hits;
}

json_t *
zetl_enrich_stats (const zetl_enrich_t *self)
{
    json_t *stats = json_pack (
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "lookups", (json_int_t) self->lookups,
        "cache_hits", (json_int_t) self->hits, "stale_served", (json_int_t) self->stale_served,
        "keys_fetched", (json_int_t) self->keys_fetched, "round_trips",
        (json_int_t) self->round_trips, "redis_errors", (json_int_t) self->redis_errors,
        "batches_waiting", (json_int_t) self->retries, "fetch_us_total",
        (json_int_t) self->fetch_us_total, "fetch_us_max", (json_int_t) self->fetch_us_max,
        "breaker", zetl_breaker_state_name (zetl_breaker_state (&self->breaker)));
    if (self->cache) {
        zetl_lookup_cache_stats_t cache = zetl_lookup_cache_stats (self->cache);
        json_object_set_new (stats, "cache_entries", json_integer ((json_int_t) cache.entries));
        json_object_set_new (stats, "cache_bytes", json_integer ((json_int_t) cache.bytes));
        json_object_set_new (stats, "cache_evictions", json_integer ((json_int_t) cache.evictions));
    }
    return stats;
}
