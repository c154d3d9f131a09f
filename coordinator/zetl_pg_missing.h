/*  zetl_pg_missing - which keys a full refresh did not see, and their delete markers

    For `delete_missing: true` (DESIGN §8): while a full refresh reads the
    source, the 128-bit hash (xxh3) of each row's key (its key columns'
    text, joined by 0x1f) is kept, 16 bytes a row; then the target's live
    rows are read and each whose key was not seen becomes a delete marker
    (zetl_pg_extract_pack): the row as the target holds it, the pipeline's
    delete_field set to true and its event time set to the refresh's
    snapshot (zetl_pg_missing_time_text), so it wins over every version
    read before. Owned by one source actor.
*/
#ifndef ZETL_PG_MISSING_H_INCLUDED
#define ZETL_PG_MISSING_H_INCLUDED

#include "zetl_config.h"
#include "zetl_pg_extract.h"

typedef struct zetl_pg_missing zetl_pg_missing_t;

zetl_pg_missing_t *zetl_pg_missing_new (void);
void zetl_pg_missing_destroy (zetl_pg_missing_t **self_p);

//  Forget every key seen (a new run).
void zetl_pg_missing_reset (zetl_pg_missing_t *self);
//  Row ROW of the page EXTRACT holds was seen.
void zetl_pg_missing_see (zetl_pg_missing_t *self, const zetl_pg_extract_t *extract, int row);
//  Every key is seen: sort them for lookups.
void zetl_pg_missing_seal (zetl_pg_missing_t *self);
//  True if the key of row ROW (a target's row) was seen.
bool zetl_pg_missing_seen (const zetl_pg_missing_t *self, const zetl_pg_extract_t *extract,
                           int row);
//  Keys seen.
size_t zetl_pg_missing_size (const zetl_pg_missing_t *self);

//  Event time US as text in PIPELINE's event_time format, into TEXT (SIZE
//  bytes; 64 is enough): a delete marker's event time.
void zetl_pg_missing_time_text (const zetl_pipeline_t *pipeline, int64_t us, char *text,
                                size_t size);

#endif
