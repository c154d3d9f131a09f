/*  zetl_expr - expressions for computed fields

    A transform step's `compute:` entries, such as "amount * nights" or
    "concat(city, ' / ', coalesce(region, 'unknown'))", are parsed once at
    start-up into a zetl_expr_t and evaluated for each record. The caller
    owns the expression. It keeps its own scratch space (a value stack and
    a string arena, reset at each evaluation), so evaluating allocates
    nothing once warm and is reentrant per expression: an expression is
    used by one thread at a time, and each thread that evaluates needs its
    own (parse the text once per thread).

    The language:
      literals    42, 12.50 (an exact decimal), 'it''s' or "say ""hi""",
                  true, false, null
      fields      amount, _id2 (letters, digits, _); `Unit Price` for any
                  other name, or one that is a keyword or function
      operators   lowest first: or; and; not; = == != <> < <= > >= (they do
                  not chain); || (concatenate); + -; * / %; unary -
      functions   abs(x), coalesce(a, ...), concat(a, ...), if(c, a, b),
                  length(s), lower(s), round(x[, digits]), trim(s), upper(s)
    Keywords and function names are case-insensitive; field names are not.

    Values: null, bool, int (int64), decimal (exact, zetl_expr_decimal) and
    string. A record value is read as the same: msgpack int and uint (an
    uint above int64 as a decimal), ZETL_EXT_DECIMAL text, float (as the
    decimal of its shortest round-trip text), bool, str; nil or a missing
    value is null.

    Rules, as in SQL:
    - Null: arithmetic, ||, comparisons, lower/upper/trim/length/abs/round
      of a null are null. `and`/`or` are three-valued and short-circuit
      (false and x is false without evaluating x). if() takes the else
      branch when the condition is null. coalesce() is its first non-null
      argument, evaluated left to right until one is found; concat() skips
      nulls.
    - Arithmetic is exact. Two ints give an int, and an int result out of
      int64 fails with "integer overflow"; / of two ints that do not divide
      gives a decimal (7 / 2 = 3.5). % takes ints only. With a decimal on
      either side the result is a decimal whose scale follows
      zetl_expr_decimal.h: + and - the larger scale (12.50 + 1 = 13.50),
      * the sum of the scales (12.50 * 3 = 37.50, 1.5 * 1.5 = 2.25), / at
      most 20 digits after the point, rounded half away from zero, trailing
      zeros trimmed (1 / 3 = 0.33333333333333333333, 10 / 4 = 2.5, 5.0 / 2
      = 2.5). A decimal needing more than 38 digits fails with "decimal
      overflow". A string operand is converted when it is a number
      ("  12.5 ", "-3", "1e3"; surrounding ASCII spaces allowed), else
      "'abc' is not a number"; a bool is never a number.
    - round(x, d) rounds half away from zero to d (-38..38, default 0)
      digits after the point and gives a decimal of scale d when d > 0
      (round(2, 2) = 2.00), else x's type (an int stays an int). abs and
      unary - keep the type.
    - Comparisons give a bool. Two numbers, or a number and a string
      holding one, compare by value (2.50 = 2.5, '10' > 9); two strings by
      their bytes, then length ('10' < '9'); two bools false < true; a bool
      and the string 'true' or 'false' (any case) as bools. Any other pair
      fails ("'abc' is not a number", "cannot compare a bool with a
      number").
    - and, or, not and if()'s condition take bools, or the strings 'true'
      and 'false' (any case); anything else fails.
    - Text: || and concat() join the text of their operands: strings as
      they are, ints and decimals in canonical form, bools as true/false, a
      record's decimal or float as its text. Maps, arrays and binary data
      have no text. lower() and upper() map ASCII, Latin-1, Latin
      Extended-A, basic Greek and Cyrillic letters (other characters, and
      ß, ı and İ whose mapping changes length, stay); length() counts UTF-8
      characters (bytes that do not continue a sequence); trim() strips
      ASCII whitespace at both ends.
    - Result: arithmetic gives an int or a decimal; comparisons, and, or,
      not a bool; ||, concat, lower, upper, trim a string; length an int;
      coalesce and if the chosen operand as it is. A record's value that
      reaches the result unchanged (a bare field, or one that coalesce or
      if chose) is packed exactly as it was in the record.

    Limits: text up to 4096 bytes, nesting (parentheses, calls, unary
    operators) 64 deep, 64 distinct fields, 255 arguments per call;
    strings made by an evaluation at most 1 MiB each and 16 MiB in all.
*/
#ifndef ZETL_EXPR_H_INCLUDED
#define ZETL_EXPR_H_INCLUDED

#include <msgpack.h>
#include <stddef.h>

#define ZETL_EXPR_MAX_TEXT 4096       //  bytes of expression text
#define ZETL_EXPR_MAX_NESTING 64      //  parentheses, calls and unary operators
#define ZETL_EXPR_MAX_FIELDS 64       //  distinct fields one expression reads
#define ZETL_EXPR_MAX_STRING 1048576  //  bytes of one string an evaluation makes

typedef struct zetl_expr zetl_expr_t;

//  Parse TEXT (borrowed). Returns the expression (caller owns it), or NULL
//  with *ERROR set to a message the caller frees, which gives the 1-based
//  character column in TEXT (with the line too when TEXT has several) and
//  what to do: "column 9: expected an operand after '*'", "column 1:
//  unknown function 'concatt'; use abs, coalesce, concat, ...".
zetl_expr_t *zetl_expr_parse (const char *text, char **error);

//  Destroy the expression and set *self_p to NULL. Does nothing if *self_p
//  is NULL.
void zetl_expr_destroy (zetl_expr_t **self_p);

//  Return how many distinct fields the expression reads.
size_t zetl_expr_field_count (const zetl_expr_t *self);

//  Return the name of field INDEX (< zetl_expr_field_count), fields
//  numbered in order of first use. Borrowed: valid until the expression is
//  destroyed.
const char *zetl_expr_field_name (const zetl_expr_t *self, size_t index);

//  Evaluate for one record: VALUES[i] is the record's value of field i
//  (borrowed; NULL or nil is null; VALUES may be NULL when there are no
//  fields). Packs the result with PACKER: nil, bool, int64, a decimal as
//  ZETL_EXT_DECIMAL text, a str, or a record's value as it was. Returns 0,
//  or -1 with nothing packed and ERROR (SIZE bytes, NUL-terminated) set to
//  a short reason for a dead letter: "division by zero", "'abc' is not a
//  number", "integer overflow". Not thread-safe: uses SELF's scratch space.
int zetl_expr_eval (zetl_expr_t *self, const msgpack_object *const *values, msgpack_packer *packer,
                    char *error, size_t size);

#endif
