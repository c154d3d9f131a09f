/*  zetl_record_hash - the 128-bit content hash of a record (zetl_record.h)

    The content hash reads packed bytes in place (an object is packed
    first) and writes a canonical serialization into a stack buffer for
    XXH3-128, so hashing a packed record allocates nothing unless it is
    large (over 2 KiB canonical, or more than 64 map entries being sorted
    at once).
*/
#include "zetl_record.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#define S_SORT_ON_STACK 64  //  map entries a hash sorts without malloc (all levels at once)
#define S_HASH_BUFFER 2048  //  canonical bytes on the stack; a larger record's go on the heap
#define S_HASH_MAX_DEPTH 256  //  nesting the content hash accepts

//  Canonical form tags: each value is a tag and a self-delimiting body
enum {
    S_TAG_NIL = 0x00,
    S_TAG_FALSE = 0x01,
    S_TAG_TRUE = 0x02,
    S_TAG_UINT = 0x03,   //  every integer >= 0, signed or not: 8 bytes big-endian
    S_TAG_NINT = 0x04,   //  integers < 0: 8 bytes big-endian two's complement
    S_TAG_FLOAT = 0x05,  //  IEEE double, big-endian; -0.0 as 0.0, one NaN
    S_TAG_STR = 0x06,    //  u32 length + bytes
    S_TAG_BIN = 0x07,    //  u32 length + bytes
    S_TAG_EXT = 0x08,    //  type byte + u32 length + bytes
    S_TAG_ARRAY = 0x09,  //  u32 count + items
    S_TAG_MAP = 0x0a     //  u32 count + (key, value) pairs sorted by key bytes
};

static void
s_oom (void)
{
    fprintf (stderr, "zetl_record: out of memory\n");
    abort ();
}

//  ---------------------------------------------------------------------------
//  Content hash
//
//  One walk over packed msgpack bytes writes the canonical form, which is
//  then hashed in one call; records are hashed where they are, as packed,
//  and a msgpack_object is packed first. Each map's entries are written as
//  they come, then sorted and gathered in order (nothing moves when they
//  came in order).

//  Packed bytes being read, never past end
typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} s_reader_t;

//  One msgpack value's header, in canonical terms
typedef struct {
    unsigned char tag;          //  S_TAG_*
    unsigned char ext_type;     //  EXT: its type byte
    uint64_t value;             //  UINT, NINT, FLOAT: the 8 canonical bytes; STR, BIN, EXT:
                                //  length; ARRAY, MAP: count
    const unsigned char *body;  //  STR, BIN, EXT: the bytes
} s_item_t;

//  The big-endian number in the BYTES (1, 2, 4 or 8) bytes at P
static inline uint64_t
s_be (const unsigned char *p, int bytes)
{
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    switch (bytes) {
    case 1:
        return p[0];
    case 2:
        memcpy (&v16, p, 2);
        return __builtin_bswap16 (v16);
    case 4:
        memcpy (&v32, p, 4);
        return __builtin_bswap32 (v32);
    default:
        memcpy (&v64, p, 8);
        return __builtin_bswap64 (v64);
    }
}

//  A float's canonical bits: -0.0 as 0.0, every NaN as one
static uint64_t
s_float_bits (double f)
{
    uint64_t bits;
    if (isnan (f))
        return UINT64_C (0x7ff8000000000000);
    if (f == 0)
        f = 0;  //  -0.0 and 0.0 are the same content
    memcpy (&bits, &f, sizeof bits);
    return bits;
}

//  Step over the FIXED bytes after a type byte (a length, an ext type, a
//  number), if they are there
static inline bool
s_take (s_reader_t *reader, size_t fixed)
{
    if ((size_t) (reader->end - reader->p) < fixed)
        return false;
    reader->p += fixed;
    return true;
}

