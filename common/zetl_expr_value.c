/*  zetl_expr_value - the values of an evaluation, and what they convert to

    Internal to zetl_expr: the evaluator (zetl_expr_eval.c) turns a
    record's values, kept as borrowed msgpack objects until needed, into
    numbers, text or bools here, writes failure reasons, and takes string
    space from the expression's arena.
*/
#include "zetl_expr_value.h"
#include "zetl_record.h"

#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_ARENA_LIMIT (16u << 20)  //  bytes of strings one evaluation may make
#define S_BLOCK_SIZE 65536         //  smallest arena block

int
zetl_expr_fail (zetl_expr_run_t *run, const char *format, ...)
{
    if (run->size > 0) {
        va_list args;
        va_start (args, format);
        vsnprintf (run->error, run->size, format, args);
        va_end (args);
    }
    return -1;
}

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

//  ---------------------------------------------------------------------------
//  Arena

char *
zetl_expr_alloc (zetl_expr_run_t *run, size_t n)
{
    zetl_expr_t *self = run->expr;
    if (n > S_ARENA_LIMIT - run->arena_total) {
        zetl_expr_fail (run, "strings over %u MiB in one evaluation", S_ARENA_LIMIT >> 20);
        return NULL;
    }
    run->arena_total += n;
    zetl_expr_block_t *block = self->current;
    if (!block || block->size - block->used < n) {
        //  The next block left by an earlier evaluation that is large enough, or a new one
        zetl_expr_block_t **link = block ? &block->next : &self->blocks;
        while (*link && (*link)->size < n)
            link = &(*link)->next;
        if (!*link) {
            size_t size = n > S_BLOCK_SIZE ? n : S_BLOCK_SIZE;
            *link = (zetl_expr_block_t *) malloc (sizeof **link + size);
            if (!*link) {
                fprintf (stderr, "zetl_expr: out of memory\n");
                abort ();
            }
            (*link)->next = NULL;
            (*link)->size = size;
        }
        block = *link;
        block->used = 0;
        self->current = block;
    }
    char *p = block->data + block->used;
    block->used += n;
    return p;
}

//  ---------------------------------------------------------------------------
//  Values as text, for results and messages

//  A float's shortest text that reads back as the same float
static size_t
s_float_text (const msgpack_object *obj, char *buf, size_t size)
{
    double f = obj->via.f64;
    if (isnan (f))
        return (size_t) snprintf (buf, size, "NaN");
    if (isinf (f))
        return (size_t) snprintf (buf, size, "%s", f > 0 ? "Infinity" : "-Infinity");
    bool single = obj->type == MSGPACK_OBJECT_FLOAT32;
    int n = 0;
    for (int precision = single ? 6 : 15; precision <= (single ? 9 : 17); precision++) {
        n = snprintf (buf, size, "%.*g", precision, f);
        double back = strtod (buf, NULL);
        if (single ? (float) back == (float) f : back == f)
            break;
    }
    return (size_t) n;
}

static const char *
s_object_kind (const msgpack_object *obj)
{
    switch (obj->type) {
    case MSGPACK_OBJECT_MAP:
        return "a map";
    case MSGPACK_OBJECT_ARRAY:
        return "an array";
    case MSGPACK_OBJECT_BIN:
        return "binary data";
    default:
        return "an ext value";
    }
}

//  Up to 32 bytes of TEXT in quotes, cut between characters, control
//  characters as '?', into BUF (ZETL_EXPR_SHOW bytes)
static const char *
s_quote (const char *text, size_t len, char *buf)
{
    size_t n = len;
    if (n > 32) {
        n = 32;
        while (n > 0 && ((unsigned char) text[n] & 0xC0) == 0x80)
            n--;
    }
    buf[0] = '\'';
    for (size_t i = 0; i < n; i++)
        buf[i + 1] = (unsigned char) text[i] < 0x20 ? '?' : text[i];
    snprintf (buf + n + 1, ZETL_EXPR_SHOW - n - 1, "%s'", n < len ? "..." : "");
    return buf;
}

//  A record's value as a message shows it
static const char *
s_show_object (const msgpack_object *obj, char *buf)
{
    const char *ptr;
    size_t len;
    char scratch[32];
    if (obj->type == MSGPACK_OBJECT_FLOAT32 || obj->type == MSGPACK_OBJECT_FLOAT64) {
        s_float_text (obj, buf, ZETL_EXPR_SHOW);
        return buf;
    }
    if (zetl_record_value_text (obj, scratch, sizeof scratch, &ptr, &len) != 0)
        return s_object_kind (obj);
    if (obj->type == MSGPACK_OBJECT_STR)
        return s_quote (ptr, len, buf);
    snprintf (buf, ZETL_EXPR_SHOW, "%.*s", (int) (len < 40 ? len : 40), ptr);
    return buf;
}

