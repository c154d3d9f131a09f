/*  zetl_pg - PostgreSQL helpers shared by the coordinator, sinks and zetlctl

    Connection with retry-friendly error text (conninfo redacted), statement
    helpers that log the SQL state, and zetl's own tables: zetl_offsets
    (committed source positions per pipeline, target, source and partition),
    zetl_stats (per-writer counters written in the same transactions, from
    which the reconciliation is computed) and zetl_dead_letters. A
    PGconn belongs to one thread.
*/
#ifndef ZETL_PG_H_INCLUDED
#define ZETL_PG_H_INCLUDED

#include <czmq.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

//  Copy CONNINFO with any password value masked. Caller owns the result.
char *zetl_pg_redact (const char *conninfo);

//  Connect. Returns the connection, or NULL with *ERROR set to a message that
//  says what failed, where, and what to do (caller owns *ERROR).
PGconn *zetl_pg_connect (const char *conninfo, char **error);

//  Run SQL with no parameters expecting no rows. Returns 0, or -1 after
//  logging the error with its SQL state (WHAT names the statement).
int zetl_pg_exec (PGconn *conn, const char *sql, const char *what);

//  Run SQL with COUNT text PARAMS. Returns the result when the statement
//  succeeded (rows or not; caller clears it), or NULL after logging the
//  error with its SQL state (WHAT names the statement).
PGresult *zetl_pg_query (PGconn *conn, const char *sql, int count, const char *const *params,
                         const char *what);

//  Return the SQL state of RES ("" if none). Borrowed from RES.
const char *zetl_pg_sqlstate (const PGresult *res);

//  True if SQLSTATE is caused by the data (classes 22 data exception and 23
//  integrity violation), false for everything else (connection, resources).
bool zetl_pg_sqlstate_is_data (const char *sqlstate);

//  Create zetl's own tables if missing (under an advisory lock, so several
//  processes may call it at once). Returns 0 or -1.
int zetl_pg_ensure_meta (PGconn *conn);

//  Connect and create zetl's own tables if missing. Returns the connection,
//  or NULL with *ERROR set (caller owns it): what every process of zetl
//  does before it reads or writes zetl's tables.
PGconn *zetl_pg_open (const char *conninfo, char **error);

//  Quote identifier NAME (already validated). Caller owns the result.
char *zetl_pg_ident (PGconn *conn, const char *name);

//  The reconciliation counters of one pipeline and target, summed over writers.
typedef struct {
    int64_t changed;        //  rows an upsert inserted or replaced
    int64_t unchanged;      //  rows that lost to a newer version or repeated one
    int64_t dead_lettered;  //  records written to zetl_dead_letters
    int64_t deduplicated;   //  records dropped as duplicates
} zetl_pg_stats_t;

//  Read the counters of PIPELINE and TARGET into *STATS (zero if none).
//  Returns 0 or -1.
int zetl_pg_read_stats (PGconn *conn, const char *pipeline, const char *target,
                        zetl_pg_stats_t *stats);

//  The text[] literal of COUNT strings at TEXTS ("{\"a\",\"b\"}"), each
//  double-quoted with '"' and '\' escaped, so that any text is one element,
//  never syntax: a parameter value, never SQL. Its data is NUL-terminated.
//  Caller destroys it.
zchunk_t *zetl_pg_text_array (const char *const *texts, size_t count);

//  What every target of a pipeline has committed of one (source, partition)
typedef struct {
    int64_t position;  //  every record at or below it
    char *above;       //  ordered mode: an int8multirange's text of the positions committed
                       //  above it (zetl_ranges), or NULL
} zetl_pg_position_t;

//  Read what PIPELINE has committed at every target in TARGETS (COUNT
//  names). Returns a hash "source\x1fpartition" -> zetl_pg_position_t *
//  (a key that some target lacks is absent), or NULL on error. Caller owns
//  the result.
zhashx_t *zetl_pg_read_positions (PGconn *conn, const char *pipeline, const char *const *targets,
                                  size_t count);

//  Read what every target in TARGETS (COUNT names) has committed of SOURCE of
//  PIPELINE into POSITIONS[p] for each of PARTITIONS partitions: the lowest
//  floor over the targets, -1 where a target has nothing. Returns 0 or -1.
int zetl_pg_read_source_positions (PGconn *conn, const char *pipeline, const char *const *targets,
                                   size_t count, const char *source, int64_t *positions,
                                   uint32_t partitions);

#endif
