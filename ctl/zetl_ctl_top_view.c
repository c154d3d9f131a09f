/*  zetl_ctl_top_view - what `zetlctl top` shows: the latest state of a cluster  */
#include "zetl_ctl_top_view.h"
#include "zetl_time.h"

#include <czmq.h>
#include <string.h>

#define S_SAMPLES 6              //  committed counts kept per pipeline: the rate spans ~5 s
#define S_CHANGES 5              //  membership changes shown
#define S_WORKER_SILENT_MS 5000  //  "worker" comes each second: silent this long, it is gone
#define S_STALE_MS 3000          //  stats come each second: older than this, say so

typedef struct {
    json_t *stats;                        //  the last stats event, or NULL before one
    int64_t watermark_us;                 //  from stats or watermark; INT64_MIN: none yet
    int64_t sample_ms[S_SAMPLES];         //  when each committed count came (zclock_mono)
    int64_t sample_committed[S_SAMPLES];  //  committed counts, oldest first
    size_t samples;                       //  how many of the two arrays hold one
} s_pipeline_t;

//  A worker's last "worker" event, or one membership change
typedef struct {
    json_t *event;    //  the event, one reference
    int64_t mono_ms;  //  when it came (zclock_mono)
    int64_t at_us;    //  when it came (wall clock)
} s_entry_t;

struct zetl_ctl_top_view {
    char *cluster;              //  cluster.name of the configuration
    char *endpoint;             //  where the events come from
    zhashx_t *pipelines;        //  pipeline id -> s_pipeline_t
    zhashx_t *workers;          //  worker name -> s_entry_t
    zlistx_t *changes;          //  s_entry_t of membership events, oldest first, at most S_CHANGES
    json_t *autoscale;          //  the last autoscale event, or NULL
    bool worker_events;         //  a "worker" event came: the coordinator publishes them
    int64_t workers_connected;  //  the last "workers" of any event; -1 before one
    int64_t sinks_connected;    //  the last "sinks" of any event; -1 before one
    size_t events;              //  events applied
    int64_t last_event_ms;      //  when the last one came (zclock_mono)
};

static void
s_pipeline_destroy (void **item_p)
{
    s_pipeline_t *pipeline = (s_pipeline_t *) *item_p;
    if (pipeline) {
        json_decref (pipeline->stats);
        free (pipeline);
        *item_p = NULL;
    }
}

static void
s_entry_destroy (void **item_p)
{
    s_entry_t *entry = (s_entry_t *) *item_p;
    if (entry) {
        json_decref (entry->event);
        free (entry);
        *item_p = NULL;
    }
}

static s_entry_t *
s_entry_new (const json_t *event, int64_t mono_ms, int64_t now_us)
{
    s_entry_t *entry = (s_entry_t *) zmalloc (sizeof (s_entry_t));
    entry->event = json_incref ((json_t *) event);
    entry->mono_ms = mono_ms;
    entry->at_us = now_us;
    return entry;
}

zetl_ctl_top_view_t *
zetl_ctl_top_view_new (const char *cluster, const char *endpoint)
{
    assert (cluster && endpoint);
    zetl_ctl_top_view_t *self = (zetl_ctl_top_view_t *) zmalloc (sizeof (zetl_ctl_top_view_t));
    self->cluster = strdup (cluster);
    self->endpoint = strdup (endpoint);
    assert (self->cluster && self->endpoint);
    self->pipelines = zhashx_new ();
    zhashx_set_destructor (self->pipelines, s_pipeline_destroy);
    self->workers = zhashx_new ();
    zhashx_set_destructor (self->workers, s_entry_destroy);
    self->changes = zlistx_new ();
    zlistx_set_destructor (self->changes, s_entry_destroy);
    self->workers_connected = -1;
    self->sinks_connected = -1;
    return self;
}

