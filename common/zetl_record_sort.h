/*  zetl_record_sort - the order of a map's entries in the canonical form (internal to zetl_record_hash)

    Not a public API: only zetl_record_hash.c and zetl_record_sort.c
    include this header. The content hash writes each entry of a map (key,
    then value) as it comes, noting where its canonical bytes are; this
    module puts the entries in canonical order: string keys by their bytes
    before keys of any other type, equal keys by their values. Small maps
    sort by an insertion sort on ranks (an 8-byte prefix of a string key
    orders most pairs without reading the bytes), large ones with qsort.
*/
#ifndef ZETL_RECORD_SORT_H_INCLUDED
#define ZETL_RECORD_SORT_H_INCLUDED

#include "zetl_record_canon.h"

//  Map entries a hash sorts without malloc (all levels at once)
#define ZETL_RECORD_SORT_ON_STACK 64

//  A map entry: where its canonical bytes are, to sort them
typedef struct {
    uint64_t prefix;            //  a string key's first 8 bytes, big-endian, zero-padded
    const unsigned char *base;  //  the canonical bytes, once the map is read
    size_t key;                 //  offset of the key's canonical bytes
    size_t value;               //  offset of the value's (where the key's end)
    size_t end;                 //  where the value's end
    uint32_t text_len;          //  a string key's length
    bool is_str;                //  the key is a string
} zetl_record_entry_t;

//  What an insertion sort moves around: small, and enough to order most
//  pairs of entries without reading them
typedef struct {
    uint64_t prefix;  //  the entry's prefix
    uint32_t index;   //  of the entry in its map
    uint32_t is_str;  //  the entry's key is a string
} zetl_record_rank_t;

//  Put RANKS (COUNT, with their ENTRIES) in the order of their entries, whose
//  BASE is set; returns false when they were in order already. Above
//  ZETL_RECORD_SORT_ON_STACK entries, sorts ENTRIES themselves and numbers
//  the ranks in order.
bool zetl_record_sort (zetl_record_entry_t *entries, zetl_record_rank_t *ranks, size_t count);

//  A string key's first 8 bytes as a big-endian number, zero-padded; TEXT
//  (LEN bytes) is in the packed bytes, which end at END
static inline uint64_t
zetl_record_sort_prefix (const unsigned char *text, uint64_t len, const unsigned char *end)
{
    if (end - text >= 8) {
        uint64_t v = zetl_record_canon_be (text, 8);
        return len >= 8 ? v : v & ~(~UINT64_C (0) >> (8 * len));
    }
    uint64_t v = 0;
    for (uint64_t i = 0; i < 8; i++)
        v = v << 8 | (i < len ? text[i] : 0);
    return v;
}

#endif
