/*  zetl_http_post - the HTTP server's POST handlers and their PostgreSQL

    Part of the HTTP server (zetl_http_internal.h): refresh, reprocess and
    cleanup, each recorded as a request row in PostgreSQL (zetl_checkpoint,
    zetl_reprocess, zetl_cleanup) that the dispatcher or the sinks act on.
    They share one connection, opened on first use and reopened when it
    broke; the HTTP server's single thread makes that safe without a lock.
    The token was checked and the body parsed before these run (zetl_http).
*/
#include "zetl_checkpoint.h"
#include "zetl_cleanup.h"
#include "zetl_http_internal.h"
#include "zetl_pg.h"
#include "zetl_reprocess.h"

#define S_REASON_MAX 64  //  longest reprocess reason

//  The connection, (re)opened if needed, or NULL with *ERROR set (caller frees)
static PGconn *
s_pg (zetl_http_t *self, char **error)
{
    if (self->pg && PQstatus (self->pg) == CONNECTION_OK)
        return self->pg;
    if (self->pg)
        PQfinish (self->pg);
    //  Every request waits behind this one: never wait for a host that does not answer
    const char *postgres = self->config->postgres;
    char *conninfo = strstr (postgres, "://") || strstr (postgres, "connect_timeout")
                         ? strdup (postgres)
                         : zsys_sprintf ("%s connect_timeout=5", postgres);
    self->pg = zetl_pg_open (conninfo, error);
    free (conninfo);
    return self->pg;
}

typedef int (s_pg_fn) (PGconn *conn, void *arg, char **error);

//  Run FN on the connection; once more on a fresh one if the connection
//  broke (PostgreSQL restarted): a request recorded twice is harmless.
//  Returns 0, or -1 with *ERROR set (caller frees it).
static int
s_pg_run (zetl_http_t *self, s_pg_fn *fn, void *arg, char **error)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        free (*error);
        *error = NULL;
        PGconn *conn = s_pg (self, error);
        if (!conn)
            return -1;
        if (fn (conn, arg, error) == 0)
            return 0;
        if (PQstatus (conn) == CONNECTION_OK)
            return -1;  //  The statement failed, not the connection
    }
    return -1;
}

//  *ERROR from CONN's last error, trimmed
static void
s_pg_error (PGconn *conn, char **error)
{
    *error = strdup (PQerrorMessage (conn));
    size_t len = strlen (*error);
    while (len > 0 && ((*error)[len - 1] == '\n' || (*error)[len - 1] == ' '))
        (*error)[--len] = '\0';
}

//  503: what could not be recorded, and why
static enum MHD_Result
s_reply_pg_failed (struct MHD_Connection *connection, const char *what, const char *error)
{
    char *message = zsys_sprintf ("cannot record the %s request: %s; retry once PostgreSQL "
                                  "answers",
                                  what, error ? error : "PostgreSQL failed");
    zetl_log_warn ("http", "api_request_failed",
                   json_pack ("{s:s, s:s}", "request", what, "error", error ? error : ""));
    enum MHD_Result rc =
        zetl_http_reply_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE, message, NULL);
    free (message);
    return rc;
}

//  The first key of BODY (may be NULL) not in ALLOWED (NULL-terminated), or NULL
static const char *
s_unknown_key (json_t *body, const char *const *allowed)
{
    const char *key;
    json_t *value;
    json_object_foreach (body, key, value)
    {
        bool known = false;
        for (const char *const *name = allowed; *name && !known; name++)
            known = streq (*name, key);
        if (!known)
            return key;
    }
    return NULL;
}

static enum MHD_Result
s_reply_unknown_key (struct MHD_Connection *connection, const char *key, const char *allowed)
{
    char *message = zsys_sprintf ("unknown field '%s' in the body; allowed: %s", key, allowed);
    enum MHD_Result rc = zetl_http_reply_error (connection, MHD_HTTP_BAD_REQUEST, message, NULL);
    free (message);
    return rc;
}

