/*  zetl_config - the pipeline configuration: one YAML file, parsed and checked once

    zetl_config_load reads the coordinator's YAML file, applies ZETL_*
    environment overrides and checks every value against the option tables in
    zetl_config_tables.c, which also generate docs/CONFIG.md. Unknown keys and bad
    values are errors that name the file, line and key. The coordinator sends
    the file's text and its hash to workers and sinks, which parse the same
    text with zetl_config_parse. The result is read-only after loading and may
    be shared between threads. Caller owns the result.
*/
#ifndef ZETL_CONFIG_H_INCLUDED
#define ZETL_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "zetl_schedule.h"

typedef enum {
    ZETL_TYPE_STRING = 0,
    ZETL_TYPE_INT,        //  int64
    ZETL_TYPE_NUMBER,     //  exact decimal, carried as text, loaded as numeric
    ZETL_TYPE_BOOL,
    ZETL_TYPE_TIMESTAMP,  //  int64 microseconds since the epoch, UTC
    ZETL_TYPE_DATE        //  days since 1970-01-01
} zetl_type_t;

//  One column of a pipeline's schema, in the order the file lists them
typedef struct {
    char *name;           //  column name: a validated SQL identifier
    zetl_type_t type;     //  type
    bool required;        //  required: a record without it is rejected
    bool has_min;         //  min given
    bool has_max;         //  max given
    double min;           //  min: numbers, ints; length for nothing else
    double max;           //  max
    int64_t max_len;      //  max_len in characters (0 = no limit)
    char **enum_values;   //  enum: allowed values, or NULL
    size_t enum_count;    //  entries in enum_values
    char *regex;          //  regex (PCRE2), or NULL
} zetl_field_t;

typedef enum { ZETL_SOURCE_FILE = 0, ZETL_SOURCE_PRODUCER, ZETL_SOURCE_POSTGRES, ZETL_SOURCE_HTTP } zetl_source_type_t;
typedef enum { ZETL_FORMAT_JSONL = 0, ZETL_FORMAT_CSV } zetl_format_t;

typedef enum { ZETL_EXTRACT_INCREMENTAL = 0, ZETL_EXTRACT_FULL_REFRESH, ZETL_EXTRACT_SLIDING_WINDOW } zetl_extract_mode_t;
typedef enum { ZETL_PAGES_NONE = 0, ZETL_PAGES_NEXT_LINK, ZETL_PAGES_CURSOR, ZETL_PAGES_OFFSET } zetl_pagination_t;

typedef struct {
    zetl_source_type_t type;  //  type: file|producer|postgres|http
    char *path;               //  path: a file, directory or glob (file)
    zetl_format_t format;     //  format: jsonl|csv (file)
    char delimiter;           //  delimiter: CSV field separator, default ','
    bool follow;              //  follow: keep reading as files grow (file)
    //  postgres
    char *conninfo;           //  conninfo: the source database, or NULL for the cluster's postgres
    char *table;              //  table: the source table
    zetl_extract_mode_t mode; //  mode: incremental|full_refresh|sliding_window
    char *updated_at;         //  updated_at: the column that grows on every change (default: event_time.field)
    char **key;               //  key: the source table's unique key, the tie-break after updated_at
    size_t key_count;         //  entries in key
    int64_t lookback_ms;      //  lookback: re-read this far behind the extraction watermark
    int64_t settle_ms;        //  settle: rows newer than now - settle wait for the next run
    int64_t stale_after_ms;   //  stale_after: an extraction running longer is abandoned, retried
    bool delete_missing;      //  delete_missing (full_refresh): tombstones for keys gone
    //  postgres and http
    char *schedule;           //  schedule: how often to read again, as written
    int64_t schedule_ms;      //  schedule as an interval, or 0 for cron
    bool scheduled_by_cron;   //  schedule is a cron expression: cron holds it
    zetl_cron_t cron;
    int64_t page_size;        //  page_size: rows per FETCH (postgres, default 10000) or per page (http, default 100)
    //  http
    char *url;                //  url: the first page
    char *records;            //  records: JSON path of the records array in a page, or NULL for the page itself
    zetl_pagination_t pagination; //  pagination: none|next_link|cursor|offset
    char *next;               //  next: JSON path of the next link or cursor in a page
    char *cursor_param;       //  cursor_param: query parameter carrying the cursor
    char *offset_param;       //  offset_param: query parameter carrying the offset
    char *limit_param;        //  limit_param: query parameter carrying page_size (offset)
    char **headers;           //  headers: name, value pairs; ${VAR} in a value reads the environment
    size_t header_count;      //  pairs in headers
    int64_t timeout_ms;       //  timeout: one request, connection included
} zetl_source_t;

