/*  zetl_record_sort - the order of a map's entries in the canonical form (zetl_record_sort.h)
*/
#include "zetl_record_sort.h"

#include <stdlib.h>
#include <string.h>

//  Compare two byte strings: memcmp, then the shorter first
static inline int
s_bytes_cmp (const unsigned char *a, size_t la, const unsigned char *b, size_t lb)
{
    int rc = memcmp (a, b, la < lb ? la : lb);
    return rc ? rc : la < lb ? -1 : la > lb;
}

//  Order of map entries in the canonical form: string keys by their bytes
//  (memcmp, then shorter first), before keys of any other type, which order
//  by their canonical bytes. Equal keys (a map may repeat one) order by
//  their values' canonical bytes, so the result never depends on the input
//  order.
static int
s_entry_cmp (const zetl_record_entry_t *a, const zetl_record_entry_t *b)
{
    int rc;
    if (a->is_str && b->is_str) {
        //  The first 8 bytes decide most comparisons
        if (a->prefix != b->prefix)
            return a->prefix < b->prefix ? -1 : 1;
        //  The text follows the tag and the length
        rc = s_bytes_cmp (a->base + a->key + 5, a->text_len, b->base + b->key + 5, b->text_len);
    }
    else if (a->is_str != b->is_str)
        rc = a->is_str ? -1 : 1;
    else
        rc = s_bytes_cmp (a->base + a->key, a->value - a->key, b->base + b->key, b->value - b->key);
    return rc ? rc
              : s_bytes_cmp (a->base + a->value, a->end - a->value, b->base + b->value,
                             b->end - b->value);
}

static int
s_entry_qsort_cmp (const void *a, const void *b)
{
    return s_entry_cmp ((const zetl_record_entry_t *) a, (const zetl_record_entry_t *) b);
}

//  True when entry A goes before entry B of ENTRIES or they are equal; two
//  string keys that differ in their first 8 bytes (most) are ordered
//  without a call
static inline bool
s_rank_before (const zetl_record_entry_t *entries, const zetl_record_rank_t *a,
               const zetl_record_rank_t *b)
{
    if (a->is_str && b->is_str && a->prefix != b->prefix)
        return a->prefix < b->prefix;
    return s_entry_cmp (&entries[a->index], &entries[b->index]) <= 0;
}

//  Put RANKS in the order of their ENTRIES; returns false when they were in
//  order already
bool
zetl_record_sort (zetl_record_entry_t *entries, zetl_record_rank_t *ranks, size_t count)
{
    if (count > ZETL_RECORD_SORT_ON_STACK) {
        qsort (entries, count, sizeof *entries, s_entry_qsort_cmp);
        for (size_t i = 0; i < count; i++)
            ranks[i].index = (uint32_t) i;
        return true;
    }
    //  Insertion sort: records are small, and often already sorted
    bool moved = false;
    for (size_t i = 1; i < count; i++) {
        if (s_rank_before (entries, &ranks[i - 1], &ranks[i]))
            continue;
        zetl_record_rank_t rank = ranks[i];
        size_t j = i;
        do {
            ranks[j] = ranks[j - 1];
            j--;
        } while (j > 0 && !s_rank_before (entries, &ranks[j - 1], &rank));
        ranks[j] = rank;
        moved = true;
    }
    return moved;
}
