/*  zetl_files_writer - one files target of a pipeline in a sink, as an actor  */
#include "zetl_files_writer.h"
#include "zetl_breaker.h"
#include "zetl_files_commit.h"
#include "zetl_group.h"
#include "zetl_log.h"

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000

typedef struct {
    zetl_files_writer_args_t args;  //  what to write where
    const zetl_target_t *target;
    zetl_files_commit_t *commit;  //  the commits, with their connection
    zetl_group_t *group;          //  RESULTs waiting for a commit
    zetl_breaker_t breaker;       //  in front of PostgreSQL and the disk
    bool terminated;
} s_writer_t;

//  The disk or PostgreSQL failed (not the data): retry after the breaker's period
static void
s_schedule_retry (s_writer_t *self, const char *error)
{
    bool was_closed = zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED;
    int64_t now = zclock_mono ();
    zetl_breaker_failure (&self->breaker, now);
    if (was_closed)
        zetl_log_warn ("files_writer", "commit_failed",
                       json_pack ("{s:s, s:s, s:s, s:I}", "writer", self->args.writer, "target",
                                  self->target->name, "error", error, "retry_in_ms",
                                  (json_int_t) zetl_breaker_wait_ms (&self->breaker, now)));
    zetl_files_commit_check_connection (self->commit);
}

static void
s_succeeded (s_writer_t *self)
{
    if (zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED)
        return;
    int64_t now = zclock_mono ();
    zetl_breaker_success (&self->breaker, now);
    zetl_log_info ("files_writer", "breaker_closed",
                   json_pack ("{s:s, s:I}", "writer", self->args.writer, "open_total_ms",
                              (json_int_t) zetl_breaker_open_total_ms (&self->breaker, now)));
}

//  zetl_group's commit, failure and success
static int
s_group_commit (void *writer, zlistx_t *batches, zetl_group_failure_t *failure)
{
    return zetl_files_commit_run (((s_writer_t *) writer)->commit, batches, failure);
}

static void
s_group_failed (void *writer, const char *error)
{
    s_schedule_retry ((s_writer_t *) writer, error);
}

static void
s_group_succeeded (void *writer)
{
    s_succeeded ((s_writer_t *) writer);
}

//  Commit every pending batch as zetl_group says, once the breaker allows it
static void
s_flush (s_writer_t *self)
{
    if (!zetl_breaker_allow (&self->breaker, zclock_mono ()))
        return;
    zetl_group_ops_t ops = {s_group_commit, s_group_failed, s_group_succeeded, "files_writer",
                            self->args.writer};
    zetl_group_flush (self->group, &ops, self);
}

void
zetl_files_writer_actor (zsock_t *pipe, void *args)
{
    s_writer_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    self->args = *(zetl_files_writer_args_t *) args;
    const zetl_pipeline_t *pipeline = &self->args.config->pipelines[self->args.pipeline];
    self->target = &pipeline->targets[self->args.target];
    self->commit = zetl_files_commit_new (pipeline, self->target, self->args.conninfo,
                                          self->args.writer, self->args.accounts);
    self->group =
        zetl_group_new (pipe, self->target->sink_batch_rows, self->target->sink_linger_ms);
    zetl_breaker_config_t breaker = {1, S_BACKOFF_MIN_MS, S_BACKOFF_MAX_MS};
    zetl_breaker_init (&self->breaker, &breaker);
    zsock_signal (pipe, 0);
    char *error = NULL;
    if (zetl_files_commit_connect (self->commit, &error) != 0) {
        s_schedule_retry (self, error);
        free (error);
    }

    zpoller_t *poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (poller, true);  //  Ended by the sink server, which sends on
    while (!self->terminated) {
        int wait_ms = zetl_group_wait_ms (self->group, &self->breaker);
        if (wait_ms != 0) {
            void *which = zpoller_wait (poller, wait_ms);
            if (which == pipe) {
                self->terminated = zetl_group_recv (self->group) != 0;
                continue;  //  Drain every queued batch before deciding to commit
            }
            if (zpoller_terminated (poller) && !zsys_interrupted)
                break;  //  The context is going
        }
        if (zetl_group_size (self->group) > 0 &&
            zetl_group_wait_ms (self->group, &self->breaker) == 0)
            s_flush (self);
    }
    zpoller_destroy (&poller);
    zetl_group_destroy (&self->group);
    zetl_files_commit_destroy (&self->commit);
}
