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
    uint32_t flags;    //  the entry's flags (ZETL_ENTRY_DELETED)
    uint64_t lut_gen;  //  its batch's lookup-table generation
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

//  Format the packed row in fixture->row both ways, from the unpacked object
//  (zetl_copy_row) and in place from the packed bytes (zetl_copy_row_packed):
//  they must give the same bytes, or fail alike with the same reason, with
//  nothing half written. Returns the COPY line or NULL
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
    entry.flags = fixture->flags;
    for (int byte = 0; byte < 16; byte++)
        entry.hash[byte] = (uint8_t) (byte * 17);
    entry.payload = unpacked.data;
    const zetl_pipeline_t *pipeline = &fixture->config->pipelines[0];

    //  Each after a line already there, into a buffer grown from nothing
    msgpack_sbuffer packed_out;
    msgpack_sbuffer_init (&packed_out);
    msgpack_sbuffer_write (&packed_out, "x\n", 2);
    fixture->out.size = 0;
    msgpack_sbuffer_write (&fixture->out, "x\n", 2);
    const char *reason = NULL;
    int rc = zetl_copy_row (pipeline, &entry, fixture->lut_gen, &fixture->out, &reason);
    msgpack_unpacked_destroy (&unpacked);

    zetl_entry_t packed = entry;
    packed.payload.type = MSGPACK_OBJECT_NIL;  //  Not read
    packed.packed = (const uint8_t *) fixture->row.data;
    packed.packed_size = fixture->row.size;
    const char *packed_reason = NULL;
    int packed_rc =
        zetl_copy_row_packed (pipeline, &packed, fixture->lut_gen, &packed_out, &packed_reason);
    assert_int_equal (packed_rc, rc);
    assert_int_equal (packed_out.size, fixture->out.size);
    assert_memory_equal (packed_out.data, fixture->out.data, fixture->out.size);
    msgpack_sbuffer_destroy (&packed_out);
    if (rc != 0) {
        assert_non_null (reason);
        assert_string_equal (packed_reason, reason);
        assert_int_equal (fixture->out.size, 2);  //  Nothing half written
        return NULL;
    }
    msgpack_sbuffer_write (&fixture->out, "", 1);
    return fixture->out.data + 2;
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
                         "\\\\x00112233445566778899aabbccddeeff\tf\n");
    //  A delete marker of a batch that used lookup-table version 1795420000123
    fixture->flags = ZETL_ENTRY_DELETED;
    fixture->lut_gen = UINT64_C (1795420000123);
    assert_string_equal (s_copy (fixture, true),
                         "BK-1\t-42\t349.50\tt\t2026-01-01\t2026-01-01 00:00:00.123456+00\t"
                         "1795420000123\t\\\\x00112233445566778899aabbccddeeff\tt\n");
    fixture->flags = 0;
    fixture->lut_gen = 0;
}

static void
test_escapes_and_nulls (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    s_pack_row (fixture, "a\\b\tc\nd\re", INT64_MIN, NULL, -1, -1, -1);
    assert_string_equal (s_copy (fixture, true),
                         "a\\\\b\\tc\\nd\\re\t-9223372036854775808\t\\N\t\\N\t1969-12-31\t"
                         "1969-12-31 23:59:59.999999+00\t0\t\\\\x00112233445566778899aabbccddeeff\tf\n");
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

//  Escapes wherever they fall against the eight-byte steps of the scan, and
//  every byte value, against a plain byte-by-byte escape
static void
test_escape_positions (void **state)
{
    (void) state;
    const char specials[] = {'\\', '\t', '\n', '\r', 0x0b, 0x0e, 0x5b, 0x5d, (char) 0xdc, 0};
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    char text[80], expected[160];
    for (size_t len = 0; len <= 40; len++)
        for (size_t at = 0; at <= len; at++)
            for (size_t special = 0; special < sizeof specials; special++) {
                for (size_t i = 0; i < len; i++)
                    text[i] = (char) ('a' + i % 26);
                if (at < len)
                    text[at] = specials[special];
                if (len > 2 && at + 1 < len && special % 2)
                    text[len - 1] = '\\';  //  And one in the tail
                size_t size = 0;
                for (size_t i = 0; i < len; i++) {
                    const char *escape = text[i] == '\\'   ? "\\\\"
                                         : text[i] == '\t' ? "\\t"
                                         : text[i] == '\n' ? "\\n"
                                         : text[i] == '\r' ? "\\r"
                                                           : NULL;
                    if (escape) {
                        memcpy (expected + size, escape, 2);
                        size += 2;
                    }
                    else
                        expected[size++] = text[i];
                }
                out.size = 0;
                zetl_copy_escape (&out, text, len);
                assert_int_equal (out.size, size);
                assert_memory_equal (out.data, expected, size);
            }
    msgpack_sbuffer_destroy (&out);
}

static uint32_t
s_random (uint32_t *seed)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    return *seed;
}

