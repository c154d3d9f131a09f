/*  zetl_expr_decimal - exact decimals for computed fields

    Magnitudes are unsigned 128-bit integers below 10^38. Aligning two
    scales or multiplying can need up to 76 digits, so those steps work on
    256-bit intermediates (two 128-bit halves) and come back to 128 bits
    only when the result fits, dropping trailing zeros if that is what it
    takes. Division makes its digits 128 bits at a time where it can.
*/
#include "zetl_expr_decimal.h"

#include <assert.h>
#include <string.h>

typedef unsigned __int128 s_u128_t;

//  A 256-bit intermediate: hi * 2^128 + lo
typedef struct {
    s_u128_t hi;
    s_u128_t lo;
} s_u256_t;

#define S_U128(hi, lo) (((s_u128_t) (hi) << 64) | (lo))
#define S_U128_MAX (~(s_u128_t) 0)
#define S_MAX_SCALE 38

// clang-format off
static const s_u128_t s_pow10[39] = {
    S_U128 (0x0000000000000000ull, 0x0000000000000001ull),  //  10^0
    S_U128 (0x0000000000000000ull, 0x000000000000000aull),  //  10^1
    S_U128 (0x0000000000000000ull, 0x0000000000000064ull),  //  10^2
    S_U128 (0x0000000000000000ull, 0x00000000000003e8ull),  //  10^3
    S_U128 (0x0000000000000000ull, 0x0000000000002710ull),  //  10^4
    S_U128 (0x0000000000000000ull, 0x00000000000186a0ull),  //  10^5
    S_U128 (0x0000000000000000ull, 0x00000000000f4240ull),  //  10^6
    S_U128 (0x0000000000000000ull, 0x0000000000989680ull),  //  10^7
    S_U128 (0x0000000000000000ull, 0x0000000005f5e100ull),  //  10^8
    S_U128 (0x0000000000000000ull, 0x000000003b9aca00ull),  //  10^9
    S_U128 (0x0000000000000000ull, 0x00000002540be400ull),  //  10^10
    S_U128 (0x0000000000000000ull, 0x000000174876e800ull),  //  10^11
    S_U128 (0x0000000000000000ull, 0x000000e8d4a51000ull),  //  10^12
    S_U128 (0x0000000000000000ull, 0x000009184e72a000ull),  //  10^13
    S_U128 (0x0000000000000000ull, 0x00005af3107a4000ull),  //  10^14
    S_U128 (0x0000000000000000ull, 0x00038d7ea4c68000ull),  //  10^15
    S_U128 (0x0000000000000000ull, 0x002386f26fc10000ull),  //  10^16
    S_U128 (0x0000000000000000ull, 0x016345785d8a0000ull),  //  10^17
    S_U128 (0x0000000000000000ull, 0x0de0b6b3a7640000ull),  //  10^18
    S_U128 (0x0000000000000000ull, 0x8ac7230489e80000ull),  //  10^19
    S_U128 (0x0000000000000005ull, 0x6bc75e2d63100000ull),  //  10^20
    S_U128 (0x0000000000000036ull, 0x35c9adc5dea00000ull),  //  10^21
    S_U128 (0x000000000000021eull, 0x19e0c9bab2400000ull),  //  10^22
    S_U128 (0x000000000000152dull, 0x02c7e14af6800000ull),  //  10^23
    S_U128 (0x000000000000d3c2ull, 0x1bcecceda1000000ull),  //  10^24
    S_U128 (0x0000000000084595ull, 0x161401484a000000ull),  //  10^25
    S_U128 (0x000000000052b7d2ull, 0xdcc80cd2e4000000ull),  //  10^26
    S_U128 (0x00000000033b2e3cull, 0x9fd0803ce8000000ull),  //  10^27
    S_U128 (0x00000000204fce5eull, 0x3e25026110000000ull),  //  10^28
    S_U128 (0x00000001431e0faeull, 0x6d7217caa0000000ull),  //  10^29
    S_U128 (0x0000000c9f2c9cd0ull, 0x4674edea40000000ull),  //  10^30
    S_U128 (0x0000007e37be2022ull, 0xc0914b2680000000ull),  //  10^31
    S_U128 (0x000004ee2d6d415bull, 0x85acef8100000000ull),  //  10^32
    S_U128 (0x0000314dc6448d93ull, 0x38c15b0a00000000ull),  //  10^33
    S_U128 (0x0001ed09bead87c0ull, 0x378d8e6400000000ull),  //  10^34
    S_U128 (0x0013426172c74d82ull, 0x2b878fe800000000ull),  //  10^35
    S_U128 (0x00c097ce7bc90715ull, 0xb34b9f1000000000ull),  //  10^36
    S_U128 (0x0785ee10d5da46d9ull, 0x00f436a000000000ull),  //  10^37
    S_U128 (0x4b3b4ca85a86c47aull, 0x098a224000000000ull),  //  10^38
};
// clang-format on

