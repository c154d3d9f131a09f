/*  zetl_commit_keys - the (source, partition) keys one commit of a sink writer touches  */
#include "zetl_commit_keys.h"
#include "zetl_reprocess.h"

#include <inttypes.h>

static void
s_key_destroy (zetl_commit_key_t **key_p)
{
    zetl_commit_key_t *key = *key_p;
    if (key) {
        free (key->source);
        zchunk_destroy (&key->seqs);
        zetl_ranges_destroy (&key->ranges);
        free (key);
        *key_p = NULL;
    }
}

void
zetl_commit_keys_destroy (zetl_commit_keys_t **self_p)
{
    assert (self_p);
    zetl_commit_keys_t *self = *self_p;
    if (self) {
        for (size_t index = 0; index < self->count; index++)
            s_key_destroy (&self->keys[index]);
        for (size_t batch = 0; batch < self->batches; batch++) {
            free (self->by_batch[batch]);
            zetl_body_reader_destroy (&self->readers[batch]);
        }
        for (size_t index = 0; self->above && index < self->count; index++)
            free (self->above[index]);  //  NULL when the lock failed
        free (self->sources);
        free (self->partitions);
        free (self->positions);
        free (self->added);
        free (self->above);
        free (self->keys);
        free (self->by_batch);
        free (self->readers);
        free (self);
        *self_p = NULL;
    }
}

//  The key of NAME in PARTITION, added if new. Once per source of a batch,
//  not per entry: a linear search over the commit's few keys will do
static zetl_commit_key_t *
s_keys_get (zetl_commit_keys_t *self, const char *name, uint32_t partition)
{
    for (size_t index = 0; index < self->count; index++) {
        zetl_commit_key_t *key = self->keys[index];
        if (key->partition == partition && strcmp (key->source, name) == 0)
            return key;
    }
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 16;
        self->keys = (zetl_commit_key_t **) realloc (self->keys,
                                                     self->capacity * sizeof (zetl_commit_key_t *));
        assert (self->keys);
    }
    zetl_commit_key_t *key = (zetl_commit_key_t *) zmalloc (sizeof (zetl_commit_key_t));
    key->source = strdup (name);
    key->partition = partition;
    key->committed = -1;
    key->highest = -1;
    zetl_reprocess_parse_source (name, &key->request);
    self->keys[self->count++] = key;
    return key;
}

static int
s_key_compare (const void *a, const void *b)
{
    const zetl_commit_key_t *left = *(const zetl_commit_key_t *const *) a;
    const zetl_commit_key_t *right = *(const zetl_commit_key_t *const *) b;
    int order = strcmp (left->source, right->source);
    return order ? order
                 : (left->partition > right->partition) - (left->partition < right->partition);
}

zetl_commit_keys_t *
zetl_commit_keys_collect (zlistx_t *batches)
{
    zetl_commit_keys_t *self = (zetl_commit_keys_t *) zmalloc (sizeof (zetl_commit_keys_t));
    size_t size = zlistx_size (batches) + 1;
    self->by_batch = (zetl_commit_key_t ***) zmalloc (size * sizeof (zetl_commit_key_t **));
    self->readers = (zetl_body_reader_t **) zmalloc (size * sizeof (zetl_body_reader_t *));
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (batches); msg;
         msg = (zetl_msg_t *) zlistx_next (batches)) {
        const char *reason = NULL;
        zetl_body_reader_t *reader = zetl_msg_body_reader (msg, &reason);
        if (!reader) {
            self->malformed = msg;
            self->malformed_reason = reason;
            break;
        }
        uint32_t sources = zetl_body_reader_sources (reader);
        zetl_commit_key_t **by_source =
            (zetl_commit_key_t **) zmalloc ((sources + 1) * sizeof (zetl_commit_key_t *));
        for (uint32_t index = 0; index < sources; index++)
            by_source[index] =
                s_keys_get (self, zetl_body_reader_source_name (reader, index), msg->partition);
        self->readers[self->batches] = reader;
        self->by_batch[self->batches++] = by_source;
    }
    if (self->count)
        qsort (self->keys, self->count, sizeof (zetl_commit_key_t *), s_key_compare);
    return self;
}

void
zetl_commit_keys_columns (zetl_commit_keys_t *self, bool ordered)
{
    assert (!self->sources);  //  Once per commit
    size_t size = self->count + 1;
    self->sources = (const char **) zmalloc (size * sizeof (char *));
    self->partitions = (uint32_t *) zmalloc (size * sizeof (uint32_t));
    self->positions = (int64_t *) zmalloc (size * sizeof (int64_t));
    self->added = (const char **) zmalloc (size * sizeof (char *));
    self->above = ordered ? (char **) zmalloc (size * sizeof (char *)) : NULL;
    for (size_t index = 0; index < self->count; index++) {
        self->sources[index] = self->keys[index]->source;
        self->partitions[index] = self->keys[index]->partition;
    }
}

void
zetl_commit_keys_locked (zetl_commit_keys_t *self)
{
    for (size_t index = 0; index < self->count; index++) {
        zetl_commit_key_t *key = self->keys[index];
        key->committed = self->positions[index];
        if (self->above) {
            key->ranges = zetl_ranges_new (key->committed, self->above[index]);
            assert (key->ranges);  //  PostgreSQL's own text form
        }
        key->highest = key->committed;
    }
}

size_t
zetl_commit_keys_moved (zetl_commit_keys_t *self)
{
    assert (self->sources);  //  After the lock
    size_t count = 0;
    for (size_t index = 0; index < self->count; index++) {
        zetl_commit_key_t *key = self->keys[index];
        if (key->ranges) {
            if (!zetl_ranges_added (key->ranges) &&
                zetl_ranges_floor (key->ranges) <= key->committed)
                continue;
            self->positions[count] = zetl_ranges_floor (key->ranges);
            self->added[count] = zetl_ranges_added_text (key->ranges);
        }
        else if (key->highest > key->committed)
            self->positions[count] = key->highest;
        else
            continue;
        self->sources[count] = key->source;
        self->partitions[count] = key->partition;
        count++;
    }
    return count;
}

bool
zetl_commit_key_replayed (zetl_commit_key_t *key, const zetl_entry_t *entry)
{
    if (key->ranges) {
        if (entry->flags & ZETL_ENTRY_CHECKPOINT) {
            zetl_ranges_raise_floor (key->ranges, (int64_t) entry->position);
            return true;
        }
        if (zetl_ranges_has (key->ranges, entry->position))
            return true;
        zetl_ranges_add (key->ranges, entry->position);
        return false;
    }
    //  At or below what is committed, or staged already in this commit (two
    //  tries of one batch can meet in one group): a replay, not again. A
    //  partition's positions are dispatched in order, so anything lower than
    //  what this commit holds is a replay
    if ((int64_t) entry->position <= key->highest || (entry->flags & ZETL_ENTRY_CHECKPOINT))
        return true;
    key->highest = (int64_t) entry->position;
    return false;
}

void
zetl_commit_key_note_reprocessed (zetl_commit_key_t *key, uint64_t seq)
{
    if (!key->seqs)
        key->seqs = zchunk_new (NULL, 256);
    char text[24];
    int len = snprintf (text, sizeof text, "%c%" PRIu64, zchunk_size (key->seqs) ? ',' : '{', seq);
    zchunk_extend (key->seqs, text, (size_t) len);
}

const char *
zetl_commit_key_seqs (zetl_commit_key_t *key)
{
    if (!key->seqs)
        return NULL;
    zchunk_extend (key->seqs, "}", 2);  //  With the NUL
    return (const char *) zchunk_data (key->seqs);
}
