/*  transform_test - each transform step on good and bad values (worker/zetl_transform)  */
#include "zetl_transform.h"

#include <czmq.h>

#include "zetl_config.h"
#include "zetl_jsonl.h"
#include "zetl_record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

//  A pipeline whose transform is STEPS (YAML list items, each "      - …\n")
static zetl_config_t *
s_config (const char *steps)
{
    char *yaml = zsys_sprintf ("pipelines:\n"
                               "  - id: p\n"
                               "    source: { type: file, path: x.jsonl }\n"
                               "    partition_key: k\n"
                               "    event_time: { field: t }\n"
                               "    transform:\n%s"
                               "    schema:\n"
                               "      k: { type: string }\n"
                               "      t: { type: timestamp }\n"
                               "      total: { type: number }\n"
                               "      label: { type: string }\n"
                               "    sinks:\n"
                               "      - { type: postgres, table: t1, primary_key: [k] }\n",
                               steps);
    char *error = NULL;
    zetl_config_t *config = zetl_config_parse (yaml, strlen (yaml), "transform.yaml", &error);
    if (!config)
        fail_msg ("%s\n%s", error, yaml);
    free (yaml);
    return config;
}

//  Apply STEPS to the JSON object LINE: the record as JSON, or "reject:<reason>:<field>"
static char *
s_apply (const char *steps, const char *line)
{
    zetl_config_t *config = s_config (steps);
    char *error = NULL;
    zetl_transform_t *transform = zetl_transform_new (&config->pipelines[0], &error);
    assert_non_null (transform);
    zetl_jsonl_t *jsonl = zetl_jsonl_new (NULL, 0);
    msgpack_sbuffer packed, json;
    msgpack_sbuffer_init (&packed);
    msgpack_sbuffer_init (&json);
    const char *reason = NULL;
    assert_int_equal (zetl_jsonl_convert (jsonl, line, strlen (line), &packed, NULL, &reason), 0);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 4096);
    zetl_fields_t fields;
    assert_int_equal (zetl_fields_read (&fields, &zone, packed.data, packed.size), 0);
    zetl_reject_t reject;
    char *result;
    if (zetl_transform_apply (transform, &fields, &reject) == ZETL_OK) {
        msgpack_object map = zetl_fields_map (&fields);
        zetl_record_to_json (&map, &json);
        msgpack_sbuffer_write (&json, "", 1);
        result = strdup (json.data);
    }
    else {
        assert_non_null (strstr (reject.error, reject.field ? reject.field : ""));
        result = zsys_sprintf ("reject:%s:%s", reject.reason, reject.field ? reject.field : "");
    }
    msgpack_zone_destroy (&zone);
    msgpack_sbuffer_destroy (&packed);
    msgpack_sbuffer_destroy (&json);
    zetl_jsonl_destroy (&jsonl);
    zetl_transform_destroy (&transform);
    zetl_config_destroy (&config);
    return result;
}

static void
s_expect (const char *steps, const char *line, const char *expected)
{
    char *got = s_apply (steps, line);
    if (strcmp (got, expected))
        fail_msg ("steps:\n%s\nline: %s\ngot:      %s\nexpected: %s", steps, line, got, expected);
    free (got);
}

static void
test_trim_lower_upper (void **state)
{
    (void) state;
    //  ASCII and Unicode white space (no-break space, ideographic space, BOM), inside kept
    s_expect ("      - trim: [a, b, c]\n",
              "{\"a\":\"  x y \\t\\n\",\"b\":\"\\u00a0\\u3000caf\\u00e9\\ufeff\",\"c\":\"   \"}",
              "{\"a\":\"x y\",\"b\":\"caf\xc3\xa9\",\"c\":\"\"}");
    //  Empty, missing and non-string values are left alone
    s_expect ("      - trim: [a, b, n]\n", "{\"a\":\"\",\"n\":12}", "{\"a\":\"\",\"n\":12}");
    //  Case of ASCII, accented, Greek and Cyrillic letters
    s_expect ("      - lower: [a]\n      - upper: [b]\n",
              "{\"a\":\"\\u00c9COLE \\u0391\\u0392\\u0393 \\u0416 MiX\",\"b\":\"stra\\u00dfe \\u00e9t\\u00e9\"}",
              "{\"a\":\"\xc3\xa9" "cole \xce\xb1\xce\xb2\xce\xb3 \xd0\xb6 mix\","
              "\"b\":\"STRA\xc3\x9f" "E \xc3\x89T\xc3\x89\"}");
}

static void
test_default_rename_drop (void **state)
{
    (void) state;
    //  default: missing, null and "" get it; a value, even 0 or false, stays
    s_expect ("      - default: { a: EUR, b: EUR, c: EUR, d: EUR, e: EUR }\n",
              "{\"b\":null,\"c\":\"\",\"d\":0,\"e\":false}",
              "{\"b\":\"EUR\",\"c\":\"EUR\",\"d\":0,\"e\":false,\"a\":\"EUR\"}");
    //  rename replaces a field already called so; a missing source changes nothing
    s_expect ("      - rename: { amt: amount, nope: other }\n", "{\"amount\":1,\"amt\":2,\"x\":3}",
              "{\"amount\":2,\"x\":3}");
    s_expect ("      - drop: [x, missing]\n", "{\"x\":1,\"y\":2,\"x\":3}", "{\"y\":2}");
}

