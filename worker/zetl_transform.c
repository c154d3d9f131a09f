/*  zetl_transform - a pipeline's transform steps, applied to one record  */
#include "zetl_transform.h"
#include "zetl_cast.h"
#include "zetl_expr.h"
#include "zetl_proto_walk.h"
#include "zetl_record.h"
#include "zetl_text.h"
#include "zetl_time.h"

#include <czmq.h>

//  A compute step's expressions, one per pair, with their fields' values
typedef struct {
    zetl_expr_t **exprs;
    const msgpack_object **values;  //  room for the most fields an expression reads
} s_compute_t;

struct zetl_transform {
    const zetl_pipeline_t *pipeline;
    s_compute_t *computes;  //  per step: its expressions (compute steps only)
    msgpack_sbuffer packed; //  an expression's result, packed
    msgpack_packer packer;
};

zetl_transform_t *
zetl_transform_new (const zetl_pipeline_t *pipeline, char **error)
{
    zetl_transform_t *self = (zetl_transform_t *) zmalloc (sizeof (zetl_transform_t));
    self->pipeline = pipeline;
    self->computes = (s_compute_t *) zmalloc (pipeline->step_count * sizeof (s_compute_t) + 1);
    msgpack_sbuffer_init (&self->packed);
    msgpack_packer_init (&self->packer, &self->packed, msgpack_sbuffer_write);
    for (size_t index = 0; index < pipeline->step_count; index++) {
        const zetl_step_t *step = &pipeline->steps[index];
        if (step->kind != ZETL_STEP_COMPUTE)
            continue;
        s_compute_t *compute = &self->computes[index];
        compute->exprs = (zetl_expr_t **) zmalloc (step->count * sizeof (zetl_expr_t *));
        size_t most = 1;
        for (size_t pair = 0; pair < step->count; pair++) {
            compute->exprs[pair] = zetl_expr_parse (step->args[2 * pair + 1], error);
            if (!compute->exprs[pair]) {
                zetl_transform_destroy (&self);
                return NULL;
            }
            size_t fields = zetl_expr_field_count (compute->exprs[pair]);
            most = fields > most ? fields : most;
        }
        compute->values = (const msgpack_object **) zmalloc (most * sizeof (msgpack_object *));
    }
    return self;
}

void
zetl_transform_destroy (zetl_transform_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_transform_t *self = *self_p;
        for (size_t index = 0; index < self->pipeline->step_count; index++) {
            s_compute_t *compute = &self->computes[index];
            for (size_t pair = 0; compute->exprs && pair < self->pipeline->steps[index].count;
                 pair++)
                zetl_expr_destroy (&compute->exprs[pair]);
            free (compute->exprs);
            free (compute->values);
        }
        free (self->computes);
        msgpack_sbuffer_destroy (&self->packed);
        free (self);
        *self_p = NULL;
    }
}

//  trim, lower, upper: string values only
static void
s_text_step (zetl_fields_t *fields, zetl_step_kind_t kind, const char *name)
{
    msgpack_object *value = zetl_fields_get (fields, name, strlen (name));
    if (!value || value->type != MSGPACK_OBJECT_STR)
        return;
    const char *text = value->via.str.ptr;
    size_t len = value->via.str.size;
    if (kind == ZETL_STEP_TRIM) {
        zetl_text_trim (&text, &len);
        value->via.str.ptr = text;  //  A part of the same bytes
        value->via.str.size = (uint32_t) len;
        return;
    }
    char *out = (char *) msgpack_zone_malloc (fields->zone, 2 * len + 1);
    assert (out);
    value->via.str.size = (uint32_t) zetl_text_case (text, len, kind == ZETL_STEP_UPPER, out);
    value->via.str.ptr = out;
}

static bool
s_is_blank (const msgpack_object *value)
{
    return !value || value->type == MSGPACK_OBJECT_NIL
           || (value->type == MSGPACK_OBJECT_STR && value->via.str.size == 0);
}

