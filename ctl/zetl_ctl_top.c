/*  zetl_ctl_top - `zetlctl top`: a live view of a running cluster

    Subscribes to the coordinator's event socket (cluster.events of the
    configuration), keeps the latest state of each pipeline and worker in a
    zetl_ctl_top_view and draws it every interval: on a terminal it clears
    the screen and redraws in place; with --plain, or when stdout is not a
    terminal, each frame is plain text followed by a blank line.

    The first frame waits until an event has come (at most 5 s past when it
    was due), so no frame is empty; SIGINT and SIGTERM end it with exit 0.
*/
#include "zetl_config.h"
#include "zetl_ctl.h"
#include "zetl_curve.h"
#include "zetl_ctl_top_view.h"
#include "zetl_proto_event.h"
#include "zetl_time.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <unistd.h>

#define S_FIRST_FRAME_MS 1000  //  Longest wait for the first frame: stats come each second
#define S_SILENCE_MS 5000      //  No event this long past the first frame: nobody publishes
//  A first frame drawn late waits this long after the first event, for the
//  rest of that second's round of stats
#define S_SETTLE_MS 200

#define S_ANSI_CLEAR "\033[H\033[2J"
#define S_ANSI_HIDE_CURSOR "\033[?25l"
#define S_ANSI_SHOW_CURSOR "\033[?25h"

typedef struct {
    const char *config_path;  //  --config
    int64_t interval_ms;      //  --interval, in ms
    long iterations;          //  --iterations: frames to draw, 0 = until a signal
    bool plain;               //  --plain, or stdout is not a terminal
} s_options_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: zetlctl top --config FILE [--interval SECONDS] [--iterations N] [--plain]\n"
             "Shows a running cluster live, read from the coordinator's event socket\n"
             "(cluster.events): workers connected and desired, each pipeline's records in,\n"
             "committed and committed per second, watermark and lag, batches held, late,\n"
             "too late and duplicates; each worker's credit, batches, busy share, memory and\n"
             "state; the last membership changes.\n\n"
             "  --config FILE       the cluster's configuration (cluster.events is used)\n"
             "  --interval SECONDS  time between frames, 0.1 to 3600 (default 1)\n"
             "  --iterations N      stop after N frames (default 0: until Ctrl-C)\n"
             "  --plain             plain text frames separated by a blank line, no escape\n"
             "                      codes (the default when stdout is not a terminal)\n\n"
             "Exit 0 after N frames or on SIGINT/SIGTERM, 1 if no event comes within 5 s\n"
             "of the first frame, 2 on bad usage or a bad configuration.\n");
}

//  Parse TEXT as --interval SECONDS into *INTERVAL_MS. Returns 0 or -1.
static int
s_parse_interval (const char *text, int64_t *interval_ms)
{
    char *end = NULL;
    errno = 0;
    double seconds = strtod (text, &end);
    if (errno || end == text || *end || !isfinite (seconds) || seconds < 0.1 || seconds > 3600)
        return -1;
    *interval_ms = (int64_t) llround (seconds * 1000);
    return 0;
}

//  Parse TEXT as --iterations N into *ITERATIONS. Returns 0 or -1.
static int
s_parse_iterations (const char *text, long *iterations)
{
    char *end = NULL;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < 0)
        return -1;
    *iterations = value;
    return 0;
}

//  Parse one option of OPTION with OPTARG into OPTIONS. Returns -1, or the exit code.
static int
s_parse_option (int option, s_options_t *options)
{
    if (option == 'c')
        options->config_path = optarg;
    else if (option == 'p')
        options->plain = true;
    else if (option == 'i' && s_parse_interval (optarg, &options->interval_ms) != 0) {
        fprintf (stderr, "zetlctl top: --interval %s: use a number of seconds from 0.1 to 3600\n",
                 optarg);
        return 2;
    }
    else if (option == 'n' && s_parse_iterations (optarg, &options->iterations) != 0) {
        fprintf (stderr,
                 "zetlctl top: --iterations %s: use a whole number, 0 or more (0: until "
                 "Ctrl-C)\n",
                 optarg);
        return 2;
    }
    else if (option == 'h' || option == '?') {
        s_usage (option == 'h' ? stdout : stderr);
        return option == 'h' ? 0 : 2;
    }
    return -1;
}

//  Parse the command line into OPTIONS. Returns -1 to go on, or the exit code.
static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option long_options[] = {{"config", required_argument, NULL, 'c'},
                                                 {"interval", required_argument, NULL, 'i'},
                                                 {"iterations", required_argument, NULL, 'n'},
                                                 {"plain", no_argument, NULL, 'p'},
                                                 {"help", no_argument, NULL, 'h'},
                                                 {NULL, 0, NULL, 0}};
    *options = (s_options_t){NULL, 1000, 0, false};
    int option, rc;
    optind = 1;
    while ((option = getopt_long (argc, argv, "", long_options, NULL)) != -1)
        if ((rc = s_parse_option (option, options)) != -1)
            return rc;
    if (optind < argc)
        fprintf (stderr, "zetlctl top: unexpected argument '%s'\n", argv[optind]);
    else if (!options->config_path)
        fprintf (stderr, "zetlctl top: --config FILE is required\n");
    if (optind < argc || !options->config_path) {
        s_usage (stderr);
        return 2;
    }
    options->plain = options->plain || isatty (STDOUT_FILENO) != 1;
    return -1;
}

