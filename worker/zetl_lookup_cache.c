/*  zetl_lookup_cache - a worker's bounded cache of lookup table rows

    An entry is one allocation: the header below, then the key, then the
    value. It sits on three lists at once: the index (open addressing,
    linear probing, deleted by backward shift, so there are no tombstones),
    the LRU list (newest at the head) and its table's list (for
    drop_older). An entry a lookup finds too old is unlinked at once but
    freed by the next call that may invalidate borrowed values (insert,
    drop_older), so that lookups never invalidate what earlier lookups
    returned.
*/
#include "zetl_lookup_cache.h"

#include <assert.h>
#include <czmq.h>
#include <string.h>
#include <xxhash.h>

#define S_NEGATIVE 1u      //  flags: a negative entry
#define S_TABLE_SHIFT 1    //  flags >> 1: the entry's slot in self->tables
#define S_MALLOC_HEADER 8  //  glibc's malloc: the header of a chunk
#define S_MALLOC_ALIGN 16  //  and the multiple its chunks' sizes are

typedef struct s_entry s_entry_t;
struct s_entry {
    s_entry_t *newer, *older;                  //  the LRU list
    s_entry_t *prev_in_table, *next_in_table;  //  its table's list
    uint64_t version;                          //  table version
    int64_t fetched_ms;                        //  when the value was fetched
    uint64_t hash;                             //  s_hash of (table, version, key)
    uint32_t table;                            //  table index
    uint32_t key_len;                          //  key bytes at data[0]
    uint32_t value_size;                       //  value bytes at data[key_len]
    uint32_t flags;                            //  S_NEGATIVE | table slot << S_TABLE_SHIFT
    unsigned char data[];                      //  key, then value
};

//  The header the documented entry bytes count (on 64-bit systems)
_Static_assert(sizeof (void *) != 8 || offsetof (s_entry_t, data) == 72, "entry header");

typedef struct {
    uint64_t hash;     //  entry->hash, so that most probes skip the entry
    s_entry_t *entry;  //  NULL: an empty slot
} s_slot_t;

typedef struct {
    uint32_t table;    //  table index
    s_entry_t *first;  //  its entries, or NULL: this slot is free
} s_table_t;

struct zetl_lookup_cache {
    zetl_lookup_cache_config_t config;  //  checked at new
    s_slot_t *slots;                    //  the index, owned
    size_t mask;                        //  slots - 1 (a power of two)
    s_entry_t *newest, *oldest;         //  the LRU list's ends
    s_entry_t *graveyard;               //  unlinked entries to free (through ->older)
    s_table_t *tables;                  //  a list per table cached, owned
    uint32_t ntables;                   //  slots of self->tables in use or free
    uint32_t tables_cap;                //  slots allocated
    zetl_lookup_cache_stats_t stats;    //  counters, entries and bytes
};

void
zetl_lookup_cache_config_defaults (zetl_lookup_cache_config_t *config)
{
    assert (config);
    config->max_entries = 100000;
    config->max_bytes = (size_t) 64 * 1024 * 1024;
    config->ttl_ms = 60 * 1000;
    config->negative_ttl_ms = 10 * 1000;
    config->max_stale_ms = 10 * 60 * 1000;
}

static bool
s_config_valid (const zetl_lookup_cache_config_t *config)
{
    return config->max_entries >= 1 && config->max_entries <= ZETL_LOOKUP_CACHE_MAX_ENTRIES_LIMIT &&
           config->max_bytes >= ZETL_LOOKUP_CACHE_MIN_BYTES && config->ttl_ms >= 0 &&
           config->negative_ttl_ms >= 0 && config->ttl_ms <= config->max_stale_ms &&
           config->negative_ttl_ms <= config->max_stale_ms;
}

zetl_lookup_cache_t *
zetl_lookup_cache_new (const zetl_lookup_cache_config_t *config)
{
    zetl_lookup_cache_config_t defaults;
    zetl_lookup_cache_config_defaults (&defaults);
    if (!config)
        config = &defaults;
    if (!s_config_valid (config))
        return NULL;
    zetl_lookup_cache_t *self = (zetl_lookup_cache_t *) zmalloc (sizeof (zetl_lookup_cache_t));
    self->config = *config;
    //  At most half full: a probe then reads 1.5 slots on a hit, 2.5 on a miss
    size_t slots = 8;
    while (slots < 2 * config->max_entries)
        slots *= 2;
    self->slots = (s_slot_t *) zmalloc (slots * sizeof (s_slot_t));
    self->mask = slots - 1;
    self->stats.index_bytes = slots * sizeof (s_slot_t);
    return self;
}

