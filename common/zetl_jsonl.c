/*  zetl_jsonl - one JSON object per line into one msgpack record (jsmn)

    jsmn finds the tokens; it is lenient even in strict mode (it does not
    check commas and colons between tokens, the text of numbers and
    literals, or control characters in strings), so the walk that packs
    the tokens also checks the bytes between them and every scalar. A line
    is accepted only if it is exactly one well-formed JSON object. Numbers
    and UTF-8 are checked by zetl_json_text, by the same rules that
    zetl_record_to_json writes JSON with. Strings are checked and
    unescaped by zetl_jsonl_string, and packed by zetl_jsonl_pack, both
    inline on the common path.
*/
#include "zetl_jsonl.h"
#include "zetl_json_text.h"
#include "zetl_jsonl_pack.h"
#include "zetl_jsonl_string.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Strict: primitives must be numbers or literals, and no object or array as
//  a key. Parent links: each closing bracket and comma finds its container in
//  O(1) instead of scanning back over every token, so long lines stay linear.
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#define S_INITIAL_TOKENS 256
#define S_STRINGIFY_(x) #x
#define S_STRINGIFY(x) S_STRINGIFY_ (x)

struct zetl_jsonl {
    const char *const *names;  //  fields to extract, borrowed; NULL entries skipped
    size_t count;              //  entries in names
    size_t *name_lens;         //  strlen of each name, SIZE_MAX for a NULL entry
    bool *seen;                //  name i matched a key in this line (the first one wins)
    uint64_t length_mask;      //  bit N set: some name is N bytes long (N >= 63: bit 63)
    jsmntok_t *tokens;         //  reused across lines
    unsigned int token_cap;    //  tokens allocated, up to ZETL_JSONL_MAX_TOKENS
    int token_count;           //  tokens jsmn found in the current line
    char *scratch;             //  unescaped strings of the current line
    size_t scratch_cap;        //  bytes at scratch, at least the longest line seen
    //  State of the conversion under way
    const char *line;            //  the line, borrowed for the call
    size_t len;                  //  bytes in line, without a trailing '\r'
    size_t scratch_used;         //  bytes of scratch used by this line
    size_t cursor;               //  end of the last token checked, in line
    msgpack_sbuffer *out;        //  the caller's buffer
    zetl_field_value_t *values;  //  the caller's values, or NULL
    const char *reason;          //  why the line was refused
    bool over;                   //  refused for a limit
    size_t max_record;           //  limits: bytes in a line
    size_t max_fields;           //  top-level fields, 0: none of its own
    size_t max_string;           //  bytes in a string value, 0: none of its own
};

static void
s_oom (void)
{
    fprintf (stderr, "zetl_jsonl: out of memory\n");
    abort ();
}

zetl_jsonl_t *
zetl_jsonl_new (const char *const *names, size_t count)
{
    assert (names || count == 0);
    zetl_jsonl_t *self = (zetl_jsonl_t *) calloc (1, sizeof (zetl_jsonl_t));
    if (!self)
        return NULL;
    self->names = names;
    self->count = count;
    self->name_lens = (size_t *) calloc (count ? count : 1, sizeof (size_t));
    self->seen = (bool *) calloc (count ? count : 1, sizeof (bool));
    self->token_cap = S_INITIAL_TOKENS;
    self->max_record = ZETL_JSONL_MAX_LINE;
    self->tokens = (jsmntok_t *) malloc (self->token_cap * sizeof (jsmntok_t));
    if (!self->name_lens || !self->seen || !self->tokens) {
        zetl_jsonl_destroy (&self);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        self->name_lens[i] = names[i] ? strlen (names[i]) : SIZE_MAX;
        if (names[i])
            self->length_mask |= UINT64_C (1)
                                 << (self->name_lens[i] < 63 ? self->name_lens[i] : 63);
    }
    return self;
}

void
zetl_jsonl_destroy (zetl_jsonl_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_jsonl_t *self = *self_p;
        free (self->name_lens);
        free (self->seen);
        free (self->tokens);
        free (self->scratch);
        free (self);
        *self_p = NULL;
    }
}

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

//  The bytes from the cursor to TO must be whitespace around one SEPARATOR
//  (',' or ':'), or whitespace only when SEPARATOR is 0
static int
s_gap_slow (zetl_jsonl_t *self, size_t to, char separator)
{
    const char *line = self->line;
    size_t i = self->cursor;
    while (i < to && s_is_space (line[i]))
        i++;
    if (separator) {
        if (i >= to || line[i] != separator) {
            self->reason = "malformed JSON";
            return -1;
        }
        i++;
        while (i < to && s_is_space (line[i]))
            i++;
    }
    if (i != to) {
        self->reason = "malformed JSON";
        return -1;
    }
    return 0;
}