typedef enum { ZETL_TIME_ISO8601 = 0, ZETL_TIME_UNIX_MS, ZETL_TIME_STRFTIME } zetl_time_format_t;

typedef struct {
    char *field;                //  field: the record field holding event time
    zetl_time_format_t kind;    //  format: iso8601, unix_ms, or a strftime pattern
    char *strftime;             //  the pattern when kind is ZETL_TIME_STRFTIME, else NULL
} zetl_event_time_t;

typedef enum { ZETL_TARGET_POSTGRES = 0, ZETL_TARGET_FILES, ZETL_TARGET_FORWARD } zetl_target_type_t;

//  One entry of a pipeline's sinks: list (a target a sink process writes)
typedef struct {
    zetl_target_type_t type;  //  type: postgres|files|forward
    char *name;               //  "postgres:<table>", "files:<path>" or "forward:<coordinator>/<pipeline>":
                              //  the target's id in zetl_offsets
    char *table;              //  table (postgres): a validated SQL identifier
    char **primary_key;       //  primary_key (postgres): schema columns
    size_t primary_key_count; //  entries in primary_key
    char *partition_by_day;   //  partition_by_day (postgres), or NULL
    int64_t retention_ms;     //  retention (postgres), default 90d
    int64_t sink_batch_rows;  //  sink_batch_rows: rows per transaction, default 10000
    int64_t sink_linger_ms;   //  sink_linger: wait for more rows, default 20ms
    int64_t connections;      //  connections: PostgreSQL connections per sink, default 2
    char *path;               //  path (files)
    zetl_format_t format;     //  format (files): jsonl|csv
    char *compression;        //  compression (files): none|gzip|zstd
    int64_t max_future_ms;    //  max_future (postgres, with partition_by_day): later days are dead letters
    char *coordinator;        //  coordinator (forward): the other cluster's producers endpoint
    char *pipeline;           //  pipeline (forward): the id of the pipeline fed there
    char *producer;           //  producer (forward): the name used there, or NULL for
                              //  <cluster.name>-<pipeline id>; each sink adds /<sink name>
    int64_t timeout_ms;       //  timeout (forward): wait for WELCOME, and for an ACK before resending
} zetl_target_t;

//  The kinds of transform step, in the order a step's key is looked for
typedef enum {
    ZETL_STEP_TRIM = 0,  //  trim: [fields]: strip Unicode white space at both ends
    ZETL_STEP_LOWER,     //  lower: [fields]
    ZETL_STEP_UPPER,     //  upper: [fields]
    ZETL_STEP_DEFAULT,   //  default: {field: value}: set where missing, null or empty
    ZETL_STEP_RENAME,    //  rename: {from: to}
    ZETL_STEP_DROP,      //  drop: [fields]
    ZETL_STEP_CAST,      //  cast: {field: type}
    ZETL_STEP_UTC,       //  utc: [fields]: ISO 8601 timestamps with offsets to UTC
    ZETL_STEP_COMPUTE,   //  compute: {field: expression} (common/zetl_expr)
    ZETL_STEP_UTM,       //  utm: {campaign|source|medium|term|content: field}
    ZETL_STEP_KINDS
} zetl_step_kind_t;

//  One transform step: exactly one of its keys is given. Lists (trim,
//  lower, upper, drop, utc) are names; mappings are name, value pairs.
typedef struct {
    char **lists[ZETL_STEP_KINDS];   //  per kind: what the key gave, or NULL
    size_t counts[ZETL_STEP_KINDS];  //  entries (pairs for mappings)
    zetl_step_kind_t kind;           //  the key given
    char **args;                     //  lists[kind]: borrowed
    size_t count;                    //  counts[kind]
} zetl_step_t;

typedef enum { ZETL_ON_MISS_DEAD_LETTER = 0, ZETL_ON_MISS_NULL, ZETL_ON_MISS_KEEP } zetl_on_miss_t;

//  One enrichment from a lookup table in Redis
typedef struct {
    char *table;            //  table: the lookup table's name (zetlctl lut load --table)
    char *key;              //  key: the record field whose text is the lookup key
    char **fields;          //  fields: output field, table column, output field, column…
    size_t field_count;     //  pairs in fields
    zetl_on_miss_t on_miss; //  on_miss: dead_letter (default), null, keep
} zetl_enrichment_t;

