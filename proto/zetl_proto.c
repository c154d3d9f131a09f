/*  zetl_proto - the zetl wire codec (API in zetl_proto.h, format in PROTOCOL.md)

    Everything a peer sends is parsed here by hand, on a bounded cursor,
    rather than with msgpack_unpack: every length a peer declares is checked
    against the bytes that remain before anything is allocated for it, nesting
    is capped, and so is the number of objects in one entry. msgpack-c's own
    unpacker allocates a declared array length up front (five hostile bytes
    ask for 96 GiB) and cannot nest deeper than 32. Payload objects are built
    into one msgpack_zone per reader, cleared for each entry; strings, bin and
    ext data point into the body frame and are never copied.
*/
#include "zetl_proto.h"

#include <string.h>

#define HEADER_FIELDS 16  //  fields a version 1 header has at least
#define MAX_DEPTH 100     //  nested arrays/maps in one payload (JSONL allows 64, + dead letter)
#define MAX_OBJECTS (1 << 21)  //  msgpack objects in one payload (array elements + map keys/values)
#define ZONE_CHUNK 16384       //  bytes in the reader's zone chunk: a usual entry fits in one
#define INDEX_AFTER 8          //  source names looked up linearly up to here, hashed above

//  A read position in a frame: nothing is read at or past END
typedef struct {
    const uint8_t *ptr;  //  next byte
    const uint8_t *end;  //  one past the last byte
} cursor_t;

//  The head of one msgpack item, as read by s_read_item
typedef struct {
    msgpack_object_type type;  //  MSGPACK_OBJECT_*
    uint64_t u64;              //  POSITIVE_INTEGER value, BOOLEAN, or ARRAY/MAP element count
    int64_t i64;               //  NEGATIVE_INTEGER value
    double f64;                //  FLOAT32/FLOAT64 value
    int8_t ext_type;           //  EXT type
    const uint8_t *data;       //  STR/BIN/EXT bytes, inside the frame
    uint32_t size;             //  STR/BIN/EXT byte count
} item_t;

struct zetl_body_writer {
    msgpack_sbuffer entries;  //  packed entries; the allocation is kept across bodies
    msgpack_packer packer;    //  packs into entries
    msgpack_sbuffer names;    //  the packed source names array, built by finish
    char **source;            //  source names, owned
    uint32_t sources;         //  names in source[]
    uint32_t capacity;        //  room in source[]
    uint32_t last;            //  index returned last: usually the next answer too
    zhashx_t *index;          //  name -> index + 1, once there are more than INDEX_AFTER names
    uint32_t count;           //  entries appended
};

struct zetl_body_reader {
    cursor_t cursor;     //  start of the next entry
    uint32_t sources;    //  source names in the body
    char **source;       //  NUL-terminated names, pointing into name_text
    char *name_text;     //  one block holding every name
    msgpack_zone zone;   //  payload objects of the current entry
    const char *failed;  //  reason of the first error: the reader stops there
};

static const char *s_type_names[] = {"UNKNOWN", "HELLO",  "WELCOME", "READY",     "BATCH",
                                     "RESULT",  "COMMIT", "ACK",     "HEARTBEAT", "WATERMARK",
                                     "SINKS",   "DRAIN",  "BYE",     "ERROR"};

//  ---------------------------------------------------------------------
//  Reading msgpack on a cursor

static inline size_t
s_left (const cursor_t *cur)
{
    return (size_t) (cur->end - cur->ptr);
}

static uint64_t
s_be (const uint8_t *p, size_t bytes)
{
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; i++)
        value = (value << 8) | p[i];
    return value;
}

//  Take BYTES bytes at the cursor into *DATA. Returns NULL, or a reason.
static const char *
s_take (cursor_t *cur, size_t bytes, const uint8_t **data)
{
    if (s_left (cur) < bytes)
        return "truncated msgpack";
    *data = cur->ptr;
    cur->ptr += bytes;
    return NULL;
}

