/*  http_test - zetl_http and zetl_metrics without a cluster

    A server on 127.0.0.1:0 serves a status made here, shaped as
    zetl_dispatch_status makes it: one pipeline of 64 partitions (all
    holding records) and 100 workers and 8 sinks, the size /metrics must
    answer in under 10 ms. Checks the rendered series, the answer time
    (best of 20 requests, printed), readiness from the snapshot (none yet,
    not ready, ready, stale), the status page at GET / (HTML, its fields,
    its Content-Security-Policy, nothing loaded from elsewhere), and every
    refusal that needs no PostgreSQL: 404, 405 with Allow, 403 without a
    token, 401, 400, 409, 413, and 503 when PostgreSQL cannot be reached. tests/integration/http_api.sh covers
    the rest on a running cluster.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <czmq.h>

#include "zetl_config.h"
#include "zetl_http.h"
#include "zetl_metrics.h"
#include "zetl_snapshot.h"
#include "zetl_time.h"

#define S_TOKEN "t0ken-for-tests"
#define S_PARTITIONS 64
#define S_WORKERS 100
#define S_SINKS 8

static const char *s_yaml =
    "cluster:\n"
    "  name: unit\n"
    "  http: 127.0.0.1:0\n"
    "postgres: \"host=/nonexistent/zetl-http-test port=1 dbname=zetl\"\n"
    "pipelines:\n"
    "  - id: bookings\n"
    "    source: { type: file, path: data/b.jsonl }\n"
    "    partition_key: hotel_id\n"
    "    partitions: 64\n"
    "    event_time: { field: updated_at }\n"
    "    schema:\n"
    "      booking_id: { type: string, required: true }\n"
    "      hotel_id: { type: int }\n"
    "      updated_at: { type: timestamp }\n"
    "      check_in: { type: date }\n"
    "    sinks:\n"
    "      - { type: postgres, table: bookings, primary_key: [booking_id] }\n";

typedef struct {
    zetl_config_t *config;
    zetl_snapshot_t *snapshot;
    zetl_http_t *http;   //  with the token
    zetl_http_t *open;   //  without one
    char body[1 << 20];  //  the last reply's body
    size_t body_len;
    char allow[64];  //  its Allow header
    char type[64];   //  its Content-Type header
    char csp[512];   //  its Content-Security-Policy header
} s_env_t;

//  A status as zetl_dispatch_status makes it, READY or not, made AGE_S seconds ago
static json_t *
s_status (bool ready, int age_s)
{
    int64_t now_us = zetl_time_now_us () - (int64_t) age_s * 1000000;
    json_t *partitions = json_array ();
    for (int number = 0; number < S_PARTITIONS; number++)
        json_array_append_new (partitions,
                               json_pack ("{s:i, s:i, s:i, s:i, s:b}", "partition", number,
                                          "records_held", 2000, "batches_waiting", 1,
                                          "records_building", 0, "in_flight", 1));
    json_t *pipeline = json_pack (
        "{s:s, s:s, s:b, s:i, s:I, s:s, s:f, s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i,"
        " s:i, s:i, s:f}, s:{s:i, s:i, s:i, s:i, s:i}, s:i, s:{s:i, s:i}, s:I, s:I, s:o}",
        "id", "bookings", "source", "file", "ordered", 0, "partitions", S_PARTITIONS,
        "watermark_us", (json_int_t) (now_us - 5000000), "watermark", "2026-01-01T00:00:00Z",
        "watermark_lag_seconds", 5.0, "arrival", "records_in", 1000000, "reprocessed", 0, "on_time",
        990000, "out_of_order", 300000, "late", 9000, "too_late", 1000, "deduplicated", 50000,
        "id_conflicts", 12, "dedup_evicted_early", 0, "dedup_keys", 950000, "dedup_bytes", 22800000,
        "dedup_window_seconds", 3600.0, "queue", "records_held", 128000, "batches_held", 128,
        "batches_waiting", 64, "batches_in_flight", 64, "partitions_backlogged", 64,
        "committed_records", 872000, "reorder", "held", 0, "overflow", 0, "last_record_us",
        (json_int_t) now_us, "last_commit_us", (json_int_t) now_us, "partitions_held", partitions);
    json_t *workers = json_array (), *sinks = json_array ();
    for (int index = 0; index < S_WORKERS; index++) {
        char name[32];
        snprintf (name, sizeof name, "worker-%02d", index);
        json_array_append_new (workers, json_pack ("{s:s, s:i, s:i, s:i, s:b}", "name", name,
                                                   "credit", 4, "assigned", 1, "last_seen_ms_ago",
                                                   200, "stalled", index == 7));
    }
    for (int index = 0; index < S_SINKS; index++)
        json_array_append_new (sinks, json_pack ("{s:s, s:i, s:i, s:i, s:s}", "name",
                                                 index ? "sink-b" : "sink-\"a\"", "credit", 48,
                                                 "assigned", 8, "last_seen_ms_ago", 100, "endpoint",
                                                 "tcp://127.0.0.1:5580"));
    json_t *missing = json_array ();
    if (!ready)
        json_array_append_new (missing, json_string ("no sink is connected"));
    return json_pack ("{s:s, s:s, s:s, s:I, s:b, s:{s:b, s:n, s:i, s:i, s:b, s:o}, s:i, s:i, s:i,"
                      " s:i, s:[], s:[o], s:o, s:o}",
                      "cluster", "unit", "state", "running", "generated_at",
                      "2026-11-23T14:00:00.000000Z", "generated_us", (json_int_t) now_us, "ready",
                      ready, "readiness", "postgres", 1, "redis", "workers", S_WORKERS, "sinks",
                      S_SINKS, "draining", 0, "missing", missing, "batches_held", 128,
                      "records_held", 128000, "redispatched", 3, "connections", 108,
                      "lookup_tables", "pipelines", pipeline, "workers", workers, "sinks", sinks);
}

static void
s_publish (s_env_t *env, bool ready, int age_s)
{
    json_t *status = s_status (ready, age_s);
    assert_non_null (status);
    zetl_snapshot_publish (env->snapshot, &status);
    assert_null (status);
}

static size_t
s_write (char *data, size_t size, size_t count, void *arg)
{
    s_env_t *env = (s_env_t *) arg;
    size_t len = size * count;
    if (env->body_len + len < sizeof env->body) {
        memcpy (env->body + env->body_len, data, len);
        env->body_len += len;
        env->body[env->body_len] = '\0';
    }
    return len;
}

static size_t
s_header (char *data, size_t size, size_t count, void *arg)
{
    s_env_t *env = (s_env_t *) arg;
    size_t len = size * count;
    if (len > 7 && strncasecmp (data, "Allow: ", 7) == 0)
        snprintf (env->allow, sizeof env->allow, "%.*s", (int) (len - 9), data + 7);
    if (len > 14 && strncasecmp (data, "Content-Type: ", 14) == 0)
        snprintf (env->type, sizeof env->type, "%.*s", (int) (len - 16), data + 14);
    if (len > 25 && strncasecmp (data, "Content-Security-Policy: ", 25) == 0)
        snprintf (env->csp, sizeof env->csp, "%.*s", (int) (len - 27), data + 25);
    return len;
}

//  METHOD PATH on HTTP with HEADER (or NULL) and BODY (or NULL). Returns the
//  status; *SECONDS the time it took.
static long
s_call (s_env_t *env, zetl_http_t *http, const char *method, const char *path, const char *header,
        const char *body, double *seconds)
{
    char url[128];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", zetl_http_port (http), path);
    CURL *curl = curl_easy_init ();
    struct curl_slist *headers = header ? curl_slist_append (NULL, header) : NULL;
    env->body_len = 0;
    env->body[0] = '\0';
    env->allow[0] = '\0';
    env->type[0] = '\0';
    env->csp[0] = '\0';
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    if (streq (method, "HEAD"))
        curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, env);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_header);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, env);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT, 30L);
    if (body)
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    assert_int_equal (curl_easy_perform (curl), CURLE_OK);
    long status = 0;
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    if (seconds)
        curl_easy_getinfo (curl, CURLINFO_TOTAL_TIME, seconds);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return status;
}

//  The call answers STATUS with the error object {"error": {"status": STATUS, …}}
static void
s_expect_error (s_env_t *env, zetl_http_t *http, long status, const char *method, const char *path,
                const char *header, const char *body)
{
    long got = s_call (env, http, method, path, header, body, NULL);
    if (got != status)
        fail_msg ("%s %s: %ld, not %ld: %s", method, path, got, status, env->body);
    json_t *reply = json_loads (env->body, 0, NULL);
    assert_non_null (reply);
    json_t *error = json_object_get (reply, "error");
    assert_int_equal (json_integer_value (json_object_get (error, "status")), status);
    assert_true (json_string_length (json_object_get (error, "message")) > 0);
    json_decref (reply);
}

static int
s_setup (void **state)
{
    unsetenv ("ZETL_POSTGRES");
    s_env_t *env = (s_env_t *) calloc (1, sizeof (s_env_t));
    char *error = NULL;
    env->config = zetl_config_parse (s_yaml, strlen (s_yaml), "http_test.yaml", &error);
    if (!env->config)
        fail_msg ("%s", error);
    env->snapshot = zetl_snapshot_new ();
    zetl_http_args_t args = {env->config, env->snapshot, S_TOKEN, NULL};
    env->http = zetl_http_new (&args);
    args.token = "";
    env->open = zetl_http_new (&args);
    assert_non_null (env->http);
    assert_non_null (env->open);
    assert_true (zetl_http_port (env->http) > 0);
    *state = env;
    return 0;
}

static int
s_teardown (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    zetl_http_destroy (&env->http);
    zetl_http_destroy (&env->open);
    zetl_snapshot_destroy (&env->snapshot);
    zetl_config_destroy (&env->config);
    free (env);
    return 0;
}

static void
test_metrics_render (void **state)
{
    (void) state;
    json_t *status = s_status (true, 0);
    size_t len = 0;
    double best = 1e9;
    char *text = NULL;
    for (int round = 0; round < 5; round++) {
        free (text);
        int64_t start = zclock_usecs ();
        text = zetl_metrics_render ("unit", status, &len);
        double took = (double) (zclock_usecs () - start) / 1000.0;
        best = took < best ? took : best;
    }
    printf ("metrics render: %zu bytes, best of 5 %.3f ms (64 partitions, 100 workers)\n", len,
            best);
    assert_int_equal (strlen (text), len);
    assert_non_null (strstr (text, "# TYPE zetl_records_in_total counter\n"));
    assert_non_null (strstr (text, "# HELP zetl_watermark_lag_seconds "));
    assert_non_null (
        strstr (text, "\nzetl_records_in_total{cluster=\"unit\",pipeline=\"bookings\"} 1000000\n"));
    assert_non_null (
        strstr (text, "\nzetl_queue_records{cluster=\"unit\",pipeline=\"bookings\"} 128000\n"));
    assert_non_null (strstr (text, "\nzetl_watermark_lag_seconds{cluster=\"unit\",pipeline="
                                   "\"bookings\"} 5.000000\n"));
    assert_non_null (
        strstr (text, "\nzetl_worker_stalled{cluster=\"unit\",worker=\"worker-07\"} 1\n"));
    assert_non_null (
        strstr (text, "\nzetl_sink_credit{cluster=\"unit\",sink=\"sink-\\\"a\\\"\"} 48\n"));
    assert_non_null (strstr (text, "\nzetl_ready{cluster=\"unit\"} 1\n"));
    //  Every worker has its credit
    int credits = 0;
    for (const char *p = text; (p = strstr (p, "\nzetl_worker_credit{")); p++)
        credits++;
    assert_int_equal (credits, S_WORKERS);
    free (text);
    json_decref (status);
    //  No status yet: only "not ready"
    text = zetl_metrics_render ("unit", NULL, &len);
    assert_non_null (strstr (text, "\nzetl_ready{cluster=\"unit\"} 0\n"));
    assert_null (strstr (text, "zetl_records_in_total{"));
    free (text);
}

static void
test_metrics_answer_time (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    s_publish (env, true, 0);
    double best = 1e9, seconds = 0;
    for (int round = 0; round < 20; round++) {
        assert_int_equal (s_call (env, env->http, "GET", "/metrics", NULL, NULL, &seconds), 200);
        best = seconds < best ? seconds : best;
    }
    printf ("GET /metrics: %zu bytes, best of 20 %.3f ms (64 partitions, 100 workers)\n",
            env->body_len, best * 1000);
    assert_non_null (
        strstr (env->body, "zetl_worker_credit{cluster=\"unit\",worker=\"worker-99\"} 4"));
    assert_true (best < 0.010);
}

static void
test_readiness (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    zetl_snapshot_t *empty = zetl_snapshot_new ();
    zetl_http_args_t args = {env->config, empty, NULL, NULL};
    zetl_http_t *starting = zetl_http_new (&args);
    assert_int_equal (s_call (env, starting, "GET", "/healthz", NULL, NULL, NULL), 200);
    s_expect_error (env, starting, 503, "GET", "/readyz", NULL, NULL);
    assert_non_null (strstr (env->body, "has not started"));
    assert_int_equal (s_call (env, starting, "GET", "/api/v1/status", NULL, NULL, NULL), 200);
    assert_non_null (strstr (env->body, "\"state\":\"starting\""));
    s_expect_error (env, starting, 503, "GET", "/api/v1/pipelines", NULL, NULL);
    zetl_http_destroy (&starting);
    zetl_snapshot_destroy (&empty);

    s_publish (env, false, 0);
    s_expect_error (env, env->http, 503, "GET", "/readyz", NULL, NULL);
    assert_non_null (strstr (env->body, "not ready: no sink is connected"));
    s_publish (env, true, 30);
    s_expect_error (env, env->http, 503, "GET", "/readyz", NULL, NULL);
    assert_non_null (strstr (env->body, "the dispatcher is not answering"));
    s_publish (env, true, 0);
    assert_int_equal (s_call (env, env->http, "GET", "/readyz", NULL, NULL, NULL), 200);
    assert_int_equal (s_call (env, env->http, "HEAD", "/readyz", NULL, NULL, NULL), 200);
}

static void
test_get (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    s_publish (env, true, 0);
    assert_int_equal (s_call (env, env->http, "GET", "/api/v1/pipelines", NULL, NULL, NULL), 200);
    assert_non_null (strstr (env->body, "\"id\":\"bookings\""));
    assert_null (strstr (env->body, "partitions_held"));
    assert_int_equal (
        s_call (env, env->http, "GET", "/api/v1/pipelines/bookings", NULL, NULL, NULL), 200);
    assert_non_null (strstr (env->body, "\"partitions_held\":[{\"partition\":0,"));
    assert_int_equal (s_call (env, env->http, "GET", "/api/v1/status", NULL, NULL, NULL), 200);
    assert_non_null (strstr (env->body, "\"api\":{\"mutations\":true}"));
    assert_int_equal (s_call (env, env->open, "GET", "/api/v1/status", NULL, NULL, NULL), 200);
    assert_non_null (strstr (env->body, "\"api\":{\"mutations\":false}"));
    s_expect_error (env, env->http, 404, "GET", "/api/v1/pipelines/nope", NULL, NULL);
    s_expect_error (env, env->http, 404, "GET", "/api/v1/pipelines/", NULL, NULL);
    s_expect_error (env, env->http, 404, "GET", "/api/v1/pipelines/bookings/more", NULL, NULL);
    s_expect_error (env, env->http, 404, "GET", "/index.html", NULL, NULL);
    s_expect_error (env, env->http, 405, "DELETE", "/api/v1/status", NULL, NULL);
    assert_string_equal (env->allow, "GET, HEAD");
    s_expect_error (env, env->http, 405, "GET", "/api/v1/pipelines/bookings/refresh", NULL, NULL);
    assert_string_equal (env->allow, "POST");
}

//  GET /: one HTML page that reads /api/v1/status, with the fields the
//  browser test reads, loading nothing from elsewhere
static void
test_page (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    zetl_snapshot_t *empty = zetl_snapshot_new ();
    zetl_http_args_t args = {env->config, empty, NULL, NULL};
    zetl_http_t *starting = zetl_http_new (&args);
    //  Served before any status too: the page itself says the coordinator is starting
    assert_int_equal (s_call (env, starting, "GET", "/", NULL, NULL, NULL), 200);
    zetl_http_destroy (&starting);
    zetl_snapshot_destroy (&empty);

    assert_int_equal (s_call (env, env->http, "GET", "/", NULL, NULL, NULL), 200);
    assert_string_equal (env->type, "text/html; charset=utf-8");
    assert_non_null (strstr (env->csp, "default-src 'none'"));
    assert_non_null (strstr (env->csp, "connect-src 'self'"));
    assert_true (strncmp (env->body, "<!DOCTYPE html>", 15) == 0);
    assert_non_null (strstr (env->body, "</html>\n"));
    const char *needed[] = {
        "fetch('api/v1/status'", "'records_in'",   "'committed'", "'rate_in'",    "'watermark_lag'",
        "'queue_records'",       "'out_of_order'", "'late'",      "'too_late'",   "'deduplicated'",
        "'recon_records_in'",    "id='workers'",   "id='sinks'",  "id='missing'", "id='alerts'",
        "'data-pipeline'",       "textContent"};
    for (size_t index = 0; index < sizeof needed / sizeof needed[0]; index++)
        if (!strstr (env->body, needed[index]))
            fail_msg ("the page lacks %s", needed[index]);
    assert_null (strstr (env->body, "innerHTML"));
    assert_null (strstr (env->body, "http://"));
    assert_null (strstr (env->body, "https://"));
    assert_int_equal (s_call (env, env->http, "HEAD", "/", NULL, NULL, NULL), 200);
    s_expect_error (env, env->http, 405, "POST", "/", NULL, "{}");
    assert_string_equal (env->allow, "GET, HEAD");
}

static void
test_post_refused (void **state)
{
    s_env_t *env = (s_env_t *) *state;
    const char *paths[] = {"/api/v1/pipelines/bookings/refresh",
                           "/api/v1/pipelines/bookings/reprocess", "/api/v1/cleanup"};
    const char *good = "Authorization: Bearer " S_TOKEN;
    for (size_t index = 0; index < 3; index++) {
        const char *path = paths[index];
        s_expect_error (env, env->open, 403, "POST", path, good, "{}");
        s_expect_error (env, env->http, 401, "POST", path, NULL, "{}");
        s_expect_error (env, env->http, 401, "POST", path, "Authorization: Bearer " S_TOKEN "x",
                        "{}");
        s_expect_error (env, env->http, 401, "POST", path, "Authorization: Bearer t0ken", "{}");
        s_expect_error (env, env->http, 401, "POST", path, "Authorization: " S_TOKEN, "{}");
        s_expect_error (env, env->http, 400, "POST", path, good, "{\"force\": ");
        s_expect_error (env, env->http, 400, "POST", path, good, "\"text\"");
        s_expect_error (env, env->http, 400, "POST", path, good, "{\"other\": 1}");
    }
    s_expect_error (env, env->http, 404, "POST", "/api/v1/pipelines/nope/refresh", good, NULL);
    s_expect_error (env, env->http, 400, "POST", paths[0], good, "{\"force\": 1}");
    s_expect_error (env, env->http, 400, "POST", paths[1], good, "{\"reason\": \"Too Late\"}");
    s_expect_error (env, env->http, 409, "POST", paths[0], good, "{\"force\": true}");
    assert_non_null (strstr (env->body, "file source"));
    //  The pipeline is not day-partitioned: nothing to clean up
    s_expect_error (env, env->http, 409, "POST", paths[2], good, NULL);
    //  PostgreSQL cannot be reached: 503, saying so
    s_expect_error (env, env->http, 503, "POST", paths[1], good, "{\"reason\": \"too_late\"}");
    assert_non_null (strstr (env->body, "cannot record the reprocess request"));
    char *big = (char *) malloc (ZETL_HTTP_BODY_MAX + 2);
    memset (big, ' ', ZETL_HTTP_BODY_MAX + 1);
    big[ZETL_HTTP_BODY_MAX + 1] = '\0';
    s_expect_error (env, env->http, 413, "POST", paths[1], good, big);
    free (big);
}

int
main (void)
{
    curl_global_init (CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_metrics_render), cmocka_unit_test (test_metrics_answer_time),
        cmocka_unit_test (test_readiness),      cmocka_unit_test (test_get),
        cmocka_unit_test (test_page),           cmocka_unit_test (test_post_refused),
    };
    int rc = cmocka_run_group_tests (tests, s_setup, s_teardown);
    curl_global_cleanup ();
    return rc;
}
