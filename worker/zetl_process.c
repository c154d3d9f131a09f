/*  zetl_process - one BATCH into one RESULT  */
#include "zetl_process.h"
#include "zetl_dead.h"
#include "zetl_cast.h"
#include "zetl_enrich.h"
#include "zetl_fields.h"
#include "zetl_proto_walk.h"
#include "zetl_record.h"
#include "zetl_transform.h"

#include <xxhash.h>

//  A record of a batch between the two passes of a pipeline that
//  transforms or enriches (s_process_edited)
typedef struct {
    zetl_entry_t entry;          //  as read: payload bytes in the BATCH body
    zetl_fields_t fields;        //  after the transform
    size_t record;               //  its number at the enricher
    zetl_reject_t *reject;       //  why it was rejected in the first pass (in the zone), or NULL
} s_item_t;

struct zetl_process {
    const zetl_config_t *config;
    zetl_cast_t **casters;       //  per pipeline
    zetl_transform_t **transforms; //  per pipeline: NULL without transform steps
    zetl_enrich_t *enrich;       //  NULL when no pipeline enriches
    msgpack_zone batch_zone;     //  records being edited, for one batch
    s_item_t *items;             //  the batch's records between passes
    size_t item_room;
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
    self->transforms =
        (zetl_transform_t **) zmalloc (config->pipeline_count * sizeof (zetl_transform_t *) + 1);
    bool enriches = false;
    for (size_t index = 0; index < config->pipeline_count; index++) {
        const zetl_pipeline_t *pipeline = &config->pipelines[index];
        self->casters[index] = zetl_cast_new (pipeline);
        char *error = NULL;
        if (pipeline->step_count)
            self->transforms[index] = zetl_transform_new (pipeline, &error);
        assert (!pipeline->step_count || self->transforms[index]);  //  Checked with the config
        enriches |= pipeline->enrich_count > 0;
    }
    if (enriches)
        self->enrich = zetl_enrich_new (config);
    bool batch_zone_ready = msgpack_zone_init (&self->batch_zone, 1 << 20);
    assert (batch_zone_ready);
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
        for (size_t index = 0; index < self->config->pipeline_count; index++) {
            zetl_cast_destroy (&self->casters[index]);
            zetl_transform_destroy (&self->transforms[index]);
        }
        free (self->casters);
        free (self->transforms);
        zetl_enrich_destroy (&self->enrich);
        msgpack_zone_destroy (&self->batch_zone);
        free (self->items);
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
s_pack_dead (zetl_process_t *self, const msgpack_object *record, const zetl_reject_t *error)
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
                    const zetl_reject_t *error)
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

//  Append ENTRY as the dead letter of a record rejected for ERROR
static void
s_append_dead (zetl_process_t *self, const zetl_entry_t *entry, const zetl_reject_t *error)
{
    self->rejected++;
    s_pack_dead_packed (self, entry, error);
    zetl_body_writer_append (self->writer, entry->source, entry->position, entry->event_us,
                             entry->flags | ZETL_ENTRY_DEAD, NULL, self->dead.data,
                             self->dead.size);
}

//  Append ENTRY as it came: dead letters and duplicates' positions pass
//  through to the sink
static void
s_append_as_is (zetl_process_t *self, const zetl_entry_t *entry)
{
    zetl_body_writer_append (self->writer, entry->source, entry->position, entry->event_us,
                             entry->flags, entry->has_hash ? entry->hash : NULL, entry->packed,
                             entry->packed_size);
}

//  Append the output row self->row holds for ENTRY, with its hash
static void
s_append_row (zetl_process_t *self, const zetl_entry_t *entry)
{
    uint8_t hash[16];
    s_hash (self->row.data, self->row.size, hash);
    zetl_body_writer_append (self->writer, entry->source, entry->position, entry->event_us,
                             entry->flags, hash, self->row.data, self->row.size);
}

//  A pipeline with neither transform nor enrichment: payloads stay packed,
//  the caster reads a record's values in place. Returns 0, or -1 with *REASON
static int
s_process_plain (zetl_process_t *self, zetl_cast_t *caster, zetl_body_reader_t *reader,
                 const char **reason)
{
    zetl_entry_t entry;
    int rc;
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->row, msgpack_sbuffer_write);
    while ((rc = zetl_body_reader_next_packed (reader, &entry, reason)) == 1) {
        if (entry.flags & ZETL_ENTRY_PASS_THROUGH) {
            s_append_as_is (self, &entry);
            continue;
        }
        self->row.size = 0;
        zetl_reject_t error;
        if (zetl_cast_packed (caster, entry.packed, entry.packed_size, &packer, &error) == ZETL_OK)
            s_append_row (self, &entry);
        else
            s_append_dead (self, &entry, &error);
    }
    return rc < 0 ? -1 : 0;
}

//  Whether FIELDS mark a delete: field NAME reads as true (zetl_cast_parse_bool)
static bool
s_is_delete (zetl_fields_t *fields, const char *name)
{
    const msgpack_object *value = zetl_fields_get (fields, name, strlen (name));
    char scratch[64];
    const char *text;
    size_t len;
    bool truth = false;
    return value && zetl_record_value_text (value, scratch, sizeof scratch, &text, &len) == 0
           && zetl_cast_parse_bool (value, text, len, &truth) == 0 && truth;
}

//  The next item of the batch, zeroed
static s_item_t *
s_next_item (zetl_process_t *self, size_t count)
{
    if (count == self->item_room) {
        self->item_room = self->item_room ? self->item_room * 2 : 1024;
        self->items = (s_item_t *) realloc (self->items, self->item_room * sizeof (s_item_t));
        assert (self->items);
    }
    memset (&self->items[count], 0, sizeof (s_item_t));
    return &self->items[count];
}

