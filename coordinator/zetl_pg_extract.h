/*  zetl_pg_extract - one extraction run's reading of a PostgreSQL table

    The SQL side of a PostgreSQL source (zetl_source_pg): one run reads the
    rows its mode selects, in (updated_at, key…) order, through a server-side
    cursor in pages of page_size rows, inside one REPEATABLE READ READ ONLY
    transaction, so a run sees one snapshot. Each row comes as the server's
    text output of its columns and is packed here into a record, a msgpack
    map (integers and booleans as such, NULL as nil, everything else as text
    for the workers' casts: exact decimals, timestamps in ISO 8601 with an
    offset), which the feed takes as it takes a producer's record
    (zetl_feed_map_row). Not row_to_json: that costs the server three times
    what a plain COPY of the same rows does.

    The extraction watermark is the (updated_at, key…) of the last row read
    and committed everywhere, kept as text in a small JSON object
    {"ts": "...", "key": ["...", ...]} (zetl_checkpoint). Comparisons with it
    are done by PostgreSQL on the columns' own types (the parameters are cast
    to the types the catalogue gives), so rows sharing an updated_at are
    ordered by their key exactly as the server orders them, and a page edge
    in the middle of them neither skips nor repeats a row.

    What a run selects:
      incremental     (updated_at, key) > watermark, or with lookback L:
                      updated_at >= watermark's updated_at - L
      sliding_window  updated_at >= now() - L
      full_refresh    every row
    and always updated_at <= now() - settle (except full_refresh), so rows of
    transactions still open are read by the next run, not passed by. A row
    at or below the watermark is a re-read ("reread", bypassing the lateness
    check downstream); full_refresh rows are all re-reads. With FORCE the
    watermark bounds nothing (the whole table is read) but still tells
    re-reads apart. Rows whose updated_at is NULL are read by full_refresh
    only.

    A second kind of cursor reads a target table's live rows (the columns of
    the schema, zetl_deleted false) in the same shape, for delete_missing.
    Owned by one source actor; the connection is the caller's.
*/
#ifndef ZETL_PG_EXTRACT_H_INCLUDED
#define ZETL_PG_EXTRACT_H_INCLUDED

#include "zetl_config.h"
#include "zetl_extract.h"
#include <libpq-fe.h>
#include <msgpack.h>

typedef struct zetl_pg_extract zetl_pg_extract_t;

//  Start reading SOURCE (a pipeline's postgres source) on CONN from STATE
//  (a watermark's JSON text, or NULL for none), the whole table when FORCE.
//  Returns NULL with *ERROR set (caller frees) if the table or a column is
//  missing or a statement fails. Caller owns the result.
zetl_pg_extract_t *zetl_pg_extract_open (PGconn *conn, const zetl_pipeline_t *pipeline,
                                         const char *state, bool force, char **error);

//  Start reading the live rows of TABLE (a target of PIPELINE) on CONN, with
//  the source's key columns first. Same contract.
zetl_pg_extract_t *zetl_pg_extract_open_target (PGconn *conn, const zetl_pipeline_t *pipeline,
                                                const char *table, char **error);

//  The source's clock when the run started, microseconds since the epoch.
int64_t zetl_pg_extract_snapshot_us (const zetl_pg_extract_t *self);

//  Fetch the next page. Returns its number of rows (0 at the end), or -1
//  with *ERROR set (caller frees). Rows are valid until the next fetch.
int zetl_pg_extract_fetch (zetl_pg_extract_t *self, char **error);

//  Pack row ROW of the page with PACKER as a record: a map of its columns,
//  integers and booleans as such, NULL as nil, every other value as its
//  text (exact decimals, timestamps in ISO 8601 with an offset). With
//  TIME_TEXT, column TIME_FIELD holds it instead; with FLAG_FIELD, that
//  field is added, true (a delete marker).
void zetl_pg_extract_pack (const zetl_pg_extract_t *self, int row, msgpack_packer *packer,
                           const char *time_field, const char *time_text, const char *flag_field);
//  The fields a source pulls out of a record (zetl_extract_names: partition
//  key, event time, id) of row ROW, as a converter gives them, borrowed
//  from the page: VALUES[ZETL_EXTRACT_COUNT].
void zetl_pg_extract_values (const zetl_pg_extract_t *self, int row, zetl_field_value_t *values);
//  True if row ROW is at or below the watermark the run started from.
bool zetl_pg_extract_reread (const zetl_pg_extract_t *self, int row);
//  The text of key column INDEX of row ROW.
const char *zetl_pg_extract_key (const zetl_pg_extract_t *self, int row, size_t index,
                                 size_t *len);
//  Key columns of each row.
size_t zetl_pg_extract_key_count (const zetl_pg_extract_t *self);
//  The watermark that row ROW sets, as JSON text. Caller frees.
char *zetl_pg_extract_state (const zetl_pg_extract_t *self, int row);

//  End the run: close the cursor and its transaction. Destroys the
//  extraction and sets *self_p to NULL. Does nothing if NULL.
void zetl_pg_extract_destroy (zetl_pg_extract_t **self_p);

#endif