static inline int
s_gap (zetl_jsonl_t *self, size_t to, char separator)
{
    //  Compact JSON: nothing, or just the separator
    size_t from = self->cursor;
    if (separator ? from + 1 == to && self->line[from] == separator : from == to)
        return 0;
    return s_gap_slow (self, to, separator);
}

//  Check the string token TOK and return its text: a pointer into the line
//  when it has no escapes (the common case), else into the scratch buffer
static int
s_string (zetl_jsonl_t *self, const jsmntok_t *tok, const char **ptr, size_t *len)
{
    const unsigned char *start = (const unsigned char *) self->line + tok->start;
    const unsigned char *end = (const unsigned char *) self->line + tok->end;
    if (zetl_jsonl_string_plain (self->line, start, end)) {
        *ptr = (const char *) start;
        *len = (size_t) (end - start);
        return 0;
    }
    const unsigned char *p = start;
    while (p < end) {
        unsigned char c = *p;
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            p++;
            continue;
        }
        if (c == '\\')
            break;
        if (c < 0x20) {
            self->reason = "control character in string";
            return -1;
        }
        size_t n = zetl_json_text_utf8_length (p, end);
        if (n == 0) {
            self->reason = "invalid UTF-8 in string";
            return -1;
        }
        p += n;
    }
    if (p == end) {
        *ptr = (const char *) start;
        *len = (size_t) (end - start);
        return 0;
    }
    //  Escapes: unescape into the scratch, which holds every string of the
    //  line at once so extracted values stay valid until the next call
    char *dst = self->scratch + self->scratch_used;
    size_t prefix = (size_t) (p - start);
    memcpy (dst, start, prefix);
    char *dst_end = zetl_jsonl_string_unescape ((const char *) p, (const char *) end, dst + prefix,
                                                &self->reason);
    if (!dst_end)
        return -1;
    *ptr = dst;
    *len = (size_t) (dst_end - dst);
    self->scratch_used += *len;
    return 0;
}

//  Check and pack the number or literal token TOK
static int
s_primitive (zetl_jsonl_t *self, const jsmntok_t *tok)
{
    const char *text = self->line + tok->start;
    size_t len = (size_t) (tok->end - tok->start);
    //  A packer of our own, as in s_container: the compiler sees its callback
    //  here whether or not this function is inlined, and inlines zetl_jsonl_pack_append
    msgpack_packer packer, *pk = &packer;
    msgpack_packer_init (pk, self->out, zetl_jsonl_pack_append);
    switch (text[0]) {
    case 't':
        if (len == 4 && memcmp (text, "true", 4) == 0)
            return msgpack_pack_true (pk);
        break;
    case 'f':
        if (len == 5 && memcmp (text, "false", 5) == 0)
            return msgpack_pack_false (pk);
        break;
    case 'n':
        if (len == 4 && memcmp (text, "null", 4) == 0)
            return msgpack_pack_nil (pk);
        break;
    default: {
        int64_t value;
        int rc = zetl_json_text_number (text, len, &value);
        if (rc == 1)
            return msgpack_pack_int64 (pk, value);
        if (rc == 0) {
            //  Exact decimal: the literal itself, never a double
            msgpack_pack_ext (pk, len, ZETL_EXT_DECIMAL);
            return msgpack_pack_ext_body (pk, text, len);
        }
        self->reason = "invalid number";
        return -1;
    }
    }
    self->reason = "invalid literal (expected true, false or null)";
    return -1;
}

//  Where the text of token TOK starts, its quote included
static size_t
s_raw_start (const jsmntok_t *tok)
{
    return (size_t) tok->start - (tok->type == JSMN_STRING);
}

//  Set the extracted value for top-level key KEY to value token TOK
static void
s_extract (zetl_jsonl_t *self, const char *key, size_t key_len, const jsmntok_t *tok,
           const char *str, size_t str_len)
{
    //  Most keys are not wanted, and most have a length no name has
    if (key_len < 63 && !(self->length_mask & (UINT64_C (1) << key_len)))
        return;
    for (size_t i = 0; i < self->count; i++) {
        if (self->name_lens[i] != key_len || self->seen[i] ||
            memcmp (self->names[i], key, key_len) != 0)
            continue;
        self->seen[i] = true;
        zetl_field_value_t *value = &self->values[i];
        //  null is absent; numbers and literals as written; objects and
        //  arrays as their JSON text
        if (tok->type == JSMN_PRIMITIVE && self->line[tok->start] == 'n')
            continue;
        value->ptr = str;
        value->len = str_len;
        value->present = true;
        value->is_string = tok->type == JSMN_STRING;
    }
}

