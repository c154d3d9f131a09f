/*  zetl_pg_extract - one extraction run's reading of a PostgreSQL table

    The SQL side of a PostgreSQL source (zetl_source_pg): one run reads the
    rows its mode selects, in (updated_at, key…) order, through a server-side
    cursor in pages of page_size rows, inside one REPEATABLE READ READ ONLY
    transaction, so a run sees one snapshot. Each row comes as the JSON text
    of the whole row (row_to_json: timestamps in ISO 8601, numbers as
    numbers), which the feed turns into a record as it does a JSONL line.

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
#include <libpq-fe.h>

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

//  Row ROW of the page: the row's JSON text and its length.
const char *zetl_pg_extract_json (const zetl_pg_extract_t *self, int row, size_t *len);
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
