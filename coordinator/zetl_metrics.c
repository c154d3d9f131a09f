/*  zetl_metrics - the coordinator's /metrics, in Prometheus text format  */
#include "zetl_metrics.h"

#include <czmq.h>
#include <inttypes.h>

//  Where a family's series come from
typedef enum {
    S_CLUSTER = 0,  //  the status itself: one series, label cluster
    S_PIPELINE,     //  each of status.pipelines: labels cluster, pipeline
    S_WORKER,       //  each of status.workers: labels cluster, worker
    S_SINK          //  each of status.sinks: labels cluster, sink
} s_scope_t;

typedef struct {
    const char *name;  //  after the zetl_ prefix
    const char *type;  //  counter, gauge or histogram (a zetl_histogram_json object)
    const char *help;
    s_scope_t scope;
    const char *object;  //  the member object holding FIELD, or NULL: FIELD is direct
    const char *field;   //  integer, real or bool (1/0); null or missing: no series
    double scale;        //  the value times this (0: as it is)
    const char *label;   //  or FIELD is an object: a series per member, its name in this label
} s_family_t;

// clang-format off
static const s_family_t s_families[] = {
    //  Pipelines: arrival, as the coordinator took records in
    {"records_in_total", "counter", "Records read from the pipeline's sources (reprocessed ones aside).",
     S_PIPELINE, "arrival", "records_in", 0, NULL},
    {"records_reprocessed_total", "counter", "Dead-lettered records sent back through the pipeline by a reprocess request.",
     S_PIPELINE, "arrival", "reprocessed", 0, NULL},
    {"records_on_time_total", "counter", "Records at or after the watermark when they arrived.",
     S_PIPELINE, "arrival", "on_time", 0, NULL},
    {"records_out_of_order_total", "counter", "On-time records older than their partition's newest.",
     S_PIPELINE, "arrival", "out_of_order", 0, NULL},
    {"records_late_total", "counter", "Records behind the watermark within late_window: processed and flagged.",
     S_PIPELINE, "arrival", "late", 0, NULL},
    {"records_too_late_total", "counter", "Records behind the watermark by more than late_window (dead-lettered as too_late, or accepted with too_late: accept).",
     S_PIPELINE, "arrival", "too_late", 0, NULL},
    {"records_deduplicated_total", "counter", "Exact duplicates dropped within dedup_window.",
     S_PIPELINE, "arrival", "deduplicated", 0, NULL},
    {"records_id_conflicts_total", "counter", "Records whose id was seen with other content: another version.",
     S_PIPELINE, "arrival", "id_conflicts", 0, NULL},
    {"dedup_evicted_early_total", "counter", "Deduplication keys forced out before dedup_window by the dedup_memory budget.",
     S_PIPELINE, "arrival", "dedup_evicted_early", 0, NULL},
    {"records_committed_total", "counter", "Records in batches every target of the pipeline committed.",
     S_PIPELINE, NULL, "committed_records", 0, NULL},
    {"records_reorder_overflow_total", "counter", "ordered: true: records that left the reorder buffer early because it was full.",
     S_PIPELINE, "reorder", "overflow", 0, NULL},
    //  Pipelines: state now
    {"queue_records", "gauge", "Queue depth: records the coordinator holds (open, waiting and in-flight batches).",
     S_PIPELINE, "queue", "records_held", 0, NULL},
    {"queue_batches", "gauge", "Queue depth: sealed batches not yet committed (waiting or in flight).",
     S_PIPELINE, "queue", "batches_held", 0, NULL},
    {"batches_in_flight", "gauge", "Batches dispatched to a worker and not yet committed.",
     S_PIPELINE, "queue", "batches_in_flight", 0, NULL},
    {"partitions_backlogged", "gauge", "Partitions with a sealed batch waiting for dispatch.",
     S_PIPELINE, "queue", "partitions_backlogged", 0, NULL},
    {"reorder_records", "gauge", "ordered: true: records held in the reorder buffer.",
     S_PIPELINE, "reorder", "held", 0, NULL},
    {"dedup_keys", "gauge", "Keys in the deduplication set.",
     S_PIPELINE, "arrival", "dedup_keys", 0, NULL},
    {"dedup_bytes", "gauge", "Bytes the deduplication set holds.",
     S_PIPELINE, "arrival", "dedup_bytes", 0, NULL},
    {"dedup_window_seconds", "gauge", "The deduplication window in force (shorter than dedup_window when the budget evicts early).",
     S_PIPELINE, "arrival", "dedup_window_seconds", 0, NULL},
    {"watermark_seconds", "gauge", "The pipeline's event-time watermark, seconds since the epoch (absent before any record).",
     S_PIPELINE, NULL, "watermark_us", 1e-6, NULL},
    {"watermark_lag_seconds", "gauge", "Wall clock minus the watermark, in seconds.",
     S_PIPELINE, NULL, "watermark_lag_seconds", 0, NULL},
    {"last_record_timestamp_seconds", "gauge", "When records last arrived (to the second), seconds since the epoch.",
     S_PIPELINE, NULL, "last_record_us", 1e-6, NULL},
    {"last_commit_timestamp_seconds", "gauge", "When a batch was last committed (to the second), seconds since the epoch.",
     S_PIPELINE, NULL, "last_commit_us", 1e-6, NULL},
    //  Pipelines: what the targets hold (zetl_stats, every run) and the alert flags (zetl_alerts)
    {"records_loaded_total", "counter", "Rows the worst target inserted, updated or found unchanged (zetl_stats, all runs).",
     S_PIPELINE, "outcomes", "loaded", 0, NULL},
    {"records_dead_lettered_total", "counter", "Records the worst target dead-lettered, at any stage (zetl_stats, all runs).",
     S_PIPELINE, "outcomes", "dead_lettered", 0, NULL},
    {"dead_letters", "gauge", "Dead letters held in zetl_dead_letters now, by the stage that refused them (the worst target's).",
     S_PIPELINE, NULL, "dead_letters", 0, "stage"},
    {"error_ratio", "gauge", "Dead-lettered over records in, over the alerts window (absent without records).",
     S_PIPELINE, "quality", "error_rate", 0, NULL},
    {"completeness_ratio", "gauge", "Loaded or deduplicated over records in, over the alerts window (absent without records).",
     S_PIPELINE, "quality", "completeness", 0, NULL},
    {"alert_error_rate", "gauge", "1 while the error rate is above alerts.error_rate.",
     S_PIPELINE, "alerts", "error_rate", 0, NULL},
    {"alert_watermark_lag", "gauge", "1 while the watermark lags the clock by more than alerts.watermark_lag.",
     S_PIPELINE, "alerts", "watermark_lag", 0, NULL},
    {"alert_stopped", "gauge", "1 while records are held and nothing was committed for alerts.stopped_after.",
     S_PIPELINE, "alerts", "stopped", 0, NULL},
    {"alert_completeness", "gauge", "1 while completeness is below alerts.completeness.",
     S_PIPELINE, "alerts", "completeness", 0, NULL},
    {"alert_freshness", "gauge", "1 while no record arrived for alerts.freshness.",
     S_PIPELINE, "alerts", "freshness", 0, NULL},
    {"alert_variation", "gauge", "1 while the arrival rate differs from the baseline's by more than alerts.variation.",
     S_PIPELINE, "alerts", "variation", 0, NULL},
    {"batch_latency_seconds", "histogram", "Per batch, from its first dispatch to its commit.",
     S_PIPELINE, "latency", "batch", 0, NULL},
    {"end_to_end_latency_seconds", "histogram", "Per batch, from its first record taken in to its commit.",
     S_PIPELINE, "latency", "end_to_end", 0, NULL},
    //  The cluster
    {"ready", "gauge", "1 when the coordinator is ready (see /readyz), else 0.",
     S_CLUSTER, NULL, "ready", 0, NULL},
    {"batches_redispatched_total", "counter", "Batches dispatched again (a peer left or stalled, a deadline passed, a retry).",
     S_CLUSTER, NULL, "redispatched", 0, NULL},
    {"workers_connected", "gauge", "Workers connected to the coordinator.",
     S_CLUSTER, "readiness", "workers", 0, NULL},
    {"sinks_connected", "gauge", "Sinks connected to the coordinator.",
     S_CLUSTER, "readiness", "sinks", 0, NULL},
    {"connections", "gauge", "Connections open to the coordinator's worker, sink and producer sockets.",
     S_CLUSTER, NULL, "connections", 0, NULL},
    {"connections_refused_total", "counter", "Handshakes the coordinator's sockets refused: a CURVE key not in the allowed directory.",
     S_CLUSTER, NULL, "connections_refused", 0, NULL},
    {"lookup_hit_ratio", "gauge", "Share of the connected workers' lookups answered from their caches (absent before any lookup).",
     S_CLUSTER, "lookups", "hit_ratio", 0, NULL},
    {"lookups_total", "counter", "Lookups made by the connected workers since they started.",
     S_CLUSTER, "lookups", "lookups", 0, NULL},
    //  The autoscaling signal (DESIGN §9) and what it comes from
    {"desired_workers", "gauge", "Workers the load asks for (the autoscaling signal).",
     S_CLUSTER, "autoscaling", "desired_workers", 0, NULL},
    {"autoscaling_queue_records", "gauge", "Records held, as the autoscaling signal saw them.",
     S_CLUSTER, "autoscaling", "queue_records", 0, NULL},
    {"autoscaling_time_to_drain_seconds", "gauge", "Records held over the service rate (absent while nothing is served).",
     S_CLUSTER, "autoscaling", "time_to_drain_ms", 1e-3, NULL},
    {"autoscaling_partitions_lagging", "gauge", "Partitions holding records: desired_workers never rises above it.",
     S_CLUSTER, "autoscaling", "partitions_lagging", 0, NULL},
    {"arrival_rate", "gauge", "Records taken in per second (moving average).",
     S_CLUSTER, "autoscaling", "arrival_rate", 0, NULL},
    {"service_rate", "gauge", "Records committed per second (moving average).",
     S_CLUSTER, "autoscaling", "service_rate", 0, NULL},
    {"worker_utilisation", "gauge", "Workers' mean share of time spent processing, 0 to 1.",
     S_CLUSTER, "autoscaling", "utilisation", 0, NULL},
    {"credit_wait_ratio", "gauge", "Share of the last second batches waited for worker credit.",
     S_CLUSTER, "autoscaling", "credit_wait", 0, NULL},
    {"worker_memory_ratio", "gauge", "The highest worker memory over its limit (0 without limits).",
     S_CLUSTER, "autoscaling", "memory", 0, NULL},
    //  Workers and sinks
    {"worker_credit", "gauge", "Batches the worker will still take.",
     S_WORKER, NULL, "credit", 0, NULL},
    {"worker_assigned_batches", "gauge", "Batches at the worker now.",
     S_WORKER, NULL, "assigned", 0, NULL},
    {"worker_stalled", "gauge", "1 when the worker is alive but held a batch past its deadline (it gets no new batch).",
     S_WORKER, NULL, "stalled", 0, NULL},
    {"worker_draining", "gauge", "1 when the worker is draining: no new batch, leaving once its batches are out.",
     S_WORKER, NULL, "draining", 0, NULL},
    {"worker_busy_ratio", "gauge", "Share of the worker's last heartbeat interval spent processing.",
     S_WORKER, NULL, "busy", 0, NULL},
    {"worker_resident_memory_bytes", "gauge", "The worker's resident memory, as its heartbeat said.",
     S_WORKER, NULL, "rss_bytes", 0, NULL},
    {"sink_credit", "gauge", "Uncommitted batches the sink takes at most.",
     S_SINK, NULL, "credit", 0, NULL},
    {"sink_assigned_batches", "gauge", "Batches dispatched for the sink and not yet committed.",
     S_SINK, NULL, "assigned", 0, NULL},
};
// clang-format on
#define S_FAMILIES (sizeof s_families / sizeof s_families[0])

