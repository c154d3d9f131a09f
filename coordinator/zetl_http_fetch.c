/*  zetl_http_fetch - one page of an HTTP JSON API, fetched until it comes  */
#include "zetl_http_fetch.h"
#include "zetl_backoff.h"
#include "zetl_log.h"

#include <ctype.h>
#include <curl/curl.h>
#include <czmq.h>
#include <time.h>

#define S_RETRY_INITIAL_MS 100          //  first wait after a failure
#define S_RETRY_CAP_MS 5000             //  longest wait after network errors, 5xx and 429
#define S_REFUSED_MS 60000              //  wait after a 4xx: the operator must act
#define S_RETRY_AFTER_MAX_MS 600000     //  a longer Retry-After is cut to this
#define S_LOG_EVERY_MS 10000            //  failures are logged at most this often
#define S_MAX_BODY (256 * 1024 * 1024)  //  a larger page is refused: lower page_size

typedef enum {
    S_TAKEN,    //  a 2xx the caller accepted
    S_RETRY,    //  network error, timeout, 5xx, 429, unusable body: back off and retry
    S_REFUSED,  //  another 4xx or 3xx: the operator must act; retry slowly
    S_STOPPED,  //  the actor must stop
} s_outcome_t;

struct zetl_http_fetch {
    const zetl_source_t *source;
    const char *pipeline_id;
    CURL *curl;                      //  one handle: its connection is kept alive
    struct curl_slist *headers;      //  the configured headers, environment expanded
    char error[CURL_ERROR_SIZE];     //  libcurl's message for the last failure
    zchunk_t *body;                  //  the body being received
    bool too_large;                  //  the body passed S_MAX_BODY
    const zetl_http_hooks_t *hooks;  //  during zetl_http_fetch_page
    zetl_http_response_t response;
    zetl_backoff_t backoff;     //  network errors, 5xx, 429, unusable bodies
    zetl_log_limit_t fail_log;  //  failures logged at most every S_LOG_EVERY_MS
    uint64_t requests;          //  attempts so far
    uint64_t failures;          //  failed attempts so far
    uint64_t failing;           //  failures in a row, since the last success
    bool failing_logged;        //  one of them was logged: so is the recovery
};

char *
zetl_http_expand_env (const char *value, char **error)
{
    zchunk_t *out = zchunk_new (NULL, strlen (value) + 1);
    const char *at = value;
    while (*at) {
        const char *dollar = strstr (at, "${");
        if (!dollar) {
            zchunk_extend (out, at, strlen (at));
            break;
        }
        zchunk_extend (out, at, (size_t) (dollar - at));
        const char *close = strchr (dollar + 2, '}');
        if (!close) {
            *error = zsys_sprintf ("'${' without a closing '}' in a header value; write ${NAME}");
            zchunk_destroy (&out);
            return NULL;
        }
        char *name = strndup (dollar + 2, (size_t) (close - dollar - 2));
        const char *env = getenv (name);
        if (!env) {
            *error = zsys_sprintf ("the environment variable %s that a header value names is not "
                                   "set; export it before starting zetl",
                                   name);
            free (name);
            zchunk_destroy (&out);
            return NULL;
        }
        zchunk_extend (out, env, strlen (env));
        free (name);
        at = close + 1;
    }
    zchunk_extend (out, "", 1);
    char *result = strdup ((const char *) zchunk_data (out));
    zchunk_destroy (&out);
    return result;
}

//  The configured headers as "Name: value" lines. Returns 0, or -1 with *ERROR set.
static int
s_build_headers (zetl_http_fetch_t *self, char **error)
{
    const zetl_source_t *source = self->source;
    self->headers = curl_slist_append (NULL, "Accept: application/json");
    for (size_t index = 0; index < source->header_count; index++) {
        const char *name = source->headers[2 * index];
        char *value = zetl_http_expand_env (source->headers[2 * index + 1], error);
        if (!value) {
            char *detail = *error;
            *error = zsys_sprintf ("source.headers.%s: %s", name, detail);
            free (detail);
            return -1;
        }
        char *line = zsys_sprintf ("%s: %s", name, value);
        self->headers = curl_slist_append (self->headers, line);
        //  The value may be a secret: leave no copy behind
        memset (value, 0, strlen (value));
        memset (line, 0, strlen (line));
        free (value);
        free (line);
    }
    return 0;
}

