/*  expr_numbers_test - zetl_expr: numbers. Literals, integer arithmetic and
    its overflows, exact decimal arithmetic within 38 digits, numbers read
    from records (strings, decimals, floats, what is not a number), round()
    and abs()
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "expr_fixtures.h"

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

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_literals),
        cmocka_unit_test (test_int_arithmetic),
        cmocka_unit_test (test_decimal_arithmetic),
        cmocka_unit_test (test_numbers_from_records),
        cmocka_unit_test (test_round_abs),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
