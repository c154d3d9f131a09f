/*  zetl_http_fetch - one page of an HTTP JSON API, fetched until it comes

    The request side of the HTTP source (zetl_source_http): a GET with
    libcurl's easy interface on the source actor's own thread, one
    connection kept alive between pages. Configured once from the source's
    settings: its headers, with ${NAME} in a value read from the environment
    (so secrets stay out of the YAML; a missing variable is an error at
    start), its timeout (connection included), redirects followed (http and
    https only), compressed bodies accepted.

    zetl_http_fetch_page retries until a page comes, an outage delays
    records and never drops them:
      - network errors, timeouts, 5xx and 429: again after an exponential
        backoff (100 ms doubling to 5 s, jittered, zetl_backoff), or after
        the server's Retry-After (seconds or an HTTP date; at most 10 min)
        when it is longer;
      - a body the caller's ACCEPT callback refuses (not JSON, no records
        array where configured): logged and retried like a 5xx;
      - other 4xx (and 3xx that were not followed): an error that names the
        status and what to check, then again every minute, since only the
        operator can fix it; nothing is dead-lettered for it.
    Failures are logged at most every 10 s per source, with a count; the
    first success after logged failures is logged once. Waits go through the
    caller's WAIT callback and a transfer in progress through its STOP
    callback, so the actor stays responsive to its pipe meanwhile.

    Owned by one source actor; nothing is shared between threads.
*/
#ifndef ZETL_HTTP_FETCH_H_INCLUDED
#define ZETL_HTTP_FETCH_H_INCLUDED

#include "zetl_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zetl_http_fetch zetl_http_fetch_t;

//  What the last attempt got: borrowed, valid until the next attempt
typedef struct {
    long status;       //  HTTP status of the last response (0: none)
    const char *body;  //  the body, NUL-terminated (never NULL)
    size_t len;        //  bytes in body
    const char *url;   //  the URL the body came from, after redirects
    char *link_next;   //  the target of a Link header's rel="next", as written, or NULL
} zetl_http_response_t;

//  Wait up to MS for the pipe; return false when the actor must stop
typedef bool (zetl_http_wait_fn) (void *arg, int64_t ms);
//  Look at the pipe without waiting; return true when the actor must stop
typedef bool (zetl_http_stop_fn) (void *arg);
//  Judge a 2xx RESPONSE: NULL to take it, else why it is unusable (a
//  static string or one valid until the next call)
typedef const char *(zetl_http_accept_fn) (void *arg, const zetl_http_response_t *response);

typedef struct {
    zetl_http_wait_fn *wait;
    zetl_http_stop_fn *stop;
    zetl_http_accept_fn *accept;
    void *arg;  //  passed to each
} zetl_http_hooks_t;

//  Set up requests for SOURCE (borrowed: must outlive the result) of
//  pipeline PIPELINE_ID (borrowed, for logs). Returns NULL with *ERROR set
//  (caller frees) when a header names an environment variable that is not
//  set, or libcurl cannot start. Caller owns the result.
zetl_http_fetch_t *zetl_http_fetch_new (const zetl_source_t *source, const char *pipeline_id,
                                        char **error);

//  Destroy SELF and set *SELF_P to NULL. Does nothing if *SELF_P is NULL.
void zetl_http_fetch_destroy (zetl_http_fetch_t **self_p);

//  GET URL until HOOKS->accept takes a 2xx response. Returns 0 with the
//  response in *RESPONSE (borrowed until the next call), or -1 when a hook
//  said to stop.
int zetl_http_fetch_page (zetl_http_fetch_t *self, const char *url, const zetl_http_hooks_t *hooks,
                          const zetl_http_response_t **response);

//  Requests sent and failures retried since SELF was created (for logs).
uint64_t zetl_http_fetch_requests (const zetl_http_fetch_t *self);
uint64_t zetl_http_fetch_failures (const zetl_http_fetch_t *self);

//  VALUE with each ${NAME} replaced by the environment variable NAME.
//  Returns the result (caller frees), or NULL with *ERROR set (caller
//  frees) when a variable is not set or a ${ is not closed. A $ not
//  followed by { is kept as it is.
char *zetl_http_expand_env (const char *value, char **error);

#endif