static size_t
s_on_body (char *data, size_t size, size_t count, void *arg)
{
    zetl_http_fetch_t *self = (zetl_http_fetch_t *) arg;
    size_t bytes = size * count;
    if (zchunk_size (self->body) + bytes > S_MAX_BODY) {
        self->too_large = true;
        return 0;  //  Ends the transfer with CURLE_WRITE_ERROR
    }
    zchunk_extend (self->body, data, bytes);
    return bytes;
}

//  Called by libcurl during a transfer: a STOP or $TERM aborts it
static int
s_on_progress (void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
               curl_off_t ulnow)
{
    (void) dltotal, (void) dlnow, (void) ultotal, (void) ulnow;
    zetl_http_fetch_t *self = (zetl_http_fetch_t *) arg;
    return self->hooks && self->hooks->stop (self->hooks->arg) ? 1 : 0;
}

zetl_http_fetch_t *
zetl_http_fetch_new (const zetl_source_t *source, const char *pipeline_id, char **error)
{
    *error = NULL;
    zetl_http_fetch_t *self = (zetl_http_fetch_t *) zmalloc (sizeof (zetl_http_fetch_t));
    self->source = source;
    self->pipeline_id = pipeline_id;
    self->body = zchunk_new (NULL, 64 * 1024);
    zetl_backoff_init (&self->backoff, S_RETRY_INITIAL_MS, S_RETRY_CAP_MS);
    if (s_build_headers (self, error) != 0) {
        zetl_http_fetch_destroy (&self);
        return NULL;
    }
    self->curl = curl_easy_init ();
    if (!self->curl) {
        *error = strdup ("libcurl could not start (curl_easy_init failed); check memory");
        zetl_http_fetch_destroy (&self);
        return NULL;
    }
    CURL *curl = self->curl;
    curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, self->headers);
    curl_easy_setopt (curl, CURLOPT_USERAGENT, "zetl/" ZETL_VERSION);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long) source->timeout_ms);
    curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT_MS, (long) source->timeout_ms);
    curl_easy_setopt (curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt (curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (curl, CURLOPT_ACCEPT_ENCODING, "");  //  Every encoding libcurl has
    curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);         //  Threads: no SIGALRM for DNS timeouts
    curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, self->error);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, self);
    curl_easy_setopt (curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt (curl, CURLOPT_XFERINFOFUNCTION, s_on_progress);
    curl_easy_setopt (curl, CURLOPT_XFERINFODATA, self);
    return self;
}

void
zetl_http_fetch_destroy (zetl_http_fetch_t **self_p)
{
    assert (self_p);
    zetl_http_fetch_t *self = *self_p;
    if (self) {
        if (self->curl)
            curl_easy_cleanup (self->curl);
        curl_slist_free_all (self->headers);
        zchunk_destroy (&self->body);
        free (self->response.link_next);
        free (self);
        *self_p = NULL;
    }
}

//  The value of the last response's header NAME, or NULL. Borrowed from libcurl.
static const char *
s_header (zetl_http_fetch_t *self, const char *name, size_t index)
{
    struct curl_header *header = NULL;
    if (curl_easy_header (self->curl, name, index, CURLH_HEADER, -1, &header) != CURLHE_OK)
        return NULL;
    return header->value;
}

static size_t
s_header_count (zetl_http_fetch_t *self, const char *name)
{
    struct curl_header *header = NULL;
    if (curl_easy_header (self->curl, name, 0, CURLH_HEADER, -1, &header) != CURLHE_OK)
        return 0;
    return header->amount;
}

