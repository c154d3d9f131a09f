/*  cast_test - records to output rows (worker/zetl_cast)  */
#include "zetl_cast.h"

#include <czmq.h>

#include "zetl_config.h"
#include "zetl_jsonl.h"
#include "zetl_record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static const char *s_yaml =
    "pipelines:\n"
    "  - id: p\n"
    "    source: { type: file, path: x.jsonl }\n"
    "    partition_key: k\n"
    "    event_time: { field: t }\n"
    "    schema:\n"
    "      k: { type: string }\n"
    "      n: { type: int }\n"
    "      a: { type: number }\n"
    "      b: { type: bool }\n"
    "      d: { type: date }\n"
    "      t: { type: timestamp }\n"
    "      r: { type: string, required: true }\n"
    "    sinks:\n"
    "      - { type: postgres, table: t1, primary_key: [k] }\n";

//  The schema with rules, for test_rules
static const char *s_rules_yaml =
    "pipelines:\n"
    "  - id: p\n"
    "    source: { type: file, path: x.jsonl }\n"
    "    partition_key: k\n"
    "    event_time: { field: t }\n"
    "    schema:\n"
    "      k: { type: string, max_len: 3 }\n"
    "      n: { type: int, min: -2, max: 10 }\n"
    "      a: { type: number, min: 0.1, max: 99.99 }\n"
    "      s: { type: string, enum: [new, confirmed, cancelled] }\n"
    "      e: { type: string, regex: \"^[a-z]+@[a-z]+\\\\.[a-z]{2,}$\" }\n"
    "      t: { type: timestamp }\n"
    "    sinks:\n"
    "      - { type: postgres, table: t1, primary_key: [k] }\n";

//  The configuration s_cast uses
static const char *s_current;

//  Cast the JSON object LINE; returns the row as JSON text, or "reject:<reason>:<field>"
static char *
s_cast (const char *line)
{
    char *error = NULL;
    const char *yaml = s_current ? s_current : s_yaml;
    zetl_config_t *config = zetl_config_parse (yaml, strlen (yaml), "cast.yaml", &error);
    if (!config)
        fail_msg ("%s", error);
    zetl_cast_t *cast = zetl_cast_new (&config->pipelines[0]);
    zetl_jsonl_t *jsonl = zetl_jsonl_new (NULL, 0);
    msgpack_sbuffer record, row, json;
    msgpack_sbuffer_init (&record);
    msgpack_sbuffer_init (&row);
    msgpack_sbuffer_init (&json);
    const char *reason = NULL;
    assert_int_equal (zetl_jsonl_convert (jsonl, line, strlen (line), &record, NULL, &reason), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    msgpack_unpack_next (&unpacked, record.data, record.size, NULL);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &row, msgpack_sbuffer_write);
    zetl_reject_t failure;
    char *result;
    zetl_status_t status = zetl_cast_record (cast, &unpacked.data, &packer, &failure);
    //  The same record, read in place from its packed bytes, casts the same,
    //  twice (the second time with the key positions it remembered)
    for (int again = 0; again < 2; again++) {
        msgpack_sbuffer packed_row;
        msgpack_sbuffer_init (&packed_row);
        msgpack_packer packed_packer;
        msgpack_packer_init (&packed_packer, &packed_row, msgpack_sbuffer_write);
        zetl_reject_t packed_failure;
        assert_int_equal (zetl_cast_packed (cast, (const uint8_t *) record.data, record.size,
                                            &packed_packer, &packed_failure),
                          status);
        if (status == ZETL_OK) {
            assert_int_equal (packed_row.size, row.size);
            assert_memory_equal (packed_row.data, row.data, row.size);
        }
        else {
            assert_string_equal (packed_failure.reason, failure.reason);
            assert_true ((packed_failure.field == NULL) == (failure.field == NULL));
            if (failure.field)
                assert_string_equal (packed_failure.field, failure.field);
            assert_string_equal (packed_failure.error, failure.error);
        }
        msgpack_sbuffer_destroy (&packed_row);
    }
    if (status == ZETL_OK) {
        msgpack_unpacked out;
        msgpack_unpacked_init (&out);
        msgpack_unpack_next (&out, row.data, row.size, NULL);
        zetl_record_to_json (&out.data, &json);
        msgpack_sbuffer_write (&json, "", 1);
        result = strdup (json.data);
        msgpack_unpacked_destroy (&out);
    }
    else {
        assert_non_null (strstr (failure.error, failure.field ? failure.field : ""));
        result = zsys_sprintf ("reject:%s:%s", failure.reason, failure.field ? failure.field : "");
    }
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&record);
    msgpack_sbuffer_destroy (&row);
    msgpack_sbuffer_destroy (&json);
    zetl_jsonl_destroy (&jsonl);
    zetl_cast_destroy (&cast);
    zetl_config_destroy (&config);
    return result;
}