void
zetl_ctl_top_view_destroy (zetl_ctl_top_view_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_ctl_top_view_t *self = *self_p;
        zhashx_destroy (&self->pipelines);
        zhashx_destroy (&self->workers);
        zlistx_destroy (&self->changes);
        json_decref (self->autoscale);
        free (self->cluster);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

size_t
zetl_ctl_top_view_events (zetl_ctl_top_view_t *self)
{
    assert (self);
    return self->events;
}

//  -------------------------------------------------------------------------
//  Applying events

//  Field KEY of EVENT as a string, or NULL if it is absent or not a string
static const char *
s_str (const json_t *event, const char *key)
{
    return json_string_value (json_object_get (event, key));
}

//  Field KEY of EVENT as an integer into *VALUE. Returns false if it is not one.
static bool
s_int (const json_t *event, const char *key, int64_t *value)
{
    const json_t *field = json_object_get (event, key);
    if (!json_is_integer (field))
        return false;
    *value = (int64_t) json_integer_value (field);
    return true;
}

static s_pipeline_t *
s_pipeline_require (zetl_ctl_top_view_t *self, const char *id)
{
    s_pipeline_t *pipeline = (s_pipeline_t *) zhashx_lookup (self->pipelines, id);
    if (!pipeline) {
        pipeline = (s_pipeline_t *) zmalloc (sizeof (s_pipeline_t));
        pipeline->watermark_us = INT64_MIN;
        zhashx_insert (self->pipelines, id, pipeline);
    }
    return pipeline;
}

//  Keep COMMITTED as the newest sample; a count lower than the last one
//  means a new coordinator (committed counts this run): start afresh
static void
s_pipeline_sample (s_pipeline_t *pipeline, int64_t committed, int64_t mono_ms)
{
    if (pipeline->samples > 0 && committed < pipeline->sample_committed[pipeline->samples - 1])
        pipeline->samples = 0;
    if (pipeline->samples == S_SAMPLES) {
        memmove (pipeline->sample_ms, pipeline->sample_ms + 1, (S_SAMPLES - 1) * sizeof (int64_t));
        memmove (pipeline->sample_committed, pipeline->sample_committed + 1,
                 (S_SAMPLES - 1) * sizeof (int64_t));
        pipeline->samples--;
    }
    pipeline->sample_ms[pipeline->samples] = mono_ms;
    pipeline->sample_committed[pipeline->samples] = committed;
    pipeline->samples++;
}

static int
s_apply_stats (zetl_ctl_top_view_t *self, const json_t *event, int64_t mono_ms, int64_t now_us)
{
    (void) now_us;
    const char *id = s_str (event, "pipeline");
    int64_t committed, watermark_us;
    if (!id || !s_int (event, "committed", &committed) ||
        !s_int (event, "watermark_us", &watermark_us))
        return -1;
    s_pipeline_t *pipeline = s_pipeline_require (self, id);
    json_decref (pipeline->stats);
    pipeline->stats = json_incref ((json_t *) event);
    pipeline->watermark_us = watermark_us;
    s_pipeline_sample (pipeline, committed, mono_ms);
    return 0;
}

static int
s_apply_watermark (zetl_ctl_top_view_t *self, const json_t *event, int64_t mono_ms, int64_t now_us)
{
    (void) mono_ms;
    (void) now_us;
    const char *id = s_str (event, "pipeline");
    int64_t watermark_us;
    if (!id || !s_int (event, "watermark_us", &watermark_us))
        return -1;
    s_pipeline_require (self, id)->watermark_us = watermark_us;
    return 0;
}

static int
s_apply_worker (zetl_ctl_top_view_t *self, const json_t *event, int64_t mono_ms, int64_t now_us)
{
    const char *name = s_str (event, "name");
    if (!name)
        return -1;
    self->worker_events = true;
    zhashx_update (self->workers, name, s_entry_new (event, mono_ms, now_us));
    return 0;
}

static int
s_apply_membership (zetl_ctl_top_view_t *self, const json_t *event, int64_t mono_ms, int64_t now_us)
{
    const char *role = s_str (event, "role"), *name = s_str (event, "name");
    const char *change = s_str (event, "change");
    if (!role || !name || !change)
        return -1;
    if (streq (role, "worker") && streq (change, "left"))
        zhashx_delete (self->workers, name);
    zlistx_add_end (self->changes, s_entry_new (event, mono_ms, now_us));
    if (zlistx_size (self->changes) > S_CHANGES) {
        s_entry_t *oldest = (s_entry_t *) zlistx_detach (self->changes, NULL);
        s_entry_destroy ((void **) &oldest);
    }
    return 0;
}

static int
s_apply_autoscale (zetl_ctl_top_view_t *self, const json_t *event, int64_t mono_ms, int64_t now_us)
{
    (void) mono_ms;
    (void) now_us;
    int64_t desired;
    if (!s_int (event, "desired_workers", &desired))
        return -1;
    json_decref (self->autoscale);
    self->autoscale = json_incref ((json_t *) event);
    return 0;
}

typedef int (s_apply_fn) (zetl_ctl_top_view_t *self, const json_t *event, int64_t mono_ms,
                          int64_t now_us);

// clang-format off
static const struct {
    const char *topic;
    s_apply_fn *apply;
} s_topics[] = {
    {"stats", s_apply_stats},           {"watermark", s_apply_watermark},
    {"worker", s_apply_worker},         {"membership", s_apply_membership},
    {"autoscale", s_apply_autoscale}};
// clang-format on

int
zetl_ctl_top_view_apply (zetl_ctl_top_view_t *self, const json_t *event, int64_t mono_ms,
                         int64_t now_us)
{
    assert (self && event);
    const char *topic = s_str (event, "topic");
    for (size_t index = 0; topic && index < sizeof s_topics / sizeof s_topics[0]; index++) {
        if (!streq (topic, s_topics[index].topic))
            continue;
        if (s_topics[index].apply (self, event, mono_ms, now_us) != 0)
            return -1;
        //  stats, membership and autoscale each carry how many peers are connected now
        s_int (event, "workers", &self->workers_connected);
        s_int (event, "sinks", &self->sinks_connected);
        self->events++;
        self->last_event_ms = mono_ms;
        return 0;
    }
    return -1;
}

//  -------------------------------------------------------------------------
//  Rendering

//  Field KEY of EVENT as decimal text in BUF, or "-" if it is not an integer
static const char *
s_num (const json_t *event, const char *key, char *buf, size_t size)
{
    int64_t value;
    if (s_int (event, key, &value))
        snprintf (buf, size, "%lld", (long long) value);
    else
        snprintf (buf, size, "-");
    return buf;
}

//  Field KEY of EVENT (a share, 0..1) as a percentage in BUF, or "-"
static const char *
s_percent (const json_t *event, const char *key, char *buf, size_t size)
{
    const json_t *field = json_object_get (event, key);
    if (json_is_number (field))
        snprintf (buf, size, "%.0f%%", json_number_value (field) * 100);
    else
        snprintf (buf, size, "-");
    return buf;
}

//  MS as a short duration ("4.2s", "15m02s", "3h07m", "2d04h") in BUF; "-" if negative
static const char *
s_duration (int64_t ms, char *buf, size_t size)
{
    int64_t s = ms / 1000;
    if (ms < 0)
        snprintf (buf, size, "-");
    else if (ms < 60000)
        snprintf (buf, size, "%.1fs", (double) ms / 1000);
    else if (s < 3600)
        snprintf (buf, size, "%lldm%02llds", (long long) (s / 60), (long long) (s % 60));
    else if (s < 86400)
        snprintf (buf, size, "%lldh%02lldm", (long long) (s / 3600), (long long) (s % 3600 / 60));
    else
        snprintf (buf, size, "%lldd%02lldh", (long long) (s / 86400),
                  (long long) (s % 86400 / 3600));
    return buf;
}

//  US as "YYYY-MM-DDTHH:MM:SSZ" in BUF (40 bytes), or "none" for INT64_MIN
static const char *
s_iso (int64_t us, char *buf)
{
    if (us == INT64_MIN)
        return strcpy (buf, "none");
    size_t length = zetl_time_format_iso (us, buf, 40);
    char *fraction = strchr (buf, '.');  //  Whole seconds are enough to watch
    if (fraction && length > 0 && buf[length - 1] == 'Z')
        strcpy (fraction, "Z");
    return buf;
}

static int
s_compare_keys (const void *one, const void *two)
{
    return strcmp ((const char *) one, (const char *) two);
}

//  The keys of HASH, sorted. Caller owns the result.
static zlistx_t *
s_sorted_keys (zhashx_t *hash)
{
    zlistx_t *keys = zhashx_keys (hash);
    zlistx_set_comparator (keys, s_compare_keys);
    zlistx_sort (keys);
    return keys;
}

//  The widest key of HASH, at least MINIMUM
static int
s_key_width (zhashx_t *hash, int minimum)
{
    int width = minimum;
    for (void *item = zhashx_first (hash); item; item = zhashx_next (hash)) {
        int length = (int) strlen ((const char *) zhashx_cursor (hash));
        width = length > width ? length : width;
    }
    return width;
}

static void
s_render_header (zetl_ctl_top_view_t *self, FILE *out, int64_t mono_ms, int64_t now_us)
{
    char now[40], age[32], connected[24] = "-", sinks[24] = "-";
    fprintf (out, "zetl top  cluster %s  %s  events %s", self->cluster, s_iso (now_us, now),
             self->endpoint);
    if (self->events == 0)
        fprintf (out, "  (no events yet)");
    else if (mono_ms - self->last_event_ms > S_STALE_MS)
        fprintf (out, "  (last event %s ago)",
                 s_duration (mono_ms - self->last_event_ms, age, sizeof age));
    if (self->workers_connected >= 0)
        snprintf (connected, sizeof connected, "%lld", (long long) self->workers_connected);
    if (self->sinks_connected >= 0)
        snprintf (sinks, sizeof sinks, "%lld", (long long) self->sinks_connected);
    fprintf (out, "\nworkers %s connected / ", connected);
    const json_t *scale = self->autoscale;
    char desired[24], low[24], high[24];
    if (scale)
        fprintf (out, "%s desired (%s), min:max %s:%s",
                 s_num (scale, "desired_workers", desired, sizeof desired),
                 s_str (scale, "reason") ? s_str (scale, "reason") : "-",
                 s_num (scale, "min_workers", low, sizeof low),
                 s_num (scale, "max_workers", high, sizeof high));
    else
        fprintf (out, "- desired (no autoscale events)");
    fprintf (out, "  sinks %s\n", sinks);
}

//  The signals behind the autoscale decision, when there is one
static void
s_render_autoscale (zetl_ctl_top_view_t *self, FILE *out)
{
    const json_t *scale = self->autoscale;
    if (!scale)
        return;
    char queue[24], drain[32], lag[32], lagging[24], use[16], wait[16], memory[16];
    int64_t drain_ms = -1, lag_ms = -1;
    s_int (scale, "time_to_drain_ms", &drain_ms);
    s_int (scale, "watermark_lag_ms", &lag_ms);
    fprintf (out,
             "queue %s records, drains in %s, lag %s, %s partitions lagging, "
             "arrival %.1f/s, service %.1f/s, utilisation %s, credit wait %s, memory %s\n",
             s_num (scale, "queue_records", queue, sizeof queue),
             s_duration (drain_ms, drain, sizeof drain), s_duration (lag_ms, lag, sizeof lag),
             s_num (scale, "partitions_lagging", lagging, sizeof lagging),
             json_number_value (json_object_get (scale, "arrival_rate")),
             json_number_value (json_object_get (scale, "service_rate")),
             s_percent (scale, "utilisation", use, sizeof use),
             s_percent (scale, "credit_wait", wait, sizeof wait),
             s_percent (scale, "memory", memory, sizeof memory));
}

//  Records committed per second over the samples kept, in BUF; "-" before
//  two, or when the last is stale at MONO_MS (the coordinator went quiet)
static const char *
s_rate (const s_pipeline_t *pipeline, int64_t mono_ms, char *buf, size_t size)
{
    size_t count = pipeline->samples;
    int64_t elapsed_ms = count > 1 ? pipeline->sample_ms[count - 1] - pipeline->sample_ms[0] : 0;
    if (elapsed_ms <= 0 || mono_ms - pipeline->sample_ms[count - 1] > S_STALE_MS)
        return strcpy (buf, "-");
    int64_t committed = pipeline->sample_committed[count - 1] - pipeline->sample_committed[0];
    snprintf (buf, size, "%.1f", (double) committed * 1000 / (double) elapsed_ms);
    return buf;
}

//  How far the watermark is behind NOW_US, in ms (never negative), or -1 when there is none
static int64_t
s_lag_ms (const s_pipeline_t *pipeline, int64_t now_us)
{
    if (pipeline->watermark_us == INT64_MIN)
        return -1;
    return now_us > pipeline->watermark_us ? (now_us - pipeline->watermark_us) / 1000 : 0;
}

static void
s_render_pipeline (FILE *out, int width, const char *id, const s_pipeline_t *pipeline,
                   int64_t mono_ms, int64_t now_us)
{
    const json_t *stats = pipeline->stats;  //  NULL: only a watermark came so far
    char in[24], committed[24], rate[32], watermark[40], lag[32], batches[24], late[24],
        too_late[24], duplicates[24];
    fprintf (
        out, "%-*s %10s %10s %9s %-20s %8s %7s %8s %8s %10s\n", width, id,
        s_num (stats, "records_in", in, sizeof in),
        s_num (stats, "committed", committed, sizeof committed),
        s_rate (pipeline, mono_ms, rate, sizeof rate), s_iso (pipeline->watermark_us, watermark),
        s_duration (s_lag_ms (pipeline, now_us), lag, sizeof lag),
        s_num (stats, "batches", batches, sizeof batches), s_num (stats, "late", late, sizeof late),
        s_num (stats, "too_late", too_late, sizeof too_late),
        s_num (stats, "deduplicated", duplicates, sizeof duplicates));
}

static void
s_render_pipelines (zetl_ctl_top_view_t *self, FILE *out, int64_t mono_ms, int64_t now_us)
{
    int width = s_key_width (self->pipelines, 8);
    fprintf (out, "\n%-*s %10s %10s %9s %-20s %8s %7s %8s %8s %10s\n", width, "PIPELINE", "IN",
             "COMMITTED", "REC/S", "WATERMARK", "LAG", "BATCHES", "LATE", "TOO LATE", "DUPLICATES");
    if (zhashx_size (self->pipelines) == 0)
        fprintf (out, "(no stats events yet)\n");
    zlistx_t *ids = s_sorted_keys (self->pipelines);
    for (const char *id = (const char *) zlistx_first (ids); id;
         id = (const char *) zlistx_next (ids))
        s_render_pipeline (out, width, id, (s_pipeline_t *) zhashx_lookup (self->pipelines, id),
                           mono_ms, now_us);
    zlistx_destroy (&ids);
}

//  Drop the workers that sent nothing for S_WORKER_SILENT_MS: gone, their "left" lost (PUB)
static void
s_prune_workers (zetl_ctl_top_view_t *self, int64_t mono_ms)
{
    zlistx_t *names = zhashx_keys (self->workers);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        const s_entry_t *worker = (const s_entry_t *) zhashx_lookup (self->workers, name);
        if (mono_ms - worker->mono_ms > S_WORKER_SILENT_MS)
            zhashx_delete (self->workers, name);
    }
    zlistx_destroy (&names);
}

