/*  zetl_fields - a record's fields, editable in place, while a worker works on it  */
#include "zetl_fields.h"
#include "zetl_proto_walk.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

//  Allocate SIZE bytes in the zone; out of memory is fatal
static void *
s_alloc (msgpack_zone *zone, size_t size)
{
    void *memory = msgpack_zone_malloc (zone, size ? size : 1);
    if (!memory)
        abort ();
    return memory;
}

int
zetl_fields_read (zetl_fields_t *self, msgpack_zone *zone, const void *data, size_t size)
{
    zetl_walk_cursor_t cur = {(const uint8_t *) data, (const uint8_t *) data + size};
    size_t budget = ZETL_WALK_MAX_OBJECTS;
    msgpack_object record;
    self->zone = zone;
    self->count = self->room = 0;
    self->pairs = NULL;
    if (zetl_walk_object (&cur, zone, &record, 0, &budget) != NULL || zetl_walk_left (&cur) != 0
        || record.type != MSGPACK_OBJECT_MAP)
        return -1;
    //  Room for a few more fields, so that most additions do not copy the pairs
    self->room = record.via.map.size + 8;
    self->pairs = (msgpack_object_kv *) s_alloc (zone, self->room * sizeof (msgpack_object_kv));
    if (record.via.map.size)  //  An empty map has no pairs to copy, and may have no pointer
        memcpy (self->pairs, record.via.map.ptr, record.via.map.size * sizeof (msgpack_object_kv));
    self->count = record.via.map.size;
    return 0;
}

//  Index of the first pair whose key is NAME, or -1
static int64_t
s_find (const zetl_fields_t *self, const char *name, size_t len)
{
    for (uint32_t index = 0; index < self->count; index++) {
        const msgpack_object *key = &self->pairs[index].key;
        if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == len
            && memcmp (key->via.str.ptr, name, len) == 0)
            return index;
    }
    return -1;
}

msgpack_object *
zetl_fields_get (zetl_fields_t *self, const char *name, size_t len)
{
    int64_t index = s_find (self, name, len);
    return index < 0 ? NULL : &self->pairs[index].val;
}

void
zetl_fields_set (zetl_fields_t *self, const char *name, msgpack_object value)
{
    int64_t index = s_find (self, name, strlen (name));
    if (index >= 0) {
        self->pairs[index].val = value;
        return;
    }
    if (self->count == self->room) {
        uint32_t room = self->room ? self->room * 2 : 8;
        msgpack_object_kv *pairs =
            (msgpack_object_kv *) s_alloc (self->zone, room * sizeof (msgpack_object_kv));
        if (self->count)
            memcpy (pairs, self->pairs, self->count * sizeof (msgpack_object_kv));
        self->pairs = pairs;
        self->room = room;
    }
    msgpack_object_kv *pair = &self->pairs[self->count++];
    pair->key.type = MSGPACK_OBJECT_STR;
    pair->key.via.str.ptr = name;
    pair->key.via.str.size = (uint32_t) strlen (name);
    pair->val = value;
}

bool
zetl_fields_remove (zetl_fields_t *self, const char *name)
{
    size_t len = strlen (name);
    bool found = false;
    int64_t index;
    while ((index = s_find (self, name, len)) >= 0) {
        memmove (&self->pairs[index], &self->pairs[index + 1],
                 (self->count - (uint32_t) index - 1) * sizeof (msgpack_object_kv));
        self->count--;
        found = true;
    }
    return found;
}

void
zetl_fields_rename (zetl_fields_t *self, const char *from, const char *to)
{
    msgpack_object *value = zetl_fields_get (self, from, strlen (from));
    if (!value || !strcmp (from, to))
        return;
    msgpack_object moved = *value;
    zetl_fields_remove (self, from);
    zetl_fields_set (self, to, moved);
}

msgpack_object
zetl_fields_string (zetl_fields_t *self, const char *text, size_t len)
{
    char *copy = (char *) s_alloc (self->zone, len);
    if (len)
        memcpy (copy, text, len);
    msgpack_object value;
    value.type = MSGPACK_OBJECT_STR;
    value.via.str.ptr = copy;
    value.via.str.size = (uint32_t) len;
    return value;
}

msgpack_object
zetl_fields_map (const zetl_fields_t *self)
{
    msgpack_object map;
    map.type = MSGPACK_OBJECT_MAP;
    map.via.map.size = self->count;
    map.via.map.ptr = self->pairs;
    return map;
}