//  RFC 8288: in a Link header value, the target of the first link whose rel
//  holds "next" (caller frees), or NULL. Links are <target> then ;name=value
//  parameters (value a token or a quoted string), separated by commas.
static char *
s_link_next (const char *value)
{
    const char *at = value;
    while (*at) {
        at += strspn (at, " \t,");
        if (*at != '<')
            return NULL;
        const char *close = strchr (at, '>');
        if (!close)
            return NULL;
        const char *target = at + 1;
        size_t target_len = (size_t) (close - target);
        at = close + 1;
        bool next = false;
        while (true) {
            at += strspn (at, " \t");
            if (*at != ';')
                break;
            at++;
            at += strspn (at, " \t");
            size_t name_len = strcspn (at, " \t=;,");
            bool rel = name_len == 3 && strncasecmp (at, "rel", 3) == 0;
            at += name_len;
            at += strspn (at, " \t");
            if (*at != '=')
                continue;
            at++;
            at += strspn (at, " \t");
            const char *param;
            size_t param_len;
            if (*at == '"') {
                param = ++at;
                while (*at && *at != '"')
                    at += (*at == '\\' && at[1]) ? 2 : 1;
                param_len = (size_t) (at - param);
                if (*at == '"')
                    at++;
            }
            else {
                param = at;
                param_len = strcspn (at, " \t;,");
                at += param_len;
            }
            //  rel is a space-separated list of relation types
            for (size_t start = 0; rel && start < param_len;) {
                size_t end = start;
                while (end < param_len && param[end] != ' ')
                    end++;
                if (end - start == 4 && strncasecmp (param + start, "next", 4) == 0)
                    next = true;
                start = end + 1;
            }
        }
        if (next)
            return strndup (target, target_len);
        at += strcspn (at, ",");
    }
    return NULL;
}

//  Retry-After of the last response in ms (seconds or an HTTP date), or -1
static int64_t
s_retry_after_ms (zetl_http_fetch_t *self)
{
    const char *value = s_header (self, "Retry-After", 0);
    if (!value)
        return -1;
    int64_t ms = -1;
    if (isdigit ((unsigned char) value[0]))
        ms = strtoll (value, NULL, 10) * 1000;
    else {
        time_t when = curl_getdate (value, NULL);
        if (when != -1)
            ms = ((int64_t) when - (int64_t) time (NULL)) * 1000;
    }
    if (ms < 0)
        return -1;
    return ms < S_RETRY_AFTER_MAX_MS ? ms : S_RETRY_AFTER_MAX_MS;
}

//  What the response means for the source, with WHY it failed
static s_outcome_t
s_judge (zetl_http_fetch_t *self, CURLcode code, char *why, size_t why_size)
{
    if (code == CURLE_ABORTED_BY_CALLBACK)
        return S_STOPPED;
    if (self->too_large) {
        snprintf (why, why_size, "the page is larger than %d MiB; lower source.page_size",
                  S_MAX_BODY / (1024 * 1024));
        return S_REFUSED;
    }
    if (code != CURLE_OK) {
        snprintf (why, why_size, "%s", self->error[0] ? self->error : curl_easy_strerror (code));
        return S_RETRY;
    }
    long status = self->response.status;
    if (status >= 200 && status < 300) {
        const char *reason = self->hooks->accept (self->hooks->arg, &self->response);
        if (!reason)
            return S_TAKEN;
        snprintf (why, why_size, "HTTP %ld but %s", status, reason);
        return S_RETRY;
    }
    if (status >= 500 || status == 429 || status == 408) {
        snprintf (why, why_size, "HTTP %ld", status);
        return S_RETRY;
    }
    if (status == 401 || status == 403)
        snprintf (why, why_size,
                  "HTTP %ld: the server refuses the credentials; check "
                  "source.headers and the environment variables they name",
                  status);
    else if (status == 404 || status == 410)
        snprintf (why, why_size,
                  "HTTP %ld: no such page; check source.url and the "
                  "pagination settings",
                  status);
    else
        snprintf (why, why_size,
                  "HTTP %ld: the server refuses the request; check source.url, "
                  "source.headers and the pagination settings",
                  status);
    return S_REFUSED;
}

