/*  zetl_expr - expressions for computed fields: parsing

    A recursive-descent parser, one function per precedence level, that
    emits stack-machine code (zetl_expr_code.h) as it goes: operands first,
    then their operator. Binary operators of one level loop rather than
    recurse, so only parentheses, calls and unary operators nest, and those
    are limited. Tokens and error messages come from zetl_expr_lex;
    evaluation is in zetl_expr_eval.c.
*/
#include "zetl_expr.h"
#include "zetl_expr_code.h"
#include "zetl_expr_lex.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_MAX_ARGS 255  //  arguments per call (argc is a byte)

typedef enum { S_CALL, S_CALL_COALESCE, S_CALL_IF, S_CALL_CONCAT } s_call_kind_t;

typedef struct {
    const char *name;
    s_call_kind_t kind;
    zetl_expr_op_t op;  //  S_CALL: the instruction
    int min_args;
    int max_args;
    const char *takes;  //  for the message when the count is wrong
} s_function_t;

// clang-format off
static const s_function_t s_functions[] = {
    {"abs",      S_CALL,          ZETL_EXPR_OP_ABS,    1, 1, "1 argument"},
    {"coalesce", S_CALL_COALESCE, ZETL_EXPR_OP_CONST,  1, S_MAX_ARGS, "1 to 255 arguments"},
    {"concat",   S_CALL_CONCAT,   ZETL_EXPR_OP_CONCAT, 1, S_MAX_ARGS, "1 to 255 arguments"},
    {"if",       S_CALL_IF,       ZETL_EXPR_OP_CONST,  3, 3, "3 arguments (condition, then, else)"},
    {"length",   S_CALL,          ZETL_EXPR_OP_LENGTH, 1, 1, "1 argument"},
    {"lower",    S_CALL,          ZETL_EXPR_OP_LOWER,  1, 1, "1 argument"},
    {"round",    S_CALL,          ZETL_EXPR_OP_ROUND,  1, 2, "1 or 2 arguments (value, digits)"},
    {"trim",     S_CALL,          ZETL_EXPR_OP_TRIM,   1, 1, "1 argument"},
    {"upper",    S_CALL,          ZETL_EXPR_OP_UPPER,  1, 1, "1 argument"},
};
// clang-format on
#define S_FUNCTION_LIST "abs, coalesce, concat, if, length, lower, round, trim, upper"

typedef struct {
    zetl_expr_lex_t lex;  //  the text, its current token and the error
    zetl_expr_t *expr;    //  being built
    int nesting;          //  parentheses, calls and unary operators open
    size_t depth;         //  values on the stack at this point of the code
} s_parser_t;

static void *
s_alloc (size_t size)
{
    void *p = calloc (1, size ? size : 1);
    if (!p) {
        fprintf (stderr, "zetl_expr: out of memory\n");
        abort ();
    }
    return p;
}

//  Grow *ITEMS (each SIZE bytes, *MAX allocated) to hold one more than COUNT
static void
s_reserve (void **items, size_t *max, size_t count, size_t size)
{
    if (count < *max)
        return;
    *max = *max ? *max * 2 : 16;
    void *grown = realloc (*items, *max * size);
    if (!grown) {
        fprintf (stderr, "zetl_expr: out of memory\n");
        abort ();
    }
    *items = grown;
}

//  ---------------------------------------------------------------------------
//  Code

//  Append an instruction that pops POPS values and pushes PUSHES; returns
//  its index
static size_t
s_emit (s_parser_t *p, zetl_expr_op_t op, int32_t arg, size_t pops, size_t pushes)
{
    zetl_expr_t *self = p->expr;
    s_reserve ((void **) &self->code, &self->code_max, self->code_count, sizeof *self->code);
    zetl_expr_instr_t *in = &self->code[self->code_count];
    in->op = (uint8_t) op;
    in->argc = (uint8_t) pops;
    in->arg = arg;
    assert (p->depth >= pops);
    p->depth = p->depth - pops + pushes;
    if (p->depth > self->stack_size)
        self->stack_size = p->depth;
    return self->code_count++;
}