//  Read the head of one item: a scalar whole, str/bin/ext with their bytes,
//  an array or map up to its element count. Returns NULL, or a reason.
static const char *
s_read_item (cursor_t *cur, item_t *item)
{
    const uint8_t *p;
    if (s_take (cur, 1, &p))
        return "truncated msgpack";
    uint8_t byte = *p;
    size_t width = 0;  //  bytes of the length or value that follow BYTE
    memset (item, 0, sizeof (*item));

    if (byte <= 0x7f) {
        item->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        item->u64 = byte;
        return NULL;
    }
    if (byte >= 0xe0) {
        item->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
        item->i64 = (int8_t) byte;
        return NULL;
    }
    if (byte <= 0x9f) {
        item->type = byte <= 0x8f ? MSGPACK_OBJECT_MAP : MSGPACK_OBJECT_ARRAY;
        item->u64 = byte & 0x0f;
        return NULL;
    }
    if (byte >= 0xa0 && byte <= 0xbf) {
        item->type = MSGPACK_OBJECT_STR;
        item->size = byte & 0x1f;
        return s_take (cur, item->size, &item->data);
    }
    switch (byte) {
    case 0xc0:
        item->type = MSGPACK_OBJECT_NIL;
        return NULL;
    case 0xc2:
    case 0xc3:
        item->type = MSGPACK_OBJECT_BOOLEAN;
        item->u64 = byte == 0xc3;
        return NULL;
    case 0xc4:
    case 0xc5:
    case 0xc6:
    case 0xd9:
    case 0xda:
    case 0xdb:
        item->type = byte <= 0xc6 ? MSGPACK_OBJECT_BIN : MSGPACK_OBJECT_STR;
        width = (size_t) 1 << (byte <= 0xc6 ? byte - 0xc4 : byte - 0xd9);
        if (s_take (cur, width, &p))
            return "truncated msgpack";
        item->size = (uint32_t) s_be (p, width);
        return s_take (cur, item->size, &item->data);
    case 0xc7:
    case 0xc8:
    case 0xc9:
        item->type = MSGPACK_OBJECT_EXT;
        width = (size_t) 1 << (byte - 0xc7);
        if (s_take (cur, width + 1, &p))
            return "truncated msgpack";
        item->size = (uint32_t) s_be (p, width);
        item->ext_type = (int8_t) p[width];
        return s_take (cur, item->size, &item->data);
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
        item->type = MSGPACK_OBJECT_EXT;
        item->size = (uint32_t) 1 << (byte - 0xd4);
        if (s_take (cur, 1, &p))
            return "truncated msgpack";
        item->ext_type = (int8_t) *p;
        return s_take (cur, item->size, &item->data);
    case 0xca: {
        if (s_take (cur, 4, &p))
            return "truncated msgpack";
        uint32_t bits = (uint32_t) s_be (p, 4);
        float value;
        memcpy (&value, &bits, sizeof (value));
        item->type = MSGPACK_OBJECT_FLOAT32;
        item->f64 = value;
        return NULL;
    }
    case 0xcb: {
        if (s_take (cur, 8, &p))
            return "truncated msgpack";
        uint64_t bits = s_be (p, 8);
        memcpy (&item->f64, &bits, sizeof (item->f64));
        item->type = MSGPACK_OBJECT_FLOAT64;
        return NULL;
    }
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        width = (size_t) 1 << (byte - 0xcc);
        if (s_take (cur, width, &p))
            return "truncated msgpack";
        item->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
        item->u64 = s_be (p, width);
        return NULL;
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
        width = (size_t) 1 << (byte - 0xd0);
        if (s_take (cur, width, &p))
            return "truncated msgpack";
        uint64_t raw = s_be (p, width);
        int64_t value = width == 1   ? (int8_t) raw
                        : width == 2 ? (int16_t) raw
                        : width == 4 ? (int32_t) raw
                                     : (int64_t) raw;
        //  msgpack-c's rule: a signed encoding of a value >= 0 is a positive integer
        if (value >= 0) {
            item->type = MSGPACK_OBJECT_POSITIVE_INTEGER;
            item->u64 = (uint64_t) value;
        }
        else {
            item->type = MSGPACK_OBJECT_NEGATIVE_INTEGER;
            item->i64 = value;
        }
        return NULL;
    }
    case 0xdc:
    case 0xdd:
    case 0xde:
    case 0xdf:
        width = (byte == 0xdc || byte == 0xde) ? 2 : 4;
        if (s_take (cur, width, &p))
            return "truncated msgpack";
        item->type = byte <= 0xdd ? MSGPACK_OBJECT_ARRAY : MSGPACK_OBJECT_MAP;
        item->u64 = s_be (p, width);
        return NULL;
    default:
        return "bad msgpack: byte 0xc1 is never used";
    }
}

