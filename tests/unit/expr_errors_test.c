/*  expr_errors_test - zetl_expr: what it refuses. Every parse error with its
    line and column, and the limits: nesting, text length, fields, function
    arguments, and the size of strings made in one evaluation
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "expr_fixtures.h"

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

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_parse_errors),
        cmocka_unit_test (test_limits),
        cmocka_unit_test (test_string_limits),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
