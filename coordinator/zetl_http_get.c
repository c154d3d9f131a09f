/*  zetl_http_get - the HTTP server's GET handlers

    Part of the HTTP server (zetl_http_internal.h): /healthz, /readyz,
    /metrics, /api/v1/status and /api/v1/pipelines[/{id}], each answered
    from the latest status the dispatcher published (zetl_snapshot), and
    the status page (GET /, zetl_http_page). Nothing here changes state.
*/
#include "zetl_alerts.h"
#include "zetl_http_internal.h"
#include "zetl_metrics.h"
#include "zetl_time.h"

#define S_STALE_US (10 * 1000000LL)  //  a status older than this: the dispatcher is stuck

//  The pipeline ID in STATUS, or NULL. Borrowed from STATUS.
static json_t *
s_status_pipeline (json_t *status, const char *id)
{
    json_t *pipelines = json_object_get (status, "pipelines");
    for (size_t index = 0; index < json_array_size (pipelines); index++) {
        json_t *pipeline = json_array_get (pipelines, index);
        const char *name = json_string_value (json_object_get (pipeline, "id"));
        if (name && streq (name, id))
            return pipeline;
    }
    return NULL;
}

//  "not ready: A; B" from the missing parts in READINESS. Caller frees it.
static char *
s_not_ready (const json_t *readiness)
{
    char *message = strdup ("not ready: ");
    json_t *missing = json_object_get (readiness, "missing");
    for (size_t index = 0; index < json_array_size (missing); index++) {
        const char *part = json_string_value (json_array_get (missing, index));
        char *longer = zsys_sprintf ("%s%s%s", message, index ? "; " : "", part ? part : "");
        free (message);
        message = longer;
    }
    return message;
}

static enum MHD_Result
s_readyz (struct MHD_Connection *connection, json_t *status)
{
    if (!status)
        return zetl_http_reply_error (
            connection, MHD_HTTP_SERVICE_UNAVAILABLE,
            "not ready: the coordinator has not started its pipelines yet (it "
            "waits for PostgreSQL, or, as a standby, for the pipelines' lease)",
            NULL);
    int64_t age_us = zetl_time_now_us () -
                     (int64_t) json_integer_value (json_object_get (status, "generated_us"));
    json_t *readiness = json_object_get (status, "readiness");
    if (age_us > S_STALE_US) {
        char message[160];
        snprintf (message, sizeof message,
                  "not ready: the latest status is %d s old: the dispatcher is not answering",
                  (int) (age_us / 1000000));
        return zetl_http_reply_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE, message, NULL);
    }
    if (json_is_true (json_object_get (status, "ready")))
        return zetl_http_reply_json (connection, MHD_HTTP_OK,
                                     json_pack ("{s:b, s:O?}", "ready", 1, "readiness", readiness),
                                     NULL);
    char *message = s_not_ready (readiness);
    json_t *reply = zetl_http_error_json (MHD_HTTP_SERVICE_UNAVAILABLE, message);
    free (message);
    json_object_set (reply, "readiness", readiness);
    return zetl_http_reply_json (connection, MHD_HTTP_SERVICE_UNAVAILABLE, reply, NULL);
}

//  GET /api/v1/pipelines: each pipeline without its per-partition detail
static json_t *
s_pipelines (json_t *status)
{
    json_t *list = json_array ();
    json_t *pipelines = json_object_get (status, "pipelines");
    for (size_t index = 0; index < json_array_size (pipelines); index++) {
        json_t *pipeline =
            json_copy (json_array_get (pipelines, index));  //  Shallow: members shared
        json_object_del (pipeline, "partitions_held");
        json_array_append_new (list, pipeline);
    }
    return json_pack ("{s:O?, s:O?, s:o}", "cluster", json_object_get (status, "cluster"),
                      "generated_at", json_object_get (status, "generated_at"), "pipelines", list);
}

//  Answer REQUEST from STATUS (borrowed; NULL before the first one)
static enum MHD_Result
s_from_status (zetl_http_t *self, struct MHD_Connection *connection,
               const zetl_http_request_t *request, json_t *status)
{
    if (request->route == ZETL_HTTP_READYZ)
        return s_readyz (connection, status);
    if (request->route == ZETL_HTTP_METRICS) {
        size_t len = 0;
        char *text = zetl_metrics_render (self->config->cluster.name, status, &len);
        return zetl_http_reply (connection, MHD_HTTP_OK, text, len, ZETL_METRICS_CONTENT_TYPE,
                                NULL);
    }
    if (request->route == ZETL_HTTP_STATUS && !status)
        return zetl_http_reply_json (connection, MHD_HTTP_OK,
                                     json_pack ("{s:s, s:s, s:b, s:[]}", "cluster",
                                                self->config->cluster.name, "state", "starting",
                                                "ready", 0, "pipelines"),
                                     NULL);
    if (!status)
        return zetl_http_reply_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                                      "the coordinator has not started its pipelines yet", NULL);
    if (request->route == ZETL_HTTP_STATUS) {
        json_t *copy = json_copy (status);  //  Shallow: members shared, never changed
        json_object_set_new (copy, "api", json_pack ("{s:b}", "mutations", self->token != NULL));
        return zetl_http_reply_json (connection, MHD_HTTP_OK, copy, NULL);
    }
    if (request->route == ZETL_HTTP_PIPELINES)
        return zetl_http_reply_json (connection, MHD_HTTP_OK, s_pipelines (status), NULL);
    json_t *pipeline = s_status_pipeline (status, request->id);
    return pipeline ? zetl_http_reply_json (connection, MHD_HTTP_OK, json_incref (pipeline), NULL)
                    : zetl_http_reply_error (connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                                             "the pipeline has not started yet", NULL);
}

enum MHD_Result
zetl_http_get (zetl_http_t *self, struct MHD_Connection *connection,
               const zetl_http_request_t *request)
{
    if (request->route == ZETL_HTTP_PAGE) {
        size_t len = 0;
        const char *html = zetl_http_page (&len);
        return zetl_http_reply_page (connection, html, len);
    }
    if (request->route == ZETL_HTTP_HEALTHZ)
        return zetl_http_reply_json (connection, MHD_HTTP_OK, json_pack ("{s:s}", "status", "ok"),
                                     NULL);
    if (request->route == ZETL_HTTP_PIPELINE && !zetl_config_pipeline (self->config, request->id)) {
        char *message =
            zsys_sprintf ("no pipeline '%s'; GET /api/v1/pipelines lists them", request->id);
        enum MHD_Result rc = zetl_http_reply_error (connection, MHD_HTTP_NOT_FOUND, message, NULL);
        free (message);
        return rc;
    }
    json_t *status = zetl_snapshot_get (self->snapshot);
    json_t *alerts = self->alerts ? zetl_snapshot_get (self->alerts) : NULL;
    json_t *merged = zetl_alerts_merge (status, alerts);
    enum MHD_Result rc = s_from_status (self, connection, request, merged);
    json_decref (merged);
    json_decref (alerts);
    json_decref (status);
    return rc;
}
