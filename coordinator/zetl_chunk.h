/*  zetl_chunk - parsed records handed from a source actor to the dispatcher

    A chunk holds up to a few thousand records of one source, each a packed
    msgpack map (or a dead letter) with its partition, position, event time
    and flags. The source actor fills it and hands it over by pointer; the
    dispatcher copies the records into partition batches and destroys it.
*/
#ifndef ZETL_CHUNK_H_INCLUDED
#define ZETL_CHUNK_H_INCLUDED

#include "zetl_dedup.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define ZETL_CHUNK_RECORDS 4096           //  records in a full chunk
#define ZETL_CHUNK_BYTES (4 * 1024 * 1024) //  bytes of records in a full chunk

typedef struct {
    uint32_t partition;  //  partition of the record
    uint32_t flags;      //  ZETL_ENTRY_*
    uint64_t position;   //  position in the source
    int64_t event_us;    //  event time (0 when unknown: dead letters)
    size_t offset;       //  of the packed record in data
    size_t len;          //  bytes of the packed record
    zetl_dedup_key_t key;//  its deduplication key (records only, not dead letters)
} zetl_chunk_record_t;

typedef struct {
    size_t pipeline;                //  index of the pipeline
    char *source;                   //  the source's name (owned)
    zetl_chunk_record_t *records;   //  records (owned)
    size_t count;                   //  records used
    size_t capacity;                //  records allocated
    msgpack_sbuffer data;           //  packed records
} zetl_chunk_t;

//  Create an empty chunk for PIPELINE and SOURCE (copied). Caller owns it.
zetl_chunk_t *zetl_chunk_new (size_t pipeline, const char *source);
void zetl_chunk_destroy (zetl_chunk_t **self_p);
//  Record the bytes appended to data since OFFSET as one record; returns it
//  (borrowed: valid until the next add), so the caller can set its key.
zetl_chunk_record_t *zetl_chunk_add (zetl_chunk_t *self, uint32_t partition, uint32_t flags,
                                     uint64_t position, int64_t event_us, size_t offset);
//  Make room for RECORDS records and BYTES bytes of data at once, so that a
//  source filling chunks of a known size does not grow each one step by step.
void zetl_chunk_reserve (zetl_chunk_t *self, size_t records, size_t bytes);
//  True when the chunk should be handed over.
int zetl_chunk_full (const zetl_chunk_t *self);

#endif