//  utm: trimmed, lowercased, unknown_<role> when missing or empty
static void
s_utm (zetl_fields_t *fields, const char *role, const char *name)
{
    msgpack_object *value = zetl_fields_get (fields, name, strlen (name));
    if (value && value->type != MSGPACK_OBJECT_STR && value->type != MSGPACK_OBJECT_NIL) {
        char scratch[64];
        const char *text;
        size_t len;
        if (zetl_record_value_text (value, scratch, sizeof scratch, &text, &len) == 0)
            zetl_fields_set (fields, name, zetl_fields_string (fields, text, len));
        value = zetl_fields_get (fields, name, strlen (name));
    }
    s_text_step (fields, ZETL_STEP_TRIM, name);
    s_text_step (fields, ZETL_STEP_LOWER, name);
    if (s_is_blank (value)) {
        char fallback[32];
        int len = snprintf (fallback, sizeof fallback, "unknown_%s", role);
        zetl_fields_set (fields, name, zetl_fields_string (fields, fallback, (size_t) len));
    }
}

//  VALUE as TYPE (a name from the cast step) into *OUT. Returns NULL, or what is wrong
static const char *
s_convert (zetl_fields_t *fields, const msgpack_object *value, const char *type,
           msgpack_object *out)
{
    char scratch[64], formatted[48];
    const char *text;
    size_t len;
    if (zetl_record_value_text (value, scratch, sizeof scratch, &text, &len) != 0)
        return "is not a scalar value";
    int64_t number;
    if (!strcmp (type, "string"))
        *out = zetl_fields_string (fields, text, len);
    else if (!strcmp (type, "int")) {
        if (zetl_cast_parse_int (text, len, &number) != 0)
            return "is not an integer";
        out->type = number < 0 ? MSGPACK_OBJECT_NEGATIVE_INTEGER : MSGPACK_OBJECT_POSITIVE_INTEGER;
        out->via.i64 = number;
    }
    else if (!strcmp (type, "number")) {
        if (value->type == MSGPACK_OBJECT_BOOLEAN || !zetl_cast_is_decimal (text, len))
            return "is not a number";
        msgpack_object copy = zetl_fields_string (fields, text, len);
        out->type = MSGPACK_OBJECT_EXT;
        out->via.ext.type = ZETL_EXT_DECIMAL;
        out->via.ext.ptr = copy.via.str.ptr;
        out->via.ext.size = copy.via.str.size;
    }
    else if (!strcmp (type, "bool")) {
        bool truth;
        if (zetl_cast_parse_bool (value, text, len, &truth) != 0)
            return "is not a boolean";
        out->type = MSGPACK_OBJECT_BOOLEAN;
        out->via.boolean = truth;
    }
    else {
        int64_t us;
        int32_t days;
        bool date = !strcmp (type, "date");
        if (value->type != MSGPACK_OBJECT_STR)
            return date ? "is not a date" : "is not a timestamp";
        if (date && zetl_time_parse_date (text, len, &days) == 0)
            len = zetl_time_format_date (days, formatted, sizeof formatted);
        else if (zetl_time_parse_iso8601 (text, len, &us) == 0)
            len = date ? zetl_time_format_date (zetl_time_days (us), formatted, sizeof formatted)
                       : zetl_time_format_iso (us, formatted, sizeof formatted);
        else
            return date ? "is not a date" : "is not an ISO 8601 timestamp";
        *out = zetl_fields_string (fields, formatted, len);
    }
    return NULL;
}

//  cast and utc: NAME's value converted to TYPE, unless it is missing or null
static zetl_status_t
s_convert_step (zetl_fields_t *fields, const char *name, const char *type, const char *reason,
                zetl_reject_t *reject)
{
    msgpack_object *value = zetl_fields_get (fields, name, strlen (name));
    if (!value || value->type == MSGPACK_OBJECT_NIL)
        return ZETL_OK;
    msgpack_object converted;
    const char *what = s_convert (fields, value, type, &converted);
    if (what) {
        char scratch[64];
        const char *text = NULL;
        size_t len = 0;
        zetl_record_value_text (value, scratch, sizeof scratch, &text, &len);
        return zetl_reject (reject, reason, name, what, text, len);
    }
    *value = converted;
    return ZETL_OK;
}