static void
s_render_worker (FILE *out, int width, const char *name, const json_t *worker)
{
    char credit[24], assigned[24], busy[16], rss[32] = "-";
    int64_t rss_bytes = 0, stalled = 0, draining = 0;
    if (s_int (worker, "rss_bytes", &rss_bytes) && rss_bytes > 0)
        snprintf (rss, sizeof rss, "%.1f", (double) rss_bytes / (1024.0 * 1024.0));
    s_int (worker, "stalled", &stalled);
    s_int (worker, "draining", &draining);
    fprintf (out, "%-*s %7s %9s %7s %8s %s\n", width, name,
             s_num (worker, "credit", credit, sizeof credit),
             s_num (worker, "assigned", assigned, sizeof assigned),
             s_percent (worker, "busy", busy, sizeof busy), rss,
             stalled && draining ? "stalled, draining"
             : stalled           ? "stalled"
             : draining          ? "draining"
                                 : "ok");
}

static void
s_render_workers (zetl_ctl_top_view_t *self, FILE *out)
{
    int width = s_key_width (self->workers, 8);
    fprintf (out, "\n%-*s %7s %9s %7s %8s %s\n", width, "WORKER", "CREDIT", "ASSIGNED", "BUSY",
             "RSS MiB", "STATE");
    if (zhashx_size (self->workers) == 0)
        fprintf (out, "%s\n",
                 self->worker_events ? "(no worker connected)" : "(no worker events yet)");
    zlistx_t *names = s_sorted_keys (self->workers);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names))
        s_render_worker (out, width, name,
                         ((s_entry_t *) zhashx_lookup (self->workers, name))->event);
    zlistx_destroy (&names);
}