//  Point jump AT to the next instruction
static void
s_patch (s_parser_t *p, size_t at)
{
    p->expr->code[at].arg = (int32_t) p->expr->code_count;
}

static void
s_emit_const (s_parser_t *p, const zetl_expr_value_t *value)
{
    zetl_expr_t *self = p->expr;
    s_reserve ((void **) &self->consts, &self->const_max, self->const_count, sizeof *self->consts);
    self->consts[self->const_count] = *value;
    s_emit (p, ZETL_EXPR_OP_CONST, (int32_t) self->const_count++, 0, 1);
}

//  The number literal of the current token
static int
s_emit_number (s_parser_t *p)
{
    const char *text = p->lex.text + p->lex.tok.start;
    zetl_expr_value_t value = {.type = ZETL_EXPR_DECIMAL};
    int rc = zetl_expr_decimal_parse (text, p->lex.tok.len, &value.d);
    if (rc == -2)
        return zetl_expr_lex_fail (&p->lex, p->lex.tok.start,
                                   "number '%.*s' has more than %d digits", (int) p->lex.tok.len,
                                   text, ZETL_EXPR_DECIMAL_DIGITS);
    assert (rc == 0);  //  The lexer took digits[.digits]
    //  An integer literal is an int when it fits int64
    int64_t i;
    if (!memchr (text, '.', p->lex.tok.len) && zetl_expr_decimal_to_int (&value.d, &i)) {
        value.type = ZETL_EXPR_INT;
        value.i = i;
    }
    s_emit_const (p, &value);
    return 0;
}

//  The string literal of the current token, its doubled quotes undone
static void
s_emit_string (s_parser_t *p)
{
    zetl_expr_t *self = p->expr;
    const char *text = p->lex.text + p->lex.tok.start;
    char quote = text[0];
    char *out = self->texts + self->texts_used;
    size_t len = 0;
    for (size_t i = 1; i + 1 < p->lex.tok.len; i++) {
        out[len++] = text[i];
        if (text[i] == quote)
            i++;  //  Skip the second of a doubled quote
    }
    self->texts_used += len;
    zetl_expr_value_t value = {.type = ZETL_EXPR_STR, .s = {out, len}};
    s_emit_const (p, &value);
}

//  Read field NAME (LEN bytes) at byte START: its index, added if new
static int
s_emit_field (s_parser_t *p, const char *name, size_t len, size_t start)
{
    zetl_expr_t *self = p->expr;
    size_t index = 0;
    while (index < self->field_count &&
           (strlen (self->fields[index]) != len || memcmp (self->fields[index], name, len) != 0))
        index++;
    if (index == ZETL_EXPR_MAX_FIELDS)
        return zetl_expr_lex_fail (&p->lex, start,
                                   "more than %d fields in one expression; split it into several "
                                   "computed fields",
                                   ZETL_EXPR_MAX_FIELDS);
    if (index == self->field_count) {
        self->fields[index] = (char *) s_alloc (len + 1);
        memcpy (self->fields[index], name, len);
        self->field_count++;
    }
    s_emit (p, ZETL_EXPR_OP_FIELD, (int32_t) index, 0, 1);
    return 0;
}

//  ---------------------------------------------------------------------------
//  Grammar, lowest precedence first

static int s_parse_or (s_parser_t *p);

//  Enter a nested construct that starts at byte START
static int
s_enter (s_parser_t *p, size_t start)
{
    if (++p->nesting > ZETL_EXPR_MAX_NESTING)
        return zetl_expr_lex_fail (&p->lex, start,
                                   "nested deeper than %d levels; simplify the expression",
                                   ZETL_EXPR_MAX_NESTING);
    return 0;
}

