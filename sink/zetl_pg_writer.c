/*  zetl_pg_writer - one PostgreSQL connection of a sink, as an actor  */
#include "zetl_pg_writer.h"
#include "zetl_breaker.h"
#include "zetl_cleanup.h"
#include "zetl_group.h"
#include "zetl_log.h"
#include "zetl_partition.h"
#include "zetl_pg.h"
#include "zetl_pg_transaction.h"
#include "zetl_target.h"
#include "zetl_time.h"

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000
#define S_UPKEEP_MS (3600 * 1000)      //  partition_by_day: partitions ahead, retention, hourly
#define S_UPKEEP_RETRY_MS (60 * 1000)  //  and again after a minute when that failed
#define S_CLEANUP_POLL_MS 5000         //  partition_by_day: look for a cleanup request this often

typedef struct {
    zetl_pg_writer_args_t args;  //  what to write where
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    PGconn *conn;                        //  NULL while disconnected
    zetl_target_sql_t *sql;              //  statements for the target
    zetl_group_t *group;                 //  RESULTs waiting for a transaction
    zetl_pg_transaction_t *transaction;  //  the transaction of a group
    zetl_breaker_t breaker;              //  in front of PostgreSQL: open after a failure, for a
                                         //  period doubling with each failed retry
    int64_t next_upkeep_ms;              //  partition_by_day: when partition upkeep is due (mono)
    int64_t next_cleanup_ms;             //  partition_by_day: when to look for a cleanup request
    int64_t cleanup_seen;                //  the newest cleanup request seen (zetl_cleanup)
    int64_t cleanup_pending;             //  a request the next upkeep answers (0: none)
    bool terminated;
} s_writer_t;

static void
s_disconnect (s_writer_t *self)
{
    zetl_target_sql_destroy (&self->sql);
    if (self->conn)
        PQfinish (self->conn);
    self->conn = NULL;
}

//  Connect and prepare the target; on failure schedule a retry with backoff
static int
s_connect (s_writer_t *self)
{
    char *error = NULL;
    self->conn = zetl_pg_open (self->args.conninfo, &error);
    if (self->conn)
        self->sql = zetl_target_sql_new (self->conn, self->pipeline, self->target, &error);
    if (self->sql) {
        self->next_upkeep_ms = zclock_mono ();  //  At once: partitions ahead, retention
        return 0;
    }
    zetl_log_error ("pg_writer", "pg_unavailable",
                    json_pack ("{s:s, s:s, s:i}", "writer", self->args.writer, "error",
                               error ? error : "could not prepare the target", "failures",
                               (int) self->breaker.failures_total + 1));
    free (error);
    s_disconnect (self);
    return -1;
}

//  PostgreSQL failed (not the data): the breaker opens, and nothing is tried
//  until its period ends
static void
s_schedule_retry (s_writer_t *self)
{
    bool was_closed = zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED;
    int64_t now = zclock_mono ();
    zetl_breaker_failure (&self->breaker, now);
    if (was_closed)
        zetl_log_warn ("pg_writer", "breaker_opened",
                       json_pack ("{s:s, s:I, s:I}", "writer", self->args.writer, "retry_in_ms",
                                  (json_int_t) zetl_breaker_wait_ms (&self->breaker, now),
                                  "opened_total", (json_int_t) self->breaker.opened_total));
}

//  A transaction committed: a breaker that was open closes
static void
s_succeeded (s_writer_t *self)
{
    if (zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED)
        return;
    int64_t now = zclock_mono ();
    zetl_breaker_success (&self->breaker, now);
    zetl_log_info ("pg_writer", "breaker_closed",
                   json_pack ("{s:s, s:I, s:I}", "writer", self->args.writer, "open_total_ms",
                              (json_int_t) zetl_breaker_open_total_ms (&self->breaker, now),
                              "failures_total", (json_int_t) self->breaker.failures_total));
}

//  partition_by_day: a cleanup request (POST /api/v1/cleanup) not seen yet
//  makes the upkeep due now. The first look after a start takes the
//  requests made meanwhile, which the upkeep at connection answers.
static void
s_cleanup_check (s_writer_t *self)
{
    int64_t now = zclock_mono ();
    if (now < self->next_cleanup_ms)
        return;
    self->next_cleanup_ms = now + S_CLEANUP_POLL_MS;
    int64_t latest = 0;
    if (zetl_cleanup_latest (self->conn, &latest) != 0)
        return;  //  Logged; a broken connection shows at the next transaction
    if (latest > self->cleanup_seen) {
        self->cleanup_seen = latest;
        self->cleanup_pending = latest;
        self->next_upkeep_ms = now;
    }
}

