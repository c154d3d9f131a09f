/*  zetl_process - one BATCH into one RESULT  */
#include "zetl_process.h"
#include "zetl_dead.h"
#include "zetl_cast.h"
#include "zetl_proto_walk.h"
#include "zetl_record.h"

#include <xxhash.h>

struct zetl_process {
    const zetl_config_t *config;
    zetl_cast_t **casters;       //  per pipeline
    zetl_body_writer_t *writer;  //  result body being built
    msgpack_sbuffer row;         //  packed output row of the current record
    msgpack_sbuffer dead;        //  packed dead letter of the current record
    msgpack_sbuffer json;        //  raw record as JSON, for dead letters
    msgpack_zone zone;           //  a rejected record built as objects, for its JSON
    uint64_t rejected;
};

zetl_process_t *
zetl_process_new (const zetl_config_t *config)
{
    zetl_process_t *self = (zetl_process_t *) zmalloc (sizeof (zetl_process_t));
    self->config = config;
    self->casters = (zetl_cast_t **) zmalloc (config->pipeline_count * sizeof (zetl_cast_t *) + 1);
    for (size_t index = 0; index < config->pipeline_count; index++)
        self->casters[index] = zetl_cast_new (&config->pipelines[index]);
    self->writer = zetl_body_writer_new ();
    msgpack_sbuffer_init (&self->row);
    msgpack_sbuffer_init (&self->dead);
    msgpack_sbuffer_init (&self->json);
    bool zone_ready = msgpack_zone_init (&self->zone, 4096);
    assert (zone_ready);  //  Out of memory is fatal
    return self;
}

void
zetl_process_destroy (zetl_process_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_process_t *self = *self_p;
        for (size_t index = 0; index < self->config->pipeline_count; index++)
            zetl_cast_destroy (&self->casters[index]);
        free (self->casters);
        zetl_body_writer_destroy (&self->writer);
        msgpack_sbuffer_destroy (&self->row);
        msgpack_sbuffer_destroy (&self->dead);
        msgpack_sbuffer_destroy (&self->json);
        msgpack_zone_destroy (&self->zone);
        free (self);
        *self_p = NULL;
    }
}

//  Pack the dead letter of RECORD rejected for ERROR into self->dead
static void
s_pack_dead (zetl_process_t *self, const msgpack_object *record, const zetl_cast_error_t *error)
{
    self->dead.size = 0;
    zetl_dead_pack_record (&self->dead, &self->json, record, "worker", error->reason, error->field,
                           error->error);
}

static void
s_hash (const void *data, size_t size, uint8_t out[16])
{
    XXH128_hash_t hash = XXH3_128bits (data, size);
    for (int byte = 0; byte < 8; byte++) {
        out[byte] = (uint8_t) (hash.high64 >> (56 - 8 * byte));
        out[8 + byte] = (uint8_t) (hash.low64 >> (56 - 8 * byte));
    }
}

//  Pack the dead letter of the packed record ENTRY rejected for ERROR into
//  self->dead. The rare path: only here is the record built as objects, for
//  its JSON text
static void
s_pack_dead_packed (zetl_process_t *self, const zetl_entry_t *entry,
                    const zetl_cast_error_t *error)
{
    msgpack_zone_clear (&self->zone);
    zetl_walk_cursor_t cur = {entry->packed, entry->packed + entry->packed_size};
    size_t budget = ZETL_WALK_MAX_OBJECTS;
    msgpack_object record;
    //  The reader checked these bytes with the same walker: this cannot fail
    if (zetl_walk_object (&cur, &self->zone, &record, 0, &budget) != NULL)
        record.type = MSGPACK_OBJECT_NIL;
    s_pack_dead (self, &record, error);
}

zetl_msg_t *
zetl_process_batch (zetl_process_t *self, const zetl_msg_t *batch, const char **reason)
{
    if (batch->pipeline >= self->config->pipeline_count) {
        *reason = "batch names an unknown pipeline";
        return NULL;
    }
    zetl_cast_t *caster = self->casters[batch->pipeline];
    //  The counted reader is the check of the BATCH body: it is read whole
    //  before any RESULT goes out, so a malformed entry or a count that does
    //  not match fails the batch here, and the worker answers ERROR
    zetl_body_reader_t *reader = zetl_msg_body_reader (batch, reason);
    if (!reader)
        return NULL;
    //  Same source names, same order: the indexes carry over unchanged
    for (uint32_t index = 0; index < zetl_body_reader_sources (reader); index++)
        zetl_body_writer_source (self->writer, zetl_body_reader_source_name (reader, index));
    zetl_entry_t entry;
    int rc;
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->row, msgpack_sbuffer_write);
    //  Payloads stay packed: the caster reads a record's values in place, and
    //  what passes through is copied as the bytes it came as
    while ((rc = zetl_body_reader_next_packed (reader, &entry, reason)) == 1) {
        if (entry.flags & ZETL_ENTRY_PASS_THROUGH) {
            //  Dead letters and duplicates' positions pass through to the sink
            zetl_body_writer_append (self->writer, entry.source, entry.position, entry.event_us,
                                     entry.flags, entry.has_hash ? entry.hash : NULL,
                                     entry.packed, entry.packed_size);
            continue;
        }
        self->row.size = 0;
        zetl_cast_error_t error;
        if (zetl_cast_packed (caster, entry.packed, entry.packed_size, &packer, &error)
            == ZETL_OK) {
            uint8_t hash[16];
            s_hash (self->row.data, self->row.size, hash);
            zetl_body_writer_append (self->writer, entry.source, entry.position, entry.event_us,
                                     entry.flags, hash, self->row.data, self->row.size);
        }
        else {
            self->rejected++;
            s_pack_dead_packed (self, &entry, &error);
            zetl_body_writer_append (self->writer, entry.source, entry.position, entry.event_us,
                                     entry.flags | ZETL_ENTRY_DEAD, NULL, self->dead.data,
                                     self->dead.size);
        }
    }
    zetl_body_reader_destroy (&reader);
    if (rc < 0) {
        zframe_t *discard = zetl_body_writer_finish (self->writer);
        zframe_destroy (&discard);
        return NULL;
    }
    zetl_msg_t *result = zetl_msg_new (ZETL_MSG_RESULT);
    result->config_hash = batch->config_hash;
    result->epoch = batch->epoch;
    result->batch_id = batch->batch_id;
    result->pipeline = batch->pipeline;
    result->partition = batch->partition;
    result->watermark_us = batch->watermark_us;
    result->attempt = batch->attempt;
    result->count = zetl_body_writer_count (self->writer);
    zetl_msg_set_str (&result->sink, batch->sink);
    zframe_t *body = zetl_body_writer_finish (self->writer);
    zetl_msg_set_body (result, &body);
    return result;
}

uint64_t
zetl_process_rejected (const zetl_process_t *self)
{
    return self->rejected;
}