//  Check and pack the string or primitive token TOK; sets *TEXT and *LEN to
//  its text (a string unescaped, a literal as written)
static inline __attribute__ ((always_inline)) int
s_scalar (zetl_jsonl_t *self, const jsmntok_t *tok, const char **text, size_t *len)
{
    if (tok->size != 0) {
        self->reason = "malformed JSON";
        return -1;
    }
    if (tok->type == JSMN_STRING) {
        if (s_string (self, tok, text, len) != 0)
            return -1;
        if (self->max_string && *len > self->max_string) {
            self->reason = "a string is longer than limits.max_string";
            self->over = true;
            return -1;
        }
        zetl_jsonl_pack_str (self->out, *text, *len);
        self->cursor = (size_t) tok->end + 1;
        return 0;
    }
    if (s_primitive (self, tok) != 0)
        return -1;
    *text = self->line + tok->start;
    *len = (size_t) (tok->end - tok->start);
    self->cursor = (size_t) tok->end;
    return 0;
}

//  Check and pack the object or array at token INDEX, all it contains
//  included; returns the index of the token after it, or -1
static int
s_container (zetl_jsonl_t *self, int index, int depth)
{
    const jsmntok_t *tok = &self->tokens[index];
    if (depth > ZETL_JSONL_MAX_DEPTH) {
        //  The limit of msgpack-c's unpacker (MSGPACK_EMBED_STACK_SIZE): a
        //  deeper record could be packed but never read back
        self->reason = "nested deeper than " S_STRINGIFY (ZETL_JSONL_MAX_DEPTH) " levels";
        return -1;
    }
    //  A packer of our own, whose callback the compiler can see and inline
    msgpack_packer pk;
    msgpack_packer_init (&pk, self->out, zetl_jsonl_pack_append);
    bool object = tok->type == JSMN_OBJECT;
    bool extract = object && depth == 1 && self->values && self->length_mask;
    int count = tok->size;
    int next = index + 1;
    if (object)
        msgpack_pack_map (&pk, (size_t) count);
    else
        msgpack_pack_array (&pk, (size_t) count);
    self->cursor = (size_t) tok->start + 1;
    for (int i = 0; i < count; i++) {
        //  jsmn's sizes always match the tokens it made; checked all the same
        if (next + (object ? 1 : 0) >= self->token_count) {
            self->reason = "malformed JSON";
            return -1;
        }
        const jsmntok_t *item = &self->tokens[next];
        if (s_gap (self, s_raw_start (item), i ? ',' : 0) != 0)
            return -1;
        const char *key = NULL;
        size_t key_len = 0;
        if (object) {
            //  A key is a string with exactly one value after its colon
            if (item->type != JSMN_STRING || item->size != 1) {
                self->reason = "malformed JSON";
                return -1;
            }
            if (s_string (self, item, &key, &key_len) != 0)
                return -1;
            zetl_jsonl_pack_str (self->out, key, key_len);
            self->cursor = (size_t) item->end + 1;
            item = &self->tokens[++next];
            if (s_gap (self, s_raw_start (item), ':') != 0)
                return -1;
        }
        const char *text;
        size_t text_len;
        if (item->type == JSMN_STRING || item->type == JSMN_PRIMITIVE) {
            if (s_scalar (self, item, &text, &text_len) != 0)
                return -1;
            next++;
        }
        else {
            next = s_container (self, next, depth + 1);
            if (next < 0)
                return -1;
            text = self->line + item->start;  //  Extracted as its JSON text
            text_len = (size_t) (item->end - item->start);
        }
        if (extract)
            s_extract (self, key, key_len, item, text, text_len);
    }
    if (s_gap (self, (size_t) tok->end - 1, 0) != 0)
        return -1;
    self->cursor = (size_t) tok->end;
    return next;
}

static void
s_clear_values (zetl_jsonl_t *self, zetl_field_value_t *values)
{
    if (!values)
        return;
    for (size_t i = 0; i < self->count; i++) {
        values[i].ptr = NULL;
        values[i].len = 0;
        values[i].present = false;
        values[i].is_string = false;
    }
}

