/*  zetl_cast - a record to the output row of its pipeline's schema  */
#include "zetl_cast.h"
#include "zetl_record.h"

#include <czmq.h>
#include "zetl_record.h"
#include "zetl_time.h"

#include <errno.h>
#include <inttypes.h>

struct zetl_cast {
    const zetl_pipeline_t *pipeline;
    bool *required;                  //  per column: required, a key column, or the event time
    size_t *name_len;                //  per column: bytes in its name
    const msgpack_object **values;   //  per column: the record's value, while casting
    int event_time_column;           //  index of the event time column
};

zetl_cast_t *
zetl_cast_new (const zetl_pipeline_t *pipeline)
{
    zetl_cast_t *self = (zetl_cast_t *) zmalloc (sizeof (zetl_cast_t));
    self->pipeline = pipeline;
    self->required = (bool *) zmalloc (pipeline->field_count * sizeof (bool) + 1);
    self->name_len = (size_t *) zmalloc (pipeline->field_count * sizeof (size_t) + 1);
    self->values =
        (const msgpack_object **) zmalloc (pipeline->field_count * sizeof (msgpack_object *) + 1);
    for (size_t column = 0; column < pipeline->field_count; column++) {
        self->required[column] = pipeline->fields[column].required;
        self->name_len[column] = strlen (pipeline->fields[column].name);
    }
    for (size_t target = 0; target < pipeline->target_count; target++)
        for (size_t key = 0; key < pipeline->targets[target].primary_key_count; key++) {
            int column = zetl_pipeline_field_index (pipeline, pipeline->targets[target].primary_key[key]);
            if (column >= 0)
                self->required[column] = true;
        }
    self->event_time_column = zetl_pipeline_field_index (pipeline, pipeline->event_time.field);
    if (self->event_time_column >= 0)
        self->required[self->event_time_column] = true;
    return self;
}

void
zetl_cast_destroy (zetl_cast_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->required);
        free ((*self_p)->name_len);
        free ((*self_p)->values);
        free (*self_p);
        *self_p = NULL;
    }
}

static zetl_status_t
s_reject (zetl_cast_error_t *error, const char *reason, const zetl_field_t *field, const char *what,
          const char *text, size_t len)
{
    error->reason = reason;
    error->field = field->name;
    if (text)
        snprintf (error->error, sizeof error->error, "%s: \"%.*s\" %s", field->name,
                  (int) (len > 120 ? 120 : len), text, what);
    else
        snprintf (error->error, sizeof error->error, "%s: %s", field->name, what);
    return ZETL_REJECT;
}

//  Strict decimal integer: optional sign, digits, nothing else
static int
s_parse_int (const char *text, size_t len, int64_t *value)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy (buf, text, len);
    buf[len] = 0;
    size_t start = (buf[0] == '-' || buf[0] == '+') ? 1 : 0;
    if (start == len)
        return -1;
    for (size_t at = start; at < len; at++)
        if (buf[at] < '0' || buf[at] > '9')
            return -1;
    errno = 0;
    char *end = NULL;
    long long parsed = strtoll (buf, &end, 10);
    if (errno || *end)
        return -1;
    *value = parsed;
    return 0;
}

//  A decimal PostgreSQL's numeric takes: -?digits[.digits][e[+-]digits]
static bool
s_is_decimal (const char *text, size_t len)
{
    size_t at = 0, digits = 0;
    if (at < len && (text[at] == '-' || text[at] == '+'))
        at++;
    while (at < len && text[at] >= '0' && text[at] <= '9')
        at++, digits++;
    if (at < len && text[at] == '.') {
        at++;
        while (at < len && text[at] >= '0' && text[at] <= '9')
            at++, digits++;
    }
    if (digits == 0)
        return false;
    if (at < len && (text[at] == 'e' || text[at] == 'E')) {
        at++;
        if (at < len && (text[at] == '-' || text[at] == '+'))
            at++;
        size_t exponent = 0;
        while (at < len && text[at] >= '0' && text[at] <= '9')
            at++, exponent++;
        if (exponent == 0)
            return false;
    }
    return at == len && len < 1000;
}

static zetl_status_t
s_cast_timestamp (zetl_cast_t *self, int column, const msgpack_object *value, const char *text,
                  size_t len, int64_t *us)
{
    const zetl_event_time_t *event_time = &self->pipeline->event_time;
    if (column == self->event_time_column && event_time->kind != ZETL_TIME_ISO8601) {
        if (event_time->kind == ZETL_TIME_UNIX_MS)
            return zetl_time_parse_unix_ms (text, len, us) == 0 ? ZETL_OK : ZETL_REJECT;
        return zetl_time_parse_strftime (text, len, event_time->strftime, us) == 0 ? ZETL_OK
                                                                                    : ZETL_REJECT;
    }
    if (value->type != MSGPACK_OBJECT_STR)
        return ZETL_REJECT;
    return zetl_time_parse_iso8601 (text, len, us) == 0 ? ZETL_OK : ZETL_REJECT;
}

