/*  zetlctl - the zetl operator CLI

    zetlctl <command> [options]: finds the command in the table below and
    hands it the rest of the command line. Each command lives in
    ctl/zetl_ctl_<command>.c and prints its own --help.
*/
#include "zetl_ctl.h"
#include "zetl_main.h"

#include <signal.h>
#include "zetl_log.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;                    //  the word after zetlctl
    int (*run) (int argc, char **argv);  //  gets argv[0] = name, returns the exit code
    const char *summary;                 //  one line for the usage text
    bool connects;                       //  it connects to a coordinator: CURVE applies
} s_command_t;

// clang-format off
static const s_command_t s_commands[] = {
    {"up",  zetl_ctl_up,  "run a whole zetl cluster on this host (coordinator, workers, sinks)", true},
    {"gen", zetl_ctl_gen, "write synthetic data: bookings with known disorder (gen bookings), hotels (gen hotels)", false},
    {"reprocess", zetl_ctl_reprocess, "send a pipeline's dead letters (e.g. too_late) back through it", false},
    {"refresh", zetl_ctl_refresh, "ask a PostgreSQL or HTTP source to read now (--force: from the start)", false},
    {"status", zetl_ctl_status, "show each pipeline's watermark, arrival classes and load (from the event socket)", true},
    {"top", zetl_ctl_top, "watch a running cluster live: pipelines, rates, lag, workers, membership (event socket)", true},
    {"produce", zetl_ctl_produce, "send JSON lines to a pipeline as a producer and wait until they are ACKed", true},
    {"lut", zetl_ctl_lut, "load a lookup table into Redis from CSV (lut load), list the tables (lut list)", false},
    {"keys", zetl_ctl_keys, "make a CURVE key pair (keys new NAME) for a coordinator, worker, sink or producer", false},
    {NULL, NULL, NULL, false}};
// clang-format on

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: zetlctl <command> [options]\n"
                  "       zetlctl <command> --help\n"
                  "       zetlctl --help | --version\n\n"
                  "Commands:\n");
    for (const s_command_t *command = s_commands; command->name; command++)
        fprintf (out, "  %-10s %s\n", command->name, command->summary);
    fprintf (out, "\nEnvironment: ZETL_POSTGRES, ZETL_REDIS, ZETL_COORDINATOR, ZETL_LOG_LEVEL;\n"
                  "ZETL_CURVE_CERT and ZETL_CURVE_SERVER for a cluster with CURVE (docs/SECURITY.md).\n"
                  "Exit codes: 0 success, 1 failure, 2 bad usage.\n");
}

int
main (int argc, char **argv)
{
    zetl_log_init ("zetlctl");
    signal (SIGPIPE, SIG_IGN);  //  A server gone mid-write is an error to report, not a signal
    if (argc < 2) {
        s_usage (stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0 || strcmp (name, "help") == 0) {
        s_usage (stdout);
        return 0;
    }
    if (strcmp (name, "--version") == 0 || strcmp (name, "-V") == 0) {
        printf ("zetlctl %s\n", ZETL_VERSION);
        return 0;
    }
    for (const s_command_t *command = s_commands; command->name; command++)
        if (strcmp (name, command->name) == 0) {
            zetl_curve_args_t curve = {.connects = true};
            if (command->connects && zetl_main_curve (&curve, "zetlctl") != 0)
                return 2;
            int rc = command->run (argc - 1, argv + 1);
            zetl_curve_teardown ();
            return rc;
        }

    fprintf (stderr, "zetlctl: unknown command '%s'\n\n", name);
    s_usage (stderr);
    return 2;
}
