/*  zetl_group - a sink writer's queue of batches, committed as groups

    A writer actor (zetl_pg_writer, zetl_files_writer) is handed RESULT
    batches by the sink's loop on its pipe, and commits them in groups: one
    transaction once sink_batch_rows rows are pending or the oldest has
    waited sink_linger. This module is that queue and the policy of a group's
    commit, the same for both writers and their pipe protocol:

      - committed: every batch of the group is answered "DONE";
      - a batch's body is malformed: it is answered "DROPPED" and the group
        is committed again without it;
      - the data of the group failed (a row does not match the schema, or
        PostgreSQL refused it): the batches are committed one by one, so
        only the batch at fault is answered "FAILED";
      - the environment failed (PostgreSQL, the disk): every batch stays
        queued, and the writer retries after its breaker's period.

    The writer supplies the commit and what to do on success and on an
    environment failure (log, reconnect, open its breaker). Owned by the
    writer actor; the batches it holds are its own.

    Replies on the pipe, each "s84s": command, batch_id, record count, text.
*/
#ifndef ZETL_GROUP_H_INCLUDED
#define ZETL_GROUP_H_INCLUDED

#include "zetl_breaker.h"
#include "zetl_proto.h"
#include <czmq.h>

//  Why the commit of a group failed
typedef struct {
    bool data_failure;             //  the data caused it: the batch it is in is refused
    char *error_text;              //  what failed; owned, NULL when MALFORMED
    zetl_msg_t *malformed;         //  a batch whose body does not read, or NULL
    const char *malformed_reason;  //  why it does not, a static string
} zetl_group_failure_t;

//  What a writer does for the group
typedef struct {
    //  Commit BATCHES (borrowed) in one transaction. Returns 0, or -1 with
    //  *FAILURE saying why (its error_text the group's to free).
    int (*commit) (void *writer, zlistx_t *batches, zetl_group_failure_t *failure);
    //  The environment failed with ERROR: retry later.
    void (*failed) (void *writer, const char *error);
    //  PostgreSQL and the disk answered: a breaker that was open closes.
    void (*succeeded) (void *writer);
    const char *module;  //  the writer's log module
    const char *name;    //  the writer's name, in logs
} zetl_group_ops_t;

typedef struct zetl_group zetl_group_t;

//  A queue replying on PIPE (borrowed, must outlive it), due for a commit at
//  BATCH_ROWS rows or when the oldest batch has waited LINGER_MS. Caller
//  owns the result.
zetl_group_t *zetl_group_new (zsock_t *pipe, int64_t batch_rows, int64_t linger_ms);
//  Destroy the queue and the batches in it and set *self_p to NULL. Does
//  nothing if *self_p is NULL.
void zetl_group_destroy (zetl_group_t **self_p);

//  Receive one command from the pipe: "BATCH" + pointer to a zetl_msg_t
//  RESULT is queued (takes ownership). Returns 0, or -1 on "$TERM" or when
//  interrupted: the actor ends.
int zetl_group_recv (zetl_group_t *self);
//  Batches queued.
size_t zetl_group_size (zetl_group_t *self);
//  How long to wait for more batches before committing: -1 with none
//  queued, 0 when a commit is due, else milliseconds. While BREAKER is not
//  closed, when it allows a retry.
int zetl_group_wait_ms (zetl_group_t *self, const zetl_breaker_t *breaker);
//  Commit every queued batch as OPS says, and answer them. The writer has
//  checked its breaker.
void zetl_group_flush (zetl_group_t *self, const zetl_group_ops_t *ops, void *writer);

#endif