//  One GET of URL; what it means, WHY when it failed
static s_outcome_t
s_attempt (zetl_http_fetch_t *self, const char *url, char *why, size_t why_size)
{
    self->requests++;
    self->error[0] = 0;
    self->too_large = false;
    zchunk_set (self->body, NULL, 0);
    free (self->response.link_next);
    memset (&self->response, 0, sizeof self->response);
    curl_easy_setopt (self->curl, CURLOPT_URL, url);
    CURLcode code = curl_easy_perform (self->curl);
    zchunk_extend (self->body, "", 1);  //  NUL-terminated for the parsers
    long status = 0;
    char *effective = NULL;
    curl_easy_getinfo (self->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo (self->curl, CURLINFO_EFFECTIVE_URL, &effective);
    self->response.status = status;
    self->response.body = (const char *) zchunk_data (self->body);
    self->response.len = zchunk_size (self->body) - 1;
    self->response.url = effective ? effective : url;
    for (size_t index = 0;
         code == CURLE_OK && index < s_header_count (self, "Link") && !self->response.link_next;
         index++) {
        const char *link = s_header (self, "Link", index);
        self->response.link_next = link ? s_link_next (link) : NULL;
    }
    return s_judge (self, code, why, why_size);
}

//  Log a failed attempt (rate-limited, except refusals: they need the operator)
static void
s_log_failure (zetl_http_fetch_t *self, const char *url, s_outcome_t outcome, const char *why,
               int64_t wait_ms)
{
    bool refused = outcome == S_REFUSED;
    if (!refused && !zetl_log_every (&self->fail_log, S_LOG_EVERY_MS))
        return;
    self->failing_logged = true;
    json_t *fields =
        json_pack ("{s:s, s:s, s:s, s:I, s:I, s:I}", "pipeline", self->pipeline_id, "url", url,
                   "error", why, "status", (json_int_t) self->response.status, "retry_in_ms",
                   (json_int_t) wait_ms, "failures", (json_int_t) self->failing);
    if (refused)
        zetl_log_error ("http_source", "http_request_refused", fields);
    else
        zetl_log_warn ("http_source", "http_request_failed", fields);
}

int
zetl_http_fetch_page (zetl_http_fetch_t *self, const char *url, const zetl_http_hooks_t *hooks,
                      const zetl_http_response_t **response)
{
    self->hooks = hooks;
    int rc = -1;
    while (!hooks->stop (hooks->arg)) {
        char why[512] = "";
        s_outcome_t outcome = s_attempt (self, url, why, sizeof why);
        if (outcome == S_STOPPED)
            break;
        if (outcome == S_TAKEN) {
            if (self->failing_logged)
                zetl_log_info ("http_source", "http_recovered",
                               json_pack ("{s:s, s:s, s:I}", "pipeline", self->pipeline_id, "url",
                                          url, "failures", (json_int_t) self->failing));
            self->failing = 0;
            self->failing_logged = false;
            zetl_backoff_reset (&self->backoff);
            *response = &self->response;
            rc = 0;
            break;
        }
        self->failures++;
        self->failing++;
        int64_t wait_ms = S_REFUSED_MS;
        if (outcome == S_RETRY) {
            wait_ms = zetl_backoff_next (&self->backoff);
            int64_t retry_after_ms = s_retry_after_ms (self);
            if (retry_after_ms > wait_ms)
                wait_ms = retry_after_ms;
        }
        s_log_failure (self, url, outcome, why, wait_ms);
        if (!hooks->wait (hooks->arg, wait_ms))
            break;
    }
    self->hooks = NULL;
    return rc;
}

uint64_t
zetl_http_fetch_requests (const zetl_http_fetch_t *self)
{
    return self->requests;
}

uint64_t
zetl_http_fetch_failures (const zetl_http_fetch_t *self)
{
    return self->failures;
}