typedef struct {
    char *id;                    //  id: [a-z0-9_-]+, unique
    zetl_source_t source;        //  source
    char *id_field;              //  id_field, or NULL
    char *delete_field;          //  delete_field: a record with it true is a delete marker, or NULL
    char *partition_key;         //  partition_key: a schema column
    uint32_t partitions;         //  partitions: 1..4096, default 64
    zetl_event_time_t event_time;//  event_time: its field is a timestamp column of the schema
    int64_t watermark_delay_ms;  //  watermark_delay, default 15m
    int64_t late_window_ms;      //  late_window, default 24h
    int64_t dedup_window_ms;     //  dedup_window, default 60m
    int64_t idle_timeout_ms;     //  idle_timeout, default 5m
    int64_t dedup_memory_bytes;  //  dedup_memory, default 256MiB
    int too_late_accept;         //  too_late: 0 dead_letter (default), 1 accept
    bool ordered;                //  ordered, default false
    bool acknowledgements;       //  acknowledgements, default true (false: for measuring their cost)
    int64_t reorder_records;     //  reorder_records: most records the reorder buffer holds
    int64_t reorder_memory_bytes;//  reorder_memory: most bytes it holds
    int64_t batch_size;          //  batch_size: 100..10000, default 1000
    int64_t batch_linger_ms;     //  batch_linger, default 100ms
    int64_t batch_timeout_ms;    //  batch_timeout: re-dispatch a batch not committed by then, default 30s
    int64_t max_retries;         //  max_retries, default 3
    int64_t retry_delay_ms;      //  retry_delay, default 5s
    zetl_field_t *fields;        //  schema, in file order, then enrich outputs it lacks (string)
    size_t field_count;          //  entries in fields
    zetl_step_t *steps;          //  transform, in order, or NULL
    size_t step_count;           //  entries in steps
    zetl_enrichment_t *enrich;   //  enrich, in order, or NULL
    size_t enrich_count;         //  entries in enrich
    zetl_target_t *targets;      //  sinks
    size_t target_count;         //  entries in targets
} zetl_pipeline_t;

typedef struct {
    char *name;       //  cluster.name, default "local"
    char *producers;  //  cluster.producers endpoint, default tcp://*:5570
    char *workers;    //  cluster.workers, default tcp://*:5571
    char *sinks;      //  cluster.sinks, default tcp://*:5572
    char *events;     //  cluster.events, default tcp://*:5573
    char *http;       //  cluster.http, default 127.0.0.1:8080
} zetl_cluster_t;

//  The workers' cache of lookup-table entries
typedef struct {
    int64_t cache_entries;       //  cache_entries: most entries a worker caches
    int64_t cache_memory_bytes;  //  cache_memory: most bytes they hold
    int64_t ttl_ms;              //  ttl: an entry is used without asking Redis for this long
    int64_t negative_ttl_ms;     //  negative_ttl: the same for a key Redis lacks
    int64_t max_stale_ms;        //  max_stale: while Redis is unreachable, entries serve this long
    int64_t timeout_ms;          //  timeout: Redis connect and command timeout
} zetl_lookup_t;

//  The autoscaling signal's thresholds and delays (zetl_autoscale)
typedef struct {
    uint32_t min_workers;         //  min_workers: never fewer
    uint32_t max_workers;         //  max_workers: never more
    int64_t queue_depth;          //  queue_depth: records held above which workers are added
    uint32_t depth_step;          //  depth_step: how many
    uint32_t busy_above;          //  busy_above: utilisation (%) above which workers are added
    uint32_t busy_step;           //  busy_step: how many
    uint32_t memory_above;        //  memory_above: worker memory (% of its limit) above which…
    uint32_t memory_step;         //  memory_step: …this many are added
    uint32_t idle_below;          //  idle_below: utilisation (%) below which one is removed
    int64_t scale_up_delay_ms;    //  scale_up_delay: how long a condition holds before a step up
    int64_t scale_down_delay_ms;  //  scale_down_delay: how long idle lasts before a step down
} zetl_autoscaling_t;

//  When the status raises its alert flags (zetl_alerts); the same
//  conditions as the Prometheus rules in deploy/prometheus
typedef struct {
    uint32_t error_rate;       //  error_rate: dead-lettered over records in (%), over window
    int64_t watermark_lag_ms;  //  watermark_lag: wall clock minus the watermark
    int64_t stopped_after_ms;  //  stopped_after: records held and nothing committed this long
    uint32_t completeness;     //  completeness: least loaded or deduplicated over records in (%)
    int64_t freshness_ms;      //  freshness: no record arrived for this long
    uint32_t variation;        //  variation: arrival rate against the baseline's (%), at most
    int64_t window_ms;         //  window: the recent stretch rates are taken over
    int64_t baseline_ms;       //  baseline: the stretch before it the arrival rate is compared with
} zetl_alerts_config_t;

