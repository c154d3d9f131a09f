/*  zetl_pg_missing - which keys a full refresh did not see, and their delete markers  */
#include "zetl_pg_missing.h"
#include "zetl_time.h"

#include <czmq.h>
#include <inttypes.h>
#include <time.h>
#include <xxhash.h>

struct zetl_pg_missing {
    XXH128_hash_t *keys;
    size_t count;
    size_t capacity;
    XXH3_state_t *hasher;
};

zetl_pg_missing_t *
zetl_pg_missing_new (void)
{
    zetl_pg_missing_t *self = (zetl_pg_missing_t *) zmalloc (sizeof (zetl_pg_missing_t));
    self->hasher = XXH3_createState ();
    assert (self->hasher);
    return self;
}

void
zetl_pg_missing_destroy (zetl_pg_missing_t **self_p)
{
    zetl_pg_missing_t *self = *self_p;
    if (self) {
        free (self->keys);
        XXH3_freeState (self->hasher);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_pg_missing_reset (zetl_pg_missing_t *self)
{
    self->count = 0;
}

static XXH128_hash_t
s_key_hash (const zetl_pg_missing_t *self, const zetl_pg_extract_t *extract, int row,
            size_t key_count)
{
    XXH3_128bits_reset (self->hasher);
    for (size_t index = 0; index < key_count; index++) {
        size_t len;
        const char *text = zetl_pg_extract_key (extract, row, index, &len);
        if (index)
            XXH3_128bits_update (self->hasher, "\x1f", 1);
        XXH3_128bits_update (self->hasher, text, len);
    }
    return XXH3_128bits_digest (self->hasher);
}

void
zetl_pg_missing_see (zetl_pg_missing_t *self, const zetl_pg_extract_t *extract, int row)
{
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 4096;
        self->keys = (XXH128_hash_t *) realloc (self->keys, self->capacity * sizeof *self->keys);
        assert (self->keys);
    }
    self->keys[self->count++] = s_key_hash (self, extract, row, zetl_pg_extract_key_count (extract));
}

static int
s_compare (const void *left, const void *right)
{
    return XXH128_cmp (left, right);
}

void
zetl_pg_missing_seal (zetl_pg_missing_t *self)
{
    if (self->count)
        qsort (self->keys, self->count, sizeof *self->keys, s_compare);
}

bool
zetl_pg_missing_seen (const zetl_pg_missing_t *self, const zetl_pg_extract_t *extract, int row)
{
    if (!self->count)
        return false;
    XXH128_hash_t key = s_key_hash (self, extract, row, zetl_pg_extract_key_count (extract));
    return bsearch (&key, self->keys, self->count, sizeof key, s_compare) != NULL;
}

size_t
zetl_pg_missing_size (const zetl_pg_missing_t *self)
{
    return self->count;
}

void
zetl_pg_missing_time_text (const zetl_pipeline_t *pipeline, int64_t us, char *text, size_t size)
{
    const zetl_event_time_t *event_time = &pipeline->event_time;
    if (event_time->kind == ZETL_TIME_UNIX_MS)
        snprintf (text, size, "%" PRId64, us / 1000);
    else if (event_time->kind == ZETL_TIME_STRFTIME) {
        time_t seconds = (time_t) (us / 1000000);
        struct tm tm;
        gmtime_r (&seconds, &tm);
        strftime (text, size, event_time->strftime, &tm);
    }
    else
        zetl_time_format_iso (us, text, size);
}
