/*  zetl_config_tables - the option tables of zetl's configuration (internal to zetl_config)

    See zetl_config_tables.h. Each table entry is one key: its type, default,
    range and field, and the line the messages and docs/CONFIG.md show.
    Checks that need several keys, or several sections, are in
    zetl_config_check.
*/
#include "zetl_config_tables.h"
#include "zetl_config.h"
#include "zetl_config_check.h"

//  Short names for the tables below
#define S_SECOND ZETL_CONFIG_SECOND
#define S_HOUR ZETL_CONFIG_HOUR
#define S_DAY ZETL_CONFIG_DAY
#define S_FIELD ZETL_OPT_FIELD
#define S_NONE ZETL_OPT_NONE
#define S_REQUIRED ZETL_OPT_REQUIRED
#define S_DISCRIMINATOR ZETL_OPT_DISCRIMINATOR

#define S_MAX_LEN_MAX INT64_C (1073741823)  //  PostgreSQL's limit on one field value

//  Each zetl_field_t of a schema is keyed by its column name, stored first
_Static_assert(offsetof (zetl_field_t, name) == 0, "a MAP element starts with its name");

// clang-format off
const zetl_config_option_t zetl_config_field_options[] = {
    //  key         type                 default  min  max            field
    {"type",      ZETL_OPT_ENUM,       NULL,    0,   0,             S_FIELD (zetl_field_t, type),
     .values = "string|int|number|bool|timestamp|date", .flags = S_REQUIRED,
     .doc = "value type: number is an exact decimal, timestamp is ISO 8601 (stored UTC), date is YYYY-MM-DD"},
    {"required",  ZETL_OPT_BOOL,       "false", 0,   0,             S_FIELD (zetl_field_t, required),
     .doc = "a record without this field is dead-lettered"},
    {"min",       ZETL_OPT_NUMBER,     NULL,    0,   0,             S_FIELD (zetl_field_t, min),
     .aux = offsetof (zetl_field_t, has_min),
     .doc = "smallest allowed value (int and number columns)"},
    {"max",       ZETL_OPT_NUMBER,     NULL,    0,   0,             S_FIELD (zetl_field_t, max),
     .aux = offsetof (zetl_field_t, has_max),
     .doc = "largest allowed value (int and number columns)"},
    {"max_len",   ZETL_OPT_INT,        "0",     0,   S_MAX_LEN_MAX, S_FIELD (zetl_field_t, max_len),
     .doc = "longest allowed value in characters, 0 for no limit (string columns)"},
    {"enum",      ZETL_OPT_STRINGS,    NULL,    0,   1000,          S_FIELD (zetl_field_t, enum_values),
     .aux = offsetof (zetl_field_t, enum_count),
     .doc = "the only allowed values (string columns)"},
    {"regex",     ZETL_OPT_STRING,     NULL,    0,   0,             S_FIELD (zetl_field_t, regex),
     .doc = "a PCRE2 pattern the value must match (string columns)"},
    {NULL}};

#define S_STEP(kind) S_FIELD (zetl_step_t, lists[kind]), .aux = offsetof (zetl_step_t, counts[kind])

const zetl_config_option_t zetl_config_step_options[] = {
    //  key        type              default  min  max  field
    {"trim",     ZETL_OPT_STRINGS, NULL,    0,   0,   S_STEP (ZETL_STEP_TRIM),
     .doc = "fields whose text loses the white space at both ends (Unicode spaces included)"},
    {"lower",    ZETL_OPT_STRINGS, NULL,    0,   0,   S_STEP (ZETL_STEP_LOWER),
     .doc = "fields whose text becomes lowercase (Unicode letters included)"},
    {"upper",    ZETL_OPT_STRINGS, NULL,    0,   0,   S_STEP (ZETL_STEP_UPPER),
     .doc = "fields whose text becomes uppercase (Unicode letters included)"},
    {"default",  ZETL_OPT_PAIRS,   NULL,    0,   0,   S_STEP (ZETL_STEP_DEFAULT),
     .doc = "for each field: value, the value set where the field is missing, null or an empty string"},
    {"rename",   ZETL_OPT_PAIRS,   NULL,    0,   0,   S_STEP (ZETL_STEP_RENAME),
     .doc = "for each from: to, the field's new name; a field that already had it is replaced"},
    {"drop",     ZETL_OPT_STRINGS, NULL,    0,   0,   S_STEP (ZETL_STEP_DROP),
     .doc = "fields removed from the record"},
    {"cast",     ZETL_OPT_PAIRS,   NULL,    0,   0,   S_STEP (ZETL_STEP_CAST),
     .doc = "for each field: type (string, int, number, bool, timestamp, date), the value converted; one that does not convert is dead-lettered"},
    {"utc",      ZETL_OPT_STRINGS, NULL,    0,   0,   S_STEP (ZETL_STEP_UTC),
     .doc = "ISO 8601 timestamps with any offset rewritten in UTC (2026-01-01T00:00:00Z)"},
    {"compute",  ZETL_OPT_PAIRS,   NULL,    0,   0,   S_STEP (ZETL_STEP_COMPUTE),
     .doc = "for each field: expression (docs/TRANSFORM.md), the value computed; the field must be a schema column"},
    {"utm",      ZETL_OPT_PAIRS,   NULL,    0,   0,   S_STEP (ZETL_STEP_UTM),
     .doc = "for each parameter: field (campaign, source, medium, term, content), the value trimmed and lowercased, unknown_<parameter> when missing or empty"},
    {NULL}};