const char *
zetl_expr_show (const zetl_expr_value_t *v, char *buf)
{
    switch (v->type) {
    case ZETL_EXPR_NULL:
        return "null";
    case ZETL_EXPR_BOOL:
        return v->b ? "true" : "false";
    case ZETL_EXPR_INT:
        snprintf (buf, ZETL_EXPR_SHOW, "%" PRId64, v->i);
        return buf;
    case ZETL_EXPR_DECIMAL:
        buf[zetl_expr_decimal_text (&v->d, buf)] = '\0';
        return buf;
    case ZETL_EXPR_STR:
        return s_quote (v->s.ptr, v->s.len, buf);
    default:
        return s_show_object (v->obj, buf);
    }
}

//  The text of a record's value: strings and decimals as they are, numbers
//  written into the arena
static int
s_object_text (zetl_expr_run_t *run, const msgpack_object *obj, const char **ptr, size_t *len)
{
    char scratch[32];
    const char *text = scratch;
    size_t text_len;
    if (obj->type == MSGPACK_OBJECT_FLOAT32 || obj->type == MSGPACK_OBJECT_FLOAT64)
        text_len = s_float_text (obj, scratch, sizeof scratch);
    else if (zetl_record_value_text (obj, scratch, sizeof scratch, &text, &text_len) != 0)
        return zetl_expr_fail (run, "%s has no text", s_object_kind (obj));
    if (text == scratch) {
        char *copy = zetl_expr_alloc (run, text_len);
        if (!copy)
            return -1;
        memcpy (copy, scratch, text_len);
        text = copy;
    }
    *ptr = text;
    *len = text_len;
    return 0;
}

int
zetl_expr_to_text (zetl_expr_run_t *run, zetl_expr_value_t *v)
{
    const char *ptr = NULL;
    size_t len = 0;
    char *buf = NULL;
    if (v->type == ZETL_EXPR_STR)
        return 0;
    if (v->type == ZETL_EXPR_OBJECT && s_object_text (run, v->obj, &ptr, &len) != 0)
        return -1;
    if (v->type == ZETL_EXPR_BOOL) {
        ptr = v->b ? "true" : "false";
        len = strlen (ptr);
    }
    if (v->type == ZETL_EXPR_INT || v->type == ZETL_EXPR_DECIMAL) {
        if (!(buf = zetl_expr_alloc (run, ZETL_EXPR_DECIMAL_TEXT)))
            return -1;
        if (v->type == ZETL_EXPR_INT)
            len = (size_t) snprintf (buf, ZETL_EXPR_DECIMAL_TEXT, "%" PRId64, v->i);
        else
            len = zetl_expr_decimal_text (&v->d, buf);
        ptr = buf;
    }
    assert (v->type != ZETL_EXPR_NULL);
    v->type = ZETL_EXPR_STR;
    v->s.ptr = ptr;
    v->s.len = len;
    return 0;
}

//  ---------------------------------------------------------------------------
//  Values as numbers and bools

//  [+-]digits that fit int64
static bool
s_parse_int (const char *p, size_t len, int64_t *value)
{
    size_t i = len > 0 && (p[0] == '-' || p[0] == '+');
    bool neg = i && p[0] == '-';
    if (i == len || len - i > 19)
        return false;
    uint64_t mag = 0;
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        mag = mag * 10 + (uint64_t) (p[i] - '0');
    }
    if (mag > (uint64_t) INT64_MAX + neg)
        return false;
    *value = neg ? (int64_t) (0 - mag) : (int64_t) mag;
    return true;
}

//  *OUT = the number in TEXT (LEN bytes, spaces around allowed): an int if
//  it is written as one and fits, else a decimal
static int
s_number_text (zetl_expr_run_t *run, const char *text, size_t len, zetl_expr_value_t *out)
{
    const char *start = text, *end = text + len;
    while (start < end && s_is_space (*start))
        start++;
    while (end > start && s_is_space (end[-1]))
        end--;
    int64_t i;
    if (s_parse_int (start, (size_t) (end - start), &i)) {
        out->type = ZETL_EXPR_INT;
        out->i = i;
        return 0;
    }
    zetl_expr_decimal_t d;
    int rc = zetl_expr_decimal_parse (start, (size_t) (end - start), &d);
    char buf[ZETL_EXPR_SHOW];
    if (rc != 0)
        return zetl_expr_fail (run, rc == -1 ? "%s is not a number" : "%s has more than 38 digits",
                               s_quote (text, len, buf));
    out->type = ZETL_EXPR_DECIMAL;
    out->d = d;
    return 0;
}

