/*  lut_test - zetl_lut: loading lookup tables into Redis, switching, pinning, collecting

    Runs against a real redis-server started with zetl_localredis in a
    temporary directory, one for the whole group; each test uses tables of
    its own. Skipped (exit 77) when redis-server is not installed.
*/
#include "zetl_localredis.h"
#include "zetl_lut.h"
#include "zetl_record.h"
#include "zetl_redis.h"

#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    char *dir;                  //  temporary directory: the server and the CSV files
    zetl_localredis_t *server;  //  the throwaway Redis
    redisContext *redis;        //  a connection to it
} s_env_t;

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    return remove (path);
}

static int
s_group_setup (void **state)
{
    s_env_t *env = (s_env_t *) calloc (1, sizeof (s_env_t));
    env->dir = strdup ("/tmp/zetl-lut-test-XXXXXX");
    if (!mkdtemp (env->dir))
        return -1;
    char *error = NULL;
    env->server = zetl_localredis_start (env->dir, &error);
    if (!env->server) {
        print_error ("%s\n", error);
        return -1;
    }
    env->redis = zetl_redis_connect (zetl_localredis_url (env->server), 5000, &error);
    if (!env->redis) {
        print_error ("%s\n", error);
        return -1;
    }
    *state = env;
    return 0;
}

