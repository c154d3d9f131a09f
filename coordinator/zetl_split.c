/*  zetl_split - a batch that failed for its data, taken apart until the bad record stands alone  */
#include "zetl_split.h"
#include "zetl_dead.h"
#include "zetl_proto.h"

//  Copy ENTRY (read by READER) into WRITER
static void
s_copy (zetl_body_writer_t *writer, zetl_body_reader_t *reader, const zetl_entry_t *entry)
{
    uint32_t source =
        zetl_body_writer_source (writer, zetl_body_reader_source_name (reader, entry->source));
    zetl_body_writer_append (writer, source, entry->position, entry->event_us, entry->flags,
                             entry->has_hash ? entry->hash : NULL, entry->packed,
                             entry->packed_size);
}

int
zetl_split_body (zframe_t *body, uint32_t count, zframe_t **left, zframe_t **right)
{
    const char *reason = NULL;
    zetl_body_reader_t *reader = zetl_body_reader_new (body, &reason);
    if (!reader)
        return -1;
    zetl_body_writer_t *halves[2] = {zetl_body_writer_new (), zetl_body_writer_new ()};
    zetl_entry_t entry;
    uint32_t index = 0;
    int rc;
    while ((rc = zetl_body_reader_next_packed (reader, &entry, &reason)) == 1)
        s_copy (halves[index++ < count / 2 ? 0 : 1], reader, &entry);
    if (rc == 0 && index == count) {
        *left = zetl_body_writer_finish (halves[0]);
        *right = zetl_body_writer_finish (halves[1]);
    }
    zetl_body_writer_destroy (&halves[0]);
    zetl_body_writer_destroy (&halves[1]);
    zetl_body_reader_destroy (&reader);
    return rc == 0 && index == count ? 0 : -1;
}

zframe_t *
zetl_split_dead_letter (zframe_t *body, const char *stage, const char *error)
{
    const char *reason = NULL;
    zetl_body_reader_t *reader = zetl_body_reader_new (body, &reason);
    if (!reader)
        return NULL;
    zetl_body_writer_t *writer = zetl_body_writer_new ();
    zetl_entry_t entry;
    zframe_t *result = NULL;
    if (zetl_body_reader_next (reader, &entry, &reason) == 1) {
        if (entry.flags & ZETL_ENTRY_PASS_THROUGH)
            s_copy (writer, reader, &entry);
        else {
            msgpack_sbuffer json, dead;
            msgpack_sbuffer_init (&json);
            msgpack_sbuffer_init (&dead);
            zetl_dead_pack_record (&dead, &json, &entry.payload, stage, "rejected", NULL, error);
            uint32_t source = zetl_body_writer_source (
                writer, zetl_body_reader_source_name (reader, entry.source));
            zetl_body_writer_append (writer, source, entry.position, entry.event_us,
                                     entry.flags | ZETL_ENTRY_DEAD, NULL, dead.data, dead.size);
            msgpack_sbuffer_destroy (&json);
            msgpack_sbuffer_destroy (&dead);
        }
        if (zetl_body_reader_next (reader, &entry, &reason) == 0)
            result = zetl_body_writer_finish (writer);
    }
    zetl_body_writer_destroy (&writer);
    zetl_body_reader_destroy (&reader);
    return result;
}