//  What one record or frame may hold; beyond it a record is dead-lettered
//  (reason over_limit), a frame refused by libzmq
typedef struct {
    int64_t max_record;          //  max_record: bytes in one record (a JSONL line, a CSV row)
    uint32_t max_fields;         //  max_fields: top-level fields in one record
    int64_t max_string;          //  max_string: bytes in one string value
    int64_t max_frame;           //  max_frame: bytes in one frame the coordinator receives
} zetl_limits_t;

//  CURVE on the coordinator's sockets (zetl_curve)
typedef struct {
    char *certificate;           //  certificate: the coordinator's key pair (NAME, NAME_secret)
    char *allowed;               //  allowed: directory of the public certificates let in
} zetl_curve_config_t;

typedef struct {
    char *path;                  //  the file's name, for messages
    char *text;                  //  the file's text, as read (sent to workers and sinks)
    size_t text_len;             //  bytes in text
    uint64_t hash;               //  xxh3-64 of text: the configuration hash on the wire
    zetl_cluster_t cluster;      //  cluster
    char *postgres;              //  postgres conninfo (or ZETL_POSTGRES), or NULL
    char *redis;                 //  redis URL (or ZETL_REDIS), or NULL
    zetl_lookup_t lookup;        //  lookup
    zetl_autoscaling_t autoscaling;  //  autoscaling
    zetl_alerts_config_t alerts;     //  alerts
    zetl_curve_config_t curve;       //  curve (ZETL_CURVE_CERT, ZETL_CURVE_ALLOWED replace it)
    zetl_limits_t limits;            //  limits
    zetl_pipeline_t *pipelines;  //  pipelines
    size_t pipeline_count;       //  entries in pipelines
} zetl_config_t;

//  Read and check the YAML file PATH, then apply ZETL_POSTGRES and ZETL_REDIS.
//  Returns the configuration, or NULL with *ERROR set to a message naming the
//  file, line and key (caller owns *ERROR, free it). Caller owns the result.
zetl_config_t *zetl_config_load (const char *path, char **error);

//  Parse and check TEXT (LEN bytes) as if read from a file called NAME, then
//  apply the environment overrides. Same contract as zetl_config_load.
zetl_config_t *zetl_config_parse (const char *text, size_t len, const char *name, char **error);

//  Destroy the configuration and set *self_p to NULL. Does nothing if NULL.
void zetl_config_destroy (zetl_config_t **self_p);

//  Return the pipeline called ID, or NULL. Borrowed: valid until destroyed.
const zetl_pipeline_t *zetl_config_pipeline (const zetl_config_t *self, const char *id);

//  Return the index of column NAME in PIPELINE's schema, or -1.
int zetl_pipeline_field_index (const zetl_pipeline_t *pipeline, const char *name);

//  Milliseconds from now until SOURCE's next scheduled run, the last one
//  having started at STARTED_MS (zclock_mono): its schedule, an interval or
//  cron (zetl_schedule). Never negative.
int64_t zetl_source_wait_ms (const zetl_source_t *source, int64_t started_ms);

//  Parse a duration such as "100ms", "5s", "15m", "24h", "90d" into
//  milliseconds. Returns 0, or -1 if TEXT is not a duration.
int zetl_duration_parse (const char *text, int64_t *ms);
//  Parse a size such as "512MiB", "64KiB", "100" (bytes) into bytes.
//  Returns 0, or -1 if TEXT is not a size.
int zetl_size_parse (const char *text, int64_t *bytes);

//  Write the Markdown reference of every key (docs/CONFIG.md) to OUT, from
//  the same option tables the parser uses.
void zetl_config_write_reference (FILE *out);

//  The endpoint a process on this host connects to for bind endpoint BIND:
//  tcp://*:5571 -> tcp://127.0.0.1:5571; others unchanged. Caller owns the result.
char *zetl_endpoint_local (const char *bind);

//  Whether an optional endpoint (cluster.events, cluster.http) is "off".
bool zetl_config_off (const char *endpoint);

//  Return true if NAME is a valid SQL identifier for zetl: [a-z_][a-z0-9_]*, at most 63 bytes,
//  not starting with "zetl_" (reserved for zetl's own tables and columns). NULL is not valid.
bool zetl_identifier_valid (const char *name);

#endif