typedef struct {
    const char *pipeline;
    bool force;
    const char *reason;
    int64_t id;       //  the request's number
    int64_t records;  //  reprocess: dead letters it covers
} s_call_t;

static int
s_do_refresh (PGconn *conn, void *arg, char **error)
{
    s_call_t *call = (s_call_t *) arg;
    if (zetl_checkpoint_request_refresh (conn, call->pipeline, call->force, &call->id) == 0)
        return 0;
    s_pg_error (conn, error);
    return -1;
}

static enum MHD_Result
s_refresh (zetl_http_t *self, struct MHD_Connection *connection, const zetl_pipeline_t *pipeline,
           json_t *body)
{
    static const char *const allowed[] = {"force", NULL};
    const char *unknown = s_unknown_key (body, allowed);
    if (unknown)
        return s_reply_unknown_key (connection, unknown, "force");
    json_t *force = json_object_get (body, "force");
    if (force && !json_is_boolean (force))
        return zetl_http_reply_error (connection, MHD_HTTP_BAD_REQUEST,
                                      "force must be true or false", NULL);
    zetl_source_type_t type = pipeline->source.type;
    if (type != ZETL_SOURCE_POSTGRES && type != ZETL_SOURCE_HTTP) {
        char *message = zsys_sprintf (
            "pipeline '%s' reads a %s source: refresh applies to postgres and http sources only",
            pipeline->id, type == ZETL_SOURCE_FILE ? "file" : "producer");
        enum MHD_Result rc = zetl_http_reply_error (connection, MHD_HTTP_CONFLICT, message, NULL);
        free (message);
        return rc;
    }
    s_call_t call = {pipeline->id, json_is_true (force), NULL, 0, 0};
    char *error = NULL;
    enum MHD_Result rc;
    if (s_pg_run (self, s_do_refresh, &call, &error) != 0)
        rc = s_reply_pg_failed (connection, "refresh", error);
    else {
        zetl_log_info ("http", "api_refresh",
                       json_pack ("{s:s, s:b, s:I}", "pipeline", pipeline->id, "force", call.force,
                                  "request", (json_int_t) call.id));
        rc = zetl_http_reply_json (connection, MHD_HTTP_ACCEPTED,
                                   json_pack ("{s:I, s:s, s:b}", "request", (json_int_t) call.id,
                                              "pipeline", pipeline->id, "force", call.force),
                                   NULL);
    }
    free (error);
    return rc;
}

static int
s_do_reprocess (PGconn *conn, void *arg, char **error)
{
    s_call_t *call = (s_call_t *) arg;
    return zetl_reprocess_request (conn, call->pipeline, call->reason, &call->id, &call->records,
                                   error);
}

