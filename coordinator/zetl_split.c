/*  zetl_split - a batch that failed for its data, taken apart until the bad record stands alone  */
#include "zetl_split.h"
#include "zetl_dead.h"
#include "zetl_proto.h"

#include <assert.h>

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
zetl_split_body (zframe_t *body, uint32_t count, uint32_t pieces, zframe_t **out)
{
    assert (pieces >= 2 && pieces <= count && pieces <= ZETL_SPLIT_MAX_PIECES);
    const char *reason = NULL;
    zetl_body_reader_t *reader = zetl_body_reader_new (body, &reason);
    if (!reader)
        return -1;
    zetl_body_writer_t *writers[ZETL_SPLIT_MAX_PIECES];
    for (uint32_t piece = 0; piece < pieces; piece++)
        writers[piece] = zetl_body_writer_new ();
    zetl_entry_t entry;
    uint32_t index = 0, piece = 0, piece_end = zetl_split_piece_count (count, pieces, 0);
    int rc;
    while ((rc = zetl_body_reader_next_packed (reader, &entry, &reason)) == 1 && index < count) {
        if (index++ == piece_end)
            piece_end += zetl_split_piece_count (count, pieces, ++piece);
        s_copy (writers[piece], reader, &entry);
    }
    bool whole = rc == 0 && index == count;
    for (piece = 0; piece < pieces; piece++) {
        if (whole)
            out[piece] = zetl_body_writer_finish (writers[piece]);
        zetl_body_writer_destroy (&writers[piece]);
    }
    zetl_body_reader_destroy (&reader);
    return whole ? 0 : -1;
}

zframe_t *
zetl_split_dead_letter (zframe_t *body, const char *stage, const char *reason_text,
                        const char *error)
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
            zetl_dead_pack_record (&dead, &json, &entry.payload, stage, reason_text, NULL, error);
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
