/*  zetl_proto_body - bodies of BATCH and RESULT (API in zetl_proto.h, format in PROTOCOL.md)

    The writer packs entries into one growing buffer and prepends the source
    names at finish. The reader parses with the bounded walker
    (zetl_proto_walk.h); payload objects are built into one msgpack_zone per
    reader, cleared for each entry, and point into the body frame, or not
    built at all (zetl_body_reader_next_packed). zetl_body_check and a
    counted reader run the same entry parser and say the same things: the
    counted reader is how BATCH and RESULT bodies are checked, and
    zetl_body_check is the same check in one call, for tests to hold the
    reader to.
*/
#include "zetl_proto_body.h"
#include "zetl_proto.h"
#include "zetl_proto_walk.h"

#include <string.h>

#define ZONE_CHUNK 16384  //  bytes in the reader's zone chunk: a usual entry fits in one
#define INDEX_AFTER 8     //  source names looked up linearly up to here, hashed above

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
    zetl_walk_cursor_t cursor;  //  start of the next entry
    uint32_t sources;           //  source names in the body
    char **source;              //  NUL-terminated names, pointing into name_text
    char *name_text;            //  one block holding every name
    msgpack_zone zone;          //  payload objects of the current entry
    bool zone_ready;            //  zone initialised: on the first payload built
    bool counted;               //  held to count entries (zetl_msg_body_reader)
    uint32_t count;             //  entries the header says, when counted
    uint32_t read;              //  entries read so far
    const char *failed;         //  reason of the first error: the reader stops there
};

