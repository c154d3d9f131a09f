/*  zetl_ctl_lut - `zetlctl lut load` and `zetlctl lut list`: lookup tables in Redis

    load reads a CSV file into a new version of a lookup table, switches to
    it and publishes the switch (zetl_lut_load), then prints one JSON line.
    A refused file changes nothing, and the command exits 1 with the file's
    name and line on stderr. list shows each table's current version, its
    meta and the versions still in Redis (pinned ones with their TTL).

    Redis is --redis URL, else ZETL_REDIS, else the redis: key of --config
    FILE (zetl_config_load, which reads ZETL_REDIS too).
*/
#include "zetl_config.h"
#include "zetl_ctl.h"
#include "zetl_lut.h"
#include "zetl_redis.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_TIMEOUT_MS 30000  //  to connect, and for each reply

typedef struct {
    const char *file;    //  load: the CSV file
    const char *table;   //  load: --table
    const char *key;     //  load: --key
    char delimiter;      //  load: --delimiter, default ','
    const char *redis;   //  --redis
    const char *config;  //  --config
    bool json;           //  list: --json
} s_options_t;

static void
s_usage (FILE *out)
{
    fprintf (out, "Usage: zetlctl lut load FILE.csv --table T --key COL [--delimiter C]\n"
                  "                        [--redis URL | --config FILE]\n"
                  "       zetlctl lut list [--json] [--redis URL | --config FILE]\n"
                  "       zetlctl lut load|list --help\n\n"
                  "Lookup tables for enrichment, held in Redis. load makes a CSV file the new\n"
                  "version of a table; list shows the tables and the versions still in Redis.\n"
                  "Redis: --redis URL, else ZETL_REDIS, else redis: in the --config file.\n");
}

static void
s_load_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: zetlctl lut load FILE.csv --table T --key COL [--delimiter C]\n"
        "                        [--redis URL | --config FILE]\n\n"
        "Load FILE.csv (a header row, then one row per key; RFC 4180 quoting) as a new\n"
        "version of lookup table T keyed by column COL, make it current in one step,\n"
        "publish the switch to the workers, and delete older versions no batch pins.\n"
        "Prints {\"table\":T,\"version\":V,\"rows\":N,\"previous\":P,\"removed_versions\":R}.\n"
        "The whole file is refused (exit 1, the file and line on stderr, nothing\n"
        "changed) on a row with the wrong number of fields, an empty or repeated key, a\n"
        "broken quote, a header without COL, or a file without rows.\n\n"
        "  --table T        table name: a-z, 0-9, '_' and '-', at most 63 bytes\n"
        "  --key COL        the key column, named in the header\n"
        "  --delimiter C    field delimiter, one character or 'tab', default ','\n"
        "  --redis URL      unix:///path/redis.sock, redis://host:port[/db] or host:port\n"
        "  --config FILE    take the URL from redis: in FILE (after --redis and\n"
        "                   ZETL_REDIS)\n");
}

static void
s_list_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: zetlctl lut list [--json] [--redis URL | --config FILE]\n\n"
        "Show each lookup table: its current version, rows, key column, when it was\n"
        "loaded, and every version still in Redis with its rows (older versions stay\n"
        "while a coordinator pins them). --json prints one JSON object instead:\n"
        "{\"tables\":[{\"table\",\"version\",\"rows\",\"key\",\"columns\",\"loaded_at\",\n"
        "\"loaded_at_ms\",\"versions\":[{\"version\",\"rows\",\"pinned\",\"pin_ttl_ms\"}]}]}.\n\n"
        "  --json           JSON instead of a table\n"
        "  --redis URL      unix:///path/redis.sock, redis://host:port[/db] or host:port\n"
        "  --config FILE    take the URL from redis: in FILE (after --redis and\n"
        "                   ZETL_REDIS)\n");
}

//  Parse --delimiter's value. Returns 0 or -1.
static int
s_parse_delimiter (const char *text, char *delimiter)
{
    if (strcmp (text, "tab") == 0 || strcmp (text, "\\t") == 0)
        *delimiter = '\t';
    else if (strlen (text) == 1 && !strchr ("\"\r\n", *text))
        *delimiter = *text;
    else {
        fprintf (stderr,
                 "zetlctl lut load: --delimiter '%s' is not valid; use one character "
                 "other than a quote or a line break, or 'tab'\n",
                 text);
        return -1;
    }
    return 0;
}