//  The current token cannot start an operand
static int
s_expected_operand (s_parser_t *p)
{
    char found[64], after[64];
    if (p->lex.prev.kind == ZETL_EXPR_TOK_END && p->lex.tok.kind == ZETL_EXPR_TOK_END)
        return zetl_expr_lex_fail (&p->lex, p->lex.tok.start,
                                   "the expression is empty; write a field, a literal or a "
                                   "function call");
    if (p->lex.prev.kind == ZETL_EXPR_TOK_END)
        return zetl_expr_lex_fail (
            &p->lex, p->lex.tok.start, "expected an operand, found %s",
            zetl_expr_lex_describe (&p->lex, &p->lex.tok, found, sizeof found));
    zetl_expr_lex_describe (&p->lex, &p->lex.prev, after, sizeof after);
    if (p->lex.tok.kind == ZETL_EXPR_TOK_END)
        return zetl_expr_lex_fail (&p->lex, p->lex.tok.start, "expected an operand after %s",
                                   after);
    return zetl_expr_lex_fail (&p->lex, p->lex.tok.start, "expected an operand after %s, found %s",
                               after,
                               zetl_expr_lex_describe (&p->lex, &p->lex.tok, found, sizeof found));
}

static const s_function_t *
s_function (const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof s_functions / sizeof s_functions[0]; i++)
        if (strlen (s_functions[i].name) == len &&
            strncasecmp (s_functions[i].name, name, len) == 0)
            return &s_functions[i];
    return NULL;
}

//  A call in progress: what to emit between and after its arguments
typedef struct {
    const s_function_t *fn;
    int argc;           //  arguments so far
    long chain;         //  coalesce: the last JUMP_IF_SET, linking the earlier ones, or -1
    size_t to_else;     //  if: the JUMP_UNLESS after the condition
    size_t to_end;      //  if: the JUMP after the then branch
    size_t base_depth;  //  stack depth before the call
} s_call_t;

//  Before argument CALL->argc (> 0)
static void
s_between_arguments (s_parser_t *p, s_call_t *call)
{
    if (call->fn->kind == S_CALL_COALESCE) {
        //  A non-null value skips the other arguments: chain the jumps, patch them at the end
        call->chain = (long) s_emit (p, ZETL_EXPR_OP_JUMP_IF_SET, (int32_t) call->chain, 1, 0);
    }
    else if (call->fn->kind == S_CALL_IF && call->argc == 1)
        call->to_else = s_emit (p, ZETL_EXPR_OP_JUMP_UNLESS, 0, 1, 0);
    else if (call->fn->kind == S_CALL_IF && call->argc == 2) {
        call->to_end = s_emit (p, ZETL_EXPR_OP_JUMP, 0, 0, 0);
        s_patch (p, call->to_else);
        p->depth = call->base_depth;  //  The else branch starts without the then value
    }
}

//  After the last argument
static void
s_end_call (s_parser_t *p, s_call_t *call)
{
    switch (call->fn->kind) {
    case S_CALL_COALESCE:
        for (long at = call->chain; at >= 0;) {
            long next = p->expr->code[at].arg;
            s_patch (p, (size_t) at);
            at = next;
        }
        //  Each path through the jumps leaves one value
        p->depth = call->base_depth + 1;
        break;
    case S_CALL_IF:
        s_patch (p, call->to_end);
        break;
    default:
        s_emit (p, call->fn->op, 0, (size_t) call->argc, 1);
    }
}

//  Arguments of a call to FN, the current token being its '('
static int
s_parse_call (s_parser_t *p, const s_function_t *fn, size_t name_start)
{
    s_call_t call = {fn, 0, -1, 0, 0, p->depth};
    if (s_enter (p, name_start) || zetl_expr_lex_next (&p->lex))
        return -1;
    while (p->lex.tok.kind != ZETL_EXPR_TOK_RPAREN || call.argc > 0) {
        if (call.argc > 0 && call.argc < fn->max_args)
            s_between_arguments (p, &call);
        if (s_parse_or (p))
            return -1;
        call.argc++;
        if (p->lex.tok.kind == ZETL_EXPR_TOK_RPAREN)
            break;
        char found[64];
        if (p->lex.tok.kind != ZETL_EXPR_TOK_COMMA)
            return zetl_expr_lex_fail (
                &p->lex, p->lex.tok.start, "expected ',' or ')' after argument %d of %s, found %s",
                call.argc, fn->name,
                zetl_expr_lex_describe (&p->lex, &p->lex.tok, found, sizeof found));
        if (zetl_expr_lex_next (&p->lex))
            return -1;
    }
    if (call.argc < fn->min_args || call.argc > fn->max_args)
        return zetl_expr_lex_fail (&p->lex, name_start, "%s takes %s, not %d", fn->name, fn->takes,
                                   call.argc);
    s_end_call (p, &call);
    p->nesting--;
    return zetl_expr_lex_next (&p->lex);
}

