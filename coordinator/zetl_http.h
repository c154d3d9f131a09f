/*  zetl_http - the coordinator's HTTP server: health, metrics, the API, a status page

    libmicrohttpd listening on cluster.http (host:port; port 0 takes any
    free port). It answers from the latest status the dispatcher published
    (zetl_snapshot) and never touches the dispatcher's state:

      GET  /                                 the status page: HTML reading /api/v1/status
      GET  /healthz                          200 while the process runs
      GET  /readyz                           200 when ready, else 503 and what is missing
      GET  /metrics                          Prometheus text (zetl_metrics)
      GET  /api/v1/status                    the whole status
      GET  /api/v1/pipelines[/{id}]          the pipelines, or one
      POST /api/v1/pipelines/{id}/refresh    {"force": bool}: a refresh request (zetl_checkpoint)
      POST /api/v1/pipelines/{id}/reprocess  {"reason": "too_late"}: a reprocess request
      POST /api/v1/cleanup                   run retention now (zetl_cleanup)

    Errors are {"error": {"status": N, "message": "..."}}. POST calls need
    "Authorization: Bearer <token>" (ZETL_API_TOKEN); with no token they
    are refused (403). docs/API.md and docs/openapi.yaml describe it all.

    zetl_http.c holds the daemon and each request's life, and hands it to
    zetl_http_get.c, zetl_http_post.c and zetl_http_page.c, which answer
    through zetl_http_reply.c (their shared state: zetl_http_internal.h).

    One thread: libmicrohttpd's internal polling thread runs every handler,
    one request at a time. Handlers are short (a snapshot reference, a
    render, one PostgreSQL statement), and a single thread lets the POST
    calls share one PostgreSQL connection with no lock. If the address is
    taken (another coordinator on this host, a standby), the error is
    logged and binding is tried again every few seconds.

    Created and destroyed by the coordinator's main (); the configuration
    and the snapshot are borrowed and must outlive it.
*/
#ifndef ZETL_HTTP_H_INCLUDED
#define ZETL_HTTP_H_INCLUDED

#include "zetl_config.h"
#include "zetl_snapshot.h"

#define ZETL_HTTP_BODY_MAX (64 * 1024)  //  larger request bodies get 413

typedef struct zetl_http zetl_http_t;

typedef struct {
    const zetl_config_t *config;  //  borrowed: cluster.http, the pipelines, postgres
    zetl_snapshot_t *snapshot;    //  borrowed: the status to serve
    const char *token;            //  the API token (copied), or NULL or "": POST calls refused
    zetl_snapshot_t *alerts;  //  borrowed, or NULL: the alert flags merged into it (zetl_alerts)
} zetl_http_args_t;

//  Start serving on ARGS->config->cluster.http; logs http_listening with
//  the port once bound. Returns NULL (logged) if the address does not
//  resolve. Caller owns the result.
zetl_http_t *zetl_http_new (const zetl_http_args_t *args);

//  Stop the server (requests in progress end), close its PostgreSQL
//  connection, free it and set *self_p to NULL. Does nothing if NULL.
void zetl_http_destroy (zetl_http_t **self_p);

//  The port it listens on, or 0 while the address is not bound yet.
int zetl_http_port (zetl_http_t *self);

#endif