//  Parse the options of COMMAND ("load" or "list"). Returns 0, 1 after
//  --help, or -1 after saying what is wrong.
static int
s_parse (int argc, char **argv, const char *command, s_options_t *opt)
{
    bool load = strcmp (command, "load") == 0;
    static const struct option longopts[] = {{"table", required_argument, NULL, 't'},
                                             {"key", required_argument, NULL, 'k'},
                                             {"delimiter", required_argument, NULL, 'd'},
                                             {"redis", required_argument, NULL, 'r'},
                                             {"config", required_argument, NULL, 'c'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    *opt = (s_options_t){.delimiter = ','};
    optind = 1;
    opterr = 0;
    int option, rc = 0;
    while (rc == 0 && (option = getopt_long (argc, argv, ":h", longopts, NULL)) != -1) {
        if (option == 'h') {
            load ? s_load_usage (stdout) : s_list_usage (stdout);
            return 1;
        }
        else if (option == 'r')
            opt->redis = optarg;
        else if (option == 'c')
            opt->config = optarg;
        else if (load && option == 't')
            opt->table = optarg;
        else if (load && option == 'k')
            opt->key = optarg;
        else if (load && option == 'd')
            rc = s_parse_delimiter (optarg, &opt->delimiter);
        else if (!load && option == 'j')
            opt->json = true;
        else {
            fprintf (stderr, "zetlctl lut %s: %s '%s'; see zetlctl lut %s --help\n", command,
                     option == ':' ? "missing value for" : "unknown option", argv[optind - 1],
                     command);
            rc = -1;
        }
    }
    if (rc == 0 && load && optind == argc - 1)
        opt->file = argv[optind];
    else if (rc == 0 && (load || optind != argc)) {
        fprintf (stderr, "zetlctl lut %s: %s; see zetlctl lut %s --help\n", command,
                 load ? "give one CSV file" : "list takes no file", command);
        rc = -1;
    }
    if (rc == 0 && load && (!opt->table || !opt->key)) {
        fprintf (stderr, "zetlctl lut load: give the table and its key column: --table T --key "
                         "COL\n");
        rc = -1;
    }
    else if (rc == 0 && load && !zetl_lut_table_valid (opt->table)) {
        fprintf (stderr,
                 "zetlctl lut load: --table '%s' is not a valid name; use a-z, 0-9, '_' "
                 "and '-', at most %d bytes\n",
                 opt->table, ZETL_LUT_TABLE_MAX);
        rc = -1;
    }
    return rc;
}

//  The Redis URL: --redis, ZETL_REDIS, or redis: in --config. Caller owns it;
//  NULL after saying what is missing (*EXIT_CODE set).
static char *
s_redis_url (const s_options_t *opt, const char *command, int *exit_code)
{
    const char *env = getenv ("ZETL_REDIS");
    if (opt->redis)
        return strdup (opt->redis);
    if (env && *env)
        return strdup (env);
    if (!opt->config) {
        fprintf (stderr,
                 "zetlctl lut %s: no Redis given; pass --redis URL, set ZETL_REDIS, or "
                 "pass --config FILE with a redis: key\n",
                 command);
        *exit_code = 2;
        return NULL;
    }
    char *error = NULL;
    zetl_config_t *config = zetl_config_load (opt->config, &error);
    if (!config) {
        fprintf (stderr, "%s\n", error);
        free (error);
        *exit_code = 2;
        return NULL;
    }
    char *url = config->redis && *config->redis ? strdup (config->redis) : NULL;
    if (!url) {
        fprintf (stderr,
                 "zetlctl lut %s: %s has no redis: key; add one (redis: "
                 "unix:///path/redis.sock), or pass --redis URL or set ZETL_REDIS\n",
                 command, opt->config);
        *exit_code = 2;
    }
    zetl_config_destroy (&config);
    return url;
}

//  Connect as the options say. Returns the connection, or NULL after saying
//  why (*EXIT_CODE set).
static redisContext *
s_connect (const s_options_t *opt, const char *command, int *exit_code)
{
    char *url = s_redis_url (opt, command, exit_code);
    if (!url)
        return NULL;
    char *error = NULL;
    redisContext *redis = zetl_redis_connect (url, S_TIMEOUT_MS, &error);
    if (!redis) {
        fprintf (stderr, "zetlctl lut %s: %s\n", command, error);
        *exit_code = 1;
    }
    free (error);
    free (url);
    return redis;
}

static int
s_load (int argc, char **argv)
{
    s_options_t opt;
    int rc = s_parse (argc, argv, "load", &opt);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    redisContext *redis = s_connect (&opt, "load", &rc);
    if (!redis)
        return rc;
    zetl_lut_loaded_t loaded;
    char *error = NULL;
    if (zetl_lut_load (redis, opt.table, opt.file, opt.key, opt.delimiter, &loaded, &error) == 0) {
        printf ("{\"table\":\"%s\",\"version\":%" PRIu64 ",\"rows\":%" PRIu64
                ",\"previous\":%" PRIu64 ",\"removed_versions\":%" PRIu64 "}\n",
                opt.table, loaded.version, loaded.rows, loaded.previous, loaded.removed);
        rc = fflush (stdout) == 0 ? 0 : 1;
    }
    else {
        fprintf (stderr, "zetlctl lut load: %s\n", error);
        free (error);
        rc = 1;
    }
    redisFree (redis);
    return rc;
}

//  MS since the epoch as "2026-05-04T10:15:02.113Z" in BUF (32 bytes)
static const char *
s_format_ms (int64_t ms, char *buf)
{
    time_t seconds = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    size_t len = strftime (buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (buf + len, 32 - len, ".%03dZ", (int) (ms % 1000));
    return buf;
}

static json_t *
s_table_json (const zetl_lut_info_t *info)
{
    char loaded_at[32];
    json_t *versions = json_array ();
    for (size_t index = 0; index < info->version_count; index++) {
        const zetl_lut_version_t *version = &info->versions[index];
        json_t *item =
            json_pack ("{s:I, s:I, s:b}", "version", (json_int_t) version->version, "rows",
                       (json_int_t) version->rows, "pinned", version->pin_ttl_ms >= 0);
        if (version->pin_ttl_ms >= 0)
            json_object_set_new (item, "pin_ttl_ms", json_integer (version->pin_ttl_ms));
        json_array_append_new (versions, item);
    }
    return json_pack ("{s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:o}", "table", info->name, "version",
                      (json_int_t) info->version, "rows", (json_int_t) info->rows, "key", info->key,
                      "columns", info->columns, "loaded_at",
                      s_format_ms (info->loaded_at_ms, loaded_at), "loaded_at_ms",
                      (json_int_t) info->loaded_at_ms, "versions", versions);
}

static void
s_print_json (const zetl_lut_list_t *list)
{
    json_t *tables = json_array ();
    for (size_t index = 0; index < list->count; index++)
        json_array_append_new (tables, s_table_json (&list->tables[index]));
    json_t *root = json_pack ("{s:o}", "tables", tables);
    char *text = json_dumps (root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf ("%s\n", text);
    free (text);
    json_decref (root);
}

//  "5 (500 rows, pinned 29 s), 7 (500 rows)" into a new string (caller owns)
static char *
s_versions_text (const zetl_lut_info_t *info)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    for (size_t index = 0; out && index < info->version_count; index++) {
        const zetl_lut_version_t *version = &info->versions[index];
        fprintf (out, "%s%" PRIu64 " (%" PRIu64 " rows", index ? ", " : "", version->version,
                 version->rows);
        if (version->pin_ttl_ms >= 0)
            fprintf (out, ", pinned %.1f s", (double) version->pin_ttl_ms / 1000.0);
        fputc (')', out);
    }
    if (out)
        fclose (out);
    return text ? text : strdup ("");
}

static void
s_print_table (const zetl_lut_list_t *list)
{
    int widths[4] = {5, 7, 4, 3};  //  TABLE, VERSION, ROWS, KEY
    char number[24];
    for (size_t index = 0; index < list->count; index++) {
        const zetl_lut_info_t *info = &list->tables[index];
        int lens[4] = {
            (int) strlen (info->name), snprintf (number, sizeof number, "%" PRIu64, info->version),
            snprintf (number, sizeof number, "%" PRIu64, info->rows), (int) strlen (info->key)};
        for (int column = 0; column < 4; column++)
            widths[column] = lens[column] > widths[column] ? lens[column] : widths[column];
    }
    printf ("%-*s  %*s  %*s  %-*s  %-24s  %s\n", widths[0], "TABLE", widths[1], "VERSION",
            widths[2], "ROWS", widths[3], "KEY", "LOADED AT", "VERSIONS PRESENT");
    for (size_t index = 0; index < list->count; index++) {
        const zetl_lut_info_t *info = &list->tables[index];
        char loaded_at[32];
        char *versions = s_versions_text (info);
        printf ("%-*s  %*" PRIu64 "  %*" PRIu64 "  %-*s  %-24s  %s\n", widths[0], info->name,
                widths[1], info->version, widths[2], info->rows, widths[3], info->key,
                info->version ? s_format_ms (info->loaded_at_ms, loaded_at) : "-", versions);
        free (versions);
    }
}

static int
s_list (int argc, char **argv)
{
    s_options_t opt;
    int rc = s_parse (argc, argv, "list", &opt);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    redisContext *redis = s_connect (&opt, "list", &rc);
    if (!redis)
        return rc;
    char *error = NULL;
    zetl_lut_list_t *list = zetl_lut_list (redis, &error);
    if (list) {
        if (opt.json)
            s_print_json (list);
        else if (list->count == 0)
            printf ("no lookup tables; load one with zetlctl lut load FILE.csv --table T --key "
                    "COL\n");
        else
            s_print_table (list);
        rc = fflush (stdout) == 0 ? 0 : 1;
    }
    else {
        fprintf (stderr, "zetlctl lut list: %s\n", error);
        free (error);
        rc = 1;
    }
    zetl_lut_list_destroy (&list);
    redisFree (redis);
    return rc;
}

int
zetl_ctl_lut (int argc, char **argv)
{
    const char *command = argc > 1 ? argv[1] : "";
    if (strcmp (command, "load") == 0)
        return s_load (argc - 1, argv + 1);
    if (strcmp (command, "list") == 0)
        return s_list (argc - 1, argv + 1);
    if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0 ||
        strcmp (command, "help") == 0) {
        s_usage (stdout);
        return 0;
    }
    if (*command)
        fprintf (stderr, "zetlctl lut: unknown command '%s'\n\n", command);
    s_usage (stderr);
    return 2;
}
