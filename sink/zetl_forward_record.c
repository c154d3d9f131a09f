/*  zetl_forward_record - an output row as the record another cluster's pipeline reads  */
#include "zetl_forward_record.h"
#include "zetl_time.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

//  The integer in VALUE, or false when it holds none that fits int64
static bool
s_int (const msgpack_object *value, int64_t *number)
{
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT64_MAX)
        *number = (int64_t) value->via.u64;
    else if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *number = value->via.i64;
    else
        return false;
    return true;
}

static void
s_pack_text (msgpack_packer *pk, const char *text, size_t len)
{
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, text, len);
}

//  Pack VALUE of a column of TYPE. Returns 0, or -1 when a timestamp or a
//  date is not an integer (the only values that change form on the way)
static int
s_pack_value (msgpack_packer *pk, zetl_type_t type, const msgpack_object *value)
{
    int64_t number;
    char text[64];
    if (value->type == MSGPACK_OBJECT_NIL ||
        (type != ZETL_TYPE_TIMESTAMP && type != ZETL_TYPE_DATE)) {
        msgpack_pack_object (pk, *value);
        return 0;
    }
    if (!s_int (value, &number))
        return -1;
    if (type == ZETL_TYPE_TIMESTAMP)
        s_pack_text (pk, text, zetl_time_format_iso (number, text, sizeof text));
    else if (number < INT32_MIN || number > INT32_MAX)
        return -1;
    else
        s_pack_text (pk, text, zetl_time_format_date ((int32_t) number, text, sizeof text));
    return 0;
}

int
zetl_forward_record_pack (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry,
                          msgpack_sbuffer *out, const char **reason)
{
    const msgpack_object *row = &entry->payload;
    if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != pipeline->field_count) {
        *reason = "result row does not match the schema's column count";
        return -1;
    }
    bool marker = (entry->flags & ZETL_ENTRY_DELETED) && pipeline->delete_field &&
                  zetl_pipeline_field_index (pipeline, pipeline->delete_field) < 0;
    size_t mark = out->size;
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, pipeline->field_count + (marker ? 1 : 0));
    for (size_t column = 0; column < pipeline->field_count; column++) {
        const zetl_field_t *field = &pipeline->fields[column];
        s_pack_text (&pk, field->name, strlen (field->name));
        if (s_pack_value (&pk, field->type, &row->via.array.ptr[column]) != 0) {
            out->size = mark;
            *reason = "result value does not match its column's type";
            return -1;
        }
    }
    if (marker) {
        s_pack_text (&pk, pipeline->delete_field, strlen (pipeline->delete_field));
        msgpack_pack_true (&pk);
    }
    return 0;
}

void
zetl_forward_records_init (zetl_forward_records_t *self)
{
    assert (self);
    memset (self, 0, sizeof *self);
    msgpack_sbuffer_init (&self->data);
}

void
zetl_forward_records_fini (zetl_forward_records_t *self)
{
    assert (self);
    msgpack_sbuffer_destroy (&self->data);
    free (self->ends);
    zetl_forward_records_init (self);
}

int
zetl_forward_records_add (zetl_forward_records_t *self, const zetl_pipeline_t *pipeline,
                          const zetl_entry_t *entry, const char **reason)
{
    if (zetl_forward_record_pack (pipeline, entry, &self->data, reason) != 0)
        return -1;
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? 2 * self->capacity : 256;
        self->ends = (size_t *) realloc (self->ends, self->capacity * sizeof (size_t));
        assert (self->ends);
    }
    self->ends[self->count++] = self->data.size;
    return 0;
}

const void *
zetl_forward_records_at (const zetl_forward_records_t *self, size_t index, size_t *len)
{
    assert (index < self->count);
    size_t start = index ? self->ends[index - 1] : 0;
    *len = self->ends[index] - start;
    return self->data.data + start;
}
