/*  zetl_forward_commit - what a forward target keeps in PostgreSQL: its positions and counts

    A forward target (zetl_forward_writer) sends the rows of its batches to
    another cluster, and keeps in its own cluster's PostgreSQL, as every
    target does, what it has committed: its positions in zetl_offsets under
    the target's name ("forward:<coordinator>/<pipeline>"), per (source,
    partition). Owned by one zetl_forward_writer, with its connection. Two
    steps per batch:

      - stage, before sending: read the keys' committed positions (the
        lock of zetl_offsets, in a statement of its own, so only a read)
        and pack every row above them as a record for the other pipeline
        (zetl_forward_record). Replays (a batch dispatched again after a
        crash, whose rows were committed here) are not sent again. Dead
        letters, duplicates and checkpoints are never sent. The body is
        read to its end first: a malformed one sends nothing.
      - commit, once the other coordinator ACKed every record of the
        batches (committed there): in one transaction, lock the keys,
        skip what is committed already (two tries of one batch both sent:
        the second counts nothing), raise the positions and, with ACCOUNTS
        (no PostgreSQL target in the pipeline), write the dead letters,
        resolve reprocessed ones and add the forwarded rows (changed),
        dead letters and duplicates to zetl_stats, so that the
        reconciliation balances.

    A crash after the ACK and before the commit sends the rows again when
    the batch comes back: the other cluster drops them as duplicates (same
    id, same content within dedup_window), and its upsert by primary key
    keeps one row per key whatever arrives twice.
*/
#ifndef ZETL_FORWARD_COMMIT_H_INCLUDED
#define ZETL_FORWARD_COMMIT_H_INCLUDED

#include "zetl_config.h"
#include "zetl_forward_record.h"
#include "zetl_group.h"
#include <czmq.h>

typedef struct zetl_forward_commit zetl_forward_commit_t;

//  The commits of TARGET of PIPELINE, on a connection to CONNINFO, by the
//  writer named WRITER (all borrowed: they must outlive the result);
//  ACCOUNTS when the pipeline has no PostgreSQL target. Connects on first
//  use. Caller owns the result.
zetl_forward_commit_t *zetl_forward_commit_new (const zetl_pipeline_t *pipeline,
                                                const zetl_target_t *target, const char *conninfo,
                                                const char *writer, bool accounts);
//  Destroy it, closing its connection, and set *self_p to NULL. Does nothing
//  if *self_p is NULL.
void zetl_forward_commit_destroy (zetl_forward_commit_t **self_p);

//  Stage MSG (a RESULT, borrowed): append the record of each row above the
//  committed positions to RECORDS. Returns 0, or -1 with *FAILURE saying
//  why (malformed body or data: RECORDS is then left empty; else
//  PostgreSQL failed, and the caller retries later); its error_text is the
//  caller's to free.
int zetl_forward_commit_stage (zetl_forward_commit_t *self, zetl_msg_t *msg,
                               zetl_forward_records_t *records, zetl_group_failure_t *failure);

//  Commit BATCHES (zetl_msg_t RESULTs, borrowed), every record of which
//  the other cluster has ACKed, in one transaction. Returns 0, or -1 with
//  *FAILURE saying why (a malformed body, or PostgreSQL failed).
int zetl_forward_commit_run (zetl_forward_commit_t *self, zlistx_t *batches,
                             zetl_group_failure_t *failure);

#endif
