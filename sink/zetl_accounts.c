/*  zetl_accounts - the statements of a sink commit on zetl_dead_letters and zetl_stats  */
#include "zetl_accounts.h"
#include "zetl_record.h"
#include "zetl_time.h"

#include <czmq.h>
#include <inttypes.h>

//  What one dead letter says
typedef struct {
    const char *stage;   //  where it was refused
    const char *reason;  //  why, a stable word
    const char *field;   //  the field at fault, or NULL
    const char *error;   //  what was wrong, or NULL
    const char *raw;     //  the record, or NULL
} s_dead_t;

static PGresult *
s_dead_letter (PGconn *conn, const char *pipeline, const char *target, const char *source,
               uint32_t partition, uint64_t position, uint32_t attempts, const s_dead_t *dead)
{
    char partition_text[16], position_text[24], attempts_text[16];
    snprintf (partition_text, sizeof partition_text, "%u", partition);
    snprintf (position_text, sizeof position_text, "%" PRIu64, position);
    snprintf (attempts_text, sizeof attempts_text, "%u", attempts ? attempts : 1);
    const char *values[11] = {pipeline,       target,        dead->stage,  dead->reason,
                              dead->field,    dead->error,   dead->raw,    source,
                              partition_text, position_text, attempts_text};
    return PQexecParams (
        conn,
        "INSERT INTO zetl_dead_letters (pipeline, target, stage, reason, field, error, raw,"
        " source, partition, position, attempts)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        " ON CONFLICT (pipeline, target, source, partition, position) DO UPDATE SET"
        " attempts = zetl_dead_letters.attempts + 1, last_seen = now(),"
        " reason = EXCLUDED.reason, field = EXCLUDED.field, error = EXCLUDED.error",
        11, NULL, values, NULL, NULL, 0);
}

//  Text of key NAME in dead-letter MAP, as a NUL-terminated copy or NULL
static char *
s_dead_field (const msgpack_object *map, const char *name)
{
    const msgpack_object *value = zetl_record_get (map, name);
    if (!value || value->type != MSGPACK_OBJECT_STR)
        return NULL;
    return strndup (value->via.str.ptr, value->via.str.size);
}

PGresult *
zetl_accounts_dead_letter (PGconn *conn, const char *pipeline, const char *target,
                           const char *source, uint32_t partition, const zetl_entry_t *entry,
                           uint32_t attempts)
{
    char *stage = s_dead_field (&entry->payload, "stage");
    char *reason = s_dead_field (&entry->payload, "reason");
    char *field = s_dead_field (&entry->payload, "field");
    char *error = s_dead_field (&entry->payload, "error");
    char *raw = s_dead_field (&entry->payload, "raw");
    s_dead_t dead = {stage ? stage : "unknown", reason ? reason : "unknown", field, error, raw};
    PGresult *res =
        s_dead_letter (conn, pipeline, target, source, partition, entry->position, attempts, &dead);
    free (stage);
    free (reason);
    free (field);
    free (error);
    free (raw);
    return res;
}

//  The JSON text of output ROW (an array in schema order) as the record it
//  came from: an object of the schema's fields, timestamps and dates as
//  ISO 8601 text, so that zetlctl reprocess can send it through again
static void
s_row_json (const zetl_pipeline_t *pipeline, const msgpack_object *row, msgpack_sbuffer *out)
{
    size_t count = row->type == MSGPACK_OBJECT_ARRAY ? row->via.array.size : 0;
    if (count > pipeline->field_count)
        count = pipeline->field_count;
    msgpack_object_kv *pairs =
        (msgpack_object_kv *) zmalloc ((count + 1) * sizeof (msgpack_object_kv));
    char (*texts)[40] = (char (*)[40]) zmalloc ((count + 1) * 40);
    for (size_t index = 0; index < count; index++) {
        const char *name = pipeline->fields[index].name;
        msgpack_object value = row->via.array.ptr[index];
        zetl_type_t type = pipeline->fields[index].type;
        bool integer = value.type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                       value.type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
        if (integer && (type == ZETL_TYPE_TIMESTAMP || type == ZETL_TYPE_DATE)) {
            int64_t number = value.type == MSGPACK_OBJECT_NEGATIVE_INTEGER
                                 ? value.via.i64
                                 : (int64_t) value.via.u64;
            size_t len = type == ZETL_TYPE_TIMESTAMP
                             ? zetl_time_format_iso (number, texts[index], 40)
                             : zetl_time_format_date ((int32_t) number, texts[index], 40);
            value.type = MSGPACK_OBJECT_STR;
            value.via.str.ptr = texts[index];
            value.via.str.size = (uint32_t) len;
        }
        pairs[index].key.type = MSGPACK_OBJECT_STR;
        pairs[index].key.via.str.ptr = name;
        pairs[index].key.via.str.size = (uint32_t) strlen (name);
        pairs[index].val = value;
    }
    msgpack_object map;
    map.type = MSGPACK_OBJECT_MAP;
    map.via.map.size = (uint32_t) count;
    map.via.map.ptr = pairs;
    zetl_record_to_json (&map, out);
    free (texts);
    free (pairs);
}

PGresult *
zetl_accounts_dead_letter_row (PGconn *conn, const zetl_pipeline_t *pipeline, const char *target,
                               const char *source, uint32_t partition, const zetl_entry_t *entry,
                               uint32_t attempts, const char *reason, const char *field,
                               const char *error)
{
    msgpack_sbuffer json;
    msgpack_sbuffer_init (&json);
    s_row_json (pipeline, &entry->payload, &json);
    msgpack_sbuffer_write (&json, "", 1);
    s_dead_t dead = {"sink", reason, field, error, json.data};
    PGresult *res = s_dead_letter (conn, pipeline->id, target, source, partition, entry->position,
                                   attempts, &dead);
    msgpack_sbuffer_destroy (&json);
    return res;
}

PGresult *
zetl_accounts_add_stats (PGconn *conn, const char *pipeline, const char *target, const char *writer,
                         int64_t changed, int64_t unchanged, int64_t dead, int64_t deduplicated)
{
    char numbers[4][24];
    snprintf (numbers[0], 24, "%" PRId64, changed);
    snprintf (numbers[1], 24, "%" PRId64, unchanged);
    snprintf (numbers[2], 24, "%" PRId64, dead);
    snprintf (numbers[3], 24, "%" PRId64, deduplicated);
    const char *values[7] = {pipeline,   target,     writer,    numbers[0],
                             numbers[1], numbers[2], numbers[3]};
    return PQexecParams (
        conn,
        "INSERT INTO zetl_stats AS s (pipeline, target, writer, changed, unchanged,"
        " dead_lettered, deduplicated) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (pipeline, target, writer) DO UPDATE SET"
        " changed = s.changed + EXCLUDED.changed, unchanged = s.unchanged + EXCLUDED.unchanged,"
        " dead_lettered = s.dead_lettered + EXCLUDED.dead_lettered,"
        " deduplicated = s.deduplicated + EXCLUDED.deduplicated",
        7, NULL, values, NULL, NULL, 0);
}