static const zetl_config_option_t s_enrich_options[] = {
    //  key        type              default        min  max  field
    {"table",    ZETL_OPT_NAME,    NULL,          0,   0,   S_FIELD (zetl_enrichment_t, table),
     .flags = S_REQUIRED,
     .doc = "the lookup table, as loaded by zetlctl lut load --table"},
    {"key",      ZETL_OPT_STRING,  NULL,          0,   0,   S_FIELD (zetl_enrichment_t, key),
     .flags = S_REQUIRED,
     .doc = "the record field whose value (as text, after the transform) is looked up"},
    {"fields",   ZETL_OPT_PAIRS,   NULL,          0,   0,   S_FIELD (zetl_enrichment_t, fields),
     .flags = S_REQUIRED, .aux = offsetof (zetl_enrichment_t, field_count),
     .doc = "for each output field: table column, the row's value; an output field the schema lacks becomes a string column"},
    {"on_miss",  ZETL_OPT_ENUM,    "dead_letter", 0,   0,   S_FIELD (zetl_enrichment_t, on_miss),
     .values = "dead_letter|null|keep",
     .doc = "a key the table lacks: dead-letter the record, set the output fields to null, or keep what the record has"},
    {NULL}};

static const zetl_config_option_t s_lookup_options[] = {
    //  key            type               default   min         max             field
    {"cache_entries", ZETL_OPT_INT,      "100000", 0,          100000000,      S_FIELD (zetl_lookup_t, cache_entries),
     .doc = "most lookup entries a worker caches (0: no cache, every key is asked for)"},
    {"cache_memory",  ZETL_OPT_SIZE,     "64MiB",  0,          1LL << 40,      S_FIELD (zetl_lookup_t, cache_memory_bytes),
     .doc = "most bytes of lookup entries a worker caches"},
    {"ttl",           ZETL_OPT_DURATION, "60s",    0,          S_DAY,          S_FIELD (zetl_lookup_t, ttl_ms),
     .doc = "a cached entry is used without asking Redis for this long"},
    {"negative_ttl",  ZETL_OPT_DURATION, "10s",    0,          S_DAY,          S_FIELD (zetl_lookup_t, negative_ttl_ms),
     .doc = "a key Redis lacks is remembered as missing for this long"},
    {"max_stale",     ZETL_OPT_DURATION, "10m",    0,          7 * S_DAY,      S_FIELD (zetl_lookup_t, max_stale_ms),
     .doc = "while Redis is unreachable, cached entries keep serving up to this age; misses wait"},
    {"timeout",       ZETL_OPT_DURATION, "2s",     10,         60 * S_SECOND,  S_FIELD (zetl_lookup_t, timeout_ms),
     .doc = "Redis connect and command timeout"},
    {NULL}};

