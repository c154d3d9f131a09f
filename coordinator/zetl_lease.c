/*  zetl_lease - one coordinator per pipeline: advisory locks and the epoch, as an actor  */
#include "zetl_lease.h"
#include "zetl_backoff.h"
#include "zetl_checkpoint.h"
#include "zetl_log.h"
#include "zetl_pg.h"

#include <inttypes.h>
#include <xxhash.h>

#define S_CHECK_MS 1000  //  between tries while standing by, and between checks when held

typedef struct {
    zsock_t *pipe;
    zetl_lease_args_t args;
    zpoller_t *poller;
    PGconn *conn;
    zetl_backoff_t backoff;
    bool terminated;
    bool standby_logged;
} s_lease_t;

static int64_t
s_key (const char *pipeline)
{
    char text[300];
    int len = snprintf (text, sizeof text, "zetl pipeline %s", pipeline);
    return (int64_t) XXH3_64bits (text, (size_t) len);
}

//  "WATERMARK" PIPELINE VALUE: checkpoint the watermark the dispatcher may
//  restart PIPELINE from (zetl_dispatch_watermark), while the locks are held
static void
s_write_watermark (s_lease_t *self, const char *pipeline, const char *value)
{
    if (self->conn && pipeline && value)
        zetl_checkpoint_write (self->conn, pipeline, "watermark", value, NULL);
}

//  Wait up to MS for a command on the pipe: $TERM, or a watermark to write
static void
s_wait (s_lease_t *self, int64_t ms)
{
    if (zpoller_wait (self->poller, (int) ms)) {
        zmsg_t *msg = zmsg_recv (self->pipe);
        char *command = msg ? zmsg_popstr (msg) : NULL;
        if (command && streq (command, "WATERMARK")) {
            char *pipeline = zmsg_popstr (msg), *value = zmsg_popstr (msg);
            s_write_watermark (self, pipeline, value);
            zstr_free (&pipeline);
            zstr_free (&value);
        }
        else
            self->terminated = true;  //  $TERM, or interrupted
        zstr_free (&command);
        zmsg_destroy (&msg);
    }
    else if (zpoller_terminated (self->poller) && !zsys_interrupted)
        self->terminated = true;  //  The context is going: no $TERM will come
}

//  Run SQL with one bigint parameter returning one boolean: true if "t"
static bool
s_ask (s_lease_t *self, const char *sql, int64_t key)
{
    char text[24];
    snprintf (text, sizeof text, "%" PRId64, key);
    const char *params[1] = {text};
    PGresult *res = PQexecParams (self->conn, sql, 1, NULL, params, NULL, NULL, 0);
    bool yes = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
               && streq (PQgetvalue (res, 0, 0), "t");
    PQclear (res);
    return yes;
}

//  Try every lock; on any refusal let go of the others. Returns true when all held.
static bool
s_try_locks (s_lease_t *self)
{
    const zetl_config_t *config = self->args.config;
    size_t held = 0;
    for (; held < config->pipeline_count; held++)
        if (!s_ask (self, "SELECT pg_try_advisory_lock($1::bigint)",
                    s_key (config->pipelines[held].id)))
            break;
    if (held == config->pipeline_count)
        return true;
    for (size_t index = 0; index < held; index++)
        s_ask (self, "SELECT pg_advisory_unlock($1::bigint)", s_key (config->pipelines[index].id));
    if (!self->standby_logged) {
        zetl_log_info ("lease", "standby",
                       json_pack ("{s:s, s:s}", "pipeline", config->pipelines[held].id, "hint",
                                  "another coordinator runs this pipeline; this one takes over "
                                  "when it stops"));
        self->standby_logged = true;
    }
    return false;
}