//  First pass: read and transform each record, and note what it looks up.
//  Returns the records read, or -1 with *REASON
static ssize_t
s_first_pass (zetl_process_t *self, size_t pipeline, zetl_body_reader_t *reader,
              const char **reason)
{
    zetl_transform_t *transform = self->transforms[pipeline];
    size_t count = 0;
    zetl_entry_t entry;
    int rc;
    while ((rc = zetl_body_reader_next_packed (reader, &entry, reason)) == 1) {
        s_item_t *item = s_next_item (self, count++);
        item->entry = entry;
        if (entry.flags & ZETL_ENTRY_PASS_THROUGH)
            continue;
        zetl_reject_t error;
        zetl_status_t status = ZETL_OK;
        if (zetl_fields_read (&item->fields, &self->batch_zone, entry.packed, entry.packed_size))
            status = zetl_reject (&error, "malformed", NULL, "is not a msgpack map", NULL, 0);
        else if (transform)
            status = zetl_transform_apply (transform, &item->fields, &error);
        if (status != ZETL_OK) {
            item->reject = (zetl_reject_t *) msgpack_zone_malloc (&self->batch_zone, sizeof error);
            assert (item->reject);
            *item->reject = error;
        }
        else if (self->config->pipelines[pipeline].enrich_count)
            item->record = zetl_enrich_want (self->enrich, &item->fields);
    }
    return rc < 0 ? -1 : (ssize_t) count;
}

//  A pipeline that transforms, enriches or marks deletes: every record is read into
//  fields, transformed and its keys noted; the batch's lookups are fetched
//  at once; then each record is enriched, cast and appended. Returns 0,
//  or -1 with *REASON and *CODE (zetl_process_batch)
static int
s_process_edited (zetl_process_t *self, const zetl_msg_t *batch, zetl_body_reader_t *reader,
                  const char **reason, uint32_t *code)
{
    const zetl_pipeline_t *pipeline = &self->config->pipelines[batch->pipeline];
    msgpack_zone_clear (&self->batch_zone);
    if (pipeline->enrich_count
        && zetl_enrich_begin (self->enrich, batch->pipeline, batch->luts, batch->lut_count, reason)) {
        *code = ZETL_ERR_LUT_GONE;  //  Not pinned as this pipeline needs: pin it again
        return -1;
    }
    ssize_t count = s_first_pass (self, batch->pipeline, reader, reason);
    if (count < 0)
        return -1;
    zetl_status_t fetched = pipeline->enrich_count ? zetl_enrich_fetch (self->enrich, reason) : ZETL_OK;
    if (fetched != ZETL_OK) {
        *code = fetched == ZETL_RETRY ? ZETL_ERR_RETRY : ZETL_ERR_LUT_GONE;
        return -1;
    }
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->row, msgpack_sbuffer_write);
    for (ssize_t index = 0; index < count; index++) {
        s_item_t *item = &self->items[index];
        if (item->entry.flags & ZETL_ENTRY_PASS_THROUGH) {
            s_append_as_is (self, &item->entry);
            continue;
        }
        zetl_reject_t error;
        if (item->reject) {
            s_append_dead (self, &item->entry, item->reject);
            continue;
        }
        self->row.size = 0;
        zetl_status_t status = ZETL_OK;
        if (pipeline->enrich_count)
            status = zetl_enrich_apply (self->enrich, item->record, &item->fields, &error);
        msgpack_object map = zetl_fields_map (&item->fields);
        if (status == ZETL_OK)
            status = zetl_cast_record (self->casters[batch->pipeline], &map, &packer, &error);
        if (status != ZETL_OK)
            s_append_dead (self, &item->entry, &error);
        else {
            if (pipeline->delete_field && s_is_delete (&item->fields, pipeline->delete_field))
                item->entry.flags |= ZETL_ENTRY_DELETED;
            s_append_row (self, &item->entry);
        }
    }
    if (pipeline->enrich_count)
        zetl_enrich_end (self->enrich);
    return 0;
}

zetl_msg_t *
zetl_process_batch (zetl_process_t *self, const zetl_msg_t *batch, const char **reason,
                    uint32_t *code)
{
    *code = ZETL_ERR_DATA;
    if (batch->pipeline >= self->config->pipeline_count) {
        *reason = "batch names an unknown pipeline";
        return NULL;
    }
    const zetl_pipeline_t *pipeline = &self->config->pipelines[batch->pipeline];
    //  The counted reader is the check of the BATCH body: it is read whole
    //  before any RESULT goes out, so a malformed entry or a count that does
    //  not match fails the batch here, and the worker answers ERROR
    zetl_body_reader_t *reader = zetl_msg_body_reader (batch, reason);
    if (!reader)
        return NULL;
    //  Same source names, same order: the indexes carry over unchanged
    for (uint32_t index = 0; index < zetl_body_reader_sources (reader); index++)
        zetl_body_writer_source (self->writer, zetl_body_reader_source_name (reader, index));
    int rc = pipeline->step_count || pipeline->enrich_count || pipeline->delete_field
                 ? s_process_edited (self, batch, reader, reason, code)
                 : s_process_plain (self, self->casters[batch->pipeline], reader, reason);
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
    result->lut_count = batch->lut_count;
    memcpy (result->luts, batch->luts, sizeof result->luts);
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

void
zetl_process_lookup_counts (const zetl_process_t *self, uint64_t *lookups, uint64_t *hits)
{
    *lookups = *hits = 0;
    if (self->enrich)
        zetl_enrich_counts (self->enrich, lookups, hits);
}

json_t *
zetl_process_lookup_stats (const zetl_process_t *self)
{
    return self->enrich ? zetl_enrich_stats (self->enrich) : NULL;
}