static const zetl_config_option_t s_autoscaling_options[] = {
    //  key                type               default  min  max        field
    {"min_workers",      ZETL_OPT_INT,      "1",     1,   1000,      S_FIELD (zetl_autoscaling_t, min_workers),
     .doc = "desired_workers never goes below this"},
    {"max_workers",      ZETL_OPT_INT,      "100",   1,   1000,      S_FIELD (zetl_autoscaling_t, max_workers),
     .doc = "desired_workers never goes above this"},
    {"queue_depth",      ZETL_OPT_INT,      "10000", 0,   1LL << 40, S_FIELD (zetl_autoscaling_t, queue_depth),
     .doc = "records held (not yet committed) above which depth_step workers are asked for"},
    {"depth_step",       ZETL_OPT_INT,      "3",     0,   1000,      S_FIELD (zetl_autoscaling_t, depth_step),
     .doc = "workers added when the queue is deeper than queue_depth"},
    {"busy_above",       ZETL_OPT_INT,      "70",    0,   100,       S_FIELD (zetl_autoscaling_t, busy_above),
     .doc = "workers' mean utilisation (%) above which busy_step workers are asked for"},
    {"busy_step",        ZETL_OPT_INT,      "2",     0,   1000,      S_FIELD (zetl_autoscaling_t, busy_step),
     .doc = "workers added when utilisation is above busy_above"},
    {"memory_above",     ZETL_OPT_INT,      "80",    0,   100,       S_FIELD (zetl_autoscaling_t, memory_above),
     .doc = "a worker's memory (% of its limit) above which memory_step workers are asked for"},
    {"memory_step",      ZETL_OPT_INT,      "1",     0,   1000,      S_FIELD (zetl_autoscaling_t, memory_step),
     .doc = "workers added when a worker's memory is above memory_above"},
    {"idle_below",       ZETL_OPT_INT,      "20",    0,   100,       S_FIELD (zetl_autoscaling_t, idle_below),
     .doc = "utilisation (%) below which, for scale_down_delay, one worker fewer is asked for"},
    {"scale_up_delay",   ZETL_OPT_DURATION, "30s",   0,   S_DAY,     S_FIELD (zetl_autoscaling_t, scale_up_delay_ms),
     .doc = "how long a condition for more workers must hold before each step up"},
    {"scale_down_delay", ZETL_OPT_DURATION, "5m",    0,   S_DAY,     S_FIELD (zetl_autoscaling_t, scale_down_delay_ms),
     .doc = "how long workers must stay idle before each step down"},
    {NULL}};

static const zetl_config_option_t s_limits_options[] = {
    //  key           type           default   min        max         field
    {"max_record",  ZETL_OPT_SIZE, "16MiB",  1LL << 10, 1LL << 24,  S_FIELD (zetl_limits_t, max_record),
     .doc = "bytes in one record (a JSONL line, a CSV row); a larger one is dead-lettered as over_limit"},
    {"max_fields",  ZETL_OPT_INT,  "1000",   1,         1000000,    S_FIELD (zetl_limits_t, max_fields),
     .doc = "top-level fields in one record; a record with more is dead-lettered as over_limit"},
    {"max_string",  ZETL_OPT_SIZE, "1MiB",   1,         1LL << 24,  S_FIELD (zetl_limits_t, max_string),
     .doc = "bytes in one string value; a record with a longer one is dead-lettered as over_limit"},
    {"max_frame",   ZETL_OPT_SIZE, "256MiB", 1LL << 20, 1LL << 30,  S_FIELD (zetl_limits_t, max_frame),
     .doc = "bytes in one frame the coordinator receives; libzmq drops a connection that sends a larger one"},
    {NULL}};

static const zetl_config_option_t s_curve_options[] = {
    //  key            type             default  min  max  field
    {"certificate",  ZETL_OPT_STRING, NULL,    0,   0,   S_FIELD (zetl_curve_config_t, certificate),
     .doc = "the coordinator's key pair: a czmq certificate NAME with NAME_secret beside it (zetlctl keys new); ZETL_CURVE_CERT replaces it"},
    {"allowed",      ZETL_OPT_STRING, NULL,    0,   0,   S_FIELD (zetl_curve_config_t, allowed),
     .doc = "directory of the public certificates of the workers, sinks, producers and subscribers let in; ZETL_CURVE_ALLOWED replaces it"},
    {NULL}};

static const zetl_config_option_t s_alerts_options[] = {
    //  key              type               default  min  max         field
    {"error_rate",     ZETL_OPT_INT,      "5",     0,   100,        S_FIELD (zetl_alerts_config_t, error_rate),
     .doc = "flag error_rate when more than this share (%) of the records in over window were dead-lettered"},
    {"watermark_lag",  ZETL_OPT_DURATION, "1h",    0,   365 * S_DAY, S_FIELD (zetl_alerts_config_t, watermark_lag_ms),
     .doc = "flag watermark_lag when the wall clock is further than this ahead of the watermark"},
    {"stopped_after",  ZETL_OPT_DURATION, "10m",   0,   S_DAY,      S_FIELD (zetl_alerts_config_t, stopped_after_ms),
     .doc = "flag stopped when records are held and nothing was committed for this long"},
    {"completeness",   ZETL_OPT_INT,      "95",    0,   100,        S_FIELD (zetl_alerts_config_t, completeness),
     .doc = "flag completeness when less than this share (%) of the records in over window reached the targets (loaded or deduplicated)"},
    {"freshness",      ZETL_OPT_DURATION, "1h",    0,   365 * S_DAY, S_FIELD (zetl_alerts_config_t, freshness_ms),
     .doc = "flag freshness when no record arrived for this long"},
    {"variation",      ZETL_OPT_INT,      "50",    0,   10000,      S_FIELD (zetl_alerts_config_t, variation),
     .doc = "flag variation when the arrival rate over window differs from the baseline's by more than this (%)"},
    {"window",         ZETL_OPT_DURATION, "5m",    1000, S_DAY,     S_FIELD (zetl_alerts_config_t, window_ms),
     .doc = "the recent stretch error rate, completeness and arrival rate are measured over"},
    {"baseline",       ZETL_OPT_DURATION, "1h",    1000, 7 * S_DAY, S_FIELD (zetl_alerts_config_t, baseline_ms),
     .doc = "the stretch before window whose arrival rate variation compares with"},
    {NULL}};