//  Parse one whole object at CUR, nested DEPTH containers deep. With ZONE,
//  build it into *OBJ (arrays and maps allocated from ZONE, the rest pointing
//  into the frame); without, only check it. *BUDGET counts down the objects
//  the payload may still hold. Returns NULL, or a reason.
static const char *
s_parse_object (cursor_t *cur, msgpack_zone *zone, msgpack_object *obj, int depth, size_t *budget)
{
    item_t item;
    const char *reason = s_read_item (cur, &item);
    if (reason)
        return reason;
    bool is_map = item.type == MSGPACK_OBJECT_MAP;
    if (zone) {
        obj->type = item.type;
        switch (item.type) {
        case MSGPACK_OBJECT_BOOLEAN:
            obj->via.boolean = item.u64 != 0;
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            obj->via.u64 = item.u64;
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            obj->via.i64 = item.i64;
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            obj->via.f64 = item.f64;
            break;
        case MSGPACK_OBJECT_STR:
            obj->via.str.size = item.size;
            obj->via.str.ptr = (const char *) item.data;
            break;
        case MSGPACK_OBJECT_BIN:
            obj->via.bin.size = item.size;
            obj->via.bin.ptr = (const char *) item.data;
            break;
        case MSGPACK_OBJECT_EXT:
            obj->via.ext.type = item.ext_type;
            obj->via.ext.size = item.size;
            obj->via.ext.ptr = (const char *) item.data;
            break;
        case MSGPACK_OBJECT_ARRAY:
            obj->via.array.size = 0;
            obj->via.array.ptr = NULL;
            break;
        case MSGPACK_OBJECT_MAP:
            obj->via.map.size = 0;
            obj->via.map.ptr = NULL;
            break;
        default:
            break;
        }
    }
    if (item.type != MSGPACK_OBJECT_ARRAY && !is_map)
        return NULL;

    if (depth >= MAX_DEPTH)
        return "msgpack nested deeper than 100";
    //  Every element takes at least one byte: refuse a declared length the
    //  frame cannot hold before allocating anything for it
    uint64_t objects = is_map ? item.u64 * 2 : item.u64;
    if (objects > s_left (cur))
        return "truncated msgpack: a length is larger than the bytes left";
    if (objects > *budget)
        return "too many msgpack objects in one entry (limit 2097152)";
    *budget -= objects;

    uint32_t size = (uint32_t) item.u64;
    msgpack_object *elements = NULL;
    msgpack_object_kv *pairs = NULL;
    if (zone && size > 0) {
        void *block = msgpack_zone_malloc (zone, is_map ? size * sizeof (msgpack_object_kv)
                                                        : size * sizeof (msgpack_object));
        assert (block);  //  Out of memory is fatal
        if (is_map) {
            pairs = (msgpack_object_kv *) block;
            obj->via.map.ptr = pairs;
            obj->via.map.size = size;
        }
        else {
            elements = (msgpack_object *) block;
            obj->via.array.ptr = elements;
            obj->via.array.size = size;
        }
    }
    for (uint32_t i = 0; i < size; i++) {
        if (is_map) {
            reason = s_parse_object (cur, zone, pairs ? &pairs[i].key : NULL, depth + 1, budget);
            if (!reason)
                reason =
                    s_parse_object (cur, zone, pairs ? &pairs[i].val : NULL, depth + 1, budget);
        }
        else
            reason = s_parse_object (cur, zone, elements ? &elements[i] : NULL, depth + 1, budget);
        if (reason)
            return reason;
    }
    return NULL;
}

//  Read an unsigned integer no larger than MAX. Returns NULL, or WRONG when the
//  item is of another type or range, or why it could not be read.
static const char *
s_read_uint (cursor_t *cur, uint64_t max, uint64_t *value, const char *wrong)
{
    item_t item;
    const char *reason = s_read_item (cur, &item);
    if (reason)
        return reason;
    if (item.type != MSGPACK_OBJECT_POSITIVE_INTEGER || item.u64 > max)
        return wrong;
    *value = item.u64;
    return NULL;
}

static const char *
s_read_int64 (cursor_t *cur, int64_t *value, const char *wrong)
{
    item_t item;
    const char *reason = s_read_item (cur, &item);
    if (reason)
        return reason;
    if (item.type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *value = item.i64;
    else if (item.type == MSGPACK_OBJECT_POSITIVE_INTEGER && item.u64 <= INT64_MAX)
        *value = (int64_t) item.u64;
    else
        return wrong;
    return NULL;
}

//  Return the length of the UTF-8 character at P (LEFT bytes there), or 0 if
//  it is malformed (overlong, a surrogate, past U+10FFFF, cut short) or NUL.
static size_t
s_utf8_char (const uint8_t *p, size_t left)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return c != 0;
    size_t length;
    uint32_t point, least;
    if (c >= 0xc2 && c <= 0xdf) {
        length = 2;
        point = c & 0x1f;
        least = 0x80;
    }
    else if ((c & 0xf0) == 0xe0) {
        length = 3;
        point = c & 0x0f;
        least = 0x800;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        length = 4;
        point = c & 0x07;
        least = 0x10000;
    }
    else
        return 0;
    if (left < length)
        return 0;
    for (size_t i = 1; i < length; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        point = (point << 6) | (p[i] & 0x3f);
    }
    if (point < least || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff))
        return 0;
    return length;
}

static bool
s_utf8_valid (const uint8_t *p, size_t size)
{
    size_t offset = 0;
    while (offset < size) {
        size_t length = s_utf8_char (p + offset, size - offset);
        if (length == 0)
            return false;
        offset += length;
    }
    return true;
}

//  Read a string for a C string: str of at most MAX_STRING bytes of UTF-8
//  without NUL, or nil (when NIL_OK). Sets *DATA/*SIZE (DATA NULL for nil).
static const char *
s_read_text (cursor_t *cur, bool nil_ok, const uint8_t **data, size_t *size, const char *wrong,
             const char *too_long, const char *not_utf8)
{
    item_t item;
    const char *reason = s_read_item (cur, &item);
    if (reason)
        return reason;
    *data = NULL;
    *size = 0;
    if (item.type == MSGPACK_OBJECT_NIL && nil_ok)
        return NULL;
    if (item.type != MSGPACK_OBJECT_STR)
        return wrong;
    if (item.size > ZETL_PROTO_MAX_STRING)
        return too_long;
    if (!s_utf8_valid (item.data, item.size))
        return not_utf8;
    *data = item.data;
    *size = item.size;
    return NULL;
}

