/*  zetl_validate - the rules of a pipeline's schema, checked on cast values  */
#include "zetl_validate.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <czmq.h>
#include <pcre2.h>

#include <math.h>

//  The compiled rules of one column
typedef struct {
    bool any;                     //  the column has a rule
    pcre2_code *regex;            //  regex, or NULL
    pcre2_match_data *match;      //  its match data
    size_t *enum_len;             //  bytes of each enum value
} s_column_t;

struct zetl_validate {
    const zetl_pipeline_t *pipeline;
    s_column_t *columns;
};

static pcre2_code *
s_compile (const char *pattern, char **error)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_code *regex = pcre2_compile ((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                       &code, &offset, NULL);
    if (!regex) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message (code, message, sizeof message);
        *error = zsys_sprintf ("regex \"%s\": %s at character %zu", pattern, (char *) message,
                               (size_t) offset + 1);
        return NULL;
    }
    pcre2_jit_compile (regex, PCRE2_JIT_COMPLETE);  //  Where there is no JIT, matching interprets
    return regex;
}

zetl_validate_t *
zetl_validate_new (const zetl_pipeline_t *pipeline, char **error)
{
    zetl_validate_t *self = (zetl_validate_t *) zmalloc (sizeof (zetl_validate_t));
    self->pipeline = pipeline;
    self->columns = (s_column_t *) zmalloc (pipeline->field_count * sizeof (s_column_t) + 1);
    for (size_t column = 0; column < pipeline->field_count; column++) {
        const zetl_field_t *field = &pipeline->fields[column];
        s_column_t *rules = &self->columns[column];
        rules->any = field->has_min || field->has_max || field->max_len > 0 || field->enum_count
                     || field->regex;
        if (field->enum_count) {
            rules->enum_len = (size_t *) zmalloc (field->enum_count * sizeof (size_t));
            for (size_t value = 0; value < field->enum_count; value++)
                rules->enum_len[value] = strlen (field->enum_values[value]);
        }
        if (field->regex) {
            rules->regex = s_compile (field->regex, error);
            if (!rules->regex) {
                zetl_validate_destroy (&self);
                return NULL;
            }
            rules->match = pcre2_match_data_create_from_pattern (rules->regex, NULL);
        }
    }
    return self;
}

void
zetl_validate_destroy (zetl_validate_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_validate_t *self = *self_p;
        for (size_t column = 0; column < self->pipeline->field_count; column++) {
            pcre2_match_data_free (self->columns[column].match);
            pcre2_code_free (self->columns[column].regex);
            free (self->columns[column].enum_len);
        }
        free (self->columns);
        free (self);
        *self_p = NULL;
    }
}

bool
zetl_validate_has_rules (const zetl_validate_t *self, size_t column)
{
    return self->columns[column].any;
}

zetl_status_t
zetl_reject (zetl_reject_t *reject, const char *reason, const char *field, const char *what,
             const char *text, size_t len)
{
    reject->reason = reason;
    reject->field = field;
    const char *name = field ? field : "record";
    if (text)
        snprintf (reject->error, sizeof reject->error, "%s: \"%.*s\" %s", name,
                  (int) (len > 120 ? 120 : len), text, what);
    else
        snprintf (reject->error, sizeof reject->error, "%s: %s", name, what);
    return ZETL_REJECT;
}

//  Characters in LEN bytes of UTF-8 (continuation bytes do not count)
static size_t
s_characters (const char *text, size_t len)
{
    size_t count = 0;
    for (size_t at = 0; at < len; at++)
        count += ((unsigned char) text[at] & 0xC0) != 0x80;
    return count;
}

