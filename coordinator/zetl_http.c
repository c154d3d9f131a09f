/*  zetl_http - the coordinator's HTTP server: the daemon and each request's life

    The daemon (bound, or bound again while the address is taken), routing,
    the token check of POST calls, reading a POST's body, and handing each
    request to its handler: zetl_http_get.c answers GET, zetl_http_post.c
    POST, and zetl_http_reply.c forms the answers (zetl_http_internal.h).
*/
#include "zetl_http_internal.h"

#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>

#define S_RETRY_MS 5000       //  between tries to bind an address that is taken
#define S_CONNECTIONS_MAX 64  //  clients at once
#define S_IDLE_TIMEOUT_S 30   //  an idle client is closed after this

//  ---------------------------------------------------------------------
//  Routing

static zetl_http_route_t
s_route (const char *url, char *id)
{
    static const struct {
        const char *path;
        zetl_http_route_t route;
    } exact[] = {{"/", ZETL_HTTP_PAGE},
                 {"/healthz", ZETL_HTTP_HEALTHZ},
                 {"/readyz", ZETL_HTTP_READYZ},
                 {"/metrics", ZETL_HTTP_METRICS},
                 {"/api/v1/status", ZETL_HTTP_STATUS},
                 {"/api/v1/pipelines", ZETL_HTTP_PIPELINES},
                 {"/api/v1/cleanup", ZETL_HTTP_CLEANUP}};
    for (size_t index = 0; index < sizeof exact / sizeof exact[0]; index++)
        if (streq (url, exact[index].path))
            return exact[index].route;
    const char *prefix = "/api/v1/pipelines/";
    if (strncmp (url, prefix, strlen (prefix)) != 0)
        return ZETL_HTTP_NONE;
    const char *rest = url + strlen (prefix);
    const char *slash = strchr (rest, '/');
    size_t len = slash ? (size_t) (slash - rest) : strlen (rest);
    if (len == 0 || len > ZETL_HTTP_ID_MAX)
        return ZETL_HTTP_NONE;
    memcpy (id, rest, len);
    id[len] = '\0';
    if (!slash)
        return ZETL_HTTP_PIPELINE;
    if (streq (slash, "/refresh"))
        return ZETL_HTTP_REFRESH;
    return streq (slash, "/reprocess") ? ZETL_HTTP_REPROCESS : ZETL_HTTP_NONE;
}

static bool
s_is_post (zetl_http_route_t route)
{
    return route == ZETL_HTTP_REFRESH || route == ZETL_HTTP_REPROCESS || route == ZETL_HTTP_CLEANUP;
}

//  ---------------------------------------------------------------------
//  The request's life

//  POST calls: 0 when the token is configured and given, else the status
//  to refuse with (403: none configured; 401: missing or wrong) and *MESSAGE
static unsigned int
s_check_token (zetl_http_t *self, struct MHD_Connection *connection, const char **message)
{
    if (!self->token) {
        *message = "mutating calls are disabled: start the coordinator with ZETL_API_TOKEN set";
        return MHD_HTTP_FORBIDDEN;
    }
    const char *header =
        MHD_lookup_connection_value (connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!header) {
        *message = "missing Authorization: Bearer <token> (the coordinator's ZETL_API_TOKEN)";
        return MHD_HTTP_UNAUTHORIZED;
    }
    //  Constant time: every byte of the token is compared, whatever matched before
    const char *given = strncasecmp (header, "Bearer ", 7) == 0 ? header + 7 : "";
    size_t given_len = strlen (given), token_len = strlen (self->token);
    unsigned char diff = given_len != token_len;
    for (size_t index = 0; index < token_len; index++)
        diff |= (unsigned char) (self->token[index] ^ (index < given_len ? given[index] : 0));
    if (diff) {
        *message = "wrong token in Authorization: Bearer <token>";
        return MHD_HTTP_UNAUTHORIZED;
    }
    return 0;
}

