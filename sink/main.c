/*  zetl-sink - writes result batches to their targets and reports commits  */
#include "zetl_log.h"
#include "zetl_main.h"
#include "zetl_sink_server.h"

#include <getopt.h>

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: zetl-sink [options]\n"
             "Writes the result batches workers send it into its pipelines' targets\n"
             "(PostgreSQL tables, files), idempotently, and reports each commit to the\n"
             "coordinator.\n\n"
             "  --coordinator EP  coordinator's sink endpoint (ZETL_COORDINATOR_SINKS,\n"
             "                    default tcp://127.0.0.1:5572)\n"
             "  --name NAME       this sink's name (default sink-<pid>)\n"
             "  --bind EP         data endpoint to bind (default tcp://127.0.0.1:*)\n"
             "  --advertise EP    data endpoint workers connect to (default: the bound one)\n"
             "  --help, --version\n\n"
             "Environment: ZETL_POSTGRES (connection string, required), ZETL_LOG_LEVEL.\n");
}

int
main (int argc, char **argv)
{
    zetl_main_init ("zetl-sink");
    static const struct option options[] = {
        {"coordinator", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'n'},
        {"bind", required_argument, NULL, 'b'},        {"advertise", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},              {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *env = getenv ("ZETL_COORDINATOR_SINKS");
    zetl_sink_server_args_t args = {env ? env : "tcp://127.0.0.1:5572", NULL, "tcp://127.0.0.1:*",
                                    NULL, getenv ("ZETL_POSTGRES")};
    char default_name[64];
    zetl_main_default_name ("sink", default_name, sizeof default_name);
    args.name = default_name;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (option == 'c')
            args.coordinator = optarg;
        else if (option == 'n')
            args.name = optarg;
        else if (option == 'b')
            args.bind = optarg;
        else if (option == 'a')
            args.advertise = optarg;
        else
            return zetl_main_option (option, "zetl-sink", s_usage);
    }
    if (!args.postgres || !*args.postgres) {
        fprintf (stderr, "zetl-sink: ZETL_POSTGRES is not set; set it to a PostgreSQL connection "
                         "string such as \"host=/tmp/zetl port=5432 dbname=zetl\"\n");
        return 2;
    }
    zetl_curve_args_t curve = {.connects = true, .serves = true};
    if (zetl_main_curve (&curve, "zetl-sink") != 0)
        return 2;
    zactor_t *server = zactor_new (zetl_sink_server_actor, &args);
    int rc = zetl_main_run (&server);
    zetl_curve_teardown ();
    zetl_log_info ("sink", "stopped", NULL);
    return rc;
}