//  ---------------------------------------------------------------------------
//  256-bit intermediates

static s_u256_t
s_mul (s_u128_t a, s_u128_t b)
{
    uint64_t a0 = (uint64_t) a, a1 = (uint64_t) (a >> 64);
    uint64_t b0 = (uint64_t) b, b1 = (uint64_t) (b >> 64);
    s_u128_t p00 = (s_u128_t) a0 * b0, p01 = (s_u128_t) a0 * b1;
    s_u128_t p10 = (s_u128_t) a1 * b0, p11 = (s_u128_t) a1 * b1;
    s_u128_t mid = (p00 >> 64) + (uint64_t) p01 + (uint64_t) p10;  //  At most 3 * (2^64 - 1)
    s_u256_t r;
    r.lo = (mid << 64) | (uint64_t) p00;
    r.hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    return r;
}

static int
s_cmp (s_u256_t a, s_u256_t b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    return a.lo < b.lo ? -1 : a.lo > b.lo;
}

static s_u256_t
s_add (s_u256_t a, s_u256_t b)
{
    s_u256_t r = {a.hi + b.hi, a.lo + b.lo};
    r.hi += r.lo < a.lo;  //  Carry
    return r;
}

//  A - B, A >= B
static s_u256_t
s_sub (s_u256_t a, s_u256_t b)
{
    s_u256_t r = {a.hi - b.hi - (a.lo < b.lo), a.lo - b.lo};
    return r;
}

//  Divide *A by 10, return the remainder: four 64-bit limbs, high first
static unsigned
s_divmod10 (s_u256_t *a)
{
    uint64_t limbs[4] = {(uint64_t) (a->hi >> 64), (uint64_t) a->hi, (uint64_t) (a->lo >> 64),
                         (uint64_t) a->lo};
    uint64_t rem = 0;
    for (int i = 0; i < 4; i++) {
        s_u128_t cur = ((s_u128_t) rem << 64) | limbs[i];
        limbs[i] = (uint64_t) (cur / 10);
        rem = (uint64_t) (cur % 10);
    }
    a->hi = S_U128 (limbs[0], limbs[1]);
    a->lo = S_U128 (limbs[2], limbs[3]);
    return (unsigned) rem;
}

static bool
s_fits (s_u256_t r)
{
    return r.hi == 0 && r.lo < s_pow10[S_MAX_SCALE];
}

//  Store R / 10^SCALE in *OUT, dropping trailing zeros only as far as it
//  takes to fit 38 digits and scale 38. Returns 0, or -1 if it never fits.
static int
s_finish (s_u256_t r, int scale, bool neg, zetl_expr_decimal_t *out)
{
    while ((!s_fits (r) || scale > S_MAX_SCALE) && scale > 0) {
        s_u256_t shorter = r;
        if (s_divmod10 (&shorter) != 0)
            break;
        r = shorter;
        scale--;
    }
    if (!s_fits (r) || scale > S_MAX_SCALE)
        return -1;
    out->mag = r.lo;
    out->scale = scale;
    out->neg = neg && r.lo != 0;
    return 0;
}

