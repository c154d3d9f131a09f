/*  zetl_main - what the main () of every zetl process shares  */
#include "zetl_main.h"
#include "zetl_log.h"

#include <malloc.h>
#include <signal.h>

#define S_SIGNAL_CHECK_MS 200  //  how often zetl_main_run looks for a signal another thread took

void
zetl_main_init (const char *proc)
{
    zetl_log_init (proc);
    //  Batches and chunks are buffers of a few MiB made and freed all the
    //  time: keep them on the heap instead of mapping and zeroing fresh pages
    //  each time (memory stays bounded by the batches held)
    mallopt (M_MMAP_THRESHOLD, 64 * 1024 * 1024);
    mallopt (M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    zsys_init ();
    //  A peer that goes away mid-write (Redis, an HTTP client) is an error to
    //  handle where it happens, not a signal that ends the process
    signal (SIGPIPE, SIG_IGN);
}

int
zetl_main_option (int option, const char *proc, void (*usage) (FILE *out))
{
    switch (option) {
    case 'h':
        usage (stdout);
        return 0;
    case 'V':
        printf ("%s %s\n", proc, ZETL_VERSION);
        return 0;
    case '?':
        usage (stderr);
        return 2;
    default:
        return -1;
    }
}

void
zetl_main_default_name (const char *role, char *name, size_t size)
{
    snprintf (name, size, "%s-%d", role, (int) getpid ());
}

int
zetl_main_run (zactor_t **actor_p)
{
    int rc = 0;
    //  SIGINT/SIGTERM may land on any thread (libzmq's, libmicrohttpd's):
    //  czmq's handler then sets zsys_interrupted without waking this one,
    //  so it looks at the flag at least every S_SIGNAL_CHECK_MS
    zpoller_t *poller = zpoller_new (*actor_p, NULL);
    while (!zsys_interrupted) {
        if (!zpoller_wait (poller, S_SIGNAL_CHECK_MS))
            continue;  //  A timeout, or interrupted: the loop's test decides
        char *status = NULL, *detail = NULL;
        if (zsock_recv (*actor_p, "ss", &status, &detail) != 0)
            break;  //  Interrupted
        bool done = streq (status, "DONE") || streq (status, "FAILED");
        if (done)
            rc = streq (status, "DONE") ? atoi (detail ? detail : "0") : 1;
        free (status);
        free (detail);
        if (done)
            break;
    }
    zpoller_destroy (&poller);
    zactor_destroy (actor_p);
    return rc;
}

int
zetl_main_curve (zetl_curve_args_t *args, const char *proc)
{
    zetl_curve_args_from_env (args);
    char *error = NULL;
    if (zetl_curve_setup (args, &error) == 0)
        return 0;
    fprintf (stderr, "%s: %s\n", proc, error);
    free (error);
    return 2;
}
