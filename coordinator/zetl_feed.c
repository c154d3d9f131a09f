/*  zetl_feed - what every source actor of a pipeline shares: its feed to the dispatcher  */
#include "zetl_feed.h"
#include "zetl_pg.h"
#include "zetl_record.h"

#include <inttypes.h>

void
zetl_feed_init (zetl_feed_t *self, zsock_t *pipe, const zetl_config_t *config, size_t index,
                  uint32_t flags)
{
    memset (self, 0, sizeof *self);
    self->pipe = pipe;
    self->pipeline_index = index;
    self->pipeline = &config->pipelines[index];
    self->flags = flags;
    self->credit = ZETL_FEED_CREDIT;
    zetl_extract_names (self->pipeline, self->names);
    self->jsonl = zetl_jsonl_new (self->names, ZETL_EXTRACT_COUNT);
    const zetl_limits_t *limits = &config->limits;
    zetl_jsonl_set_limits (self->jsonl, (size_t) limits->max_record, limits->max_fields,
                           (size_t) limits->max_string);
    msgpack_zone_init (&self->zone, 8192);
    self->poller = zpoller_new (pipe, NULL);
    //  The dispatcher ends us (STOP, $TERM), signal or not: a source that
    //  ended on its own would leave the dispatcher's next command blocked
    zpoller_set_nonstop (self->poller, true);
}

//  Forget the current source's committed positions
static void
s_forget_committed (zetl_feed_t *self)
{
    for (uint32_t partition = 0; partition < ZETL_FEED_MAX_PARTITIONS; partition++)
        zetl_ranges_destroy (&self->above[partition]);
}

void
zetl_feed_fini (zetl_feed_t *self)
{
    s_forget_committed (self);
    zetl_chunk_destroy (&self->chunk);
    zetl_jsonl_destroy (&self->jsonl);
    msgpack_zone_destroy (&self->zone);
    zpoller_destroy (&self->poller);
}

void
zetl_feed_begin (zetl_feed_t *self, const char *name, zhashx_t *committed)
{
    zetl_feed_send_chunk (self);
    zetl_chunk_destroy (&self->chunk);
    self->name = name;
    self->chunk = zetl_chunk_new (self->pipeline_index, name);
    s_forget_committed (self);
    for (uint32_t partition = 0; partition < self->pipeline->partitions; partition++) {
        char key[4096];
        snprintf (key, sizeof key, "%s\x1f%u", name, partition);
        zetl_pg_position_t *position =
            committed ? (zetl_pg_position_t *) zhashx_lookup (committed, key) : NULL;
        self->committed[partition] = position ? position->position : -1;
        self->sent[partition] = -1;
        if (position && position->above)
            self->above[partition] = zetl_ranges_new (position->position, position->above);
    }
}

void
zetl_feed_take_command (zetl_feed_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command && zsys_interrupted)
        return;  //  A signal broke the wait: the dispatcher's command is still to come
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "MORE"))
        self->credit++;
    else if (streq (command, "STOP"))
        self->terminated = self->stop_requested = true;
    free (command);
}

void
zetl_feed_idle (zetl_feed_t *self, int64_t ms)
{
    int64_t until = zclock_mono () + ms;
    while (!self->terminated) {
        int64_t left = until - zclock_mono ();
        if (left <= 0)
            break;
        if (zpoller_wait (self->poller, (int) left))
            zetl_feed_take_command (self);
        else if (zpoller_terminated (self->poller) && !zsys_interrupted)
            self->terminated = true;  //  The context is going: no command will come
    }
}

void
zetl_feed_poll_pipe (zetl_feed_t *self)
{
    while (!self->terminated && (zsock_events (self->pipe) & ZMQ_POLLIN))
        zetl_feed_take_command (self);
}

void
zetl_feed_send_chunk (zetl_feed_t *self)
{
    if (!self->chunk || self->chunk->count == 0)
        return;
    while (self->credit == 0 && !self->terminated)
        zetl_feed_take_command (self);
    if (self->terminated)
        return;
    self->credit--;
    //  The next chunk will most likely fill as this one did: size it so at
    //  once (with a little headroom) rather than doubling it a dozen times
    size_t records = self->chunk->count, bytes = self->chunk->data.size;
    zsock_send (self->pipe, "sp", "CHUNK", self->chunk);
    self->chunk = zetl_chunk_new (self->pipeline_index, self->name);
    zetl_chunk_reserve (self->chunk, records < ZETL_CHUNK_RECORDS ? records + records / 8 : records,
                        bytes + bytes / 8);
}

