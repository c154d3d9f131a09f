/*  expr_fuzz - libFuzzer target for the expression language (common/zetl_expr)

    The input is the text of a compute: expression, as the configuration
    gives it (exactly the input's bytes, up to the first NUL). It is parsed;
    a parse must return an expression or an error message, never both and
    never neither. An expression is then evaluated twice over a fixed set of
    field values (a string holding a number, an int, a decimal, a word, a
    bool, a null, then all null), and each evaluation must pack one value or
    give an error message. Any failed check aborts, which libFuzzer reports
    as a crash.
*/
#include "zetl_expr.h"
#include "zetl_fuzz.h"
#include "zetl_record.h"

#include <string.h>

#define S_VALUES 6

//  The field values fields get in turn: "12.50", 7, decimal 0.1, "abc", true, nil
static void
s_values (msgpack_object *values)
{
    memset (values, 0, S_VALUES * sizeof (msgpack_object));
    values[0].type = MSGPACK_OBJECT_STR;
    values[0].via.str.ptr = "12.50";
    values[0].via.str.size = 5;
    values[1].type = MSGPACK_OBJECT_POSITIVE_INTEGER;
    values[1].via.u64 = 7;
    values[2].type = MSGPACK_OBJECT_EXT;
    values[2].via.ext.type = ZETL_EXT_DECIMAL;
    values[2].via.ext.ptr = "0.1";
    values[2].via.ext.size = 3;
    values[3].type = MSGPACK_OBJECT_STR;
    values[3].via.str.ptr = "abc";
    values[3].via.str.size = 3;
    values[4].type = MSGPACK_OBJECT_BOOLEAN;
    values[4].via.boolean = true;
    values[5].type = MSGPACK_OBJECT_NIL;
}

static void
s_evaluate (zetl_expr_t *expr, const msgpack_object *const *fields)
{
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &out, msgpack_sbuffer_write);
    char error[256] = "";
    int rc = zetl_expr_eval (expr, fields, &packer, error, sizeof error);
    if ((rc == 0 && (out.size == 0 || error[0])) || (rc != 0 && (out.size != 0 || !error[0]))) {
        fprintf (stderr, "expr_fuzz: eval returned %d with %zu bytes packed and error \"%s\"\n",
                 rc, out.size, error);
        abort ();
    }
    msgpack_sbuffer_destroy (&out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *text = (char *) malloc (size + 1);
    if (!text)
        abort ();
    memcpy (text, data, size);
    text[size] = 0;
    char *error = NULL;
    zetl_expr_t *expr = zetl_expr_parse (text, &error);
    if ((expr == NULL) == (error == NULL)) {
        fprintf (stderr, "expr_fuzz: zetl_expr_parse returned %s and %s\n",
                 expr ? "an expression" : "no expression", error ? "an error" : "no error");
        abort ();
    }
    if (expr) {
        msgpack_object values[S_VALUES];
        s_values (values);
        const msgpack_object *fields[ZETL_EXPR_MAX_FIELDS];
        for (size_t index = 0; index < ZETL_EXPR_MAX_FIELDS; index++)
            fields[index] = &values[index % S_VALUES];
        s_evaluate (expr, fields);
        for (size_t index = 0; index < ZETL_EXPR_MAX_FIELDS; index++)
            fields[index] = NULL;
        s_evaluate (expr, fields);
    }
    free (error);
    zetl_expr_destroy (&expr);
    free (text);
    return 0;
}
