/*  zetl_expr_code - the compiled form of an expression, inside zetl_expr

    zetl_expr.c parses an expression's text (with zetl_expr_lex) into code
    for a small stack machine, and zetl_expr_eval.c runs it (with
    zetl_expr_value). Each instruction pops its operands from the value
    stack and pushes one result; jumps carry the short-circuits of and, or,
    if() and coalesce(). Only those files and the expr_*_test unit tests use this header.
*/
#ifndef ZETL_EXPR_CODE_H_INCLUDED
#define ZETL_EXPR_CODE_H_INCLUDED

#include "zetl_expr.h"
#include "zetl_expr_decimal.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    ZETL_EXPR_NULL,
    ZETL_EXPR_BOOL,
    ZETL_EXPR_INT,
    ZETL_EXPR_DECIMAL,
    ZETL_EXPR_STR,
    ZETL_EXPR_OBJECT  //  a record's value, not read yet (never nil)
} zetl_expr_type_t;

//  A value on the stack: constants and results, or a record's value
typedef struct {
    zetl_expr_type_t type;
    union {
        bool b;                 //  BOOL
        int64_t i;              //  INT
        zetl_expr_decimal_t d;  //  DECIMAL
        struct {
            const char *ptr;  //  a constant, the record or the arena
            size_t len;
        } s;                        //  STR
        const msgpack_object *obj;  //  OBJECT, borrowed from the record
    };
} zetl_expr_value_t;

typedef enum {
    ZETL_EXPR_OP_CONST,        //  push constant ARG
    ZETL_EXPR_OP_FIELD,        //  push the value of field ARG
    ZETL_EXPR_OP_JUMP,         //  go to ARG
    ZETL_EXPR_OP_JUMP_UNLESS,  //  pop a condition; go to ARG if false or null
    ZETL_EXPR_OP_JUMP_IF_SET,  //  go to ARG if the top is not null, else pop it
    ZETL_EXPR_OP_AND_JUMP,     //  the top as a bool; go to ARG if false
    ZETL_EXPR_OP_OR_JUMP,      //  the top as a bool; go to ARG if true
    ZETL_EXPR_OP_AND,          //  binary: three-valued and, or
    ZETL_EXPR_OP_OR,
    ZETL_EXPR_OP_ADD,  //  binary arithmetic
    ZETL_EXPR_OP_SUB,
    ZETL_EXPR_OP_MUL,
    ZETL_EXPR_OP_DIV,
    ZETL_EXPR_OP_MOD,
    ZETL_EXPR_OP_EQ,  //  binary comparisons
    ZETL_EXPR_OP_NE,
    ZETL_EXPR_OP_LT,
    ZETL_EXPR_OP_LE,
    ZETL_EXPR_OP_GT,
    ZETL_EXPR_OP_GE,
    ZETL_EXPR_OP_CAT,  //  binary ||
    ZETL_EXPR_OP_NOT,  //  unary
    ZETL_EXPR_OP_NEG,
    ZETL_EXPR_OP_ABS,
    ZETL_EXPR_OP_LOWER,
    ZETL_EXPR_OP_UPPER,
    ZETL_EXPR_OP_TRIM,
    ZETL_EXPR_OP_LENGTH,
    ZETL_EXPR_OP_ROUND,  //  ARGC 1 or 2
    ZETL_EXPR_OP_CONCAT  //  ARGC values
} zetl_expr_op_t;

typedef struct {
    uint8_t op;    //  zetl_expr_op_t
    uint8_t argc;  //  values popped by ROUND and CONCAT
    int32_t arg;   //  constant, field or jump target
} zetl_expr_instr_t;

//  A block of the string arena; blocks are kept from one evaluation to the
//  next, so a warm expression allocates nothing
typedef struct zetl_expr_block {
    struct zetl_expr_block *next;
    size_t size;  //  bytes at data
    size_t used;  //  bytes handed out in this evaluation
    char data[];
} zetl_expr_block_t;

struct zetl_expr {
    zetl_expr_instr_t *code;  //  the program
    size_t code_count;
    size_t code_max;            //  allocated instructions
    zetl_expr_value_t *consts;  //  literals, strings pointing into texts
    size_t const_count;
    size_t const_max;
    char *texts;  //  literal strings' bytes (at most the text's length)
    size_t texts_used;
    char *fields[ZETL_EXPR_MAX_FIELDS];  //  field names, in first-use order
    size_t field_count;
    zetl_expr_value_t *stack;  //  value stack, stack_size deep
    size_t stack_size;
    zetl_expr_block_t *blocks;   //  string arena
    zetl_expr_block_t *current;  //  the block the evaluation allocates from
};

#endif