static const zetl_config_option_t s_source_options[] = {
    //  key         type                 default  min  max  field
    {"type",      ZETL_OPT_ENUM,       NULL,    0,   0,   S_FIELD (zetl_source_t, type),
     .values = "file|producer|postgres|http", .flags = S_REQUIRED | S_DISCRIMINATOR,
     .doc = "where records come from: JSONL/CSV files, producers over ZeroMQ, a PostgreSQL table, an HTTP API"},
    {"path",      ZETL_OPT_STRING,     NULL,    0,   0,   S_FIELD (zetl_source_t, path),
     .when = "file", .flags = S_REQUIRED,
     .doc = "a file, a directory or a glob such as data/bookings/*.jsonl"},
    {"format",    ZETL_OPT_ENUM,       "jsonl", 0,   0,   S_FIELD (zetl_source_t, format),
     .when = "file", .values = "jsonl|csv",
     .doc = "one JSON object per line, or CSV with a header line"},
    {"delimiter", ZETL_OPT_CHAR,       ",",     0,   0,   S_FIELD (zetl_source_t, delimiter),
     .when = "file",
     .doc = "CSV field separator: one character, such as , or ; or \"\\t\""},
    {"follow",    ZETL_OPT_BOOL,       "false", 0,   0,   S_FIELD (zetl_source_t, follow),
     .when = "file",
     .doc = "keep reading as files grow and new files appear, like tail -F"},
    {"conninfo",  ZETL_OPT_STRING,     NULL,    0,   0,   S_FIELD (zetl_source_t, conninfo),
     .when = "postgres",
     .doc = "libpq connection string of the source database; unset: the cluster's postgres"},
    {"table",     ZETL_OPT_IDENTIFIER, NULL,    0,   0,   S_FIELD (zetl_source_t, table),
     .when = "postgres", .flags = S_REQUIRED,
     .doc = "the table to extract"},
    {"mode",      ZETL_OPT_ENUM,       "incremental", 0, 0, S_FIELD (zetl_source_t, mode),
     .when = "postgres", .values = "incremental|full_refresh|sliding_window",
     .doc = "incremental: rows changed since the extraction watermark (minus lookback); full_refresh: the whole table each run; sliding_window: the rows of the last lookback each run"},
    {"updated_at", ZETL_OPT_IDENTIFIER, NULL,   0,   0,   S_FIELD (zetl_source_t, updated_at),
     .when = "postgres",
     .doc = "timestamp column that every insert and update sets; unset: event_time.field"},
    {"key",       ZETL_OPT_STRINGS,    NULL,    0,   32,  S_FIELD (zetl_source_t, key),
     .when = "postgres", .flags = S_REQUIRED, .aux = offsetof (zetl_source_t, key_count),
     .doc = "the source table's unique key columns: rows sharing an updated_at are read in this order, never skipped or read twice"},
    {"lookback",  ZETL_OPT_DURATION,   "0s",    0,   365 * S_DAY, S_FIELD (zetl_source_t, lookback_ms),
     .when = "postgres",
     .doc = "incremental: each run also re-reads this far behind the watermark (rows committed late with an older updated_at); sliding_window: the window"},
    {"settle",    ZETL_OPT_DURATION,   "2s",    0,   S_DAY, S_FIELD (zetl_source_t, settle_ms),
     .when = "postgres",
     .doc = "rows with updated_at newer than now minus this wait for the next run, so transactions still open are not passed by"},
    {"stale_after", ZETL_OPT_DURATION, "30m",   S_SECOND, 7 * S_DAY, S_FIELD (zetl_source_t, stale_after_ms),
     .when = "postgres",
     .doc = "an extraction running longer than this is abandoned and started again"},
    {"delete_missing", ZETL_OPT_BOOL,  "false", 0,   0,   S_FIELD (zetl_source_t, delete_missing),
     .when = "postgres",
     .doc = "full_refresh: keys in the target but gone from the source get a delete marker (needs delete_field)"},
    {"schedule",  ZETL_OPT_STRING,     "1m",    0,   0,   S_FIELD (zetl_source_t, schedule),
     .when = "postgres|http",
     .doc = "when to read again: an interval from one run's start to the next (30s, 1m, 6h), or a cron expression of five fields in UTC (\"0 */6 * * *\")"},
    {"page_size", ZETL_OPT_INT,        NULL,    1,   1000000, S_FIELD (zetl_source_t, page_size),
     .when = "postgres|http",
     .doc = "rows per server-side cursor FETCH (postgres, default 10000), or records asked per page (http offset pagination, default 100)"},
    {"url",       ZETL_OPT_STRING,     NULL,    0,   0,   S_FIELD (zetl_source_t, url),
     .when = "http", .flags = S_REQUIRED,
     .doc = "the first page's URL (http or https)"},
    {"records",   ZETL_OPT_STRING,     NULL,    0,   0,   S_FIELD (zetl_source_t, records),
     .when = "http",
     .doc = "dotted path of the records array in a page, such as data.items; unset: the page is the array"},
    {"pagination", ZETL_OPT_ENUM,      "none",  0,   0,   S_FIELD (zetl_source_t, pagination),
     .when = "http", .values = "none|next_link|cursor|offset",
     .doc = "how the next page is found: none (one page), next_link (a URL in the page at next, or the Link header), cursor (a value at next, sent as cursor_param), offset (offset_param and limit_param)"},
    {"next",      ZETL_OPT_STRING,     NULL,    0,   0,   S_FIELD (zetl_source_t, next),
     .when = "http",
     .doc = "dotted path of the next page's URL (next_link) or cursor (cursor) in a page; missing, null or empty: the last page"},
    {"cursor_param", ZETL_OPT_STRING,  "cursor", 0,  0,   S_FIELD (zetl_source_t, cursor_param),
     .when = "http",
     .doc = "query parameter that carries the cursor"},
    {"offset_param", ZETL_OPT_STRING,  "offset", 0,  0,   S_FIELD (zetl_source_t, offset_param),
     .when = "http",
     .doc = "query parameter that carries the offset"},
    {"limit_param", ZETL_OPT_STRING,   "limit", 0,   0,   S_FIELD (zetl_source_t, limit_param),
     .when = "http",
     .doc = "query parameter that carries page_size with offset pagination"},
    {"headers",   ZETL_OPT_PAIRS,      NULL,    0,   64,  S_FIELD (zetl_source_t, headers),
     .when = "http", .aux = offsetof (zetl_source_t, header_count),
     .doc = "request headers: name -> value; ${NAME} in a value is the environment variable NAME, so secrets stay out of the file"},
    {"timeout",   ZETL_OPT_DURATION,   "30s",   100, S_HOUR, S_FIELD (zetl_source_t, timeout_ms),
     .when = "http",
     .doc = "one request's time limit, connection included; a request past it is retried"},
    {NULL}};

