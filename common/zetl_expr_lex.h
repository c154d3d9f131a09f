/*  zetl_expr_lex - the tokens of an expression's text

    Internal to zetl_expr: the parser (zetl_expr.c) owns one lexer on its
    stack while it parses, moves it a token at a time and reports errors
    through it. The lexer borrows the text; the first error message it
    records is the caller's to free.
*/
#ifndef ZETL_EXPR_LEX_H_INCLUDED
#define ZETL_EXPR_LEX_H_INCLUDED

#include "zetl_expr_code.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    ZETL_EXPR_TOK_END,
    ZETL_EXPR_TOK_NUMBER,       //  digits[.digits]
    ZETL_EXPR_TOK_STRING,       //  'text' or "text", quotes included
    ZETL_EXPR_TOK_NAME,         //  a field, keyword or function name
    ZETL_EXPR_TOK_QUOTED_NAME,  //  `any name`, backquotes included
    ZETL_EXPR_TOK_LPAREN,
    ZETL_EXPR_TOK_RPAREN,
    ZETL_EXPR_TOK_COMMA,
    ZETL_EXPR_TOK_OPERATOR  //  op says which
} zetl_expr_tok_kind_t;

typedef struct {
    zetl_expr_tok_kind_t kind;
    zetl_expr_op_t op;  //  OPERATOR: ADD ... CAT
    size_t start;       //  byte offset in the text
    size_t len;         //  bytes
} zetl_expr_token_t;

typedef struct {
    const char *text;        //  borrowed
    size_t len;              //  bytes of text
    size_t pos;              //  next byte to read
    zetl_expr_token_t tok;   //  the current token
    zetl_expr_token_t prev;  //  the one before it (END before the first)
    char *error;             //  the first error, "column N: ...", or NULL
} zetl_expr_lex_t;

//  Start reading TEXT (borrowed: must outlive the lexer), before its first token.
void zetl_expr_lex_init (zetl_expr_lex_t *self, const char *text);

//  Move to the next token. Returns 0, or -1 with the error recorded (an
//  unclosed string, a malformed number, a character that starts no token).
int zetl_expr_lex_next (zetl_expr_lex_t *self);

//  Is the current token the keyword WORD, in any case?
bool zetl_expr_lex_keyword (const zetl_expr_lex_t *self, const char *word);

//  Record an error at byte OFFSET as "column C: <message>" ("line L,
//  column C" when the text has several lines), columns counting UTF-8
//  characters from 1. Only the first error is kept. Returns -1.
int zetl_expr_lex_fail (zetl_expr_lex_t *self, size_t offset, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Write "column C" or "line L, column C" of byte OFFSET into BUF (SIZE bytes).
void zetl_expr_lex_position (const zetl_expr_lex_t *self, size_t offset, char *buf, size_t size);

//  Return TOK as a message shows it: 'text' cut after 24 bytes, or "the
//  end"; written into BUF (SIZE bytes) unless it is a constant.
const char *zetl_expr_lex_describe (const zetl_expr_lex_t *self, const zetl_expr_token_t *tok,
                                    char *buf, size_t size);

#endif