//  A growing buffer
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} s_buf_t;

static void
s_reserve (s_buf_t *buf, size_t more)
{
    if (buf->len + more + 1 <= buf->cap)
        return;
    while (buf->len + more + 1 > buf->cap)
        buf->cap *= 2;
    buf->data = (char *) realloc (buf->data, buf->cap);
    assert (buf->data);
}

static void
s_put (s_buf_t *buf, const char *text, size_t len)
{
    s_reserve (buf, len);
    memcpy (buf->data + buf->len, text, len);
    buf->len += len;
}

static void
s_puts (s_buf_t *buf, const char *text)
{
    s_put (buf, text, strlen (text));
}

//  A label value, escaped as the format asks (\\, \", \n)
static void
s_put_label (s_buf_t *buf, const char *value)
{
    s_reserve (buf, strlen (value) * 2);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"' || *p == '\n') {
            buf->data[buf->len++] = '\\';
            buf->data[buf->len++] = *p == '\n' ? 'n' : *p;
        }
        else
            buf->data[buf->len++] = *p;
    }
}

//  The label set {cluster="…",KEY="NAME"} (KEY NULL: cluster alone). Caller frees it.
static char *
s_labels (const char *cluster, const char *key, const char *name)
{
    s_buf_t buf = {(char *) malloc (128), 0, 128};
    assert (buf.data);
    s_puts (&buf, "{cluster=\"");
    s_put_label (&buf, cluster);
    if (key) {
        s_puts (&buf, "\",");
        s_puts (&buf, key);
        s_puts (&buf, "=\"");
        s_put_label (&buf, name);
    }
    s_puts (&buf, "\"}");
    buf.data[buf.len] = '\0';
    return buf.data;
}