//  A reason is a dead letter's reason: lowercase letters, digits and _
static bool
s_reason_valid (const char *reason)
{
    size_t len = strlen (reason);
    if (len == 0 || len > S_REASON_MAX)
        return false;
    for (const char *p = reason; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

static enum MHD_Result
s_reprocess (zetl_http_t *self, struct MHD_Connection *connection, const zetl_pipeline_t *pipeline,
             json_t *body)
{
    static const char *const allowed[] = {"reason", NULL};
    const char *unknown = s_unknown_key (body, allowed);
    if (unknown)
        return s_reply_unknown_key (connection, unknown, "reason");
    json_t *reason = json_object_get (body, "reason");
    if (reason && (!json_is_string (reason) || !s_reason_valid (json_string_value (reason))))
        return zetl_http_reply_error (
            connection, MHD_HTTP_BAD_REQUEST,
            "reason must be a dead letter's reason such as too_late (lowercase "
            "letters, digits and _, at most 64)",
            NULL);
    s_call_t call = {pipeline->id, false, reason ? json_string_value (reason) : "too_late", 0, 0};
    char *error = NULL;
    enum MHD_Result rc;
    if (s_pg_run (self, s_do_reprocess, &call, &error) != 0)
        rc = s_reply_pg_failed (connection, "reprocess", error);
    else {
        zetl_log_info ("http", "api_reprocess",
                       json_pack ("{s:s, s:s, s:I, s:I}", "pipeline", pipeline->id, "reason",
                                  call.reason, "request", (json_int_t) call.id, "records",
                                  (json_int_t) call.records));
        rc = zetl_http_reply_json (
            connection, MHD_HTTP_ACCEPTED,
            json_pack ("{s:I, s:I, s:s, s:s}", "request", (json_int_t) call.id, "records",
                       (json_int_t) call.records, "pipeline", pipeline->id, "reason", call.reason),
            NULL);
    }
    free (error);
    return rc;
}

static int
s_do_cleanup (PGconn *conn, void *arg, char **error)
{
    s_call_t *call = (s_call_t *) arg;
    if (zetl_cleanup_request (conn, &call->id) == 0)
        return 0;
    s_pg_error (conn, error);
    return -1;
}

static enum MHD_Result
s_cleanup (zetl_http_t *self, struct MHD_Connection *connection, json_t *body)
{
    static const char *const allowed[] = {NULL};
    const char *unknown = s_unknown_key (body, allowed);
    if (unknown)
        return s_reply_unknown_key (connection, unknown, "none");
    //  Retention applies to day-partitioned targets: their old days are dropped
    json_t *targets = json_array ();
    for (size_t p = 0; p < self->config->pipeline_count; p++)
        for (size_t t = 0; t < self->config->pipelines[p].target_count; t++)
            if (self->config->pipelines[p].targets[t].partition_by_day)
                json_array_append_new (targets,
                                       json_string (self->config->pipelines[p].targets[t].name));
    if (json_array_size (targets) == 0) {
        json_decref (targets);
        return zetl_http_reply_error (
            connection, MHD_HTTP_CONFLICT,
            "no target has partition_by_day: retention drops day partitions, "
            "so there is nothing to clean up",
            NULL);
    }
    s_call_t call = {NULL, false, NULL, 0, 0};
    char *error = NULL;
    enum MHD_Result rc;
    if (s_pg_run (self, s_do_cleanup, &call, &error) != 0) {
        json_decref (targets);
        rc = s_reply_pg_failed (connection, "cleanup", error);
    }
    else {
        zetl_log_info ("http", "api_cleanup", json_pack ("{s:I}", "request", (json_int_t) call.id));
        rc = zetl_http_reply_json (
            connection, MHD_HTTP_ACCEPTED,
            json_pack ("{s:I, s:o, s:s}", "request", (json_int_t) call.id, "targets", targets,
                       "message",
                       "each sink writing these targets drops the day partitions "
                       "past retention within a few seconds"),
            NULL);
    }
    free (error);
    return rc;
}

//  ---------------------------------------------------------------------
//  Entry points (zetl_http_internal.h)

enum MHD_Result
zetl_http_post (zetl_http_t *self, struct MHD_Connection *connection,
                const zetl_http_request_t *request, json_t *body)
{
    if (request->route == ZETL_HTTP_CLEANUP)
        return s_cleanup (self, connection, body);
    const zetl_pipeline_t *pipeline = zetl_config_pipeline (self->config, request->id);
    if (!pipeline) {
        char *message =
            zsys_sprintf ("no pipeline '%s'; GET /api/v1/pipelines lists them", request->id);
        enum MHD_Result rc = zetl_http_reply_error (connection, MHD_HTTP_NOT_FOUND, message, NULL);
        free (message);
        return rc;
    }
    if (request->route == ZETL_HTTP_REFRESH)
        return s_refresh (self, connection, pipeline, body);
    return s_reprocess (self, connection, pipeline, body);
}

void
zetl_http_post_close (zetl_http_t *self)
{
    assert (self);
    if (self->pg) {
        PQfinish (self->pg);
        self->pg = NULL;
    }
}
