/*  expr_eval_test - zetl_expr: evaluation against a record. Fields and what
    passes through unchanged, the null rules and three-valued logic,
    comparisons, not/and/or/if, concatenation and the text functions, and an
    arena that warm evaluations reuse without allocating
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "expr_fixtures.h"
#include "zetl_expr_code.h"  //  To check that the arena is reused

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
        cmocka_unit_test (test_fields),
        cmocka_unit_test (test_pass_through),
        cmocka_unit_test (test_null_rules),
        cmocka_unit_test (test_comparisons),
        cmocka_unit_test (test_logic),
        cmocka_unit_test (test_concat),
        cmocka_unit_test (test_string_functions),
        cmocka_unit_test (test_arena_reuse),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
