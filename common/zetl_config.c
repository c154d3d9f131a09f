/*  zetl_config - the pipeline configuration: one YAML file, parsed and checked once

    libyaml loads the text into a document, a small node tree that keeps the
    line of every key and value. s_parse_section walks it with one option
    table per section (top level, cluster, pipeline, source, event_time,
    schema column, sink target). The same tables apply defaults, check types
    and ranges, refuse unknown keys, free the result and write docs/CONFIG.md,
    so the parser, the defaults and the reference cannot disagree. Checks
    that span sections (a partition key must be a schema column, pipeline ids
    are unique) run once a whole pipeline is read. The first error wins: the
    walk stops there and the message names the file, the line and the key.
*/
#include "zetl_config.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include <yaml.h>

//  Durations in milliseconds, for the option tables
#define S_SECOND INT64_C (1000)
#define S_MINUTE (60 * S_SECOND)
#define S_HOUR (60 * S_MINUTE)
#define S_DAY (24 * S_HOUR)

#define S_PATH_MAX 512                 //  longest key path in a message
#define S_NAME_MAX 63                  //  names and identifiers, as PostgreSQL's NAMEDATALEN - 1
#define S_FILE_MAX (16 * 1024 * 1024)  //  the text travels in HELLO replies: keep it small
#define S_MAX_LEN_MAX INT64_C (1073741823)  //  PostgreSQL's limit on one field value
#define S_VALUES_MAX 1000000                //  an alias can repeat a subtree: bound the work

typedef enum {
    ZETL_OPT_STRING,       //  non-empty text; VALUES, when set, lists the allowed ones
    ZETL_OPT_NAME,         //  [a-z0-9_-]+, at most 63 bytes
    ZETL_OPT_IDENTIFIER,   //  a SQL identifier (zetl_identifier_valid)
    ZETL_OPT_COLUMN,       //  an identifier naming a column of the pipeline's schema
    ZETL_OPT_ENDPOINT,     //  a ZeroMQ endpoint: tcp://, ipc:// or inproc://
    ZETL_OPT_HOSTPORT,     //  host:port
    ZETL_OPT_INT,          //  int64_t, or uint32_t when the field has 4 bytes; MIN..MAX
    ZETL_OPT_DURATION,     //  int64_t milliseconds; MIN..MAX
    ZETL_OPT_BOOL,         //  true or false
    ZETL_OPT_ENUM,         //  one of VALUES, stored as its index (a C enum)
    ZETL_OPT_CHAR,         //  one ASCII character
    ZETL_OPT_NUMBER,       //  a double; sets the bool at AUX
    ZETL_OPT_TIME_FORMAT,  //  iso8601, unix_ms or a strftime pattern; the pattern goes to AUX
    ZETL_OPT_STRINGS,      //  a non-empty list of distinct strings (char **), count at AUX
    ZETL_OPT_COLUMNS,      //  a non-empty list of distinct schema columns (char **), count at AUX
    ZETL_OPT_SECTION,      //  a mapping read with table SUB into the struct at OFFSET
    ZETL_OPT_LIST,         //  a non-empty list of SUB mappings: array at OFFSET, count at AUX
    ZETL_OPT_MAP,          //  a non-empty mapping column -> SUB mapping; the column in the
                           //  element's first field (char *), array at OFFSET, count at AUX
    ZETL_OPT_UNSUPPORTED   //  a key of a later version of zetl: refused by name
} zetl_opt_type_t;

enum {
    S_REQUIRED = 1,      //  the key must be given
    S_DISCRIMINATOR = 2  //  the section's type: read first, picks the keys that apply (WHEN)
};

typedef struct s_ctx s_ctx_t;
typedef struct zetl_option zetl_option_t;

//  Checks a section once all its keys are read. Returns 0, or -1 after s_error.
typedef int (s_check_fn) (s_ctx_t *ctx, yaml_node_t *node, void *item, const char *path);

struct zetl_option {
    const char *key;           //  key in the YAML
    zetl_opt_type_t type;      //  how to read and store the value
    const char *def;           //  default, written as in the YAML; NULL: none
    int64_t min;               //  smallest value (INT, DURATION)
    int64_t max;               //  largest value (INT, DURATION); most entries (lists, MAP), 0: any
    size_t offset;             //  the field in the section's struct
    size_t size;               //  sizeof the field
    const char *values;        //  ENUM, STRING: allowed values, "a|b|c"
    const char *when;          //  the key applies only when the section's type is this
    int flags;                 //  S_REQUIRED, S_DISCRIMINATOR
    size_t aux;                //  offset of the count, the has_ flag or the pattern
    const zetl_option_t *sub;  //  SECTION, LIST, MAP: the table of the elements
    size_t elem_size;          //  LIST, MAP: sizeof an element
    s_check_fn *check;         //  SECTION, LIST, MAP: run on each element once read
    const char *doc;           //  one line for docs/CONFIG.md and for messages
};

struct s_ctx {
    const char *name;           //  the file's name, for messages
    yaml_document_t *document;  //  the parsed text
    zetl_config_t *config;      //  what we fill
    char *error;                //  the first error, or NULL
    size_t values;              //  values read so far, aliases expanded
};

static s_check_fn s_check_pipeline;
static s_check_fn s_check_field;
static s_check_fn s_check_target;

#define S_FIELD(T, member) offsetof (T, member), sizeof (((T *) 0)->member)
#define S_NONE 0, 0, 0, 0  //  min, max, offset, size of a key that stores nothing

//  Each zetl_field_t of a schema is keyed by its column name, stored first
_Static_assert(offsetof (zetl_field_t, name) == 0, "a MAP element starts with its name");

// clang-format off
static const zetl_option_t s_field_options[] = {
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

static const zetl_option_t s_source_options[] = {
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
    {NULL}};

static const zetl_option_t s_event_time_options[] = {
    //  key         type                 default    min  max  field
    {"field",     ZETL_OPT_COLUMN,     NULL,      0,   0,   S_FIELD (zetl_event_time_t, field),
     .flags = S_REQUIRED,
     .doc = "the schema column holding event time; it must have type timestamp"},
    {"format",    ZETL_OPT_TIME_FORMAT, "iso8601", 0,  0,   S_FIELD (zetl_event_time_t, kind),
     .aux = offsetof (zetl_event_time_t, strftime),
     .doc = "iso8601, unix_ms (milliseconds since the epoch), or a strftime pattern such as \"%d/%m/%Y %H:%M\" (UTC unless it has %z)"},
    {NULL}};

static const zetl_option_t s_target_options[] = {
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
     .when = "postgres",
     .doc = "most rows a sink writes in one transaction"},
    {"sink_linger",     ZETL_OPT_DURATION,   "20ms",   0,        60 * S_SECOND, S_FIELD (zetl_target_t, sink_linger_ms),
     .when = "postgres",
     .doc = "how long a sink waits for more rows before it commits a smaller transaction"},
    {"connections",     ZETL_OPT_INT,        "2",      1,        64,            S_FIELD (zetl_target_t, connections),
     .when = "postgres",
     .doc = "PostgreSQL connections per sink process; a partition always uses the same one"},
    {"path",            ZETL_OPT_STRING,     NULL,     0,        0,             S_FIELD (zetl_target_t, path),
     .when = "files", .flags = S_REQUIRED,
     .doc = "output directory; files go in its YYYY/MM/DD/ subdirectories by event date"},
    {"format",          ZETL_OPT_ENUM,       "jsonl",  0,        0,             S_FIELD (zetl_target_t, format),
     .when = "files", .values = "jsonl|csv",
     .doc = "one JSON object per line, or CSV with a header line"},
    {"compression",     ZETL_OPT_STRING,     "none",   0,        0,             S_FIELD (zetl_target_t, compression),
     .when = "files", .values = "none|gzip|zstd",
     .doc = "compress each file"},
    {NULL}};

