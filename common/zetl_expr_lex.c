/*  zetl_expr_lex - the tokens of an expression's text

    Reads the text zetl_expr_parse was given one token at a time, and
    writes the parse error messages, which point at a token's line and
    column. Tokens are spans of the text, which the lexer borrows.
*/
#include "zetl_expr_lex.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_SNIPPET 24  //  bytes of a token quoted in a message

void
zetl_expr_lex_init (zetl_expr_lex_t *self, const char *text)
{
    assert (self && text);
    memset (self, 0, sizeof *self);
    self->text = text;
    self->len = strlen (text);
    self->tok.kind = ZETL_EXPR_TOK_END;
    self->prev.kind = ZETL_EXPR_TOK_END;
}

//  ---------------------------------------------------------------------------
//  Errors

void
zetl_expr_lex_position (const zetl_expr_lex_t *self, size_t offset, char *buf, size_t size)
{
    size_t line = 1, column = 1;
    bool lines = memchr (self->text, '\n', self->len) != NULL;
    for (size_t i = 0; i < offset && i < self->len; i++) {
        unsigned char c = (unsigned char) self->text[i];
        if (c == '\n') {
            line++;
            column = 1;
        }
        else if ((c & 0xC0) != 0x80)
            column++;  //  Not a UTF-8 continuation byte: a new character
    }
    if (lines)
        snprintf (buf, size, "line %zu, column %zu", line, column);
    else
        snprintf (buf, size, "column %zu", column);
}

int
zetl_expr_lex_fail (zetl_expr_lex_t *self, size_t offset, const char *format, ...)
{
    if (self->error)
        return -1;
    char where[64], what[512];
    zetl_expr_lex_position (self, offset, where, sizeof where);
    va_list args;
    va_start (args, format);
    vsnprintf (what, sizeof what, format, args);
    va_end (args);
    size_t size = strlen (where) + strlen (what) + 3;
    self->error = (char *) malloc (size);
    if (!self->error) {
        fprintf (stderr, "zetl_expr: out of memory\n");
        abort ();
    }
    snprintf (self->error, size, "%s: %s", where, what);
    return -1;
}

const char *
zetl_expr_lex_describe (const zetl_expr_lex_t *self, const zetl_expr_token_t *tok, char *buf,
                        size_t size)
{
    if (tok->kind == ZETL_EXPR_TOK_END)
        return "the end";
    size_t len = tok->len;
    if (len > S_SNIPPET) {
        len = S_SNIPPET;
        while (len > 0 && ((unsigned char) self->text[tok->start + len] & 0xC0) == 0x80)
            len--;  //  Cut between characters
    }
    //  A string literal shows its own quotes
    snprintf (buf, size, tok->kind == ZETL_EXPR_TOK_STRING ? "%.*s%s" : "'%.*s%s'", (int) len,
              self->text + tok->start, len < tok->len ? "..." : "");
    return buf;
}

//  ---------------------------------------------------------------------------
//  Tokens