static char *
s_strndup (const uint8_t *data, size_t size)
{
    char *copy = (char *) zmalloc (size + 1);
    if (size)
        memcpy (copy, data, size);
    copy[size] = 0;
    return copy;
}

//  ---------------------------------------------------------------------
//  Bodies of BATCH and RESULT

//  Check the source names array at CUR; set *SOURCES to their number and,
//  with TEXT_BYTES, the bytes needed to hold them all NUL-terminated.
static const char *
s_parse_names (cursor_t *cur, uint32_t *sources, size_t *text_bytes)
{
    item_t item;
    if (s_read_item (cur, &item) || item.type != MSGPACK_OBJECT_ARRAY)
        return "body does not start with an array of source names";
    if (item.u64 > s_left (cur))
        return "truncated msgpack: a length is larger than the bytes left";
    size_t total = 0;
    for (uint64_t i = 0; i < item.u64; i++) {
        const uint8_t *data;
        size_t size;
        const char *reason =
            s_read_text (cur, false, &data, &size, "body source name is not a string",
                         "body source name longer than 1024 bytes",
                         "body source name is not UTF-8 text without NUL bytes");
        if (reason)
            return reason;
        total += size + 1;
    }
    *sources = (uint32_t) item.u64;
    if (text_bytes)
        *text_bytes = total;
    return NULL;
}

//  Parse one entry at CUR into *ENTRY. With ZONE, build the payload there;
//  without, ENTRY may be NULL and the entry is only checked.
static const char *
s_parse_entry (cursor_t *cur, uint32_t sources, zetl_entry_t *entry, msgpack_zone *zone)
{
    zetl_entry_t scratch;
    if (!entry)
        entry = &scratch;
    item_t item;
    const char *reason = s_read_item (cur, &item);
    if (reason)
        return reason;
    if (item.type != MSGPACK_OBJECT_ARRAY || item.u64 != 6)
        return "entry is not an array of 6";

    uint64_t value;
    if ((reason = s_read_uint (cur, UINT32_MAX, &value, "entry source is not a uint32")))
        return reason;
    if (value >= sources)
        return "entry source index out of range";
    entry->source = (uint32_t) value;
    if ((reason =
             s_read_uint (cur, UINT64_MAX, &entry->position, "entry position is not a uint64")))
        return reason;
    if ((reason = s_read_int64 (cur, &entry->event_us, "entry event_us is not an int64")))
        return reason;
    if ((reason = s_read_uint (cur, UINT32_MAX, &value, "entry flags is not a uint32")))
        return reason;
    entry->flags = (uint32_t) value;

    if ((reason = s_read_item (cur, &item)))
        return reason;
    if (item.type == MSGPACK_OBJECT_NIL)
        entry->has_hash = false;
    else if (item.type == MSGPACK_OBJECT_BIN && item.size == 16) {
        entry->has_hash = true;
        memcpy (entry->hash, item.data, 16);
    }
    else
        return "entry hash is neither 16 bytes of bin nor nil";

    size_t budget = MAX_OBJECTS;
    return s_parse_object (cur, zone, zone ? &entry->payload : NULL, 0, &budget);
}

//  Check that BODY holds a names array and exactly COUNT entries, nothing more
static const char *
s_check_body (zframe_t *body, uint32_t count)
{
    cursor_t cur = {zframe_data (body), zframe_data (body) + zframe_size (body)};
    uint32_t sources;
    const char *reason = s_parse_names (&cur, &sources, NULL);
    if (reason)
        return reason;
    for (uint32_t i = 0; i < count; i++) {
        if (s_left (&cur) == 0)
            return "record count does not match the body: fewer entries than count";
        if ((reason = s_parse_entry (&cur, sources, NULL, NULL)))
            return reason;
    }
    if (s_left (&cur) == 0)
        return NULL;
    if (s_parse_entry (&cur, sources, NULL, NULL) == NULL)
        return "record count does not match the body: more entries than count";
    return "trailing bytes after the last entry";
}

zetl_body_writer_t *
zetl_body_writer_new (void)
{
    zetl_body_writer_t *self = (zetl_body_writer_t *) zmalloc (sizeof (zetl_body_writer_t));
    msgpack_sbuffer_init (&self->entries);
    msgpack_sbuffer_init (&self->names);
    msgpack_packer_init (&self->packer, &self->entries, msgpack_sbuffer_write);
    return self;
}

static void
s_writer_forget_names (zetl_body_writer_t *self)
{
    for (uint32_t i = 0; i < self->sources; i++)
        free (self->source[i]);
    self->sources = 0;
    self->last = 0;
    if (self->index)
        zhashx_purge (self->index);
}

void
zetl_body_writer_destroy (zetl_body_writer_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_body_writer_t *self = *self_p;
        s_writer_forget_names (self);
        free (self->source);
        zhashx_destroy (&self->index);
        msgpack_sbuffer_destroy (&self->entries);
        msgpack_sbuffer_destroy (&self->names);
        free (self);
        *self_p = NULL;
    }
}