bool
zetl_feed_committed (const zetl_feed_t *self, uint32_t partition, uint64_t position)
{
    return (int64_t) position <= self->committed[partition]
           || (self->above[partition] && zetl_ranges_has (self->above[partition], position));
}

void
zetl_feed_bad_row (zetl_feed_t *self, uint32_t partition, uint64_t position,
                     const char *reason, const char *field, const char *error, const char *raw,
                     size_t raw_len)
{
    self->bad_rows++;
    if (zetl_log_every (&self->bad_log, 10000))
        zetl_log_warn ("source", "record_rejected",
                       json_pack ("{s:s, s:s, s:I, s:s, s:s?, s:s, s:I}", "pipeline",
                                  self->pipeline->id, "source", self->name, "position",
                                  (json_int_t) position, "reason", reason, "field", field,
                                  "error", error, "seen", (json_int_t) self->bad_log.seen));
    zetl_extract_dead_letter (self->chunk, partition, position, "source", reason, field, error, raw,
                              raw_len);
    self->chunk->records[self->chunk->count - 1].flags |= self->flags;
    self->sent[partition] = (int64_t) position;
}

//  The deduplication key: the id and the 128-bit hash of the record's
//  canonical form, read from the bytes the converter just packed (still in
//  the cache), without unpacking them
static void
s_key_record (zetl_feed_t *self, zetl_chunk_record_t *record, const zetl_field_value_t *id)
{
    uint8_t hash[16];
    //  Never fails on what the converter packed; it would leave the hash zero
    zetl_record_hash_packed (self->chunk->data.data + record->offset, record->len, hash);
    zetl_dedup_key (&record->key, id->present ? id->ptr : NULL, id->present ? id->len : 0, hash,
                    record->event_us);
}

void
zetl_feed_add_extracted (zetl_feed_t *self, uint64_t position, size_t offset,
                         const zetl_field_value_t *values, uint32_t partition, int64_t event_us)
{
    if (zetl_feed_committed (self, partition, position)) {
        self->chunk->data.size = offset;
        self->skipped++;
        return;
    }
    self->records++;
    zetl_chunk_record_t *record =
        zetl_chunk_add (self->chunk, partition, self->flags, position, event_us, offset);
    self->sent[partition] = (int64_t) position;
    s_key_record (self, record, &values[ZETL_EXTRACT_ID]);
}

void
zetl_feed_add_record (zetl_feed_t *self, uint64_t position, size_t offset,
                        const zetl_field_value_t *values, const char *raw, size_t raw_len)
{
    uint32_t partition;
    int64_t event_us;
    const char *reason = NULL, *field = NULL;
    if (zetl_extract_record (self->pipeline, values, &partition, &event_us, &reason, &field) == 0) {
        zetl_feed_add_extracted (self, position, offset, values, partition, event_us);
        return;
    }
    if (zetl_feed_committed (self, partition, position)) {
        self->chunk->data.size = offset;
        self->skipped++;
        return;
    }
    self->records++;
    self->chunk->data.size = offset;
    char error[160];
    snprintf (error, sizeof error, "%s: %s", field, streq (reason, "missing_field")
                                                        ? "the field is missing"
                                                        : "the event time does not parse");
    zetl_feed_bad_row (self, partition, position, reason, field, error, raw, raw_len);
}

void
zetl_feed_jsonl_row (zetl_feed_t *self, const char *row, size_t len, uint64_t position)
{
    if (len == 0 || (len == 1 && row[0] == '\r'))
        return;  //  Blank lines hold no record
    zetl_field_value_t values[ZETL_EXTRACT_COUNT];
    const char *reason = NULL;
    size_t offset = self->chunk->data.size;
    int rc = zetl_jsonl_convert (self->jsonl, row, len, &self->chunk->data, values, &reason);
    if (rc == 0)
        zetl_feed_add_record (self, position, offset, values, row, len);
    else if (!zetl_feed_committed (self, 0, position)) {
        self->records++;
        zetl_feed_bad_row (self, 0, position, rc == -2 ? "over_limit" : "malformed", NULL, reason,
                           row, len);
    }
    else
        self->skipped++;
    if (zetl_chunk_full (self->chunk))
        zetl_feed_send_chunk (self);
}

