/*  zetl_expr_decimal - exact decimals for computed fields

    A decimal is a plain value: a magnitude below 10^38 (38 digits at most),
    a scale (digits after the point, 0..38) and a sign. zetl_expr does its
    arithmetic on these, so that 0.1 + 0.2 is 0.3 and 12.50 * 3 is 37.50;
    nothing here goes through a double. No function allocates or keeps
    state, so any thread may call them.

    Scales: + and - give the larger scale of the operands, * their sum,
    / at most 20 digits after the point (fewer when the integer part is
    longer than 18 digits) rounded half away from zero with trailing zeros
    trimmed. A result is never rounded otherwise: when it needs more than
    38 digits the operation fails (trailing zeros are dropped first).
*/
#ifndef ZETL_EXPR_DECIMAL_H_INCLUDED
#define ZETL_EXPR_DECIMAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZETL_EXPR_DECIMAL_DIGITS 38     //  most digits a decimal holds
#define ZETL_EXPR_DECIMAL_DIV_SCALE 20  //  most digits after the point of a quotient
#define ZETL_EXPR_DECIMAL_TEXT 48       //  bytes zetl_expr_decimal_text may write

typedef struct {
    unsigned __int128 mag;  //  magnitude, below 10^38
    int scale;              //  value = mag / 10^scale, 0..38
    bool neg;               //  negative; never set for zero
} zetl_expr_decimal_t;

//  Parse TEXT (LEN bytes): [+-]digits[.digits][(e|E)[+-]digits], with digits
//  on at least one side of the point and no spaces. The scale is the one
//  written ("12.50" has 2, "1.5e3" 0, "1e-3" 3), less any trailing zeros
//  that do not fit 38 digits. Returns 0; -1 if TEXT is not a number; -2 if
//  it is one but needs more than 38 digits.
int zetl_expr_decimal_parse (const char *text, size_t len, zetl_expr_decimal_t *out);

//  Set *OUT to the integer VALUE (scale 0).
void zetl_expr_decimal_from_int (int64_t value, zetl_expr_decimal_t *out);

//  Set *OUT to the unsigned integer VALUE (scale 0).
void zetl_expr_decimal_from_uint (uint64_t value, zetl_expr_decimal_t *out);

//  If SELF is an integer that fits int64 (any scale, "4.00" too), set
//  *VALUE and return true; else return false.
bool zetl_expr_decimal_to_int (const zetl_expr_decimal_t *self, int64_t *value);

//  Write SELF's canonical text to BUF (ZETL_EXPR_DECIMAL_TEXT bytes, not
//  NUL-terminated): -?digits[.digits], exactly SCALE digits after the point,
//  no point when the scale is 0. Returns the length.
size_t zetl_expr_decimal_text (const zetl_expr_decimal_t *self, char *buf);

//  Exact *OUT = A + B, A - B, A * B. Return 0, or -1 when the result needs
//  more than 38 digits. OUT may be A or B.
int zetl_expr_decimal_add (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b,
                           zetl_expr_decimal_t *out);
int zetl_expr_decimal_sub (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b,
                           zetl_expr_decimal_t *out);
int zetl_expr_decimal_mul (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b,
                           zetl_expr_decimal_t *out);

//  *OUT = A / B, B not zero, as the header comment says. Returns 0, or -1
//  when the integer part of the quotient needs more than 38 digits.
int zetl_expr_decimal_div (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b,
                           zetl_expr_decimal_t *out);

//  *OUT = A rounded half away from zero to DIGITS (-38..38) digits after
//  the point; the scale becomes max (DIGITS, 0), padding with zeros
//  (round (2.5, 3) is 2.500). Returns 0, or -1 past 38 digits.
int zetl_expr_decimal_round (const zetl_expr_decimal_t *a, int digits, zetl_expr_decimal_t *out);

//  Return -1, 0 or 1 as A is below, equal to or above B (2.50 equals 2.5).
int zetl_expr_decimal_cmp (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b);

#endif
