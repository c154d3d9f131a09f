/*  zetl_config_tables - the option tables of zetl's configuration (internal to zetl_config)

    See zetl_config_tables.h. Each table entry is one key: its type, default,
    range and field, and the line the messages and docs/CONFIG.md show.
    Checks that need several keys, or several sections, follow the tables.
*/
#include "zetl_config_tables.h"
#include "zetl_config.h"
#include "zetl_config_text.h"
#include "zetl_config_walk.h"
#include "zetl_expr.h"

#include <assert.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

//  Short names for the tables below
#define S_SECOND ZETL_CONFIG_SECOND
#define S_HOUR ZETL_CONFIG_HOUR
#define S_DAY ZETL_CONFIG_DAY
#define S_FIELD ZETL_OPT_FIELD
#define S_NONE ZETL_OPT_NONE
#define S_REQUIRED ZETL_OPT_REQUIRED
#define S_DISCRIMINATOR ZETL_OPT_DISCRIMINATOR

#define S_MAX_LEN_MAX INT64_C (1073741823)  //  PostgreSQL's limit on one field value

static zetl_config_check_fn s_check_pipeline;
static zetl_config_check_fn s_check_field;
static zetl_config_check_fn s_check_target;
static zetl_config_check_fn s_check_step;

//  Each zetl_field_t of a schema is keyed by its column name, stored first
_Static_assert(offsetof (zetl_field_t, name) == 0, "a MAP element starts with its name");

// clang-format off
static const zetl_config_option_t s_field_options[] = {
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

static const zetl_config_option_t s_step_options[] = {
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
     .flags = S_REQUIRED, .sub = s_field_options, .elem_size = sizeof (zetl_field_t),
     .aux = offsetof (zetl_pipeline_t, field_count), .check = s_check_field,
     .doc = "the record's columns, in order: column name -> its type and rules (a PostgreSQL table has at most 1600)"},
    {"transform",       ZETL_OPT_LIST,        NULL,    0,        1000,          S_FIELD (zetl_pipeline_t, steps),
     .sub = s_step_options, .elem_size = sizeof (zetl_step_t),
     .aux = offsetof (zetl_pipeline_t, step_count), .check = s_check_step,
     .doc = "steps applied to each record in order, before the schema's checks (docs/TRANSFORM.md)"},
    {"enrich",          ZETL_OPT_LIST,        NULL,    0,        16,            S_FIELD (zetl_pipeline_t, enrich),
     .sub = s_enrich_options, .elem_size = sizeof (zetl_enrichment_t),
     .aux = offsetof (zetl_pipeline_t, enrich_count),
     .doc = "lookups in Redis tables, after the transform and before the schema's checks"},
    {"sinks",           ZETL_OPT_LIST,        NULL,    0,        0,             S_FIELD (zetl_pipeline_t, targets),
     .flags = S_REQUIRED, .sub = s_target_options, .elem_size = sizeof (zetl_target_t),
     .aux = offsetof (zetl_pipeline_t, target_count), .check = s_check_target,
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
     .doc = "PUB endpoint for watermarks, statistics, autoscaling signals and membership"},
    {"http",      ZETL_OPT_HOSTPORT, "127.0.0.1:8080", 0,   0,   S_FIELD (zetl_cluster_t, http),
     .doc = "address of the HTTP API, status page and metrics"},
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
    {"pipelines", ZETL_OPT_LIST,     NULL,    0,   0,   S_FIELD (zetl_config_t, pipelines),
     .flags = S_REQUIRED, .sub = s_pipeline_options, .elem_size = sizeof (zetl_pipeline_t),
     .aux = offsetof (zetl_config_t, pipeline_count), .check = s_check_pipeline,
     .doc = "the pipelines this cluster runs"},
    {NULL}};
// clang-format on

//  --------------------------------------------------------------------------
//  Checks across keys

//  Where a key's value is, for messages
typedef struct {
    const zetl_config_node_t *node;   //  the value, or NULL when the key is not given
    char path[ZETL_CONFIG_PATH_MAX];  //  the key's path
} s_place_t;

//  The place of KEY in mapping SECTION at PATH
static const s_place_t *
s_place (s_place_t *self, const zetl_config_node_t *section, const char *path, const char *key)
{
    self->node = zetl_config_node_lookup (section, key);
    zetl_config_path_key (self->path, path, key);
    return self;
}