//  ---------------------------------------------------------------------------
//  Text

//  Significant digits being read: MAG holds COUNT of them; ZEROS more zeros
//  were read after them and are applied when a nonzero digit follows
typedef struct {
    s_u128_t mag;
    int count;
    long zeros;
    bool too_long;  //  more than 38 significant digits
} s_digits_t;

static void
s_digit (s_digits_t *d, char c)
{
    if (c == '0') {
        if (d->count > 0)
            d->zeros++;  //  Leading zeros are not significant
        return;
    }
    if (d->count + d->zeros + 1 > S_MAX_SCALE) {
        d->too_long = true;
        return;
    }
    d->mag = d->mag * s_pow10[d->zeros] * 10 + (unsigned) (c - '0');
    d->count += (int) d->zeros + 1;
    d->zeros = 0;
}

//  Read digits from *P into D; return how many
static long
s_read_digits (const char **p, const char *end, s_digits_t *d)
{
    long n = 0;
    for (; *p < end && **p >= '0' && **p <= '9'; (*p)++, n++)
        s_digit (d, **p);
    return n;
}

//  Read an optional exponent at *P into *EXP (capped, it only has to be
//  large enough to fail). Returns 0, or -1 if malformed.
static int
s_read_exponent (const char **p, const char *end, long *exp)
{
    *exp = 0;
    if (*p == end || (**p != 'e' && **p != 'E'))
        return 0;
    (*p)++;
    bool neg = *p < end && **p == '-';
    if (*p < end && (**p == '-' || **p == '+'))
        (*p)++;
    if (*p == end || **p < '0' || **p > '9')
        return -1;
    for (; *p < end && **p >= '0' && **p <= '9'; (*p)++)
        if (*exp < 100000)
            *exp = *exp * 10 + (**p - '0');
    if (neg)
        *exp = -*exp;
    return 0;
}

//  Place significant digits D (value D * 10^SHIFT, written with scale
//  WRITTEN) at the written scale, or the nearest one that fits
static int
s_place (const s_digits_t *d, long shift, long written, bool neg, zetl_expr_decimal_t *out)
{
    long scale = written > 0 ? written : 0;
    if (d->mag == 0) {
        out->mag = 0;
        out->scale = scale < S_MAX_SCALE ? (int) scale : S_MAX_SCALE;
        out->neg = false;
        return 0;
    }
    long least = shift < 0 ? -shift : 0;  //  The smallest exact scale
    if (scale > S_MAX_SCALE)
        scale = S_MAX_SCALE;
    if (d->count + shift + scale > S_MAX_SCALE)
        scale = S_MAX_SCALE - d->count - shift;
    if (scale < least)
        return -2;
    out->mag = d->mag * s_pow10[shift + scale];
    out->scale = (int) scale;
    out->neg = neg;
    return 0;
}

int
zetl_expr_decimal_parse (const char *text, size_t len, zetl_expr_decimal_t *out)
{
    assert (text || len == 0);
    assert (out);
    const char *p = text, *end = text + len;
    bool neg = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    s_digits_t d = {0, 0, 0, false};
    long int_digits = s_read_digits (&p, end, &d);
    long frac_digits = 0;
    if (p < end && *p == '.') {
        p++;
        frac_digits = s_read_digits (&p, end, &d);
    }
    long exp;
    if (int_digits + frac_digits == 0 || s_read_exponent (&p, end, &exp) != 0 || p != end)
        return -1;
    if (d.too_long)
        return -2;
    //  The value is d.mag * 10^(d.zeros + exp - frac_digits)
    return s_place (&d, d.zeros + exp - frac_digits, frac_digits - exp, neg, out);
}

void
zetl_expr_decimal_from_int (int64_t value, zetl_expr_decimal_t *out)
{
    assert (out);
    out->neg = value < 0;
    out->mag = value < 0 ? (uint64_t) 0 - (uint64_t) value : (uint64_t) value;
    out->scale = 0;
}

