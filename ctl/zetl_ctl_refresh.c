/*  zetl_ctl_refresh - `zetlctl refresh`: ask a PostgreSQL or HTTP source to read now

    Records a refresh request (zetl_checkpoint) for a pipeline whose source
    is a PostgreSQL table or an HTTP API. A running coordinator picks it up
    within a second and starts a run at once instead of waiting for the
    schedule; with --force a PostgreSQL run reads the whole table, whatever
    the extraction watermark says (rows at or below it count as re-reads),
    and an HTTP one starts again from the first page. --wait waits
    until that run has ended and its watermark is written.
*/
#include "zetl_checkpoint.h"
#include "zetl_config.h"
#include "zetl_ctl.h"

#include <czmq.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: zetlctl refresh --config FILE PIPELINE [--force] [--wait]\n"
             "                       [--timeout SECONDS] [--run-dir DIR]\n"
             "Asks PIPELINE's PostgreSQL or HTTP source to read now rather than at its next\n"
             "scheduled run; --force reads the whole table (or from the first page). Prints {\"request\":ID}. --wait\n"
             "waits until the run has ended (at most --timeout seconds, default 600).\n"
             "Without postgres: in FILE, uses the local server under DIR/pg (default run).\n");
}

typedef struct {
    const char *config_path;
    const char *pipeline;
    const char *run_dir;
    bool force;
    bool wait;
    int timeout_s;
} s_options_t;

static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option table[] = {
        {"config", required_argument, NULL, 'c'}, {"force", no_argument, NULL, 'f'},
        {"wait", no_argument, NULL, 'w'},         {"timeout", required_argument, NULL, 't'},
        {"run-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    options->run_dir = "run";
    options->timeout_s = 600;
    int option;
    optind = 1;
    while ((option = getopt_long (argc, argv, "", table, NULL)) != -1) {
        switch (option) {
        case 'c': options->config_path = optarg; break;
        case 'f': options->force = true; break;
        case 'w': options->wait = true; break;
        case 't': options->timeout_s = atoi (optarg); break;
        case 'd': options->run_dir = optarg; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind == argc - 1)
        options->pipeline = argv[optind];
    if (!options->config_path || !options->pipeline || options->timeout_s < 1) {
        s_usage (stderr);
        return 2;
    }
    return -1;
}

//  True once request ID is taken and the source's checkpoint written after it
static bool
s_done (PGconn *conn, const char *pipeline, const char *checkpoint, int64_t id)
{
    char id_text[24];
    snprintf (id_text, sizeof id_text, "%" PRId64, id);
    const char *params[3] = {id_text, pipeline, checkpoint};
    PGresult *res = PQexecParams (conn,
                                  "SELECT EXISTS (SELECT FROM zetl_refresh_requests r"
                                  " JOIN zetl_checkpoints c ON c.pipeline = r.pipeline"
                                  " WHERE r.id = $1::bigint AND c.pipeline = $2 AND c.source = $3"
                                  " AND c.finished_at >= r.taken_at)",
                                  3, NULL, params, NULL, NULL, 0);
    bool done = PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res) == 1
                && PQgetvalue (res, 0, 0)[0] == 't';
    PQclear (res);
    return done;
}

static int
s_run (PGconn *conn, const zetl_pipeline_t *pipeline, void *arg)
{
    const s_options_t *options = (const s_options_t *) arg;
    int64_t id = 0;
    if (zetl_checkpoint_request_refresh (conn, pipeline->id, options->force, &id) != 0) {
        fprintf (stderr, "zetlctl refresh: cannot record the request: %s", PQerrorMessage (conn));
        return 1;
    }
    printf ("{\"request\":%" PRId64 "}\n", id);
    fflush (stdout);
    if (!options->wait)
        return 0;
    //  The name each source's position has in zetl_checkpoints
    char checkpoint[96];
    if (pipeline->source.type == ZETL_SOURCE_HTTP)
        snprintf (checkpoint, sizeof checkpoint, "http");
    else
        snprintf (checkpoint, sizeof checkpoint, "pg:%s", pipeline->source.table);
    int64_t deadline = zclock_mono () + (int64_t) options->timeout_s * 1000;
    while (!s_done (conn, pipeline->id, checkpoint, id)) {
        if (zclock_mono () >= deadline) {
            fprintf (stderr, "zetlctl refresh: request %" PRId64 " has not ended after %d s; is a "
                             "coordinator running this pipeline?\n", id, options->timeout_s);
            return 1;
        }
        zclock_sleep (200);  //  poll interval, until the deadline
    }
    return 0;
}

//  Refresh applies to sources that read again by themselves
static bool
s_refreshable (const zetl_pipeline_t *pipeline)
{
    return pipeline->source.type == ZETL_SOURCE_POSTGRES || pipeline->source.type == ZETL_SOURCE_HTTP;
}

int
zetl_ctl_refresh (int argc, char **argv)
{
    s_options_t options = {0};
    int rc = s_parse (argc, argv, &options);
    if (rc >= 0)
        return rc;
    return zetl_ctl_pipeline_run ("refresh", options.config_path, options.pipeline,
                                  options.run_dir, s_refreshable, "with a postgres or http source",
                                  s_run, &options);
}