//  Take one event from SUB into VIEW; a malformed one is skipped (PUB may carry anything)
static void
s_receive (zsock_t *sub, zetl_ctl_top_view_t *view)
{
    zmsg_t *msg = zmsg_recv (sub);
    if (!msg)
        return;
    const char *reason = NULL;
    json_t *event = zetl_event_decode (&msg, &reason);
    if (event)
        zetl_ctl_top_view_apply (view, event, zclock_mono (), zetl_time_now_us ());
    json_decref (event);
}

//  Draw one frame of VIEW. Returns 0, or -1 if stdout cannot be written.
static int
s_draw (zetl_ctl_top_view_t *view, const s_options_t *options)
{
    if (!options->plain)
        fputs (S_ANSI_CLEAR, stdout);
    zetl_ctl_top_view_render (view, stdout, zclock_mono (), zetl_time_now_us ());
    if (options->plain)
        fputc ('\n', stdout);
    if (fflush (stdout) != 0 || ferror (stdout)) {
        fprintf (stderr, "zetlctl top: cannot write to stdout: %s\n", strerror (errno));
        return -1;
    }
    return 0;
}

//  When the frame after one due at DUE_MS is due: an interval later, or an
//  interval from NOW_MS if drawing fell behind (a stopped terminal)
static int64_t
s_next_due (int64_t due_ms, int64_t now_ms, int64_t interval_ms)
{
    return due_ms + interval_ms > now_ms ? due_ms + interval_ms : now_ms + interval_ms;
}

//  Receive events into VIEW and draw frames until done. Returns the exit code.
static int
s_run (zsock_t *sub, zetl_ctl_top_view_t *view, const s_options_t *options, const char *endpoint)
{
    int64_t start_ms = zclock_mono ();
    int64_t due_ms = start_ms + (options->interval_ms < S_FIRST_FRAME_MS ? options->interval_ms
                                                                         : S_FIRST_FRAME_MS);
    int64_t silence_ms = due_ms + S_SILENCE_MS;
    long frames = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    int rc = 0;
    while (rc == 0 && (options->iterations == 0 || frames < options->iterations)) {
        int64_t now_ms = zclock_mono ();
        bool heard = zetl_ctl_top_view_events (view) > 0;
        if (!heard && now_ms >= silence_ms) {
            fprintf (stderr,
                     "zetlctl top: no event came on %s within %d s; is the coordinator "
                     "running with this configuration?\n",
                     endpoint, (int) ((silence_ms - start_ms) / 1000));
            rc = 1;
        }
        else if (heard && now_ms >= due_ms) {
            rc = s_draw (view, options) == 0 ? 0 : 1;
            frames++;
            due_ms = s_next_due (due_ms, now_ms, options->interval_ms);
        }
        else if (zpoller_wait (poller, (int) ((heard ? due_ms : silence_ms) - now_ms)) == sub) {
            s_receive (sub, view);
            if (!heard && zclock_mono () > due_ms)
                due_ms = zclock_mono () + S_SETTLE_MS;
        }
        else if (zpoller_terminated (poller))
            break;  //  SIGINT/SIGTERM: a clean end
    }
    zpoller_destroy (&poller);
    return rc;
}

int
zetl_ctl_top (int argc, char **argv)
{
    s_options_t options;
    int rc = s_parse (argc, argv, &options);
    if (rc != -1)
        return rc;
    char *error = NULL;
    zetl_config_t *config = zetl_config_load (options.config_path, &error);
    if (!config) {
        fprintf (stderr, "zetlctl top: %s\n", error);
        free (error);
        return 2;
    }
    char *endpoint = zetl_ctl_events_endpoint (config, "zetlctl top");
    if (!endpoint) {
        zetl_config_destroy (&config);
        return 2;
    }
    zsock_t *sub = zsock_new (ZMQ_SUB);
    zetl_curve_connect (sub, NULL);
    const char *topics[] = {"stats", "watermark", "membership", "worker", "autoscale"};
    for (size_t index = 0; index < sizeof topics / sizeof topics[0]; index++)
        zsock_set_subscribe (sub, topics[index]);
    if (zsock_connect (sub, "%s", endpoint) != 0) {
        fprintf (stderr, "zetlctl top: cannot connect to %s (cluster.events of %s): %s\n", endpoint,
                 options.config_path, zmq_strerror (zmq_errno ()));
        rc = 1;
    }
    else {
        zetl_ctl_top_view_t *view = zetl_ctl_top_view_new (config->cluster.name, endpoint);
        if (!options.plain) {
            printf (S_ANSI_HIDE_CURSOR S_ANSI_CLEAR "zetl top: waiting for events on %s\n",
                    endpoint);
            fflush (stdout);
        }
        rc = s_run (sub, view, &options, endpoint);
        if (!options.plain) {
            fputs (S_ANSI_SHOW_CURSOR, stdout);
            fflush (stdout);
        }
        zetl_ctl_top_view_destroy (&view);
    }
    zsock_destroy (&sub);
    free (endpoint);
    zetl_config_destroy (&config);
    return rc;
}