//  The place of item INDEX of LIST at PATH
static const s_place_t *
s_place_item (s_place_t *self, const zetl_config_node_t *list, const char *path, size_t index)
{
    self->node = zetl_config_node_item (list, index);
    zetl_config_path_item (self->path, path, index);
    return self;
}

//  NAME, read AT a place, must be a column of PIPELINE's schema: "is not a
//  column of the schema; use one of: a, b". Sets *COLUMN, unless COLUMN is
//  NULL, to that column (NULL when NAME is: the key is not set).
static int
s_check_column (zetl_config_walk_t *walk, const zetl_pipeline_t *pipeline, const s_place_t *at,
                const char *name, const zetl_field_t **column)
{
    int index = name ? zetl_pipeline_field_index (pipeline, name) : -1;
    if (column)
        *column = index >= 0 ? &pipeline->fields[index] : NULL;
    if (!name || index >= 0)
        return 0;
    char shown[ZETL_CONFIG_SHOW_MAX];
    zetl_config_text_t columns = {NULL, 0};
    for (size_t field = 0; field < pipeline->field_count; field++)
        zetl_config_text_add_item (&columns, pipeline->fields[field].name);
    zetl_config_walk_error (walk, at->node, at->path,
                            "%s is not a column of the schema; use one of: %s",
                            zetl_config_show (name, shown, sizeof shown), columns.data);
    free (columns.data);
    return -1;
}

//  Keys of a schema column that apply to some types only, in the order they are checked
static const struct {
    const char *key;
    bool numeric;  //  int and number columns only; otherwise string columns only
} s_typed_keys[] = {
    {"max_len", false}, {"enum", false}, {"regex", false}, {"min", true}, {"max", true}};

//  PATTERN, read AT a place, must compile as the workers compile it
static int
s_check_regex (zetl_config_walk_t *walk, const s_place_t *at, const char *pattern)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_code *regex = pcre2_compile ((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                       &code, &offset, NULL);
    if (regex) {
        pcre2_code_free (regex);
        return 0;
    }
    PCRE2_UCHAR message[256];
    pcre2_get_error_message (code, message, sizeof message);
    return zetl_config_walk_error (walk, at->node, at->path,
                                   "is not a PCRE2 pattern: %s at character %zu; fix the pattern",
                                   (char *) message, (size_t) offset + 1);
}

static int
s_check_field (zetl_config_walk_t *walk, const zetl_config_node_t *node, void *array, size_t index,
               const char *path)
{
    const zetl_field_t *field = &((zetl_field_t *) array)[index];
    bool numeric = field->type == ZETL_TYPE_INT || field->type == ZETL_TYPE_NUMBER;
    bool string = field->type == ZETL_TYPE_STRING;
    s_place_t at;
    for (size_t rule = 0; rule < sizeof s_typed_keys / sizeof s_typed_keys[0]; rule++) {
        bool numeric_key = s_typed_keys[rule].numeric;
        bool applies = numeric_key ? numeric : string;
        if (applies || !s_place (&at, node, path, s_typed_keys[rule].key)->node)
            continue;
        return zetl_config_walk_error (walk, at.node, at.path, "%s",
                                       numeric_key ? "applies to int and number columns only; "
                                                     "remove it or use type: int or number"
                                                   : "applies to string columns only; remove it "
                                                     "or use type: string");
    }
    if (field->regex && s_check_regex (walk, s_place (&at, node, path, "regex"), field->regex))
        return -1;
    if (field->has_min && field->has_max && field->min > field->max) {
        s_place (&at, node, path, "max");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "%g is below min %g; make max at least min", field->max,
                                       field->min);
    }
    return 0;
}

//  The names a step's mapping values (cast) or keys (utm) may take
static const char *s_cast_types = "string|int|number|bool|timestamp|date";
static const char *s_utm_roles = "campaign|source|medium|term|content";

//  A step's key and value at item INDEX of its mapping, for messages
static const s_place_t *
s_place_pair (s_place_t *self, const zetl_config_node_t *step, const char *path,
              const char *key, size_t index)
{
    s_place_t mapping;
    s_place (&mapping, step, path, key);
    self->node = zetl_config_node_value (mapping.node, index);
    zetl_config_path_key (self->path, mapping.path,
                          zetl_config_node_key (mapping.node, index)->text);
    return self;
}

