/*  zetl_jsonl - one JSON object per line into one msgpack record (jsmn)

    The hot path of file and producer sources: tokenize with jsmn, pack the
    object as a msgpack map (nested objects and arrays too; strings unescaped,
    \uXXXX and surrogate pairs to UTF-8; int64 numbers as ints, all other
    numbers as ZETL_EXT_DECIMAL text; true/false/null), and pull out the named
    top-level fields as text on the way. One converter per thread; it owns its
    token and scratch buffers, which grow as needed up to the limits below.
*/
#ifndef ZETL_JSONL_H_INCLUDED
#define ZETL_JSONL_H_INCLUDED

#include "zetl_record.h"

#define ZETL_JSONL_MAX_LINE (16 * 1024 * 1024)  //  bytes in one line
#define ZETL_JSONL_MAX_TOKENS (1 << 20)         //  tokens in one line
#define ZETL_JSONL_MAX_DEPTH 32                 //  nesting: msgpack-c unpacks no deeper

typedef struct zetl_jsonl zetl_jsonl_t;

//  Create a converter that extracts the top-level fields NAMES[0..COUNT) (NULL
//  entries are skipped; the array is borrowed and must outlive the converter).
//  Caller owns the result.
zetl_jsonl_t *zetl_jsonl_new (const char *const *names, size_t count);
void zetl_jsonl_destroy (zetl_jsonl_t **self_p);

//  Refuse lines longer than MAX_RECORD bytes (at most ZETL_JSONL_MAX_LINE),
//  objects of more than MAX_FIELDS top-level fields and string values longer
//  than MAX_STRING bytes (0: no limit of its own) from now on.
void zetl_jsonl_set_limits (zetl_jsonl_t *self, size_t max_record, size_t max_fields,
                            size_t max_string);

//  Convert LINE (LEN bytes, no newline; a trailing '\r' is ignored) into one
//  packed msgpack map appended to OUT, and fill VALUES[0..COUNT) with the
//  extracted fields (borrowed until the next call). Returns 0; -1 with
//  *REASON set to a static message ("malformed JSON", "not a JSON object",
//  ...) and OUT left as it was; or -2 the same way when the line is beyond
//  a limit ("the record is larger than limits.max_record", ...).
int zetl_jsonl_convert (zetl_jsonl_t *self, const char *line, size_t len, msgpack_sbuffer *out,
                        zetl_field_value_t *values, const char **reason);

#endif