//  Random rows, right and wrong, in every encoding msgpack has for them:
//  the packed path gives the object path's bytes and reasons every time
static void
test_packed_matches_object (void **state)
{
    s_fixture_t *fixture = (s_fixture_t *) *state;
    msgpack_packer *packer = &fixture->packer;
    uint32_t seed = 2463534242u;
    static const char alphabet[] = "ab\\\t\n\rz\x01\x0d\xc3\xa9 -_.@0";
    static const char *decimals[] = {"0", "349.50", "-1.5", "123456789012345678901234567890.01"};
    static const int64_t numbers[] = {0, 1, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -128,
                                      -129, -32768, -32769, INT32_MAX, INT32_MIN,
                                      (int64_t) INT32_MAX + 1, (int64_t) INT32_MIN - 1, INT64_MAX,
                                      INT64_MIN, 1767225600123456, -62135596800000000LL, 20454,
                                      -719162, 2932896};
    int lines = 0;
    for (int round = 0; round < 20000; round++) {
        fixture->row.size = 0;
        uint32_t shape = s_random (&seed) % 64;
        size_t columns = shape == 0 ? s_random (&seed) % 9 : 6;
        if (shape == 1)
            msgpack_pack_map (packer, 0);
        else if (shape == 2)
            msgpack_pack_nil (packer);
        else if (shape == 3 && columns == 6) {
            //  array 16 for a short array: still an array of 6
            msgpack_pack_array (packer, 16);
            fixture->row.data[fixture->row.size - 3] = (char) 0xdc;
            fixture->row.data[fixture->row.size - 2] = 0;
            fixture->row.data[fixture->row.size - 1] = 6;
        }
        else
            msgpack_pack_array (packer, columns);
        size_t values = shape == 1 || shape == 2 ? 0 : columns;
        for (size_t column = 0; column < values; column++) {
            //  Mostly the column's own type, sometimes anything
            uint32_t kind = s_random (&seed) % 120;
            if (kind >= 9)
                kind = column == 0 ? 0 : column == 1 ? 1 : column == 2 ? 2 : column == 3 ? 3 : 1;
            switch (kind) {
            case 0: {
                char text[300];
                size_t len = s_random (&seed) % 8 == 0 ? s_random (&seed) % 300
                                                        : s_random (&seed) % 40;
                for (size_t i = 0; i < len; i++)
                    text[i] = s_random (&seed) % 4
                                  ? (char) ('a' + s_random (&seed) % 26)
                                  : alphabet[s_random (&seed) % (sizeof alphabet - 1)];
                if (s_random (&seed) % 2)
                    msgpack_pack_str_with_body (packer, text, len);
                else {
                    //  str 8 or str 16 for what fits a fixstr
                    msgpack_pack_str (packer, 0);
                    fixture->row.size--;
                    char head[3] = {(char) 0xda, (char) (len >> 8), (char) len};
                    if (len < 256) {
                        head[0] = (char) 0xd9;
                        head[1] = (char) len;
                        msgpack_sbuffer_write (&fixture->row, head, 2);
                    }
                    else
                        msgpack_sbuffer_write (&fixture->row, head, 3);
                    msgpack_sbuffer_write (&fixture->row, text, len);
                }
                break;
            }
            case 1: {
                int64_t number = numbers[s_random (&seed) % (sizeof numbers / sizeof numbers[0])];
                if (s_random (&seed) % 3 == 0)
                    number = (int64_t) (((uint64_t) s_random (&seed) << 32 | s_random (&seed))
                                        >> (s_random (&seed) % 64));
                if (number >= 0 && s_random (&seed) % 2)
                    msgpack_pack_uint64 (packer, (uint64_t) number);
                else if (s_random (&seed) % 2 && number >= INT16_MIN && number <= INT16_MAX) {
                    //  A wider encoding than needed: int 64
                    char wide[9] = {(char) 0xd3};
                    for (int i = 0; i < 8; i++)
                        wide[1 + i] = (char) ((uint64_t) number >> (56 - 8 * i));
                    msgpack_sbuffer_write (&fixture->row, wide, 9);
                }
                else
                    msgpack_pack_int64 (packer, number);
                break;
            }
            case 2: {
                const char *decimal = decimals[s_random (&seed) % 4];
                msgpack_pack_ext_with_body (packer, decimal, strlen (decimal),
                                            s_random (&seed) % 8 ? ZETL_EXT_DECIMAL : 2);
                break;
            }
            case 3:
                if (s_random (&seed) % 2)
                    msgpack_pack_true (packer);
                else
                    msgpack_pack_false (packer);
                break;
            case 4:
                msgpack_pack_nil (packer);
                break;
            case 5:
                msgpack_pack_uint64 (packer, UINT64_MAX - s_random (&seed) % 3);
                break;
            case 6:
                msgpack_pack_double (packer, 1.5);
                break;
            case 7:
                msgpack_pack_array (packer, 1);
                msgpack_pack_int64 (packer, 1);
                break;
            default:
                msgpack_pack_bin_with_body (packer, "ab", 2);
                break;
            }
        }
        if (s_copy (fixture, s_random (&seed) % 50 != 0))
            lines++;
    }
    assert_true (lines > 5000);  //  A quarter at least are good rows
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_every_type, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_escapes_and_nulls, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_int_edges, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refused_rows, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_escape_positions, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_packed_matches_object, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