//  ITEM is a str, bin or ext (TAG) of LEN bytes, which follow, if they are there
static inline bool
s_take_body (s_reader_t *reader, s_item_t *item, unsigned char tag, uint64_t len)
{
    if ((uint64_t) (reader->end - reader->p) < len)
        return false;
    item->tag = tag;
    item->value = len;
    item->body = reader->p;
    reader->p += len;
    return true;
}

static inline void
s_int (s_item_t *item, int64_t v)
{
    item->tag = v < 0 ? S_TAG_NINT : S_TAG_UINT;
    item->value = (uint64_t) v;
}

//  Read one value's header (and the bytes of a str, bin or ext) at the
//  reader; the items of an array or map follow. False on bad or short bytes.
static inline __attribute__ ((always_inline)) bool
s_read (s_reader_t *reader, s_item_t *item)
{
    if (reader->p == reader->end)
        return false;
    unsigned char byte = *reader->p++;
    const unsigned char *p = reader->p;
    if (byte <= 0x7f) {
        item->tag = S_TAG_UINT;
        item->value = byte;
        return true;
    }
    if (byte >= 0xe0) {
        s_int (item, (int8_t) byte);
        return true;
    }
    if (byte >= 0xa0 && byte <= 0xbf)
        return s_take_body (reader, item, S_TAG_STR, byte & 0x1f);
    if (byte <= 0x8f) {
        item->tag = S_TAG_MAP;
        item->value = byte & 0x0f;
        return true;
    }
    if (byte <= 0x9f) {
        item->tag = S_TAG_ARRAY;
        item->value = byte & 0x0f;
        return true;
    }
    switch (byte) {
    case 0xc0:
        item->tag = S_TAG_NIL;
        return true;
    case 0xc2:
        item->tag = S_TAG_FALSE;
        return true;
    case 0xc3:
        item->tag = S_TAG_TRUE;
        return true;
    case 0xc4:
    case 0xc5:
    case 0xc6: {
        int bytes = 1 << (byte - 0xc4);
        return s_take (reader, (size_t) bytes)
               && s_take_body (reader, item, S_TAG_BIN, s_be (p, bytes));
    }
    case 0xc7:
    case 0xc8:
    case 0xc9: {
        int bytes = 1 << (byte - 0xc7);
        if (!s_take (reader, (size_t) bytes + 1))
            return false;
        item->ext_type = p[bytes];
        return s_take_body (reader, item, S_TAG_EXT, s_be (p, bytes));
    }
    case 0xca: {
        if (!s_take (reader, 4))
            return false;
        uint32_t bits = (uint32_t) s_be (p, 4);
        float f;
        memcpy (&f, &bits, sizeof f);
        item->tag = S_TAG_FLOAT;
        item->value = s_float_bits (f);
        return true;
    }
    case 0xcb: {
        if (!s_take (reader, 8))
            return false;
        uint64_t bits = s_be (p, 8);
        double f;
        memcpy (&f, &bits, sizeof f);
        item->tag = S_TAG_FLOAT;
        item->value = s_float_bits (f);
        return true;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
        int bytes = 1 << (byte - 0xcc);
        if (!s_take (reader, (size_t) bytes))
            return false;
        item->tag = S_TAG_UINT;
        item->value = s_be (p, bytes);
        return true;
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        int bytes = 1 << (byte - 0xd0);
        if (!s_take (reader, (size_t) bytes))
            return false;
        //  Sign-extend from BYTES bytes
        uint64_t raw = s_be (p, bytes) << (64 - 8 * bytes);
        s_int (item, (int64_t) raw >> (64 - 8 * bytes));
        return true;
    }
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        if (!s_take (reader, 1))
            return false;
        item->ext_type = p[0];
        return s_take_body (reader, item, S_TAG_EXT, (uint64_t) 1 << (byte - 0xd4));
    case 0xd9:
    case 0xda:
    case 0xdb: {
        int bytes = 1 << (byte - 0xd9);
        return s_take (reader, (size_t) bytes)
               && s_take_body (reader, item, S_TAG_STR, s_be (p, bytes));
    }
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf: {
        int bytes = byte & 1 ? 4 : 2;
        if (!s_take (reader, (size_t) bytes))
            return false;
        item->tag = byte <= 0xdd ? S_TAG_ARRAY : S_TAG_MAP;
        item->value = s_be (p, bytes);
        return true;
    }
    default:
        return false;  //  0xc1, never used
    }
}

