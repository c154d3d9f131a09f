/*  zetl_ctl_status - `zetlctl status`: what each pipeline is doing now

    Subscribes to the coordinator's event socket (cluster.events of the
    configuration) and prints the first stats event of each pipeline: the
    watermark, how records arrived (on time, out of order, late, too late,
    duplicates) and the load (batches held, workers, sinks). --json prints
    each event as one JSON line instead, for scripts.
*/
#include "zetl_config.h"
#include "zetl_ctl.h"
#include "zetl_curve.h"
#include "zetl_proto_event.h"
#include "zetl_time.h"

#include <getopt.h>

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: zetlctl status --config FILE [--json] [--timeout SECONDS]\n"
                  "Shows each pipeline's watermark, arrival classes and load, read from the\n"
                  "coordinator's event socket (cluster.events). Exit 1 if no coordinator\n"
                  "answers within the timeout (default 5).\n");
}

static void
s_print_text (json_t *event)
{
    json_int_t watermark = json_integer_value (json_object_get (event, "watermark_us"));
    char when[40] = "none yet";
    if (watermark != INT64_MIN)
        zetl_time_format_iso (watermark, when, sizeof when);
    printf ("%s/%s  watermark %s\n", json_string_value (json_object_get (event, "cluster")),
            json_string_value (json_object_get (event, "pipeline")), when);
    const char *rows[][2] = {{"records_in", "records in"},     {"on_time", "on time"},
                             {"out_of_order", "out of order"}, {"late", "late"},
                             {"too_late", "too late"},         {"deduplicated", "duplicates"},
                             {"id_conflicts", "id conflicts"}, {"dedup_evicted_early", "dedup evicted early"},
                             {"batches", "batches held"},      {"committed", "records committed"},
                             {"redispatched", "redispatched"}, {"reprocessed", "reprocessed"},
                             {"reordering", "held for order"}, {"reorder_overflow", "reorder overflow"},
                             {"workers", "workers"},           {"sinks", "sinks"}};
    for (size_t index = 0; index < sizeof rows / sizeof rows[0]; index++)
        printf ("  %-22s %lld\n", rows[index][1],
                (long long) json_integer_value (json_object_get (event, rows[index][0])));
}

char *
zetl_ctl_events_endpoint (const zetl_config_t *config, const char *command)
{
    if (zetl_config_off (config->cluster.events)) {
        fprintf (stderr,
                 "%s: cluster.events is off in %s, and this reads the event socket; "
                 "give it an endpoint\n",
                 command, config->path);
        return NULL;
    }
    return zetl_endpoint_local (config->cluster.events);
}

int
zetl_ctl_status (int argc, char **argv)
{
    static const struct option options[] = {{"config", required_argument, NULL, 'c'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"timeout", required_argument, NULL, 't'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    const char *path = NULL;
    bool as_json = false;
    int timeout_s = 5;
    int option;
    optind = 1;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (option == 'c')
            path = optarg;
        else if (option == 'j')
            as_json = true;
        else if (option == 't')
            timeout_s = atoi (optarg);
        else {
            s_usage (option == 'h' ? stdout : stderr);
            return option == 'h' ? 0 : 2;
        }
    }
    if (!path || timeout_s < 1) {
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
    char *endpoint = zetl_ctl_events_endpoint (config, "zetlctl status");
    if (!endpoint) {
        zetl_config_destroy (&config);
        return 2;
    }
    zsock_t *sub = zetl_curve_new_sub (endpoint, "stats");
    zhashx_t *seen = zhashx_new ();
    int64_t deadline = zclock_mono () + timeout_s * 1000;
    while (sub && zhashx_size (seen) < config->pipeline_count && zclock_mono () < deadline) {
        zsock_set_rcvtimeo (sub, (int) (deadline - zclock_mono ()));
        zmsg_t *msg = zmsg_recv (sub);
        if (!msg)
            break;
        const char *reason = NULL;
        json_t *event = zetl_event_decode (&msg, &reason);
        const char *pipeline = event ? json_string_value (json_object_get (event, "pipeline")) : NULL;
        if (pipeline && !zhashx_lookup (seen, pipeline)) {
            zhashx_insert (seen, pipeline, (void *) 1);
            if (as_json) {
                char *text = json_dumps (event, JSON_COMPACT | JSON_PRESERVE_ORDER);
                printf ("%s\n", text);
                free (text);
            }
            else
                s_print_text (event);
        }
        json_decref (event);
    }
    int rc = zhashx_size (seen) > 0 ? 0 : 1;
    if (rc)
        fprintf (stderr, "zetlctl status: no coordinator published on %s within %d s; is it "
                         "running with this configuration?\n",
                 endpoint, timeout_s);
    zhashx_destroy (&seen);
    zsock_destroy (&sub);
    free (endpoint);
    zetl_config_destroy (&config);
    return rc;
}