//  The value of FAMILY in ITEM as text in TEXT; false when it has none
static bool
s_value (const s_family_t *family, const json_t *item, char *text, size_t size)
{
    const json_t *holder = family->object ? json_object_get (item, family->object) : item;
    const json_t *value = json_object_get (holder, family->field);
    if (json_is_boolean (value))
        snprintf (text, size, "%d", json_is_true (value) ? 1 : 0);
    else if (json_is_integer (value) && family->scale == 0)
        snprintf (text, size, "%" PRId64, (int64_t) json_integer_value (value));
    else if (json_is_number (value)) {
        double number = json_number_value (value) * (family->scale ? family->scale : 1);
        snprintf (text, size, "%.6f", number);
    }
    else
        return false;
    return true;
}

//  A histogram's series (zetl_histogram_json in ITEM): zetl_NAME_bucket
//  {labels,le="…"} for each bound and +Inf, then _sum and _count
static void
s_histogram (s_buf_t *buf, const s_family_t *family, const char *labels, const json_t *item)
{
    const json_t *histogram =
        json_object_get (json_object_get (item, family->object), family->field);
    const json_t *bounds = json_object_get (histogram, "le");
    const json_t *buckets = json_object_get (histogram, "buckets");
    if (json_array_size (buckets) != json_array_size (bounds) + 1)
        return;
    size_t open = strlen (labels) - 1;  //  Labels without their closing brace
    char text[96];
    for (size_t index = 0; index < json_array_size (buckets); index++) {
        const json_t *bound = json_array_get (bounds, index);
        if (bound)
            snprintf (text, sizeof text, "%g", json_number_value (bound));
        else
            snprintf (text, sizeof text, "+Inf");
        s_puts (buf, "zetl_");
        s_puts (buf, family->name);
        s_puts (buf, "_bucket");
        s_put (buf, labels, open);
        s_puts (buf, ",le=\"");
        s_puts (buf, text);
        snprintf (text, sizeof text, "\"} %" PRId64 "\n",
                  (int64_t) json_integer_value (json_array_get (buckets, index)));
        s_puts (buf, text);
    }
    const char *tails[2][2] = {{"_sum", "sum"}, {"_count", "count"}};
    for (int tail = 0; tail < 2; tail++) {
        const json_t *value = json_object_get (histogram, tails[tail][1]);
        s_puts (buf, "zetl_");
        s_puts (buf, family->name);
        s_puts (buf, tails[tail][0]);
        s_puts (buf, labels);
        if (json_is_integer (value))
            snprintf (text, sizeof text, " %" PRId64 "\n", (int64_t) json_integer_value (value));
        else
            snprintf (text, sizeof text, " %.6f\n", json_number_value (value));
        s_puts (buf, text);
    }
}