static const zetl_option_t s_pipeline_options[] = {
    //  key               type                  default  min       max            field
    {"id",              ZETL_OPT_NAME,        NULL,    0,        0,             S_FIELD (zetl_pipeline_t, id),
     .flags = S_REQUIRED,
     .doc = "the pipeline's name in metrics, logs, the API and zetl's tables; unique"},
    {"source",          ZETL_OPT_SECTION,     NULL,    0,        0,             S_FIELD (zetl_pipeline_t, source),
     .flags = S_REQUIRED, .sub = s_source_options,
     .doc = "where the pipeline's records come from"},
    {"id_field",        ZETL_OPT_COLUMN,      NULL,    0,        0,             S_FIELD (zetl_pipeline_t, id_field),
     .doc = "schema column identifying a record for deduplication; unset: the record's content alone"},
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
    {"idle_timeout",    ZETL_OPT_DURATION,    "5m",    S_SECOND, S_DAY,         S_FIELD (zetl_pipeline_t, idle_timeout_ms),
     .doc = "a partition with no record for this long stops holding the watermark back"},
    {"ordered",         ZETL_OPT_BOOL,        "false", 0,        0,             S_FIELD (zetl_pipeline_t, ordered),
     .doc = "release each partition's records in event-time order once the watermark passes them"},
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
    {"transform",       ZETL_OPT_UNSUPPORTED, NULL,    S_NONE, .doc = "transform steps"},
    {"enrich",          ZETL_OPT_UNSUPPORTED, NULL,    S_NONE, .doc = "enrichment steps"},
    {"sinks",           ZETL_OPT_LIST,        NULL,    0,        0,             S_FIELD (zetl_pipeline_t, targets),
     .flags = S_REQUIRED, .sub = s_target_options, .elem_size = sizeof (zetl_target_t),
     .aux = offsetof (zetl_pipeline_t, target_count), .check = s_check_target,
     .doc = "where the pipeline's records go: one or more targets, each written by the sinks"},
    {NULL}};

static const zetl_option_t s_cluster_options[] = {
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

static const zetl_option_t s_top_options[] = {
    //  key         type               default  min  max  field
    {"cluster",   ZETL_OPT_SECTION,  NULL,    0,   0,   S_FIELD (zetl_config_t, cluster),
     .sub = s_cluster_options,
     .doc = "the coordinator's endpoints and the cluster's name"},
    {"postgres",  ZETL_OPT_STRING,   NULL,    0,   0,   S_FIELD (zetl_config_t, postgres),
     .doc = "PostgreSQL connection string (conninfo or URI); ZETL_POSTGRES replaces it"},
    {"redis",     ZETL_OPT_STRING,   NULL,    0,   0,   S_FIELD (zetl_config_t, redis),
     .doc = "Redis URL; ZETL_REDIS replaces it"},
    {"pipelines", ZETL_OPT_LIST,     NULL,    0,   0,   S_FIELD (zetl_config_t, pipelines),
     .flags = S_REQUIRED, .sub = s_pipeline_options, .elem_size = sizeof (zetl_pipeline_t),
     .aux = offsetof (zetl_config_t, pipeline_count), .check = s_check_pipeline,
     .doc = "the pipelines this cluster runs"},
    {NULL}};
// clang-format on

//  --------------------------------------------------------------------------
//  Small helpers

static void *
s_alloc (size_t count, size_t size)
{
    void *memory = calloc (count ? count : 1, size ? size : 1);
    if (!memory) {
        fprintf (stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort ();
    }
    return memory;
}

static char *
s_strdup (const char *text)
{
    size_t len = strlen (text);
    char *copy = (char *) s_alloc (1, len + 1);
    memcpy (copy, text, len + 1);
    return copy;
}

static char *s_printf (const char *format, ...) __attribute__ ((format (printf, 1, 2)));

static char *
s_printf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = NULL;
    int rc = vasprintf (&text, format, args);
    va_end (args);
    if (rc < 0) {
        fprintf (stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort ();
    }
    return text;
}

//  A growing string, for lists in messages
typedef struct {
    char *data;
    size_t len;
} s_text_t;

static void
s_text_add (s_text_t *self, const char *piece)
{
    size_t piece_len = strlen (piece);
    char *data = (char *) realloc (self->data, self->len + piece_len + 1);
    if (!data) {
        fprintf (stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort ();
    }
    memcpy (data + self->len, piece, piece_len + 1);
    self->data = data;
    self->len += piece_len;
}

//  Write TEXT into BUF as a quoted string for a message: escaped, and cut
//  short if long, so a stray binary value cannot garble the message.
static const char *
s_show (const char *text, char *buf, size_t size)
{
    assert (size >= 16);
    size_t used = 0;
    buf[used++] = '"';
    for (const char *p = text; *p; p++) {
        if (used + 8 > size) {
            memcpy (buf + used, "...", 3);
            used += 3;
            break;
        }
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\')
            used += (size_t) snprintf (buf + used, size - used, "\\%c", c);
        else if (c == '\n')
            used += (size_t) snprintf (buf + used, size - used, "\\n");
        else if (c == '\t')
            used += (size_t) snprintf (buf + used, size - used, "\\t");
        else if (c < 0x20 || c == 0x7f)
            used += (size_t) snprintf (buf + used, size - used, "\\x%02x", c);
        else
            buf[used++] = (char) c;
    }
    buf[used++] = '"';
    buf[used] = 0;
    return buf;
}

//  Write PATH.KEY (or KEY at the top) into CHILD. Control characters in a key
//  become '?' and a very long key is cut, so messages stay one readable line.
static void
s_child_path (char *child, const char *path, const char *key)
{
    size_t used = 0;
    if (*path) {
        used = strlen (path);
        if (used > S_PATH_MAX - 80)
            used = S_PATH_MAX - 80;
        memcpy (child, path, used);
        child[used++] = '.';
    }
    size_t key_len = 0;
    for (const char *p = key; *p && key_len < 64; p++, key_len++)
        child[used++] = ((unsigned char) *p < 0x20 || *p == 0x7f) ? '?' : *p;
    if (key[key_len]) {
        memcpy (child + used, "...", 3);
        used += 3;
    }
    child[used] = 0;
}

static void
s_item_path (char *child, const char *path, size_t index)
{
    snprintf (child, S_PATH_MAX, "%.*s[%zu]", S_PATH_MAX - 32, path, index);
}

static size_t
s_line (const yaml_node_t *node)
{
    return node ? node->start_mark.line + 1 : 0;
}

//  Record the first error as "FILE:LINE: PATH: MESSAGE" and return -1
static int s_error (s_ctx_t *ctx, const yaml_node_t *node, const char *path, const char *format,
                    ...) __attribute__ ((format (printf, 4, 5)));

static int
s_error (s_ctx_t *ctx, const yaml_node_t *node, const char *path, const char *format, ...)
{
    if (ctx->error)
        return -1;
    va_list args;
    va_start (args, format);
    char *message = NULL;
    int rc = vasprintf (&message, format, args);
    va_end (args);
    if (rc < 0) {
        fprintf (stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort ();
    }
    if (*path)
        ctx->error = s_printf ("%s:%zu: %s: %s", ctx->name, s_line (node), path, message);
    else
        ctx->error = s_printf ("%s:%zu: %s", ctx->name, s_line (node), message);
    free (message);
    return -1;
}

static yaml_node_t *
s_node (s_ctx_t *ctx, int index)
{
    return yaml_document_get_node (ctx->document, index);
}

//  A scalar that YAML reads as null: an empty value, ~ or null
static bool
s_is_null (const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *text = (const char *) node->data.scalar.value;
    return !*text || !strcmp (text, "~") || !strcmp (text, "null") || !strcmp (text, "Null") ||
           !strcmp (text, "NULL");
}

//  The value of KEY in MAPPING (the first one), or NULL
static yaml_node_t *
s_lookup (s_ctx_t *ctx, yaml_node_t *mapping, const char *key)
{
    if (!mapping || mapping->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
         pair < mapping->data.mapping.pairs.top; pair++) {
        yaml_node_t *key_node = s_node (ctx, pair->key);
        if (key_node && key_node->type == YAML_SCALAR_NODE &&
            !strcmp ((const char *) key_node->data.scalar.value, key))
            return s_node (ctx, pair->value);
    }
    return NULL;
}

//  Item INDEX of SEQUENCE, or NULL
static yaml_node_t *
s_item (s_ctx_t *ctx, yaml_node_t *sequence, size_t index)
{
    if (!sequence || sequence->type != YAML_SEQUENCE_NODE ||
        index >= (size_t) (sequence->data.sequence.items.top - sequence->data.sequence.items.start))
        return NULL;
    return s_node (ctx, sequence->data.sequence.items.start[index]);
}

static void *
s_at (void *base, size_t offset)
{
    return (char *) base + offset;
}

//  Index of TEXT among VALUES ("a|b|c"), or -1
static int
s_enum_index (const char *values, const char *text)
{
    size_t text_len = strlen (text);
    int index = 0;
    for (const char *p = values; *p; index++) {
        const char *end = strchr (p, '|');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len == text_len && !memcmp (p, text, len))
            return index;
        p += len + (end ? 1 : 0);
    }
    return -1;
}

//  Copy value INDEX of VALUES into BUF
static const char *
s_enum_name (const char *values, int index, char *buf, size_t size)
{
    const char *p = values;
    for (int skip = 0; skip < index && p; skip++) {
        p = strchr (p, '|');
        if (p)
            p++;
    }
    assert (p);
    const char *end = strchr (p, '|');
    size_t len = end ? (size_t) (end - p) : strlen (p);
    assert (len < size);
    memcpy (buf, p, len);
    buf[len] = 0;
    return buf;
}

//  VALUES as "a, b, c", or with each value in backticks for Markdown
static char *
s_enum_list (const char *values, bool code)
{
    int count = 1;
    for (const char *p = values; *p; p++)
        count += *p == '|';
    s_text_t list = {NULL, 0};
    s_text_add (&list, "");
    char buf[64];
    for (int index = 0; index < count; index++) {
        if (index)
            s_text_add (&list, ", ");
        if (code)
            s_text_add (&list, "`");
        s_text_add (&list, s_enum_name (values, index, buf, sizeof buf));
        if (code)
            s_text_add (&list, "`");
    }
    return list.data;
}

//  MS as the largest whole unit: 90d, 15m, 100ms, 0
static const char *
s_format_duration (int64_t ms, char *buf, size_t size)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{S_DAY, "d"}, {S_HOUR, "h"}, {S_MINUTE, "m"}, {S_SECOND, "s"}, {1, "ms"}};
    if (ms == 0)
        snprintf (buf, size, "0");
    else
        for (size_t index = 0; index < sizeof units / sizeof units[0]; index++)
            if (ms % units[index].ms == 0) {
                snprintf (buf, size, "%lld%s", (long long) (ms / units[index].ms),
                          units[index].unit);
                break;
            }
    return buf;
}

//  "100..10000" or "0..24h"
static const char *
s_range (const zetl_option_t *opt, char *buf, size_t size)
{
    if (opt->type == ZETL_OPT_DURATION) {
        char low[24], high[24];
        snprintf (buf, size, "%s..%s", s_format_duration (opt->min, low, sizeof low),
                  s_format_duration (opt->max, high, sizeof high));
    }
    else
        snprintf (buf, size, "%lld..%lld", (long long) opt->min, (long long) opt->max);
    return buf;
}

//  " (default X)", or "" when the key has no default
static const char *
s_default_hint (const zetl_option_t *opt, char *buf, size_t size)
{
    if (opt->def)
        snprintf (buf, size, " (default %s)", opt->def);
    else
        *buf = 0;
    return buf;
}

static bool
s_applies (const zetl_option_t *opt, const char *variant)
{
    return !opt->when || (variant && !strcmp (opt->when, variant));
}

static bool
s_name_valid (const char *name)
{
    size_t len = strlen (name);
    if (len == 0 || len > S_NAME_MAX)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return false;
    return true;
}

//  Strict decimal integer: optional '-', digits, nothing else
static int
s_parse_int (const char *text, int64_t *value)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (*digits < '0' || *digits > '9')
        return -1;
    errno = 0;
    char *end = NULL;
    long long parsed = strtoll (text, &end, 10);
    if (*end || (errno && errno != ERANGE))
        return -1;  //  On ERANGE, parsed is clamped: out of every range, and said so
    *value = (int64_t) parsed;
    return 0;
}

