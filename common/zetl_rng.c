/*  zetl_rng - a small seeded PRNG: xoshiro256** seeded by splitmix64

    Only integer arithmetic, so every platform gives the same numbers.
*/
#include "zetl_rng.h"

#include <assert.h>

uint64_t
zetl_rng_splitmix64 (uint64_t *state)
{
    assert (state);
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void
zetl_rng_seed (zetl_rng_t *self, uint64_t seed, uint64_t stream)
{
    assert (self);
    //  splitmix64 never gives four zero words in a row: the state is valid
    uint64_t state = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int index = 0; index < 4; index++)
        self->s[index] = zetl_rng_splitmix64 (&state);
}

static inline uint64_t
s_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
zetl_rng_next (zetl_rng_t *self)
{
    assert (self);
    uint64_t *s = self->s;
    uint64_t result = s_rotl (s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl (s[3], 45);
    return result;
}

uint64_t
zetl_rng_below (zetl_rng_t *self, uint64_t n)
{
    //  Plain modulo: its bias is tiny for the ranges we draw from, and it
    //  is deterministic, which is what matters
    return n ? zetl_rng_next (self) % n : 0;
}

int64_t
zetl_rng_range (zetl_rng_t *self, int64_t low, int64_t high)
{
    assert (low <= high);
    //  In unsigned arithmetic, where the width of the range cannot overflow
    uint64_t width = (uint64_t) high - (uint64_t) low + 1;
    return (int64_t) ((uint64_t) low + zetl_rng_below (self, width));
}

uint32_t
zetl_rng_skewed (zetl_rng_t *self, uint32_t n)
{
    //  u as a 32-bit fixed-point fraction, squared, then scaled by N
    uint64_t u = zetl_rng_next (self) >> 32;
    return (uint32_t) ((((u * u) >> 32) * n) >> 32);
}
