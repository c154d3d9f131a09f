/*  copy_test - COPY text of result rows (sink/zetl_copy)  */
#include "zetl_config.h"
#include "zetl_copy.h"
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
    "    sinks:\n"
    "      - { type: postgres, table: t1, primary_key: [k] }\n";

typedef struct {
    zetl_config_t *config;
    msgpack_sbuffer row;
    msgpack_packer packer;
    msgpack_sbuffer out;
} s_fixture_t;

static int
s_setup (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) calloc (1, sizeof (s_fixture_t));
    char *error = NULL;
    fixture->config = zetl_config_parse (s_yaml, strlen (s_yaml), "copy.yaml", &error);
    assert_non_null (fixture->config);
    msgpack_sbuffer_init (&fixture->row);
    msgpack_packer_init (&fixture->packer, &fixture->row, msgpack_sbuffer_write);
    msgpack_sbuffer_init (&fixture->out);
    *state = fixture;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    zetl_config_destroy (&fixture->config);
    msgpack_sbuffer_destroy (&fixture->row);
    msgpack_sbuffer_destroy (&fixture->out);
    free (fixture);
    return 0;
}

//  Format the packed row in fixture->row; returns the COPY line or NULL
static const char *
s_copy (s_fixture_t *fixture, bool with_hash)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, fixture->row.data, fixture->row.size, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    zetl_entry_t entry;
    memset (&entry, 0, sizeof entry);
    entry.has_hash = with_hash;
    for (int byte = 0; byte < 16; byte++)
        entry.hash[byte] = (uint8_t) (byte * 17);
    entry.payload = unpacked.data;
    fixture->out.size = 0;
    const char *reason = NULL;
    int rc = zetl_copy_row (&fixture->config->pipelines[0], &entry, &fixture->out, &reason);
    msgpack_unpacked_destroy (&unpacked);
    if (rc != 0) {
        assert_non_null (reason);
        assert_int_equal (fixture->out.size, 0);  //  Nothing half written
        return NULL;
    }
    msgpack_sbuffer_write (&fixture->out, "", 1);
    return fixture->out.data;
}

static void
s_pack_row (s_fixture_t *fixture, const char *key, int64_t n, const char *decimal, int b,
            int32_t days, int64_t us)
{
    fixture->row.size = 0;
    msgpack_packer *packer = &fixture->packer;
    msgpack_pack_array (packer, 6);
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_int64 (packer, n);
    if (decimal)
        msgpack_pack_ext_with_body (packer, decimal, strlen (decimal), ZETL_EXT_DECIMAL);
    else
        msgpack_pack_nil (packer);
    if (b < 0)
        msgpack_pack_nil (packer);
    else if (b)
        msgpack_pack_true (packer);
    else
        msgpack_pack_false (packer);
    msgpack_pack_int32 (packer, days);
    msgpack_pack_int64 (packer, us);
}

static void
test_every_type (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    s_pack_row (fixture, "BK-1", -42, "349.50", 1, 20454, 1767225600123456);
    assert_string_equal (s_copy (fixture, true),
                         "BK-1\t-42\t349.50\tt\t2026-01-01\t2026-01-01 00:00:00.123456+00\t0\t"
                         "\\\\x00112233445566778899aabbccddeeff\n");
}

static void
test_escapes_and_nulls (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    s_pack_row (fixture, "a\\b\tc\nd\re", INT64_MIN, NULL, -1, -1, -1);
    assert_string_equal (s_copy (fixture, true),
                         "a\\\\b\\tc\\nd\\re\t-9223372036854775808\t\\N\t\\N\t1969-12-31\t"
                         "1969-12-31 23:59:59.999999+00\t0\t\\\\x00112233445566778899aabbccddeeff\n");
}

static void
test_int_edges (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    int64_t values[] = {0, 9, 10, -1, INT64_MAX};
    const char *texts[] = {"\t0\t", "\t9\t", "\t10\t", "\t-1\t", "\t9223372036854775807\t"};
    for (size_t index = 0; index < 5; index++) {
        s_pack_row (fixture, "k", values[index], "1", 0, 0, 0);
        assert_non_null (strstr (s_copy (fixture, true), texts[index]));
    }
}

static void
test_refused_rows (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    //  No hash
    s_pack_row (fixture, "k", 1, "1", 0, 0, 0);
    assert_null (s_copy (fixture, false));
    //  Too few columns
    fixture->row.size = 0;
    msgpack_pack_array (&fixture->packer, 2);
    msgpack_pack_str_with_body (&fixture->packer, "k", 1);
    msgpack_pack_int64 (&fixture->packer, 1);
    assert_null (s_copy (fixture, true));
    //  A string where the int column is
    fixture->row.size = 0;
    msgpack_pack_array (&fixture->packer, 6);
    for (int column = 0; column < 6; column++)
        msgpack_pack_str_with_body (&fixture->packer, "x", 1);
    assert_null (s_copy (fixture, true));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_every_type, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_escapes_and_nulls, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_int_edges, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refused_rows, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