//  Raise the epoch of every pipeline to one above the highest. Returns it, or 0.
static uint32_t
s_raise_epoch (s_lease_t *self)
{
    const zetl_config_t *config = self->args.config;
    if (zetl_pg_exec (self->conn, "BEGIN", "begin") != 0)
        return 0;
    const char **names = (const char **) zmalloc (config->pipeline_count * sizeof (char *));
    for (size_t index = 0; index < config->pipeline_count; index++)
        names[index] = config->pipelines[index].id;
    zchunk_t *ids = zetl_pg_text_array (names, config->pipeline_count);
    free (names);
    const char *params[1] = {(const char *) zchunk_data (ids)};
    PGresult *res = PQexecParams (
        self->conn,
        "WITH next AS (SELECT coalesce(max(epoch), 0) + 1 AS epoch FROM zetl_coordinators"
        "              WHERE pipeline = ANY ($1::text[]))"
        " INSERT INTO zetl_coordinators (pipeline, epoch, since)"
        " SELECT id, next.epoch, now() FROM unnest ($1::text[]) AS id, next"
        " ON CONFLICT (pipeline) DO UPDATE SET epoch = EXCLUDED.epoch, since = now()"
        " RETURNING epoch",
        1, NULL, params, NULL, NULL, 0);
    zchunk_destroy (&ids);
    uint32_t epoch = 0;
    if (PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) > 0)
        epoch = (uint32_t) atoll (PQgetvalue (res, 0, 0));
    PQclear (res);
    if (epoch == 0 || zetl_pg_exec (self->conn, "COMMIT", "commit") != 0) {
        zetl_pg_exec (self->conn, "ROLLBACK", "rollback");
        return 0;
    }
    return epoch;
}

static bool
s_connect (s_lease_t *self)
{
    char *error = NULL;
    self->conn = zetl_pg_open (self->args.postgres, &error);
    if (self->conn) {
        zetl_backoff_reset (&self->backoff);
        return true;
    }
    zetl_log_error ("lease", "pg_unavailable", json_pack ("{s:s}", "error", error));
    free (error);
    return false;
}

//  Until the locks are held (or $TERM): the epoch, or 0
static uint32_t
s_acquire (s_lease_t *self)
{
    while (!self->terminated) {
        if (!self->conn && !s_connect (self)) {
            s_wait (self, zetl_backoff_next (&self->backoff));
            continue;
        }
        if (s_try_locks (self)) {
            uint32_t epoch = s_raise_epoch (self);
            if (epoch)
                return epoch;
        }
        if (PQstatus (self->conn) != CONNECTION_OK) {
            PQfinish (self->conn);
            self->conn = NULL;
        }
        s_wait (self, S_CHECK_MS);
    }
    return 0;
}

void
zetl_lease_actor (zsock_t *pipe, void *args)
{
    s_lease_t self_data, *self = &self_data;
    memset (self, 0, sizeof *self);
    self->pipe = pipe;
    self->args = *(zetl_lease_args_t *) args;
    self->poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (self->poller, true);  //  Ended by $TERM only, as the dispatcher sends on
    zetl_backoff_init (&self->backoff, 100, 5000);
    zsock_signal (pipe, 0);

    uint32_t epoch = s_acquire (self);
    if (epoch) {
        zetl_log_info ("lease", "acquired", json_pack ("{s:i}", "epoch", (int) epoch));
        char text[16];
        snprintf (text, sizeof text, "%u", epoch);
        zsock_send (pipe, "ss", "ACQUIRED", text);
    }
    while (!self->terminated && epoch) {
        s_wait (self, S_CHECK_MS);
        if (self->terminated)
            break;
        if (zetl_pg_exec (self->conn, "SELECT 1", "check lease") != 0) {
            zetl_log_error ("lease", "lost",
                            json_pack ("{s:s}", "hint",
                                       "the PostgreSQL session holding the pipelines' locks "
                                       "ended; stopping, so that only one coordinator runs them"));
            zstr_send (pipe, "LOST");
            while (!self->terminated)
                s_wait (self, 60000);
        }
    }
    if (self->conn)
        PQfinish (self->conn);
    zpoller_destroy (&self->poller);
}
