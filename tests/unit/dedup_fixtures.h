/*  dedup_fixtures.h - what the zetl_dedup tests share: time units, an event
    time at the start of a bucket, content hashes standing for versions of a
    record, and check-insert, check, stats and expiry in one call each
*/
#ifndef ZETL_DEDUP_FIXTURES_H_INCLUDED
#define ZETL_DEDUP_FIXTURES_H_INCLUDED

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "zetl_dedup.h"
#include "zetl_rng.h"

#define S_SECOND ((int64_t) 1000000)
#define S_MINUTE (60 * S_SECOND)
#define S_HOUR (60 * S_MINUTE)
#define S_MIB ((size_t) 1024 * 1024)
//  2026-04-24, an ordinary event time, at the start of a bucket for the
//  windows used here (a multiple of 56.25 s = 1 h / 64 and of 9.375 s = 10 min / 64)
#define S_T0 ((int64_t) 31591111 * 56250000)

//  A content hash standing for version VERSION of a record
static inline void
s_content (uint64_t version, uint8_t hash[16])
{
    uint64_t state = version * 0x9e3779b97f4a7c15ULL + 7;
    uint64_t words[2] = {zetl_rng_splitmix64 (&state), zetl_rng_splitmix64 (&state)};
    for (int index = 0; index < 8; index++) {
        hash[index] = (uint8_t) (words[0] >> (56 - 8 * index));
        hash[8 + index] = (uint8_t) (words[1] >> (56 - 8 * index));
    }
}

//  Check-insert id ID with content version VERSION at EVENT_US
static inline zetl_dedup_result_t
s_put (zetl_dedup_t *dedup, const char *id, uint64_t version, int64_t event_us)
{
    uint8_t hash[16];
    s_content (version, hash);
    return zetl_dedup_check_insert (dedup, id, id ? strlen (id) : 0, hash, event_us);
}

//  What check-insert would answer, without inserting
static inline zetl_dedup_result_t
s_peek (zetl_dedup_t *dedup, const char *id, uint64_t version, int64_t event_us)
{
    uint8_t hash[16];
    s_content (version, hash);
    zetl_dedup_key_t key;
    zetl_dedup_key (&key, id, id ? strlen (id) : 0, hash, event_us);
    return zetl_dedup_check (dedup, &key);
}

static inline zetl_dedup_stats_t
s_stats (zetl_dedup_t *dedup)
{
    zetl_dedup_stats_t stats;
    zetl_dedup_stats (dedup, &stats);
    return stats;
}

//  Call zetl_dedup_expire until it has no work left; returns the calls made
static inline int
s_expire_all (zetl_dedup_t *dedup, int64_t watermark_us)
{
    int calls = 1;
    while (zetl_dedup_expire (dedup, watermark_us, 4))
        calls++;
    return calls;
}

#endif