static const zetl_config_option_t s_event_time_options[] = {
    //  key         type                 default    min  max  field
    {"field",     ZETL_OPT_COLUMN,     NULL,      0,   0,   S_FIELD (zetl_event_time_t, field),
     .flags = S_REQUIRED,
     .doc = "the schema column holding event time; it must have type timestamp"},
    {"format",    ZETL_OPT_TIME_FORMAT, "iso8601", 0,  0,   S_FIELD (zetl_event_time_t, kind),
     .aux = offsetof (zetl_event_time_t, strftime),
     .doc = "iso8601, unix_ms (milliseconds since the epoch), or a strftime pattern such as \"%d/%m/%Y %H:%M\" (UTC unless it has %z)"},
    {NULL}};

static const zetl_config_option_t s_target_options[] = {
    //  key               type                 default   min       max            field
    {"type",            ZETL_OPT_ENUM,       NULL,     0,        0,             S_FIELD (zetl_target_t, type),
     .values = "postgres|files", .flags = S_REQUIRED | S_DISCRIMINATOR,
     .doc = "a PostgreSQL table (COPY and upsert), or files by event date"},
    {"table",           ZETL_OPT_IDENTIFIER, NULL,     0,        0,             S_FIELD (zetl_target_t, table),
     .when = "postgres", .flags = S_REQUIRED,
     .doc = "target table, created from the schema if missing"},
    {"primary_key",     ZETL_OPT_COLUMNS,    NULL,     0,        32,            S_FIELD (zetl_target_t, primary_key),
     .when = "postgres", .flags = S_REQUIRED, .aux = offsetof (zetl_target_t, primary_key_count),
     .doc = "schema columns of the upsert key: one row per key, the latest event time wins (PostgreSQL allows 32)"},
    {"partition_by_day", ZETL_OPT_COLUMN,    NULL,     0,        0,             S_FIELD (zetl_target_t, partition_by_day),
     .when = "postgres",
     .doc = "a timestamp or date column: one table partition per day of it (best a column that never changes for a key)"},
    {"retention",       ZETL_OPT_DURATION,   "90d",    S_DAY,    3650 * S_DAY,  S_FIELD (zetl_target_t, retention_ms),
     .when = "postgres",
     .doc = "with partition_by_day: drop day partitions older than this"},
    {"sink_batch_rows", ZETL_OPT_INT,        "10000",  1,        1000000,       S_FIELD (zetl_target_t, sink_batch_rows),
     .doc = "most rows a sink writes in one transaction (postgres) or one commit of files (files)"},
    {"sink_linger",     ZETL_OPT_DURATION,   "20ms",   0,        60 * S_SECOND, S_FIELD (zetl_target_t, sink_linger_ms),
     .doc = "how long a sink waits for more rows before it commits a smaller transaction"},
    {"connections",     ZETL_OPT_INT,        "2",      1,        64,            S_FIELD (zetl_target_t, connections),
     .doc = "writers per sink process, each with its PostgreSQL connection; a partition always uses the same one"},
    {"path",            ZETL_OPT_STRING,     NULL,     0,        0,             S_FIELD (zetl_target_t, path),
     .when = "files", .flags = S_REQUIRED,
     .doc = "output directory; files go in its <pipeline>/YYYY/MM/DD/ subdirectories by event date"},
    {"format",          ZETL_OPT_ENUM,       "jsonl",  0,        0,             S_FIELD (zetl_target_t, format),
     .when = "files", .values = "jsonl|csv",
     .doc = "one JSON object per line, or CSV with a header line"},
    {"compression",     ZETL_OPT_STRING,     "none",   0,        0,             S_FIELD (zetl_target_t, compression),
     .when = "files", .values = "none|gzip|zstd",
     .doc = "compress each file"},
    {"max_future",      ZETL_OPT_DURATION,   "1d",     0,        3650 * S_DAY,  S_FIELD (zetl_target_t, max_future_ms),
     .when = "postgres",
     .doc = "with partition_by_day: a record whose day is later than now plus this goes to the dead letters (reason future) instead of creating a partition"},
    {NULL}};

