/*  rng_test - zetl_rng: the seeded PRNG behind zetlctl gen  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "zetl_rng.h"

#define S_DRAWS 100000

static void
test_splitmix64_reference (void **state)
{
    (void) state;
    //  The reference outputs of splitmix64 from state 0
    const uint64_t expected[] = {0xe220a8397b1dcdafULL, 0x6e789e6aa1b965f4ULL,
                                 0x06c45d188009454fULL};
    uint64_t mix = 0;
    for (size_t i = 0; i < 3; i++)
        assert_int_equal (zetl_rng_splitmix64 (&mix), expected[i]);
}

static void
test_xoshiro_reference (void **state)
{
    (void) state;
    //  The reference outputs of xoshiro256** from the state {1, 2, 3, 4}
    zetl_rng_t rng = {{1, 2, 3, 4}};
    const uint64_t expected[] = {11520, 0, 1509978240, 1215971899390074240ULL};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal (zetl_rng_next (&rng), expected[i]);
}

static void
test_seeded_sequences (void **state)
{
    (void) state;
    //  Pinned: zetlctl gen output depends on every one of these numbers
    const struct {
        uint64_t seed, stream;
        uint64_t first[4];
    } cases[] = {
        {1,
         1,
         {0xbaa24e21d05c2935ULL, 0x19ac350577648864ULL, 0x7ef054b7f95a306aULL,
          0x1d26476ef9005c9bULL}},
        {7,
         2,
         {0xa1a85503d6300952ULL, 0x9f6fada4b06c6d67ULL, 0x930ce112fa41eb63ULL,
          0x68859a5949e66709ULL}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        zetl_rng_t rng;
        zetl_rng_seed (&rng, cases[c].seed, cases[c].stream);
        for (size_t i = 0; i < 4; i++)
            assert_int_equal (zetl_rng_next (&rng), cases[c].first[i]);
    }
    //  The derived draws, from seed 1 stream 1
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 1, 1);
    assert_int_equal (zetl_rng_below (&rng, 1000), 453);
    assert_int_equal (zetl_rng_below (&rng, 1000), 60);
    assert_int_equal (zetl_rng_range (&rng, -5, 5), -2);
    assert_int_equal (zetl_rng_range (&rng, 10, 99), 19);
    assert_int_equal (zetl_rng_skewed (&rng, 500), 264);
    assert_int_equal (zetl_rng_skewed (&rng, 500), 31);
}

static void
test_streams_are_independent (void **state)
{
    (void) state;
    zetl_rng_t a, b, c;
    zetl_rng_seed (&a, 42, 1);
    zetl_rng_seed (&b, 42, 1);
    zetl_rng_seed (&c, 42, 2);
    assert_memory_equal (&a, &b, sizeof a);
    assert_memory_not_equal (&a, &c, sizeof a);
    int same = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = zetl_rng_next (&a);
        assert_int_equal (x, zetl_rng_next (&b));
        same += x == zetl_rng_next (&c);
    }
    assert_int_equal (same, 0);
}

static void
test_bounds (void **state)
{
    (void) state;
    zetl_rng_t rng;
    zetl_rng_seed (&rng, 3, 1);
    //  Empty and one-value ranges
    assert_int_equal (zetl_rng_below (&rng, 0), 0);
    assert_int_equal (zetl_rng_below (&rng, 1), 0);
    assert_int_equal (zetl_rng_range (&rng, -9, -9), -9);
    assert_int_equal (zetl_rng_skewed (&rng, 0), 0);
    assert_int_equal (zetl_rng_range (&rng, INT64_MIN, INT64_MIN), INT64_MIN);
    //  Every value of a small range comes up, and nothing outside it
    int seen_below[10] = {0}, seen_range[7] = {0};
    int skewed_low = 0;
    for (int i = 0; i < S_DRAWS; i++) {
        uint64_t below = zetl_rng_below (&rng, 10);
        int64_t range = zetl_rng_range (&rng, -3, 3);
        uint32_t skewed = zetl_rng_skewed (&rng, 100);
        assert_true (below < 10);
        assert_true (range >= -3 && range <= 3);
        assert_true (skewed < 100);
        seen_below[below]++;
        seen_range[range + 3]++;
        skewed_low += skewed < 25;
    }
    for (int i = 0; i < 10; i++)
        assert_in_range (seen_below[i], S_DRAWS / 10 * 9 / 10, S_DRAWS / 10 * 11 / 10);
    for (int i = 0; i < 7; i++)
        assert_in_range (seen_range[i], S_DRAWS / 7 * 9 / 10, S_DRAWS / 7 * 11 / 10);
    //  floor (100 u^2) < 25 when u < 1/2: half the draws, not a quarter
    assert_in_range (skewed_low, S_DRAWS * 45 / 100, S_DRAWS * 55 / 100);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_splitmix64_reference),
        cmocka_unit_test (test_xoshiro_reference),
        cmocka_unit_test (test_seeded_sequences),
        cmocka_unit_test (test_streams_are_independent),
        cmocka_unit_test (test_bounds),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