//  A name: a keyword literal, a call or a field
static int
s_parse_name (s_parser_t *p)
{
    zetl_expr_token_t name = p->lex.tok;
    const char *text = p->lex.text + name.start;
    zetl_expr_value_t value = {.type = ZETL_EXPR_NULL};
    if (zetl_expr_lex_keyword (&p->lex, "true") || zetl_expr_lex_keyword (&p->lex, "false")) {
        value.type = ZETL_EXPR_BOOL;
        value.b = zetl_expr_lex_keyword (&p->lex, "true");
    }
    if (value.type != ZETL_EXPR_NULL || zetl_expr_lex_keyword (&p->lex, "null")) {
        s_emit_const (p, &value);
        return zetl_expr_lex_next (&p->lex);
    }
    if (zetl_expr_lex_keyword (&p->lex, "and") || zetl_expr_lex_keyword (&p->lex, "or") ||
        zetl_expr_lex_keyword (&p->lex, "not"))
        return s_expected_operand (p);
    if (zetl_expr_lex_next (&p->lex))
        return -1;
    const s_function_t *fn = s_function (text, name.len);
    if (p->lex.tok.kind == ZETL_EXPR_TOK_LPAREN && fn)
        return s_parse_call (p, fn, name.start);
    if (p->lex.tok.kind == ZETL_EXPR_TOK_LPAREN)
        return zetl_expr_lex_fail (&p->lex, name.start,
                                   "unknown function '%.*s'; use " S_FUNCTION_LIST, (int) name.len,
                                   text);
    if (fn)
        return zetl_expr_lex_fail (&p->lex, name.start,
                                   "%.*s is a function: call it as %.*s(...), or write a "
                                   "field of that name as `%.*s`",
                                   (int) name.len, text, (int) name.len, text, (int) name.len,
                                   text);
    return s_emit_field (p, text, name.len, name.start);
}

//  ( expression )
static int
s_parse_group (s_parser_t *p)
{
    zetl_expr_token_t open = p->lex.tok;
    if (s_enter (p, open.start) || zetl_expr_lex_next (&p->lex) || s_parse_or (p))
        return -1;
    if (p->lex.tok.kind != ZETL_EXPR_TOK_RPAREN) {
        char where[64], found[64];
        zetl_expr_lex_position (&p->lex, open.start, where, sizeof where);
        return zetl_expr_lex_fail (
            &p->lex, p->lex.tok.start, "expected ')' to close the '(' at %s, found %s", where,
            zetl_expr_lex_describe (&p->lex, &p->lex.tok, found, sizeof found));
    }
    p->nesting--;
    return zetl_expr_lex_next (&p->lex);
}

static int
s_parse_primary (s_parser_t *p)
{
    switch (p->lex.tok.kind) {
    case ZETL_EXPR_TOK_NUMBER:
        return s_emit_number (p) || zetl_expr_lex_next (&p->lex) ? -1 : 0;
    case ZETL_EXPR_TOK_STRING:
        s_emit_string (p);
        return zetl_expr_lex_next (&p->lex);
    case ZETL_EXPR_TOK_NAME:
        return s_parse_name (p);
    case ZETL_EXPR_TOK_QUOTED_NAME:
        if (s_emit_field (p, p->lex.text + p->lex.tok.start + 1, p->lex.tok.len - 2,
                          p->lex.tok.start))
            return -1;
        return zetl_expr_lex_next (&p->lex);
    case ZETL_EXPR_TOK_LPAREN:
        return s_parse_group (p);
    default:
        return s_expected_operand (p);
    }
}

