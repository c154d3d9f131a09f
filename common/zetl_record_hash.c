/*  zetl_record_hash - the 128-bit content hash of a record (zetl_record.h)

    The content hash reads packed bytes in place (an object is packed
    first) and writes a canonical serialization into a stack buffer for
    XXH3-128, so hashing a packed record allocates nothing unless it is
    large (over 2 KiB canonical, or more than 64 map entries being sorted
    at once). zetl_record_canon reads each packed value in canonical terms;
    zetl_record_sort puts a map's entries in canonical order; this module
    writes the canonical form and hashes it.
*/
#include "zetl_record.h"
#include "zetl_record_canon.h"
#include "zetl_record_sort.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#define S_HASH_BUFFER 2048    //  canonical bytes on the stack; a larger record's go on the heap
#define S_HASH_MAX_DEPTH 256  //  nesting the content hash accepts

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

//  The canonical form being written: a buffer on the stack that moves to
//  the heap for large records, and the entries of the maps being written
//  (the innermost last), which also start on the stack
typedef struct {
    unsigned char *buf;            //  canonical bytes
    size_t used;                   //  bytes written at buf
    size_t cap;                    //  bytes at buf
    bool buf_on_heap;              //  buf is ours to free
    zetl_record_entry_t *entries;  //  of the maps being written
    zetl_record_rank_t *ranks;     //  one per entry, sorted in place of the entries
    size_t nentries;               //  entries in use
    size_t entries_cap;            //  entries (and ranks) allocated
    bool entries_on_heap;          //  entries and ranks are ours to free
    size_t from, to;               //  where the whole form is, when not at the start of buf
} s_canon_t;

static void
s_canon_init (s_canon_t *canon, unsigned char *buf, size_t cap, zetl_record_entry_t *entries,
              zetl_record_rank_t *ranks, size_t entries_cap)
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

static bool s_canon_item (s_canon_t *canon, zetl_record_canon_reader_t *reader,
                          const zetl_record_canon_item_t *item, int depth);
static inline void s_canon_scalar (s_canon_t *canon, const zetl_record_canon_item_t *item);