static int
s_group_teardown (void **state)
{
    s_env_t *env = *state;
    redisFree (env->redis);
    zetl_localredis_stop (&env->server);
    nftw (env->dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free (env->dir);
    free (env);
    return 0;
}

//  Write TEXT to DIR/NAME and return the path (caller owns it)
static char *
s_write_file (s_env_t *env, const char *name, const char *text)
{
    char *path = NULL;
    assert_true (asprintf (&path, "%s/%s", env->dir, name) > 0);
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    fputs (text, file);
    fclose (file);
    return path;
}

//  Load TEXT as TABLE keyed by KEY; asserts success and returns what it did
static zetl_lut_loaded_t
s_load_text (s_env_t *env, const char *table, const char *key, const char *text)
{
    char *path = s_write_file (env, "load.csv", text);
    zetl_lut_loaded_t loaded;
    char *error = NULL;
    int rc = zetl_lut_load (env->redis, table, path, key, ',', &loaded, &error);
    if (rc != 0)
        print_error ("%s\n", error);
    assert_int_equal (rc, 0);
    assert_null (error);
    free (path);
    return loaded;
}

//  Run a command and return its reply (caller frees it)
static redisReply *
s_command (s_env_t *env, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    redisReply *reply = (redisReply *) redisvCommand (env->redis, format, args);
    va_end (args);
    assert_non_null (reply);
    assert_int_not_equal (reply->type, REDIS_REPLY_ERROR);
    return reply;
}

static long long
s_integer (s_env_t *env, const char *format, const char *key)
{
    redisReply *reply = s_command (env, format, key);
    assert_int_equal (reply->type, REDIS_REPLY_INTEGER);
    long long value = reply->integer;
    freeReplyObject (reply);
    return value;
}

//  How many keys match PATTERN
static size_t
s_count_keys (s_env_t *env, const char *pattern)
{
    redisReply *reply = s_command (env, "KEYS %s", pattern);
    size_t count = reply->elements;
    freeReplyObject (reply);
    return count;
}

static uint64_t
s_current (s_env_t *env, const char *table)
{
    uint64_t version = 99;
    char *error = NULL;
    assert_int_equal (zetl_lut_current (env->redis, table, &version, &error), 0);
    return version;
}

static const char *s_hotels = "id,name,region\n"
                              "1,Grand Lisbon,Iberia\n"
                              "2,\"Harbour Inn, Porto\",\n"
                              "3,\"Inn \"\"Zur Post\"\"\",Alps\n";

// ---------------------------------------------------------------------------

static void
test_load_current_meta (void **state)
{
    s_env_t *env = *state;
    assert_int_equal (s_current (env, "meta"), 0);  //  No such table yet
    int64_t before_ms = (int64_t) time (NULL) * 1000 - 1000;
    zetl_lut_loaded_t loaded = s_load_text (env, "meta", "id", s_hotels);
    assert_true (loaded.version > 0);
    assert_int_equal (loaded.rows, 3);
    assert_int_equal (loaded.previous, 0);
    assert_int_equal (loaded.removed, 0);
    assert_int_equal (s_current (env, "meta"), loaded.version);

    redisReply *meta = s_command (env, "HMGET zetl:lut:meta version rows key columns loaded_at");
    char version[24];
    snprintf (version, sizeof version, "%" PRIu64, loaded.version);
    assert_string_equal (meta->element[0]->str, version);
    assert_string_equal (meta->element[1]->str, "3");
    assert_string_equal (meta->element[2]->str, "id");
    assert_string_equal (meta->element[3]->str, "id,name,region");
    int64_t loaded_at = strtoll (meta->element[4]->str, NULL, 10);
    assert_true (loaded_at >= before_ms && loaded_at <= (int64_t) time (NULL) * 1000 + 1000);
    freeReplyObject (meta);

    char key[ZETL_LUT_KEY_SIZE];
    zetl_lut_version_key (key, sizeof key, "meta", loaded.version);
    assert_int_equal (s_integer (env, "HLEN %s", key), 3);
    assert_int_equal (s_integer (env, "TTL %s", key), -1);  //  Current: no TTL left on it
    assert_int_equal (s_integer (env, "SISMEMBER zetl:luts %s", "meta"), 1);
    assert_int_equal (s_integer (env, "ZCARD %s", "zetl:lut:meta:versions"), 1);
    redisReply *score = s_command (env, "ZSCORE zetl:lut:meta:versions %s", version);
    assert_string_equal (score->str, version);
    freeReplyObject (score);
}

static void
test_rows_are_msgpack_maps (void **state)
{
    s_env_t *env = *state;
    zetl_lut_loaded_t loaded = s_load_text (env, "rows", "id", s_hotels);
    char key[ZETL_LUT_KEY_SIZE];
    zetl_lut_version_key (key, sizeof key, "rows", loaded.version);
    redisReply *reply = s_command (env, "HGET %s 2", key);
    assert_int_equal (reply->type, REDIS_REPLY_STRING);

    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, reply->str, reply->len, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (unpacked.data.type, MSGPACK_OBJECT_MAP);
    assert_int_equal (unpacked.data.via.map.size, 3);
    const msgpack_object *name = zetl_record_get (&unpacked.data, "name");
    assert_non_null (name);
    assert_int_equal (name->type, MSGPACK_OBJECT_STR);
    assert_memory_equal (name->via.str.ptr, "Harbour Inn, Porto", name->via.str.size);
    const msgpack_object *region = zetl_record_get (&unpacked.data, "region");
    assert_non_null (region);
    assert_int_equal (region->type, MSGPACK_OBJECT_NIL);  //  Empty unquoted field
    const msgpack_object *id = zetl_record_get (&unpacked.data, "id");
    assert_int_equal (id->type, MSGPACK_OBJECT_STR);  //  Strings, as the CSV had them
    msgpack_unpacked_destroy (&unpacked);
    freeReplyObject (reply);

    reply = s_command (env, "HGET %s 3", key);
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, reply->str, reply->len, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    name = zetl_record_get (&unpacked.data, "name");
    assert_int_equal (name->via.str.size, strlen ("Inn \"Zur Post\""));
    assert_memory_equal (name->via.str.ptr, "Inn \"Zur Post\"", name->via.str.size);
    msgpack_unpacked_destroy (&unpacked);
    freeReplyObject (reply);

    reply = s_command (env, "HGET %s 4", key);
    assert_int_equal (reply->type, REDIS_REPLY_NIL);
    freeReplyObject (reply);
}

static void
test_versions_increase_and_old_ones_go (void **state)
{
    s_env_t *env = *state;
    zetl_lut_loaded_t first = s_load_text (env, "reload", "id", s_hotels);
    zetl_lut_loaded_t other = s_load_text (env, "reload-other", "id", s_hotels);
    assert_true (other.version > first.version);  //  One counter for every table
    zetl_lut_loaded_t second = s_load_text (env, "reload", "id", "id,name\n9,Nine\n");
    assert_true (second.version > other.version);
    assert_int_equal (second.previous, first.version);
    assert_int_equal (second.removed, 1);
    assert_int_equal (second.rows, 1);

    char key[ZETL_LUT_KEY_SIZE];
    zetl_lut_version_key (key, sizeof key, "reload", first.version);
    assert_int_equal (s_integer (env, "EXISTS %s", key), 0);
    assert_int_equal (s_integer (env, "ZCARD %s", "zetl:lut:reload:versions"), 1);
    assert_int_equal (s_current (env, "reload"), second.version);
    assert_int_equal (s_count_keys (env, "zetl:lut:reload:v[0-9]*"), 1);
    //  The other table keeps its version
    assert_int_equal (s_current (env, "reload-other"), other.version);
}

static void
test_switch_publishes (void **state)
{
    s_env_t *env = *state;
    char *error = NULL;
    redisContext *subscriber = zetl_redis_connect (zetl_localredis_url (env->server), 5000, &error);
    assert_non_null (subscriber);
    redisReply *reply = zetl_redis_command (subscriber, &error, "SUBSCRIBE", "SUBSCRIBE %s",
                                            ZETL_LUT_SWITCH_CHANNEL);
    assert_non_null (reply);  //  ["subscribe", channel, 1]
    freeReplyObject (reply);

    zetl_lut_loaded_t loaded = s_load_text (env, "published", "id", s_hotels);
    reply = zetl_redis_next_reply (subscriber, "switch message", &error);
    if (!reply)
        print_error ("%s\n", error);
    assert_non_null (reply);  //  The connection's 5 s timeout bounds the wait
    assert_int_equal (reply->type, REDIS_REPLY_ARRAY);
    assert_int_equal (reply->elements, 3);
    assert_string_equal (reply->element[0]->str, "message");
    assert_string_equal (reply->element[1]->str, ZETL_LUT_SWITCH_CHANNEL);
    char table[ZETL_LUT_TABLE_MAX + 1];
    uint64_t version = 0;
    assert_int_equal (
        zetl_lut_parse_switch (reply->element[2]->str, reply->element[2]->len, table, &version), 0);
    assert_string_equal (table, "published");
    assert_int_equal (version, loaded.version);
    freeReplyObject (reply);
    redisFree (subscriber);
}

//  Wait until KEY is gone, at most TIMEOUT_MS
static bool
s_wait_gone (s_env_t *env, const char *key, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 5) {
        if (s_integer (env, "EXISTS %s", key) == 0)
            return true;
        usleep (5000);
    }
    return false;
}

