/*  zetl_validate - the rules of a pipeline's schema, checked on cast values

    A schema column may carry min and max (int and number columns), max_len,
    enum and regex (string columns). zetl_cast calls these checks on each
    value it has cast to its column's type, so the rules always see the value
    as it will be loaded: an int as an int64, a number as its exact decimal
    text, a string as UTF-8 text. A broken rule rejects the record with the
    column and the rule's name as its reason ("min", "max", "max_len",
    "enum", "regex"). Regular expressions are PCRE2, compiled once (with the
    JIT where the machine has it) and matched against the whole value
    unless the pattern says otherwise (it is not anchored for you). A
    validator is made once per pipeline and used by one thread.
*/
#ifndef ZETL_VALIDATE_H_INCLUDED
#define ZETL_VALIDATE_H_INCLUDED

#include "zetl_config.h"
#include "zetl_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zetl_validate zetl_validate_t;

//  Why a record was rejected (valid until the next call)
typedef struct {
    const char *reason;  //  "required", "cast", "malformed", or the rule: "min", "max", …
    const char *field;   //  the column, or NULL
    char error[256];     //  what was wrong, for the dead letter
} zetl_reject_t;

//  Create the validator of PIPELINE (borrowed: must outlive it). Returns
//  NULL with *ERROR set (caller owns it) if a pattern does not compile,
//  which the configuration's own check makes impossible.
zetl_validate_t *zetl_validate_new (const zetl_pipeline_t *pipeline, char **error);
void zetl_validate_destroy (zetl_validate_t **self_p);

//  Whether column COLUMN has any rule to check
bool zetl_validate_has_rules (const zetl_validate_t *self, size_t column);

//  Check string TEXT (LEN bytes of UTF-8) against COLUMN's max_len, enum
//  and regex. Returns ZETL_OK, or ZETL_REJECT with *REJECT filled.
zetl_status_t zetl_validate_string (zetl_validate_t *self, size_t column, const char *text,
                                    size_t len, zetl_reject_t *reject);

//  Check integer VALUE against COLUMN's min and max.
zetl_status_t zetl_validate_int (zetl_validate_t *self, size_t column, int64_t value,
                                 zetl_reject_t *reject);

//  Check the exact decimal TEXT (LEN bytes) against COLUMN's min and max.
zetl_status_t zetl_validate_number (zetl_validate_t *self, size_t column, const char *text,
                                    size_t len, zetl_reject_t *reject);

//  Fill *REJECT for FIELD (a column name, or NULL) broken by rule REASON:
//  "FIELD: \"TEXT\" WHAT" (TEXT cut to 120 bytes) or "FIELD: WHAT" when
//  TEXT is NULL. Returns ZETL_REJECT.
zetl_status_t zetl_reject (zetl_reject_t *reject, const char *reason, const char *field,
                           const char *what, const char *text, size_t len);

#endif