//  --------------------------------------------------------------------------
//  Public helpers

int
zetl_duration_parse (const char *text, int64_t *ms)
{
    if (!text || !ms || *text < '0' || *text > '9')
        return -1;
    int64_t count = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        int digit = *p - '0';
        if (count > (INT64_MAX - digit) / 10)
            return -1;
        count = count * 10 + digit;
    }
    int64_t unit;
    if (!*p && count == 0)
        unit = 1;  //  "0" needs no unit: zero is zero in any unit
    else if (!strcmp (p, "ms"))
        unit = 1;
    else if (!strcmp (p, "s"))
        unit = S_SECOND;
    else if (!strcmp (p, "m"))
        unit = S_MINUTE;
    else if (!strcmp (p, "h"))
        unit = S_HOUR;
    else if (!strcmp (p, "d"))
        unit = S_DAY;
    else
        return -1;
    if (count > INT64_MAX / unit)
        return -1;
    *ms = count * unit;
    return 0;
}

bool
zetl_identifier_valid (const char *name)
{
    if (!name)
        return false;
    size_t len = strlen (name);
    if (len == 0 || len > S_NAME_MAX)
        return false;
    //  zetl_ names are zetl's own columns and tables (zetl_hash, zetl_offsets, ...)
    if (!strncmp (name, "zetl_", 5))
        return false;
    if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

const zetl_pipeline_t *
zetl_config_pipeline (const zetl_config_t *self, const char *id)
{
    assert (self);
    assert (id);
    for (size_t index = 0; index < self->pipeline_count; index++)
        if (!strcmp (self->pipelines[index].id, id))
            return &self->pipelines[index];
    return NULL;
}

int
zetl_pipeline_field_index (const zetl_pipeline_t *pipeline, const char *name)
{
    assert (pipeline);
    if (!name)
        return -1;
    for (size_t index = 0; index < pipeline->field_count; index++)
        if (!strcmp (pipeline->fields[index].name, name))
            return (int) index;
    return -1;
}

//  --------------------------------------------------------------------------
//  Reading values

//  What a value of OPT looks like, for "expected X, not Y"
static char *
s_expected (const zetl_option_t *opt)
{
    switch (opt->type) {
    case ZETL_OPT_STRING:
        if (opt->values) {
            char *list = s_enum_list (opt->values, false);
            char *text = s_printf ("one of: %s", list);
            free (list);
            return text;
        }
        return s_strdup ("a string");
    case ZETL_OPT_NAME:
        return s_strdup ("a name");
    case ZETL_OPT_IDENTIFIER:
        return s_strdup ("an identifier");
    case ZETL_OPT_COLUMN:
        return s_strdup ("a column name");
    case ZETL_OPT_ENDPOINT:
        return s_strdup ("an endpoint such as tcp://*:5570");
    case ZETL_OPT_HOSTPORT:
        return s_strdup ("host:port");
    case ZETL_OPT_INT:
        return s_strdup ("an integer");
    case ZETL_OPT_DURATION:
        return s_strdup ("a duration such as 15m");
    case ZETL_OPT_BOOL:
        return s_strdup ("true or false");
    case ZETL_OPT_ENUM: {
        char *list = s_enum_list (opt->values, false);
        char *text = s_printf ("one of: %s", list);
        free (list);
        return text;
    }
    case ZETL_OPT_CHAR:
        return s_strdup ("one character");
    case ZETL_OPT_NUMBER:
        return s_strdup ("a number");
    case ZETL_OPT_TIME_FORMAT:
        return s_strdup ("iso8601, unix_ms or a strftime pattern");
    case ZETL_OPT_STRINGS:
        return s_strdup ("a list of strings");
    case ZETL_OPT_COLUMNS:
        return s_strdup ("a list of column names");
    case ZETL_OPT_SECTION:
        return s_strdup ("a mapping");
    case ZETL_OPT_LIST:
        return s_strdup ("a list of mappings");
    case ZETL_OPT_MAP:
        return s_strdup ("a mapping of column names");
    case ZETL_OPT_UNSUPPORTED:
        break;
    }
    return s_strdup ("nothing");
}

//  "expected an integer, not a list"
static int
s_wrong_kind (s_ctx_t *ctx, const zetl_option_t *opt, yaml_node_t *node, const char *path)
{
    char shown[96];
    char *got;
    if (s_is_null (node))
        got = s_strdup ("an empty value");
    else if (node->type == YAML_MAPPING_NODE)
        got = s_strdup ("a mapping");
    else if (node->type == YAML_SEQUENCE_NODE)
        got = s_strdup ("a list");
    else
        got = s_printf ("the value %s",
                        s_show ((const char *) node->data.scalar.value, shown, sizeof shown));
    char *expected = s_expected (opt);
    const char *hint = "";
    if (opt->type == ZETL_OPT_SECTION || opt->type == ZETL_OPT_LIST || opt->type == ZETL_OPT_MAP ||
        opt->type == ZETL_OPT_STRINGS || opt->type == ZETL_OPT_COLUMNS)
        hint = "; see docs/CONFIG.md";
    else if (s_is_null (node))
        hint = "; give a value or remove the key";
    s_error (ctx, node, path, "expected %s, not %s%s", expected, got, hint);
    free (expected);
    free (got);
    return -1;
}

static void
s_set_string (void *base, size_t offset, const char *text)
{
    char **slot = (char **) s_at (base, offset);
    free (*slot);
    *slot = text ? s_strdup (text) : NULL;
}

//  Read TEXT as a value of scalar option OPT and store it in BASE. NODE is
//  the value's node, or NULL when TEXT is the option's default.
static int
s_parse_text (s_ctx_t *ctx, const zetl_option_t *opt, const char *text, yaml_node_t *node,
              void *base, const char *path)
{
    char shown[96], range[64], hint[64];
    void *field = s_at (base, opt->offset);
    switch (opt->type) {
    case ZETL_OPT_STRING:
        if (!*text)
            return s_error (ctx, node, path, "is empty; give a value or remove the key");
        if (opt->values && s_enum_index (opt->values, text) < 0) {
            char *list = s_enum_list (opt->values, false);
            s_error (ctx, node, path, "%s is not allowed; use one of: %s%s",
                     s_show (text, shown, sizeof shown), list,
                     s_default_hint (opt, hint, sizeof hint));
            free (list);
            return -1;
        }
        s_set_string (base, opt->offset, text);
        return 0;
    case ZETL_OPT_NAME:
        if (!s_name_valid (text))
            return s_error (ctx, node, path,
                            "%s is not a valid name; use lowercase letters, digits, _ and -, "
                            "at most 63 bytes",
                            s_show (text, shown, sizeof shown));
        s_set_string (base, opt->offset, text);
        return 0;
    case ZETL_OPT_IDENTIFIER:
    case ZETL_OPT_COLUMN:
        if (!zetl_identifier_valid (text))
            return s_error (ctx, node, path,
                            "%s is not a valid identifier; use lowercase letters, digits and _, "
                            "starting with a letter or _, at most 63 bytes, not starting with "
                            "zetl_",
                            s_show (text, shown, sizeof shown));
        s_set_string (base, opt->offset, text);
        return 0;
    case ZETL_OPT_ENDPOINT: {
        const char *rest = NULL;
        if (!strncmp (text, "tcp://", 6) && strchr (text + 6, ':'))
            rest = text + 6;
        else if (!strncmp (text, "ipc://", 6))
            rest = text + 6;
        else if (!strncmp (text, "inproc://", 9))
            rest = text + 9;
        if (!rest || !*rest)
            return s_error (ctx, node, path,
                            "%s is not a ZeroMQ endpoint; use tcp://host:port, ipc://path or "
                            "inproc://name%s",
                            s_show (text, shown, sizeof shown),
                            s_default_hint (opt, hint, sizeof hint));
        s_set_string (base, opt->offset, text);
        return 0;
    }
    case ZETL_OPT_HOSTPORT: {
        const char *colon = strrchr (text, ':');
        int64_t port = 0;
        if (!colon || colon == text || s_parse_int (colon + 1, &port) || colon[1] == '-' ||
            port < 1 || port > 65535)
            return s_error (ctx, node, path,
                            "%s is not host:port; use an address and a port such as "
                            "127.0.0.1:8080%s",
                            s_show (text, shown, sizeof shown),
                            s_default_hint (opt, hint, sizeof hint));
        s_set_string (base, opt->offset, text);
        return 0;
    }
    case ZETL_OPT_INT: {
        int64_t value;
        if (s_parse_int (text, &value))
            return s_error (ctx, node, path, "%s is not an integer; use %s%s",
                            s_show (text, shown, sizeof shown), s_range (opt, range, sizeof range),
                            s_default_hint (opt, hint, sizeof hint));
        if (value < opt->min || value > opt->max)
            return s_error (ctx, node, path, "%s is out of range; use %s%s", text,
                            s_range (opt, range, sizeof range),
                            s_default_hint (opt, hint, sizeof hint));
        if (opt->size == sizeof (int64_t))
            memcpy (field, &value, sizeof value);
        else {
            assert (opt->size == sizeof (uint32_t) && opt->min >= 0 && opt->max <= UINT32_MAX);
            uint32_t narrow = (uint32_t) value;
            memcpy (field, &narrow, sizeof narrow);
        }
        return 0;
    }
    case ZETL_OPT_DURATION: {
        int64_t value;
        if (zetl_duration_parse (text, &value))
            return s_error (ctx, node, path,
                            "%s is not a duration; use a whole number and a unit (ms, s, m, "
                            "h, d) in %s%s",
                            s_show (text, shown, sizeof shown), s_range (opt, range, sizeof range),
                            s_default_hint (opt, hint, sizeof hint));
        if (value < opt->min || value > opt->max)
            return s_error (ctx, node, path, "%s is out of range; use %s%s", text,
                            s_range (opt, range, sizeof range),
                            s_default_hint (opt, hint, sizeof hint));
        assert (opt->size == sizeof (int64_t));
        memcpy (field, &value, sizeof value);
        return 0;
    }
    case ZETL_OPT_BOOL: {
        bool value;
        if (!strcmp (text, "true") || !strcmp (text, "True") || !strcmp (text, "TRUE"))
            value = true;
        else if (!strcmp (text, "false") || !strcmp (text, "False") || !strcmp (text, "FALSE"))
            value = false;
        else
            return s_error (ctx, node, path, "%s is not a bool; use true or false%s",
                            s_show (text, shown, sizeof shown),
                            s_default_hint (opt, hint, sizeof hint));
        assert (opt->size == sizeof (bool));
        memcpy (field, &value, sizeof value);
        return 0;
    }
    case ZETL_OPT_ENUM: {
        int index = s_enum_index (opt->values, text);
        if (index < 0) {
            char *list = s_enum_list (opt->values, false);
            s_error (ctx, node, path, "%s is not allowed; use one of: %s%s",
                     s_show (text, shown, sizeof shown), list,
                     s_default_hint (opt, hint, sizeof hint));
            free (list);
            return -1;
        }
        assert (opt->size == sizeof (int));
        memcpy (field, &index, sizeof index);
        return 0;
    }
    case ZETL_OPT_CHAR:
        //  A quote or a line break would make CSV rows ambiguous
        if (strlen (text) != 1 || (unsigned char) text[0] >= 0x80 || text[0] == '"' ||
            text[0] == '\n' || text[0] == '\r')
            return s_error (ctx, node, path,
                            "%s is not a single character; use one ASCII character other "
                            "than a quote or a line break, such as , or ; or \"\\t\"%s",
                            s_show (text, shown, sizeof shown),
                            s_default_hint (opt, hint, sizeof hint));
        assert (opt->size == 1);
        memcpy (field, text, 1);
        return 0;
    case ZETL_OPT_NUMBER: {
        char *end = NULL;
        errno = 0;
        double value = strtod (text, &end);
        //  Decimal only: strtod also takes hex, inf and nan, which are no bounds
        bool decimal = strspn (text, "0123456789+-.eE") == strlen (text);
        if (!*text || *end || errno || !decimal || !isfinite (value))
            return s_error (ctx, node, path, "%s is not a number; use a decimal such as 0 or 12.5",
                            s_show (text, shown, sizeof shown));
        assert (opt->size == sizeof (double));
        memcpy (field, &value, sizeof value);
        bool given = true;
        memcpy (s_at (base, opt->aux), &given, sizeof given);
        return 0;
    }
    case ZETL_OPT_TIME_FORMAT: {
        int kind;
        if (!strcmp (text, "iso8601"))
            kind = ZETL_TIME_ISO8601;
        else if (!strcmp (text, "unix_ms"))
            kind = ZETL_TIME_UNIX_MS;
        else if (strchr (text, '%'))
            kind = ZETL_TIME_STRFTIME;
        else
            return s_error (ctx, node, path,
                            "%s is not a time format; use iso8601, unix_ms or a strftime "
                            "pattern such as \"%%Y-%%m-%%d %%H:%%M:%%S\"%s",
                            s_show (text, shown, sizeof shown),
                            s_default_hint (opt, hint, sizeof hint));
        assert (opt->size == sizeof (int));
        memcpy (field, &kind, sizeof kind);
        s_set_string (base, opt->aux, kind == ZETL_TIME_STRFTIME ? text : NULL);
        return 0;
    }
    default:
        assert (false);
    }
    return -1;
}

//  One entry of a list or mapping, for finding repeats
typedef struct {
    const char *text;
    size_t index;
} s_entry_t;

static int
s_entry_compare (const void *left, const void *right)
{
    const s_entry_t *a = (const s_entry_t *) left, *b = (const s_entry_t *) right;
    int rc = strcmp (a->text, b->text);
    return rc ? rc : (a->index > b->index) - (a->index < b->index);
}

//  Return the index of the first of COUNT TEXTS that repeats an earlier one,
//  and set *EARLIER to that one's index; or return COUNT if all differ.
//  Sorting keeps this O(n log n), since aliases can make long lists cheaply.
static size_t
s_first_repeat (const char *const *texts, size_t count, size_t *earlier)
{
    s_entry_t *entries = (s_entry_t *) s_alloc (count, sizeof (s_entry_t));
    for (size_t index = 0; index < count; index++)
        entries[index] = (s_entry_t){texts[index], index};
    qsort (entries, count, sizeof (s_entry_t), s_entry_compare);
    size_t repeat = count, start = 0;
    for (size_t index = 1; index <= count; index++) {
        if (index < count && !strcmp (entries[index].text, entries[start].text))
            continue;
        //  In a run of equal texts, by position: the second one repeats the first
        if (index - start >= 2 && entries[start + 1].index < repeat) {
            repeat = entries[start + 1].index;
            *earlier = entries[start].index;
        }
        start = index;
    }
    free (entries);
    return repeat;
}

static int s_parse_section (s_ctx_t *ctx, const zetl_option_t *table, yaml_node_t *node, void *base,
                            const char *path);

//  A list of distinct strings (STRINGS, COLUMNS)
static int
s_parse_strings (s_ctx_t *ctx, const zetl_option_t *opt, yaml_node_t *node, void *base,
                 const char *path)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return s_wrong_kind (ctx, opt, node, path);
    size_t count = (size_t) (node->data.sequence.items.top - node->data.sequence.items.start);
    if (count == 0)
        return s_error (ctx, node, path, "is empty; list at least one value or remove the key");
    if (opt->max && count > (size_t) opt->max)
        return s_error (ctx, node, path, "has %zu entries; use at most %lld", count,
                        (long long) opt->max);
    char ***slot = (char ***) s_at (base, opt->offset);
    assert (*slot == NULL);
    char **array = (char **) s_alloc (count, sizeof (char *));
    *slot = array;
    memcpy (s_at (base, opt->aux), &count, sizeof count);
    char shown[96], item_path[S_PATH_MAX];
    for (size_t index = 0; index < count; index++) {
        yaml_node_t *item = s_item (ctx, node, index);
        s_item_path (item_path, path, index);
        if (item->type != YAML_SCALAR_NODE || s_is_null (item)) {
            const zetl_option_t one = {.type = opt->type == ZETL_OPT_COLUMNS ? ZETL_OPT_COLUMN
                                                                             : ZETL_OPT_STRING};
            return s_wrong_kind (ctx, &one, item, item_path);
        }
        const char *text = (const char *) item->data.scalar.value;
        if (++ctx->values > S_VALUES_MAX)
            return s_error (ctx, item, item_path,
                            "the document holds more than %d values once its aliases are "
                            "expanded; use fewer aliases",
                            S_VALUES_MAX);
        if (!*text)
            return s_error (ctx, item, item_path, "is empty; give a value");
        if (opt->type == ZETL_OPT_COLUMNS && !zetl_identifier_valid (text))
            return s_error (ctx, item, item_path,
                            "%s is not a valid identifier; use lowercase letters, digits and _, "
                            "starting with a letter or _, at most 63 bytes, not starting with "
                            "zetl_",
                            s_show (text, shown, sizeof shown));
        array[index] = s_strdup (text);
    }
    size_t earlier = 0, repeat = s_first_repeat ((const char *const *) array, count, &earlier);
    if (repeat < count) {
        s_item_path (item_path, path, repeat);
        return s_error (ctx, s_item (ctx, node, repeat), item_path,
                        "%s is listed twice (also at [%zu]); keep one",
                        s_show (array[repeat], shown, sizeof shown), earlier);
    }
    return 0;
}