static void
test_cast_values (void **state)
{
    (void) state;
    const char *steps = "      - cast: { i: int, n: number, b: bool, s: string, ts: timestamp, d: date }\n";
    s_expect (steps,
              "{\"i\":\"-7\",\"n\":\"12.50\",\"b\":\"T\",\"s\":12.5,"
              "\"ts\":\"2024-02-29T23:30:00-01:00\",\"d\":\"2024-02-29T23:30:00-01:00\"}",
              "{\"i\":-7,\"n\":12.50,\"b\":true,\"s\":\"12.5\","
              "\"ts\":\"2024-03-01T00:30:00.000000Z\",\"d\":\"2024-03-01\"}");
    //  Null and missing values stay as they are
    s_expect (steps, "{\"i\":null}", "{\"i\":null}");
    //  Each type's refusals name the field
    s_expect (steps, "{\"i\":\" 7\"}", "reject:cast:i");
    s_expect (steps, "{\"i\":\"9223372036854775808\"}", "reject:cast:i");
    s_expect (steps, "{\"n\":\"12,5\"}", "reject:cast:n");
    s_expect (steps, "{\"b\":\"yes\"}", "reject:cast:b");
    s_expect (steps, "{\"ts\":\"2023-02-29T00:00:00Z\"}", "reject:cast:ts");
    s_expect (steps, "{\"d\":\"2023-02-29\"}", "reject:cast:d");
    s_expect (steps, "{\"s\":{\"x\":1}}", "reject:cast:s");
}

static void
test_utc (void **state)
{
    (void) state;
    s_expect ("      - utc: [a, b, c]\n",
              "{\"a\":\"2026-03-29T02:30:00+05:45\",\"b\":\"2024-12-31T23:59:59.5-00:30\",\"c\":null}",
              "{\"a\":\"2026-03-28T20:45:00.000000Z\",\"b\":\"2025-01-01T00:29:59.500000Z\","
              "\"c\":null}");
    s_expect ("      - utc: [a]\n", "{\"a\":\"yesterday\"}", "reject:utc:a");
    s_expect ("      - utc: [a]\n", "{\"a\":1700000000}", "reject:utc:a");
}

static void
test_compute (void **state)
{
    (void) state;
    const char *steps = "      - compute: { total: \"amount * nights\", "
                        "label: \"concat(city, ' / ', coalesce(region, 'unknown'))\" }\n";
    s_expect (steps, "{\"amount\":\"12.50\",\"nights\":3,\"city\":\"Rome\"}",
              "{\"amount\":\"12.50\",\"nights\":3,\"city\":\"Rome\",\"total\":37.50,"
              "\"label\":\"Rome / unknown\"}");
    //  Later steps see what earlier ones computed
    s_expect ("      - compute: { total: \"1 + 2\" }\n      - compute: { label: \"total * 2\" }\n",
              "{}", "{\"total\":3,\"label\":6}");
    s_expect (steps, "{\"amount\":\"abc\",\"nights\":3}", "reject:compute:total");
    s_expect ("      - compute: { total: \"1 / n\" }\n", "{\"n\":0}", "reject:compute:total");
}

static void
test_utm (void **state)
{
    (void) state;
    const char *steps =
        "      - utm: { campaign: utm_campaign, source: utm_source, medium: utm_medium }\n";
    s_expect (steps, "{\"utm_campaign\":\"  Summer_SALE \",\"utm_source\":\"\",\"utm_medium\":null}",
              "{\"utm_campaign\":\"summer_sale\",\"utm_source\":\"unknown_source\","
              "\"utm_medium\":\"unknown_medium\"}");
    s_expect (steps, "{\"utm_campaign\":\"   \",\"utm_source\":7}",
              "{\"utm_campaign\":\"unknown_campaign\",\"utm_source\":\"7\","
              "\"utm_medium\":\"unknown_medium\"}");
}

//  Steps run in the order given: trim then default differs from default then trim
static void
test_order (void **state)
{
    (void) state;
    s_expect ("      - trim: [a]\n      - default: { a: x }\n", "{\"a\":\"  \"}", "{\"a\":\"x\"}");
    s_expect ("      - default: { a: x }\n      - trim: [a]\n", "{\"a\":\"  \"}", "{\"a\":\"\"}");
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_trim_lower_upper), cmocka_unit_test (test_default_rename_drop),
        cmocka_unit_test (test_cast_values),      cmocka_unit_test (test_utc),
        cmocka_unit_test (test_compute),          cmocka_unit_test (test_utm),
        cmocka_unit_test (test_order),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
