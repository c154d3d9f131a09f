/*  zetl_chunk - parsed records handed from a source actor to the dispatcher  */
#include "zetl_chunk.h"

#include <czmq.h>

zetl_chunk_t *
zetl_chunk_new (size_t pipeline, const char *source)
{
    zetl_chunk_t *self = (zetl_chunk_t *) zmalloc (sizeof (zetl_chunk_t));
    self->pipeline = pipeline;
    self->source = strdup (source);
    self->capacity = 256;
    self->records = (zetl_chunk_record_t *) zmalloc (self->capacity * sizeof (zetl_chunk_record_t));
    msgpack_sbuffer_init (&self->data);
    return self;
}

void
zetl_chunk_destroy (zetl_chunk_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_chunk_t *self = *self_p;
        msgpack_sbuffer_destroy (&self->data);
        free (self->records);
        free (self->source);
        free (self);
        *self_p = NULL;
    }
}

zetl_chunk_record_t *
zetl_chunk_add (zetl_chunk_t *self, uint32_t partition, uint32_t flags, uint64_t position,
                int64_t event_us, size_t offset)
{
    if (self->count == self->capacity) {
        self->capacity *= 2;
        self->records = (zetl_chunk_record_t *) realloc (
            self->records, self->capacity * sizeof (zetl_chunk_record_t));
        assert (self->records);
    }
    zetl_chunk_record_t *record = &self->records[self->count++];
    record->partition = partition;
    record->flags = flags;
    record->position = position;
    record->event_us = event_us;
    record->offset = offset;
    record->len = self->data.size - offset;
    memset (&record->key, 0, sizeof record->key);
    return record;
}

void
zetl_chunk_reserve (zetl_chunk_t *self, size_t records, size_t bytes)
{
    if (records > self->capacity) {
        self->capacity = records;
        self->records = (zetl_chunk_record_t *) realloc (
            self->records, self->capacity * sizeof (zetl_chunk_record_t));
        assert (self->records);
    }
    if (bytes > self->data.alloc - self->data.size) {
        char *data = (char *) realloc (self->data.data, self->data.size + bytes);
        assert (data);
        self->data.data = data;
        self->data.alloc = self->data.size + bytes;
    }
}

int
zetl_chunk_full (const zetl_chunk_t *self)
{
    return self->count >= ZETL_CHUNK_RECORDS || self->data.size >= ZETL_CHUNK_BYTES;
}