//  A map entry: where its canonical bytes are, to sort them
typedef struct {
    uint64_t prefix;            //  a string key's first 8 bytes, big-endian, zero-padded
    const unsigned char *base;  //  the canonical bytes, once the map is read
    size_t key;                 //  offset of the key's canonical bytes
    size_t value;               //  offset of the value's (where the key's end)
    size_t end;                 //  where the value's end
    uint32_t text_len;          //  a string key's length
    bool is_str;                //  the key is a string
} s_entry_t;

//  What an insertion sort moves around: small, and enough to order most
//  pairs of entries without reading them
typedef struct {
    uint64_t prefix;  //  the entry's prefix
    uint32_t index;   //  of the entry in its map
    uint32_t is_str;  //  the entry's key is a string
} s_rank_t;

//  The canonical form being written: a buffer on the stack that moves to
//  the heap for large records, and the entries of the maps being written
//  (the innermost last), which also start on the stack
typedef struct {
    unsigned char *buf;     //  canonical bytes
    size_t used;            //  bytes written at buf
    size_t cap;             //  bytes at buf
    bool buf_on_heap;       //  buf is ours to free
    s_entry_t *entries;     //  of the maps being written
    s_rank_t *ranks;        //  one per entry, sorted in place of the entries
    size_t nentries;        //  entries in use
    size_t entries_cap;     //  entries (and ranks) allocated
    bool entries_on_heap;   //  entries and ranks are ours to free
    size_t from, to;        //  where the whole form is, when not at the start of buf
} s_canon_t;

static void
s_canon_init (s_canon_t *canon, unsigned char *buf, size_t cap, s_entry_t *entries,
              s_rank_t *ranks, size_t entries_cap)
{
    *canon = (s_canon_t){buf, 0, cap, false, entries, ranks, 0, entries_cap, false, 0, 0};
}

static void
s_canon_fini (s_canon_t *canon)
{
    if (canon->buf_on_heap)
        free (canon->buf);
    if (canon->entries_on_heap) {
        free (canon->entries);
        free (canon->ranks);
    }
}

//  Move *DATA (USED items of SIZE bytes, room for *CAP, on the stack until
//  *ON_HEAP) to a heap block of at least NEEDED items
static void
s_grow (void **data, size_t used, size_t *cap, bool *on_heap, size_t needed, size_t size)
{
    size_t grown = *cap * 2;
    while (grown < needed)
        grown *= 2;
    void *block = malloc (grown * size);
    if (!block)
        s_oom ();
    memcpy (block, *data, used * size);
    if (*on_heap)
        free (*data);
    *data = block;
    *cap = grown;
    *on_heap = true;
}

//  Where the next N bytes go
static inline unsigned char *
s_room (s_canon_t *canon, size_t n)
{
    if (canon->cap - canon->used < n)
        s_grow ((void **) &canon->buf, canon->used, &canon->cap, &canon->buf_on_heap,
                canon->used + n, 1);
    return canon->buf + canon->used;
}

static inline void
s_store_be32 (unsigned char *p, uint32_t v)
{
    v = __builtin_bswap32 (v);
    memcpy (p, &v, 4);
}

static inline void
s_store_be64 (unsigned char *p, uint64_t v)
{
    v = __builtin_bswap64 (v);
    memcpy (p, &v, 8);
}