static void
test_pinned_version_survives_until_unpinned (void **state)
{
    s_env_t *env = *state;
    char *error = NULL;
    zetl_lut_loaded_t first = s_load_text (env, "pinned", "id", s_hotels);
    assert_int_equal (zetl_lut_pin (env->redis, "pinned", first.version, 60000, &error), 0);
    zetl_lut_loaded_t second = s_load_text (env, "pinned", "id", s_hotels);
    assert_int_equal (second.removed, 0);
    char old_key[ZETL_LUT_KEY_SIZE], pin_key[ZETL_LUT_KEY_SIZE];
    zetl_lut_version_key (old_key, sizeof old_key, "pinned", first.version);
    zetl_lut_pin_key (pin_key, sizeof pin_key, "pinned", first.version);
    assert_int_equal (s_integer (env, "HLEN %s", old_key), 3);  //  Still readable
    uint64_t removed = 99;
    assert_int_equal (zetl_lut_gc (env->redis, "pinned", &removed, &error), 0);
    assert_int_equal (removed, 0);

    //  A short pin expires by itself; then the next collection takes the version
    assert_int_equal (zetl_lut_pin (env->redis, "pinned", first.version, 50, &error), 0);
    assert_true (s_integer (env, "PTTL %s", pin_key) <= 50);
    assert_true (s_wait_gone (env, pin_key, 5000));
    assert_int_equal (zetl_lut_gc (env->redis, "pinned", &removed, &error), 0);
    assert_int_equal (removed, 1);
    assert_int_equal (s_integer (env, "EXISTS %s", old_key), 0);

    //  A collected version cannot be pinned; TTL 0 removes a pin
    assert_int_equal (zetl_lut_pin (env->redis, "pinned", first.version, 1000, &error), -1);
    assert_non_null (strstr (error, "no longer in Redis"));
    free (error);
    assert_int_equal (zetl_lut_pin (env->redis, "pinned", second.version, 60000, &error), 0);
    zetl_lut_pin_key (pin_key, sizeof pin_key, "pinned", second.version);
    assert_int_equal (s_integer (env, "EXISTS %s", pin_key), 1);
    assert_int_equal (zetl_lut_pin (env->redis, "pinned", second.version, 0, &error), 0);
    assert_int_equal (s_integer (env, "EXISTS %s", pin_key), 0);
    //  The current version is never collected, pinned or not
    assert_int_equal (zetl_lut_gc (env->redis, "pinned", &removed, &error), 0);
    assert_int_equal (removed, 0);
    assert_int_equal (s_current (env, "pinned"), second.version);
}

