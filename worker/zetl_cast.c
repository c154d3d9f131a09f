/*  zetl_cast - a record to the output row of its pipeline's schema  */
#include "zetl_cast.h"
#include "zetl_proto_walk.h"
#include "zetl_record.h"
#include "zetl_time.h"

#include <czmq.h>

#include <errno.h>
#include <inttypes.h>

//  Key positions whose column is remembered: records of one source put their
//  keys in the same order, so the column a key matched last time is usually
//  the one it matches now
#define S_HINTS 64

struct zetl_cast {
    const zetl_pipeline_t *pipeline;
    bool *required;                  //  per column: required, a key column, or the event time
    size_t *name_len;                //  per column: bytes in its name
    const msgpack_object **values;   //  per column: the record's value, while casting
    msgpack_object *slots;           //  per column: the value read from packed bytes
    uint8_t hint[S_HINTS];           //  per key position: the column found there last + 1
    int event_time_column;           //  index of the event time column
    zetl_validate_t *validate;       //  the schema's rules
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
    self->slots = (msgpack_object *) zmalloc (pipeline->field_count * sizeof (msgpack_object) + 1);
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
    char *error = NULL;
    self->validate = zetl_validate_new (pipeline, &error);
    if (!self->validate) {
        //  The configuration's check compiled the same patterns
        zsys_error ("zetl_cast: %s", error);
        assert (false);
    }
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
        free ((*self_p)->slots);
        zetl_validate_destroy (&(*self_p)->validate);
        free (*self_p);
        *self_p = NULL;
    }
}

//  Reject the value of FIELD: WHAT is wrong with TEXT (LEN bytes), or with it when NULL
static zetl_status_t
s_reject (zetl_reject_t *error, const char *reason, const zetl_field_t *field, const char *what,
          const char *text, size_t len)
{
    return zetl_reject (error, reason, field->name, what, text, len);
}

//  Strict decimal integer: optional sign, digits, nothing else, fitting
//  int64 (what strtoll accepts of such text, without its copy and locale)
int
zetl_cast_parse_int (const char *text, size_t len, int64_t *value)
{
    if (len == 0 || len >= 32)
        return -1;
    bool negative = text[0] == '-';
    size_t start = (text[0] == '-' || text[0] == '+') ? 1 : 0;
    if (start == len)
        return -1;
    uint64_t limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    uint64_t magnitude = 0;
    for (size_t at = start; at < len; at++) {
        unsigned digit = (unsigned) (text[at] - '0');
        if (digit > 9)
            return -1;
        if (magnitude > (limit - digit) / 10)
            return -1;  //  Out of range
        magnitude = magnitude * 10 + digit;
    }
    *value = negative ? (int64_t) (0 - magnitude) : (int64_t) magnitude;
    return 0;
}

//  A decimal PostgreSQL's numeric takes: -?digits[.digits][e[+-]digits]
int
zetl_cast_parse_bool (const msgpack_object *value, const char *text, size_t len, bool *truth)
{
    if (value->type == MSGPACK_OBJECT_BOOLEAN)
        *truth = value->via.boolean;
    else if ((len == 4 && strncasecmp (text, "true", 4) == 0)
             || (len == 1 && (*text == '1' || *text == 't' || *text == 'T')))
        *truth = true;
    else if ((len == 5 && strncasecmp (text, "false", 5) == 0)
             || (len == 1 && (*text == '0' || *text == 'f' || *text == 'F')))
        *truth = false;
    else
        return -1;
    return 0;
}