//  A map of COUNT entries at the reader: write each entry's canonical
//  bytes as it comes, then put the entries in order
static bool
s_canon_map (s_canon_t *canon, zetl_record_canon_reader_t *reader, uint64_t count, int depth)
{
    if (depth > S_HASH_MAX_DEPTH)
        return false;
    //  Every entry takes at least two bytes: a bound before allocating
    if (count > (uint64_t) (reader->end - reader->p) / 2)
        return false;
    unsigned char *head = s_room (canon, 5);
    head[0] = ZETL_RECORD_CANON_MAP;
    s_store_be32 (head + 1, (uint32_t) count);
    canon->used += 5;
    size_t body = canon->used;
    size_t first = canon->nentries;
    if (canon->entries_cap - first < count) {
        size_t cap = canon->entries_cap;
        bool on_heap = canon->entries_on_heap;
        s_grow ((void **) &canon->ranks, first, &cap, &on_heap, first + (size_t) count,
                sizeof (zetl_record_rank_t));
        s_grow ((void **) &canon->entries, first, &canon->entries_cap, &canon->entries_on_heap,
                first + (size_t) count, sizeof (zetl_record_entry_t));
    }
    canon->nentries = first + (size_t) count;
    for (size_t i = 0; i < count; i++) {
        zetl_record_entry_t entry;
        zetl_record_canon_item_t key, value;
        entry.key = canon->used;
        if (!zetl_record_canon_read (reader, &key))
            return false;
        entry.is_str = key.tag == ZETL_RECORD_CANON_STR;
        entry.prefix = 0;
        if (entry.is_str) {
            entry.text_len = (uint32_t) key.value;
            entry.prefix = zetl_record_sort_prefix (key.body, key.value, reader->end);
        }
        if (entry.is_str)
            s_canon_scalar (canon, &key);
        else if (!s_canon_item (canon, reader, &key, depth + 1))
            return false;
        entry.value = canon->used;
        if (!zetl_record_canon_read (reader, &value))
            return false;
        //  Most values are scalars: written here, without a call
        if (value.tag != ZETL_RECORD_CANON_ARRAY && value.tag != ZETL_RECORD_CANON_MAP)
            s_canon_scalar (canon, &value);
        else if (!s_canon_item (canon, reader, &value, depth + 1))
            return false;
        entry.end = canon->used;
        //  A map in the value may have moved the entries
        canon->entries[first + i] = entry;
        canon->ranks[first + i] = (zetl_record_rank_t){entry.prefix, (uint32_t) i, entry.is_str};
    }
    canon->nentries = first;
    zetl_record_entry_t *entries = canon->entries + first;
    zetl_record_rank_t *ranks = canon->ranks + first;
    for (size_t i = 0; i < count; i++)
        entries[i].base = canon->buf;
    if (!zetl_record_sort (entries, ranks, (size_t) count))
        return true;
    //  Gather the entries in order after the map, then move them back
    size_t size = canon->used - body;
    unsigned char *sorted = s_room (canon, size);
    for (size_t i = 0; i < count; i++) {
        const zetl_record_entry_t *entry = &entries[ranks[i].index];
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
s_canon_scalar (s_canon_t *canon, const zetl_record_canon_item_t *item)
{
    unsigned char *p;
    switch (item->tag) {
    case ZETL_RECORD_CANON_UINT:
    case ZETL_RECORD_CANON_NINT:
    case ZETL_RECORD_CANON_FLOAT:
        p = s_room (canon, 9);
        p[0] = item->tag;
        s_store_be64 (p + 1, item->value);
        canon->used += 9;
        break;
    case ZETL_RECORD_CANON_STR:
    case ZETL_RECORD_CANON_BIN:
        p = s_room (canon, 5 + (size_t) item->value);
        p[0] = item->tag;
        s_store_be32 (p + 1, (uint32_t) item->value);
        s_copy (p + 5, item->body, (size_t) item->value);
        canon->used += 5 + (size_t) item->value;
        break;
    case ZETL_RECORD_CANON_EXT:
        p = s_room (canon, 6 + (size_t) item->value);
        p[0] = ZETL_RECORD_CANON_EXT;
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
s_canon_item (s_canon_t *canon, zetl_record_canon_reader_t *reader,
              const zetl_record_canon_item_t *item, int depth)
{
    if (item->tag == ZETL_RECORD_CANON_MAP)
        return s_canon_map (canon, reader, item->value, depth);
    if (item->tag != ZETL_RECORD_CANON_ARRAY) {
        s_canon_scalar (canon, item);
        return true;
    }
    if (depth > S_HASH_MAX_DEPTH)
        return false;
    unsigned char *p = s_room (canon, 5);
    p[0] = ZETL_RECORD_CANON_ARRAY;
    s_store_be32 (p + 1, (uint32_t) item->value);
    canon->used += 5;
    for (uint64_t i = 0; i < item->value; i++) {
        zetl_record_canon_item_t element;
        if (!zetl_record_canon_read (reader, &element) ||
            !s_canon_item (canon, reader, &element, depth + 1))
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
    zetl_record_entry_t entries[ZETL_RECORD_SORT_ON_STACK];
    zetl_record_rank_t ranks[ZETL_RECORD_SORT_ON_STACK];
    s_canon_t canon;
    s_canon_init (&canon, buf, sizeof buf, entries, ranks, ZETL_RECORD_SORT_ON_STACK);
    zetl_record_canon_reader_t reader = {(const unsigned char *) data,
                                         (const unsigned char *) data + len};
    zetl_record_canon_item_t item;
    bool ok = zetl_record_canon_read (&reader, &item) && s_canon_item (&canon, &reader, &item, 1) &&
              reader.p == reader.end;
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