//  Load TEXT as table "refused" (current version CURRENT), expect a refusal
//  whose message holds EXPECT, and check nothing changed
static void
s_expect_refused (s_env_t *env, const char *key, const char *text, const char *expect,
                  uint64_t current)
{
    char *path = s_write_file (env, "bad.csv", text);
    zetl_lut_loaded_t loaded = {0};
    char *error = NULL;
    assert_int_equal (zetl_lut_load (env->redis, "refused", path, key, ',', &loaded, &error), -1);
    assert_non_null (error);
    if (!strstr (error, expect))
        print_error ("expected \"%s\" in: %s\n", expect, error);
    assert_non_null (strstr (error, expect));
    free (error);
    free (path);
    assert_int_equal (s_current (env, "refused"), current);
    assert_int_equal (s_count_keys (env, "zetl:lut:refused:v[0-9]*"), 1);  //  No partial hash
    assert_int_equal (s_integer (env, "ZCARD %s", "zetl:lut:refused:versions"), 1);
}

//  A file of N good rows (lines 2..N+1) followed by TAIL
static char *
s_many_rows (size_t rows, const char *tail)
{
    size_t size = rows * 32 + strlen (tail) + 32;
    char *text = (char *) malloc (size), *p = text;
    p += sprintf (p, "id,name,region\n");
    for (size_t row = 1; row <= rows; row++)
        p += sprintf (p, "%zu,name %zu,r\n", row, row);
    strcpy (p, tail);
    return text;
}

static void
test_refused_files_change_nothing (void **state)
{
    s_env_t *env = *state;
    uint64_t current = s_load_text (env, "refused", "id", s_hotels).version;
    s_expect_refused (env, "id", "id,name,region\n1,a,b\n2,b\n", "bad.csv:3: row 3 has 2 fields",
                      current);
    s_expect_refused (env, "id", "id,name,region\n1,a,b\n2,b,c\n,x,y\n",
                      "bad.csv:4: the key column \"id\" is empty", current);
    s_expect_refused (env, "id", "id,name,region\n\"\",x,y\n", "bad.csv:2: the key column",
                      current);
    s_expect_refused (env, "id", "id,name,region\n1,a,b\n2,b,c\n3,c,d\n1,d,e\n",
                      "bad.csv:5: key \"1\" is already the key of line 2", current);
    s_expect_refused (env, "hotel_id", s_hotels,
                      "bad.csv:1: the header has no column \"hotel_id\" (it has: id,name,region)",
                      current);
    s_expect_refused (env, "id", "id,name,region\n1,a,b\n2,\"never closed,c\n3,d,e\n",
                      "bad.csv:3: row 3 has an unterminated quoted field", current);
    s_expect_refused (env, "id", "id,name,region\n1,a,b\n2,ab\"c,d\n",
                      "bad.csv:3: row 3 has a misplaced quote", current);
    s_expect_refused (env, "id", "", "bad.csv: the file is empty", current);
    s_expect_refused (env, "id", "\n\n", "bad.csv: the file is empty", current);
    s_expect_refused (env, "id", "id,name,region\n", "bad.csv:1: there is a header but no rows",
                      current);
    //  Line numbers count every line: a quoted field over two lines, a blank line
    s_expect_refused (env, "id", "id,name,region\n1,\"two\nlines\",x\n\n2,a\n",
                      "bad.csv:5: row 3 has 2 fields", current);
    s_expect_refused (env, "id", "id,name,region\n1,a,b\n2,\"two\nlines,c\n",
                      "bad.csv:3: row 3 has an unterminated", current);
}