//  The pairs of a cast or utm step name known types or roles; a compute
//  step's expressions parse
static int
s_check_step_pairs (zetl_config_walk_t *walk, const zetl_config_node_t *node,
                    const zetl_step_t *step, const char *path, const char *key)
{
    if (step->kind != ZETL_STEP_CAST && step->kind != ZETL_STEP_UTM
        && step->kind != ZETL_STEP_COMPUTE)
        return 0;
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at;
    for (size_t pair = 0; pair < step->count; pair++) {
        const char *name = step->args[2 * pair], *value = step->args[2 * pair + 1];
        s_place_pair (&at, node, path, key, pair);
        if (step->kind == ZETL_STEP_CAST && zetl_config_values_index (s_cast_types, value) < 0)
            return zetl_config_walk_error (walk, at.node, at.path,
                                           "%s is not a type; use one of: string, int, number, "
                                           "bool, timestamp, date",
                                           zetl_config_show (value, shown, sizeof shown));
        if (step->kind == ZETL_STEP_UTM && zetl_config_values_index (s_utm_roles, name) < 0)
            return zetl_config_walk_error (walk, at.node, at.path,
                                           "%s is not a UTM parameter; use campaign, source, "
                                           "medium, term or content",
                                           zetl_config_show (name, shown, sizeof shown));
        if (step->kind == ZETL_STEP_COMPUTE) {
            char *error = NULL;
            zetl_expr_t *expr = zetl_expr_parse (value, &error);
            if (!expr) {
                zetl_config_walk_error (walk, at.node, at.path, "%s in %s", error,
                                        zetl_config_show (value, shown, sizeof shown));
                free (error);
                return -1;
            }
            zetl_expr_destroy (&expr);
        }
    }
    return 0;
}

//  A step gives exactly one of its keys
static int
s_check_step (zetl_config_walk_t *walk, const zetl_config_node_t *node, void *array, size_t index,
              const char *path)
{
    zetl_step_t *step = &((zetl_step_t *) array)[index];
    size_t given = 0;
    for (int kind = 0; kind < ZETL_STEP_KINDS; kind++)
        if (step->lists[kind]) {
            given++;
            step->kind = (zetl_step_kind_t) kind;
        }
    if (given != 1)
        return zetl_config_walk_error (walk, node, path,
                                       "has %zu steps; give exactly one of trim, lower, upper, "
                                       "default, rename, drop, cast, utc, compute, utm per item",
                                       given);
    step->args = step->lists[step->kind];
    step->count = step->counts[step->kind];
    return s_check_step_pairs (walk, node, step, path, s_step_options[step->kind].key);
}

//  A target is known by its type and where it writes
static int
s_check_target (zetl_config_walk_t *walk, const zetl_config_node_t *node, void *array, size_t index,
                const char *path)
{
    (void) walk;
    (void) node;
    (void) path;
    zetl_target_t *target = &((zetl_target_t *) array)[index];
    if (target->type == ZETL_TARGET_POSTGRES)
        target->name = zetl_config_printf ("postgres:%s", target->table);
    else
        target->name = zetl_config_printf ("files:%s", target->path);
    return 0;
}

//  Target INDEX of PIPELINE, read from item INDEX of SINKS
static int
s_check_target_columns (zetl_config_walk_t *walk, const zetl_pipeline_t *pipeline,
                        const s_place_t *sinks, size_t index)
{
    const zetl_target_t *target = &pipeline->targets[index];
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at, keys, key;
    s_place_item (&at, sinks->node, sinks->path, index);
    for (size_t other = 0; other < index; other++)
        if (!strcmp (pipeline->targets[other].name, target->name))
            return zetl_config_walk_error (
                walk, at.node, at.path,
                "writes %s, as sinks[%zu] does; a pipeline writes each target once",
                zetl_config_show (target->name, shown, sizeof shown), other);
    if (target->type != ZETL_TARGET_POSTGRES)
        return 0;
    s_place (&keys, at.node, at.path, "primary_key");
    for (size_t column = 0; column < target->primary_key_count; column++)
        if (s_check_column (walk, pipeline, s_place_item (&key, keys.node, keys.path, column),
                            target->primary_key[column], NULL))
            return -1;
    const zetl_field_t *day;
    if (s_check_column (walk, pipeline, s_place (&key, at.node, at.path, "partition_by_day"),
                        target->partition_by_day, &day))
        return -1;
    if (day && day->type != ZETL_TYPE_TIMESTAMP && day->type != ZETL_TYPE_DATE)
        return zetl_config_walk_error (walk, key.node, key.path,
                                       "%s is not a timestamp or date column; partition by a "
                                       "column of type timestamp or date",
                                       zetl_config_show (day->name, shown, sizeof shown));
    return 0;
}