static void s_series (s_buf_t *buf, const s_family_t *family, const char *labels,
                      const json_t *item);

//  A series per member of FAMILY's object in ITEM, the member's name in
//  the label family->label
static void
s_labelled (s_buf_t *buf, const s_family_t *family, const char *labels, const json_t *item)
{
    const json_t *members = json_object_get (item, family->field);
    s_family_t one = *family;
    one.label = NULL;
    const char *key;
    const json_t *value;
    json_object_foreach ((json_t *) members, key, value)
    {
        s_buf_t more = {(char *) malloc (128), 0, 128};
        assert (more.data);
        s_put (&more, labels, strlen (labels) - 1);  //  Without the closing brace
        s_puts (&more, ",");
        s_puts (&more, family->label);
        s_puts (&more, "=\"");
        s_put_label (&more, key);
        s_puts (&more, "\"}");
        more.data[more.len] = '\0';
        one.field = key;
        s_series (buf, &one, more.data, members);
        free (more.data);
    }
}

//  One series: zetl_NAME{labels} value
static void
s_series (s_buf_t *buf, const s_family_t *family, const char *labels, const json_t *item)
{
    if (streq (family->type, "histogram")) {
        s_histogram (buf, family, labels, item);
        return;
    }
    if (family->label) {
        s_labelled (buf, family, labels, item);
        return;
    }
    char value[64];
    if (!s_value (family, item, value, sizeof value))
        return;
    s_puts (buf, "zetl_");
    s_puts (buf, family->name);
    s_puts (buf, labels);
    s_put (buf, " ", 1);
    s_puts (buf, value);
    s_put (buf, "\n", 1);
}

