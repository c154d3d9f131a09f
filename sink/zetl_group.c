/*  zetl_group - a sink writer's queue of batches, committed as groups  */
#include "zetl_group.h"
#include "zetl_log.h"

struct zetl_group {
    zsock_t *pipe;             //  to the sink's loop, borrowed
    int64_t batch_rows;        //  commit once this many rows are pending
    int64_t linger_ms;         //  or once the oldest has waited this long
    zlistx_t *pending;         //  zetl_msg_t RESULTs waiting for a commit
    size_t pending_rows;       //  records in pending
    int64_t first_pending_ms;  //  when the oldest pending batch arrived
};

static void
s_msg_free (void **item_p)
{
    zetl_msg_destroy ((zetl_msg_t **) item_p);
}

zetl_group_t *
zetl_group_new (zsock_t *pipe, int64_t batch_rows, int64_t linger_ms)
{
    zetl_group_t *self = (zetl_group_t *) zmalloc (sizeof (zetl_group_t));
    self->pipe = pipe;
    self->batch_rows = batch_rows;
    self->linger_ms = linger_ms;
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, s_msg_free);
    return self;
}

void
zetl_group_destroy (zetl_group_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_group_t *self = *self_p;
        zlistx_destroy (&self->pending);
        free (self);
        *self_p = NULL;
    }
}

int
zetl_group_recv (zetl_group_t *self)
{
    char *command = NULL;
    void *pointer = NULL;
    if (zsock_recv (self->pipe, "sp", &command, &pointer) != 0)
        return -1;
    int rc = 0;
    if (streq (command, "$TERM"))
        rc = -1;
    else if (streq (command, "BATCH")) {
        zetl_msg_t *msg = (zetl_msg_t *) pointer;
        if (zlistx_size (self->pending) == 0)
            self->first_pending_ms = zclock_mono ();
        self->pending_rows += msg->count;
        zlistx_add_end (self->pending, msg);
    }
    else
        assert (false);  //  Unknown command on an internal pipe
    free (command);
    return rc;
}

size_t
zetl_group_size (zetl_group_t *self)
{
    return zlistx_size (self->pending);
}

int
zetl_group_wait_ms (zetl_group_t *self, const zetl_breaker_t *breaker)
{
    if (zlistx_size (self->pending) == 0)
        return -1;
    int64_t now = zclock_mono ();
    if (zetl_breaker_state (breaker) != ZETL_BREAKER_CLOSED) {
        int64_t wait = zetl_breaker_wait_ms (breaker, now);
        return wait > 0 ? (int) wait : 0;
    }
    if ((int64_t) self->pending_rows >= self->batch_rows)
        return 0;
    int64_t due = self->first_pending_ms + self->linger_ms;
    return due > now ? (int) (due - now) : 0;
}

static void
s_reply (zetl_group_t *self, const char *command, const zetl_msg_t *msg, const char *text)
{
    zsock_send (self->pipe, "s84s", command, msg->batch_id, msg->count, text);
}

static void
s_recount (zetl_group_t *self)
{
    self->pending_rows = 0;
    for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (self->pending); msg;
         msg = (zetl_msg_t *) zlistx_next (self->pending))
        self->pending_rows += msg->count;
}

//  Commit the batches one by one after a data failure of the group: only
//  the batch the data error is in is refused
static void
s_flush_singly (zetl_group_t *self, const zetl_group_ops_t *ops, void *writer)
{
    zlistx_t *single = zlistx_new ();
    zetl_msg_t *msg;
    zetl_group_failure_t failure;
    while ((msg = (zetl_msg_t *) zlistx_detach (self->pending, NULL))) {
        zlistx_add_end (single, msg);
        bool keep = false;
        if (ops->commit (writer, single, &failure) == 0)
            s_reply (self, "DONE", msg, "");
        else if (failure.malformed)
            s_reply (self, "DROPPED", msg, failure.malformed_reason);
        else if (failure.data_failure) {
            zetl_log_warn (ops->module, "batch_refused",
                           json_pack ("{s:s, s:I, s:s}", "writer", ops->name, "batch",
                                      (json_int_t) msg->batch_id, "error", failure.error_text));
            s_reply (self, "FAILED", msg, failure.error_text);
        }
        else
            keep = true;
        zlistx_detach (single, NULL);
        if (keep) {
            //  The environment failed meanwhile: keep this and the rest for the retry
            zlistx_add_start (self->pending, msg);
            ops->failed (writer, failure.error_text);
            free (failure.error_text);
            break;
        }
        free (failure.error_text);
        zetl_msg_destroy (&msg);
    }
    zlistx_destroy (&single);
    s_recount (self);
}

void
zetl_group_flush (zetl_group_t *self, const zetl_group_ops_t *ops, void *writer)
{
    zetl_group_failure_t failure;
    int rc;
    while ((rc = ops->commit (writer, self->pending, &failure)) != 0 && failure.malformed) {
        //  MSG's body is malformed: it is dropped, never committed, and comes
        //  back after the batch's deadline. The sink's loop logs it as a
        //  malformed frame, as it does frames that do not decode
        s_reply (self, "DROPPED", failure.malformed, failure.malformed_reason);
        void *handle = zlistx_find (self->pending, failure.malformed);
        assert (handle);
        zlistx_delete (self->pending, handle);  //  Destroys it
        free (failure.error_text);
        s_recount (self);
        if (zlistx_size (self->pending) == 0) {
            ops->succeeded (writer);  //  The environment was not at fault
            return;
        }
    }
    if (rc == 0) {
        for (zetl_msg_t *msg = (zetl_msg_t *) zlistx_first (self->pending); msg;
             msg = (zetl_msg_t *) zlistx_next (self->pending))
            s_reply (self, "DONE", msg, "");
        zlistx_purge (self->pending);
        self->pending_rows = 0;
        ops->succeeded (writer);
        return;
    }
    if (!failure.data_failure) {
        ops->failed (writer, failure.error_text);
        free (failure.error_text);
        return;
    }
    free (failure.error_text);
    ops->succeeded (writer);  //  The environment answered: the data is at fault
    s_flush_singly (self, ops, writer);
}