//  A computed field must be a schema column: its type comes from there
static int
s_check_computed (zetl_config_walk_t *walk, const zetl_pipeline_t *pipeline,
                  const s_place_t *transform)
{
    char shown[ZETL_CONFIG_SHOW_MAX];
    for (size_t index = 0; index < pipeline->step_count; index++) {
        const zetl_step_t *step = &pipeline->steps[index];
        for (size_t pair = 0; step->kind == ZETL_STEP_COMPUTE && pair < step->count; pair++) {
            const char *name = step->args[2 * pair];
            if (zetl_pipeline_field_index (pipeline, name) >= 0)
                continue;
            s_place_t item, at;
            s_place_item (&item, transform->node, transform->path, index);
            s_place_pair (&at, item.node, item.path, "compute", pair);
            return zetl_config_walk_error (walk, at.node, at.path,
                                           "%s is not a column of the schema; declare it there "
                                           "with its type, such as %s: { type: number }",
                                           zetl_config_show (name, shown, sizeof shown), name);
        }
    }
    return 0;
}

//  Output fields of the enrichments that the schema lacks become string
//  columns at its end, in the order the enrichments give them
static int
s_add_enriched (zetl_config_walk_t *walk, zetl_pipeline_t *pipeline, const s_place_t *enrich)
{
    char shown[ZETL_CONFIG_SHOW_MAX];
    for (size_t index = 0; index < pipeline->enrich_count; index++) {
        const zetl_enrichment_t *lookup = &pipeline->enrich[index];
        for (size_t pair = 0; pair < lookup->field_count; pair++) {
            const char *name = lookup->fields[2 * pair];
            if (zetl_pipeline_field_index (pipeline, name) >= 0)
                continue;
            if (!zetl_identifier_valid (name)) {
                s_place_t item, at;
                s_place_item (&item, enrich->node, enrich->path, index);
                s_place_pair (&at, item.node, item.path, "fields", pair);
                return zetl_config_walk_error (walk, at.node, at.path,
                                               "%s is not a valid column name; "
                                               ZETL_CONFIG_IDENTIFIER_ADVICE,
                                               zetl_config_show (name, shown, sizeof shown));
            }
            size_t count = pipeline->field_count;
            pipeline->fields =
                (zetl_field_t *) realloc (pipeline->fields, (count + 1) * sizeof (zetl_field_t));
            assert (pipeline->fields);
            memset (&pipeline->fields[count], 0, sizeof (zetl_field_t));
            pipeline->fields[count].name = zetl_config_strdup (name);
            pipeline->fields[count].type = ZETL_TYPE_STRING;
            pipeline->field_count = count + 1;
        }
    }
    return 0;
}

//  A postgres source: its defaults that depend on other keys, and the keys
//  that only make sense together
static int
s_check_postgres_source (zetl_config_walk_t *walk, zetl_pipeline_t *pipeline,
                         const s_place_t *source)
{
    zetl_source_t *self = &pipeline->source;
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at;
    if (!self->updated_at)
        self->updated_at = zetl_config_strdup (pipeline->event_time.field);
    if (!self->page_size)
        self->page_size = 10000;
    for (size_t index = 0; index < self->key_count; index++)
        if (!zetl_identifier_valid (self->key[index]))
            return zetl_config_walk_error (walk, s_place (&at, source->node, source->path, "key")->node,
                                           at.path, "%s is not a valid column name; "
                                           ZETL_CONFIG_IDENTIFIER_ADVICE,
                                           zetl_config_show (self->key[index], shown, sizeof shown));
    if (self->mode == ZETL_EXTRACT_SLIDING_WINDOW && self->lookback_ms == 0)
        return zetl_config_walk_error (walk, source->node, source->path,
                                       "mode sliding_window reads the last lookback of rows; "
                                       "set lookback, such as 24h");
    if (self->delete_missing && self->mode != ZETL_EXTRACT_FULL_REFRESH) {
        s_place (&at, source->node, source->path, "delete_missing");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "needs mode full_refresh: only a whole read of the table "
                                       "knows which keys are gone");
    }
    if (self->delete_missing && !pipeline->delete_field) {
        s_place (&at, source->node, source->path, "delete_missing");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "needs the pipeline's delete_field, the field its delete "
                                       "markers carry; set delete_field: _deleted");
    }
    return 0;
}