//  The first call of a request: route, method, and for POST the token and
//  the announced length. Answers at once, or returns MHD_YES to read the body.
static enum MHD_Result
s_begin (zetl_http_t *self, struct MHD_Connection *connection, zetl_http_request_t *request,
         const char *url, const char *method)
{
    request->answered = true;
    if (request->route == ZETL_HTTP_NONE) {
        char *message = zsys_sprintf ("no such path: %s; see docs/API.md", url);
        enum MHD_Result rc = zetl_http_reply_error (connection, MHD_HTTP_NOT_FOUND, message, NULL);
        free (message);
        return rc;
    }
    bool post = s_is_post (request->route);
    if (post && !streq (method, MHD_HTTP_METHOD_POST))
        return zetl_http_reply_error (connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                                      "this path takes POST only", "POST");
    if (!post && !streq (method, MHD_HTTP_METHOD_GET) && !streq (method, MHD_HTTP_METHOD_HEAD))
        return zetl_http_reply_error (connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                                      "this path takes GET (or HEAD) only", "GET, HEAD");
    if (!post)
        return zetl_http_get (self, connection, request);
    const char *message = NULL;
    unsigned int refused = s_check_token (self, connection, &message);
    if (refused) {
        if (zetl_log_every (&self->refused, 10000))
            zetl_log_warn ("http", "api_refused",
                           json_pack ("{s:s, s:i, s:s, s:I}", "path", url, "status", (int) refused,
                                      "why", message, "seen", (json_int_t) self->refused.seen));
        return zetl_http_reply_error (connection, refused, message, NULL);
    }
    const char *length =
        MHD_lookup_connection_value (connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length && strtoull (length, NULL, 10) > ZETL_HTTP_BODY_MAX)
        return zetl_http_reply_error (connection, MHD_HTTP_CONTENT_TOO_LARGE,
                                      "the body is larger than 64 KiB", NULL);
    request->answered = false;
    return MHD_YES;
}

//  Keep up to ZETL_HTTP_BODY_MAX bytes of the body; past that, note it
static void
s_take_body (zetl_http_request_t *request, const char *data, size_t size)
{
    if (request->too_large || request->body_len + size > ZETL_HTTP_BODY_MAX) {
        request->too_large = true;
        return;
    }
    request->body = (char *) realloc (request->body, request->body_len + size + 1);
    assert (request->body);
    memcpy (request->body + request->body_len, data, size);
    request->body_len += size;
    request->body[request->body_len] = '\0';
}

//  The whole body is in: parse it and act
static enum MHD_Result
s_answer (zetl_http_t *self, struct MHD_Connection *connection, zetl_http_request_t *request)
{
    request->answered = true;
    if (request->too_large)
        return zetl_http_reply_error (connection, MHD_HTTP_CONTENT_TOO_LARGE,
                                      "the body is larger than 64 KiB", NULL);
    json_t *body = NULL;
    if (request->body_len > 0) {
        json_error_t error;
        body = json_loadb (request->body, request->body_len, 0, &error);
        if (!json_is_object (body)) {
            char *message = body ? strdup ("the body must be a JSON object")
                                 : zsys_sprintf ("the body is not JSON: %s (line %d, column %d)",
                                                 error.text, error.line, error.column);
            json_decref (body);
            enum MHD_Result rc =
                zetl_http_reply_error (connection, MHD_HTTP_BAD_REQUEST, message, NULL);
            free (message);
            return rc;
        }
    }
    enum MHD_Result rc = zetl_http_post (self, connection, request, body);
    json_decref (body);
    return rc;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **state_p)
{
    zetl_http_t *self = (zetl_http_t *) cls;
    (void) version;
    zetl_http_request_t *request = (zetl_http_request_t *) *state_p;
    if (!request) {
        request = (zetl_http_request_t *) zmalloc (sizeof (zetl_http_request_t));
        *state_p = request;
        request->route = s_route (url, request->id);
        return s_begin (self, connection, request, url, method);
    }
    if (*upload_data_size > 0) {
        if (!request->answered)
            s_take_body (request, upload_data, *upload_data_size);
        *upload_data_size = 0;  //  Taken (or, once answered, dropped)
        return MHD_YES;
    }
    return request->answered ? MHD_YES : s_answer (self, connection, request);
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **state_p,
             enum MHD_RequestTerminationCode why)
{
    (void) cls, (void) connection, (void) why;
    zetl_http_request_t *request = (zetl_http_request_t *) *state_p;
    if (request) {
        free (request->body);
        free (request);
        *state_p = NULL;
    }
}

//  libmicrohttpd's own messages, as log lines
static void
s_server_log (void *cls, const char *format, va_list args)
{
    zetl_http_t *self = (zetl_http_t *) cls;
    char text[512];
    vsnprintf (text, sizeof text, format, args);
    size_t len = strlen (text);
    while (len > 0 && text[len - 1] == '\n')
        text[--len] = '\0';
    if (zetl_log_every (&self->server_errors, 10000))
        zetl_log_warn (
            "http", "http_server_error",
            json_pack ("{s:s, s:I}", "error", text, "seen", (json_int_t) self->server_errors.seen));
}

//  ---------------------------------------------------------------------
//  Start and stop

