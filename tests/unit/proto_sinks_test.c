/*  proto_sinks_test - SINKS bodies, the sink names and endpoints the
    coordinator hands out: round trips, a name given twice, every malformed
    body refused, every prefix and random damage, and lengths a body
    declares but does not hold
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "zetl_proto.h"
#include "zetl_proto_sinks.h"

//  Bytes of a string literal, without its terminating NUL
#define S_BYTES(literal) literal, sizeof (literal) - 1

//  A body to decode, one row of a table
typedef struct {
    const char *data;  //  the body's bytes
    size_t size;       //  how many
} bytes_case_t;

//  Decode SIZE bytes at DATA as a SINKS body. Caller owns the result.
static zhashx_t *
s_sinks_decode_bytes (const void *data, size_t size)
{
    zframe_t *body = zframe_new (data, size);
    zhashx_t *sinks = zetl_sinks_decode (body, NULL);
    zframe_destroy (&body);
    return sinks;
}

//  Assert that no body of CASES[0..COUNT) decodes
static void
s_assert_sinks_refused (const bytes_case_t *cases, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        zhashx_t *sinks = s_sinks_decode_bytes (cases[i].data, cases[i].size);
        if (sinks)
            fail_msg ("SINKS case %zu decoded", i);
    }
}

static void
test_sinks_round_trip (void **state)
{
    (void) state;
    char long_name[ZETL_PROTO_MAX_STRING + 1];
    memset (long_name, 's', ZETL_PROTO_MAX_STRING);
    long_name[ZETL_PROTO_MAX_STRING] = 0;  //  Exactly 1024 bytes is fine
    const char *names[] = {"pg-main", "files ✓", long_name, "pg-main"};
    const char *endpoints[] = {"tcp://10.0.0.5:7000", "ipc:///tmp/zetl-sink", "tcp://h:1",
                               "tcp://10.0.0.6:7000"};
    for (size_t count = 0; count <= 4; count++) {
        zframe_t *body = zetl_sinks_encode (names, endpoints, NULL, count);
        assert_non_null (body);
        zhashx_t *sinks = zetl_sinks_decode (body, NULL);
        assert_non_null (sinks);
        //  pg-main given twice keeps its last endpoint
        assert_int_equal (zhashx_size (sinks), count < 4 ? count : 3);
        for (size_t i = 0; i < count; i++) {
            bool again = false;  //  NAMES[i] given again later on
            for (size_t later = i + 1; later < count; later++)
                again = again || streq (names[later], names[i]);
            if (!again)
                assert_string_equal (zhashx_lookup (sinks, names[i]), endpoints[i]);
        }
        zhashx_destroy (&sinks);
        zframe_destroy (&body);
    }
    assert_null (zetl_sinks_decode (NULL, NULL));
}

static void
test_sinks_malformed (void **state)
{
    (void) state;
    // clang-format off
    const bytes_case_t cases[] = {
        {S_BYTES ("")},                                              //  Empty
        {S_BYTES ("\xc1")},                                          //  Not msgpack
        {S_BYTES ("\x80")},                                          //  A map, not an array
        {S_BYTES ("\xa5hello")},                                     //  A string
        {S_BYTES ("\x91\xa1" "a")},                                  //  A pair that is a string
        {S_BYTES ("\x91\xc0")},                                      //  A pair that is nil
        {S_BYTES ("\x91\x91\xa1" "a")},                              //  A pair of 1
        {S_BYTES ("\x91\x94\xa1" "a\xa1" "b\xa1" "c\xa1" "d")},      //  An entry of 4
        {S_BYTES ("\x91\x93\xa1" "a\xa1" "b\xc0")},                  //  A key that is nil
        {S_BYTES ("\x91\x93\xa1" "a\xa1" "b\xa0")},                  //  An empty key
        {S_BYTES ("\x91\x82\xa1" "a\xa1" "b\xa1" "c\xa1" "d")},      //  A pair that is a map
        {S_BYTES ("\x91\x92\x01\xa1" "b")},                          //  A name that is an integer
        {S_BYTES ("\x91\x92\xa1" "a\xc0")},                          //  An endpoint that is nil
        {S_BYTES ("\x91\x92\xa1" "a\xc4\x01" "b")},                  //  An endpoint that is bin
        {S_BYTES ("\x91\x92\xa0\xa1" "b")},                          //  An empty name
        {S_BYTES ("\x91\x92\xa1" "a\xa0")},                          //  An empty endpoint
        {S_BYTES ("\x91\x92\xa3" "a\0b\xa1" "c")},                   //  A name with a NUL byte
        {S_BYTES ("\x91\x92\xa1" "a\xa2\xc3\x28")},                  //  An endpoint not UTF-8
        {S_BYTES ("\x91\x92\xa2\xc0\xaf\xa1" "b")},                  //  An overlong name
        {S_BYTES ("\x91\x92\xa1" "a\xa1" "b\x00")},                  //  A byte after the array
        {S_BYTES ("\x90\x90")},                                      //  Two arrays
        {S_BYTES ("\x92\x92\xa1" "a\xa1" "b")},                      //  2 pairs declared, 1 there
        {S_BYTES ("\x91\x92\xa1" "a\xa1" "b\x92\xa1" "c\xa1" "d")},  //  1 declared, 2 there
    };
    // clang-format on
    s_assert_sinks_refused (cases, sizeof (cases) / sizeof (cases[0]));
    //  A name 1 byte too long
    uint8_t long_name[5 + ZETL_PROTO_MAX_STRING + 1 + 2] = {
        0x91, 0x92, 0xda, (ZETL_PROTO_MAX_STRING + 1) >> 8, (ZETL_PROTO_MAX_STRING + 1) & 0xff};
    memset (long_name + 5, 'n', ZETL_PROTO_MAX_STRING + 1);
    memcpy (long_name + sizeof (long_name) - 2,
            "\xa1"
            "e",
            2);
    assert_null (s_sinks_decode_bytes (long_name, sizeof (long_name)));

    //  Every prefix of a valid body, and every byte of it damaged at random
    const char *names[] = {"pg-main", "files"};
    const char *endpoints[] = {"tcp://10.0.0.5:7000", "ipc:///tmp/zetl-sink"};
    zframe_t *body = zetl_sinks_encode (names, endpoints, NULL, 2);
    for (size_t length = 0; length < zframe_size (body); length++)
        assert_null (s_sinks_decode_bytes (zframe_data (body), length));
    uint32_t seed = 2024;
    for (int round = 0; round < 5000; round++) {
        zframe_t *victim = zframe_dup (body);
        seed = seed * 1103515245 + 12345;
        size_t at = (seed >> 8) % zframe_size (victim);
        seed = seed * 1103515245 + 12345;
        zframe_data (victim)[at] = (uint8_t) (seed >> 16);
        zhashx_t *sinks = zetl_sinks_decode (victim, NULL);
        //  What still decodes holds only non-empty names and endpoints
        for (const char *endpoint = sinks ? (const char *) zhashx_first (sinks) : NULL; endpoint;
             endpoint = (const char *) zhashx_next (sinks)) {
            assert_true (strlen (endpoint) > 0);
            assert_true (strlen ((const char *) zhashx_cursor (sinks)) > 0);
        }
        zhashx_destroy (&sinks);
        zframe_destroy (&victim);
    }
    zframe_destroy (&body);
}

//  Lengths a body declares but does not hold fail at once, with nothing
//  allocated for them (msgpack_unpack_next would ask for up to 96 GiB)
static void
test_sinks_hostile_lengths (void **state)
{
    (void) state;
    // clang-format off
    const bytes_case_t cases[] = {
        {S_BYTES ("\xdd\xff\xff\xff\xff")},                      //  4 billion pairs
        {S_BYTES ("\xdd\xff\xff\xff\xff\x92\xa1" "a\xa1" "b")},  //  ... and one there
        {S_BYTES ("\xdc\xff\xff\x92\xa1" "a\xa1" "b")},          //  65535 pairs, 1 there
        {S_BYTES ("\x91\xdd\xff\xff\xff\xff")},                  //  A pair of 4 billion
        {S_BYTES ("\x91\xdf\xff\xff\xff\xff")},                  //  A pair that is a huge map
        {S_BYTES ("\x91\x92\xdb\xff\xff\xff\xff\xa1" "b")},      //  A 4 GiB name
        {S_BYTES ("\x91\x92\xa1" "a\xdb\xff\xff\xff\xff")},      //  A 4 GiB endpoint
        {S_BYTES ("\x91\x92\xdd\xff\xff\xff\xff\xa1" "b")},      //  A name that is a huge array
        {S_BYTES ("\x91\x92\xc6\xff\xff\xff\xff\xa1" "b")},      //  A name that is 4 GiB of bin
        {S_BYTES ("\x91\x92\xc9\xff\xff\xff\xff\x01\xa1" "b")},  //  A name that is 4 GiB of ext
    };
    // clang-format on
    s_assert_sinks_refused (cases, sizeof (cases) / sizeof (cases[0]));
    //  Deep nesting where a pair should be
    uint8_t deep[1 + 10000];
    memset (deep, 0x91, sizeof (deep));
    assert_null (s_sinks_decode_bytes (deep, sizeof (deep)));
    //  Many pairs that are there: each one costs its bytes, no more
    const size_t count = 20000;
    const char **names = (const char **) malloc (count * sizeof (char *));
    const char **endpoints = (const char **) malloc (count * sizeof (char *));
    for (size_t i = 0; i < count; i++) {
        names[i] = i % 2 ? "a" : "b";
        endpoints[i] = "tcp://x:1";
    }
    zframe_t *body = zetl_sinks_encode (names, endpoints, NULL, count);
    zhashx_t *sinks = zetl_sinks_decode (body, NULL);
    assert_non_null (sinks);
    assert_int_equal (zhashx_size (sinks), 2);
    zhashx_destroy (&sinks);
    zframe_destroy (&body);
    free (names);
    free (endpoints);
}

//  Entries may carry the CURVE key a sink's data endpoint serves with: it
//  comes back for the sinks that gave one, and a later entry without one
//  takes it away
static void
test_sinks_keys (void **state)
{
    (void) state;
    const char *names[] = {"sink-1", "sink-2", "sink-3"};
    const char *endpoints[] = {"tcp://a:1", "tcp://b:2", "tcp://c:3"};
    const char *keys[] = {"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", NULL, ""};
    zframe_t *body = zetl_sinks_encode (names, endpoints, keys, 3);
    zhashx_t *found = NULL;
    zhashx_t *sinks = zetl_sinks_decode (body, &found);
    assert_non_null (sinks);
    assert_int_equal (zhashx_size (sinks), 3);
    assert_int_equal (zhashx_size (found), 1);
    assert_string_equal ((const char *) zhashx_lookup (found, "sink-1"), keys[0]);
    zhashx_destroy (&sinks);
    zhashx_destroy (&found);
    zframe_destroy (&body);
    //  The same name again without a key: its key is gone
    const char *again_names[] = {"sink-1", "sink-1"};
    const char *again_keys[] = {keys[0], NULL};
    body = zetl_sinks_encode (again_names, endpoints, again_keys, 2);
    sinks = zetl_sinks_decode (body, &found);
    assert_int_equal (zhashx_size (found), 0);
    zhashx_destroy (&sinks);
    zhashx_destroy (&found);
    zframe_destroy (&body);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_sinks_round_trip),
        cmocka_unit_test (test_sinks_malformed),
        cmocka_unit_test (test_sinks_hostile_lengths),
        cmocka_unit_test (test_sinks_keys),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