zetl_status_t
zetl_validate_string (zetl_validate_t *self, size_t column, const char *text, size_t len,
                      zetl_reject_t *reject)
{
    const zetl_field_t *field = &self->pipeline->fields[column];
    s_column_t *rules = &self->columns[column];
    char what[96];
    if (field->max_len > 0 && len > (size_t) field->max_len
        && s_characters (text, len) > (size_t) field->max_len) {
        snprintf (what, sizeof what, "is longer than max_len %" PRId64 " characters",
                  field->max_len);
        return zetl_reject (reject, "max_len", field->name, what, text, len);
    }
    if (field->enum_count) {
        size_t value = 0;
        while (value < field->enum_count
               && (rules->enum_len[value] != len || memcmp (field->enum_values[value], text, len)))
            value++;
        if (value == field->enum_count)
            return zetl_reject (reject, "enum", field->name, "is not one of the enum values", text,
                                len);
    }
    if (rules->regex) {
        int rc = pcre2_match (rules->regex, (PCRE2_SPTR) text, len, 0, 0, rules->match, NULL);
        if (rc < 0) {
            snprintf (what, sizeof what, "does not match regex %.60s", field->regex);
            return zetl_reject (reject, "regex", field->name, what, text, len);
        }
    }
    return ZETL_OK;
}

//  Reject VALUE_TEXT of FIELD for being beyond BOUND on the SIDE ("min"/"max")
static zetl_status_t
s_out_of_range (zetl_reject_t *reject, const zetl_field_t *field, const char *side, double bound,
                const char *text, size_t len)
{
    char what[96];
    snprintf (what, sizeof what, "is %s %s %.17g", *side == 'm' && side[1] == 'i' ? "below" : "above",
              side, bound);
    return zetl_reject (reject, side, field->name, what, text, len);
}

zetl_status_t
zetl_validate_int (zetl_validate_t *self, size_t column, int64_t value, zetl_reject_t *reject)
{
    const zetl_field_t *field = &self->pipeline->fields[column];
    //  long double holds every int64 and every double exactly
    long double number = (long double) value;
    if ((field->has_min && number < (long double) field->min)
        || (field->has_max && number > (long double) field->max)) {
        char text[24];
        int len = snprintf (text, sizeof text, "%" PRId64, value);
        bool below = field->has_min && number < (long double) field->min;
        return s_out_of_range (reject, field, below ? "min" : "max", below ? field->min : field->max,
                               text, (size_t) len);
    }
    return ZETL_OK;
}

//  The double nearest to the decimal TEXT (LEN bytes), as strtod gives it.
//  Short plain decimals (-?digits[.digits], at most 15 digits) are divided
//  out in one correctly rounded step, which is what strtod answers for them
static double
s_nearest_double (const char *text, size_t len)
{
    static const double powers[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    size_t at = text[0] == '-' || text[0] == '+' ? 1 : 0;
    uint64_t mantissa = 0;
    int digits = 0, scale = -1;
    for (; at < len; at++) {
        if (text[at] == '.' && scale < 0)
            scale = 0;
        else if (text[at] >= '0' && text[at] <= '9' && digits < 15) {
            mantissa = mantissa * 10 + (uint64_t) (text[at] - '0');
            digits++;
            scale += scale >= 0;
        }
        else
            break;
    }
    if (at == len && digits > 0) {
        double value = (double) mantissa / powers[scale > 0 ? scale : 0];
        return text[0] == '-' ? -value : value;
    }
    char copy[1024];
    if (len >= sizeof copy)
        len = sizeof copy - 1;  //  The cast allows no longer decimal
    memcpy (copy, text, len);
    copy[len] = 0;
    return strtod (copy, NULL);
}

zetl_status_t
zetl_validate_number (zetl_validate_t *self, size_t column, const char *text, size_t len,
                      zetl_reject_t *reject)
{
    const zetl_field_t *field = &self->pipeline->fields[column];
    if (!field->has_min && !field->has_max)
        return ZETL_OK;
    //  The bounds are the doubles nearest to what the file wrote: the
    //  decimal compares through its nearest double too, so a value written
    //  as its bound is never outside it
    double number = s_nearest_double (text, len);
    if (field->has_min && number < field->min)
        return s_out_of_range (reject, field, "min", field->min, text, len);
    if (field->has_max && number > field->max)
        return s_out_of_range (reject, field, "max", field->max, text, len);
    return ZETL_OK;
}