//  Check the source names array at CUR; set *SOURCES to their number and,
//  with TEXT_BYTES, the bytes needed to hold them all NUL-terminated.
static const char *
s_parse_names (zetl_walk_cursor_t *cur, uint32_t *sources, size_t *text_bytes)
{
    zetl_walk_item_t item;
    if (zetl_walk_item (cur, &item) || item.type != MSGPACK_OBJECT_ARRAY)
        return "body does not start with an array of source names";
    if (item.u64 > zetl_walk_left (cur))
        return "truncated msgpack: a length is larger than the bytes left";
    size_t total = 0;
    for (uint64_t i = 0; i < item.u64; i++) {
        const uint8_t *data;
        size_t size;
        const char *reason =
            zetl_walk_text (cur, false, &data, &size, "body source name is not a string",
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
//  without, the payload is only checked, and is nil in ENTRY.
static const char *
s_parse_entry (zetl_walk_cursor_t *cur, uint32_t sources, zetl_entry_t *entry, msgpack_zone *zone)
{
    zetl_walk_item_t item;
    const char *reason;
    //  fixarray 6: what every writer sends
    if (zetl_walk_left (cur) && *cur->ptr == 0x96)
        cur->ptr++;
    else {
        if ((reason = zetl_walk_item (cur, &item)))
            return reason;
        if (item.type != MSGPACK_OBJECT_ARRAY || item.u64 != 6)
            return "entry is not an array of 6";
    }

    uint64_t value;
    if ((reason = zetl_walk_uint (cur, UINT32_MAX, &value, "entry source is not a uint32")))
        return reason;
    if (value >= sources)
        return "entry source index out of range";
    entry->source = (uint32_t) value;
    if ((reason =
             zetl_walk_uint (cur, UINT64_MAX, &entry->position, "entry position is not a uint64")))
        return reason;
    if ((reason = zetl_walk_int64 (cur, &entry->event_us, "entry event_us is not an int64")))
        return reason;
    if ((reason = zetl_walk_uint (cur, UINT32_MAX, &value, "entry flags is not a uint32")))
        return reason;
    entry->flags = (uint32_t) value;

    //  bin 8 of 16 bytes: what every writer sends
    if (zetl_walk_left (cur) >= 18 && cur->ptr[0] == 0xc4 && cur->ptr[1] == 16) {
        entry->has_hash = true;
        memcpy (entry->hash, cur->ptr + 2, 16);
        cur->ptr += 18;
    }
    else if ((reason = zetl_walk_item (cur, &item)))
        return reason;
    else if (item.type == MSGPACK_OBJECT_NIL)
        entry->has_hash = false;
    else if (item.type == MSGPACK_OBJECT_BIN && item.size == 16) {
        entry->has_hash = true;
        memcpy (entry->hash, item.data, 16);
    }
    else
        return "entry hash is neither 16 bytes of bin nor nil";

    size_t budget = ZETL_WALK_MAX_OBJECTS;
    entry->packed = cur->ptr;
    if (zone)
        reason = zetl_walk_object (cur, zone, &entry->payload, 0, &budget);
    else {
        reason = zetl_walk_skip (cur, 0, &budget);
        entry->payload.type = MSGPACK_OBJECT_NIL;
    }
    entry->packed_size = (size_t) (cur->ptr - entry->packed);
    return reason;
}

//  The reader's zone, emptied for a new entry's payload
static msgpack_zone *
s_reader_zone (zetl_body_reader_t *self)
{
    if (!self->zone_ready) {
        bool zone_ready = msgpack_zone_init (&self->zone, ZONE_CHUNK);
        assert (zone_ready);  //  Out of memory is fatal
        self->zone_ready = true;
    }
    else  //  The previous entry's payload dies here; its chunk is kept for this one
        msgpack_zone_clear (&self->zone);
    return &self->zone;
}

//  Read the next entry of SELF into *ENTRY, its payload built when BUILD.
//  Returns 1, 0 at the end, or -1 with *REASON set; an error sticks.
static int
s_reader_next (zetl_body_reader_t *self, zetl_entry_t *entry, bool build, const char **reason)
{
    *reason = self->failed;
    if (self->failed)
        return -1;
    bool at_end = zetl_walk_left (&self->cursor) == 0;
    if (self->counted && (at_end || self->read == self->count)) {
        //  The ends of zetl_body_check, in its words
        if (at_end && self->read == self->count)
            return 0;
        zetl_entry_t extra;
        *reason = at_end ? "record count does not match the body: fewer entries than count"
                  : s_parse_entry (&self->cursor, self->sources, &extra, NULL) == NULL
                      ? "record count does not match the body: more entries than count"
                      : "trailing bytes after the last entry";
        self->failed = *reason;
        return -1;
    }
    if (at_end)
        return 0;
    msgpack_zone *zone = build ? s_reader_zone (self) : NULL;
    zetl_walk_cursor_t cur = self->cursor;
    *reason = s_parse_entry (&cur, self->sources, entry, zone);
    if (*reason) {
        self->failed = *reason;
        return -1;
    }
    self->cursor = cur;
    self->read++;
    return 1;
}

const char *
zetl_body_check (zframe_t *body, uint32_t count)
{
    zetl_walk_cursor_t cur = {zframe_data (body), zframe_data (body) + zframe_size (body)};
    uint32_t sources;
    const char *reason = s_parse_names (&cur, &sources, NULL);
    if (reason)
        return reason;
    zetl_entry_t entry;
    for (uint32_t i = 0; i < count; i++) {
        if (zetl_walk_left (&cur) == 0)
            return "record count does not match the body: fewer entries than count";
        if ((reason = s_parse_entry (&cur, sources, &entry, NULL)))
            return reason;
    }
    if (zetl_walk_left (&cur) == 0)
        return NULL;
    if (s_parse_entry (&cur, sources, &entry, NULL) == NULL)
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
    zetl_walk_cursor_t cur = {zframe_data (body), zframe_data (body) + zframe_size (body)};
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
        zetl_walk_cursor_t names = {zframe_data (body), cur.ptr};
        zetl_walk_item_t item;
        zetl_walk_item (&names, &item);
        char *text = self->name_text;
        for (uint32_t i = 0; i < sources; i++) {
            zetl_walk_item (&names, &item);
            self->source[i] = text;
            if (item.size)
                memcpy (text, item.data, item.size);
            text[item.size] = 0;
            text += item.size + 1;
        }
    }
    return self;
}

zetl_body_reader_t *
zetl_msg_body_reader (const zetl_msg_t *msg, const char **reason)
{
    assert (msg);
    assert (reason);
    assert (msg->type == ZETL_MSG_BATCH || msg->type == ZETL_MSG_RESULT);
    zetl_body_reader_t *self;
    if (msg->body)
        self = zetl_body_reader_new (msg->body, reason);
    else {
        //  No body: no names and no entries, as count 0 allows
        *reason = NULL;
        self = (zetl_body_reader_t *) zmalloc (sizeof (zetl_body_reader_t));
    }
    if (self) {
        self->counted = true;
        self->count = msg->count;
    }
    return self;
}

void
zetl_body_reader_destroy (zetl_body_reader_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_body_reader_t *self = *self_p;
        if (self->zone_ready)
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
    return s_reader_next (self, entry, true, reason);
}

int
zetl_body_reader_next_packed (zetl_body_reader_t *self, zetl_entry_t *entry, const char **reason)
{
    assert (self);
    assert (entry);
    assert (reason);
    return s_reader_next (self, entry, false, reason);
}

void
zetl_body_reader_build_payload (zetl_body_reader_t *self, zetl_entry_t *entry)
{
    assert (self);
    assert (entry);
    assert (entry->packed);
    zetl_walk_cursor_t cur = {entry->packed, entry->packed + entry->packed_size};
    size_t budget = ZETL_WALK_MAX_OBJECTS;
    const char *reason = zetl_walk_object (&cur, s_reader_zone (self), &entry->payload, 0, &budget);
    //  The reader checked these very bytes, with these very limits
    assert (reason == NULL && zetl_walk_left (&cur) == 0);
    (void) reason;
}
