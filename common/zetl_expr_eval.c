/*  zetl_expr - expressions for computed fields: evaluation

    Runs the code zetl_expr.c made on the expression's value stack: a loop
    over the instructions, with the operators and functions below it.
    Operands become numbers, text or bools only when an operation needs
    them to (zetl_expr_value), so a record's value that passes through is
    never converted. Nothing is allocated once the arena has grown to what
    the expression needs.
*/
#include "zetl_expr.h"
#include "zetl_expr_value.h"
#include "zetl_record.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static bool
s_is_space (char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

//  ---------------------------------------------------------------------------
//  Arithmetic

static int
s_decimal_arith (zetl_expr_run_t *run, zetl_expr_op_t op, zetl_expr_value_t *a,
                 const zetl_expr_value_t *b)
{
    zetl_expr_decimal_t x, y;
    zetl_expr_to_decimal (a, &x);
    zetl_expr_to_decimal (b, &y);
    int rc;
    if (op == ZETL_EXPR_OP_ADD)
        rc = zetl_expr_decimal_add (&x, &y, &a->d);
    else if (op == ZETL_EXPR_OP_SUB)
        rc = zetl_expr_decimal_sub (&x, &y, &a->d);
    else if (op == ZETL_EXPR_OP_MUL)
        rc = zetl_expr_decimal_mul (&x, &y, &a->d);
    else if (y.mag == 0)
        return zetl_expr_fail (run, "division by zero");
    else
        rc = zetl_expr_decimal_div (&x, &y, &a->d);
    if (rc != 0)
        return zetl_expr_fail (run, "decimal overflow");
    a->type = ZETL_EXPR_DECIMAL;
    return 0;
}

static int
s_int_arith (zetl_expr_run_t *run, zetl_expr_op_t op, zetl_expr_value_t *a,
             const zetl_expr_value_t *b)
{
    int64_t x = a->i, y = b->i, r = 0;
    bool overflow = false;
    if ((op == ZETL_EXPR_OP_DIV || op == ZETL_EXPR_OP_MOD) && y == 0)
        return zetl_expr_fail (run, "division by zero");
    if (op == ZETL_EXPR_OP_ADD)
        overflow = __builtin_add_overflow (x, y, &r);
    else if (op == ZETL_EXPR_OP_SUB)
        overflow = __builtin_sub_overflow (x, y, &r);
    else if (op == ZETL_EXPR_OP_MUL)
        overflow = __builtin_mul_overflow (x, y, &r);
    else if (op == ZETL_EXPR_OP_MOD)
        r = y == -1 ? 0 : x % y;  //  INT64_MIN % -1 is undefined in C
    else if (y == -1)
        overflow = __builtin_sub_overflow ((int64_t) 0, x, &r);
    else if (x % y == 0)
        r = x / y;
    else
        return s_decimal_arith (run, op, a, b);  //  7 / 2 = 3.5
    if (overflow)
        return zetl_expr_fail (run, "integer overflow");
    a->i = r;
    return 0;
}

//  *A = *A op *B for + - * / %
static int
s_arith (zetl_expr_run_t *run, zetl_expr_op_t op, zetl_expr_value_t *a, zetl_expr_value_t *b)
{
    if (a->type == ZETL_EXPR_NULL || b->type == ZETL_EXPR_NULL) {
        a->type = ZETL_EXPR_NULL;
        return 0;
    }
    if (zetl_expr_to_number (run, a) || zetl_expr_to_number (run, b))
        return -1;
    if (a->type == ZETL_EXPR_INT && b->type == ZETL_EXPR_INT)
        return s_int_arith (run, op, a, b);
    char buf[ZETL_EXPR_SHOW];
    if (op == ZETL_EXPR_OP_MOD)
        return zetl_expr_fail (run, "%% needs integers, not %s",
                               zetl_expr_show (a->type == ZETL_EXPR_DECIMAL ? a : b, buf));
    return s_decimal_arith (run, op, a, b);
}

//  ---------------------------------------------------------------------------
//  Comparisons and logic

static int
s_number_cmp (const zetl_expr_value_t *a, const zetl_expr_value_t *b)
{
    if (a->type == ZETL_EXPR_INT && b->type == ZETL_EXPR_INT)
        return (a->i > b->i) - (a->i < b->i);
    zetl_expr_decimal_t x, y;
    zetl_expr_to_decimal (a, &x);
    zetl_expr_to_decimal (b, &y);
    return zetl_expr_decimal_cmp (&x, &y);
}

//  A bool with a bool, or with a string holding one
static int
s_bool_cmp (zetl_expr_run_t *run, const zetl_expr_value_t *a, const zetl_expr_value_t *b, int *c)
{
    char buf[ZETL_EXPR_SHOW];
    bool x = a->type == ZETL_EXPR_BOOL && a->b, y = b->type == ZETL_EXPR_BOOL && b->b;
    const zetl_expr_value_t *other = a->type == ZETL_EXPR_BOOL ? b : a;
    if (other->type == ZETL_EXPR_INT || other->type == ZETL_EXPR_DECIMAL)
        return zetl_expr_fail (run, "cannot compare a bool with a number");
    if (other->type == ZETL_EXPR_STR &&
        !zetl_expr_bool_text (other->s.ptr, other->s.len, other == a ? &x : &y))
        return zetl_expr_fail (run, "%s is not a bool", zetl_expr_show (other, buf));
    *c = x - y;
    return 0;
}

static bool
s_holds (zetl_expr_op_t op, int c)
{
    switch (op) {
    case ZETL_EXPR_OP_EQ:
        return c == 0;
    case ZETL_EXPR_OP_NE:
        return c != 0;
    case ZETL_EXPR_OP_LT:
        return c < 0;
    case ZETL_EXPR_OP_LE:
        return c <= 0;
    case ZETL_EXPR_OP_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

static int
s_compare (zetl_expr_run_t *run, zetl_expr_op_t op, zetl_expr_value_t *a, zetl_expr_value_t *b)
{
    if (a->type == ZETL_EXPR_NULL || b->type == ZETL_EXPR_NULL) {
        a->type = ZETL_EXPR_NULL;
        return 0;
    }
    if (zetl_expr_resolve (run, a) || zetl_expr_resolve (run, b))
        return -1;
    int c = 0;
    if (a->type == ZETL_EXPR_STR && b->type == ZETL_EXPR_STR) {
        size_t len = a->s.len < b->s.len ? a->s.len : b->s.len;
        c = len ? memcmp (a->s.ptr, b->s.ptr, len) : 0;
        if (c == 0)
            c = (a->s.len > b->s.len) - (a->s.len < b->s.len);
    }
    else if (a->type == ZETL_EXPR_BOOL || b->type == ZETL_EXPR_BOOL) {
        if (s_bool_cmp (run, a, b, &c))
            return -1;
    }
    else if (zetl_expr_to_number (run, a) || zetl_expr_to_number (run, b))
        return -1;
    else
        c = s_number_cmp (a, b);
    a->type = ZETL_EXPR_BOOL;
    a->b = s_holds (op, c);
    return 0;
}

//  *A = *A and/or *B, where *A is what AND_JUMP/OR_JUMP let through: true or
//  null for and, false or null for or
static int
s_and_or (zetl_expr_run_t *run, zetl_expr_op_t op, zetl_expr_value_t *a, zetl_expr_value_t *b)
{
    if (zetl_expr_to_bool (run, b))
        return -1;
    bool decisive = op == ZETL_EXPR_OP_OR;  //  The value that decides alone
    if (b->type == ZETL_EXPR_BOOL && b->b == decisive)
        *a = *b;
    else if (b->type == ZETL_EXPR_NULL)
        a->type = ZETL_EXPR_NULL;
    return 0;  //  Otherwise the result is A: null, or the bool B equals
}

//  ---------------------------------------------------------------------------
//  Strings

//  Join the strings among ARGS (COUNT, nulls skipped) into *OUT
static int
s_join (zetl_expr_run_t *run, const zetl_expr_value_t *args, size_t count, zetl_expr_value_t *out)
{
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        if (args[i].type == ZETL_EXPR_STR)
            total += args[i].s.len;
    if (total > ZETL_EXPR_MAX_STRING)
        return zetl_expr_fail (run, "string longer than 1 MiB");
    char *buf = zetl_expr_alloc (run, total);
    if (!buf)
        return -1;
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        if (args[i].type == ZETL_EXPR_STR && args[i].s.len) {
            memcpy (buf + len, args[i].s.ptr, args[i].s.len);
            len += args[i].s.len;
        }
    }
    out->type = ZETL_EXPR_STR;
    out->s.ptr = buf;
    out->s.len = len;
    return 0;
}

//  a || b: null if either is
static int
s_cat (zetl_expr_run_t *run, zetl_expr_value_t *a, zetl_expr_value_t *b)
{
    if (a->type == ZETL_EXPR_NULL || b->type == ZETL_EXPR_NULL) {
        a->type = ZETL_EXPR_NULL;
        return 0;
    }
    if (zetl_expr_to_text (run, a) || zetl_expr_to_text (run, b))
        return -1;
    return s_join (run, a, 2, a);
}

//  concat(args...): nulls skipped
static int
s_concat (zetl_expr_run_t *run, zetl_expr_value_t *args, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (args[i].type != ZETL_EXPR_NULL && zetl_expr_to_text (run, &args[i]))
            return -1;
    return s_join (run, args, count, args);
}

//  Case mappings that keep a character's UTF-8 length: every code point
//  from FIRST to LAST (STEP 1), or every other one from FIRST (STEP 2),
//  maps to itself + DELTA
typedef struct {
    uint16_t first;
    uint16_t last;
    int16_t delta;
    uint8_t step;
} s_case_range_t;

// clang-format off
static const s_case_range_t s_to_lower[] = {
    {0x41, 0x5A, 32, 1},    {0xC0, 0xD6, 32, 1},    {0xD8, 0xDE, 32, 1},
    {0x100, 0x12E, 1, 2},   {0x132, 0x136, 1, 2},   {0x139, 0x147, 1, 2},
    {0x14A, 0x176, 1, 2},   {0x178, 0x178, -121, 1}, {0x179, 0x17D, 1, 2},
    {0x386, 0x386, 38, 1},  {0x388, 0x38A, 37, 1},  {0x38C, 0x38C, 64, 1},
    {0x38E, 0x38F, 63, 1},  {0x391, 0x3A1, 32, 1},  {0x3A3, 0x3AB, 32, 1},
    {0x400, 0x40F, 80, 1},  {0x410, 0x42F, 32, 1},
};
static const s_case_range_t s_to_upper[] = {
    {0x61, 0x7A, -32, 1},   {0xB5, 0xB5, 743, 1},   {0xE0, 0xF6, -32, 1},
    {0xF8, 0xFE, -32, 1},   {0xFF, 0xFF, 121, 1},   {0x101, 0x12F, -1, 2},
    {0x133, 0x137, -1, 2},  {0x13A, 0x148, -1, 2},  {0x14B, 0x177, -1, 2},
    {0x17A, 0x17E, -1, 2},  {0x3AC, 0x3AC, -38, 1}, {0x3AD, 0x3AF, -37, 1},
    {0x3B1, 0x3C1, -32, 1}, {0x3C2, 0x3C2, -31, 1}, {0x3C3, 0x3CB, -32, 1},
    {0x3CC, 0x3CC, -64, 1}, {0x3CD, 0x3CE, -63, 1}, {0x430, 0x44F, -32, 1},
    {0x450, 0x45F, -80, 1},
};
// clang-format on

static unsigned
s_map_case (unsigned cp, bool upper)
{
    const s_case_range_t *ranges = upper ? s_to_upper : s_to_lower;
    size_t count =
        upper ? sizeof s_to_upper / sizeof *s_to_upper : sizeof s_to_lower / sizeof *s_to_lower;
    for (size_t i = 0; i < count && cp >= ranges[i].first; i++)
        if (cp <= ranges[i].last && (cp - ranges[i].first) % ranges[i].step == 0)
            return (unsigned) ((int) cp + ranges[i].delta);
    return cp;
}

//  Map the case of LEN bytes of UTF-8 at IN into OUT (as long). Only one-
//  and two-byte characters change; anything else, valid or not, is copied.
static void
s_case_copy (const char *in, size_t len, char *out, bool upper)
{
    const unsigned char *p = (const unsigned char *) in;
    for (size_t i = 0; i < len; i++) {
        unsigned c = p[i];
        if (c < 0x80)
            out[i] = (char) s_map_case (c, upper);
        else if (c >= 0xC2 && c <= 0xDF && i + 1 < len && (p[i + 1] & 0xC0) == 0x80) {
            unsigned cp = s_map_case (((c & 0x1F) << 6) | (p[i + 1] & 0x3F), upper);
            out[i] = (char) (0xC0 | cp >> 6);
            out[i + 1] = (char) (0x80 | (cp & 0x3F));
            i++;
        }
        else
            out[i] = (char) c;
    }
}

//  lower(), upper(), trim(), length() of non-null *V
static int
s_string_function (zetl_expr_run_t *run, zetl_expr_op_t op, zetl_expr_value_t *v)
{
    if (zetl_expr_to_text (run, v))
        return -1;
    const char *ptr = v->s.ptr;
    size_t len = v->s.len;
    if (op == ZETL_EXPR_OP_LENGTH) {
        int64_t count = 0;
        for (size_t i = 0; i < len; i++)
            count += ((unsigned char) ptr[i] & 0xC0) != 0x80;
        v->type = ZETL_EXPR_INT;
        v->i = count;
    }
    else if (op == ZETL_EXPR_OP_TRIM) {
        while (len > 0 && s_is_space (*ptr)) {
            ptr++;
            len--;
        }
        while (len > 0 && s_is_space (ptr[len - 1]))
            len--;
        v->s.ptr = ptr;
        v->s.len = len;
    }
    else {
        if (len > ZETL_EXPR_MAX_STRING)
            return zetl_expr_fail (run, "string longer than 1 MiB");
        char *out = zetl_expr_alloc (run, len);
        if (!out)
            return -1;
        s_case_copy (ptr, len, out, op == ZETL_EXPR_OP_UPPER);
        v->s.ptr = out;
    }
    return 0;
}

//  ---------------------------------------------------------------------------
//  Numeric functions

//  -x and abs(x) of non-null *V
static int
s_negate (zetl_expr_run_t *run, zetl_expr_op_t op, zetl_expr_value_t *v)
{
    if (zetl_expr_to_number (run, v))
        return -1;
    if (v->type == ZETL_EXPR_DECIMAL) {
        v->d.neg = op == ZETL_EXPR_OP_NEG && !v->d.neg && v->d.mag != 0;
        return 0;
    }
    if (op == ZETL_EXPR_OP_ABS && v->i >= 0)
        return 0;
    if (v->i == INT64_MIN)
        return zetl_expr_fail (run, "integer overflow");
    v->i = -v->i;
    return 0;
}

//  round(x[, digits]) into ARGS[0]
static int
s_round (zetl_expr_run_t *run, zetl_expr_value_t *args, size_t argc)
{
    char buf[ZETL_EXPR_SHOW];
    int64_t digits = 0;
    zetl_expr_value_t *x = &args[0], *d = &args[1];
    if (argc == 2 && d->type == ZETL_EXPR_NULL)
        x->type = ZETL_EXPR_NULL;
    if (x->type == ZETL_EXPR_NULL)
        return 0;
    if (argc == 2) {
        if (zetl_expr_to_number (run, d))
            return -1;
        if (d->type != ZETL_EXPR_INT || d->i < -38 || d->i > 38)
            return zetl_expr_fail (run, "round() takes digits from -38 to 38, not %s",
                                   zetl_expr_show (d, buf));
        digits = d->i;
    }
    if (zetl_expr_to_number (run, x))
        return -1;
    if (x->type == ZETL_EXPR_INT && digits == 0)
        return 0;
    bool integer = x->type == ZETL_EXPR_INT && digits < 0;
    zetl_expr_decimal_t value;
    zetl_expr_to_decimal (x, &value);
    if (zetl_expr_decimal_round (&value, (int) digits, &x->d) != 0)
        return zetl_expr_fail (run, integer ? "integer overflow" : "decimal overflow");
    x->type = ZETL_EXPR_DECIMAL;
    if (integer) {
        value = x->d;
        if (!zetl_expr_decimal_to_int (&value, &x->i))
            return zetl_expr_fail (run, "integer overflow");
        x->type = ZETL_EXPR_INT;
    }
    return 0;
}

//  ---------------------------------------------------------------------------
//  The machine

static int
s_unary (zetl_expr_run_t *run, zetl_expr_op_t op, zetl_expr_value_t *v)
{
    if (op == ZETL_EXPR_OP_NOT) {
        if (zetl_expr_to_bool (run, v))
            return -1;
        if (v->type == ZETL_EXPR_BOOL)
            v->b = !v->b;
        return 0;
    }
    if (v->type == ZETL_EXPR_NULL)
        return 0;
    if (op == ZETL_EXPR_OP_NEG || op == ZETL_EXPR_OP_ABS)
        return s_negate (run, op, v);
    return s_string_function (run, op, v);
}

//  Run the operation IN on the top of the stack, SP being one past it;
//  returns the new SP, or NULL on error
static zetl_expr_value_t *
s_apply (zetl_expr_run_t *run, const zetl_expr_instr_t *in, zetl_expr_value_t *sp)
{
    zetl_expr_op_t op = (zetl_expr_op_t) in->op;
    int rc;
    if (op == ZETL_EXPR_OP_AND || op == ZETL_EXPR_OP_OR)
        rc = s_and_or (run, op, &sp[-2], &sp[-1]);
    else if (op >= ZETL_EXPR_OP_ADD && op <= ZETL_EXPR_OP_MOD)
        rc = s_arith (run, op, &sp[-2], &sp[-1]);
    else if (op >= ZETL_EXPR_OP_EQ && op <= ZETL_EXPR_OP_GE)
        rc = s_compare (run, op, &sp[-2], &sp[-1]);
    else if (op == ZETL_EXPR_OP_CAT)
        rc = s_cat (run, &sp[-2], &sp[-1]);
    else if (op == ZETL_EXPR_OP_ROUND)
        return s_round (run, sp - in->argc, in->argc) ? NULL : sp - in->argc + 1;
    else if (op == ZETL_EXPR_OP_CONCAT)
        return s_concat (run, sp - in->argc, in->argc) ? NULL : sp - in->argc + 1;
    else
        return s_unary (run, op, &sp[-1]) ? NULL : sp;
    return rc ? NULL : sp - 1;
}

//  Constants, fields and jumps: move *SP and *PC
static int
s_flow (zetl_expr_run_t *run, const zetl_expr_instr_t *in, zetl_expr_value_t **sp, size_t *pc)
{
    zetl_expr_value_t *top = *sp - 1;
    switch ((zetl_expr_op_t) in->op) {
    case ZETL_EXPR_OP_CONST:
        *(*sp)++ = run->expr->consts[in->arg];
        return 0;
    case ZETL_EXPR_OP_FIELD: {
        const msgpack_object *obj = run->values[in->arg];
        (*sp)->type = obj && obj->type != MSGPACK_OBJECT_NIL ? ZETL_EXPR_OBJECT : ZETL_EXPR_NULL;
        (*sp)++->obj = obj;
        return 0;
    }
    case ZETL_EXPR_OP_JUMP:
        *pc = (size_t) in->arg;
        return 0;
    case ZETL_EXPR_OP_JUMP_UNLESS:
        (*sp)--;
        if (zetl_expr_to_bool (run, top))
            return -1;
        if (top->type != ZETL_EXPR_BOOL || !top->b)
            *pc = (size_t) in->arg;
        return 0;
    case ZETL_EXPR_OP_JUMP_IF_SET:
        if (top->type != ZETL_EXPR_NULL)
            *pc = (size_t) in->arg;
        else
            (*sp)--;
        return 0;
    default:  //  AND_JUMP, OR_JUMP
        if (zetl_expr_to_bool (run, top))
            return -1;
        if (top->type == ZETL_EXPR_BOOL && top->b == (in->op == ZETL_EXPR_OP_OR_JUMP))
            *pc = (size_t) in->arg;
        return 0;
    }
}

static int
s_pack (zetl_expr_run_t *run, const zetl_expr_value_t *v, msgpack_packer *pk)
{
    char buf[ZETL_EXPR_DECIMAL_TEXT];
    size_t len;
    int rc;
    switch (v->type) {
    case ZETL_EXPR_NULL:
        rc = msgpack_pack_nil (pk);
        break;
    case ZETL_EXPR_BOOL:
        rc = v->b ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
        break;
    case ZETL_EXPR_INT:
        rc = msgpack_pack_int64 (pk, v->i);
        break;
    case ZETL_EXPR_DECIMAL:
        len = zetl_expr_decimal_text (&v->d, buf);
        rc = msgpack_pack_ext (pk, len, ZETL_EXT_DECIMAL) || msgpack_pack_ext_body (pk, buf, len);
        break;
    case ZETL_EXPR_STR:
        rc = msgpack_pack_str (pk, v->s.len) || msgpack_pack_str_body (pk, v->s.ptr, v->s.len);
        break;
    default:
        rc = msgpack_pack_object (pk, *v->obj);
    }
    return rc ? zetl_expr_fail (run, "cannot pack the result") : 0;
}

int
zetl_expr_eval (zetl_expr_t *self, const msgpack_object *const *values, msgpack_packer *packer,
                char *error, size_t size)
{
    assert (self && packer);
    assert (values || self->field_count == 0);
    assert (error || size == 0);
    zetl_expr_run_t run = {self, values, error, size, 0};
    if (size > 0)
        error[0] = '\0';
    //  Strings of the last evaluation are dead: reuse the arena from its first block
    self->current = self->blocks;
    if (self->blocks)
        self->blocks->used = 0;
    zetl_expr_value_t *sp = self->stack;
    for (size_t pc = 0; pc < self->code_count;) {
        const zetl_expr_instr_t *in = &self->code[pc++];
        if (in->op <= ZETL_EXPR_OP_OR_JUMP) {
            if (s_flow (&run, in, &sp, &pc))
                return -1;
        }
        else if (!(sp = s_apply (&run, in, sp)))
            return -1;
    }
    assert (sp == self->stack + 1);
    return s_pack (&run, self->stack, packer);
}
