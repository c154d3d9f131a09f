/*  zetl-worker - validates, transforms and enriches batches; stateless  */
#include "zetl_log.h"
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
    zetl_log_init ("zetl-worker");
    zsys_init ();
    static const struct option options[] = {{"coordinator", required_argument, NULL, 'c'},
                                            {"name", required_argument, NULL, 'n'},
                                            {"help", no_argument, NULL, 'h'},
                                            {"version", no_argument, NULL, 'V'},
                                            {NULL, 0, NULL, 0}};
    const char *env = getenv ("ZETL_COORDINATOR");
    zetl_worker_server_args_t args = {env ? env : "tcp://127.0.0.1:5571", NULL};
    char default_name[64];
    snprintf (default_name, sizeof default_name, "worker-%d", (int) getpid ());
    args.name = default_name;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'c': args.coordinator = optarg; break;
        case 'n': args.name = optarg; break;
        case 'h': s_usage (stdout); return 0;
        case 'V': printf ("zetl-worker %s\n", ZETL_VERSION); return 0;
        default: s_usage (stderr); return 2;
        }
    }
    zactor_t *server = zactor_new (zetl_worker_server_actor, &args);
    //  Wait for SIGINT/SIGTERM
    while (!zsys_interrupted) {
        char *message = zstr_recv (server);
        if (!message)
            break;
        free (message);
    }
    zactor_destroy (&server);
    return 0;
}