static void
s_free_graveyard (zetl_lookup_cache_t *self)
{
    while (self->graveyard) {
        s_entry_t *entry = self->graveyard;
        self->graveyard = entry->older;
        free (entry);
    }
}

void
zetl_lookup_cache_destroy (zetl_lookup_cache_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_lookup_cache_t *self = *self_p;
        s_free_graveyard (self);
        s_entry_t *entry = self->newest;
        while (entry) {
            s_entry_t *older = entry->older;
            free (entry);
            entry = older;
        }
        free (self->slots);
        free (self->tables);
        free (self);
        *self_p = NULL;
    }
}

size_t
zetl_lookup_cache_entry_bytes (size_t len, size_t size)
{
    if (len > UINT32_MAX || size > UINT32_MAX)
        return SIZE_MAX;
    size_t request = offsetof (s_entry_t, data) + len + size;
    return (request + S_MALLOC_HEADER + S_MALLOC_ALIGN - 1) & ~(size_t) (S_MALLOC_ALIGN - 1);
}

//  XXH3 of the key, xor a mix of the table and the version: still uniform,
//  and the same key in another version lands elsewhere
static inline uint64_t
s_hash (uint32_t table, uint64_t version, const void *key, size_t len)
{
    uint64_t mix = (version + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t) table * 0xC2B2AE3D27D4EB4FULL;
    return XXH3_64bits (key, len) ^ (mix ^ mix >> 29);
}

//  The slot holding the entry of (table, version, key), or NULL
static inline s_slot_t *
s_find (zetl_lookup_cache_t *self, uint64_t hash, uint32_t table, uint64_t version, const void *key,
        size_t len)
{
    size_t index = hash & self->mask;
    while (self->slots[index].entry) {
        s_slot_t *slot = &self->slots[index];
        if (slot->hash == hash) {
            const s_entry_t *entry = slot->entry;
            if (entry->table == table && entry->version == version && entry->key_len == len &&
                (len == 0 || memcmp (entry->data, key, len) == 0))
                return slot;
        }
        index = (index + 1) & self->mask;
    }
    return NULL;
}

static void
s_index_add (zetl_lookup_cache_t *self, s_entry_t *entry)
{
    size_t index = entry->hash & self->mask;
    while (self->slots[index].entry)
        index = (index + 1) & self->mask;
    self->slots[index].hash = entry->hash;
    self->slots[index].entry = entry;
}

//  Empty SLOT, then shift back each later entry of the run that may move
//  into the gap (its home is not after the gap), so probes stay unbroken
static void
s_index_remove (zetl_lookup_cache_t *self, s_slot_t *slot)
{
    size_t gap = (size_t) (slot - self->slots), index = gap;
    while (true) {
        index = (index + 1) & self->mask;
        s_slot_t *next = &self->slots[index];
        if (!next->entry)
            break;
        size_t home = next->hash & self->mask;
        if (((index - home) & self->mask) >= ((index - gap) & self->mask)) {
            self->slots[gap] = *next;
            gap = index;
        }
    }
    self->slots[gap].entry = NULL;
    self->slots[gap].hash = 0;
}

static s_slot_t *
s_slot_of (zetl_lookup_cache_t *self, const s_entry_t *entry)
{
    size_t index = entry->hash & self->mask;
    while (self->slots[index].entry != entry) {
        assert (self->slots[index].entry);
        index = (index + 1) & self->mask;
    }
    return &self->slots[index];
}

static void
s_lru_unlink (zetl_lookup_cache_t *self, s_entry_t *entry)
{
    if (entry->newer)
        entry->newer->older = entry->older;
    else
        self->newest = entry->older;
    if (entry->older)
        entry->older->newer = entry->newer;
    else
        self->oldest = entry->newer;
}