//  compute: NAME = EXPR over the record's fields
static zetl_status_t
s_compute (zetl_transform_t *self, s_compute_t *compute, zetl_expr_t *expr, zetl_fields_t *fields,
           const char *name, zetl_reject_t *reject)
{
    for (size_t index = 0; index < zetl_expr_field_count (expr); index++) {
        const char *field = zetl_expr_field_name (expr, index);
        compute->values[index] = zetl_fields_get (fields, field, strlen (field));
    }
    self->packed.size = 0;
    char error[200];
    if (zetl_expr_eval (expr, compute->values, &self->packer, error, sizeof error) != 0)
        return zetl_reject (reject, "compute", name, error, NULL, 0);
    //  The result's bytes move to the zone, and its object is read from there
    uint8_t *bytes = (uint8_t *) msgpack_zone_malloc (fields->zone, self->packed.size);
    assert (bytes);
    memcpy (bytes, self->packed.data, self->packed.size);
    zetl_walk_cursor_t cur = {bytes, bytes + self->packed.size};
    size_t budget = ZETL_WALK_MAX_OBJECTS;
    msgpack_object result;
    if (zetl_walk_object (&cur, fields->zone, &result, 0, &budget) != NULL)
        return zetl_reject (reject, "compute", name, "gave a value that cannot be read", NULL, 0);
    zetl_fields_set (fields, name, result);
    return ZETL_OK;
}

//  Whether steps of KIND give a list of names (else name: value pairs)
static bool
s_is_list (zetl_step_kind_t kind)
{
    return kind == ZETL_STEP_TRIM || kind == ZETL_STEP_LOWER || kind == ZETL_STEP_UPPER
           || kind == ZETL_STEP_DROP || kind == ZETL_STEP_UTC;
}

//  Step INDEX, on every name or pair it gives
static zetl_status_t
s_step (zetl_transform_t *self, size_t index, zetl_fields_t *fields, zetl_reject_t *reject)
{
    const zetl_step_t *step = &self->pipeline->steps[index];
    bool list = s_is_list (step->kind);
    for (size_t at = 0; at < step->count; at++) {
        const char *name = step->args[list ? at : 2 * at];
        const char *value = list ? NULL : step->args[2 * at + 1];
        zetl_status_t status = ZETL_OK;
        switch (step->kind) {
        case ZETL_STEP_TRIM:
        case ZETL_STEP_LOWER:
        case ZETL_STEP_UPPER:
            s_text_step (fields, step->kind, name);
            break;
        case ZETL_STEP_DEFAULT:
            if (s_is_blank (zetl_fields_get (fields, name, strlen (name))))
                zetl_fields_set (fields, name, zetl_fields_string (fields, value, strlen (value)));
            break;
        case ZETL_STEP_RENAME:
            zetl_fields_rename (fields, name, value);
            break;
        case ZETL_STEP_DROP:
            zetl_fields_remove (fields, name);
            break;
        case ZETL_STEP_CAST:
            status = s_convert_step (fields, name, value, "cast", reject);
            break;
        case ZETL_STEP_UTC:
            status = s_convert_step (fields, name, "timestamp", "utc", reject);
            break;
        case ZETL_STEP_COMPUTE:
            status = s_compute (self, &self->computes[index], self->computes[index].exprs[at],
                                fields, name, reject);
            break;
        case ZETL_STEP_UTM:
            //  The pair is role: field
            s_utm (fields, name, value);
            break;
        case ZETL_STEP_KINDS:
            assert (false);
        }
        if (status != ZETL_OK)
            return status;
    }
    return ZETL_OK;
}

zetl_status_t
zetl_transform_apply (zetl_transform_t *self, zetl_fields_t *fields, zetl_reject_t *reject)
{
    for (size_t index = 0; index < self->pipeline->step_count; index++)
        if (s_step (self, index, fields, reject) != ZETL_OK)
            return ZETL_REJECT;
    return ZETL_OK;
}