void
zetl_expr_decimal_from_uint (uint64_t value, zetl_expr_decimal_t *out)
{
    assert (out);
    out->neg = false;
    out->mag = value;
    out->scale = 0;
}

bool
zetl_expr_decimal_to_int (const zetl_expr_decimal_t *self, int64_t *value)
{
    assert (self && value);
    s_u128_t unit = s_pow10[self->scale];
    if (self->mag % unit != 0)
        return false;
    s_u128_t mag = self->mag / unit;
    if (mag > (s_u128_t) INT64_MAX + self->neg)
        return false;
    *value = self->neg ? (int64_t) ((uint64_t) 0 - (uint64_t) mag) : (int64_t) mag;
    return true;
}

//  Write the digits of V backwards, ending at END; return their start
static char *
s_u64_digits (uint64_t v, char *end, int min_digits)
{
    char *p = end;
    while (v || min_digits > 0) {
        *--p = (char) ('0' + v % 10);
        v /= 10;
        min_digits--;
    }
    return p;
}

size_t
zetl_expr_decimal_text (const zetl_expr_decimal_t *self, char *buf)
{
    assert (self && buf);
    //  Digits right to left, 19 at a time while the magnitude is wider than 64 bits
    char digits[48];
    char *end = digits + sizeof digits, *start = end;
    s_u128_t mag = self->mag;
    while (mag > UINT64_MAX) {
        start = s_u64_digits ((uint64_t) (mag % s_pow10[19]), start, 19);
        mag /= s_pow10[19];
    }
    start = s_u64_digits ((uint64_t) mag, start, 1);
    while (end - start <= self->scale)
        *--start = '0';  //  At least one digit before the point
    size_t int_len = (size_t) (end - start) - (size_t) self->scale;
    char *p = buf;
    if (self->neg)
        *p++ = '-';
    memcpy (p, start, int_len);
    p += int_len;
    if (self->scale > 0) {
        *p++ = '.';
        memcpy (p, start + int_len, (size_t) self->scale);
        p += self->scale;
    }
    return (size_t) (p - buf);
}

//  ---------------------------------------------------------------------------
//  Arithmetic

int
zetl_expr_decimal_add (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b,
                       zetl_expr_decimal_t *out)
{
    assert (a && b && out);
    int scale = a->scale > b->scale ? a->scale : b->scale;
    s_u256_t x = s_mul (a->mag, s_pow10[scale - a->scale]);
    s_u256_t y = s_mul (b->mag, s_pow10[scale - b->scale]);
    if (a->neg == b->neg)
        return s_finish (s_add (x, y), scale, a->neg, out);
    if (s_cmp (x, y) >= 0)
        return s_finish (s_sub (x, y), scale, a->neg, out);
    return s_finish (s_sub (y, x), scale, b->neg, out);
}

int
zetl_expr_decimal_sub (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b,
                       zetl_expr_decimal_t *out)
{
    assert (b);
    zetl_expr_decimal_t minus_b = *b;
    minus_b.neg = !b->neg && b->mag != 0;
    return zetl_expr_decimal_add (a, &minus_b, out);
}

int
zetl_expr_decimal_mul (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b,
                       zetl_expr_decimal_t *out)
{
    assert (a && b && out);
    return s_finish (s_mul (a->mag, b->mag), a->scale + b->scale, a->neg != b->neg, out);
}

static int
s_digit_count (s_u128_t v)
{
    int n = 1;
    while (n <= S_MAX_SCALE && v >= s_pow10[n])
        n++;
    return n;
}

//  The next digit of R / B (R < B) when 10 R would overflow: 10 R mod B
//  by adding R ten times, each time taking B away when the sum reaches it
static unsigned
s_next_digit_wide (s_u128_t *r, s_u128_t b)
{
    unsigned digit = 0;
    s_u128_t sum = 0;  //  i R mod B, always below B
    for (int i = 0; i < 10; i++) {
        if (sum >= b - *r) {
            sum -= b - *r;
            digit++;
        }
        else
            sum += *r;
    }
    *r = sum;
    return digit;
}