static void
s_lru_push (zetl_lookup_cache_t *self, s_entry_t *entry)
{
    entry->newer = NULL;
    entry->older = self->newest;
    if (self->newest)
        self->newest->newer = entry;
    else
        self->oldest = entry;
    self->newest = entry;
}

//  The slot of TABLE in self->tables, or NULL
static s_table_t *
s_table_find (zetl_lookup_cache_t *self, uint32_t table)
{
    for (uint32_t index = 0; index < self->ntables; index++)
        if (self->tables[index].first && self->tables[index].table == table)
            return &self->tables[index];
    return NULL;
}

//  A slot for a table that has no entries yet: a free one, or a new one
static uint32_t
s_table_slot_new (zetl_lookup_cache_t *self, uint32_t table)
{
    uint32_t index = 0;
    while (index < self->ntables && self->tables[index].first)
        index++;
    if (index == self->ntables) {
        if (self->ntables == self->tables_cap) {
            self->tables_cap = self->tables_cap ? self->tables_cap * 2 : 8;
            self->tables =
                (s_table_t *) realloc (self->tables, self->tables_cap * sizeof (s_table_t));
            assert (self->tables);  //  Out of memory is fatal
        }
        self->ntables++;
    }
    self->tables[index].table = table;
    self->tables[index].first = NULL;
    return index;
}

static void
s_table_link (zetl_lookup_cache_t *self, s_entry_t *entry)
{
    s_table_t *list = s_table_find (self, entry->table);
    uint32_t index =
        list ? (uint32_t) (list - self->tables) : s_table_slot_new (self, entry->table);
    list = &self->tables[index];
    entry->flags |= index << S_TABLE_SHIFT;
    entry->prev_in_table = NULL;
    entry->next_in_table = list->first;
    if (list->first)
        list->first->prev_in_table = entry;
    list->first = entry;
}

//  Unlinking the last entry of a table frees its slot in self->tables
static void
s_table_unlink (zetl_lookup_cache_t *self, s_entry_t *entry)
{
    s_table_t *list = &self->tables[entry->flags >> S_TABLE_SHIFT];
    if (entry->prev_in_table)
        entry->prev_in_table->next_in_table = entry->next_in_table;
    else
        list->first = entry->next_in_table;
    if (entry->next_in_table)
        entry->next_in_table->prev_in_table = entry->prev_in_table;
}

//  Take ENTRY (at SLOT) off every list and out of the counts; the caller
//  frees it, now or through the graveyard
static void
s_unlink (zetl_lookup_cache_t *self, s_entry_t *entry, s_slot_t *slot)
{
    s_index_remove (self, slot);
    s_lru_unlink (self, entry);
    s_table_unlink (self, entry);
    self->stats.entries--;
    self->stats.bytes -= zetl_lookup_cache_entry_bytes (entry->key_len, entry->value_size);
}

static void
s_remove (zetl_lookup_cache_t *self, s_entry_t *entry, s_slot_t *slot)
{
    s_unlink (self, entry, slot);
    free (entry);
}

zetl_lookup_cache_status_t
zetl_lookup_cache_lookup (zetl_lookup_cache_t *self, uint32_t table, uint64_t version,
                          const void *key, size_t len, int64_t now_ms,
                          zetl_lookup_cache_result_t *result)
{
    assert (self && result && (key || len == 0));
    memset (result, 0, sizeof *result);
    s_slot_t *slot = len <= UINT32_MAX ? s_find (self, s_hash (table, version, key, len), table,
                                                 version, key, len)
                                       : NULL;
    if (!slot) {
        self->stats.misses++;
        return ZETL_LOOKUP_CACHE_MISS;
    }
    s_entry_t *entry = slot->entry;
    int64_t age_ms = now_ms > entry->fetched_ms ? now_ms - entry->fetched_ms : 0;
    if (age_ms >= self->config.max_stale_ms) {
        //  Too old to use even with the store down. Freed by the next insert
        //  or drop_older, so that values other lookups returned stay valid
        s_unlink (self, entry, slot);
        entry->older = self->graveyard;
        self->graveyard = entry;
        self->stats.expired++;
        self->stats.misses++;
        return ZETL_LOOKUP_CACHE_MISS;
    }
    bool negative = (entry->flags & S_NEGATIVE) != 0;
    int64_t ttl_ms = negative ? self->config.negative_ttl_ms : self->config.ttl_ms;
    zetl_lookup_cache_status_t status =
        age_ms < ttl_ms ? ZETL_LOOKUP_CACHE_FRESH : ZETL_LOOKUP_CACHE_STALE;
    if (status == ZETL_LOOKUP_CACHE_FRESH)
        self->stats.hits++;
    else
        self->stats.stale_hits++;
    if (entry != self->newest) {
        s_lru_unlink (self, entry);
        s_lru_push (self, entry);
    }
    result->negative = negative;
    result->age_ms = age_ms;
    if (negative)
        self->stats.negative_hits++;
    else {
        result->value = entry->data + entry->key_len;
        result->size = entry->value_size;
    }
    return status;
}