static zetl_status_t
s_cast_value (zetl_cast_t *self, int column, const msgpack_object *value, msgpack_packer *packer,
              zetl_cast_error_t *error)
{
    const zetl_field_t *field = &self->pipeline->fields[column];
    char scratch[64];
    const char *text = NULL;
    size_t len = 0;
    if (zetl_record_value_text (value, scratch, sizeof scratch, &text, &len) != 0)
        return s_reject (error, "cast", field, "is not a scalar value", NULL, 0);
    switch (field->type) {
    case ZETL_TYPE_STRING:
        if (memchr (text, 0, len))
            return s_reject (error, "cast", field, "contains a NUL byte", NULL, 0);
        msgpack_pack_str_with_body (packer, text, len);
        return ZETL_OK;
    case ZETL_TYPE_INT: {
        int64_t number;
        if (s_parse_int (text, len, &number) != 0)
            return s_reject (error, "cast", field, "is not an integer", text, len);
        msgpack_pack_int64 (packer, number);
        return ZETL_OK;
    }
    case ZETL_TYPE_NUMBER:
        if (value->type == MSGPACK_OBJECT_BOOLEAN || !s_is_decimal (text, len))
            return s_reject (error, "cast", field, "is not a number", text, len);
        msgpack_pack_ext_with_body (packer, text, len, ZETL_EXT_DECIMAL);
        return ZETL_OK;
    case ZETL_TYPE_BOOL:
        if (value->type == MSGPACK_OBJECT_BOOLEAN)
            msgpack_pack_object (packer, *value);
        else if ((len == 4 && strncasecmp (text, "true", 4) == 0) || (len == 1 && *text == '1')
                 || (len == 1 && (*text == 't' || *text == 'T')))
            msgpack_pack_true (packer);
        else if ((len == 5 && strncasecmp (text, "false", 5) == 0) || (len == 1 && *text == '0')
                 || (len == 1 && (*text == 'f' || *text == 'F')))
            msgpack_pack_false (packer);
        else
            return s_reject (error, "cast", field, "is not a boolean", text, len);
        return ZETL_OK;
    case ZETL_TYPE_TIMESTAMP: {
        int64_t us;
        if (s_cast_timestamp (self, column, value, text, len, &us) != ZETL_OK)
            return s_reject (error, "cast", field, "is not a timestamp", text, len);
        msgpack_pack_int64 (packer, us);
        return ZETL_OK;
    }
    case ZETL_TYPE_DATE: {
        int32_t days;
        if (value->type != MSGPACK_OBJECT_STR || zetl_time_parse_date (text, len, &days) != 0)
            return s_reject (error, "cast", field, "is not a date", text, len);
        msgpack_pack_int32 (packer, days);
        return ZETL_OK;
    }
    }
    return s_reject (error, "cast", field, "has an unknown type", NULL, 0);
}

//  One pass over the record's keys puts each column's value in self->values
//  (the first of repeated keys wins, as zetl_record_get does)
static void
s_find_columns (zetl_cast_t *self, const msgpack_object *record)
{
    size_t count = self->pipeline->field_count;
    memset (self->values, 0, count * sizeof (msgpack_object *));
    const msgpack_object_kv *pairs = record->via.map.ptr;
    for (uint32_t index = 0; index < record->via.map.size; index++) {
        const msgpack_object *key = &pairs[index].key;
        if (key->type != MSGPACK_OBJECT_STR)
            continue;
        for (size_t column = 0; column < count; column++)
            if (self->name_len[column] == key->via.str.size && !self->values[column]
                && memcmp (self->pipeline->fields[column].name, key->via.str.ptr,
                           key->via.str.size)
                       == 0) {
                self->values[column] = &pairs[index].val;
                break;
            }
    }
}

zetl_status_t
zetl_cast_record (zetl_cast_t *self, const msgpack_object *record, msgpack_packer *packer,
                  zetl_cast_error_t *error)
{
    if (record->type != MSGPACK_OBJECT_MAP) {
        error->reason = "malformed";
        error->field = NULL;
        snprintf (error->error, sizeof error->error, "the record is not a map");
        return ZETL_REJECT;
    }
    const zetl_pipeline_t *pipeline = self->pipeline;
    s_find_columns (self, record);
    msgpack_pack_array (packer, pipeline->field_count);
    for (size_t column = 0; column < pipeline->field_count; column++) {
        const msgpack_object *value = self->values[column];
        if (!value || value->type == MSGPACK_OBJECT_NIL) {
            if (self->required[column])
                return s_reject (error, "required", &pipeline->fields[column], "is missing", NULL,
                                 0);
            msgpack_pack_nil (packer);
            continue;
        }
        if (s_cast_value (self, (int) column, value, packer, error) != ZETL_OK)
            return ZETL_REJECT;
    }
    return ZETL_OK;
}
