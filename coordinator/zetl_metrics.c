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
    const char *type;  //  counter or gauge
    const char *help;
    s_scope_t scope;
    const char *object;  //  the member object holding FIELD, or NULL: FIELD is direct
    const char *field;   //  integer, real or bool (1/0); null or missing: no series
    double scale;        //  the value times this (0: as it is)
} s_family_t;

// clang-format off
static const s_family_t s_families[] = {
    //  Pipelines: arrival, as the coordinator took records in
    {"records_in_total", "counter", "Records read from the pipeline's sources (reprocessed ones aside).",
     S_PIPELINE, "arrival", "records_in", 0},
    {"records_reprocessed_total", "counter", "Dead-lettered records sent back through the pipeline by a reprocess request.",
     S_PIPELINE, "arrival", "reprocessed", 0},
    {"records_on_time_total", "counter", "Records at or after the watermark when they arrived.",
     S_PIPELINE, "arrival", "on_time", 0},
    {"records_out_of_order_total", "counter", "On-time records older than their partition's newest.",
     S_PIPELINE, "arrival", "out_of_order", 0},
    {"records_late_total", "counter", "Records behind the watermark within late_window: processed and flagged.",
     S_PIPELINE, "arrival", "late", 0},
    {"records_too_late_total", "counter", "Records behind the watermark by more than late_window (dead-lettered as too_late, or accepted with too_late: accept).",
     S_PIPELINE, "arrival", "too_late", 0},
    {"records_deduplicated_total", "counter", "Exact duplicates dropped within dedup_window.",
     S_PIPELINE, "arrival", "deduplicated", 0},
    {"records_id_conflicts_total", "counter", "Records whose id was seen with other content: another version.",
     S_PIPELINE, "arrival", "id_conflicts", 0},
    {"dedup_evicted_early_total", "counter", "Deduplication keys forced out before dedup_window by the dedup_memory budget.",
     S_PIPELINE, "arrival", "dedup_evicted_early", 0},
    {"records_committed_total", "counter", "Records in batches every target of the pipeline committed.",
     S_PIPELINE, NULL, "committed_records", 0},
    {"records_reorder_overflow_total", "counter", "ordered: true: records that left the reorder buffer early because it was full.",
     S_PIPELINE, "reorder", "overflow", 0},
    //  Pipelines: state now
    {"queue_records", "gauge", "Queue depth: records the coordinator holds (open, waiting and in-flight batches).",
     S_PIPELINE, "queue", "records_held", 0},
    {"queue_batches", "gauge", "Queue depth: sealed batches not yet committed (waiting or in flight).",
     S_PIPELINE, "queue", "batches_held", 0},
    {"batches_in_flight", "gauge", "Batches dispatched to a worker and not yet committed.",
     S_PIPELINE, "queue", "batches_in_flight", 0},
    {"partitions_backlogged", "gauge", "Partitions with a sealed batch waiting for dispatch.",
     S_PIPELINE, "queue", "partitions_backlogged", 0},
    {"reorder_records", "gauge", "ordered: true: records held in the reorder buffer.",
     S_PIPELINE, "reorder", "held", 0},
    {"dedup_keys", "gauge", "Keys in the deduplication set.",
     S_PIPELINE, "arrival", "dedup_keys", 0},
    {"dedup_bytes", "gauge", "Bytes the deduplication set holds.",
     S_PIPELINE, "arrival", "dedup_bytes", 0},
    {"dedup_window_seconds", "gauge", "The deduplication window in force (shorter than dedup_window when the budget evicts early).",
     S_PIPELINE, "arrival", "dedup_window_seconds", 0},
    {"watermark_seconds", "gauge", "The pipeline's event-time watermark, seconds since the epoch (absent before any record).",
     S_PIPELINE, NULL, "watermark_us", 1e-6},
    {"watermark_lag_seconds", "gauge", "Wall clock minus the watermark, in seconds.",
     S_PIPELINE, NULL, "watermark_lag_seconds", 0},
    {"last_record_timestamp_seconds", "gauge", "When records last arrived (to the second), seconds since the epoch.",
     S_PIPELINE, NULL, "last_record_us", 1e-6},
    {"last_commit_timestamp_seconds", "gauge", "When a batch was last committed (to the second), seconds since the epoch.",
     S_PIPELINE, NULL, "last_commit_us", 1e-6},
    //  The cluster
    {"ready", "gauge", "1 when the coordinator is ready (see /readyz), else 0.",
     S_CLUSTER, NULL, "ready", 0},
    {"batches_redispatched_total", "counter", "Batches dispatched again (a peer left or stalled, a deadline passed, a retry).",
     S_CLUSTER, NULL, "redispatched", 0},
    {"workers_connected", "gauge", "Workers connected to the coordinator.",
     S_CLUSTER, "readiness", "workers", 0},
    {"sinks_connected", "gauge", "Sinks connected to the coordinator.",
     S_CLUSTER, "readiness", "sinks", 0},
    {"connections", "gauge", "Connections open to the coordinator's worker, sink and producer sockets.",
     S_CLUSTER, NULL, "connections", 0},
    //  Workers and sinks
    {"worker_credit", "gauge", "Batches the worker will still take.",
     S_WORKER, NULL, "credit", 0},
    {"worker_assigned_batches", "gauge", "Batches at the worker now.",
     S_WORKER, NULL, "assigned", 0},
    {"worker_stalled", "gauge", "1 when the worker is alive but held a batch past its deadline (it gets no new batch).",
     S_WORKER, NULL, "stalled", 0},
    {"sink_credit", "gauge", "Uncommitted batches the sink takes at most.",
     S_SINK, NULL, "credit", 0},
    {"sink_assigned_batches", "gauge", "Batches dispatched for the sink and not yet committed.",
     S_SINK, NULL, "assigned", 0},
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

//  One series: zetl_NAME{labels} value
static void
s_series (s_buf_t *buf, const s_family_t *family, const char *labels, const json_t *item)
{
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