//  Make room for an entry of BYTES: evict from the old end of the LRU list
static void
s_make_room (zetl_lookup_cache_t *self, size_t bytes)
{
    while (self->stats.entries >= self->config.max_entries ||
           self->stats.bytes + bytes > self->config.max_bytes) {
        s_entry_t *oldest = self->oldest;
        assert (oldest);  //  bytes <= max_bytes, so the cache empty is room enough
        s_remove (self, oldest, s_slot_of (self, oldest));
        self->stats.evictions++;
    }
}

static int
s_insert (zetl_lookup_cache_t *self, uint32_t table, uint64_t version, const void *key, size_t len,
          const void *value, size_t size, bool negative, int64_t now_ms)
{
    assert (self && (key || len == 0) && (value || size == 0));
    s_free_graveyard (self);
    size_t bytes = zetl_lookup_cache_entry_bytes (len, size);
    uint64_t hash = len <= UINT32_MAX ? s_hash (table, version, key, len) : 0;
    s_slot_t *slot = len <= UINT32_MAX ? s_find (self, hash, table, version, key, len) : NULL;
    if (slot)
        s_remove (self, slot->entry, slot);  //  Replaced: not an eviction
    if (bytes > self->config.max_bytes) {
        self->stats.refused++;
        return -1;
    }
    s_make_room (self, bytes);
    s_entry_t *entry = (s_entry_t *) malloc (offsetof (s_entry_t, data) + len + size);
    assert (entry);  //  Out of memory is fatal
    entry->version = version;
    entry->fetched_ms = now_ms;
    entry->hash = hash;
    entry->table = table;
    entry->key_len = (uint32_t) len;
    entry->value_size = (uint32_t) size;
    entry->flags = negative ? S_NEGATIVE : 0;
    if (len)
        memcpy (entry->data, key, len);
    if (size)
        memcpy (entry->data + len, value, size);
    s_index_add (self, entry);
    s_lru_push (self, entry);
    s_table_link (self, entry);
    self->stats.entries++;
    self->stats.bytes += bytes;
    self->stats.inserts++;
    return 0;
}

int
zetl_lookup_cache_insert (zetl_lookup_cache_t *self, uint32_t table, uint64_t version,
                          const void *key, size_t len, const void *value, size_t size,
                          int64_t now_ms)
{
    return s_insert (self, table, version, key, len, value, size, false, now_ms);
}

int
zetl_lookup_cache_insert_negative (zetl_lookup_cache_t *self, uint32_t table, uint64_t version,
                                   const void *key, size_t len, int64_t now_ms)
{
    return s_insert (self, table, version, key, len, NULL, 0, true, now_ms);
}

size_t
zetl_lookup_cache_drop_older (zetl_lookup_cache_t *self, uint32_t table, uint64_t version)
{
    assert (self);
    s_free_graveyard (self);
    s_table_t *list = s_table_find (self, table);
    size_t dropped = 0;
    //  Removing entries never moves self->tables, so LIST stays valid
    s_entry_t *entry = list ? list->first : NULL;
    while (entry) {
        s_entry_t *next = entry->next_in_table;
        if (entry->version < version) {
            s_remove (self, entry, s_slot_of (self, entry));
            dropped++;
        }
        entry = next;
    }
    self->stats.dropped += dropped;
    return dropped;
}

zetl_lookup_cache_stats_t
zetl_lookup_cache_stats (const zetl_lookup_cache_t *self)
{
    assert (self);
    return self->stats;
}