//  The items of SCOPE in STATUS (an array), with their label sets in LABELS
//  (COUNT of them; caller frees each and the array)
static const json_t *
s_items (const char *cluster, const json_t *status, s_scope_t scope, char ***labels_p,
         size_t *count)
{
    static const char *members[] = {NULL, "pipelines", "workers", "sinks"};
    static const char *keys[] = {NULL, "pipeline", "worker", "sink"};
    static const char *names[] = {NULL, "id", "name", "name"};
    const json_t *items = json_object_get (status, members[scope]);
    *count = json_array_size (items);
    char **labels = (char **) zmalloc ((*count + 1) * sizeof (char *));
    for (size_t index = 0; index < *count; index++) {
        const char *name =
            json_string_value (json_object_get (json_array_get (items, index), names[scope]));
        labels[index] = name ? s_labels (cluster, keys[scope], name) : NULL;
    }
    *labels_p = labels;
    return items;
}

char *
zetl_metrics_render (const char *cluster, const json_t *status, size_t *len)
{
    s_buf_t buf = {(char *) malloc (16384), 0, 16384};
    assert (buf.data);
    //  Label sets are made once per item, not once per series
    char *cluster_labels = s_labels (cluster, NULL, NULL);
    char **labels[4] = {NULL};
    size_t counts[4] = {0};
    const json_t *items[4] = {NULL};
    for (int scope = S_PIPELINE; scope <= S_SINK; scope++)
        items[scope] = s_items (cluster, status, (s_scope_t) scope, &labels[scope], &counts[scope]);
    for (size_t index = 0; index < S_FAMILIES; index++) {
        const s_family_t *family = &s_families[index];
        s_puts (&buf, "# HELP zetl_");
        s_puts (&buf, family->name);
        s_put (&buf, " ", 1);
        s_puts (&buf, family->help);
        s_puts (&buf, "\n# TYPE zetl_");
        s_puts (&buf, family->name);
        s_put (&buf, " ", 1);
        s_puts (&buf, family->type);
        s_put (&buf, "\n", 1);
        if (family->scope == S_CLUSTER) {
            if (status)
                s_series (&buf, family, cluster_labels, status);
            else if (streq (family->name, "ready")) {
                s_puts (&buf, "zetl_ready");  //  Not started yet: not ready
                s_puts (&buf, cluster_labels);
                s_puts (&buf, " 0\n");
            }
            continue;
        }
        for (size_t item = 0; item < counts[family->scope]; item++)
            if (labels[family->scope][item])
                s_series (&buf, family, labels[family->scope][item],
                          json_array_get (items[family->scope], item));
    }
    for (int scope = S_PIPELINE; scope <= S_SINK; scope++) {
        for (size_t item = 0; item < counts[scope]; item++)
            free (labels[scope][item]);
        free (labels[scope]);
    }
    free (cluster_labels);
    buf.data[buf.len] = '\0';
    *len = buf.len;
    return buf.data;
}
