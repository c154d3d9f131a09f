/*  zetl_rng - a small seeded PRNG: xoshiro256** seeded by splitmix64

    Deterministic and portable: the same seed and stream give the same
    sequence on any machine and with any compiler, so generated data,
    tests and benchmarks can be repeated byte for byte. Fast, with good
    statistics, and not for anything secret (it is not cryptographic).

    A zetl_rng_t is a plain value of 32 bytes: the caller owns it, on the
    stack or inside its own struct, and seeds it with zetl_rng_seed before
    the first draw; there is nothing to destroy. One generator per thread.
    zetlctl gen draws the content and the arrangement of its stream from
    two streams of one seed. Both algorithms are Sebastiano Vigna's
    (public domain); changing any of these functions changes the output of
    zetlctl gen for every seed.
*/
#ifndef ZETL_RNG_H_INCLUDED
#define ZETL_RNG_H_INCLUDED

#include <stdint.h>

typedef struct zetl_rng {
    uint64_t s[4];  //  xoshiro256** state, never all zero once seeded
} zetl_rng_t;

//  Advance the splitmix64 generator at *STATE and return its next output.
//  Also a good 64-bit mixing function: a fixed function of *STATE.
uint64_t zetl_rng_splitmix64 (uint64_t *state);

//  Seed SELF for stream STREAM of SEED. Different streams of one seed give
//  independent sequences, so one part of a program can draw more or less
//  without changing what another part draws.
void zetl_rng_seed (zetl_rng_t *self, uint64_t seed, uint64_t stream);

//  Return the next 64 uniformly random bits.
uint64_t zetl_rng_next (zetl_rng_t *self);

//  Return a number uniform in [0, N), or 0 when N is 0. One draw. Modulo
//  bias: under 2^-30 for N below 2^34.
uint64_t zetl_rng_below (zetl_rng_t *self, uint64_t n);

//  Return a number uniform in [LOW, HIGH] (LOW <= HIGH, and not the whole
//  int64 range). One draw.
int64_t zetl_rng_range (zetl_rng_t *self, int64_t low, int64_t high);

//  Return floor (N * u^2) with u uniform in [0, 1): a number in [0, N)
//  (0 when N is 0) where small values are the common ones, as for the
//  popularity of hotels. One draw.
uint32_t zetl_rng_skewed (zetl_rng_t *self, uint32_t n);

#endif