static void
s_expect (const char *line, const char *expected)
{
    char *got = s_cast (line);
    assert_string_equal (got, expected);
    free (got);
}

static void
test_types (void **state)
{
    (void) state;
    //  Timestamps become microseconds, dates days, numbers keep their exact text
    s_expect ("{\"r\":\"x\",\"k\":\"K\",\"n\":\"-12\",\"a\":349.50,\"b\":\"true\","
              "\"d\":\"2024-02-29\",\"t\":\"2026-01-01T01:00:00+01:00\"}",
              "[\"K\",-12,349.50,true,19782,1767225600000000,\"x\"]");
    s_expect ("{\"r\":\"x\",\"k\":7,\"n\":7,\"a\":\"1e3\",\"b\":0,\"t\":\"2026-01-01\"}",
              "[\"7\",7,1e3,false,null,1767225600000000,\"x\"]");
}

static void
test_rejections (void **state)
{
    (void) state;
    const char *base = "\"r\":\"x\",\"k\":\"K\",\"t\":\"2026-01-01T00:00:00Z\"";
    struct {
        const char *extra, *expected;
    } cases[] = {
        {",\"n\":\"12.5\"", "reject:cast:n"},   {",\"n\":\"\"", "reject:cast:n"},
        {",\"a\":\"12,5\"", "reject:cast:a"},   {",\"a\":true", "reject:cast:a"},
        {",\"b\":\"maybe\"", "reject:cast:b"},  {",\"d\":\"2023-02-29\"", "reject:cast:d"},
        {",\"d\":5", "reject:cast:d"},           {",\"n\":{\"x\":1}", "reject:cast:n"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char *line = zsys_sprintf ("{%s%s}", base, cases[index].extra);
        s_expect (line, cases[index].expected);
        free (line);
    }
    //  Required: by the schema, as primary key, as event time
    s_expect ("{\"k\":\"K\",\"t\":\"2026-01-01\"}", "reject:required:r");
    s_expect ("{\"r\":\"x\",\"t\":\"2026-01-01\"}", "reject:required:k");
    s_expect ("{\"r\":\"x\",\"k\":\"K\",\"t\":null}", "reject:required:t");
    s_expect ("{\"r\":\"x\",\"k\":\"K\",\"t\":\"yesterday\"}", "reject:cast:t");
}

//  Each rule of the schema on good and bad values, at its edges
static void
test_rules (void **state)
{
    (void) state;
    s_current = s_rules_yaml;
    struct {
        const char *fields, *expected;
    } cases[] = {
        //  max_len counts characters, not bytes: three 2-byte letters pass
        {"\"k\":\"\u00e9\u00e9\u00e9\"", NULL},
        {"\"k\":\"abcd\"", "reject:max_len:k"},
        {"\"k\":\"\"", NULL},
        //  min and max exactly pass; one past fails
        {"\"k\":\"K\",\"n\":-2", NULL},
        {"\"k\":\"K\",\"n\":10", NULL},
        {"\"k\":\"K\",\"n\":\"11\"", "reject:max:n"},
        {"\"k\":\"K\",\"n\":-3", "reject:min:n"},
        {"\"k\":\"K\",\"a\":0.1", NULL},
        {"\"k\":\"K\",\"a\":\"99.99\"", NULL},
        {"\"k\":\"K\",\"a\":\"99.990000001\"", "reject:max:a"},
        {"\"k\":\"K\",\"a\":0.09999", "reject:min:a"},
        {"\"k\":\"K\",\"a\":\"0\"", "reject:min:a"},
        //  enum: exact bytes; an empty string is not a missing value
        {"\"k\":\"K\",\"s\":\"new\"", NULL},
        {"\"k\":\"K\",\"s\":\"\"", "reject:enum:s"},
        {"\"k\":\"K\",\"s\":\"New\"", "reject:enum:s"},
        {"\"k\":\"K\",\"s\":\"new \"", "reject:enum:s"},
        //  regex (PCRE2)
        {"\"k\":\"K\",\"e\":\"ana@example.com\"", NULL},
        {"\"k\":\"K\",\"e\":\"ana@example\"", "reject:regex:e"},
        {"\"k\":\"K\",\"e\":\"\"", "reject:regex:e"},
        //  A rule is not checked on a missing value, and a cast comes first
        {"\"k\":\"K\",\"n\":null", NULL},
        {"\"k\":\"K\",\"n\":\"ten\"", "reject:cast:n"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char *line = zsys_sprintf ("{%s,\"t\":\"2024-02-29T23:30:00-01:00\"}", cases[index].fields);
        char *got = s_cast (line);
        if (cases[index].expected)
            assert_string_equal (got, cases[index].expected);
        else if (strncmp (got, "reject:", 7) == 0)
            fail_msg ("%s: %s", line, got);
        free (got);
        free (line);
    }
    //  A timestamp with an offset on a leap day is the next day in UTC
    char *got = s_cast ("{\"k\":\"K\",\"t\":\"2024-02-29T23:30:00-01:00\"}");
    assert_non_null (strstr (got, "1709253000000000"));
    free (got);
    s_current = NULL;
}

//  A pattern that does not compile is refused when the file is read, with its line
static void
test_bad_regex (void **state)
{
    (void) state;
    const char *yaml = "pipelines:\n"
                       "  - id: p\n"
                       "    source: { type: file, path: x.jsonl }\n"
                       "    partition_key: k\n"
                       "    event_time: { field: t }\n"
                       "    schema:\n"
                       "      k: { type: string, regex: \"a(b\" }\n"
                       "      t: { type: timestamp }\n"
                       "    sinks:\n"
                       "      - { type: postgres, table: t1, primary_key: [k] }\n";
    char *error = NULL;
    zetl_config_t *config = zetl_config_parse (yaml, strlen (yaml), "bad.yaml", &error);
    assert_null (config);
    assert_non_null (strstr (error, "bad.yaml:7:"));
    assert_non_null (strstr (error, "regex"));
    assert_non_null (strstr (error, "PCRE2"));
    free (error);
}

static void
test_integers_and_keys (void **state)
{
    (void) state;
    const char *base = "\"r\":\"x\",\"k\":\"K\",\"t\":\"2026-01-01T00:00:00Z\"";
    struct {
        const char *extra, *n;  //  N's value in the row, or NULL when it is rejected
    } cases[] = {
        {",\"n\":\"9223372036854775807\"", "9223372036854775807"},
        {",\"n\":\"-9223372036854775808\"", "-9223372036854775808"},
        {",\"n\":\"9223372036854775808\"", NULL},
        {",\"n\":\"-9223372036854775809\"", NULL},
        {",\"n\":\"+5\"", "5"},
        {",\"n\":\"-0\"", "0"},
        {",\"n\":\"007\"", "7"},
        {",\"n\":\"-\"", NULL},
        {",\"n\":\" 5\"", NULL},
        {",\"n\":\"5 \"", NULL},
        {",\"n\":\"00000000000000000000000000000001\"", NULL},  //  32 characters
        {",\"n\":-42", "-42"},
        {",\"n\":9223372036854775807", "9223372036854775807"},
        {",\"n\":18446744073709551615", NULL},
        {",\"n\":1.5", NULL},
        {",\"n\":true", NULL},
        {",\"n\":[1]", NULL},
        {",\"n\":1,\"n\":2", "1"},  //  The first of repeated keys wins
        {",\"x\":{\"n\":[1,{}]},\"n\":3", "3"},
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        char *line = zsys_sprintf ("{%s%s}", base, cases[index].extra);
        char *expected =
            cases[index].n
                ? zsys_sprintf ("[\"K\",%s,null,null,null,1767225600000000,\"x\"]", cases[index].n)
                : strdup ("reject:cast:n");
        s_expect (line, expected);
        free (expected);
        free (line);
    }
    //  Keys in another order than the schema's, and another order again
    s_expect ("{\"t\":\"2026-01-01\",\"n\":1,\"k\":\"K\",\"r\":\"x\"}",
              "[\"K\",1,null,null,null,1767225600000000,\"x\"]");
    s_expect ("{\"r\":\"x\",\"k\":\"K\",\"n\":1,\"t\":\"2026-01-01\"}",
              "[\"K\",1,null,null,null,1767225600000000,\"x\"]");
}

//  Packed bytes that are not one well-formed map are rejected as malformed
static void
test_packed_malformed (void **state)
{
    (void) state;
    char *error = NULL;
    const char *yaml = "pipelines:\n"
                       "  - id: p\n"
                       "    source: { type: file, path: x.jsonl }\n"
                       "    partition_key: k\n"
                       "    event_time: { field: t }\n"
                       "    schema:\n"
                       "      k: { type: string }\n"
                       "      t: { type: timestamp }\n"
                       "    sinks:\n"
                       "      - { type: postgres, table: t1, primary_key: [k] }\n";
    zetl_config_t *config = zetl_config_parse (yaml, strlen (yaml), "cast.yaml", &error);
    if (!config)
        fail_msg ("%s", error);
    zetl_cast_t *cast = zetl_cast_new (&config->pipelines[0]);
    msgpack_sbuffer row;
    msgpack_sbuffer_init (&row);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &row, msgpack_sbuffer_write);
    // clang-format off
    const struct {
        const char *data;
        size_t size;
    } cases[] = {
        {"", 0},                              //  Nothing
        {"\xc1", 1},                          //  Never used
        {"\x92\xa1k\xa1K", 5},                //  An array, not a map
        {"\x82\xa1k\xa1K", 5},                //  A pair missing
        {"\x81\xa1k\xa5K", 5},                //  A string cut short
        {"\x81\xa1k\xa1K\xc0", 6},            //  A byte after the map
        {"\x81\xa1x\xdd\xff\xff\xff\xff", 8},  //  A value claiming 4 billion elements
    };
    // clang-format on
    for (size_t index = 0; index < sizeof cases / sizeof cases[0]; index++) {
        zetl_reject_t failure;
        row.size = 0;
        assert_int_equal (zetl_cast_packed (cast, (const uint8_t *) cases[index].data,
                                            cases[index].size, &packer, &failure),
                          ZETL_REJECT);
        assert_string_equal (failure.reason, "malformed");
        assert_null (failure.field);
    }
    msgpack_sbuffer_destroy (&row);
    zetl_cast_destroy (&cast);
    zetl_config_destroy (&config);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_types),
        cmocka_unit_test (test_rejections),
        cmocka_unit_test (test_integers_and_keys),
        cmocka_unit_test (test_rules),
        cmocka_unit_test (test_bad_regex),
        cmocka_unit_test (test_packed_malformed),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