static bool
s_is_name_start (char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool
s_is_digit (char c)
{
    return c >= '0' && c <= '9';
}

static bool
s_is_name_char (char c)
{
    return s_is_name_start (c) || s_is_digit (c);
}

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool
zetl_expr_lex_keyword (const zetl_expr_lex_t *self, const char *word)
{
    return self->tok.kind == ZETL_EXPR_TOK_NAME && self->tok.len == strlen (word) &&
           strncasecmp (self->text + self->tok.start, word, self->tok.len) == 0;
}

static int
s_lex_number (zetl_expr_lex_t *self)
{
    const char *t = self->text;
    size_t end = self->pos;
    while (end < self->len && s_is_digit (t[end]))
        end++;
    if (end + 1 < self->len && t[end] == '.' && s_is_digit (t[end + 1])) {
        end++;
        while (end < self->len && s_is_digit (t[end]))
            end++;
    }
    if (end < self->len && (s_is_name_char (t[end]) || t[end] == '.')) {
        while (end < self->len && (s_is_name_char (t[end]) || t[end] == '.'))
            end++;
        return zetl_expr_lex_fail (self, self->pos,
                                   "malformed number '%.*s'; write numbers as 42 or 12.50",
                                   (int) (end - self->pos), t + self->pos);
    }
    self->tok.kind = ZETL_EXPR_TOK_NUMBER;
    self->tok.len = end - self->pos;
    return 0;
}

//  A string in QUOTE (' or "), a doubled quote standing for one
static int
s_lex_string (zetl_expr_lex_t *self, char quote)
{
    size_t i = self->pos + 1;
    while (i < self->len) {
        if (self->text[i] == quote && (i + 1 == self->len || self->text[i + 1] != quote))
            break;
        i += self->text[i] == quote ? 2 : 1;
    }
    if (i >= self->len)
        return zetl_expr_lex_fail (
            self, self->pos, "the string that starts here is never closed; end it with %c", quote);
    self->tok.kind = ZETL_EXPR_TOK_STRING;
    self->tok.len = i + 1 - self->pos;
    return 0;
}

static int
s_lex_quoted_name (zetl_expr_lex_t *self)
{
    const char *close = memchr (self->text + self->pos + 1, '`', self->len - self->pos - 1);
    if (!close)
        return zetl_expr_lex_fail (
            self, self->pos, "the field name that starts here is never closed; end it with `");
    if (close == self->text + self->pos + 1)
        return zetl_expr_lex_fail (self, self->pos,
                                   "empty field name ``; write the name between the backquotes");
    self->tok.kind = ZETL_EXPR_TOK_QUOTED_NAME;
    self->tok.len = (size_t) (close - self->text) + 1 - self->pos;
    return 0;
}

//  Operators and punctuation, two-character ones first
static const struct {
    const char *text;
    zetl_expr_tok_kind_t kind;
    zetl_expr_op_t op;
} s_punctuation[] = {
    {"||", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_CAT},
    {"==", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_EQ},
    {"!=", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_NE},
    {"<>", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_NE},
    {"<=", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_LE},
    {">=", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_GE},
    {"=", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_EQ},
    {"<", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_LT},
    {">", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_GT},
    {"+", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_ADD},
    {"-", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_SUB},
    {"*", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_MUL},
    {"/", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_DIV},
    {"%", ZETL_EXPR_TOK_OPERATOR, ZETL_EXPR_OP_MOD},
    {"(", ZETL_EXPR_TOK_LPAREN, ZETL_EXPR_OP_CONST},
    {")", ZETL_EXPR_TOK_RPAREN, ZETL_EXPR_OP_CONST},
    {",", ZETL_EXPR_TOK_COMMA, ZETL_EXPR_OP_CONST},
};

static int
s_lex_punctuation (zetl_expr_lex_t *self)
{
    const char *t = self->text + self->pos;
    size_t left = self->len - self->pos;
    for (size_t i = 0; i < sizeof s_punctuation / sizeof s_punctuation[0]; i++) {
        size_t len = strlen (s_punctuation[i].text);
        if (len <= left && memcmp (t, s_punctuation[i].text, len) == 0) {
            self->tok.kind = s_punctuation[i].kind;
            self->tok.op = s_punctuation[i].op;
            self->tok.len = len;
            return 0;
        }
    }
    if (*t == '!')
        return zetl_expr_lex_fail (self, self->pos,
                                   "unexpected '!'; write != to compare or not to negate");
    if (*t == '&')
        return zetl_expr_lex_fail (self, self->pos, "unexpected '&'; write and");
    if (*t == '|')
        return zetl_expr_lex_fail (self, self->pos,
                                   "unexpected '|'; write || to concatenate or or");
    if ((unsigned char) *t < 0x20 || *t == 0x7f)
        return zetl_expr_lex_fail (self, self->pos, "unexpected control character 0x%02x",
                                   (unsigned char) *t);
    size_t len = 1;  //  The whole UTF-8 character
    while (len < left && ((unsigned char) t[len] & 0xC0) == 0x80)
        len++;
    return zetl_expr_lex_fail (
        self, self->pos,
        "unexpected character '%.*s'; write text as '...' and other field names as `...`",
        (int) len, t);
}

int
zetl_expr_lex_next (zetl_expr_lex_t *self)
{
    self->prev = self->tok;
    while (self->pos < self->len && s_is_space (self->text[self->pos]))
        self->pos++;
    self->tok.start = self->pos;
    self->tok.len = 0;
    int rc = 0;
    char c = self->pos < self->len ? self->text[self->pos] : 0;
    if (self->pos == self->len)
        self->tok.kind = ZETL_EXPR_TOK_END;
    else if (s_is_name_start (c)) {
        size_t end = self->pos;
        while (end < self->len && s_is_name_char (self->text[end]))
            end++;
        self->tok.kind = ZETL_EXPR_TOK_NAME;
        self->tok.len = end - self->pos;
    }
    else if (s_is_digit (c))
        rc = s_lex_number (self);
    else if (c == '\'' || c == '"')
        rc = s_lex_string (self, c);
    else if (c == '`')
        rc = s_lex_quoted_name (self);
    else
        rc = s_lex_punctuation (self);
    self->pos += self->tok.len;
    return rc;
}