static const zetl_config_option_t s_pipeline_options[] = {
    //  key               type                  default  min       max            field
    {"id",              ZETL_OPT_NAME,        NULL,    0,        0,             S_FIELD (zetl_pipeline_t, id),
     .flags = S_REQUIRED,
     .doc = "the pipeline's name in metrics, logs, the API and zetl's tables; unique"},
    {"source",          ZETL_OPT_SECTION,     NULL,    0,        0,             S_FIELD (zetl_pipeline_t, source),
     .flags = S_REQUIRED, .sub = s_source_options,
     .doc = "where the pipeline's records come from"},
    {"id_field",        ZETL_OPT_COLUMN,      NULL,    0,        0,             S_FIELD (zetl_pipeline_t, id_field),
     .doc = "schema column identifying a record for deduplication; unset: the record's content alone"},
    {"delete_field",    ZETL_OPT_STRING,      NULL,    0,        0,             S_FIELD (zetl_pipeline_t, delete_field),
     .doc = "record field marking a delete (true, \"true\", 1): the row stays, zetl_deleted, hidden by the <table>_live view"},
    {"partition_key",   ZETL_OPT_COLUMN,      NULL,    0,        0,             S_FIELD (zetl_pipeline_t, partition_key),
     .flags = S_REQUIRED,
     .doc = "schema column whose value picks the partition; records of one key keep their order"},
    {"partitions",      ZETL_OPT_INT,         "64",    1,        4096,          S_FIELD (zetl_pipeline_t, partitions),
     .doc = "number of partitions: the most workers that can run the pipeline at once"},
    {"event_time",      ZETL_OPT_SECTION,     NULL,    0,        0,             S_FIELD (zetl_pipeline_t, event_time),
     .flags = S_REQUIRED, .sub = s_event_time_options,
     .doc = "where a record's event time comes from"},
    {"watermark_delay", ZETL_OPT_DURATION,    "15m",   0,        S_DAY,         S_FIELD (zetl_pipeline_t, watermark_delay_ms),
     .doc = "a partition's watermark trails the largest event time it has seen by this much"},
    {"late_window",     ZETL_OPT_DURATION,    "24h",   0,        30 * S_DAY,    S_FIELD (zetl_pipeline_t, late_window_ms),
     .doc = "records up to this far behind the watermark are late but processed; older ones are too late"},
    {"dedup_window",    ZETL_OPT_DURATION,    "60m",   0,        7 * S_DAY,     S_FIELD (zetl_pipeline_t, dedup_window_ms),
     .doc = "a record equal to one accepted within this much event time is a duplicate"},
    {"dedup_memory",    ZETL_OPT_SIZE,        "256MiB", 1 << 20,  1LL << 40,     S_FIELD (zetl_pipeline_t, dedup_memory_bytes),
     .doc = "hard memory budget of the duplicate filter; at the budget its oldest keys go early, counted (docs/DEDUP.md)"},
    {"too_late",        ZETL_OPT_ENUM,        "dead_letter", 0,   0,             S_FIELD (zetl_pipeline_t, too_late_accept),
     .values = "dead_letter|accept",
     .doc = "what happens to a record older than the watermark minus late_window: dead-lettered (reprocess later) or accepted and counted"},
    {"idle_timeout",    ZETL_OPT_DURATION,    "5m",    S_SECOND, S_DAY,         S_FIELD (zetl_pipeline_t, idle_timeout_ms),
     .doc = "a partition with no record for this long stops holding the watermark back"},
    {"ordered",         ZETL_OPT_BOOL,        "false", 0,        0,             S_FIELD (zetl_pipeline_t, ordered),
     .doc = "release each partition's records in event-time order once the watermark passes them"},
    {"acknowledgements", ZETL_OPT_BOOL,       "true",  0,        0,             S_FIELD (zetl_pipeline_t, acknowledgements),
     .doc = "false only to measure what they cost (tests/bench/e2e_bench.sh): a batch is done once its worker hands it to its sink, PostgreSQL targets keep no positions, and a crash may lose or repeat records; not with ordered"},
    {"reorder_records", ZETL_OPT_INT,         "100000", 1,       100000000,     S_FIELD (zetl_pipeline_t, reorder_records),
     .doc = "with ordered: most records held for event-time order; beyond it the oldest leave early, counted as reorder_overflow"},
    {"reorder_memory",  ZETL_OPT_SIZE,        "64MiB", 1 << 16,  1LL << 40,     S_FIELD (zetl_pipeline_t, reorder_memory_bytes),
     .doc = "with ordered: most bytes of records held for event-time order (the same rule as reorder_records)"},
    {"batch_size",      ZETL_OPT_INT,         "1000",  100,      10000,         S_FIELD (zetl_pipeline_t, batch_size),
     .doc = "most records in a batch sent to a worker"},
    {"batch_linger",    ZETL_OPT_DURATION,    "100ms", 0,        60 * S_SECOND, S_FIELD (zetl_pipeline_t, batch_linger_ms),
     .doc = "a partial batch leaves after this long"},
    {"batch_timeout",   ZETL_OPT_DURATION,    "30s",   S_SECOND, S_DAY,         S_FIELD (zetl_pipeline_t, batch_timeout_ms),
     .doc = "a batch not committed by then is dispatched again"},
    {"max_retries",     ZETL_OPT_INT,         "3",     0,        100,           S_FIELD (zetl_pipeline_t, max_retries),
     .doc = "retries of a batch that fails because of its data before its bad records are dead-lettered"},
    {"retry_delay",     ZETL_OPT_DURATION,    "5s",    1,        S_HOUR,        S_FIELD (zetl_pipeline_t, retry_delay_ms),
     .doc = "first delay before a retry; it doubles on each attempt"},
    {"schema",          ZETL_OPT_MAP,         NULL,    0,        1600,          S_FIELD (zetl_pipeline_t, fields),
     .flags = S_REQUIRED, .sub = zetl_config_field_options, .elem_size = sizeof (zetl_field_t),
     .aux = offsetof (zetl_pipeline_t, field_count), .check = zetl_config_check_field,
     .doc = "the record's columns, in order: column name -> its type and rules (a PostgreSQL table has at most 1600)"},
    {"transform",       ZETL_OPT_LIST,        NULL,    0,        1000,          S_FIELD (zetl_pipeline_t, steps),
     .sub = zetl_config_step_options, .elem_size = sizeof (zetl_step_t),
     .aux = offsetof (zetl_pipeline_t, step_count), .check = zetl_config_check_step,
     .doc = "steps applied to each record in order, before the schema's checks (docs/TRANSFORM.md)"},
    {"enrich",          ZETL_OPT_LIST,        NULL,    0,        16,            S_FIELD (zetl_pipeline_t, enrich),
     .sub = s_enrich_options, .elem_size = sizeof (zetl_enrichment_t),
     .aux = offsetof (zetl_pipeline_t, enrich_count),
     .doc = "lookups in Redis tables, after the transform and before the schema's checks"},
    {"sinks",           ZETL_OPT_LIST,        NULL,    0,        0,             S_FIELD (zetl_pipeline_t, targets),
     .flags = S_REQUIRED, .sub = s_target_options, .elem_size = sizeof (zetl_target_t),
     .aux = offsetof (zetl_pipeline_t, target_count), .check = zetl_config_check_target,
     .doc = "where the pipeline's records go: one or more targets, each written by the sinks"},
    {NULL}};

