/*  zetl_dead - a dead letter as it travels in a batch entry

    A record that cannot go on travels as a DEAD entry whose payload is a
    map {stage, reason, field, error, raw} (PROTOCOL.md §4); the sink writes
    it to zetl_dead_letters in the transaction that commits its position.
    Sources, the coordinator and workers pack them here, one way.
*/
#ifndef ZETL_DEAD_H_INCLUDED
#define ZETL_DEAD_H_INCLUDED

#include <msgpack.h>
#include <stddef.h>

//  Pack a dead letter into OUT (appended). A NULL string packs nil;
//  RAW is RAW_LEN bytes of the row as it came.
void zetl_dead_pack (msgpack_sbuffer *out, const char *stage, const char *reason,
                     const char *field, const char *error, const char *raw, size_t raw_len);

//  The same for RECORD (a msgpack object), whose raw text is its JSON, built
//  in JSON (a scratch buffer, emptied first).
void zetl_dead_pack_record (msgpack_sbuffer *out, msgpack_sbuffer *json,
                            const msgpack_object *record, const char *stage, const char *reason,
                            const char *field, const char *error);

#endif
