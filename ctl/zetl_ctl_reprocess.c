/*  zetl_ctl_reprocess - `zetlctl reprocess`: send dead letters back through a pipeline

    Records a reprocess request (zetl_reprocess) for the dead letters of a
    pipeline with a given reason, typically too_late: the coordinator's
    reprocess source sends them past the lateness check, and each sink
    deletes a dead letter once its record is committed. A running
    coordinator picks the request up within a second; `zetlctl up --once`
    runs the requests pending when it starts. --wait waits until no dead
    letter of the request remains.

    PostgreSQL is the configuration's (postgres:, or ZETL_POSTGRES); without
    one, the local server `zetlctl up` keeps under RUN_DIR/pg, started for
    the moment if it is not running.
*/
#include "zetl_config.h"
#include "zetl_ctl.h"
#include "zetl_localpg.h"
#include "zetl_pg.h"
#include "zetl_reprocess.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: zetlctl reprocess --config FILE PIPELINE --reason REASON [--wait]\n"
             "                         [--timeout SECONDS] [--run-dir DIR]\n"
             "Sends PIPELINE's dead letters with REASON (e.g. too_late) back through the\n"
             "pipeline, past the lateness check; each is deleted from zetl_dead_letters once\n"
             "its record is committed. Prints {\"request\":ID,\"records\":N}. --wait waits until\n"
             "none remains (at most --timeout seconds, default 600; exit 1 if some remain).\n"
             "Without postgres: in FILE, uses the local server under DIR/pg (default run).\n");
}

typedef struct {
    const char *config_path;
    const char *pipeline;
    const char *reason;
    const char *run_dir;
    bool wait;
    int timeout_s;
} s_options_t;

static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option table[] = {
        {"config", required_argument, NULL, 'c'}, {"reason", required_argument, NULL, 'r'},
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
        case 'r': options->reason = optarg; break;
        case 'w': options->wait = true; break;
        case 't': options->timeout_s = atoi (optarg); break;
        case 'd': options->run_dir = optarg; break;
        case 'h': s_usage (stdout); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    if (optind == argc - 1)
        options->pipeline = argv[optind];
    if (!options->config_path || !options->pipeline || !options->reason
        || options->timeout_s < 1) {
        s_usage (stderr);
        return 2;
    }
    return -1;
}

//  Wait until no dead letter of REQUEST remains. Returns the exit code.
static int
s_wait (PGconn *conn, int64_t request, int timeout_s)
{
    int64_t deadline = zclock_mono () + (int64_t) timeout_s * 1000;
    int64_t remaining;
    while ((remaining = zetl_reprocess_remaining (conn, request)) > 0
           && zclock_mono () < deadline)
        zclock_sleep (200);
    if (remaining == 0)
        return 0;
    fprintf (stderr,
             "zetlctl reprocess: %" PRId64 " dead letters of request %" PRId64
             " remain after %d s; is a coordinator running this pipeline?\n",
             remaining, request, timeout_s);
    return 1;
}

static int
s_run (PGconn *conn, const zetl_pipeline_t *pipeline, void *arg)
{
    (void) pipeline;
    const s_options_t *options = (const s_options_t *) arg;
    int64_t request = 0, records = 0;
    char *error = NULL;
    if (zetl_reprocess_request (conn, options->pipeline, options->reason, &request, &records,
                                &error)
        != 0) {
        fprintf (stderr, "zetlctl reprocess: %s\n", error);
        free (error);
        return 1;
    }
    printf ("{\"request\":%" PRId64 ",\"records\":%" PRId64 "}\n", request, records);
    fflush (stdout);
    return options->wait ? s_wait (conn, request, options->timeout_s) : 0;
}

int
zetl_ctl_reprocess (int argc, char **argv)
{
    s_options_t options = {0};
    int rc = s_parse (argc, argv, &options);
    if (rc >= 0)
        return rc;
    return zetl_ctl_pipeline_run ("reprocess", options.config_path, options.pipeline,
                                  options.run_dir, NULL, "", s_run, &options);
}