//  The next COUNT (at most 38) digits of the fraction R / B (R < B), as a
//  number; leaves the remainder in *R. Takes as many digits per 128-bit
//  division as R allows.
static s_u128_t
s_next_digits (s_u128_t *r, s_u128_t b, int count)
{
    s_u128_t n = 0;
    while (count > 0) {
        if (*r == 0)
            return n * s_pow10[count];
        if (*r > S_U128_MAX / 10) {
            n = n * 10 + s_next_digit_wide (r, b);
            count--;
            continue;
        }
        int k = count;
        while (*r > S_U128_MAX / s_pow10[k])
            k--;
        s_u128_t t = *r * s_pow10[k];
        n = n * s_pow10[k] + t / b;
        *r = t % b;
        count -= k;
    }
    return n;
}

int
zetl_expr_decimal_div (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b,
                       zetl_expr_decimal_t *out)
{
    assert (a && b && out);
    assert (b->mag != 0);
    //  A / B = (a.mag / b.mag) * 10^shift; take the digits of the magnitudes'
    //  quotient up to the 20th after the result's point, or 38 in all
    s_u128_t q = a->mag / b->mag, r = a->mag % b->mag;
    int shift = b->scale - a->scale;
    int want = ZETL_EXPR_DECIMAL_DIV_SCALE + shift;  //  digits after the quotient's point
    s_u128_t n;
    unsigned round_digit;
    if (want < 0) {
        //  The quotient has more digits than the result keeps: drop some
        n = q / s_pow10[-want];
        round_digit = (unsigned) (q / s_pow10[-want - 1] % 10);
    }
    else {
        int room = q ? S_MAX_SCALE - s_digit_count (q) : S_MAX_SCALE;
        want = want < room ? want : room;
        n = q * s_pow10[want] + s_next_digits (&r, b->mag, want);
        round_digit = (unsigned) s_next_digits (&r, b->mag, 1);
    }
    int scale = want - shift;
    if (scale < 0)
        return -1;  //  The integer part alone is longer than 38 digits
    //  Half away from zero: the magnitude's first dropped digit decides
    if (round_digit >= 5 && ++n == s_pow10[S_MAX_SCALE]) {
        if (scale == 0)
            return -1;
        n /= 10;
        scale--;
    }
    while (scale > 0 && n % 10 == 0) {
        n /= 10;
        scale--;
    }
    out->mag = n;
    out->scale = scale;
    out->neg = a->neg != b->neg && n != 0;
    return 0;
}

int
zetl_expr_decimal_round (const zetl_expr_decimal_t *a, int digits, zetl_expr_decimal_t *out)
{
    assert (a && out);
    assert (digits >= -S_MAX_SCALE && digits <= S_MAX_SCALE);
    int scale = digits > 0 ? digits : 0;
    if (digits >= a->scale) {
        s_u256_t padded = s_mul (a->mag, s_pow10[scale - a->scale]);
        return s_finish (padded, scale, a->neg, out);
    }
    int drop = a->scale - digits;  //  1..76
    s_u128_t n = 0;
    if (drop <= S_MAX_SCALE) {
        n = a->mag / s_pow10[drop];
        n += a->mag / s_pow10[drop - 1] % 10 >= 5;
    }
    s_u256_t shifted = s_mul (n, s_pow10[scale - digits]);  //  Back by -DIGITS when negative
    return s_finish (shifted, scale, a->neg, out);
}

int
zetl_expr_decimal_cmp (const zetl_expr_decimal_t *a, const zetl_expr_decimal_t *b)
{
    assert (a && b);
    if (a->neg != b->neg)
        return a->neg ? -1 : 1;  //  Zero is never negative
    int c;
    if (a->scale == b->scale)
        c = a->mag < b->mag ? -1 : a->mag > b->mag;
    else {
        int scale = a->scale > b->scale ? a->scale : b->scale;
        c = s_cmp (s_mul (a->mag, s_pow10[scale - a->scale]),
                   s_mul (b->mag, s_pow10[scale - b->scale]));
    }
    return a->neg ? -c : c;
}