static void
test_refused_after_rows_were_written (void **state)
{
    s_env_t *env = *state;
    uint64_t current = s_current (env, "refused");
    assert_true (current > 0);
    //  2500 rows go out in chunks before line 2503 is read: they must be deleted
    char *text = s_many_rows (2500, "2501,x,y\n7,dup,z\n");
    s_expect_refused (env, "id", text, "bad.csv:2503: key \"7\" is already the key of line 8",
                      current);
    free (text);
    text = s_many_rows (2500, "2501,x\n");
    s_expect_refused (env, "id", text, "bad.csv:2502: row 2502 has 2 fields", current);
    free (text);
    //  A repeated key early, a bad row later: the message names the first problem
    text = s_many_rows (1500, "1501,short\n");
    memcpy (strstr (text, "\n2,name 2,r\n") + 1, "1,name 2,r", 10);
    s_expect_refused (env, "id", text, "bad.csv:3: key \"1\" is already the key of line 2",
                      current);
    free (text);
    //  And the generation moved on: a refused load took a version number, never reused
    zetl_lut_loaded_t loaded = s_load_text (env, "refused", "id", s_hotels);
    assert_true (loaded.version > current + 1);
    assert_int_equal (loaded.previous, current);
}

static void
test_bad_arguments (void **state)
{
    s_env_t *env = *state;
    char *path = s_write_file (env, "ok.csv", s_hotels);
    char *error = NULL;
    assert_int_equal (zetl_lut_load (env->redis, "Bad!", path, "id", ',', NULL, &error), -1);
    assert_non_null (strstr (error, "\"Bad!\" is not valid"));
    free (error);
    char long_name[80];
    memset (long_name, 'a', 64);
    long_name[64] = 0;
    assert_int_equal (zetl_lut_load (env->redis, long_name, path, "id", ',', NULL, &error), -1);
    free (error);
    long_name[63] = 0;
    assert_true (zetl_lut_table_valid (long_name));
    assert_false (zetl_lut_table_valid (""));
    assert_false (zetl_lut_table_valid ("a:b"));
    assert_true (zetl_lut_table_valid ("hotels_2026-q1"));
    assert_int_equal (
        zetl_lut_load (env->redis, "nofile", "/nonexistent/x.csv", "id", ',', NULL, &error), -1);
    assert_non_null (strstr (error, "cannot open /nonexistent/x.csv"));
    free (error);
    assert_int_equal (s_count_keys (env, "zetl:lut:nofile*"), 0);
    free (path);

    //  Another delimiter
    path = s_write_file (env, "semi.csv", "code;label\nA;x,y\nB;z\n");
    zetl_lut_loaded_t loaded;
    assert_int_equal (zetl_lut_load (env->redis, "semi", path, "code", ';', &loaded, &error), 0);
    assert_int_equal (loaded.rows, 2);
    free (path);
}

static void
test_list (void **state)
{
    s_env_t *env = *state;
    zetl_lut_loaded_t first = s_load_text (env, "listed", "id", s_hotels);
    char *error = NULL;
    assert_int_equal (zetl_lut_pin (env->redis, "listed", first.version, 60000, &error), 0);
    zetl_lut_loaded_t second = s_load_text (env, "listed", "id", "id,name\n1,a\n2,b\n3,c\n4,d\n");
    zetl_lut_list_t *list = zetl_lut_list (env->redis, &error);
    assert_non_null (list);
    const zetl_lut_info_t *info = NULL;
    for (size_t index = 0; index < list->count; index++) {
        if (index > 0)
            assert_true (strcmp (list->tables[index - 1].name, list->tables[index].name) < 0);
        if (strcmp (list->tables[index].name, "listed") == 0)
            info = &list->tables[index];
    }
    assert_non_null (info);
    assert_int_equal (info->version, second.version);
    assert_int_equal (info->rows, 4);
    assert_string_equal (info->key, "id");
    assert_string_equal (info->columns, "id,name");
    assert_true (info->loaded_at_ms > 0);
    assert_int_equal (info->version_count, 2);
    assert_int_equal (info->versions[0].version, first.version);
    assert_int_equal (info->versions[0].rows, 3);
    assert_true (info->versions[0].pin_ttl_ms > 0 && info->versions[0].pin_ttl_ms <= 60000);
    assert_int_equal (info->versions[1].version, second.version);
    assert_int_equal (info->versions[1].rows, 4);
    assert_int_equal (info->versions[1].pin_ttl_ms, -1);
    zetl_lut_list_destroy (&list);
    assert_null (list);
    assert_int_equal (zetl_lut_pin (env->redis, "listed", first.version, 0, &error), 0);
}