//  Copy N bytes to DST: short copies (most keys and values) as two
//  overlapping moves, without calling memcpy
static inline void
s_copy (unsigned char *dst, const unsigned char *src, size_t n)
{
    if (n >= 16 && n <= 32) {
        memcpy (dst, src, 16);
        memcpy (dst + n - 16, src + n - 16, 16);
    }
    else if (n >= 8 && n < 16) {
        memcpy (dst, src, 8);
        memcpy (dst + n - 8, src + n - 8, 8);
    }
    else if (n >= 4 && n < 8) {
        memcpy (dst, src, 4);
        memcpy (dst + n - 4, src + n - 4, 4);
    }
    else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
    else
        memcpy (dst, src, n);
}

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
s_entry_cmp (const s_entry_t *a, const s_entry_t *b)
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
        rc = s_bytes_cmp (a->base + a->key, a->value - a->key, b->base + b->key,
                          b->value - b->key);
    return rc ? rc
              : s_bytes_cmp (a->base + a->value, a->end - a->value, b->base + b->value,
                             b->end - b->value);
}

static int
s_entry_qsort_cmp (const void *a, const void *b)
{
    return s_entry_cmp ((const s_entry_t *) a, (const s_entry_t *) b);
}

//  True when entry A goes before entry B of ENTRIES or they are equal; two
//  string keys that differ in their first 8 bytes (most) are ordered
//  without a call
static inline bool
s_rank_before (const s_entry_t *entries, const s_rank_t *a, const s_rank_t *b)
{
    if (a->is_str && b->is_str && a->prefix != b->prefix)
        return a->prefix < b->prefix;
    return s_entry_cmp (&entries[a->index], &entries[b->index]) <= 0;
}