uint32_t
zetl_body_writer_source (zetl_body_writer_t *self, const char *name)
{
    assert (self);
    assert (name);
    //  Entries mostly come in runs from one source
    if (self->sources > 0 && streq (self->source[self->last], name))
        return self->last;
    if (self->index) {
        void *found = zhashx_lookup (self->index, name);
        if (found)
            return self->last = (uint32_t) ((uintptr_t) found - 1);
    }
    else {
        for (uint32_t i = 0; i < self->sources; i++)
            if (streq (self->source[i], name))
                return self->last = i;
    }
    //  A new source. Its name must be one a reader accepts
    assert (strlen (name) <= ZETL_PROTO_MAX_STRING);
    assert (self->sources < UINT32_MAX);
    if (self->sources == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 8;
        self->source = (char **) realloc (self->source, self->capacity * sizeof (char *));
        assert (self->source);
    }
    uint32_t index = self->sources++;
    self->source[index] = strdup (name);
    assert (self->source[index]);
    //  The index, once made, is kept (purged) for the bodies that follow
    if (!self->index && self->sources > INDEX_AFTER) {
        self->index = zhashx_new ();
        for (uint32_t i = 0; i < index; i++)
            zhashx_insert (self->index, self->source[i], (void *) (uintptr_t) (i + 1));
    }
    if (self->index)
        zhashx_insert (self->index, name, (void *) (uintptr_t) (index + 1));
    return self->last = index;
}

void
zetl_body_writer_append (zetl_body_writer_t *self, uint32_t source, uint64_t position,
                         int64_t event_us, uint32_t flags, const uint8_t *hash, const void *payload,
                         size_t payload_len)
{
    assert (self);
    assert (source < self->sources);
    assert (self->count < UINT32_MAX);
    assert (payload || payload_len == 0);
    msgpack_packer *pk = &self->packer;
    msgpack_pack_array (pk, 6);
    msgpack_pack_uint32 (pk, source);
    msgpack_pack_uint64 (pk, position);
    msgpack_pack_int64 (pk, event_us);
    msgpack_pack_uint32 (pk, flags);
    if (hash) {
        msgpack_pack_bin (pk, 16);
        msgpack_pack_bin_body (pk, hash, 16);
    }
    else
        msgpack_pack_nil (pk);
    //  The payload is packed msgpack already: append its bytes as they are
    if (payload_len)
        msgpack_sbuffer_write (&self->entries, (const char *) payload, payload_len);
    else
        msgpack_pack_nil (pk);
    self->count++;
}

uint32_t
zetl_body_writer_count (const zetl_body_writer_t *self)
{
    assert (self);
    return self->count;
}

size_t
zetl_body_writer_size (const zetl_body_writer_t *self)
{
    assert (self);
    return self->entries.size;
}

zframe_t *
zetl_body_writer_finish (zetl_body_writer_t *self)
{
    assert (self);
    msgpack_packer names;
    self->names.size = 0;
    msgpack_packer_init (&names, &self->names, msgpack_sbuffer_write);
    msgpack_pack_array (&names, self->sources);
    for (uint32_t i = 0; i < self->sources; i++) {
        size_t length = strlen (self->source[i]);
        msgpack_pack_str (&names, length);
        msgpack_pack_str_body (&names, self->source[i], length);
    }
    zframe_t *frame = zframe_new (NULL, self->names.size + self->entries.size);
    assert (frame);
    memcpy (zframe_data (frame), self->names.data, self->names.size);
    if (self->entries.size)
        memcpy (zframe_data (frame) + self->names.size, self->entries.data, self->entries.size);

    //  Ready for the next body; the buffers keep their allocations
    self->entries.size = 0;
    self->count = 0;
    s_writer_forget_names (self);
    return frame;
}

zetl_body_reader_t *
zetl_body_reader_new (zframe_t *body, const char **reason)
{
    assert (body);
    assert (reason);
    cursor_t cur = {zframe_data (body), zframe_data (body) + zframe_size (body)};
    uint32_t sources;
    size_t text_bytes;
    *reason = s_parse_names (&cur, &sources, &text_bytes);
    if (*reason)
        return NULL;

    zetl_body_reader_t *self = (zetl_body_reader_t *) zmalloc (sizeof (zetl_body_reader_t));
    self->sources = sources;
    self->cursor = cur;
    if (sources) {
        self->source = (char **) zmalloc (sources * sizeof (char *));
        self->name_text = (char *) zmalloc (text_bytes);
        //  The names were checked above: read them again, into place
        cursor_t names = {zframe_data (body), cur.ptr};
        item_t item;
        s_read_item (&names, &item);
        char *text = self->name_text;
        for (uint32_t i = 0; i < sources; i++) {
            s_read_item (&names, &item);
            self->source[i] = text;
            if (item.size)
                memcpy (text, item.data, item.size);
            text[item.size] = 0;
            text += item.size + 1;
        }
    }
    bool zone_ready = msgpack_zone_init (&self->zone, ZONE_CHUNK);
    assert (zone_ready);  //  Out of memory is fatal
    return self;
}