static void
test_many_rows (void **state)
{
    s_env_t *env = *state;
    char *text = s_many_rows (25000, "");
    zetl_lut_loaded_t loaded = s_load_text (env, "many", "id", text);
    free (text);
    assert_int_equal (loaded.rows, 25000);
    char key[ZETL_LUT_KEY_SIZE];
    zetl_lut_version_key (key, sizeof key, "many", loaded.version);
    assert_int_equal (s_integer (env, "HLEN %s", key), 25000);
    redisReply *reply = s_command (env, "HGET %s 24999", key);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    assert_int_equal (msgpack_unpack_next (&unpacked, reply->str, reply->len, NULL),
                      MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *name = zetl_record_get (&unpacked.data, "name");
    assert_memory_equal (name->via.str.ptr, "name 24999", name->via.str.size);
    msgpack_unpacked_destroy (&unpacked);
    freeReplyObject (reply);
}

static void
test_names_and_urls (void **state)
{
    (void) state;
    char key[ZETL_LUT_KEY_SIZE];
    zetl_lut_version_key (key, sizeof key, "hotels", 42);
    assert_string_equal (key, "zetl:lut:hotels:v42");
    zetl_lut_meta_key (key, sizeof key, "hotels");
    assert_string_equal (key, "zetl:lut:hotels");
    zetl_lut_versions_key (key, sizeof key, "hotels");
    assert_string_equal (key, "zetl:lut:hotels:versions");
    zetl_lut_pin_key (key, sizeof key, "hotels", 7);
    assert_string_equal (key, "zetl:lut:hotels:pin:7");
    char table[ZETL_LUT_TABLE_MAX + 1];
    uint64_t version;
    assert_int_equal (zetl_lut_parse_switch ("hotels 12", 9, table, &version), 0);
    assert_string_equal (table, "hotels");
    assert_int_equal (version, 12);
    assert_int_equal (zetl_lut_parse_switch ("hotels", 6, table, &version), -1);
    assert_int_equal (zetl_lut_parse_switch ("hotels 1x", 9, table, &version), -1);
    assert_int_equal (zetl_lut_parse_switch ("Hotels 1", 8, table, &version), -1);

    char *shown = zetl_redis_redact ("redis://admin:s3cret@db:6379/2");
    assert_string_equal (shown, "redis://admin:***@db:6379/2");
    free (shown);
    char *error = NULL;
    assert_null (zetl_redis_connect ("redis://db:notaport", 100, &error));
    assert_non_null (strstr (error, "is not valid: the port"));
    free (error);
    assert_null (zetl_redis_connect ("http://x", 100, &error));
    assert_non_null (strstr (error, "unknown scheme"));
    free (error);
    assert_null (zetl_redis_connect ("unix:///nonexistent/redis.sock", 100, &error));
    assert_non_null (strstr (error, "cannot connect to Redis at unix:///nonexistent/redis.sock"));
    assert_non_null (strstr (error, "start redis-server or set ZETL_REDIS"));
    free (error);
}

int
main (void)
{
    char *server = zetl_localredis_server ();
    if (!server) {
        fprintf (stderr, "lut_test: no redis-server installed; skipped\n");
        return 77;
    }
    free (server);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_load_current_meta),
        cmocka_unit_test (test_rows_are_msgpack_maps),
        cmocka_unit_test (test_versions_increase_and_old_ones_go),
        cmocka_unit_test (test_switch_publishes),
        cmocka_unit_test (test_pinned_version_survives_until_unpinned),
        cmocka_unit_test (test_refused_files_change_nothing),
        cmocka_unit_test (test_refused_after_rows_were_written),
        cmocka_unit_test (test_bad_arguments),
        cmocka_unit_test (test_list),
        cmocka_unit_test (test_many_rows),
        cmocka_unit_test (test_names_and_urls),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