//  Resolve cluster.http ("host:port", "[v6]:port", "*:port") into self->address
static int
s_resolve (zetl_http_t *self, const char *hostport)
{
    const char *colon = strrchr (hostport, ':');
    assert (colon);  //  The configuration checked host:port
    char *host = strndup (hostport, (size_t) (colon - hostport));
    size_t len = strlen (host);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        memmove (host, host + 1, len - 2);
        host[len - 2] = '\0';
    }
    struct addrinfo hints = {0}, *found = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo (streq (host, "*") ? NULL : host, colon + 1, &hints, &found);
    if (rc != 0 || !found) {
        zetl_log_error ("http", "http_address_invalid",
                        json_pack ("{s:s, s:s, s:s}", "address", hostport, "error",
                                   gai_strerror (rc), "hint",
                                   "set cluster.http to an address of this host and a port, "
                                   "such as 127.0.0.1:8080"));
        free (host);
        return -1;
    }
    memcpy (&self->address, found->ai_addr, found->ai_addrlen);
    freeaddrinfo (found);
    self->host = host;
    return 0;
}

//  Bind and start the daemon. Returns 0, or -1 (logged when LOG_FAILURE).
static int
s_start (zetl_http_t *self, bool log_failure)
{
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (self->address.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    //  The logger first, so that even the options' messages become log lines
    struct MHD_Daemon *daemon = MHD_start_daemon (
        flags, 0, NULL, NULL, s_handle, self, MHD_OPTION_EXTERNAL_LOGGER, s_server_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &self->address, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int) S_CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int) S_IDLE_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        MHD_OPTION_END);
    if (!daemon) {
        if (log_failure)
            zetl_log_error ("http", "http_bind_failed",
                            json_pack ("{s:s, s:s, s:i, s:s}", "address",
                                       self->config->cluster.http, "error", strerror (errno),
                                       "retry_ms", S_RETRY_MS, "hint",
                                       "another process holds the address (a second coordinator "
                                       "on this host?); set cluster.http, or port 0 for any"));
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
    int port = info ? (int) info->port : 0;
    self->daemon = daemon;
    __atomic_store_n (&self->port, port, __ATOMIC_RELEASE);
    char *address = zsys_sprintf (strchr (self->host, ':') ? "[%s]:%d" : "%s:%d", self->host, port);
    zetl_log_info (
        "http", "http_listening",
        json_pack ("{s:s, s:i, s:s}", "address", address, "port", port, "url", "/api/v1/status"));
    free (address);
    return 0;
}

//  While the address is taken: try again every S_RETRY_MS until bound or told to stop
static void
s_retry_actor (zsock_t *pipe, void *args)
{
    zetl_http_t *self = (zetl_http_t *) args;
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    while (!self->daemon) {
        void *which = zpoller_wait (poller, S_RETRY_MS);
        if (which == pipe || zpoller_terminated (poller))
            break;  //  $TERM (the caller owns the ending)
        s_start (self, false);
    }
    zpoller_destroy (&poller);
}

//  zetl_http_new, with the signals blocked
static zetl_http_t *
s_new (const zetl_http_args_t *args)
{
    assert (args && args->config && args->snapshot);
    zetl_http_t *self = (zetl_http_t *) zmalloc (sizeof (zetl_http_t));
    self->config = args->config;
    self->snapshot = args->snapshot;
    self->alerts = args->alerts;
    self->token = args->token && *args->token ? strdup (args->token) : NULL;
    if (s_resolve (self, args->config->cluster.http) != 0) {
        zetl_http_destroy (&self);
        return NULL;
    }
    if (s_start (self, true) != 0)
        self->retry = zactor_new (s_retry_actor, self);
    return self;
}

zetl_http_t *
zetl_http_new (const zetl_http_args_t *args)
{
    //  The threads started here (libmicrohttpd's, the retry actor and the
    //  daemon it starts) inherit this mask: SIGINT and SIGTERM stay with the
    //  main thread, whose wait a signal delivered elsewhere would not wake
    sigset_t blocked, saved;
    sigemptyset (&blocked);
    sigaddset (&blocked, SIGINT);
    sigaddset (&blocked, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &blocked, &saved);
    zetl_http_t *self = s_new (args);
    pthread_sigmask (SIG_SETMASK, &saved, NULL);
    return self;
}

void
zetl_http_destroy (zetl_http_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_http_t *self = *self_p;
        zactor_destroy (&self->retry);  //  First: it may start the daemon
        if (self->daemon)
            MHD_stop_daemon (self->daemon);  //  Joins its thread: no handler runs after
        zetl_http_post_close (self);
        free (self->token);
        free (self->host);
        free (self);
        *self_p = NULL;
    }
}

int
zetl_http_port (zetl_http_t *self)
{
    assert (self);
    return __atomic_load_n (&self->port, __ATOMIC_ACQUIRE);
}