//  Tokenize the line, growing the token array as needed; returns the token
//  count or -1
static int
s_tokenize (zetl_jsonl_t *self)
{
    jsmn_parser parser;
    jsmn_init (&parser);
    while (true) {
        int rc = jsmn_parse (&parser, self->line, self->len, self->tokens, self->token_cap);
        if (rc >= 0)
            return rc;
        if (rc != JSMN_ERROR_NOMEM) {
            self->reason = "malformed JSON";
            return -1;
        }
        if (self->token_cap >= ZETL_JSONL_MAX_TOKENS) {
            self->reason = "more than 1048576 JSON tokens in the line";
            return -1;
        }
        //  jsmn resumes where it stopped once it has more room
        unsigned int cap = self->token_cap * 2;
        if (cap > ZETL_JSONL_MAX_TOKENS)
            cap = ZETL_JSONL_MAX_TOKENS;
        jsmntok_t *tokens = (jsmntok_t *) realloc (self->tokens, cap * sizeof (jsmntok_t));
        if (!tokens)
            s_oom ();
        self->tokens = tokens;
        self->token_cap = cap;
    }
}

void
zetl_jsonl_set_limits (zetl_jsonl_t *self, size_t max_record, size_t max_fields, size_t max_string)
{
    assert (self);
    self->max_record = max_record && max_record < ZETL_JSONL_MAX_LINE ? max_record
                                                                       : ZETL_JSONL_MAX_LINE;
    self->max_fields = max_fields;
    self->max_string = max_string;
}

int
zetl_jsonl_convert (zetl_jsonl_t *self, const char *line, size_t len, msgpack_sbuffer *out,
                    zetl_field_value_t *values, const char **reason)
{
    assert (self);
    assert (line || len == 0);
    assert (out);
    const char *dummy_reason;
    if (!reason)
        reason = &dummy_reason;
    *reason = NULL;
    s_clear_values (self, values);
    if (self->count)
        memset (self->seen, 0, self->count * sizeof (bool));

    self->over = false;
    if (len > self->max_record) {
        *reason = self->max_record == ZETL_JSONL_MAX_LINE
                      ? "line longer than 16 MiB"
                      : "the record is larger than limits.max_record";
        return -2;
    }
    if (len > 0 && line[len - 1] == '\r')
        len--;
    size_t first = 0;
    while (first < len && s_is_space (line[first]))
        first++;
    if (first == len) {
        *reason = "empty line";
        return -1;
    }
    if (line[first] != '{') {
        *reason = "not a JSON object";
        return -1;
    }
    //  Unescaped strings are never longer than their JSON text
    if (self->scratch_cap < len) {
        size_t cap = self->scratch_cap ? self->scratch_cap : 1024;
        while (cap < len)
            cap *= 2;
        free (self->scratch);
        self->scratch = (char *) malloc (cap);
        if (!self->scratch)
            s_oom ();
        self->scratch_cap = cap;
    }
    self->line = line;
    self->len = len;
    self->scratch_used = 0;
    self->values = values;
    self->reason = "malformed JSON";
    size_t mark = out->size;
    self->out = out;

    int rc = -1;
    int tokens = s_tokenize (self);
    if (tokens <= 0)
        goto done;
    self->token_count = tokens;
    if (self->max_fields && self->tokens[0].type == JSMN_OBJECT
        && (size_t) self->tokens[0].size > self->max_fields) {
        self->reason = "the record has more fields than limits.max_fields";
        self->over = true;
        goto done;
    }
    //  The record is never longer than the line plus 8 bytes per token (an
    //  int64 of one digit, a decimal's ext header): make room once
    zetl_json_text_reserve (out, len + 9 * (size_t) tokens + 64);
    assert (self->tokens[0].type == JSMN_OBJECT);
    self->cursor = first;
    int next = s_container (self, 0, 1);
    if (next < 0)
        goto done;
    //  Exactly one object: no tokens and nothing but blanks after it
    self->cursor = (size_t) self->tokens[0].end;
    if (next != tokens || s_gap (self, len, 0) != 0) {
        self->reason = "trailing data after the JSON object";
        goto done;
    }
    rc = 0;
done:
    if (rc != 0) {
        out->size = mark;
        s_clear_values (self, values);
        *reason = self->reason;
        rc = self->over ? -2 : -1;
    }
    self->line = NULL;
    self->values = NULL;
    return rc;
}
