/*  expr_fixtures.h - what the zetl_expr tests share: a record packed from a
    picture of its values, a result shown as text ("int 42", "dec 12.50",
    "error <reason>"), s_run to parse and evaluate an expression in one call,
    and s_repeat to build long texts
*/
#ifndef ZETL_EXPR_FIXTURES_H_INCLUDED
#define ZETL_EXPR_FIXTURES_H_INCLUDED

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zetl_expr.h"
#include "zetl_record.h"

//  A packed record and its unpacked form
typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_unpacked unpacked;
} s_rec_t;

static inline void
s_rec_init (s_rec_t *rec)
{
    msgpack_sbuffer_init (&rec->sbuf);
    msgpack_packer_init (&rec->pk, &rec->sbuf, msgpack_sbuffer_write);
    msgpack_unpacked_init (&rec->unpacked);
}

static inline const msgpack_object *
s_rec_object (s_rec_t *rec)
{
    size_t offset = 0;
    msgpack_unpack_return rc =
        msgpack_unpack_next (&rec->unpacked, rec->sbuf.data, rec->sbuf.size, &offset);
    assert_int_equal (rc, MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (offset, rec->sbuf.size);
    return &rec->unpacked.data;
}

static inline void
s_rec_destroy (s_rec_t *rec)
{
    msgpack_unpacked_destroy (&rec->unpacked);
    msgpack_sbuffer_destroy (&rec->sbuf);
}

//  Pack the values PICTURE describes, one letter each (spaces are ignored),
//  taking their arguments from ARGS, as record_test does:
//    m map (int: its pairs)      a array (int: its items)
//    s string (const char *)     D ZETL_EXT_DECIMAL (const char *: its text)
//    b bin (const char *)        i int      I int64_t      U uint64_t
//    d double                    g float (passed as a double)
//    n nil                       t true     f false
static inline void
s_vpack (msgpack_packer *pk, const char *picture, va_list args)
{
    for (const char *p = picture; *p; p++) {
        if (*p == 'm' || *p == 'a') {
            size_t count = (size_t) va_arg (args, int);
            (*p == 'm' ? msgpack_pack_map : msgpack_pack_array) (pk, count);
        }
        else if (*p == 's' || *p == 'D' || *p == 'b') {
            const char *text = va_arg (args, const char *);
            size_t len = strlen (text);
            if (*p == 's')
                msgpack_pack_str (pk, len);
            else if (*p == 'b')
                msgpack_pack_bin (pk, len);
            else
                msgpack_pack_ext (pk, len, ZETL_EXT_DECIMAL);
            msgpack_pack_str_body (pk, text, len);
        }
        else if (*p == 'i' || *p == 'I')
            msgpack_pack_int64 (pk, *p == 'i' ? va_arg (args, int) : va_arg (args, int64_t));
        else if (*p == 'U')
            msgpack_pack_uint64 (pk, va_arg (args, uint64_t));
        else if (*p == 'd')
            msgpack_pack_double (pk, va_arg (args, double));
        else if (*p == 'g')
            msgpack_pack_float (pk, (float) va_arg (args, double));
        else if (*p == 'n')
            msgpack_pack_nil (pk);
        else if (*p == 't' || *p == 'f')
            (*p == 't' ? msgpack_pack_true : msgpack_pack_false) (pk);
        else
            assert_true (*p == ' ');
    }
}

//  OBJ as the tests compare it: "int 42", "dec 12.50", "str abc", "bool
//  true", "null", "f64 0.5", "f32 0.5", else "json <its JSON>"
static inline void
s_show (const msgpack_object *obj, char *buf, size_t size)
{
    switch (obj->type) {
    case MSGPACK_OBJECT_NIL:
        snprintf (buf, size, "null");
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        snprintf (buf, size, "bool %s", obj->via.boolean ? "true" : "false");
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        snprintf (buf, size, "int %llu", (unsigned long long) obj->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        snprintf (buf, size, "int %lld", (long long) obj->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        snprintf (buf, size, "%s %.17g", obj->type == MSGPACK_OBJECT_FLOAT32 ? "f32" : "f64",
                  obj->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        snprintf (buf, size, "str %.*s", (int) obj->via.str.size, obj->via.str.ptr);
        break;
    case MSGPACK_OBJECT_EXT:
        assert_int_equal (obj->via.ext.type, ZETL_EXT_DECIMAL);
        snprintf (buf, size, "dec %.*s", (int) obj->via.ext.size, obj->via.ext.ptr);
        break;
    default: {
        msgpack_sbuffer json;
        msgpack_sbuffer_init (&json);
        assert_int_equal (zetl_record_to_json (obj, &json), 0);
        snprintf (buf, size, "json %.*s", (int) json.size, json.data);
        msgpack_sbuffer_destroy (&json);
    }
    }
}

//  Evaluate EXPR once against RECORD (a map or NULL) into BUF: the result
//  as s_show gives it, or "error <reason>"
static inline void
s_eval_once (zetl_expr_t *expr, const msgpack_object *record, char *buf, size_t size)
{
    const msgpack_object *values[ZETL_EXPR_MAX_FIELDS];
    for (size_t i = 0; i < zetl_expr_field_count (expr); i++)
        values[i] = zetl_record_get (record, zetl_expr_field_name (expr, i));
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, msgpack_sbuffer_write);
    char reason[128] = "unset";
    if (zetl_expr_eval (expr, values, &pk, reason, sizeof reason) != 0) {
        assert_int_equal (out.size, 0);  //  Nothing packed on error
        snprintf (buf, size, "error %s", reason);
    }
    else {
        msgpack_unpacked result;
        msgpack_unpacked_init (&result);
        size_t offset = 0;
        assert_int_equal (msgpack_unpack_next (&result, out.data, out.size, &offset),
                          MSGPACK_UNPACK_SUCCESS);
        assert_int_equal (offset, out.size);
        s_show (&result.data, buf, size);
        msgpack_unpacked_destroy (&result);
    }
    msgpack_sbuffer_destroy (&out);
}

//  Parse TEXT and evaluate it against the record PICTURE packs (a map, or
//  "" for none): the result as s_eval_once gives it, or "parse <message>".
//  Evaluates twice, so that reusing the scratch space is checked too.
static inline const char *
s_run (const char *text, const char *picture, ...)
{
    static char result[4096];
    s_rec_t rec;
    s_rec_init (&rec);
    va_list args;
    va_start (args, picture);
    s_vpack (&rec.pk, picture, args);
    va_end (args);
    const msgpack_object *record = *picture ? s_rec_object (&rec) : NULL;
    char *error = NULL;
    zetl_expr_t *expr = zetl_expr_parse (text, &error);
    if (!expr) {
        assert_non_null (error);
        snprintf (result, sizeof result, "parse %s", error);
        free (error);
    }
    else {
        assert_null (error);
        char again[sizeof result];
        s_eval_once (expr, record, result, sizeof result);
        s_eval_once (expr, record, again, sizeof again);
        assert_string_equal (result, again);
        zetl_expr_destroy (&expr);
        assert_null (expr);
    }
    s_rec_destroy (&rec);
    return result;
}

//  The result of TEXT with no record
#define S_EQ(text, expected) assert_string_equal (s_run (text, ""), expected)

//  TIMES copies of UNIT between PREFIX and SUFFIX, as a string the test owns
static inline char *
s_repeat (const char *prefix, const char *unit, int times, const char *suffix)
{
    size_t size = strlen (prefix) + strlen (unit) * (size_t) times + strlen (suffix) + 1;
    char *text = (char *) malloc (size);
    strcpy (text, prefix);
    for (int i = 0; i < times; i++)
        strcat (text, unit);
    strcat (text, suffix);
    return text;
}

#endif
