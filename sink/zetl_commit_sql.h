/*  zetl_commit_sql - the statements every target's commit shares

    A sink commit, whatever its target's kind (zetl_pg_transaction,
    zetl_files_commit, zetl_forward_commit), collects the (source,
    partition) keys of its batches (zetl_commit_keys), locks their
    zetl_offsets rows and reads what they have committed, reads every body to
    its end, deletes the dead letters of the reprocessed records it commits,
    and raises the keys that moved, in one transaction.

    A files or forward target runs the whole commit here
    (zetl_commit_sql_run), on a connection of its own kept in its
    zetl_commit_sql_t, and supplies through zetl_commit_ops_t only what is
    its own: connecting, recovery, writing or counting a batch's rows,
    publishing. The statements' text is zetl_offsets', zetl_accounts' and
    zetl_reprocess'; each failure names the target: "<what> for <kind>
    target <name> (SQL state <state>): <PostgreSQL's message>". With
    accounts (the pipeline has no PostgreSQL target) the commit also writes
    the dead letters, deletes those of reprocessed records and adds its
    counters to zetl_stats. A PostgreSQL target runs its statements through
    zetl_target, which keeps the error: it shares the walks only
    (zetl_commit_sql_collect, _read_rest, _resolve_each).

    zetl_commit_sql_t is a value the commit object embeds; its connection is
    that object's (zetl_commit_sql_close closes it). Stateless otherwise.
*/
#ifndef ZETL_COMMIT_SQL_H_INCLUDED
#define ZETL_COMMIT_SQL_H_INCLUDED

#include "zetl_commit_keys.h"
#include "zetl_config.h"
#include "zetl_group.h"
#include <czmq.h>
#include <libpq-fe.h>

//  The commits of one files or forward target. Every pointer but CONN is
//  borrowed and must outlive the commit object that embeds it.
typedef struct {
    PGconn *conn;                     //  owned by the commit object; NULL while disconnected
    const zetl_pipeline_t *pipeline;  //  the target's pipeline
    const zetl_target_t *target;      //  the target
    const char *kind;                 //  "files", "forward": names the target in errors
    const char *conninfo;             //  PostgreSQL connection string
    const char *writer;               //  the writer's name in zetl_stats
    bool accounts;                    //  no PostgreSQL target: write dead letters and counters
} zetl_commit_sql_t;

//  What one commit counts for zetl_stats
typedef struct {
    int64_t written;       //  rows written (files) or forwarded and ACKed (forward)
    int64_t dead;          //  dead letters
    int64_t deduplicated;  //  duplicates' positions committed
} zetl_commit_counts_t;

//  ---------------------------------------------------------------------
//  The walks of every commit

//  Collect the keys of BATCHES (zetl_commit_keys_collect). Caller owns the
//  result. Returns NULL, with FAILURE's malformed batch and reason set, when
//  a body's source names do not read.
zetl_commit_keys_t *zetl_commit_sql_collect (zlistx_t *batches, zetl_group_failure_t *failure);
//  Read the rest of READER's body, acting on nothing. Returns NULL when it
//  comes to a clean end, else why the body is malformed (a static string).
const char *zetl_commit_sql_read_rest (zetl_body_reader_t *reader);

//  Delete the dead letters of reprocess REQUEST's items numbered in SEQS
//  (an array literal, "{1,2}") with what ARG says; set *DELETED. Returns 0
//  or -1.
typedef int (zetl_commit_resolve_fn) (void *arg, int64_t request, const char *seqs,
                                      int64_t *deleted);
//  Call RESOLVE with ARG for each key of KEYS that commits reprocessed
//  records now (loaded, deduplicated or dead-lettered anew): their dead
//  letters go, and *DEAD loses them. Returns 0, or -1 at the first failure.
int zetl_commit_sql_resolve_each (zetl_commit_keys_t *keys, zetl_commit_resolve_fn *resolve,
                                  void *arg, int64_t *dead);

//  ---------------------------------------------------------------------
//  The commit of a files or forward target. Each returns 0, or -1 with
//  *ERROR set (caller owns it) or *FAILURE saying why.

//  What the target's commit object (COMMIT) does besides the statements
typedef struct {
    //  Connect, and make what else the commit needs.
    int (*connect) (void *commit, char **error);
    //  The keys are locked: recover what a crash left. NULL: nothing.
    int (*locked) (void *commit, zetl_commit_keys_t *keys, char **error);
    //  Write or count batch MSG (borrowed): READER its body's counted
    //  reader, BY_SOURCE the key of each source index (zetl_commit_keys).
    //  Each entry goes through zetl_commit_sql_entry. Its error_text is the
    //  caller's to free.
    int (*batch) (void *commit, zetl_msg_t *msg, zetl_body_reader_t *reader,
                  zetl_commit_key_t **by_source, zetl_commit_counts_t *counts,
                  zetl_group_failure_t *failure);
    //  Every batch is written: make it visible before the positions rise.
    //  NULL: nothing.
    int (*staged) (void *commit, char **error);
    //  The commit ended: RC 0 committed, else it failed, about to roll
    //  back. NULL: nothing.
    void (*ended) (void *commit, int rc);
} zetl_commit_ops_t;

//  Set SELF to the commits of TARGET of PIPELINE of the KIND ("files",
//  "forward"), on a connection to CONNINFO, by the writer named WRITER, with
//  ACCOUNTS when the pipeline has no PostgreSQL target. Not connected yet.
void zetl_commit_sql_init (zetl_commit_sql_t *self, const char *kind,
                           const zetl_pipeline_t *pipeline, const zetl_target_t *target,
                           const char *conninfo, const char *writer, bool accounts);
//  Connect to conninfo when not connected.
int zetl_commit_sql_connect (zetl_commit_sql_t *self, char **error);
//  Close the connection when it is lost: the next commit connects again.
void zetl_commit_sql_drop_lost (zetl_commit_sql_t *self);
//  Close the connection, if any.
void zetl_commit_sql_close (zetl_commit_sql_t *self);

//  Lock every key's zetl_offsets row (made at -1 when missing) in one
//  statement, in the keys' order, and read what each has committed. Outside
//  a transaction the lock ends with its statement: a read of what is
//  committed, which only ever rises.
int zetl_commit_sql_lock_keys (zetl_commit_sql_t *self, zetl_commit_keys_t *keys, char **error);
//  Account for ENTRY of KEY in MSG (borrowed), read by zetl_body_reader_next
//  for this commit: a replay is skipped, a duplicate counted, a dead letter
//  counted and, with accounts, written. Returns 1 for a row (counted in
//  written: the caller writes or sends it), 0 for an entry done with, or -1
//  when its dead letter could not be written.
int zetl_commit_sql_entry (zetl_commit_sql_t *self, zetl_commit_key_t *key, const zetl_msg_t *msg,
                           const zetl_entry_t *entry, zetl_commit_counts_t *counts, char **error);
//  One commit of BATCHES (zetl_msg_t RESULTs, borrowed) in one transaction:
//  connect, BEGIN, lock the keys, each batch through OPS, raise the
//  positions of the keys that moved (ordered mode: their floors and
//  committed ranges), with accounts delete the reprocessed dead letters and
//  add the counts to zetl_stats, COMMIT. Returns 0 committed, or -1 rolled
//  back with *FAILURE saying why (its error_text the caller's to free).
int zetl_commit_sql_run (zetl_commit_sql_t *self, zlistx_t *batches, const zetl_commit_ops_t *ops,
                         void *commit, zetl_group_failure_t *failure);

#endif