//  Negate the constant at the end of the code when the operand was just a
//  number literal, so that -9223372036854775808 is an int
static bool
s_fold_negation (s_parser_t *p, size_t mark)
{
    zetl_expr_t *self = p->expr;
    if (self->code_count != mark + 1 || self->code[mark].op != ZETL_EXPR_OP_CONST)
        return false;
    zetl_expr_value_t *value = &self->consts[self->code[mark].arg];
    if (value->type == ZETL_EXPR_INT && value->i != INT64_MIN)
        value->i = -value->i;
    else if (value->type == ZETL_EXPR_DECIMAL) {
        value->d.neg = !value->d.neg && value->d.mag != 0;
        //  Only an integer literal has scale 0: an int again if it now fits
        int64_t i;
        if (value->d.scale == 0 && zetl_expr_decimal_to_int (&value->d, &i)) {
            value->type = ZETL_EXPR_INT;
            value->i = i;
        }
    }
    else
        return false;  //  INT64_MIN: negating it overflows, at run time as for any int
    return true;
}

static int
s_parse_unary (s_parser_t *p)
{
    if (p->lex.tok.kind != ZETL_EXPR_TOK_OPERATOR || p->lex.tok.op != ZETL_EXPR_OP_SUB)
        return s_parse_primary (p);
    if (s_enter (p, p->lex.tok.start) || zetl_expr_lex_next (&p->lex))
        return -1;
    size_t mark = p->expr->code_count;
    if (s_parse_unary (p))
        return -1;
    if (!s_fold_negation (p, mark))
        s_emit (p, ZETL_EXPR_OP_NEG, 0, 1, 1);
    p->nesting--;
    return 0;
}

//  One level of left-associative binary operators FIRST..LAST over NEXT
static int
s_parse_binary (s_parser_t *p, zetl_expr_op_t first, zetl_expr_op_t last,
                int (*next) (s_parser_t *))
{
    if (next (p))
        return -1;
    while (p->lex.tok.kind == ZETL_EXPR_TOK_OPERATOR && p->lex.tok.op >= first &&
           p->lex.tok.op <= last) {
        zetl_expr_op_t op = p->lex.tok.op;
        if (zetl_expr_lex_next (&p->lex) || next (p))
            return -1;
        s_emit (p, op, 0, 2, 1);
    }
    return 0;
}

static int
s_parse_multiplicative (s_parser_t *p)
{
    return s_parse_binary (p, ZETL_EXPR_OP_MUL, ZETL_EXPR_OP_MOD, s_parse_unary);
}

static int
s_parse_additive (s_parser_t *p)
{
    return s_parse_binary (p, ZETL_EXPR_OP_ADD, ZETL_EXPR_OP_SUB, s_parse_multiplicative);
}

static int
s_parse_concatenation (s_parser_t *p)
{
    return s_parse_binary (p, ZETL_EXPR_OP_CAT, ZETL_EXPR_OP_CAT, s_parse_additive);
}

static bool
s_at_comparison (const s_parser_t *p)
{
    return p->lex.tok.kind == ZETL_EXPR_TOK_OPERATOR && p->lex.tok.op >= ZETL_EXPR_OP_EQ &&
           p->lex.tok.op <= ZETL_EXPR_OP_GE;
}

//  a op b, at most one: a < b < c is an error, as in SQL
static int
s_parse_comparison (s_parser_t *p)
{
    if (s_parse_concatenation (p))
        return -1;
    if (!s_at_comparison (p))
        return 0;
    zetl_expr_op_t op = p->lex.tok.op;
    if (zetl_expr_lex_next (&p->lex) || s_parse_concatenation (p))
        return -1;
    s_emit (p, op, 0, 2, 1);
    if (s_at_comparison (p))
        return zetl_expr_lex_fail (&p->lex, p->lex.tok.start,
                                   "comparisons do not chain; write a < b and b < c");
    return 0;
}