bool
zetl_cast_is_decimal (const char *text, size_t len)
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
              zetl_reject_t *error)
{
    const zetl_field_t *field = &self->pipeline->fields[column];
    if (field->type == ZETL_TYPE_INT
        && (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER
            || (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT64_MAX))) {
        //  Already an integer that fits: no text needed
        int64_t number = value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? value->via.i64
                                                                        : (int64_t) value->via.u64;
        if (zetl_validate_has_rules (self->validate, (size_t) column)
            && zetl_validate_int (self->validate, (size_t) column, number, error) != ZETL_OK)
            return ZETL_REJECT;
        msgpack_pack_int64 (packer, number);
        return ZETL_OK;
    }
    char scratch[64];
    const char *text = NULL;
    size_t len = 0;
    if (zetl_record_value_text (value, scratch, sizeof scratch, &text, &len) != 0)
        return s_reject (error, "cast", field, "is not a scalar value", NULL, 0);
    switch (field->type) {
    case ZETL_TYPE_STRING:
        if (memchr (text, 0, len))
            return s_reject (error, "cast", field, "contains a NUL byte", NULL, 0);
        if (zetl_validate_has_rules (self->validate, (size_t) column)
            && zetl_validate_string (self->validate, (size_t) column, text, len, error) != ZETL_OK)
            return ZETL_REJECT;
        msgpack_pack_str_with_body (packer, text, len);
        return ZETL_OK;
    case ZETL_TYPE_INT: {
        int64_t number;
        if (zetl_cast_parse_int (text, len, &number) != 0)
            return s_reject (error, "cast", field, "is not an integer", text, len);
        if (zetl_validate_has_rules (self->validate, (size_t) column)
            && zetl_validate_int (self->validate, (size_t) column, number, error) != ZETL_OK)
            return ZETL_REJECT;
        msgpack_pack_int64 (packer, number);
        return ZETL_OK;
    }
    case ZETL_TYPE_NUMBER:
        if (value->type == MSGPACK_OBJECT_BOOLEAN || !zetl_cast_is_decimal (text, len))
            return s_reject (error, "cast", field, "is not a number", text, len);
        if (zetl_validate_has_rules (self->validate, (size_t) column)
            && zetl_validate_number (self->validate, (size_t) column, text, len, error) != ZETL_OK)
            return ZETL_REJECT;
        msgpack_pack_ext_with_body (packer, text, len, ZETL_EXT_DECIMAL);
        return ZETL_OK;
    case ZETL_TYPE_BOOL:
    {
        bool truth;
        if (zetl_cast_parse_bool (value, text, len, &truth) != 0)
            return s_reject (error, "cast", field, "is not a boolean", text, len);
        if (truth)
            msgpack_pack_true (packer);
        else
            msgpack_pack_false (packer);
        return ZETL_OK;
    }
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

//  Whether column COLUMN is named by the KEY_LEN bytes at KEY. Column names
//  are short: a loop here costs less than a call to memcmp
static inline bool
s_is_column (zetl_cast_t *self, size_t column, const char *key, size_t key_len)
{
    if (self->name_len[column] != key_len)
        return false;
    const char *name = self->pipeline->fields[column].name;
    for (size_t at = 0; at < key_len; at++)
        if (name[at] != key[at])
            return false;
    return true;
}

//  Return the column named by the KEY_LEN bytes at KEY, or -1; try the
//  column the key at POSITION matched last time first
static int
s_column (zetl_cast_t *self, uint32_t position, const char *key, size_t key_len)
{
    if (position < S_HINTS && self->hint[position]) {
        int column = self->hint[position] - 1;
        if (s_is_column (self, (size_t) column, key, key_len))
            return column;
    }
    for (size_t column = 0; column < self->pipeline->field_count; column++)
        if (s_is_column (self, column, key, key_len)) {
            if (position < S_HINTS && column < UINT8_MAX)
                self->hint[position] = (uint8_t) (column + 1);
            return (int) column;
        }
    return -1;
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
        int column = s_column (self, index, key->via.str.ptr, key->via.str.size);
        if (column >= 0 && !self->values[column])
            self->values[column] = &pairs[index].val;
    }
}

//  The same for a packed record at CUR whose map head ITEM was just read:
//  scalar values are read into self->slots, containers only checked and
//  skipped (a column's value must be a scalar, so their elements never
//  matter). Returns NULL, or why the bytes are not well-formed.
static const char *
s_find_columns_packed (zetl_cast_t *self, zetl_walk_cursor_t *cur, const zetl_walk_item_t *map)
{
    size_t count = self->pipeline->field_count;
    memset (self->values, 0, count * sizeof (msgpack_object *));
    size_t budget = ZETL_WALK_MAX_OBJECTS;
    if (map->u64 * 2 > zetl_walk_left (cur) || map->u64 * 2 > budget)
        return "the record map is longer than its bytes or the object limit";
    budget -= map->u64 * 2;
    for (uint64_t index = 0; index < map->u64; index++) {
        zetl_walk_item_t key, value;
        const char *reason = zetl_walk_item (cur, &key);
        if (!reason && (key.type == MSGPACK_OBJECT_ARRAY || key.type == MSGPACK_OBJECT_MAP))
            reason = zetl_walk_skip_elements (cur, &key, 1, &budget);
        if (!reason)
            reason = zetl_walk_item (cur, &value);
        if (!reason && (value.type == MSGPACK_OBJECT_ARRAY || value.type == MSGPACK_OBJECT_MAP))
            reason = zetl_walk_skip_elements (cur, &value, 1, &budget);
        if (reason)
            return reason;
        if (key.type != MSGPACK_OBJECT_STR)
            continue;
        int column = s_column (self, (uint32_t) index, (const char *) key.data, key.size);
        if (column >= 0 && !self->values[column]) {
            zetl_walk_item_object (&value, &self->slots[column]);
            self->values[column] = &self->slots[column];
        }
    }
    return NULL;
}

static zetl_status_t
s_reject_malformed (zetl_reject_t *error, const char *what)
{
    error->reason = "malformed";
    error->field = NULL;
    snprintf (error->error, sizeof error->error, "%s", what);
    return ZETL_REJECT;
}

//  Pack the row of the values s_find_columns found
static zetl_status_t
s_pack_row (zetl_cast_t *self, msgpack_packer *packer, zetl_reject_t *error)
{
    const zetl_pipeline_t *pipeline = self->pipeline;
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

zetl_status_t
zetl_cast_record (zetl_cast_t *self, const msgpack_object *record, msgpack_packer *packer,
                  zetl_reject_t *error)
{
    if (record->type != MSGPACK_OBJECT_MAP)
        return s_reject_malformed (error, "the record is not a map");
    s_find_columns (self, record);
    return s_pack_row (self, packer, error);
}

zetl_status_t
zetl_cast_packed (zetl_cast_t *self, const uint8_t *data, size_t size, msgpack_packer *packer,
                  zetl_reject_t *error)
{
    zetl_walk_cursor_t cur = {data, data + size};
    zetl_walk_item_t map;
    if (zetl_walk_item (&cur, &map) != NULL)
        return s_reject_malformed (error, "the record is not well-formed msgpack");
    if (map.type != MSGPACK_OBJECT_MAP)
        return s_reject_malformed (error, "the record is not a map");
    if (s_find_columns_packed (self, &cur, &map) != NULL || zetl_walk_left (&cur) != 0)
        return s_reject_malformed (error, "the record is not well-formed msgpack");
    return s_pack_row (self, packer, error);
}
