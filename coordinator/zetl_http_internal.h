/*  zetl_http_internal - the HTTP server's state, shared by its files

    Internal to coordinator/: zetl_http.c holds the daemon, the request's
    life, routing and the token check; zetl_http_get.c the GET handlers
    (answers from the latest status); zetl_http_page.c the status page
    served at GET /; zetl_http_post.c the POST handlers and their
    PostgreSQL connection; zetl_http_reply.c the replies and JSON errors. One thread (libmicrohttpd's polling
    thread) runs every handler, so nothing here takes a lock.
*/
#ifndef ZETL_HTTP_INTERNAL_H_INCLUDED
#define ZETL_HTTP_INTERNAL_H_INCLUDED

#include "zetl_http.h"
#include "zetl_http_reply.h"
#include "zetl_log.h"

#include <czmq.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <sys/socket.h>

#define ZETL_HTTP_ID_MAX 64  //  longest pipeline id in a path

struct zetl_http {
    const zetl_config_t *config;
    zetl_snapshot_t *snapshot;
    zetl_snapshot_t *alerts;          //  the alert flags, or NULL
    char *token;                      //  the API token, or NULL: POST calls refused
    struct sockaddr_storage address;  //  cluster.http, resolved
    char *host;                       //  its host as written, for logs
    struct MHD_Daemon *daemon;        //  NULL while not bound
    zactor_t *retry;                  //  binds again every few seconds, or NULL
    int port;                         //  the bound port (atomic: any thread reads it)
    PGconn *pg;                       //  the HTTP thread's own connection, or NULL (POST)
    zetl_log_limit_t refused;         //  "api_refused" logs
    zetl_log_limit_t server_errors;   //  libmicrohttpd's own messages
};

typedef enum {
    ZETL_HTTP_NONE = 0,
    ZETL_HTTP_PAGE,  //  GET /: the status page
    ZETL_HTTP_HEALTHZ,
    ZETL_HTTP_READYZ,
    ZETL_HTTP_METRICS,
    ZETL_HTTP_STATUS,
    ZETL_HTTP_PIPELINES,
    ZETL_HTTP_PIPELINE,
    ZETL_HTTP_REFRESH,
    ZETL_HTTP_REPROCESS,
    ZETL_HTTP_CLEANUP
} zetl_http_route_t;

//  One request, from its first call to its end (MHD's per-request state)
typedef struct {
    zetl_http_route_t route;
    char id[ZETL_HTTP_ID_MAX + 1];  //  the pipeline id in the path
    char *body;                     //  the body so far (POST), or NULL
    size_t body_len;
    bool too_large;  //  more than ZETL_HTTP_BODY_MAX came: the rest is dropped
    bool answered;   //  a response is queued
} zetl_http_request_t;

//  zetl_http_get.c: answer a GET (or HEAD) of REQUEST's route from the
//  latest status. Queues the response; returns MHD's result.
enum MHD_Result zetl_http_get (zetl_http_t *self, struct MHD_Connection *connection,
                               const zetl_http_request_t *request);

//  zetl_http_page.c: the status page (HTML) and its length in *LEN.
//  Static: valid for the life of the process, never freed.
const char *zetl_http_page (size_t *len);

//  zetl_http_post.c: act on a POST of REQUEST's route, whose token was
//  checked and whose BODY (a JSON object, or NULL when empty; borrowed)
//  was read. Queues the response; returns MHD's result.
enum MHD_Result zetl_http_post (zetl_http_t *self, struct MHD_Connection *connection,
                                const zetl_http_request_t *request, json_t *body);

//  zetl_http_post.c: close the POST calls' PostgreSQL connection, if open.
//  Call once no handler runs any more.
void zetl_http_post_close (zetl_http_t *self);

#endif
