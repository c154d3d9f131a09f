/*  zetl_expr_value - the values of an evaluation, and what they convert to

    Internal to zetl_expr. An evaluation (zetl_expr_run_t, on the stack of
    zetl_expr_eval) works on zetl_expr_value_t: a record's value stays a
    borrowed msgpack object until an operation asks for a number, text or
    bool, so a value that only passes through is never converted. The
    conversions below change a value in place; on failure they write the
    reason for the dead letter and return -1. Strings they make live in
    the expression's arena until the next evaluation.
*/
#ifndef ZETL_EXPR_VALUE_H_INCLUDED
#define ZETL_EXPR_VALUE_H_INCLUDED

#include "zetl_expr_code.h"

#include <stdbool.h>
#include <stddef.h>

#define ZETL_EXPR_SHOW 64  //  bytes zetl_expr_show may write

//  One evaluation
typedef struct {
    zetl_expr_t *expr;                    //  its arena and constants
    const msgpack_object *const *values;  //  the record's, by field index (borrowed)
    char *error;                          //  where the reason goes, SIZE bytes
    size_t size;
    size_t arena_total;  //  bytes of strings made so far
} zetl_expr_run_t;

//  Write the reason for failing (printf FORMAT) into RUN's error. Returns -1.
int zetl_expr_fail (zetl_expr_run_t *run, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Return N bytes of the arena for a string, valid until the next
//  evaluation, or NULL (the reason written) past 16 MiB in one evaluation.
char *zetl_expr_alloc (zetl_expr_run_t *run, size_t n);

//  Return V as a message shows it ('abc' cut after 32 bytes, 12.50, true,
//  a map), in BUF (ZETL_EXPR_SHOW bytes) unless it is a constant.
const char *zetl_expr_show (const zetl_expr_value_t *v, char *buf);

//  Make non-null V a string: its text (ints and decimals in canonical form,
//  a record's float as its shortest text, its decimal as written). Fails
//  for maps, arrays and binary data.
int zetl_expr_to_text (zetl_expr_run_t *run, zetl_expr_value_t *v);

//  Make non-null V an int or a decimal: numbers as they are, strings that
//  hold one (spaces around allowed), a record's float through its shortest
//  text. Fails for anything else ("'abc' is not a number").
int zetl_expr_to_number (zetl_expr_run_t *run, zetl_expr_value_t *v);

//  Set *D to the int or decimal V.
void zetl_expr_to_decimal (const zetl_expr_value_t *v, zetl_expr_decimal_t *d);

//  Make V a bool or null: bools, null and the strings 'true' and 'false'
//  (any case, spaces around) are; anything else fails.
int zetl_expr_to_bool (zetl_expr_run_t *run, zetl_expr_value_t *v);

//  If TEXT (LEN bytes) is 'true' or 'false' in any case, with spaces
//  around, set *VALUE and return true.
bool zetl_expr_bool_text (const char *text, size_t len, bool *value);

//  Make a record's value V a string, bool, int or decimal, for comparing.
//  Fails for maps, arrays, binary data and a decimal that is not a number.
int zetl_expr_resolve (zetl_expr_run_t *run, zetl_expr_value_t *v);

#endif