//  A postgres or http source: schedule as an interval, page_size's default
static int
s_check_scheduled_source (zetl_config_walk_t *walk, zetl_pipeline_t *pipeline,
                          const s_place_t *source)
{
    zetl_source_t *self = &pipeline->source;
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at;
    self->scheduled_by_cron = zetl_cron_parse (self->schedule, &self->cron) == 0;
    if (self->scheduled_by_cron)
        self->schedule_ms = 0;
    else if (zetl_duration_parse (self->schedule, &self->schedule_ms) != 0
             || self->schedule_ms < 100) {
        s_place (&at, source->node, source->path, "schedule");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "%s is neither an interval of at least 100ms (30s, 1m, "
                                       "6h) nor a cron expression of five fields (\"0 */6 * * *\")",
                                       zetl_config_show (self->schedule, shown, sizeof shown));
    }
    if (self->type == ZETL_SOURCE_POSTGRES)
        return s_check_postgres_source (walk, pipeline, source);
    if (!self->page_size)
        self->page_size = 100;
    if (strncmp (self->url, "http://", 7) && strncmp (self->url, "https://", 8)) {
        s_place (&at, source->node, source->path, "url");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "%s is not an http:// or https:// URL",
                                       zetl_config_show (self->url, shown, sizeof shown));
    }
    if (self->pagination == ZETL_PAGES_CURSOR && !self->next)
        return zetl_config_walk_error (walk, source->node, source->path,
                                       "pagination cursor needs next, the dotted path of the "
                                       "cursor in a page, such as meta.next_cursor");
    return 0;
}

static int
s_check_pipeline (zetl_config_walk_t *walk, const zetl_config_node_t *node, void *array,
                  size_t index, const char *path)
{
    const zetl_pipeline_t *pipelines = (zetl_pipeline_t *) array, *pipeline = &pipelines[index];
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at, event_time;
    s_place (&at, node, path, "id");
    for (size_t other = 0; other < index; other++)
        if (!strcmp (pipelines[other].id, pipeline->id))
            return zetl_config_walk_error (
                walk, at.node, at.path,
                "%s is already the id of pipelines[%zu]; pipeline ids must be unique",
                zetl_config_show (pipeline->id, shown, sizeof shown), other);
    if (s_check_column (walk, pipeline, s_place (&at, node, path, "id_field"), pipeline->id_field,
                        NULL) ||
        s_check_column (walk, pipeline, s_place (&at, node, path, "partition_key"),
                        pipeline->partition_key, NULL))
        return -1;

    //  Watermarks and last-write-wins need a point in time, not a day
    const zetl_field_t *time_column;
    s_place (&event_time, node, path, "event_time");
    if (s_check_column (walk, pipeline, s_place (&at, event_time.node, event_time.path, "field"),
                        pipeline->event_time.field, &time_column))
        return -1;
    if (time_column->type != ZETL_TYPE_TIMESTAMP) {
        char type_name[32];
        return zetl_config_walk_error (
            walk, at.node, at.path,
            "%s is a %s column; event time needs a column of type timestamp",
            zetl_config_show (time_column->name, shown, sizeof shown),
            zetl_config_values_name (s_field_options[0].values, (int) time_column->type, type_name,
                                     sizeof type_name));
    }
    s_place_t source;
    s_place (&source, node, path, "source");
    if ((pipeline->source.type == ZETL_SOURCE_POSTGRES || pipeline->source.type == ZETL_SOURCE_HTTP)
        && s_check_scheduled_source (walk, &((zetl_pipeline_t *) array)[index], &source))
        return -1;
    s_place_t transform, enrich;
    if (s_check_computed (walk, pipeline, s_place (&transform, node, path, "transform"))
        || s_add_enriched (walk, &((zetl_pipeline_t *) array)[index],
                           s_place (&enrich, node, path, "enrich")))
        return -1;
    s_place_t sinks;
    s_place (&sinks, node, path, "sinks");
    for (size_t target = 0; target < pipeline->target_count; target++)
        if (s_check_target_columns (walk, pipeline, &sinks, target))
            return -1;
    return 0;
}
