/*  zetl-worker - validates, transforms and enriches batches; stateless  */
#include "zetl_main.h"
#include "zetl_worker_server.h"

#include <getopt.h>

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: zetl-worker [options]\n"
                  "Takes batches from the coordinator, turns them into result rows and sends\n"
                  "them to the sink each batch names. Stateless: start or stop any number.\n\n"
                  "  --coordinator EP  coordinator's worker endpoint (ZETL_COORDINATOR,\n"
                  "                    default tcp://127.0.0.1:5571)\n"
                  "  --name NAME       this worker's name (default worker-<pid>)\n"
                  "  --help, --version\n");
}

int
main (int argc, char **argv)
{
    zetl_main_init ("zetl-worker");
    static const struct option options[] = {{"coordinator", required_argument, NULL, 'c'},
                                            {"name", required_argument, NULL, 'n'},
                                            {"help", no_argument, NULL, 'h'},
                                            {"version", no_argument, NULL, 'V'},
                                            {NULL, 0, NULL, 0}};
    const char *env = getenv ("ZETL_COORDINATOR");
    zetl_worker_server_args_t args = {env ? env : "tcp://127.0.0.1:5571", NULL};
    char default_name[64];
    zetl_main_default_name ("worker", default_name, sizeof default_name);
    args.name = default_name;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (option == 'c')
            args.coordinator = optarg;
        else if (option == 'n')
            args.name = optarg;
        else
            return zetl_main_option (option, "zetl-worker", s_usage);
    }
    zetl_curve_args_t curve = {.connects = true};
    if (zetl_main_curve (&curve, "zetl-worker") != 0)
        return 2;
    zactor_t *server = zactor_new (zetl_worker_server_actor, &args);
    int rc = zetl_main_run (&server);
    zetl_curve_teardown ();
    return rc;
}