void
zetl_body_reader_destroy (zetl_body_reader_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_body_reader_t *self = *self_p;
        msgpack_zone_destroy (&self->zone);
        free (self->source);
        free (self->name_text);
        free (self);
        *self_p = NULL;
    }
}

uint32_t
zetl_body_reader_sources (const zetl_body_reader_t *self)
{
    assert (self);
    return self->sources;
}

const char *
zetl_body_reader_source_name (const zetl_body_reader_t *self, uint32_t index)
{
    assert (self);
    assert (index < self->sources);
    return self->source[index];
}

int
zetl_body_reader_next (zetl_body_reader_t *self, zetl_entry_t *entry, const char **reason)
{
    assert (self);
    assert (entry);
    assert (reason);
    *reason = self->failed;
    if (self->failed)
        return -1;
    if (s_left (&self->cursor) == 0)
        return 0;
    //  The previous entry's payload dies here; its chunk is kept for this one
    msgpack_zone_clear (&self->zone);
    cursor_t cur = self->cursor;
    *reason = s_parse_entry (&cur, self->sources, entry, &self->zone);
    if (*reason) {
        self->failed = *reason;
        return -1;
    }
    self->cursor = cur;
    return 1;
}

//  ---------------------------------------------------------------------
//  Messages

zetl_msg_t *
zetl_msg_new (zetl_msg_type_t type)
{
    assert (type >= ZETL_MSG_HELLO && type <= ZETL_MSG_TYPE_MAX);
    zetl_msg_t *self = (zetl_msg_t *) zmalloc (sizeof (zetl_msg_t));
    self->version = ZETL_PROTO_VERSION;
    self->type = (uint8_t) type;
    self->watermark_us = INT64_MIN;
    return self;
}