static void
s_render_changes (zetl_ctl_top_view_t *self, FILE *out)
{
    fprintf (out, "\nMEMBERSHIP (last %d changes)\n", S_CHANGES);
    if (zlistx_size (self->changes) == 0)
        fprintf (out, "(none since start)\n");
    for (const s_entry_t *entry = (const s_entry_t *) zlistx_first (self->changes); entry;
         entry = (const s_entry_t *) zlistx_next (self->changes)) {
        const json_t *event = entry->event;
        char at[40], workers[24], sinks[24];
        s_iso (entry->at_us, at);
        const char *reason = s_str (event, "reason");
        fprintf (out, "%.8s  %-6s %s %s%s%s%s, workers %s, sinks %s\n", at + 11,
                 s_str (event, "role"), s_str (event, "name"), s_str (event, "change"),
                 reason ? " (" : "", reason ? reason : "", reason ? ")" : "",
                 s_num (event, "workers", workers, sizeof workers),
                 s_num (event, "sinks", sinks, sizeof sinks));
    }
}

void
zetl_ctl_top_view_render (zetl_ctl_top_view_t *self, FILE *out, int64_t mono_ms, int64_t now_us)
{
    assert (self && out);
    s_prune_workers (self, mono_ms);
    s_render_header (self, out, mono_ms, now_us);
    s_render_autoscale (self, out);
    s_render_pipelines (self, out, mono_ms, now_us);
    s_render_workers (self, out);
    s_render_changes (self, out);
}