//  *OUT = a record's number (int, float, decimal) or numeric string
static int
s_number_object (zetl_expr_run_t *run, const msgpack_object *obj, zetl_expr_value_t *out)
{
    char buf[ZETL_EXPR_SHOW];
    const char *text = NULL;
    size_t len = 0;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER && obj->via.u64 > INT64_MAX) {
        out->type = ZETL_EXPR_DECIMAL;
        zetl_expr_decimal_from_uint (obj->via.u64, &out->d);
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
        obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        out->type = ZETL_EXPR_INT;
        out->i = obj->via.i64;
        return 0;
    }
    if (obj->type == MSGPACK_OBJECT_STR)
        return s_number_text (run, obj->via.str.ptr, obj->via.str.size, out);
    if (obj->type == MSGPACK_OBJECT_EXT && obj->via.ext.type == ZETL_EXT_DECIMAL) {
        text = obj->via.ext.ptr;
        len = obj->via.ext.size;
    }
    else if ((obj->type == MSGPACK_OBJECT_FLOAT32 || obj->type == MSGPACK_OBJECT_FLOAT64) &&
             isfinite (obj->via.f64)) {
        len = s_float_text (obj, buf, sizeof buf);
        text = buf;
    }
    if (!text)
        return zetl_expr_fail (run, "%s is not a number", s_show_object (obj, buf));
    int rc = zetl_expr_decimal_parse (text, len, &out->d);
    char shown[ZETL_EXPR_SHOW];
    if (rc != 0)
        return zetl_expr_fail (run, rc == -1 ? "%s is not a number" : "%s has more than 38 digits",
                               s_show_object (obj, shown));
    out->type = ZETL_EXPR_DECIMAL;
    return 0;
}

int
zetl_expr_to_number (zetl_expr_run_t *run, zetl_expr_value_t *v)
{
    char buf[ZETL_EXPR_SHOW];
    switch (v->type) {
    case ZETL_EXPR_INT:
    case ZETL_EXPR_DECIMAL:
        return 0;
    case ZETL_EXPR_STR: {
        const char *ptr = v->s.ptr;
        return s_number_text (run, ptr, v->s.len, v);
    }
    case ZETL_EXPR_OBJECT: {
        const msgpack_object *obj = v->obj;
        return s_number_object (run, obj, v);
    }
    default:
        return zetl_expr_fail (run, "%s is not a number", zetl_expr_show (v, buf));
    }
}

void
zetl_expr_to_decimal (const zetl_expr_value_t *v, zetl_expr_decimal_t *d)
{
    if (v->type == ZETL_EXPR_INT)
        zetl_expr_decimal_from_int (v->i, d);
    else
        *d = v->d;
}

bool
zetl_expr_bool_text (const char *text, size_t len, bool *value)
{
    while (len > 0 && s_is_space (*text)) {
        text++;
        len--;
    }
    while (len > 0 && s_is_space (text[len - 1]))
        len--;
    if (len == 4 && strncasecmp (text, "true", 4) == 0)
        *value = true;
    else if (len == 5 && strncasecmp (text, "false", 5) == 0)
        *value = false;
    else
        return false;
    return true;
}

int
zetl_expr_resolve (zetl_expr_run_t *run, zetl_expr_value_t *v)
{
    if (v->type != ZETL_EXPR_OBJECT)
        return 0;
    const msgpack_object *obj = v->obj;
    if (obj->type == MSGPACK_OBJECT_STR) {
        v->type = ZETL_EXPR_STR;
        v->s.ptr = obj->via.str.ptr;
        v->s.len = obj->via.str.size;
    }
    else if (obj->type == MSGPACK_OBJECT_BOOLEAN) {
        v->type = ZETL_EXPR_BOOL;
        v->b = obj->via.boolean;
    }
    else
        return s_number_object (run, obj, v);
    return 0;
}

int
zetl_expr_to_bool (zetl_expr_run_t *run, zetl_expr_value_t *v)
{
    char buf[ZETL_EXPR_SHOW];
    bool b;
    if (v->type == ZETL_EXPR_OBJECT &&
        (v->obj->type == MSGPACK_OBJECT_STR || v->obj->type == MSGPACK_OBJECT_BOOLEAN))
        zetl_expr_resolve (run, v);
    if (v->type == ZETL_EXPR_NULL || v->type == ZETL_EXPR_BOOL)
        return 0;
    if (v->type != ZETL_EXPR_STR || !zetl_expr_bool_text (v->s.ptr, v->s.len, &b))
        return zetl_expr_fail (run, "%s is not a bool", zetl_expr_show (v, buf));
    v->type = ZETL_EXPR_BOOL;
    v->b = b;
    return 0;
}