//  Put RANKS in the order of their ENTRIES; returns false when they were in
//  order already
static bool
s_sort (s_entry_t *entries, s_rank_t *ranks, size_t count)
{
    if (count > S_SORT_ON_STACK) {
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
        s_rank_t rank = ranks[i];
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

//  A string key's first 8 bytes as a big-endian number, zero-padded; TEXT
//  (LEN bytes) is in the packed bytes, which end at END
static inline uint64_t
s_prefix (const unsigned char *text, uint64_t len, const unsigned char *end)
{
    if (end - text >= 8) {
        uint64_t v = s_be (text, 8);
        return len >= 8 ? v : v & ~(~UINT64_C (0) >> (8 * len));
    }
    uint64_t v = 0;
    for (uint64_t i = 0; i < 8; i++)
        v = v << 8 | (i < len ? text[i] : 0);
    return v;
}

static bool s_canon_item (s_canon_t *canon, s_reader_t *reader, const s_item_t *item, int depth);
static inline void s_canon_scalar (s_canon_t *canon, const s_item_t *item);

//  A map of COUNT entries at the reader: write each entry's canonical
//  bytes as it comes, then put the entries in order
static bool
s_canon_map (s_canon_t *canon, s_reader_t *reader, uint64_t count, int depth)
{
    if (depth > S_HASH_MAX_DEPTH)
        return false;
    //  Every entry takes at least two bytes: a bound before allocating
    if (count > (uint64_t) (reader->end - reader->p) / 2)
        return false;
    unsigned char *head = s_room (canon, 5);
    head[0] = S_TAG_MAP;
    s_store_be32 (head + 1, (uint32_t) count);
    canon->used += 5;
    size_t body = canon->used;
    size_t first = canon->nentries;
    if (canon->entries_cap - first < count) {
        size_t cap = canon->entries_cap;
        bool on_heap = canon->entries_on_heap;
        s_grow ((void **) &canon->ranks, first, &cap, &on_heap, first + (size_t) count,
                sizeof (s_rank_t));
        s_grow ((void **) &canon->entries, first, &canon->entries_cap, &canon->entries_on_heap,
                first + (size_t) count, sizeof (s_entry_t));
    }
    canon->nentries = first + (size_t) count;
    for (size_t i = 0; i < count; i++) {
        s_entry_t entry;
        s_item_t key, value;
        entry.key = canon->used;
        if (!s_read (reader, &key))
            return false;
        entry.is_str = key.tag == S_TAG_STR;
        entry.prefix = 0;
        if (entry.is_str) {
            entry.text_len = (uint32_t) key.value;
            entry.prefix = s_prefix (key.body, key.value, reader->end);
        }
        if (entry.is_str)
            s_canon_scalar (canon, &key);
        else if (!s_canon_item (canon, reader, &key, depth + 1))
            return false;
        entry.value = canon->used;
        if (!s_read (reader, &value))
            return false;
        //  Most values are scalars: written here, without a call
        if (value.tag != S_TAG_ARRAY && value.tag != S_TAG_MAP)
            s_canon_scalar (canon, &value);
        else if (!s_canon_item (canon, reader, &value, depth + 1))
            return false;
        entry.end = canon->used;
        //  A map in the value may have moved the entries
        canon->entries[first + i] = entry;
        canon->ranks[first + i] = (s_rank_t){entry.prefix, (uint32_t) i, entry.is_str};
    }
    canon->nentries = first;
    s_entry_t *entries = canon->entries + first;
    s_rank_t *ranks = canon->ranks + first;
    for (size_t i = 0; i < count; i++)
        entries[i].base = canon->buf;
    if (!s_sort (entries, ranks, (size_t) count))
        return true;
    //  Gather the entries in order after the map, then move them back
    size_t size = canon->used - body;
    unsigned char *sorted = s_room (canon, size);
    for (size_t i = 0; i < count; i++) {
        const s_entry_t *entry = &entries[ranks[i].index];
        size_t len = entry->end - entry->key;
        s_copy (sorted, canon->buf + entry->key, len);
        sorted += len;
    }
    if (depth == 1) {
        //  The record itself: its form is the header and what was gathered,
        //  with the header written over bytes already copied
        canon->from = canon->used - 5;
        memmove (canon->buf + canon->from, canon->buf + body - 5, 5);  //  May overlap
        canon->to = canon->used + size;
        return true;
    }
    memmove (canon->buf + body, canon->buf + canon->used, size);
    return true;
}

//  Write the canonical form of ITEM, a scalar just read (not an array or map)
static inline __attribute__ ((always_inline)) void
s_canon_scalar (s_canon_t *canon, const s_item_t *item)
{
    unsigned char *p;
    switch (item->tag) {
    case S_TAG_UINT:
    case S_TAG_NINT:
    case S_TAG_FLOAT:
        p = s_room (canon, 9);
        p[0] = item->tag;
        s_store_be64 (p + 1, item->value);
        canon->used += 9;
        break;
    case S_TAG_STR:
    case S_TAG_BIN:
        p = s_room (canon, 5 + (size_t) item->value);
        p[0] = item->tag;
        s_store_be32 (p + 1, (uint32_t) item->value);
        s_copy (p + 5, item->body, (size_t) item->value);
        canon->used += 5 + (size_t) item->value;
        break;
    case S_TAG_EXT:
        p = s_room (canon, 6 + (size_t) item->value);
        p[0] = S_TAG_EXT;
        s_store_be32 (p + 1, (uint32_t) item->value);
        p[5] = item->ext_type;
        s_copy (p + 6, item->body, (size_t) item->value);
        canon->used += 6 + (size_t) item->value;
        break;
    default:
        //  nil, false, true: the tag alone
        p = s_room (canon, 1);
        p[0] = item->tag;
        canon->used += 1;
    }
}

//  Write the canonical form of ITEM, just read; the items of an array or
//  map follow at the reader
static bool
s_canon_item (s_canon_t *canon, s_reader_t *reader, const s_item_t *item, int depth)
{
    if (item->tag == S_TAG_MAP)
        return s_canon_map (canon, reader, item->value, depth);
    if (item->tag != S_TAG_ARRAY) {
        s_canon_scalar (canon, item);
        return true;
    }
    if (depth > S_HASH_MAX_DEPTH)
        return false;
    unsigned char *p = s_room (canon, 5);
    p[0] = S_TAG_ARRAY;
    s_store_be32 (p + 1, (uint32_t) item->value);
    canon->used += 5;
    for (uint64_t i = 0; i < item->value; i++) {
        s_item_t element;
        if (!s_read (reader, &element) || !s_canon_item (canon, reader, &element, depth + 1))
            return false;
    }
    return true;
}

int
zetl_record_hash_packed (const void *data, size_t len, uint8_t out[16])
{
    assert (data || len == 0);
    assert (out);
    unsigned char buf[S_HASH_BUFFER];
    s_entry_t entries[S_SORT_ON_STACK];
    s_rank_t ranks[S_SORT_ON_STACK];
    s_canon_t canon;
    s_canon_init (&canon, buf, sizeof buf, entries, ranks, S_SORT_ON_STACK);
    s_reader_t reader = {(const unsigned char *) data, (const unsigned char *) data + len};
    s_item_t item;
    bool ok = s_read (&reader, &item) && s_canon_item (&canon, &reader, &item, 1)
              && reader.p == reader.end;
    if (ok) {
        XXH128_canonical_t canonical;
        if (canon.to == 0)
            canon.to = canon.used;
        XXH128_canonicalFromHash (&canonical,
                                  XXH3_128bits (canon.buf + canon.from, canon.to - canon.from));
        memcpy (out, canonical.digest, 16);  //  high64 then low64, big-endian
    }
    else
        memset (out, 0, 16);
    s_canon_fini (&canon);
    return ok ? 0 : -1;
}

//  Packs an object for hashing: into a stack buffer, then the heap
typedef struct {
    char *data;
    size_t size;
    size_t cap;
    bool on_heap;
} s_packed_t;

static int
s_packed_write (void *data, const char *buf, size_t len)
{
    s_packed_t *packed = (s_packed_t *) data;
    if (packed->cap - packed->size < len) {
        size_t cap = packed->cap * 2;
        while (cap - packed->size < len)
            cap *= 2;
        char *grown = (char *) malloc (cap);
        if (!grown)
            s_oom ();
        memcpy (grown, packed->data, packed->size);
        if (packed->on_heap)
            free (packed->data);
        packed->data = grown;
        packed->cap = cap;
        packed->on_heap = true;
    }
    memcpy (packed->data + packed->size, buf, len);
    packed->size += len;
    return 0;
}

//  Pack OBJ as its hash reads it: every float as a double, which holds the
//  value a FLOAT32 object carries exactly; anything unknown as nil
static void
s_pack_object (msgpack_packer *pk, const msgpack_object *obj)
{
    switch (obj->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        msgpack_pack_double (pk, obj->via.f64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        //  A hand-built object may carry a non-negative value here: same as uint
        msgpack_pack_int64 (pk, obj->via.i64);
        break;
    case MSGPACK_OBJECT_ARRAY:
        msgpack_pack_array (pk, obj->via.array.size);
        for (uint32_t i = 0; i < obj->via.array.size; i++)
            s_pack_object (pk, &obj->via.array.ptr[i]);
        break;
    case MSGPACK_OBJECT_MAP:
        msgpack_pack_map (pk, obj->via.map.size);
        for (uint32_t i = 0; i < obj->via.map.size; i++) {
            s_pack_object (pk, &obj->via.map.ptr[i].key);
            s_pack_object (pk, &obj->via.map.ptr[i].val);
        }
        break;
    case MSGPACK_OBJECT_NIL:
    case MSGPACK_OBJECT_BOOLEAN:
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
    case MSGPACK_OBJECT_EXT:
        msgpack_pack_object (pk, *obj);
        break;
    default:
        msgpack_pack_nil (pk);
    }
}

void
zetl_record_hash (const msgpack_object *obj, uint8_t out[16])
{
    assert (obj && out);
    char stack[S_HASH_BUFFER];
    s_packed_t packed = {stack, 0, sizeof stack, false};
    msgpack_packer pk;
    msgpack_packer_init (&pk, &packed, s_packed_write);
    s_pack_object (&pk, obj);
    int rc = zetl_record_hash_packed (packed.data, packed.size, out);
    assert (rc == 0);  //  Only a hand-built object nested deeper than 256 fails
    (void) rc;
    if (packed.on_heap)
        free (packed.data);
}
