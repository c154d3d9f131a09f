/*  jsonl_test - zetl_jsonl: JSON lines into msgpack records  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zetl_jsonl.h"

typedef struct {
    zetl_jsonl_t *jsonl;
    msgpack_sbuffer out;
    msgpack_unpacked unpacked;
    zetl_field_value_t values[8];
} s_env_t;

static const char *s_names[] = {"id", "ts", "missing", "nul", "n", "obj", NULL, "flag"};
#define S_NAMES 8

static int
s_setup (void **state)
{
    s_env_t *env = (s_env_t *) calloc (1, sizeof (s_env_t));
    env->jsonl = zetl_jsonl_new (s_names, S_NAMES);
    assert_non_null (env->jsonl);
    msgpack_sbuffer_init (&env->out);
    msgpack_unpacked_init (&env->unpacked);
    *state = env;
    return 0;
}

static int
s_teardown (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    zetl_jsonl_destroy (&env->jsonl);
    assert_null (env->jsonl);
    zetl_jsonl_destroy (&env->jsonl);  //  Twice is fine
    msgpack_sbuffer_destroy (&env->out);
    msgpack_unpacked_destroy (&env->unpacked);
    free (env);
    return 0;
}

//  Convert LINE (LEN bytes) and return the record appended to OUT, unpacked
static const msgpack_object *
s_convert_len (s_env_t *env, const char *line, size_t len)
{
    const char *reason = NULL;
    size_t before = env->out.size;
    if (zetl_jsonl_convert (env->jsonl, line, len, &env->out, env->values, &reason) != 0)
        fail_msg ("refused (%s): %.*s", reason, (int) len, line);
    assert_null (reason);
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&env->unpacked, env->out.data + before,
                                                    env->out.size - before, &offset);
    assert_int_equal (rc, MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (offset, env->out.size - before);  //  Exactly one object
    assert_int_equal (env->unpacked.data.type, MSGPACK_OBJECT_MAP);
    return &env->unpacked.data;
}

static const msgpack_object *
s_convert (s_env_t *env, const char *line)
{
    return s_convert_len (env, line, strlen (line));
}

//  Convert LINE and check the record's JSON text is EXPECTED
static void
s_assert_json (s_env_t *env, const char *line, const char *expected)
{
    const msgpack_object *obj = s_convert (env, line);
    msgpack_sbuffer json;
    msgpack_sbuffer_init (&json);
    assert_int_equal (zetl_record_to_json (obj, &json), 0);
    if (json.size != strlen (expected) || memcmp (json.data, expected, json.size) != 0)
        fail_msg ("%s\n  gives %.*s\n  expected %s", line, (int) json.size, json.data, expected);
    msgpack_sbuffer_destroy (&json);
}

//  LINE (LEN bytes) is refused with a reason (and the code RC: -1 malformed,
//  -2 beyond a limit), and OUT and the values are as before / cleared
static void
s_assert_refused_rc (s_env_t *env, const char *line, size_t len, const char *reason_part, int rc_wanted)
{
    msgpack_sbuffer_clear (&env->out);
    msgpack_sbuffer_write (&env->out, "previous", 8);
    const char *reason = NULL;
    int rc = zetl_jsonl_convert (env->jsonl, line, len, &env->out, env->values, &reason);
    if (rc != rc_wanted)
        fail_msg ("answered %d, not %d: %.*s", rc, rc_wanted, (int) len, line);
    assert_non_null (reason);
    if (reason_part && !strstr (reason, reason_part))
        fail_msg ("%.*s: reason \"%s\", expected \"%s\"", (int) len, line, reason, reason_part);
    assert_int_equal (env->out.size, 8);
    assert_memory_equal (env->out.data, "previous", 8);
    for (int i = 0; i < S_NAMES; i++)
        assert_false (env->values[i].present);
    msgpack_sbuffer_clear (&env->out);
}

static void
s_assert_refused_len (s_env_t *env, const char *line, size_t len, const char *reason_part)
{
    s_assert_refused_rc (env, line, len, reason_part, -1);
}

static void
s_assert_refused (s_env_t *env, const char *line, const char *reason_part)
{
    s_assert_refused_len (env, line, strlen (line), reason_part);
}

static void
test_every_type (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    const char *line = "{\"s\":\"text\",\"i\":42,\"neg\":-7,\"d\":12.50,\"t\":true,\"f\":false,"
                       "\"z\":null,\"o\":{\"a\":[1,\"b\",{},[]],\"e\":{}},\"a\":[],\"empty\":\"\"}";
    s_assert_json (env, line, line);
    const msgpack_object *obj = s_convert (env, line);
    assert_int_equal (obj->via.map.size, 10);
    assert_int_equal (zetl_record_get (obj, "s")->type, MSGPACK_OBJECT_STR);
    assert_int_equal (zetl_record_get (obj, "i")->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    assert_int_equal (zetl_record_get (obj, "i")->via.u64, 42);
    assert_int_equal (zetl_record_get (obj, "neg")->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    assert_int_equal (zetl_record_get (obj, "neg")->via.i64, -7);
    const msgpack_object *d = zetl_record_get (obj, "d");
    assert_int_equal (d->type, MSGPACK_OBJECT_EXT);
    assert_int_equal (d->via.ext.type, ZETL_EXT_DECIMAL);
    assert_int_equal (d->via.ext.size, 5);
    assert_memory_equal (d->via.ext.ptr, "12.50", 5);  //  The exact text, trailing zero kept
    assert_int_equal (zetl_record_get (obj, "t")->type, MSGPACK_OBJECT_BOOLEAN);
    assert_true (zetl_record_get (obj, "t")->via.boolean);
    assert_false (zetl_record_get (obj, "f")->via.boolean);
    assert_int_equal (zetl_record_get (obj, "z")->type, MSGPACK_OBJECT_NIL);
    assert_int_equal (zetl_record_get (obj, "o")->type, MSGPACK_OBJECT_MAP);
    assert_int_equal (zetl_record_get (obj, "a")->type, MSGPACK_OBJECT_ARRAY);
    //  Key order is kept
    assert_memory_equal (obj->via.map.ptr[0].key.via.str.ptr, "s", 1);
    assert_memory_equal (obj->via.map.ptr[9].key.via.str.ptr, "empty", 5);
    //  Records append one after the other
    s_assert_json (env, "{}", "{}");
}

static void
test_whitespace (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    const char *cases[][2] = {
        //  line, its record as JSON text
        {" \t{ \"a\" : 1 ,\t\"b\" : [ 1 , 2 ] , \"c\" : { } } \t",
         "{\"a\":1,\"b\":[1,2],\"c\":{}}"},
        //  A trailing '\r' (CRLF files) is ignored
        {"{\"a\":1}\r", "{\"a\":1}"},
        {"{\"a\":\"x\"} \r", "{\"a\":\"x\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        s_assert_json (env, cases[i][0], cases[i][1]);
}

static void
test_nesting (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    s_assert_json (env, "{\"a\":{\"b\":{\"c\":[[[{\"d\":[1,{\"e\":null}]}]]]}},\"f\":2}",
                   "{\"a\":{\"b\":{\"c\":[[[{\"d\":[1,{\"e\":null}]}]]]}},\"f\":2}");
    //  Up to ZETL_JSONL_MAX_DEPTH levels (what msgpack-c can unpack), no deeper
    char line[256];
    for (int depth = ZETL_JSONL_MAX_DEPTH; depth <= ZETL_JSONL_MAX_DEPTH + 1; depth++) {
        size_t len = 0;
        memcpy (line, "{\"k\":", 5);
        len = 5;
        for (int i = 1; i < depth; i++)
            line[len++] = '[';
        line[len++] = '0';
        for (int i = 1; i < depth; i++)
            line[len++] = ']';
        line[len++] = '}';
        line[len] = '\0';
        if (depth == ZETL_JSONL_MAX_DEPTH)
            s_convert (env, line);
        else
            s_assert_refused (env, line, "nested deeper");
    }
}

static void
s_assert_string (s_env_t *env, const char *line, const char *expected, size_t expected_len)
{
    const msgpack_object *obj = s_convert (env, line);
    const msgpack_object *value = zetl_record_get (obj, "k");
    assert_non_null (value);
    assert_int_equal (value->type, MSGPACK_OBJECT_STR);
    if (value->via.str.size != expected_len ||
        memcmp (value->via.str.ptr, expected, expected_len) != 0)
        fail_msg ("%s gives \"%.*s\"", line, (int) value->via.str.size, value->via.str.ptr);
}

static void
test_escapes (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    const struct {
        const char *line;
        const char *expected;  //  the string at "k", unescaped
        size_t len;            //  bytes in expected; 0: strlen (expected)
    } cases[] = {
        {"{\"k\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}", "a\"b\\c/d\b\f\n\r\t", 0},
        {"{\"k\":\"\\u0041\\u00e9\\u20AC\"}", "Aé€", 0},
        //  Surrogate pairs to one 4-byte UTF-8 sequence
        {"{\"k\":\"\\ud83d\\ude00!\"}", "😀!", 0},
        {"{\"k\":\"\\uD834\\uDD1E\"}", "𝄞", 0},
        //  \u0000 is a NUL byte inside the string
        {"{\"k\":\"a\\u0000b\"}", "a\0b", 3},
        //  UTF-8 passes through as it is, escapes or not around it
        {"{\"k\":\"Ana García \\\"AG\\\" 日本\"}", "Ana García \"AG\" 日本", 0},
        {"{\"k\":\"\"}", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *expected = cases[i].expected;
        s_assert_string (env, cases[i].line, expected,
                         cases[i].len ? cases[i].len : strlen (expected));
    }
    //  Escaped keys are unescaped too
    const msgpack_object *obj = s_convert (env, "{\"k\\u0065y\":1}");
    assert_non_null (zetl_record_get (obj, "key"));
    //  Long strings (the eight-bytes-at-a-time path), escapes at every position
    char line[128], want[64];
    for (int at = 0; at < 40; at++) {
        memset (want, 'x', 40);
        want[at] = '\n';
        int n = snprintf (line, sizeof line, "{\"k\":\"%.*s\\n%.*s\"}", at, want, 39 - at,
                          want + at + 1);
        assert_true (n > 0);
        s_assert_string (env, line, want, 40);
    }
}

static void
s_assert_number (s_env_t *env, const char *literal, bool is_int, int64_t value)
{
    char line[128];
    snprintf (line, sizeof line, "{\"k\":%s}", literal);
    const msgpack_object *obj = s_convert (env, line);
    const msgpack_object *k = zetl_record_get (obj, "k");
    if (is_int) {
        if (k->type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
            k->type != MSGPACK_OBJECT_NEGATIVE_INTEGER)
            fail_msg ("%s: not an int (type %d)", literal, k->type);
        int64_t got =
            k->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t) k->via.u64 : k->via.i64;
        if (got != value)
            fail_msg ("%s: got %lld", literal, (long long) got);
    }
    else {
        if (k->type != MSGPACK_OBJECT_EXT || k->via.ext.type != ZETL_EXT_DECIMAL)
            fail_msg ("%s: not a decimal (type %d)", literal, k->type);
        assert_int_equal (k->via.ext.size, strlen (literal));
        assert_memory_equal (k->via.ext.ptr, literal, strlen (literal));
    }
}

static void
test_numbers (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    //  Integers that fit int64 are ints
    const struct {
        const char *literal;
        int64_t value;
    } ints[] = {{"0", 0},
                {"-0", 0},
                {"7", 7},
                {"-7", -7},
                {"9223372036854775807", INT64_MAX},
                {"-9223372036854775808", INT64_MIN}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        s_assert_number (env, ints[i].literal, true, ints[i].value);
    //  Every other number is a decimal holding its literal
    const char *decimals[] = {"9223372036854775808",
                              "-9223372036854775809",
                              "18446744073709551616",
                              "123456789012345678901234567890",
                              "1e3",
                              "1E+3",
                              "1e-3",
                              "-0.0",
                              "0.5",
                              "1.0",
                              "349.50",
                              "-12.5e10"};
    for (size_t i = 0; i < sizeof decimals / sizeof decimals[0]; i++)
        s_assert_number (env, decimals[i], false, 0);
    //  In arrays and at the end of objects, too
    s_assert_json (env, "{\"a\":[1,-2,3.5,4e0],\"b\":-0}", "{\"a\":[1,-2,3.5,4e0],\"b\":0}");
    const char *bad[] = {"01",    "-01", "1.", ".5",       "-",   "+1",  "1e",   "1e+", "0x10",
                         "1.5.5", "--1", "1-", "Infinity", "NaN", "-.5", "1,5e", "00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[64];
        snprintf (line, sizeof line, "{\"k\":%s}", bad[i]);
        s_assert_refused (env, line, NULL);
    }
}

static void
test_extraction (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    zetl_field_value_t *v = env->values;
    //  names: id, ts, missing, nul, n, obj, (NULL), flag
    s_convert (env, "{\"ts\":\"2024-05-04T10:15:02Z\",\"id\":\"BK\\u002d1\",\"nul\":null,"
                    "\"n\":-12.50,\"obj\":{\"id\":\"inner\",\"x\":[1, 2]},\"flag\":false,"
                    "\"other\":1}");
    assert_true (v[0].present);
    assert_true (v[0].is_string);
    assert_int_equal (v[0].len, 4);
    assert_memory_equal (v[0].ptr, "BK-1", 4);  //  Unescaped
    assert_true (v[1].present);
    assert_memory_equal (v[1].ptr, "2024-05-04T10:15:02Z", 20);
    assert_false (v[2].present);  //  Missing
    assert_null (v[2].ptr);
    assert_false (v[3].present);  //  null
    assert_true (v[4].present);
    assert_false (v[4].is_string);
    assert_int_equal (v[4].len, 6);
    assert_memory_equal (v[4].ptr, "-12.50", 6);
    assert_true (v[5].present);  //  An object: its JSON text
    assert_false (v[5].is_string);
    assert_int_equal (v[5].len, strlen ("{\"id\":\"inner\",\"x\":[1, 2]}"));
    assert_memory_equal (v[5].ptr, "{\"id\":\"inner\",\"x\":[1, 2]}", v[5].len);
    assert_false (v[6].present);  //  A NULL name
    assert_true (v[7].present);
    assert_false (v[7].is_string);
    assert_memory_equal (v[7].ptr, "false", 5);

    //  Values of the previous line are cleared; nested keys are not top-level
    s_convert (env, "{\"obj\":{\"id\":1},\"ts\":\"\"}");
    assert_false (v[0].present);
    assert_true (v[1].present);
    assert_true (v[1].is_string);
    assert_int_equal (v[1].len, 0);
    //  A repeated key: the first one wins, as for zetl_record_get
    const msgpack_object *obj = s_convert (env, "{\"id\":\"first\",\"id\":\"second\"}");
    assert_int_equal (v[0].len, 5);
    assert_memory_equal (v[0].ptr, "first", 5);
    assert_memory_equal (zetl_record_get (obj, "id")->via.str.ptr, "first", 5);
    //  Several unescaped values stay valid together
    s_convert (env, "{\"id\":\"a\\tb\",\"ts\":\"c\\nd\",\"n\":\"\\u00e9\"}");
    assert_memory_equal (v[0].ptr, "a\tb", 3);
    assert_memory_equal (v[1].ptr, "c\nd", 3);
    assert_int_equal (v[4].len, 2);
    assert_memory_equal (v[4].ptr, "é", 2);
    //  VALUES may be NULL, and a converter may extract nothing
    const char *reason;
    assert_int_equal (zetl_jsonl_convert (env->jsonl, "{\"id\":1}", 8, &env->out, NULL, &reason),
                      0);
    zetl_jsonl_t *plain = zetl_jsonl_new (NULL, 0);
    assert_int_equal (zetl_jsonl_convert (plain, "{\"id\":1}", 8, &env->out, NULL, &reason), 0);
    zetl_jsonl_destroy (&plain);
}

//  Lines refused, by what is wrong with them
static const struct {
    const char *reason;    //  part of the reason they get; NULL: any reason
    const char *lines[6];  //  up to the first NULL
} s_refused[] = {
    {"malformed", {"{\"a\":1", "{\"a\":\"xyz"}},                  //  Truncated
    {NULL, {"{\"a\":1} x", "{\"a\":1},", "{\"a\":1}}"}},          //  Trailing garbage
    {"trailing", {"{\"a\":1}{\"b\":2}", "{\"a\":1} {\"b\":2}"}},  //  Two objects
    {"not a JSON object", {"[1,2]", "[{\"a\":1}]"}},              //  An array at top level
    {"not a JSON object", {"42", "\"text\"", "null"}},            //  A bare value
    {NULL, {"{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12g4\"}"}},  //  An invalid escape
    //  A lone surrogate
    {"surrogate",
     {"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800x\"}",
      "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\ud800\\ud800\"}"}},
    //  A raw control character
    {"control character",
     {"{\"a\":\"b\tc\"}", "{\"a\":\"b\nc\"}", "{\"a\":\"0123456789\x01\"}", "{\"a\x1f\":1}"}},
    //  Not UTF-8
    {"UTF-8",
     {
         "{\"a\":\"\xff\"}",              //  Not UTF-8 at all
         "{\"a\":\"\xc0\xaf\"}",          //  Overlong
         "{\"a\":\"\xed\xa0\x80\"}",      //  Encoded surrogate
         "{\"a\":\"\xe2\x82\"}",          //  Cut short
         "{\"a\":\"\xf4\x90\x80\x80\"}",  //  Past U+10FFFF
     }},
    {"malformed", {"{\"a\":1,}", "{,\"a\":1}", "{\"a\":1,,\"b\":2}"}},  //  A stray comma
    {"malformed", {"{\"a\":[1,,2]}", "{\"a\":[1,]}", "{\"a\":[,1]}"}},  //  One in an array
    {"malformed", {"{\"a\":1 \"b\":2}", "{\"a\":[1 2]}"}},              //  A missing comma
    {"malformed", {"{\"a\" 1}", "{\"a\"::1}", "{\"a\":\"x\":1}"}},  //  A missing or doubled colon
    {NULL, {"{\"a\":1:2}", "{\"a\":[1:2]}"}},                       //  A colon out of place
    {"malformed", {"{:}", "{\"a\"}", "{\"a\":}", "{\"a\":{\"b\"}}"}},  //  A key without a value
    {"malformed", {"{\"a\":[\"x\":2]}", "{1:2}"}},  //  A key in an array, or not a string
    {"malformed", {"{\"a\":1]", "{\"a\":[1}"}},     //  Mismatched brackets
    {"literal", {"{\"a\":tru}", "{\"a\":nulll}"}},  //  A bad literal
    {NULL, {"{\"a\":TRUE}", "{\"a\":'x'}", "{'a':1}", "{a:1}"}},  //  Not JSON
    {"empty line", {"", "   \t", "\r"}},                          //  An empty line
};

static void
test_malformed (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    //  Each refused, OUT as it was
    for (size_t i = 0; i < sizeof s_refused / sizeof s_refused[0]; i++)
        for (size_t j = 0; j < 6 && s_refused[i].lines[j]; j++)
            s_assert_refused (env, s_refused[i].lines[j], s_refused[i].reason);
    //  A NUL byte
    s_assert_refused_len (env, "{\"a\":\"x\0y\"}", 11, NULL);
    s_assert_refused_len (env, "{\"a\":1}\0", 8, NULL);
    //  A good line after all that still converts
    s_assert_json (env, "{\"a\":1}", "{\"a\":1}");
}

static void
test_long_lines (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    //  Many more tokens than the initial array: it grows and is reused
    size_t keys = 50000;
    char *line = (char *) malloc (keys * 24 + 16);
    size_t len = 0;
    line[len++] = '{';
    for (size_t i = 0; i < keys; i++)
        len += (size_t) sprintf (line + len, "%s\"k%zu\":[%zu,\"v\"]", i ? "," : "", i, i);
    line[len++] = '}';
    const msgpack_object *obj = s_convert_len (env, line, len);
    assert_int_equal (obj->via.map.size, keys);
    const msgpack_object *last = zetl_record_get (obj, "k49999");
    assert_non_null (last);
    assert_int_equal (last->via.array.ptr[0].via.u64, 49999);
    //  And a short line after it
    s_assert_json (env, "{\"a\":1}", "{\"a\":1}");
    //  Truncated long line: refused, nothing appended
    s_assert_refused_len (env, line, len - 1, "malformed");
    free (line);
    //  Too long
    const char *reason;
    msgpack_sbuffer_clear (&env->out);
    assert_int_equal (zetl_jsonl_convert (env->jsonl, "{}", ZETL_JSONL_MAX_LINE + 1, &env->out,
                                          env->values, &reason),
                      -2);
    assert_string_equal (reason, "line longer than 16 MiB");
    assert_int_equal (env->out.size, 0);
}

//  limits: a record larger than max_record, with more top-level fields than
//  max_fields or a string value longer than max_string is refused as beyond
//  a limit (-2); at the limits it converts; nested fields and keys do not count
static void
test_limits (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    zetl_jsonl_set_limits (env->jsonl, 40, 3, 5);
    const char *at = "{\"a\":\"12345\",\"b\":{\"c\":1,\"d\":2},\"e\":3}";
    assert_int_equal (strlen (at), 37);
    s_convert (env, at);
    s_assert_refused_rc (env, "{\"a\":\"123456\"}", 14, "limits.max_string", -2);
    s_assert_refused_rc (env, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}", 25, "limits.max_fields", -2);
    s_assert_refused_rc (env, "{\"a\":1,\"b\":2,\"c\":3456789012345678901234}", 41, "limits.max_record", -2);
    //  Malformed stays malformed, whatever the limits
    s_assert_refused_rc (env, "{\"a\":1", 6, "malformed", -1);
    //  And a good line after them
    s_assert_json (env, "{\"a\":1}", "{\"a\":1}");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_every_type, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_whitespace, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_nesting, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_escapes, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_numbers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_extraction, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_malformed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_long_lines, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_limits, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