static int
s_parse_list (s_ctx_t *ctx, const zetl_option_t *opt, yaml_node_t *node, void *base,
              const char *path)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return s_wrong_kind (ctx, opt, node, path);
    size_t count = (size_t) (node->data.sequence.items.top - node->data.sequence.items.start);
    if (count == 0)
        return s_error (ctx, node, path, "is empty; add at least one entry (%s)", opt->doc);
    if (opt->max && count > (size_t) opt->max)
        return s_error (ctx, node, path, "has %zu entries; use at most %lld", count,
                        (long long) opt->max);
    //  Allocated zeroed and counted first, so destroy frees whatever an error leaves behind
    void **slot = (void **) s_at (base, opt->offset);
    assert (*slot == NULL);
    char *array = (char *) s_alloc (count, opt->elem_size);
    *slot = array;
    memcpy (s_at (base, opt->aux), &count, sizeof count);
    char item_path[S_PATH_MAX];
    for (size_t index = 0; index < count; index++) {
        yaml_node_t *item = s_item (ctx, node, index);
        void *element = array + index * opt->elem_size;
        s_item_path (item_path, path, index);
        if (s_parse_section (ctx, opt->sub, item, element, item_path))
            return -1;
        if (opt->check && opt->check (ctx, item, element, item_path))
            return -1;
    }
    return 0;
}

