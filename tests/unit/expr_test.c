/*  expr_test - zetl_expr: parsing, evaluation, exact arithmetic, errors  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zetl_expr.h"
#include "zetl_expr_code.h"  //  To check that the arena is reused
#include "zetl_expr_decimal.h"
#include "zetl_record.h"

//  A packed record and its unpacked form
typedef struct {
    msgpack_sbuffer sbuf;
    msgpack_packer pk;
    msgpack_unpacked unpacked;
} s_rec_t;

static void
s_rec_init (s_rec_t *rec)
{
    msgpack_sbuffer_init (&rec->sbuf);
    msgpack_packer_init (&rec->pk, &rec->sbuf, msgpack_sbuffer_write);
    msgpack_unpacked_init (&rec->unpacked);
}

static const msgpack_object *
s_rec_object (s_rec_t *rec)
{
    size_t offset = 0;
    msgpack_unpack_return rc =
        msgpack_unpack_next (&rec->unpacked, rec->sbuf.data, rec->sbuf.size, &offset);
    assert_int_equal (rc, MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (offset, rec->sbuf.size);
    return &rec->unpacked.data;
}

static void
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
static void
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
static void
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
static void
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
static const char *
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

static void
test_literals (void **state)
{
    (void) state;
    S_EQ ("42", "int 42");
    S_EQ ("12.50", "dec 12.50");
    S_EQ ("0.0", "dec 0.0");
    S_EQ ("007", "int 7");
    S_EQ ("'it''s'", "str it's");
    S_EQ ("\"say \"\"hi\"\"\"", "str say \"hi\"");
    S_EQ ("'say \"hi\"'", "str say \"hi\"");
    S_EQ ("''", "str ");
    S_EQ ("'multi\nline'", "str multi\nline");
    S_EQ ("true", "bool true");
    S_EQ ("FALSE", "bool false");
    S_EQ ("Null", "null");
    S_EQ ("-5", "int -5");
    S_EQ ("- 2.50", "dec -2.50");
    S_EQ ("-9223372036854775808", "int -9223372036854775808");
    S_EQ ("9223372036854775807", "int 9223372036854775807");
    S_EQ ("9223372036854775808", "dec 9223372036854775808");
    S_EQ ("- -9223372036854775807", "int 9223372036854775807");
    S_EQ ("99999999999999999999999999999999999999", "dec 99999999999999999999999999999999999999");
    S_EQ ("0.00000000000000000000000000000000000001",
          "dec 0.00000000000000000000000000000000000001");
    S_EQ ("  ( 42 )  ", "int 42");
}

static void
test_fields (void **state)
{
    (void) state;
    char *error = NULL;
    zetl_expr_t *expr = zetl_expr_parse ("b + a * b + `Unit Price` - coalesce(a, `x y`)", &error);
    assert_non_null (expr);
    assert_int_equal (zetl_expr_field_count (expr), 4);
    assert_string_equal (zetl_expr_field_name (expr, 0), "b");
    assert_string_equal (zetl_expr_field_name (expr, 1), "a");
    assert_string_equal (zetl_expr_field_name (expr, 2), "Unit Price");
    assert_string_equal (zetl_expr_field_name (expr, 3), "x y");
    zetl_expr_destroy (&expr);
    zetl_expr_destroy (&expr);  //  A second call does nothing
    expr = zetl_expr_parse ("1 + 2", &error);
    assert_int_equal (zetl_expr_field_count (expr), 0);
    zetl_expr_destroy (&expr);

    //  Field names are case-sensitive; keywords are not; `` quotes any name
    assert_string_equal (s_run ("Amount + amount", "m si si", 2, "Amount", 1, "amount", 2),
                         "int 3");
    assert_string_equal (s_run ("`and` + `lower`", "m si si", 2, "and", 1, "lower", 2), "int 3");
    assert_string_equal (s_run ("`Unit Price` * 2", "m sD", 1, "Unit Price", "1.25"), "dec 2.50");
    assert_string_equal (s_run ("_x1", "m si", 1, "_x1", 5), "int 5");
    //  Missing and nil are null
    assert_string_equal (s_run ("missing", "m si", 1, "a", 1), "null");
    assert_string_equal (s_run ("a", "m sn", 1, "a"), "null");
    assert_string_equal (s_run ("a + 1", "m sn", 1, "a"), "null");
}

static void
test_pass_through (void **state)
{
    (void) state;
    //  A record's value that reaches the result unchanged is packed as it was
    assert_string_equal (s_run ("f", "m sd", 1, "f", 0.1), "f64 0.10000000000000001");
    assert_string_equal (s_run ("f", "m sg", 1, "f", 0.5), "f32 0.5");
    assert_string_equal (s_run ("d", "m sD", 1, "d", "1.5E3"), "dec 1.5E3");
    assert_string_equal (s_run ("coalesce(n, d)", "m sn sD", 2, "n", "d", "12.50"), "dec 12.50");
    assert_string_equal (s_run ("if(true, m, 0)", "m s m si", 1, "m", 1, "k", 1), "json {\"k\":1}");
    assert_string_equal (s_run ("coalesce(x, m)", "m s a ii", 1, "m", 2, 1, 2), "json [1,2]");
    assert_string_equal (s_run ("u", "m sU", 1, "u", UINT64_MAX), "int 18446744073709551615");
    assert_string_equal (s_run ("s", "m ss", 1, "s", "héllo"), "str héllo");
    assert_string_equal (s_run ("b", "m st", 1, "b"), "bool true");
}

static void
test_int_arithmetic (void **state)
{
    (void) state;
    S_EQ ("2 + 3 * 4", "int 14");
    S_EQ ("(2 + 3) * 4", "int 20");
    S_EQ ("10 - 4 - 3", "int 3");
    S_EQ ("2 * -3", "int -6");
    S_EQ ("- -3", "int 3");
    S_EQ ("-(2 + 3)", "int -5");
    S_EQ ("100 / 10 / 5", "int 2");
    S_EQ ("6 / 2", "int 3");
    S_EQ ("7 / 2", "dec 3.5");
    S_EQ ("-7 / 2", "dec -3.5");
    S_EQ ("7 / -7", "int -1");
    S_EQ ("1 / 3", "dec 0.33333333333333333333");
    S_EQ ("2 / 3", "dec 0.66666666666666666667");
    S_EQ ("-2 / 3", "dec -0.66666666666666666667");
    S_EQ ("7 % 3", "int 1");
    S_EQ ("-7 % 3", "int -1");
    S_EQ ("7 % -3", "int 1");
    S_EQ ("-9223372036854775808 % -1", "int 0");
    S_EQ ("-9223372036854775808 / -1", "error integer overflow");
    S_EQ ("9223372036854775807 + 1", "error integer overflow");
    S_EQ ("-9223372036854775807 - 2", "error integer overflow");
    S_EQ ("4611686018427387904 * 2", "error integer overflow");
    S_EQ ("-(-9223372036854775807 - 1)", "error integer overflow");
    S_EQ ("1 / 0", "error division by zero");
    S_EQ ("1 % 0", "error division by zero");
    S_EQ ("0 / 0", "error division by zero");
    assert_string_equal (s_run ("-x", "m sI", 1, "x", INT64_MIN), "error integer overflow");
    assert_string_equal (s_run ("amount * nights", "m si si", 2, "amount", 120, "nights", 3),
                         "int 360");
}

static void
test_decimal_arithmetic (void **state)
{
    (void) state;
    S_EQ ("0.1 + 0.2", "dec 0.3");
    S_EQ ("0.1 + 0.2 = 0.3", "bool true");
    S_EQ ("12.50 * 3", "dec 37.50");
    S_EQ ("12.50 + 1", "dec 13.50");
    S_EQ ("1 - 0.01", "dec 0.99");
    S_EQ ("1.00 - 1", "dec 0.00");
    S_EQ ("-0.5 + 0.5", "dec 0.0");
    S_EQ ("1.5 * 1.5", "dec 2.25");
    S_EQ ("0.1 * 0.1", "dec 0.01");
    S_EQ ("-1.5 * 2", "dec -3.0");
    S_EQ ("10 / 4", "dec 2.5");
    S_EQ ("5.0 / 2", "dec 2.5");
    S_EQ ("10.0 / 2", "dec 5");
    S_EQ ("1 / 7.0", "dec 0.14285714285714285714");
    S_EQ ("0 / 3.5", "dec 0");
    S_EQ ("-1 / 3.0", "dec -0.33333333333333333333");
    S_EQ ("12345678901234567890 / 3", "dec 4115226300411522630");
    //  A long integer part leaves fewer digits after the point: 38 in all
    S_EQ ("1234567890123456789012345678901234567 / 7",
          "dec 176366841446208112716049382700176366.71");
    S_EQ ("0.1 / 0.000000000000000000000000000000003",
          "dec 33333333333333333333333333333333.333333");
    S_EQ ("100 / 0.0000000000000000000000000000000000007", "error decimal overflow");
    S_EQ ("99999999999999999999999999999999999999 + 1", "error decimal overflow");
    S_EQ ("99999999999999999999999999999999999999 + 0.1", "error decimal overflow");
    S_EQ ("99999999999999999999999999999999999999 - 1",
          "dec 99999999999999999999999999999999999998");
    S_EQ ("99999999999999999999999999999999999999 * 10", "error decimal overflow");
    S_EQ ("0.00000000000000000001 * 0.00000000000000000001", "error decimal overflow");
    //  Trailing zeros go when that is what it takes to fit 38 digits
    S_EQ ("1000000000000000000.0000000000000000000 * 1000000000000000000",
          "dec 1000000000000000000000000000000000000.0");
    S_EQ ("1.5 / 0", "error division by zero");
    S_EQ ("1 / 0.00", "error division by zero");
    S_EQ ("2.5 % 2", "error % needs integers, not 2.5");
    S_EQ ("5 % 2.0", "error % needs integers, not 2.0");
    S_EQ ("-2.50 - 0.5", "dec -3.00");
    assert_string_equal (s_run ("amount * nights", "m sD si", 2, "amount", "12.50", "nights", 3),
                         "dec 37.50");
}

static void
test_numbers_from_records (void **state)
{
    (void) state;
    //  Strings holding numbers, as CSV brings them
    assert_string_equal (s_run ("a + 1", "m ss", 1, "a", "12.5"), "dec 13.5");
    assert_string_equal (s_run ("a * 2", "m ss", 1, "a", " 42 "), "int 84");
    assert_string_equal (s_run ("a / b", "m ss ss", 2, "a", "7", "b", "2"), "dec 3.5");
    assert_string_equal (s_run ("a + 0", "m ss", 1, "a", "1e3"), "dec 1000");
    assert_string_equal (s_run ("a + 0", "m ss", 1, "a", "-0.50"), "dec -0.50");
    assert_string_equal (s_run ("'12.5' + 1", ""), "dec 13.5");
    assert_string_equal (s_run ("a + 1", "m ss", 1, "a", "abc"), "error 'abc' is not a number");
    assert_string_equal (s_run ("a + 1", "m ss", 1, "a", ""), "error '' is not a number");
    assert_string_equal (s_run ("a + 1", "m ss", 1, "a", "1,5"), "error '1,5' is not a number");
    assert_string_equal (s_run ("-a", "m ss", 1, "a", "x\ty"), "error 'x?y' is not a number");
    assert_string_equal (s_run ("a + 1", "m ss", 1, "a", "abcdefghijklmnopqrstuvwxyz0123456789"),
                         "error 'abcdefghijklmnopqrstuvwxyz012345...' is not a number");
    assert_string_equal (
        s_run ("a + 1", "m ss", 1, "a", "1234567890123456789012345678901234567890"),
        "error '12345678901234567890123456789012...' has more than 38 digits");
    //  Decimals, floats (through their shortest text), big uints
    assert_string_equal (s_run ("d * 2", "m sD", 1, "d", "12.50"), "dec 25.00");
    assert_string_equal (s_run ("d * 1", "m sD", 1, "d", "1.5E3"), "dec 1500");
    assert_string_equal (s_run ("d + 1", "m sD", 1, "d", "abc"), "error abc is not a number");
    assert_string_equal (s_run ("a + b", "m sd sd", 2, "a", 0.1, "b", 0.2), "dec 0.3");
    assert_string_equal (s_run ("a * 1", "m sg", 1, "a", 0.1), "dec 0.1");
    assert_string_equal (s_run ("a * 1", "m sd", 1, "a", 1e300),
                         "error 1e+300 has more than 38 digits");
    assert_string_equal (s_run ("a + 1", "m sd", 1, "a", NAN), "error NaN is not a number");
    assert_string_equal (s_run ("u + 0", "m sU", 1, "u", UINT64_MAX), "dec 18446744073709551615");
    assert_string_equal (s_run ("u - 1", "m sU", 1, "u", (uint64_t) INT64_MAX),
                         "int 9223372036854775806");
    //  Not numbers at all
    assert_string_equal (s_run ("true + 1", ""), "error true is not a number");
    assert_string_equal (s_run ("b + 1", "m sf", 1, "b"), "error false is not a number");
    assert_string_equal (s_run ("m + 1", "m s m", 1, "m", 0), "error a map is not a number");
    assert_string_equal (s_run ("a * 1", "m s a", 1, "a", 0), "error an array is not a number");
    assert_string_equal (s_run ("b * 1", "m sb", 1, "b", "xy"),
                         "error binary data is not a number");
}

static void
test_null_rules (void **state)
{
    (void) state;
    const char *nulls[] = {"null + 1",          "1 - null",
                           "null * null",       "1 / null",
                           "null % 2",          "-null",
                           "null || 'a'",       "'a' || null",
                           "null = null",       "null < 1",
                           "'a' != null",       "abs(null)",
                           "round(null)",       "round(1.5, null)",
                           "lower(null)",       "upper(null)",
                           "trim(null)",        "length(null)",
                           "not null",          "coalesce(null, null)",
                           "if(true, null, 1)", NULL};
    for (int i = 0; nulls[i]; i++)
        assert_string_equal (s_run (nulls[i], ""), "null");
    //  Three-valued logic
    S_EQ ("true and null", "null");
    S_EQ ("null and true", "null");
    S_EQ ("false and null", "bool false");
    S_EQ ("null and false", "bool false");
    S_EQ ("null and null", "null");
    S_EQ ("true or null", "bool true");
    S_EQ ("null or true", "bool true");
    S_EQ ("false or null", "null");
    S_EQ ("null or false", "null");
    S_EQ ("true and true", "bool true");
    S_EQ ("true and false", "bool false");
    S_EQ ("false or false", "bool false");
    //  Short-circuits: what is not needed is not evaluated
    S_EQ ("false and 1 / 0 = 1", "bool false");
    S_EQ ("true or 1 / 0 = 1", "bool true");
    S_EQ ("true and 1 / 0 = 1", "error division by zero");
    S_EQ ("null and 1 / 0 = 1", "error division by zero");
    S_EQ ("if(true, 1, 1 / 0)", "int 1");
    S_EQ ("if(false, 1 / 0, 2)", "int 2");
    S_EQ ("if(null, 1, 2)", "int 2");
    S_EQ ("coalesce(null, 2, 1 / 0)", "int 2");
    S_EQ ("coalesce(null, null, 'x')", "str x");
    S_EQ ("coalesce(1)", "int 1");
    assert_string_equal (s_run ("coalesce(a, b, 0)", "m si", 1, "x", 1), "int 0");
    assert_string_equal (s_run ("coalesce(a, b, 0)", "m sn si", 2, "a", "b", 7), "int 7");
    S_EQ ("concat(null, 'a', null, 1)", "str a1");
    S_EQ ("concat(null)", "str ");
}

static void
test_comparisons (void **state)
{
    (void) state;
    const char *trues[] = {"1 = 1",
                           "1 == 1.0",
                           "2.50 = 2.5",
                           "1 != 2",
                           "1 <> 2",
                           "1 < 2",
                           "2 <= 2",
                           "3 > 2",
                           "2 >= 2",
                           "-1.5 < -1.4",
                           "0.1 + 0.2 == 0.3",
                           "'10' > 9",
                           "9 < '10'",
                           "' 10 ' = 10",
                           "'2.50' = 2.5",
                           "'10' < '9'",
                           "'a' < 'b'",
                           "'ab' > 'a'",
                           "'abc' = 'abc'",
                           "'' < 'a'",
                           "'B' < 'a'",
                           "true = true",
                           "true > false",
                           "true = 'TRUE'",
                           "'false' = false",
                           "99999999999999999999 > 9223372036854775807",
                           "1 + 1 = 2 and 3 > 2",
                           "not 1 = 2",
                           "'é' > 'z'",
                           NULL};
    for (int i = 0; trues[i]; i++) {
        const char *result = s_run (trues[i], "");
        if (strcmp (result, "bool true") != 0)
            fail_msg ("%s: %s", trues[i], result);
    }
    const char *falses[] = {"1 = 2",     "1 <> 1",       "2 < 2",          "1 > 2",    "'10' > '9'",
                            "'a' = 'A'", "false > true", "'2.50' = '2.5'", "1.0 != 1", NULL};
    for (int i = 0; falses[i]; i++) {
        const char *result = s_run (falses[i], "");
        if (strcmp (result, "bool false") != 0)
            fail_msg ("%s: %s", falses[i], result);
    }
    S_EQ ("'abc' = 1", "error 'abc' is not a number");
    S_EQ ("1 < 'abc'", "error 'abc' is not a number");
    S_EQ ("true = 1", "error cannot compare a bool with a number");
    S_EQ ("2.5 > false", "error cannot compare a bool with a number");
    S_EQ ("true = 'yes'", "error 'yes' is not a bool");
    //  Values from the record
    assert_string_equal (s_run ("s = i", "m ss si", 2, "s", "5", "i", 5), "bool true");
    assert_string_equal (s_run ("s = t", "m ss ss", 2, "s", "5", "t", "5.0"), "bool false");
    assert_string_equal (s_run ("d = 2.5", "m sD", 1, "d", "2.50"), "bool true");
    assert_string_equal (s_run ("f = 0.1", "m sd", 1, "f", 0.1), "bool true");
    assert_string_equal (s_run ("b = true", "m st", 1, "b"), "bool true");
    assert_string_equal (s_run ("u > 1", "m sU", 1, "u", UINT64_MAX), "bool true");
    assert_string_equal (s_run ("m = 1", "m s m", 1, "m", 0), "error a map is not a number");
}

static void
test_logic (void **state)
{
    (void) state;
    S_EQ ("not true", "bool false");
    S_EQ ("not not true", "bool true");
    S_EQ ("NOT 'false'", "bool true");
    S_EQ ("not 1", "error 1 is not a bool");
    S_EQ ("'x' and true", "error 'x' is not a bool");
    S_EQ ("true and 2.5", "error 2.5 is not a bool");
    S_EQ ("false or 'True'", "bool true");
    S_EQ ("true or false and false", "bool true");  //  and binds tighter
    S_EQ ("(true or false) and false", "bool false");
    S_EQ ("not false and false", "bool false");  //  not binds tighter than and
    S_EQ ("if('true', 'y', 'n')", "str y");
    S_EQ ("if(1 > 2, 'y', 'n')", "str n");
    S_EQ ("if(1, 'y', 'n')", "error 1 is not a bool");
    S_EQ ("IF(true, if(false, 1, 2), 3)", "int 2");
    assert_string_equal (s_run ("if(b, 'y', 'n')", "m ss", 1, "b", " false "), "str n");
    assert_string_equal (s_run ("if(b, 'y', 'n')", "m st", 1, "b"), "str y");
    assert_string_equal (s_run ("b and true", "m si", 1, "b", 1), "error 1 is not a bool");
    assert_string_equal (s_run ("not m", "m s a", 1, "m", 0), "error an array is not a bool");
}

static void
test_concat (void **state)
{
    (void) state;
    S_EQ ("'a' || 'b'", "str ab");
    S_EQ ("'n=' || 5", "str n=5");
    S_EQ ("'x' || 1.50", "str x1.50");
    S_EQ ("'v' || true", "str vtrue");
    S_EQ ("1 + 2 || 'x'", "str 3x");  //  + binds tighter than ||
    S_EQ ("'a' || 1 + 2", "str a3");
    S_EQ ("'a' || 'b' = 'ab'", "bool true");  //  || binds tighter than =
    S_EQ ("concat('a', 1, 2.50, false)", "str a12.50false");
    S_EQ ("concat(7 / 2)", "str 3.5");
    S_EQ ("concat(-9223372036854775808)", "str -9223372036854775808");
    const char *label = "concat(city, ' / ', coalesce(region, 'unknown'))";
    assert_string_equal (s_run (label, "m ss", 1, "city", "Paris"), "str Paris / unknown");
    assert_string_equal (s_run (label, "m ss ss", 2, "city", "Lyon", "region", "ARA"),
                         "str Lyon / ARA");
    assert_string_equal (s_run ("d || ''", "m sD", 1, "d", "1.5E3"), "str 1.5E3");
    assert_string_equal (s_run ("f || ''", "m sd", 1, "f", 0.1), "str 0.1");
    assert_string_equal (s_run ("f || ''", "m sg", 1, "f", 0.1), "str 0.1");
    assert_string_equal (s_run ("u || ''", "m sU", 1, "u", UINT64_MAX), "str 18446744073709551615");
    assert_string_equal (s_run ("i || b", "m si sf", 2, "i", -3, "b"), "str -3false");
    assert_string_equal (s_run ("concat(m)", "m s m", 1, "m", 0), "error a map has no text");
    assert_string_equal (s_run ("'x' || b", "m sb", 1, "b", "x"), "error binary data has no text");
}

static void
test_string_functions (void **state)
{
    (void) state;
    S_EQ ("lower('ÀÉÎ Straße ΣΑΣ Привет ЁЖ')", "str àéî straße σασ привет ёж");
    S_EQ ("upper('àéî straße ÿ µ ς σ ά ё')", "str ÀÉÎ STRAßE Ÿ Μ Σ Σ Ά Ё");
    S_EQ ("upper('łódź żółć čřš')", "str ŁÓDŹ ŻÓŁĆ ČŘŠ");
    S_EQ ("lower('ŁÓDŹ ŻÓŁĆ ČŘŠ Ÿ Ώ')", "str łódź żółć čřš ÿ ώ");
    S_EQ ("upper('ı') || lower('İ')", "str ıİ");  //  Mappings that change length: none
    S_EQ ("upper('日本 abc 😀')", "str 日本 ABC 😀");
    S_EQ ("UPPER('x') || Lower('Y')", "str Xy");
    S_EQ ("lower(5)", "str 5");
    S_EQ ("upper(12.50)", "str 12.50");
    S_EQ ("upper('\xff\xc3')", "str \xff\xc3");  //  Invalid UTF-8 is copied
    S_EQ ("length('héllo')", "int 5");
    S_EQ ("length('')", "int 0");
    S_EQ ("length('日本語')", "int 3");
    S_EQ ("length('😀')", "int 1");
    S_EQ ("length(12.50)", "int 5");
    S_EQ ("length(true)", "int 4");
    S_EQ ("trim('  a b \t\n')", "str a b");
    S_EQ ("trim('   ')", "str ");
    S_EQ ("trim('x')", "str x");
    S_EQ ("length(trim(' é '))", "int 1");
    assert_string_equal (s_run ("upper(s)", "m ss", 1, "s", "ok"), "str OK");
    assert_string_equal (s_run ("length(s)", "m ss", 1, "s", "привет"), "int 6");
    assert_string_equal (s_run ("trim(m)", "m s a", 1, "m", 0), "error an array has no text");
}

static void
test_round_abs (void **state)
{
    (void) state;
    S_EQ ("round(2.5)", "dec 3");
    S_EQ ("round(-2.5)", "dec -3");
    S_EQ ("round(2.4)", "dec 2");
    S_EQ ("round(-0.4)", "dec 0");
    S_EQ ("round(1.005, 2)", "dec 1.01");
    S_EQ ("round(1.2345, 2)", "dec 1.23");
    S_EQ ("round(-1.235, 2)", "dec -1.24");
    S_EQ ("round(2.5, 3)", "dec 2.500");
    S_EQ ("round(2, 2)", "dec 2.00");
    S_EQ ("round(7)", "int 7");
    S_EQ ("round(15, -1)", "int 20");
    S_EQ ("round(-15, -1)", "int -20");
    S_EQ ("round(14, -1)", "int 10");
    S_EQ ("round(1234.5678, -2)", "dec 1200");
    S_EQ ("round(0.5, -38)", "dec 0");
    S_EQ ("round(1 / 3, 4)", "dec 0.3333");
    S_EQ ("round('2.675', 2)", "dec 2.68");  //  Exact, not a double's 2.67
    S_EQ ("round(2.5, '1')", "dec 2.5");
    S_EQ ("round(1.5, 39)", "error round() takes digits from -38 to 38, not 39");
    S_EQ ("round(1.5, 1.5)", "error round() takes digits from -38 to 38, not 1.5");
    S_EQ ("round(1, 'x')", "error 'x' is not a number");
    S_EQ ("round('x', 1)", "error 'x' is not a number");
    S_EQ ("round(9223372036854775807, -1)", "error integer overflow");
    S_EQ ("round(99999999999999999999999999999999999999, -1)", "error decimal overflow");
    S_EQ ("abs(-5)", "int 5");
    S_EQ ("abs(5)", "int 5");
    S_EQ ("abs(-2.50)", "dec 2.50");
    S_EQ ("abs(0.0)", "dec 0.0");
    S_EQ ("abs('-3')", "int 3");
    S_EQ ("abs(-9223372036854775807 - 1)", "error integer overflow");
    S_EQ ("abs('x')", "error 'x' is not a number");
    S_EQ ("-'2.5'", "dec -2.5");
    S_EQ ("-(0.0)", "dec 0.0");
}

//  A decimal's text, or "overflow" when RC says so
static const char *
s_decimal_text (int rc, const zetl_expr_decimal_t *d, char *buf)
{
    if (rc != 0)
        return "overflow";
    buf[zetl_expr_decimal_text (d, buf)] = '\0';
    return buf;
}

static zetl_expr_decimal_t
s_decimal (const char *text)
{
    zetl_expr_decimal_t d;
    assert_int_equal (zetl_expr_decimal_parse (text, strlen (text), &d), 0);
    return d;
}

static void
test_decimal_parse (void **state)
{
    (void) state;
    // clang-format off
    static const char *cases[][2] = {
        {"0", "0"}, {"-0", "0"}, {"+12.50", "12.50"}, {".5", "0.5"}, {"5.", "5"}, {"-.5", "-0.5"},
        {"007.10", "7.10"}, {"1e3", "1000"}, {"1.5E3", "1500"}, {"1.5e-3", "0.0015"},
        {"-2.50e+1", "-25.0"}, {"0e5", "0"}, {"0.000", "0.000"},
        {"1e-38", "0.00000000000000000000000000000000000001"},
        //  The written scale, reduced as far as it takes to fit 38 digits
        {"10000000000000000000000000000000000000000000e-10",
         "1000000000000000000000000000000000.0000"},
        {"1.0000000000000000000000000000000000000000000",
         "1.0000000000000000000000000000000000000"},
        {"99999999999999999999999999999999999999", "99999999999999999999999999999999999999"},
        {"18446744073709551616", "18446744073709551616"},
        //  NULL: more than 38 digits; "-1": not a number
        {"1e-39", NULL}, {"1e38", NULL}, {"123456789012345678901234567890123456789", NULL},
        {"1.00000000000000000000000000000000000001", NULL}, {"1e100000000000", NULL},
        {"", "-1"}, {"-", "-1"}, {".", "-1"}, {"1e", "-1"}, {"1e+", "-1"}, {"abc", "-1"},
        {"1.2.3", "-1"}, {" 1", "-1"}, {"1 ", "-1"}, {"--1", "-1"}, {"0x10", "-1"},
        {"NaN", "-1"}, {"1,5", "-1"},
    };
    // clang-format on
    char buf[ZETL_EXPR_DECIMAL_TEXT + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zetl_expr_decimal_t d;
        int rc = zetl_expr_decimal_parse (cases[i][0], strlen (cases[i][0]), &d);
        const char *expected = cases[i][1];
        if (!expected || strcmp (expected, "-1") == 0) {
            if (rc != (expected ? -1 : -2))
                fail_msg ("%s: %d", cases[i][0], rc);
        }
        else if (rc != 0 || strcmp (s_decimal_text (rc, &d, buf), expected) != 0)
            fail_msg ("%s: %d %s, expected %s", cases[i][0], rc, s_decimal_text (rc, &d, buf),
                      expected);
    }
    int64_t i;
    zetl_expr_decimal_t d = s_decimal ("-9223372036854775808.000");
    assert_true (zetl_expr_decimal_to_int (&d, &i));
    assert_true (i == INT64_MIN);
    d = s_decimal ("9223372036854775808");
    assert_false (zetl_expr_decimal_to_int (&d, &i));
    d = s_decimal ("4.50");
    assert_false (zetl_expr_decimal_to_int (&d, &i));
}

//  Operations on decimals against vectors computed with Python's integers
//  (+ - * / as the header says, r: round to B digits, c: compare)
static void
test_decimal_vectors (void **state)
{
    (void) state;
    static const struct {
        const char *a;
        char op;
        const char *b;
        const char *expected;
    } cases[] = {
        {"0.99999999999999999999999999999999999998", '/',
         "0.99999999999999999999999999999999999999", "1"},
        {"99999999999999999999999999999999999999", '/', "99999999999999999999999999999999999998",
         "1"},
        {"1", '/', "99999999999999999999999999999999999999", "0"},
        {"99999999999999999999999999999999999999", '/', "0.00000000000000000000000000000000000003",
         "overflow"},
        {"-99999999999999999999999999999999999999", '/', "3",
         "-33333333333333333333333333333333333333"},
        {"0.00000000000000000000000000000000000001", '/', "7", "0"},
        {"12345678901234567890123456789012345678", '/', "0.1", "overflow"},
        {"1234567890123456789012345678901234567.8", '/', "0.1",
         "12345678901234567890123456789012345678"},
        {"99999999999999999999999999999999999999", '*', "99999999999999999999999999999999999999",
         "overflow"},
        {"0.5555555555555555555555555555555555555", '*', "0.0000000000000000018014398509481984",
         "overflow"},
        {"99999999999999999999999999999999999999", 'r', "-1", "overflow"},
        {"-0.99999999999999999999999999999999999995", 'r', "37",
         "-1.0000000000000000000000000000000000000"},
        {"0.99999999999999999999999999999999999995", 'r', "37",
         "1.0000000000000000000000000000000000000"},
        {"5", 'r', "-1", "10"},
        {"-0.00000000000000000000000000000000000005", 'r', "37",
         "-0.0000000000000000000000000000000000001"},
        {"1", 'c', "1.0000000000000000000000000000000000000", "0"},
        {"-99999999999999999999999999999999999999", 'c',
         "-0.99999999999999999999999999999999999999", "-1"},
        {"-504", '*', "-0.8", "403.2"},
        {"80", '-', "-99999999999999999999.999999999999999999", "overflow"},
        {"83", 'r', "2", "83.00"},
        {"-61002711797876073028924.562290430617479", '/', "7.550669089",
         "-8079113397612182528652.8011279969122057"},
        {"0.75", '+', "9789081944.2561445766", "9789081945.0061445766"},
        {"-99999999999999999.99999999", 'r', "7", "-100000000000000000.0000000"},
        {"-47126129108881797471605.309445729025400", '-', "-0.0005344266638507106067610087",
         "overflow"},
        {"-50455458105988130086760816027081.39328", '/', "-0.000000000000096313", "overflow"},
        {"0.0002", '*', "0.807", "0.0001614"},
        {"-9999999999999999999999999999999999.999", 'c', "-0.000099999", "-1"},
        {"21963575345326200928821448058.621757999", '+', "4358.814872173213711", "overflow"},
        {"-99.99999999999999999999999", '/', "9.99", "-10.01001001001001001001"},
        {"377665306816897.1753016836545760229282", '+', "4505599514585888993584.560388658439308",
         "overflow"},
        {"36203", 'c', "0.00009999999999", "1"},
        {"-9988314206037797.853", 'c', "54.267", "-1"},
        {"30400544.867637777290199757079648144107", '*', "-0.00000000099999999999999999999",
         "overflow"},
        {"27.4", '+', "-241.3715224025157021919732", "-213.9715224025157021919732"},
        {"-99.9", 'r', "37", "-99.900000000000000000000000000000000000"},
        {"76329.44622", '*', "-9792.2300652086037770432367790539561054", "overflow"},
        {"-7", 'r', "33", "-7.000000000000000000000000000000000"},
        {"-9.9", '/', "-74", "0.13378378378378378378"},
        {"83663.79530919514211598595800947218112", 'r', "-29", "0"},
        {"9999.9", 'c', "-8.33", "1"},
        {"95585402802367579129.51540", '-', "-30815143271293.69679505654323301323623", "overflow"},
        {"117488810.4672250638228641", 'r', "-33", "0"},
        {"-0.004246035554", '-', "-99999999999999999999999999.99999999999",
         "99999999999999999999999999.995753964436"},
        {"50301813.18", '+', "-18.732", "50301794.448"},
        {"6378.0130340324127400", 'r', "1", "6378.0"},
        {"-480.05", 'r', "-7", "0"},
        {"-0.000000000000000000094", '/', "-5624019428.4629681326", "0"},
        {"-69132938475726340845440501751753252014", 'c', "0.000000000000000009999999999", "-1"},
        {"-176967609760241331009.78941487357209254", '*', "-9999.999999", "overflow"},
        {"177375384337.0575884", '+', "-1", "177375384336.0575884"},
        {"52.420982307233082687", '+', "0.0000000773", "52.420982384533082687"},
        {"390", '/', "8454.877272335028321530472445609825937", "0.04613"},
        {"-9", 'r', "33", "-9.000000000000000000000000000000000"},
        {"105639.03773837577782710996503161960079", '+', "0.00000094",
         "105639.03773931577782710996503161960079"},
        {"0.000000000036898", '*', "71", "0.000000002619758"},
        {"2.0154", 'c', "15.73124782", "-1"},
        {"-0.0098566", '+', "-9.9", "-9.9098566"},
        {"-0.00000074", '/', "0.19779", "-0.00000374134182719045"},
        {"71.7", '*', "-0.000000075259", "-0.0000053960703"},
        {"-492097444839.1308072226569", '+', "-0.000008749763415177161284",
         "-492097444839.130815972420315177161284"},
        {"-0.0035", '/', "-4830283222876345345.5", "0"},
        {"35336470426.779115047188182093981981173", '+', "58935",
         "35336529361.779115047188182093981981173"},
        {"-3857821.5208844851260", 'c', "75.9", "-1"},
        {"-0.0274", 'r', "-18", "0"},
        {"-0.00000000000075615", '+', "-80.02825463216799283", "-80.02825463216874898"},
        {"-0.450", '+', "-80418640623170.464603098981178808510531",
         "-80418640623170.914603098981178808510531"},
        {"-76418632061653745906796.61", '+', "0.0000000060405",
         "-76418632061653745906796.6099999939595"},
        {"-0.000000000000000133", '+', "-0.00000000000060", "-0.000000000000600133"},
        {"0.99999", '+', "999999999999999999.9999999", "1000000000000000000.9999899"},
        {"-3177243091459858427392736450004.3573336", '+', "-3.503497687", "overflow"},
        {"-957.4361268", 'r', "-31", "0"},
        {"-753.14", '+', "-485856502986.55303200633203904533783702",
         "-485856503739.69303200633203904533783702"},
        {"-1088.5", '/', "-5085.7", "0.21403150008848339462"},
        {"-797.3296086", '*', "-3490578587066710176847550.1390824823162", "overflow"},
        {"-99.9", 'r', "29", "-99.90000000000000000000000000000"},
        {"-742596594376038.4086912845", 'c', "-9.9", "-1"},
        {"-5042232197.537119931156287857563957859", '+', "-623735111254238.2865411777", "overflow"},
        {"-0.6", '/', "-99.99999999999999999999999", "0.006"},
        {"35116594713.89581843", 'r', "-25", "0"},
        {"-0.0000004738154774069773449001937", '/', "0.08761947344941381074623250",
         "-0.00000540765036302723"},
        {"-643684.08321377757207259497296506902004", '-', "0.353",
         "-643684.43621377757207259497296506902004"},
        {"5.36", '*', "-0.22638", "-1.2133968"},
        {"7.519593858631297957395295", '/', "-6444.583503", "-0.00116680835233663632"},
        {"-999.99", '-', "0.5262534844", "-1000.5162534844"},
        {"99999999999.99999999999999", 'c', "4", "1"},
        {"19.845", 'r', "-12", "0"},
        {"9", '*', "-35305414103640.464580", "-317748726932764.181220"},
        {"-207.8139640818360051365867600319290867", '/', "0.000000507",
         "-409889475.50657989178813956614"},
        {"-0.004", '/', "281886.3612618114593", "-0.00000001419011541422"},
        {"0.999", '/', "999999999999999999.9", "0.000000000000000001"},
        {"-9435446128941116.5746", 'c', "-999", "-1"},
        {"-0.5050479347", '-', "-999999999999999999999999999999999999.99", "overflow"},
        {"49.2", 'r', "-23", "0"},
        {"-81471523978.321869908022128661136189387", '/', "5644690932755647014",
         "-0.00000001443330112293"},
        {"83847564038933.02420137885", '/', "296849017774508171.50", "0.00028245862043789929"},
        {"-99999.99999999999999999999999999999999", 'r', "24", "-100000.000000000000000000000000"},
        {"802", '*', "-650983519.04947779784275588724492140371", "overflow"},
        {"-354230429315272.1498058152", 'r', "10", "-354230429315272.1498058152"},
        {"0.00003279430361", '-', "-277982649895328.38076248472333702956622",
         "277982649895328.38079527902694702956622"},
        {"40073485128828080721.408485144369933988", '*', "-9142068.197", "overflow"},
        {"-7194823.3707754959786511807786477080670", 'r', "30",
         "-7194823.370775495978651180778647708067"},
        {"9.9999999999999999999", '-', "-99.9", "109.8999999999999999999"},
        {"549.58078085751875152075628335858647082", '+', "-938543653361961748853124012620933712.50",
         "overflow"},
        {"99999999999999999999", '+', "999999999999999999999999999.99999999999", "overflow"},
        {"0.0000000000003688494123", '+', "-185826346.37573610065",
         "-185826346.3757361006496311505877"},
        {"-116672018.0", '+', "9384238668165892587.374168095475258965",
         "9384238668049220569.374168095475258965"},
        {"0.099", '-', "30.864", "-30.765"},
        {"14.511594699445850592800834523600722807", '*', "6.1322", "overflow"},
        {"0.9", '-', "9", "-8.1"},
        {"450020248597250824853602111612352930.26", '+', "-99999999999999999999.999999999999999999",
         "overflow"},
        {"538481140.6", '/', "3.959117765162281095", "136010387.29847635270274138098"},
        {"91838.050077969474446", '+', "9717727504802746275781607362896111441", "overflow"},
        {"0.0", '*', "-6.06", "0.000"},
        {"99.999", '-', "447347709984.1933805584141022181749547",
         "-447347709884.1943805584141022181749547"},
        {"-6.4", 'c', "-602.9856722", "1"},
        {"-8.8802103338713069398285602045251739767", 'r', "0", "-9"},
        {"5018956825940740887593.9014188437701079", 'c', "-31", "1"},
        {"844443501.5", '-', "-0.00000000000045", "844443501.50000000000045"},
        {"-878904.94640618290624", '/', "0.0000000000002738230714",
         "-3209754904553973629.2651927356914454652"},
        {"-40881467909.922109550658668904767407338", 'c',
         "-8138790611970299641341592589.4231215976", "1"},
        {"-70114.43768097934382964748", '/', "-6", "11685.73961349655730494125"},
        {"-8.33", '-', "9876065998733004189859072.8660311189617",
         "-9876065998733004189859081.1960311189617"},
        {"-51550511123606702484", '-', "-0.00099999999999999999999", "overflow"},
        {"6137.5", 'r', "14", "6137.50000000000000"},
        {"0.03790043093", '/', "0.045051", "0.84127834964817651107"},
        {"-0.04", '/', "2175613205232777.8133", "-0.00000000000000001839"},
        {"0.000001", '/', "999999999999999999999999.9999999999999", "0"},
        {"-200348.2361", 'c', "383.06929566322731917", "-1"},
        {"0.74810", '*', "-301485579453812810485689632978.83683464", "overflow"},
        {"-0.7", 'r', "21", "-0.700000000000000000000"},
        {"812579875832033114921724527.27508183834", 'c', "-924632717722718876291025264985137999.49",
         "1"},
        {"-90737695770952141146.403395785113060445", '/', "202200056.22580446471",
         "-448752079819.51260179304381262949"},
        {"9051.677798299729709", '/', "3.924675878165882266", "2306.35040428608537383708"},
        {"0.00000000000000006", '+', "0.00000000000000000099999999999999999999",
         "0.00000000000000006099999999999999999999"},
        {"-499878794202632869689886.2849429478211", '+', "-999999999999999999999999999999999999.99",
         "overflow"},
        {"-999999999999999999.99999999999999999999", '+', "999999999999.99999999999999999999999999",
         "overflow"},
        {"7576190735.961879687282963", '/', "-6021212170061674778678978189274874065", "0"},
        {"1302461215.1177983650109897136816562355", '+', "-151",
         "1302461064.1177983650109897136816562355"},
        {"-9835035867020756654718721", 'r', "24", "-9835035867020756654718721.0000000000000"},
        {"0.000000000000005", 'r', "19", "0.0000000000000050000"},
        {"0.20316988427400921217432352745347188192", '*', "-0.0002", "overflow"},
        {"-779729.67591477628883", '-', "0.00005", "-779729.67596477628883"},
        {"457869.9829", '+', "631.6656227797582149514305472414645490", "overflow"},
        {"-0.40675", '/', "-43.388", "0.00937471190190836176"},
        {"-1666.009583924299425785872865866527275", '+', "-9999999999999999999.999999999999999999",
         "overflow"},
        {"-819089644785.5373132", 'r', "38", "-819089644785.53731320000000000000000000"},
        {"-579114349285959263.3", '+', "-46339282021.356587175070042262947703994", "overflow"},
        {"-32272129273910917.358781601280943907903", '/', "999",
         "-32304433707618.53589467627755850241"},
        {"917819.6990487797843443652", 'c', "-0.21", "1"},
        {"-35003162595666101810555157.02113597018", 'c', "-9999999999", "-1"},
        {"99999999999999999999999999999999999999", 'r', "9",
         "99999999999999999999999999999999999999"},
        {"365888.57063728209799", '/', "99999", "3.65892229559577693767"},
        {"0.896", '*', "-67810414.052642994626542533817612979043", "overflow"},
        {"43.9", '*', "53788138102415776241.06236069667573171", "overflow"},
        {"-254766206.5221265622", '*', "-71026636.03680350303286770", "overflow"},
        {"0.000042", '*', "0.099999", "0.000004199958"},
        {"-374796.0672", '+', "-999999999999999999999999.9999999999999",
         "-1000000000000000000374796.0671999999999"},
        {"-99.9", '-', "-0.00000021", "-99.89999979"},
        {"99999999999999999999999999999999999.999", '-', "-35987566577994.26129", "overflow"},
        {"99.2", '/', "25079113.79391300154", "0.0000039554826703676"},
    };
    char buf[ZETL_EXPR_DECIMAL_TEXT + 1];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        zetl_expr_decimal_t a = s_decimal (cases[i].a), b, out;
        int rc = 0;
        const char *result = buf;
        if (cases[i].op == 'r')
            rc = zetl_expr_decimal_round (&a, atoi (cases[i].b), &out);
        else
            b = s_decimal (cases[i].b);
        if (cases[i].op == '+')
            rc = zetl_expr_decimal_add (&a, &b, &out);
        else if (cases[i].op == '-')
            rc = zetl_expr_decimal_sub (&a, &b, &out);
        else if (cases[i].op == '*')
            rc = zetl_expr_decimal_mul (&a, &b, &out);
        else if (cases[i].op == '/')
            rc = zetl_expr_decimal_div (&a, &b, &out);
        if (cases[i].op == 'c')
            snprintf (buf, sizeof buf, "%d", zetl_expr_decimal_cmp (&a, &b));
        else
            result = s_decimal_text (rc, &out, buf);
        if (strcmp (result, cases[i].expected) != 0)
            fail_msg ("%s %c %s = %s, expected %s", cases[i].a, cases[i].op, cases[i].b, result,
                      cases[i].expected);
    }
}

//  The parse error for TEXT
static const char *
s_parse_error (const char *text)
{
    static char message[1024];
    char *error = NULL;
    zetl_expr_t *expr = zetl_expr_parse (text, &error);
    if (expr) {
        zetl_expr_destroy (&expr);
        return "(parsed)";
    }
    assert_non_null (error);
    snprintf (message, sizeof message, "%s", error);
    free (error);
    return message;
}

static void
test_parse_errors (void **state)
{
    (void) state;
    // clang-format off
    static const char *cases[][2] = {
        {"", "column 1: the expression is empty; write a field, a literal or a function call"},
        {"   ", "column 4: the expression is empty; write a field, a literal or a function call"},
        {"amount *", "column 9: expected an operand after '*'"},
        {"a * )", "column 5: expected an operand after '*', found ')'"},
        {"(a + b", "column 7: expected ')' to close the '(' at column 1, found the end"},
        {"abs((a + b) c)", "column 13: expected ',' or ')' after argument 1 of abs, found 'c'"},
        {"city || 'x", "column 9: the string that starts here is never closed; end it with '"},
        {"\"abc", "column 1: the string that starts here is never closed; end it with \""},
        {"concatt(a, b)", "column 1: unknown function 'concatt'; use abs, coalesce, concat, if, "
                          "length, lower, round, trim, upper"},
        {"if(a, b)", "column 1: if takes 3 arguments (condition, then, else), not 2"},
        {"x + if(a, b, c, d)", "column 5: if takes 3 arguments (condition, then, else), not 4"},
        {"round()", "column 1: round takes 1 or 2 arguments (value, digits), not 0"},
        {"abs(1, 2)", "column 1: abs takes 1 argument, not 2"},
        {"a $ b",
         "column 3: unexpected character '$'; write text as '...' and other field names as `...`"},
        {"'é' + é",
         "column 7: unexpected character 'é'; write text as '...' and other field names as `...`"},
        {"a b", "column 3: expected an operator or the end, found 'b'"},
        {"a 'long string literal here that goes on'",
         "column 3: expected an operator or the end, found 'long string literal her..."},
        {"a < b < c", "column 7: comparisons do not chain; write a < b and b < c"},
        {"1e5 + a", "column 1: malformed number '1e5'; write numbers as 42 or 12.50"},
        {"a + 5.", "column 5: malformed number '5.'; write numbers as 42 or 12.50"},
        {"12abc", "column 1: malformed number '12abc'; write numbers as 42 or 12.50"},
        {"lower + 1", "column 1: lower is a function: call it as lower(...), or write a field "
                      "of that name as `lower`"},
        {"concat(a b)", "column 10: expected ',' or ')' after argument 1 of concat, found 'b'"},
        {"concat(a,)", "column 10: expected an operand after ',', found ')'"},
        {"a)", "column 2: ')' has no matching '('; remove it"},
        {"a ! b", "column 3: unexpected '!'; write != to compare or not to negate"},
        {"a && b", "column 3: unexpected '&'; write and"},
        {"a | b", "column 3: unexpected '|'; write || to concatenate or or"},
        {"and", "column 1: expected an operand, found 'and'"},
        {"a and", "column 6: expected an operand after 'and'"},
        {"a = not b", "column 5: expected an operand after '=', found 'not'"},
        {"*", "column 1: expected an operand, found '*'"},
        {"a +\n  * b", "line 2, column 3: expected an operand after '+', found '*'"},
        {"`abc", "column 1: the field name that starts here is never closed; end it with `"},
        {"`` + 1", "column 1: empty field name ``; write the name between the backquotes"},
        {"1234567890123456789012345678901234567890",
         "column 1: number '1234567890123456789012345678901234567890' has more than 38 digits"},
        {"a\x01", "column 2: unexpected control character 0x01"},
        {"a.b",
         "column 2: unexpected character '.'; write text as '...' and other field names as `...`"},
    };
    // clang-format on
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *message = s_parse_error (cases[i][0]);
        if (strcmp (message, cases[i][1]) != 0)
            fail_msg ("%s\n  got      %s\n  expected %s", cases[i][0], message, cases[i][1]);
    }
}

//  TIMES copies of UNIT between PREFIX and SUFFIX, as a string the test owns
static char *
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

//  OPEN INNER CLOSE nested 64 deep gives EXPECTED; 65 deep is an error at
//  the 65th OPEN
static void
s_check_nesting (const char *open, const char *inner, const char *close, const char *expected)
{
    for (int depth = ZETL_EXPR_MAX_NESTING; depth <= ZETL_EXPR_MAX_NESTING + 1; depth++) {
        char *opened = s_repeat ("", open, depth, inner);
        char *text = s_repeat (opened, close, depth, "");
        if (depth == ZETL_EXPR_MAX_NESTING)
            assert_string_equal (s_run (text, ""), expected);
        else {
            char message[128];
            snprintf (message, sizeof message,
                      "column %zu: nested deeper than 64 levels; simplify the expression",
                      strlen (open) * ZETL_EXPR_MAX_NESTING + 1);
            assert_string_equal (s_parse_error (text), message);
        }
        free (opened);
        free (text);
    }
}

static void
test_limits (void **state)
{
    (void) state;
    s_check_nesting ("(", "1", ")", "int 1");
    s_check_nesting ("abs(", "1", ")", "int 1");
    s_check_nesting ("-", "1", "", "int 1");
    s_check_nesting ("not ", "true", "", "bool true");
    s_check_nesting ("coalesce(null, ", "1", ")", "int 1");
    s_check_nesting ("if(true, ", "1", ", 2)", "int 1");
    s_check_nesting ("concat('a', ", "'b'", ")",
                     "str aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    //  A long chain of one level does not nest: 1000 terms
    char *chain = s_repeat ("0", " + 1", 1000, "");
    assert_string_equal (s_run (chain, ""), "int 1000");
    free (chain);
    //  Text up to 4096 bytes
    char *text = s_repeat ("1", " ", ZETL_EXPR_MAX_TEXT - 1, "");
    assert_string_equal (s_run (text, ""), "int 1");
    free (text);
    text = s_repeat ("1", " ", ZETL_EXPR_MAX_TEXT, "");
    assert_string_equal (s_parse_error (text), "column 4097: the expression is longer than 4096 "
                                               "bytes; split it into several computed fields");
    free (text);
    //  64 fields
    char fields[1024] = "f0";
    for (int i = 1; i < ZETL_EXPR_MAX_FIELDS; i++)
        snprintf (fields + strlen (fields), sizeof fields - strlen (fields), " + f%d", i);
    assert_string_equal (s_run (fields, ""), "null");
    size_t column = strlen (fields) + 4;
    strcat (fields, " + f64");
    char expected[160];
    snprintf (expected, sizeof expected,
              "column %zu: more than 64 fields in one expression; "
              "split it into several computed fields",
              column);
    assert_string_equal (s_parse_error (fields), expected);
    //  255 arguments
    char *args = s_repeat ("concat('x'", ", 'x'", 254, ")");
    assert_int_equal (strlen (s_run (args, "")), strlen ("str ") + 255);
    free (args);
    args = s_repeat ("concat('x'", ", 'x'", 255, ")");
    assert_string_equal (s_parse_error (args),
                         "column 1: concat takes 1 to 255 arguments, not 256");
    free (args);
}

static void
test_string_limits (void **state)
{
    (void) state;
    char *big = s_repeat ("", "abcdefgh", ZETL_EXPR_MAX_STRING / 8, "");
    assert_string_equal (s_run ("length(upper(s))", "m ss", 1, "s", big), "int 1048576");
    assert_string_equal (s_run ("length(s || '')", "m ss", 1, "s", big), "int 1048576");
    assert_string_equal (s_run ("s || 'x'", "m ss", 1, "s", big), "error string longer than 1 MiB");
    assert_string_equal (s_run ("concat(s, 'x')", "m ss", 1, "s", big),
                         "error string longer than 1 MiB");
    assert_string_equal (s_run ("upper(s || '') = s", "m ss", 1, "s", big), "bool false");
    //  At most 16 MiB of strings in one evaluation
    char *many = s_repeat ("length(lower(s))", " + length(lower(s))", 16, "");
    assert_string_equal (s_run (many, "m ss", 1, "s", big),
                         "error strings over 16 MiB in one evaluation");
    free (many);
    free (big);
}

static void
s_pack (msgpack_packer *pk, const char *picture, ...)
{
    va_list args;
    va_start (args, picture);
    s_vpack (pk, picture, args);
    va_end (args);
}

static size_t
s_block_count (const zetl_expr_t *expr)
{
    size_t count = 0;
    for (const zetl_expr_block_t *block = expr->blocks; block; block = block->next)
        count++;
    return count;
}

//  Warm evaluations allocate nothing: the arena keeps its blocks, and a
//  string made in an earlier block stays valid when a later one is taken
static void
test_arena_reuse (void **state)
{
    (void) state;
    char *error = NULL;
    zetl_expr_t *expr = zetl_expr_parse ("concat(upper(s), '|', lower(s), '|', 7 / 2)", &error);
    assert_non_null (expr);
    char *s = s_repeat ("", "aB", 20000, "");  //  Two of these do not fit a 64 KiB block
    char *upper = s_repeat ("", "AB", 20000, "");
    char *lower = s_repeat ("", "ab", 20000, "");
    size_t size = 100000;
    char *expected = (char *) malloc (size), *result = (char *) malloc (size);
    snprintf (expected, size, "str %s|%s|3.5", upper, lower);
    s_rec_t rec;
    s_rec_init (&rec);
    s_pack (&rec.pk, "m ss", 1, "s", s);
    const msgpack_object *record = s_rec_object (&rec);
    s_eval_once (expr, record, result, size);
    assert_string_equal (result, expected);
    size_t blocks = s_block_count (expr);
    const zetl_expr_block_t *first = expr->blocks;
    assert_true (blocks >= 2);
    for (int i = 0; i < 100; i++) {
        s_eval_once (expr, record, result, size);
        assert_string_equal (result, expected);
    }
    assert_int_equal (s_block_count (expr), blocks);
    assert_ptr_equal (expr->blocks, first);
    s_rec_destroy (&rec);
    zetl_expr_destroy (&expr);
    free (s);
    free (upper);
    free (lower);
    free (expected);
    free (result);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_decimal_parse),
        cmocka_unit_test (test_decimal_vectors),
        cmocka_unit_test (test_literals),
        cmocka_unit_test (test_fields),
        cmocka_unit_test (test_pass_through),
        cmocka_unit_test (test_int_arithmetic),
        cmocka_unit_test (test_decimal_arithmetic),
        cmocka_unit_test (test_numbers_from_records),
        cmocka_unit_test (test_null_rules),
        cmocka_unit_test (test_comparisons),
        cmocka_unit_test (test_logic),
        cmocka_unit_test (test_concat),
        cmocka_unit_test (test_string_functions),
        cmocka_unit_test (test_round_abs),
        cmocka_unit_test (test_parse_errors),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_string_limits),
        cmocka_unit_test (test_arena_reuse),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
