/*  zetl-coordinator - reads sources, shards records to workers, tracks every batch  */
#include "zetl_alerts.h"
#include "zetl_config.h"
#include "zetl_curve.h"
#include "zetl_dispatch.h"
#include "zetl_http.h"
#include "zetl_log.h"
#include "zetl_main.h"

#include <curl/curl.h>
#include <getopt.h>

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: zetl-coordinator --config FILE [--once]\n"
                  "Reads the pipelines' sources, partitions records, dispatches batches to\n"
                  "workers with credit, and tracks each batch until a sink commits it.\n\n"
                  "  --config FILE  the pipeline configuration (YAML; see docs/CONFIG.md)\n"
                  "  --once         stop when every source is drained and committed, print the\n"
                  "                 reconciliation (one JSON line per pipeline) and exit\n"
                  "  --help, --version\n\n"
                  "HTTP (cluster.http): /healthz, /readyz, /metrics, /api/v1/... (docs/API.md).\n\n"
                  "Environment: ZETL_POSTGRES overrides postgres:, ZETL_LOG_LEVEL;\n"
                  "ZETL_API_TOKEN enables the API's POST calls (Authorization: Bearer).\n"
                  "Exit codes: 0 done, 1 failure, 2 bad configuration or usage, 3 the\n"
                  "reconciliation does not balance.\n");
}

//  Whether ENDPOINT is reached only from this host (ipc, inproc, or TCP on loopback)
static bool
s_local_only (const char *endpoint)
{
    if (!endpoint || zetl_config_off (endpoint) || strncmp (endpoint, "tcp://", 6) != 0)
        return true;
    const char *host = endpoint + 6;
    return strncmp (host, "127.", 4) == 0 || strncmp (host, "localhost:", 10) == 0
           || strncmp (host, "[::1]:", 6) == 0;
}

//  CURVE as the environment (ZETL_CURVE_CERT, ZETL_CURVE_ALLOWED) or the
//  curve: section says; a warning when the sockets are open beyond this
//  host in the clear. Returns 0, or 2 after a message.
static int
s_secure (const zetl_config_t *config)
{
    zetl_curve_args_t curve = {.serves = true};
    zetl_curve_args_from_env (&curve);
    if (!curve.certificate)
        curve.certificate = config->curve.certificate;
    if (!curve.allowed)
        curve.allowed = config->curve.allowed;
    if (zetl_main_curve (&curve, "zetl-coordinator") != 0)
        return 2;
    const char *endpoints[] = {config->cluster.workers, config->cluster.sinks,
                               config->cluster.producers, config->cluster.events};
    for (size_t index = 0; index < sizeof endpoints / sizeof endpoints[0]; index++)
        if (!zetl_curve_on () && !s_local_only (endpoints[index]))
            zetl_log_warn ("coordinator", "listening_in_clear",
                           json_pack ("{s:s, s:s}", "endpoint", endpoints[index], "hint",
                                      "anyone who reaches it can join: configure curve: "
                                      "(docs/SECURITY.md) or bind to 127.0.0.1"));
    return 0;
}

int
main (int argc, char **argv)
{
    zetl_main_init ("zetl-coordinator");
    static const struct option options[] = {{"config", required_argument, NULL, 'c'},
                                            {"once", no_argument, NULL, 'o'},
                                            {"help", no_argument, NULL, 'h'},
                                            {"version", no_argument, NULL, 'V'},
                                            {NULL, 0, NULL, 0}};
    const char *path = NULL;
    bool once = false;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (option == 'c')
            path = optarg;
        else if (option == 'o')
            once = true;
        else
            return zetl_main_option (option, "zetl-coordinator", s_usage);
    }
    if (!path) {
        s_usage (stderr);
        return 2;
    }
    char *error = NULL;
    zetl_config_t *config = zetl_config_load (path, &error);
    if (!config) {
        fprintf (stderr, "%s\n", error);
        free (error);
        return 2;
    }
    if (!config->postgres || !*config->postgres) {
        fprintf (stderr, "%s: no PostgreSQL configured; set postgres: or ZETL_POSTGRES\n", path);
        zetl_config_destroy (&config);
        return 2;
    }
    if (s_secure (config) != 0) {
        zetl_config_destroy (&config);
        return 2;
    }
    //  Once, before any thread: HTTP sources use libcurl
    curl_global_init (CURL_GLOBAL_DEFAULT);
    //  The dispatcher publishes its status to the snapshot; the HTTP server serves it, with
    //  the alert flags judged beside it in their own. With http: off, none of the three
    zetl_snapshot_t *snapshot = NULL, *alerts = NULL;
    zetl_http_t *http = NULL;
    zactor_t *judge = NULL;
    if (!zetl_config_off (config->cluster.http)) {
        snapshot = zetl_snapshot_new ();
        alerts = zetl_snapshot_new ();
        zetl_http_args_t http_args = {config, snapshot, getenv ("ZETL_API_TOKEN"), alerts};
        http = zetl_http_new (&http_args);
        if (!http) {
            zetl_snapshot_destroy (&alerts);
            zetl_snapshot_destroy (&snapshot);
            zetl_config_destroy (&config);
            curl_global_cleanup ();
            return 2;  //  cluster.http does not resolve (logged)
        }
        zetl_alerts_args_t alerts_args = {config, snapshot, alerts};
        judge = zactor_new (zetl_alerts_actor, &alerts_args);
    }
    zetl_dispatch_args_t args = {config, config->postgres, once, snapshot};
    zactor_t *dispatch = zactor_new (zetl_dispatch_actor, &args);
    int rc = zetl_main_run (&dispatch);
    zactor_destroy (&judge);
    zetl_http_destroy (&http);
    zetl_snapshot_destroy (&alerts);
    zetl_snapshot_destroy (&snapshot);
    zetl_config_destroy (&config);
    zetl_curve_teardown ();
    curl_global_cleanup ();
    zetl_log_info ("coordinator", "stopped", json_pack ("{s:i}", "exit_code", rc));
    return rc;
}