void
zetl_msg_destroy (zetl_msg_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_msg_t *self = *self_p;
        free (self->sink);
        free (self->name);
        free (self->endpoint);
        free (self->text);
        zframe_destroy (&self->body);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_msg_set_str (char **field, const char *value)
{
    assert (field);
    char *copy = NULL;  //  Copied first: VALUE may be *FIELD itself
    if (value) {
        copy = strdup (value);
        assert (copy);
    }
    free (*field);
    *field = copy;
}

void
zetl_msg_set_body (zetl_msg_t *self, zframe_t **body_p)
{
    assert (self);
    assert (body_p);
    zframe_destroy (&self->body);
    self->body = *body_p;
    *body_p = NULL;
}

const char *
zetl_msg_type_name (int type)
{
    if (type < ZETL_MSG_HELLO || type > ZETL_MSG_TYPE_MAX)
        return "UNKNOWN";
    return s_type_names[type];
}

//  Fixed-size output for the header packer
typedef struct {
    uint8_t *data;  //  ZETL_PROTO_MAX_HEADER bytes
    size_t size;    //  bytes written
} header_buffer_t;

static int
s_header_write (void *data, const char *buf, size_t len)
{
    header_buffer_t *out = (header_buffer_t *) data;
    if (len > ZETL_PROTO_MAX_HEADER - out->size)
        return -1;
    memcpy (out->data + out->size, buf, len);
    out->size += len;
    return 0;
}

static void
s_pack_string (msgpack_packer *pk, const char *value)
{
    if (value) {
        size_t length = strlen (value);
        assert (length <= ZETL_PROTO_MAX_STRING);  //  Names and endpoints come checked from config
        msgpack_pack_str (pk, length);
        msgpack_pack_str_body (pk, value, length);
    }
    else
        msgpack_pack_nil (pk);
}

//  Pack SELF's header into DATA (ZETL_PROTO_MAX_HEADER bytes); return its size.
//  Fields are packed as they are, so tests can play a peer that gets it wrong.
static size_t
s_encode_header (const zetl_msg_t *self, uint8_t *data)
{
    assert (self);
    header_buffer_t out = {data, 0};
    msgpack_packer pk;
    msgpack_packer_init (&pk, &out, s_header_write);
    msgpack_pack_array (&pk, HEADER_FIELDS);
    msgpack_pack_uint8 (&pk, self->version);
    msgpack_pack_uint8 (&pk, self->type);
    msgpack_pack_uint64 (&pk, self->config_hash);
    msgpack_pack_uint32 (&pk, self->epoch);
    msgpack_pack_uint64 (&pk, self->batch_id);
    msgpack_pack_uint32 (&pk, self->pipeline);
    msgpack_pack_uint32 (&pk, self->partition);
    msgpack_pack_uint32 (&pk, self->count);
    msgpack_pack_int64 (&pk, self->watermark_us);
    msgpack_pack_uint32 (&pk, self->attempt);
    msgpack_pack_uint32 (&pk, self->credit);
    msgpack_pack_uint32 (&pk, self->code);
    s_pack_string (&pk, self->sink);
    s_pack_string (&pk, self->name);
    s_pack_string (&pk, self->endpoint);
    if (self->text) {
        //  ERROR text is free-form and may quote bad input: cut it to what the
        //  header has room for and replace bytes that are not UTF-8 with '?',
        //  so the reply always decodes. The fields above take at most 3192 bytes.
        size_t room = ZETL_PROTO_MAX_HEADER - out.size - 3;
        if (room > ZETL_PROTO_MAX_STRING)
            room = ZETL_PROTO_MAX_STRING;
        char text[ZETL_PROTO_MAX_STRING];
        size_t length = 0;
        const uint8_t *p = (const uint8_t *) self->text;
        size_t left = strlen (self->text);
        while (left > 0) {
            size_t char_length = s_utf8_char (p, left);
            size_t take = char_length ? char_length : 1;
            if (length + take > room)
                break;
            if (char_length)
                memcpy (text + length, p, char_length);
            else
                text[length] = '?';
            length += take;
            p += take;
            left -= take;
        }
        msgpack_pack_str (&pk, length);
        msgpack_pack_str_body (&pk, text, length);
    }
    else
        msgpack_pack_nil (&pk);
    assert (out.size <= ZETL_PROTO_MAX_HEADER && out.size > HEADER_FIELDS);
    return out.size;
}

//  Decode header DATA (SIZE bytes) into SELF. Returns NULL, or a reason.
static const char *
s_decode_header (zetl_msg_t *self, const uint8_t *data, size_t size)
{
    cursor_t cur = {data, data + size};
    item_t item;
    const char *reason = s_read_item (&cur, &item);
    if (reason)
        return size == 0 ? "short frame: header frame is empty" : "bad msgpack in header";
    if (item.type != MSGPACK_OBJECT_ARRAY)
        return "short frame: header is not a msgpack array";
    uint64_t fields = item.u64;
    if (fields == 0)
        return "short frame: header has fewer than 16 fields";

    //  The version comes first and alone: a later version may change the rest
    uint64_t value;
    if ((reason = s_read_uint (&cur, UINT64_MAX, &value, "header version is not an integer")))
        return reason;
    if (value != ZETL_PROTO_VERSION)
        return "unknown protocol version";
    self->version = (uint8_t) value;
    if (fields < HEADER_FIELDS)
        return "short frame: header has fewer than 16 fields";
    if ((reason = s_read_uint (&cur, UINT64_MAX, &value, "header type is not an integer")))
        return reason;
    if (value < ZETL_MSG_HELLO || value > ZETL_MSG_TYPE_MAX)
        return "unknown message type";
    self->type = (uint8_t) value;

    if ((reason = s_read_uint (&cur, UINT64_MAX, &self->config_hash,
                               "header config_hash is not a uint64")))
        return reason;
    if ((reason = s_read_uint (&cur, UINT32_MAX, &value, "header epoch is not a uint32")))
        return reason;
    self->epoch = (uint32_t) value;
    if ((reason =
             s_read_uint (&cur, UINT64_MAX, &self->batch_id, "header batch_id is not a uint64")))
        return reason;
    uint32_t *u32_fields[] = {&self->pipeline, &self->partition, &self->count};
    const char *u32_wrong[] = {"header pipeline is not a uint32",
                               "header partition is not a uint32", "header count is not a uint32"};
    for (size_t i = 0; i < 3; i++) {
        if ((reason = s_read_uint (&cur, UINT32_MAX, &value, u32_wrong[i])))
            return reason;
        *u32_fields[i] = (uint32_t) value;
    }
    if ((reason = s_read_int64 (&cur, &self->watermark_us, "header watermark_us is not an int64")))
        return reason;
    uint32_t *more_fields[] = {&self->attempt, &self->credit, &self->code};
    const char *more_wrong[] = {"header attempt is not a uint32", "header credit is not a uint32",
                                "header code is not a uint32"};
    for (size_t i = 0; i < 3; i++) {
        if ((reason = s_read_uint (&cur, UINT32_MAX, &value, more_wrong[i])))
            return reason;
        *more_fields[i] = (uint32_t) value;
    }
    char **strings[] = {&self->sink, &self->name, &self->endpoint, &self->text};
    const char *string_wrong[] = {
        "header sink is not a string or nil", "header name is not a string or nil",
        "header endpoint is not a string or nil", "header text is not a string or nil"};
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *text;
        size_t length;
        if ((reason = s_read_text (&cur, true, &text, &length, string_wrong[i],
                                   "header string longer than 1024 bytes",
                                   "header string is not UTF-8 text without NUL bytes")))
            return reason;
        if (text)
            *strings[i] = s_strndup (text, length);
    }
    //  Fields a later revision of this version added: skipped, still checked
    for (uint64_t i = HEADER_FIELDS; i < fields; i++) {
        size_t budget = MAX_OBJECTS;
        if ((reason = s_parse_object (&cur, NULL, NULL, 1, &budget)))
            return reason;
    }
    if (s_left (&cur) != 0)
        return "trailing bytes after the header array";
    return NULL;
}