static const zetl_config_option_t s_cluster_options[] = {
    //  key         type               default           min  max  field
    {"name",      ZETL_OPT_NAME,     "local",          0,   0,   S_FIELD (zetl_cluster_t, name),
     .doc = "cluster or region label on every metric and event"},
    {"producers", ZETL_OPT_ENDPOINT, "tcp://*:5570",   0,   0,   S_FIELD (zetl_cluster_t, producers),
     .doc = "ROUTER endpoint producers connect to"},
    {"workers",   ZETL_OPT_ENDPOINT, "tcp://*:5571",   0,   0,   S_FIELD (zetl_cluster_t, workers),
     .doc = "ROUTER endpoint workers connect to"},
    {"sinks",     ZETL_OPT_ENDPOINT, "tcp://*:5572",   0,   0,   S_FIELD (zetl_cluster_t, sinks),
     .doc = "ROUTER endpoint sinks connect to"},
    {"events",    ZETL_OPT_ENDPOINT, "tcp://*:5573",   0,   0,   S_FIELD (zetl_cluster_t, events),
     .flags = ZETL_OPT_OFF,
     .doc = "PUB endpoint for watermarks, statistics, autoscaling signals and membership (off: none)"},
    {"http",      ZETL_OPT_HOSTPORT, "127.0.0.1:8080", 0,   0,   S_FIELD (zetl_cluster_t, http),
     .flags = ZETL_OPT_OFF,
     .doc = "address of the HTTP API, status page and metrics (off: none, nor alert flags)"},
    {NULL}};