static int
s_parse_map (s_ctx_t *ctx, const zetl_option_t *opt, yaml_node_t *node, void *base,
             const char *path)
{
    if (node->type != YAML_MAPPING_NODE)
        return s_wrong_kind (ctx, opt, node, path);
    size_t count = (size_t) (node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    if (count == 0)
        return s_error (ctx, node, path, "is empty; add at least one column");
    if (opt->max && count > (size_t) opt->max)
        return s_error (ctx, node, path, "has %zu columns; use at most %lld", count,
                        (long long) opt->max);
    void **slot = (void **) s_at (base, opt->offset);
    assert (*slot == NULL);
    char *array = (char *) s_alloc (count, opt->elem_size);
    *slot = array;
    memcpy (s_at (base, opt->aux), &count, sizeof count);
    char shown[96], item_path[S_PATH_MAX];
    //  Names first: a repeated column is an error wherever it is
    yaml_node_pair_t *pairs = node->data.mapping.pairs.start;
    const char **names = (const char **) s_alloc (count, sizeof (char *));
    for (size_t index = 0; index < count; index++) {
        yaml_node_t *key_node = s_node (ctx, pairs[index].key);
        if (key_node->type != YAML_SCALAR_NODE || s_is_null (key_node)) {
            free (names);
            return s_error (ctx, key_node, path, "has a key that is not a column name");
        }
        names[index] = (const char *) key_node->data.scalar.value;
    }
    size_t earlier = 0, repeat = s_first_repeat (names, count, &earlier);
    free (names);
    if (repeat < count) {
        yaml_node_t *key_node = s_node (ctx, pairs[repeat].key);
        s_child_path (item_path, path, (const char *) key_node->data.scalar.value);
        return s_error (ctx, key_node, item_path, "duplicate key (first at line %zu); keep one",
                        s_line (s_node (ctx, pairs[earlier].key)));
    }
    for (size_t index = 0; index < count; index++) {
        yaml_node_t *key_node = s_node (ctx, pairs[index].key);
        yaml_node_t *value = s_node (ctx, pairs[index].value);
        const char *name = (const char *) key_node->data.scalar.value;
        s_child_path (item_path, path, name);
        if (!zetl_identifier_valid (name))
            return s_error (ctx, key_node, item_path,
                            "%s is not a valid column name; use lowercase letters, digits and _, "
                            "starting with a letter or _, at most 63 bytes, not starting with "
                            "zetl_",
                            s_show (name, shown, sizeof shown));
        void *element = array + index * opt->elem_size;
        *(char **) element = s_strdup (name);
        if (s_parse_section (ctx, opt->sub, value, element, item_path))
            return -1;
        if (opt->check && opt->check (ctx, value, element, item_path))
            return -1;
    }
    return 0;
}

static int
s_parse_value (s_ctx_t *ctx, const zetl_option_t *opt, yaml_node_t *node, void *base,
               const char *path)
{
    if (++ctx->values > S_VALUES_MAX)
        return s_error (ctx, node, path,
                        "the document holds more than %d values once its aliases are expanded; "
                        "use fewer aliases",
                        S_VALUES_MAX);
    switch (opt->type) {
    case ZETL_OPT_SECTION:
        if (node->type != YAML_MAPPING_NODE)
            return s_wrong_kind (ctx, opt, node, path);
        return s_parse_section (ctx, opt->sub, node, s_at (base, opt->offset), path);
    case ZETL_OPT_LIST:
        return s_parse_list (ctx, opt, node, base, path);
    case ZETL_OPT_MAP:
        return s_parse_map (ctx, opt, node, base, path);
    case ZETL_OPT_STRINGS:
    case ZETL_OPT_COLUMNS:
        return s_parse_strings (ctx, opt, node, base, path);
    case ZETL_OPT_UNSUPPORTED:
        return s_error (ctx, node, path,
                        "%s are not supported by this version of zetl; remove the key", opt->doc);
    default:
        if (node->type != YAML_SCALAR_NODE || s_is_null (node))
            return s_wrong_kind (ctx, opt, node, path);
        return s_parse_text (ctx, opt, (const char *) node->data.scalar.value, node, base, path);
    }
}

//  Set every default of TABLE that applies to VARIANT, and those of its
//  sections, so a key left out reads as its default.
static void
s_apply_defaults (s_ctx_t *ctx, const zetl_option_t *table, void *base, const char *variant)
{
    for (const zetl_option_t *opt = table; opt->key; opt++) {
        if (!s_applies (opt, variant))
            continue;
        if (opt->def) {
            int rc = s_parse_text (ctx, opt, opt->def, NULL, base, opt->key);
            assert (rc == 0);  //  A default that does not parse is a bug in the table
            (void) rc;
        }
        else if (opt->type == ZETL_OPT_SECTION && !(opt->sub[0].flags & S_DISCRIMINATOR))
            s_apply_defaults (ctx, opt->sub, s_at (base, opt->offset), NULL);
    }
}

static const zetl_option_t *
s_find (const zetl_option_t *table, const char *key)
{
    for (const zetl_option_t *opt = table; opt->key; opt++)
        if (!strcmp (opt->key, key))
            return opt;
    return NULL;
}

//  "unknown key; expected one of: a, b, c"
static int
s_unknown_key (s_ctx_t *ctx, const zetl_option_t *table, const char *variant, yaml_node_t *node,
               const char *path)
{
    s_text_t keys = {NULL, 0};
    for (const zetl_option_t *opt = table; opt->key; opt++) {
        if (opt->type == ZETL_OPT_UNSUPPORTED || !s_applies (opt, variant))
            continue;
        if (keys.data)
            s_text_add (&keys, ", ");
        s_text_add (&keys, opt->key);
    }
    s_error (ctx, node, path, "unknown key; expected one of: %s", keys.data);
    free (keys.data);
    return -1;
}

static int
s_parse_section (s_ctx_t *ctx, const zetl_option_t *table, yaml_node_t *node, void *base,
                 const char *path)
{
    if (node->type != YAML_MAPPING_NODE && !*path)
        return s_error (ctx, node, path,
                        "the document is not a mapping; it must hold keys such as cluster: and "
                        "pipelines: (see docs/examples/bookings.yaml)");
    if (node->type != YAML_MAPPING_NODE) {
        const zetl_option_t section = {.type = ZETL_OPT_SECTION};
        return s_wrong_kind (ctx, &section, node, path);
    }
    char child[S_PATH_MAX];
    size_t table_size = 0;
    while (table[table_size].key)
        table_size++;
    assert (table_size <= 64);

    //  The type comes first: it decides which other keys apply
    const zetl_option_t *discriminator = (table[0].flags & S_DISCRIMINATOR) ? &table[0] : NULL;
    char variant_buf[32];
    const char *variant = NULL;
    if (discriminator) {
        yaml_node_t *type_node = s_lookup (ctx, node, discriminator->key);
        s_child_path (child, path, discriminator->key);
        if (!type_node)
            return s_error (ctx, node, child, "required key is missing; add it (%s)",
                            discriminator->doc);
        if (s_parse_value (ctx, discriminator, type_node, base, child))
            return -1;
        int index;
        memcpy (&index, s_at (base, discriminator->offset), sizeof index);
        variant = s_enum_name (discriminator->values, index, variant_buf, sizeof variant_buf);
    }
    s_apply_defaults (ctx, table, base, variant);

    uint64_t seen = 0;
    yaml_node_pair_t *pairs = node->data.mapping.pairs.start;
    size_t count = (size_t) (node->data.mapping.pairs.top - pairs);
    for (size_t index = 0; index < count; index++) {
        yaml_node_t *key_node = s_node (ctx, pairs[index].key);
        yaml_node_t *value = s_node (ctx, pairs[index].value);
        if (key_node->type != YAML_SCALAR_NODE || s_is_null (key_node))
            return s_error (ctx, key_node, path,
                            "has a key that is not a plain name; "
                            "write keys as name: value");
        const char *key = (const char *) key_node->data.scalar.value;
        s_child_path (child, path, key);
        for (size_t other = 0; other < index; other++) {
            yaml_node_t *other_key = s_node (ctx, pairs[other].key);
            if (other_key->type == YAML_SCALAR_NODE &&
                !strcmp ((const char *) other_key->data.scalar.value, key))
                return s_error (ctx, key_node, child, "duplicate key (first at line %zu); keep one",
                                s_line (other_key));
        }
        const zetl_option_t *opt = s_find (table, key);
        if (!opt)
            return s_unknown_key (ctx, table, variant, key_node, child);
        if (!s_applies (opt, variant))
            return s_error (ctx, key_node, child,
                            "is not used by type %s; remove it (it applies to type %s)", variant,
                            opt->when);
        seen |= UINT64_C (1) << (opt - table);
        if (opt == discriminator)
            continue;  //  Read above
        if (s_parse_value (ctx, opt, value, base, child))
            return -1;
    }
    for (const zetl_option_t *opt = table; opt->key; opt++)
        if ((opt->flags & S_REQUIRED) && s_applies (opt, variant) &&
            !(seen & (UINT64_C (1) << (opt - table)))) {
            s_child_path (child, path, opt->key);
            return s_error (ctx, node, child, "required key is missing; add it (%s)", opt->doc);
        }
    return 0;
}

//  --------------------------------------------------------------------------
//  Checks across keys

//  "is not a column of the schema; use one of: a, b"
static int
s_not_a_column (s_ctx_t *ctx, const zetl_pipeline_t *pipeline, yaml_node_t *node, const char *path,
                const char *name)
{
    char shown[96];
    s_text_t columns = {NULL, 0};
    for (size_t index = 0; index < pipeline->field_count; index++) {
        if (index)
            s_text_add (&columns, ", ");
        s_text_add (&columns, pipeline->fields[index].name);
    }
    s_error (ctx, node, path, "%s is not a column of the schema; use one of: %s",
             s_show (name, shown, sizeof shown), columns.data);
    free (columns.data);
    return -1;
}

static int
s_check_field (s_ctx_t *ctx, yaml_node_t *node, void *item, const char *path)
{
    zetl_field_t *field = (zetl_field_t *) item;
    static const char *string_only[] = {"max_len", "enum", "regex"};
    static const char *numeric_only[] = {"min", "max"};
    char child[S_PATH_MAX];
    if (field->type != ZETL_TYPE_STRING)
        for (size_t index = 0; index < 3; index++) {
            yaml_node_t *value = s_lookup (ctx, node, string_only[index]);
            if (value) {
                s_child_path (child, path, string_only[index]);
                return s_error (ctx, value, child,
                                "applies to string columns only; remove it or use type: string");
            }
        }
    if (field->type != ZETL_TYPE_INT && field->type != ZETL_TYPE_NUMBER)
        for (size_t index = 0; index < 2; index++) {
            yaml_node_t *value = s_lookup (ctx, node, numeric_only[index]);
            if (value) {
                s_child_path (child, path, numeric_only[index]);
                return s_error (ctx, value, child,
                                "applies to int and number columns only; remove it or use type: "
                                "int or number");
            }
        }
    if (field->has_min && field->has_max && field->min > field->max) {
        s_child_path (child, path, "max");
        return s_error (ctx, s_lookup (ctx, node, "max"), child,
                        "%g is below min %g; make max at least min", field->max, field->min);
    }
    return 0;
}

static int
s_check_target (s_ctx_t *ctx, yaml_node_t *node, void *item, const char *path)
{
    (void) ctx;
    (void) node;
    (void) path;
    zetl_target_t *target = (zetl_target_t *) item;
    if (target->type == ZETL_TARGET_POSTGRES)
        target->name = s_printf ("postgres:%s", target->table);
    else
        target->name = s_printf ("files:%s", target->path);
    return 0;
}

//  NAME, read from NODE, must be a column of PIPELINE's schema
static int
s_check_column (s_ctx_t *ctx, const zetl_pipeline_t *pipeline, yaml_node_t *node, const char *path,
                const char *name)
{
    if (name && zetl_pipeline_field_index (pipeline, name) < 0)
        return s_not_a_column (ctx, pipeline, node, path, name);
    return 0;
}

static int
s_check_pipeline (s_ctx_t *ctx, yaml_node_t *node, void *item, const char *path)
{
    zetl_pipeline_t *pipeline = (zetl_pipeline_t *) item;
    char child[S_PATH_MAX], grandchild[S_PATH_MAX], shown[96];
    size_t position = (size_t) (pipeline - ctx->config->pipelines);
    s_child_path (child, path, "id");
    for (size_t other = 0; other < position; other++)
        if (!strcmp (ctx->config->pipelines[other].id, pipeline->id))
            return s_error (ctx, s_lookup (ctx, node, "id"), child,
                            "%s is already the id of pipelines[%zu]; pipeline ids must be unique",
                            s_show (pipeline->id, shown, sizeof shown), other);

    s_child_path (child, path, "id_field");
    if (s_check_column (ctx, pipeline, s_lookup (ctx, node, "id_field"), child, pipeline->id_field))
        return -1;
    s_child_path (child, path, "partition_key");
    if (s_check_column (ctx, pipeline, s_lookup (ctx, node, "partition_key"), child,
                        pipeline->partition_key))
        return -1;

    //  Watermarks and last-write-wins need a point in time, not a day
    yaml_node_t *event_time = s_lookup (ctx, node, "event_time");
    yaml_node_t *time_field = s_lookup (ctx, event_time, "field");
    s_child_path (child, path, "event_time.field");
    if (s_check_column (ctx, pipeline, time_field, child, pipeline->event_time.field))
        return -1;
    int time_index = zetl_pipeline_field_index (pipeline, pipeline->event_time.field);
    zetl_type_t time_type = pipeline->fields[time_index].type;
    if (time_type != ZETL_TYPE_TIMESTAMP) {
        char type_name[32];
        return s_error (
            ctx, time_field, child,
            "%s is a %s column; event time needs a column of type timestamp",
            s_show (pipeline->event_time.field, shown, sizeof shown),
            s_enum_name (s_field_options[0].values, (int) time_type, type_name, sizeof type_name));
    }

    yaml_node_t *sinks = s_lookup (ctx, node, "sinks");
    for (size_t index = 0; index < pipeline->target_count; index++) {
        zetl_target_t *target = &pipeline->targets[index];
        yaml_node_t *target_node = s_item (ctx, sinks, index);
        char target_path[S_PATH_MAX];
        s_child_path (child, path, "sinks");
        s_item_path (target_path, child, index);
        for (size_t other = 0; other < index; other++)
            if (!strcmp (pipeline->targets[other].name, target->name))
                return s_error (ctx, target_node, target_path,
                                "writes %s, as sinks[%zu] does; a pipeline writes each target once",
                                s_show (target->name, shown, sizeof shown), other);
        if (target->type != ZETL_TARGET_POSTGRES)
            continue;
        yaml_node_t *key_node = s_lookup (ctx, target_node, "primary_key");
        s_child_path (child, target_path, "primary_key");
        for (size_t column = 0; column < target->primary_key_count; column++) {
            s_item_path (grandchild, child, column);
            if (s_check_column (ctx, pipeline, s_item (ctx, key_node, column), grandchild,
                                target->primary_key[column]))
                return -1;
        }
        if (target->partition_by_day) {
            yaml_node_t *day_node = s_lookup (ctx, target_node, "partition_by_day");
            s_child_path (child, target_path, "partition_by_day");
            if (s_check_column (ctx, pipeline, day_node, child, target->partition_by_day))
                return -1;
            int day_index = zetl_pipeline_field_index (pipeline, target->partition_by_day);
            zetl_type_t day_type = pipeline->fields[day_index].type;
            if (day_type != ZETL_TYPE_TIMESTAMP && day_type != ZETL_TYPE_DATE)
                return s_error (ctx, day_node, child,
                                "%s is not a timestamp or date column; partition by a column of "
                                "type timestamp or date",
                                s_show (target->partition_by_day, shown, sizeof shown));
        }
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Loading

//  Free every value TABLE stored in BASE
static void
s_free_section (const zetl_option_t *table, void *base)
{
    for (const zetl_option_t *opt = table; opt->key; opt++) {
        switch (opt->type) {
        case ZETL_OPT_STRING:
        case ZETL_OPT_NAME:
        case ZETL_OPT_IDENTIFIER:
        case ZETL_OPT_COLUMN:
        case ZETL_OPT_ENDPOINT:
        case ZETL_OPT_HOSTPORT:
            s_set_string (base, opt->offset, NULL);
            break;
        case ZETL_OPT_TIME_FORMAT:
            s_set_string (base, opt->aux, NULL);
            break;
        case ZETL_OPT_STRINGS:
        case ZETL_OPT_COLUMNS: {
            char ***slot = (char ***) s_at (base, opt->offset);
            size_t count;
            memcpy (&count, s_at (base, opt->aux), sizeof count);
            for (size_t index = 0; *slot && index < count; index++)
                free ((*slot)[index]);
            free (*slot);
            *slot = NULL;
            break;
        }
        case ZETL_OPT_SECTION:
            s_free_section (opt->sub, s_at (base, opt->offset));
            break;
        case ZETL_OPT_LIST:
        case ZETL_OPT_MAP: {
            char **slot = (char **) s_at (base, opt->offset);
            size_t count;
            memcpy (&count, s_at (base, opt->aux), sizeof count);
            for (size_t index = 0; *slot && index < count; index++) {
                void *element = *slot + index * opt->elem_size;
                if (opt->type == ZETL_OPT_MAP)
                    free (*(char **) element);
                s_free_section (opt->sub, element);
            }
            free (*slot);
            *slot = NULL;
            break;
        }
        default:
            break;
        }
    }
}

void
zetl_config_destroy (zetl_config_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_config_t *self = *self_p;
        //  Target names are derived, not read, so the tables do not know them
        for (size_t index = 0; self->pipelines && index < self->pipeline_count; index++) {
            zetl_pipeline_t *pipeline = &self->pipelines[index];
            for (size_t target = 0; pipeline->targets && target < pipeline->target_count; target++)
                free (pipeline->targets[target].name);
        }
        s_free_section (s_top_options, self);
        free (self->path);
        free (self->text);
        free (self);
        *self_p = NULL;
    }
}

//  libyaml's error as "FILE:LINE: invalid YAML: PROBLEM ..."
static char *
s_yaml_error (const yaml_parser_t *parser, const char *name, const char *text, size_t len)
{
    if (parser->error == YAML_MEMORY_ERROR) {
        fprintf (stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort ();
    }
    const char *problem = parser->problem ? parser->problem : "cannot parse";
    if (parser->error == YAML_READER_ERROR) {
        //  The reader reports a byte offset; count lines up to it
        size_t line = 1;
        for (size_t offset = 0; offset < parser->problem_offset && offset < len; offset++)
            line += text[offset] == '\n';
        return s_printf ("%s:%zu: invalid text: %s (byte %zu); save the file as UTF-8 text", name,
                         line, problem, parser->problem_offset);
    }
    if (parser->context)
        return s_printf ("%s:%zu: invalid YAML: %s at column %zu (%s at line %zu); fix the syntax",
                         name, parser->problem_mark.line + 1, problem,
                         parser->problem_mark.column + 1, parser->context,
                         parser->context_mark.line + 1);
    return s_printf ("%s:%zu: invalid YAML: %s at column %zu; fix the syntax", name,
                     parser->problem_mark.line + 1, problem, parser->problem_mark.column + 1);
}

static void
s_apply_environment (zetl_config_t *self)
{
    //  Each process reaches PostgreSQL and Redis its own way; an empty variable counts as unset
    const char *postgres = getenv ("ZETL_POSTGRES");
    if (postgres && *postgres)
        s_set_string (self, offsetof (zetl_config_t, postgres), postgres);
    const char *redis = getenv ("ZETL_REDIS");
    if (redis && *redis)
        s_set_string (self, offsetof (zetl_config_t, redis), redis);
}

zetl_config_t *
zetl_config_parse (const char *text, size_t len, const char *name, char **error)
{
    assert (text || len == 0);
    if (!name)
        name = "(config)";
    if (error)
        *error = NULL;
    zetl_config_t *self = (zetl_config_t *) s_alloc (1, sizeof (zetl_config_t));
    self->path = s_strdup (name);
    self->text = (char *) s_alloc (1, len + 1);
    if (len)
        memcpy (self->text, text, len);
    self->text_len = len;
    self->hash = XXH3_64bits (self->text, len);

    s_ctx_t ctx = {.name = name, .config = self};
    yaml_parser_t parser;
    if (!yaml_parser_initialize (&parser)) {
        fprintf (stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
        abort ();
    }
    yaml_parser_set_input_string (&parser, (const unsigned char *) self->text, len);
    yaml_document_t document;
    if (!yaml_parser_load (&parser, &document))
        ctx.error = s_yaml_error (&parser, name, self->text, len);
    else {
        ctx.document = &document;
        yaml_node_t *root = yaml_document_get_root_node (&document);
        yaml_document_t next;
        if (!root)
            ctx.error = s_printf ("%s:1: the document is empty; it needs at least pipelines: "
                                  "(see docs/examples/bookings.yaml)",
                                  name);
        else if (!yaml_parser_load (&parser, &next))
            ctx.error = s_yaml_error (&parser, name, self->text, len);
        else {
            //  One file, one configuration: a second document would be ignored silently
            yaml_node_t *next_root = yaml_document_get_root_node (&next);
            if (next_root)
                ctx.error = s_printf ("%s:%zu: a second YAML document starts here; keep one "
                                      "document per file",
                                      name, next.start_mark.line + 1);
            yaml_document_delete (&next);
        }
        if (!ctx.error)
            s_parse_section (&ctx, s_top_options, root, self, "");
        yaml_document_delete (&document);
    }
    yaml_parser_delete (&parser);

    if (ctx.error) {
        if (error)
            *error = ctx.error;
        else
            free (ctx.error);
        zetl_config_destroy (&self);
        return NULL;
    }
    s_apply_environment (self);
    return self;
}

zetl_config_t *
zetl_config_load (const char *path, char **error)
{
    assert (path);
    if (error)
        *error = NULL;
    FILE *file = fopen (path, "rb");
    if (!file) {
        if (error)
            *error = s_printf ("cannot read %s: %s; check the path given to --config", path,
                               strerror (errno));
        return NULL;
    }
    size_t capacity = 64 * 1024, len = 0;
    char *text = (char *) s_alloc (1, capacity);
    bool too_big = false;
    for (;;) {
        if (len == capacity) {
            capacity *= 2;
            char *larger = (char *) realloc (text, capacity);
            if (!larger) {
                fprintf (stderr, "%s:%d: out of memory\n", __FILE__, __LINE__);
                abort ();
            }
            text = larger;
        }
        size_t got = fread (text + len, 1, capacity - len, file);
        len += got;
        if (len > S_FILE_MAX) {
            too_big = true;
            break;
        }
        if (got == 0)
            break;
    }
    int read_error = ferror (file) ? errno : 0;
    fclose (file);
    zetl_config_t *self = NULL;
    if (read_error) {
        if (error)
            *error = s_printf ("cannot read %s: %s; check the file", path, strerror (read_error));
    }
    else if (too_big) {
        if (error)
            *error = s_printf ("%s is larger than %d MiB; a configuration file must be smaller",
                               path, S_FILE_MAX / (1024 * 1024));
    }
    else
        self = zetl_config_parse (text, len, path, error);
    free (text);
    return self;
}

//  --------------------------------------------------------------------------
//  docs/CONFIG.md

static void
s_write_type (FILE *out, const zetl_option_t *opt)
{
    static const char *names[] = {
        [ZETL_OPT_STRING] = "string",
        [ZETL_OPT_NAME] = "name",
        [ZETL_OPT_IDENTIFIER] = "identifier",
        [ZETL_OPT_COLUMN] = "column",
        [ZETL_OPT_ENDPOINT] = "endpoint",
        [ZETL_OPT_HOSTPORT] = "host:port",
        [ZETL_OPT_INT] = "int",
        [ZETL_OPT_DURATION] = "duration",
        [ZETL_OPT_BOOL] = "bool",
        [ZETL_OPT_ENUM] = "enum",
        [ZETL_OPT_CHAR] = "character",
        [ZETL_OPT_NUMBER] = "number",
        [ZETL_OPT_TIME_FORMAT] = "time format",
        [ZETL_OPT_STRINGS] = "list of strings",
        [ZETL_OPT_COLUMNS] = "list of columns",
        [ZETL_OPT_SECTION] = "mapping",
        [ZETL_OPT_LIST] = "list of mappings",
        [ZETL_OPT_MAP] = "mapping of columns",
    };
    if (opt->values) {
        char *list = s_enum_list (opt->values, true);
        fprintf (out, "one of %s", list);
        free (list);
    }
    else
        fprintf (out, "%s", names[opt->type]);
}

static void
s_write_table (FILE *out, const char *heading, const char *about, const zetl_option_t *table)
{
    fprintf (out, "\n## %s\n\n%s\n\n", heading, about);
    fprintf (out, "| key | type | default | range | meaning |\n");
    fprintf (out, "|---|---|---|---|---|\n");
    for (const zetl_option_t *opt = table; opt->key; opt++) {
        if (opt->type == ZETL_OPT_UNSUPPORTED)
            continue;
        fprintf (out, "| `%s` | ", opt->key);
        s_write_type (out, opt);
        if (opt->flags & S_REQUIRED)
            fprintf (out, " | required | ");
        else if (opt->type == ZETL_OPT_SECTION)
            fprintf (out, " | see below | ");
        else if (opt->def)
            fprintf (out, " | `%s` | ", opt->def);
        else
            fprintf (out, " | unset | ");
        if (opt->type == ZETL_OPT_INT || opt->type == ZETL_OPT_DURATION) {
            char range[64];
            fprintf (out, "%s", s_range (opt, range, sizeof range));
        }
        else if (opt->max)
            fprintf (out, "1..%lld entries", (long long) opt->max);
        fprintf (out, " | ");
        if (opt->when)
            fprintf (out, "Type `%s` only: ", opt->when);
        //  The docs are plain text: escape what Markdown would read as markup
        for (const char *p = opt->doc; *p; p++) {
            if (strchr ("|*<", *p))
                fputc ('\\', out);
            fputc (p == opt->doc && !opt->when && *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p,
                   out);
        }
        fprintf (out, ". |\n");
    }
}

//  Write TABLE's reference, then that of each of its sections, under PATH
static void
s_write_sections (FILE *out, const zetl_option_t *table, const char *path)
{
    for (const zetl_option_t *opt = table; opt->key; opt++) {
        char child[S_PATH_MAX], heading[S_PATH_MAX + 16];
        if (opt->type == ZETL_OPT_SECTION)
            s_child_path (child, path, opt->key);
        else if (opt->type == ZETL_OPT_LIST)
            snprintf (child, sizeof child, "%s%s%s[]", path, *path ? "." : "", opt->key);
        else if (opt->type == ZETL_OPT_MAP)
            snprintf (child, sizeof child, "%s%s%s.<column>", path, *path ? "." : "", opt->key);
        else
            continue;
        snprintf (heading, sizeof heading, "`%s`", child);
        char *about;
        if (opt->type == ZETL_OPT_MAP)
            about = s_printf ("%s. Each column name is an identifier; its value is a mapping of "
                              "the keys below.",
                              opt->doc);
        else if (opt->sub[0].flags & S_DISCRIMINATOR)
            about = s_printf ("%s. `type` decides which other keys apply.", opt->doc);
        else
            about = s_printf ("%s.", opt->doc);
        about[0] = (char) (about[0] >= 'a' && about[0] <= 'z' ? about[0] - 'a' + 'A' : about[0]);
        s_write_table (out, heading, about, opt->sub);
        free (about);
        s_write_sections (out, opt->sub, child);
    }
}

void
zetl_config_write_reference (FILE *out)
{
    assert (out);
    fprintf (
        out, "%s",
        "# zetl configuration reference\n"
        "\n"
        "<!-- Generated by zetl_config_write_reference (common/zetl_config.c) from the option\n"
        "     tables the parser uses. Edit those tables, not this file, then rewrite it by\n"
        "     running the config_test unit test with ZETL_UPDATE_DOCS=1. -->\n"
        "\n"
        "The coordinator reads one YAML file (`zetl-coordinator --config pipeline.yaml`, or\n"
        "`zetlctl up --config pipeline.yaml`) and sends its text and hash to every worker and\n"
        "sink, so the whole cluster runs one configuration. The file is checked once, when it\n"
        "is loaded: an unknown key, a duplicate key, a value of the wrong type or out of range,\n"
        "or a missing required key stops the start with a message that names the file, the\n"
        "line and the key, and says what to do:\n"
        "\n"
        "```\n"
        "pipeline.yaml:42: pipelines[0].batch_size: 50000 is out of range; use 100..10000 "
        "(default 1000)\n"
        "pipeline.yaml:7: pipelines[0].sourse: unknown key; expected one of: id, source, ...\n"
        "```\n"
        "\n"
        "A key left out takes its default. A complete example is "
        "[examples/bookings.yaml](examples/bookings.yaml).\n"
        "`transform:` and `enrich:` are not supported by this version of zetl yet.\n"
        "\n"
        "## Values\n"
        "\n"
        "- **duration**: a whole number and a unit, `ms`, `s`, `m`, `h` or `d`: `100ms`, `15m`,\n"
        "  `90d`. `0` alone is zero.\n"
        "- **bool**: `true` or `false`.\n"
        "- **name**: lowercase letters, digits, `_` and `-`; at most 63 bytes.\n"
        "- **identifier**: a PostgreSQL table or column name: lowercase letters, digits and `_`,\n"
        "  starting with a letter or `_`, at most 63 bytes. Names starting with `zetl_` are\n"
        "  reserved for zetl's own columns and tables.\n"
        "- **column**: the name of a column of the pipeline's `schema`.\n"
        "- **endpoint**: a ZeroMQ endpoint: `tcp://host:port`, `ipc://path` or `inproc://name`.\n"
        "- A string may be quoted or not; an empty value is refused: leave the key out instead.\n"
        "- The file holds one YAML document of at most 16 MiB.\n"
        "\n"
        "## Environment\n"
        "\n"
        "Applied after the file is read; a variable set to an empty string counts as unset.\n"
        "\n"
        "| variable | replaces |\n"
        "|---|---|\n"
        "| `ZETL_POSTGRES` | `postgres` |\n"
        "| `ZETL_REDIS` | `redis` |\n");
    s_write_table (out, "Top level", "The keys of the file itself.", s_top_options);
    s_write_sections (out, s_top_options, "");
}