zmsg_t *
zetl_msg_encode (const zetl_msg_t *self)
{
    assert (self);
    uint8_t header[ZETL_PROTO_MAX_HEADER];
    size_t size = s_encode_header (self, header);
    zmsg_t *zmsg = zmsg_new ();
    assert (zmsg);
    zmsg_addmem (zmsg, header, size);
    if (self->body) {
        zframe_t *body = zframe_dup (self->body);
        zmsg_append (zmsg, &body);
    }
    return zmsg;
}

zetl_msg_t *
zetl_msg_decode (zmsg_t **zmsg_p, const char **reason)
{
    assert (zmsg_p);
    assert (*zmsg_p);
    assert (reason);
    zmsg_t *zmsg = *zmsg_p;
    zetl_msg_t *self = NULL;
    zframe_t *header = zmsg_first (zmsg);
    zframe_t *body = zmsg_next (zmsg);
    *reason = NULL;

    if (!header) {
        *reason = "short frame: no header frame";
        goto cleanup;
    }
    if (zmsg_size (zmsg) > 2) {
        *reason = "too many frames: a message is a header and at most one body";
        goto cleanup;
    }
    if (zframe_size (header) > ZETL_PROTO_MAX_HEADER) {
        *reason = "oversized frame: header larger than 4096 bytes";
        goto cleanup;
    }
    if (body && zframe_size (body) > ZETL_PROTO_MAX_BODY) {
        *reason = "oversized frame: body larger than 256 MiB";
        goto cleanup;
    }
    self = (zetl_msg_t *) zmalloc (sizeof (zetl_msg_t));
    *reason = s_decode_header (self, zframe_data (header), zframe_size (header));
    if (*reason)
        goto cleanup;
    if (self->type == ZETL_MSG_BATCH || self->type == ZETL_MSG_RESULT) {
        if (body)
            *reason = s_check_body (body, self->count);
        else if (self->count > 0)
            *reason = "record count does not match the body: BATCH or RESULT without a body";
        if (*reason)
            goto cleanup;
    }
    if (body) {
        zmsg_remove (zmsg, body);
        self->body = body;
    }
cleanup:
    if (*reason)
        zetl_msg_destroy (&self);
    zmsg_destroy (zmsg_p);
    return self;
}

//  Send SELF, after ROUTING_ID if not NULL, without blocking
static int
s_send (const zetl_msg_t *self, zsock_t *sock, zframe_t *routing_id)
{
    assert (self);
    assert (sock);
    void *handle = zsock_resolve (sock);
    assert (handle);
    uint8_t header[ZETL_PROTO_MAX_HEADER];
    size_t size = s_encode_header (self, header);

    //  Only the first frame can be refused (EAGAIN, EHOSTUNREACH): once it is
    //  accepted, libzmq takes the other frames of the message too
    if (routing_id && zmq_send (handle, zframe_data (routing_id), zframe_size (routing_id),
                                ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
        return -1;
    if (zmq_send (handle, header, size, (self->body ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT) == -1)
        return -1;
    if (self->body) {
        //  ZFRAME_REUSE sends a reference to the body's bytes: no copy, and
        //  SELF keeps its frame
        zframe_t *body = self->body;
        if (zframe_send (&body, sock, ZFRAME_REUSE | ZFRAME_DONTWAIT) == -1)
            return -1;
    }
    return 0;
}

int
zetl_msg_send (const zetl_msg_t *self, zsock_t *sock)
{
    return s_send (self, sock, NULL);
}

int
zetl_msg_send_router (const zetl_msg_t *self, zsock_t *sock, zframe_t *routing_id)
{
    assert (routing_id);
    return s_send (self, sock, routing_id);
}

//  Receive every frame of one message, keeping the first KEEP: a peer that
//  sends thousands of frames costs us no more than a few. NULL if interrupted.
static zmsg_t *
s_recv_frames (zsock_t *sock, size_t keep)
{
    assert (sock);
    zmsg_t *zmsg = zmsg_new ();
    assert (zmsg);
    while (true) {
        zframe_t *frame = zframe_recv (sock);
        if (!frame) {
            zmsg_destroy (&zmsg);
            return NULL;
        }
        bool more = zframe_more (frame) != 0;
        if (zmsg_size (zmsg) < keep)
            zmsg_append (zmsg, &frame);
        else
            zframe_destroy (&frame);
        if (!more)
            return zmsg;
    }
}

zetl_msg_t *
zetl_msg_recv (zsock_t *sock, const char **reason)
{
    assert (reason);
    *reason = NULL;
    zmsg_t *zmsg = s_recv_frames (sock, 3);  //  A third frame is enough to say "too many"
    if (!zmsg)
        return NULL;
    return zetl_msg_decode (&zmsg, reason);
}

zetl_msg_t *
zetl_msg_recv_router (zsock_t *sock, zframe_t **routing_id_p, const char **reason)
{
    assert (routing_id_p);
    assert (reason);
    *reason = NULL;
    *routing_id_p = NULL;
    zmsg_t *zmsg = s_recv_frames (sock, 4);
    if (!zmsg)
        return NULL;
    *routing_id_p = zmsg_pop (zmsg);
    return zetl_msg_decode (&zmsg, reason);
}