const zetl_config_option_t zetl_config_top_options[] = {
    //  key         type               default  min  max  field
    {"cluster",   ZETL_OPT_SECTION,  NULL,    0,   0,   S_FIELD (zetl_config_t, cluster),
     .sub = s_cluster_options,
     .doc = "the coordinator's endpoints and the cluster's name"},
    {"postgres",  ZETL_OPT_STRING,   NULL,    0,   0,   S_FIELD (zetl_config_t, postgres),
     .doc = "PostgreSQL connection string (conninfo or URI); ZETL_POSTGRES replaces it"},
    {"redis",     ZETL_OPT_STRING,   NULL,    0,   0,   S_FIELD (zetl_config_t, redis),
     .doc = "Redis URL (unix:///path/redis.sock, redis://host:port/db); ZETL_REDIS replaces it"},
    {"lookup",    ZETL_OPT_SECTION,  NULL,    0,   0,   S_FIELD (zetl_config_t, lookup),
     .sub = s_lookup_options,
     .doc = "the workers' cache of lookup-table entries"},
    {"autoscaling", ZETL_OPT_SECTION, NULL,   0,   0,   S_FIELD (zetl_config_t, autoscaling),
     .sub = s_autoscaling_options, .check = zetl_config_check_autoscaling,
     .doc = "the autoscaling signal's thresholds and delays (desired_workers, DESIGN §9)"},
    {"limits",    ZETL_OPT_SECTION,  NULL,    0,   0,   S_FIELD (zetl_config_t, limits),
     .sub = s_limits_options,
     .doc = "what one record or frame may hold (docs/SECURITY.md)"},
    {"curve",     ZETL_OPT_SECTION,  NULL,    0,   0,   S_FIELD (zetl_config_t, curve),
     .sub = s_curve_options,
     .doc = "CURVE on every socket the coordinator binds (docs/SECURITY.md); without it, traffic is in the clear"},
    {"alerts",    ZETL_OPT_SECTION,  NULL,    0,   0,   S_FIELD (zetl_config_t, alerts),
     .sub = s_alerts_options,
     .doc = "when the status raises its alert flags (docs/API.md; deploy/prometheus has the same rules)"},
    {"pipelines", ZETL_OPT_LIST,     NULL,    0,   0,   S_FIELD (zetl_config_t, pipelines),
     .flags = S_REQUIRED, .sub = s_pipeline_options, .elem_size = sizeof (zetl_pipeline_t),
     .aux = offsetof (zetl_config_t, pipeline_count), .check = zetl_config_check_pipeline,
     .doc = "the pipelines this cluster runs"},
    {NULL}};
// clang-format on