static int
s_parse_not (s_parser_t *p)
{
    if (!zetl_expr_lex_keyword (&p->lex, "not"))
        return s_parse_comparison (p);
    if (s_enter (p, p->lex.tok.start) || zetl_expr_lex_next (&p->lex) || s_parse_not (p))
        return -1;
    s_emit (p, ZETL_EXPR_OP_NOT, 0, 1, 1);
    p->nesting--;
    return 0;
}

//  and/or: the left operand may decide alone (JUMP over the right one)
static int
s_parse_logic (s_parser_t *p, const char *word, zetl_expr_op_t jump, zetl_expr_op_t op,
               int (*next) (s_parser_t *))
{
    if (next (p))
        return -1;
    while (zetl_expr_lex_keyword (&p->lex, word)) {
        size_t at = s_emit (p, jump, 0, 1, 1);
        if (zetl_expr_lex_next (&p->lex) || next (p))
            return -1;
        s_emit (p, op, 0, 2, 1);
        s_patch (p, at);
    }
    return 0;
}

static int
s_parse_and (s_parser_t *p)
{
    return s_parse_logic (p, "and", ZETL_EXPR_OP_AND_JUMP, ZETL_EXPR_OP_AND, s_parse_not);
}

static int
s_parse_or (s_parser_t *p)
{
    return s_parse_logic (p, "or", ZETL_EXPR_OP_OR_JUMP, ZETL_EXPR_OP_OR, s_parse_and);
}

//  ---------------------------------------------------------------------------
//  Public API

static int
s_parse (s_parser_t *p)
{
    if (p->lex.len > ZETL_EXPR_MAX_TEXT)
        return zetl_expr_lex_fail (&p->lex, ZETL_EXPR_MAX_TEXT,
                                   "the expression is longer than %d bytes; split it "
                                   "into several computed fields",
                                   ZETL_EXPR_MAX_TEXT);
    if (zetl_expr_lex_next (&p->lex))
        return -1;
    if (s_parse_or (p))
        return -1;
    char found[64];
    if (p->lex.tok.kind == ZETL_EXPR_TOK_RPAREN)
        return zetl_expr_lex_fail (&p->lex, p->lex.tok.start, "')' has no matching '('; remove it");
    if (p->lex.tok.kind != ZETL_EXPR_TOK_END)
        return zetl_expr_lex_fail (
            &p->lex, p->lex.tok.start, "expected an operator or the end, found %s",
            zetl_expr_lex_describe (&p->lex, &p->lex.tok, found, sizeof found));
    assert (p->depth == 1);
    return 0;
}

zetl_expr_t *
zetl_expr_parse (const char *text, char **error)
{
    assert (text && error);
    *error = NULL;
    zetl_expr_t *self = (zetl_expr_t *) s_alloc (sizeof *self);
    s_parser_t p = {.expr = self};
    zetl_expr_lex_init (&p.lex, text);
    //  Literal strings, once unquoted, take no more bytes than the text
    self->texts = (char *) s_alloc (p.lex.len);
    if (s_parse (&p) != 0) {
        *error = p.lex.error;
        zetl_expr_destroy (&self);
        return NULL;
    }
    self->stack = (zetl_expr_value_t *) s_alloc (self->stack_size * sizeof *self->stack);
    return self;
}

void
zetl_expr_destroy (zetl_expr_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_expr_t *self = *self_p;
        for (size_t i = 0; i < self->field_count; i++)
            free (self->fields[i]);
        while (self->blocks) {
            zetl_expr_block_t *next = self->blocks->next;
            free (self->blocks);
            self->blocks = next;
        }
        free (self->code);
        free (self->consts);
        free (self->texts);
        free (self->stack);
        free (self);
        *self_p = NULL;
    }
}

size_t
zetl_expr_field_count (const zetl_expr_t *self)
{
    assert (self);
    return self->field_count;
}

const char *
zetl_expr_field_name (const zetl_expr_t *self, size_t index)
{
    assert (self);
    assert (index < self->field_count);
    return self->fields[index];
}