//  The text of VALUE as a converter would give it, into VALUES[INDEX];
//  numbers are printed into BUFFER (room for 32 bytes)
static void
s_map_value (const msgpack_object *value, zetl_field_value_t *out, char *buffer)
{
    memset (out, 0, sizeof *out);
    out->present = true;
    int len = -1;
    switch (value->type) {
    case MSGPACK_OBJECT_STR:
        out->ptr = value->via.str.ptr;
        out->len = value->via.str.size;
        out->is_string = true;
        return;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        len = snprintf (buffer, 32, "%" PRIu64, value->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        len = snprintf (buffer, 32, "%" PRId64, value->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        len = snprintf (buffer, 32, "%.17g", value->via.f64);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        len = snprintf (buffer, 32, "%s", value->via.boolean ? "true" : "false");
        break;
    default:
        out->present = false;  //  nil, or a container: not a key or a time
        return;
    }
    out->ptr = buffer;
    out->len = (size_t) len;
}

void
zetl_feed_map_row (zetl_feed_t *self, const void *packed, size_t len, uint64_t position)
{
    msgpack_object object;
    size_t offset = 0;
    msgpack_zone_clear (&self->zone);
    bool map = msgpack_unpack ((const char *) packed, len, &offset, &self->zone, &object)
                   == MSGPACK_UNPACK_SUCCESS
               && object.type == MSGPACK_OBJECT_MAP;
    if (!map) {
        if (zetl_feed_committed (self, 0, position))
            self->skipped++;
        else {
            self->records++;
            zetl_feed_bad_row (self, 0, position, "malformed", NULL, "the record is not a map",
                               "", 0);
        }
        return;
    }
    zetl_field_value_t values[ZETL_EXTRACT_COUNT];
    char numbers[ZETL_EXTRACT_COUNT][32];
    for (int index = 0; index < ZETL_EXTRACT_COUNT; index++) {
        const msgpack_object *value =
            self->names[index] ? zetl_record_get (&object, self->names[index]) : NULL;
        if (value)
            s_map_value (value, &values[index], numbers[index]);
        else
            memset (&values[index], 0, sizeof values[index]);
    }
    //  The raw text of a dead letter, the record as JSON, only for one
    uint32_t partition;
    int64_t event_us;
    const char *reason = NULL, *field = NULL;
    msgpack_sbuffer json;
    msgpack_sbuffer_init (&json);
    if (zetl_extract_record (self->pipeline, values, &partition, &event_us, &reason, &field) != 0)
        zetl_record_to_json (&object, &json);
    size_t at = self->chunk->data.size;
    msgpack_sbuffer_write (&self->chunk->data, (const char *) packed, len);
    zetl_feed_add_record (self, position, at, values, json.data ? json.data : "", json.size);
    msgpack_sbuffer_destroy (&json);
}

void
zetl_feed_caught_up (zetl_feed_t *self)
{
    zetl_feed_send_chunk (self);
    if (!self->terminated)
        zstr_send (self->pipe, "CAUGHT_UP");
}

void
zetl_feed_finish (zetl_feed_t *self)
{
    zetl_feed_send_chunk (self);
    if (!self->terminated) {
        zsock_send (self->pipe, "s8", "EOF", self->records);
        while (!self->terminated)
            zetl_feed_take_command (self);
    }
    if (self->stop_requested) {
        //  Nothing more will be sent: the dispatcher may now destroy us
        zstr_send (self->pipe, "STOPPED");
        char *command = NULL;
        while (!(command = zstr_recv (self->pipe)) ? zsys_interrupted : !streq (command, "$TERM"))
            zstr_free (&command);  //  A signal, or a command too late to matter
        zstr_free (&command);
    }
}