//  partition_by_day: create the next days' partitions and drop the expired
//  ones, when due
static void
s_upkeep (s_writer_t *self)
{
    zetl_partition_t *partition = self->sql ? zetl_target_sql_partitions (self->sql) : NULL;
    if (!partition)
        return;
    s_cleanup_check (self);
    if (zclock_mono () < self->next_upkeep_ms)
        return;
    char *error = NULL;
    if (zetl_partition_maintain (partition, zetl_time_now_us (), &error) == 0) {
        self->next_upkeep_ms = zclock_mono () + S_UPKEEP_MS;
        if (self->cleanup_pending && zetl_cleanup_done (self->conn, self->cleanup_pending) == 0) {
            zetl_log_info ("pg_writer", "cleanup_done",
                           json_pack ("{s:s, s:s, s:I}", "writer", self->args.writer, "table",
                                      self->target->table, "request",
                                      (json_int_t) self->cleanup_pending));
            self->cleanup_pending = 0;
        }
        return;
    }
    zetl_log_warn ("pg_writer", "partition_upkeep_failed",
                   json_pack ("{s:s, s:s, s:s, s:i}", "writer", self->args.writer, "table",
                              self->target->table, "error", error, "retry_in_ms",
                              S_UPKEEP_RETRY_MS));
    free (error);
    self->next_upkeep_ms = zclock_mono () + S_UPKEEP_RETRY_MS;
    if (PQstatus (self->conn) != CONNECTION_OK)
        s_disconnect (self);
}

//  zetl_group's commit: one transaction on this connection
static int
s_commit (void *writer, zlistx_t *batches, zetl_group_failure_t *failure)
{
    s_writer_t *self = (s_writer_t *) writer;
    return zetl_pg_transaction_run (self->transaction, self->conn, self->sql, batches, failure);
}

//  zetl_group's environment failure: PostgreSQL failed, not the data
static void
s_failed (void *writer, const char *error)
{
    s_writer_t *self = (s_writer_t *) writer;
    zetl_log_warn ("pg_writer", "transaction_failed",
                   json_pack ("{s:s, s:s, s:i}", "writer", self->args.writer, "error", error,
                              "batches", (int) zetl_group_size (self->group)));
    if (PQstatus (self->conn) != CONNECTION_OK)
        s_disconnect (self);
    s_schedule_retry (self);
}

static void
s_group_succeeded (void *writer)
{
    s_succeeded ((s_writer_t *) writer);
}

//  Write every pending batch as zetl_group says, once the breaker and the
//  connection allow it
static void
s_flush (s_writer_t *self)
{
    if (!zetl_breaker_allow (&self->breaker, zclock_mono ()))
        return;  //  Open: s_wait_ms says when to come back
    if (!self->conn && s_connect (self) != 0) {
        s_schedule_retry (self);
        return;
    }
    zetl_group_ops_t ops = {s_commit, s_failed, s_group_succeeded, "pg_writer", self->args.writer};
    zetl_group_flush (self->group, &ops, self);
}

//  How long to sleep: until a flush or the partition upkeep is due
static int
s_wait_ms (s_writer_t *self)
{
    int wait = zetl_group_wait_ms (self->group, &self->breaker);
    if (!self->sql || !zetl_target_sql_partitions (self->sql))
        return wait;
    int64_t next = self->next_cleanup_ms < self->next_upkeep_ms ? self->next_cleanup_ms
                                                                 : self->next_upkeep_ms;
    int64_t due = next - zclock_mono ();
    int upkeep = due <= 0 ? 0 : due > INT32_MAX ? INT32_MAX : (int) due;
    return wait < 0 || upkeep < wait ? upkeep : wait;
}

void
zetl_pg_writer_actor (zsock_t *pipe, void *args)
{
    s_writer_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    self->args = *(zetl_pg_writer_args_t *) args;
    self->pipeline = &self->args.config->pipelines[self->args.pipeline];
    self->target = &self->pipeline->targets[self->args.target];
    self->group =
        zetl_group_new (pipe, self->target->sink_batch_rows, self->target->sink_linger_ms);
    self->transaction = zetl_pg_transaction_new (self->pipeline, self->target, self->args.writer);
    zetl_breaker_config_t breaker = {1, S_BACKOFF_MIN_MS, S_BACKOFF_MAX_MS};
    zetl_breaker_init (&self->breaker, &breaker);
    zsock_signal (pipe, 0);
    if (s_connect (self) != 0)
        s_schedule_retry (self);

    zpoller_t *poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (poller, true);  //  Ended by the sink server, which sends on
    while (!self->terminated) {
        int wait_ms = s_wait_ms (self);
        if (wait_ms != 0) {
            void *which = zpoller_wait (poller, wait_ms);
            if (which == pipe) {
                self->terminated = zetl_group_recv (self->group) != 0;
                continue;  //  Drain every queued batch before deciding to flush
            }
            if (zpoller_terminated (poller) && !zsys_interrupted)
                break;  //  The context is going
        }
        if (zetl_group_size (self->group) > 0 &&
            zetl_group_wait_ms (self->group, &self->breaker) == 0)
            s_flush (self);
        s_upkeep (self);
    }
    zpoller_destroy (&poller);
    zetl_pg_transaction_destroy (&self->transaction);
    zetl_group_destroy (&self->group);
    s_disconnect (self);
}
