/*  zetl_lut - lookup tables in Redis: names, current versions, pins, collection, listing

    See zetl_lut.h for the Redis layout. Loading a file is zetl_lut_load.c.
*/
#include "zetl_lut.h"
#include "zetl_log.h"
#include "zetl_redis.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



// ---------------------------------------------------------------------------
//  Names

bool
zetl_lut_table_valid (const char *table)
{
    if (!table || !*table || strlen (table) > ZETL_LUT_TABLE_MAX)
        return false;
    for (const char *c = table; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
            return false;
    return true;
}

//  Write zetl:lut:<TABLE><SUFFIX>, with VERSION after SUFFIX when SUFFIX is not ""
static void
s_key (char *buf, size_t size, const char *table, const char *suffix, uint64_t version)
{
    assert (buf);
    assert (zetl_lut_table_valid (table));
    int len = *suffix ? snprintf (buf, size, "zetl:lut:%s%s%" PRIu64, table, suffix, version)
                      : snprintf (buf, size, "zetl:lut:%s", table);
    assert (len > 0 && (size_t) len < size);
}

void
zetl_lut_version_key (char *buf, size_t size, const char *table, uint64_t version)
{
    s_key (buf, size, table, ":v", version);
}

void
zetl_lut_meta_key (char *buf, size_t size, const char *table)
{
    s_key (buf, size, table, "", 0);
}

void
zetl_lut_versions_key (char *buf, size_t size, const char *table)
{
    assert (buf);
    assert (zetl_lut_table_valid (table));
    int len = snprintf (buf, size, "zetl:lut:%s:versions", table);
    assert (len > 0 && (size_t) len < size);
}

void
zetl_lut_pin_key (char *buf, size_t size, const char *table, uint64_t version)
{
    s_key (buf, size, table, ":pin:", version);
}

int
zetl_lut_parse_switch (const char *message, size_t len, char *table, uint64_t *version)
{
    assert (table);
    assert (version);
    const char *space = message ? memchr (message, ' ', len) : NULL;
    if (!space || space == message || (size_t) (space - message) > ZETL_LUT_TABLE_MAX)
        return -1;
    size_t name_len = (size_t) (space - message);
    memcpy (table, message, name_len);
    table[name_len] = 0;
    uint64_t value = 0;
    const char *digit = space + 1, *end = message + len;
    if (digit == end || end - digit > 19)
        return -1;
    for (; digit < end; digit++) {
        if (*digit < '0' || *digit > '9')
            return -1;
        value = value * 10 + (uint64_t) (*digit - '0');
    }
    if (!zetl_lut_table_valid (table) || value == 0)
        return -1;
    *version = value;
    return 0;
}

int
zetl_lut_check_table (const char *table, char **error)
{
    if (zetl_lut_table_valid (table))
        return 0;
    *error = zsys_sprintf ("lookup table name \"%.80s\" is not valid; use lower-case letters, digits, "
                       "'_' and '-', at most %d bytes",
                       table ? table : "", ZETL_LUT_TABLE_MAX);
    return -1;
}

// ---------------------------------------------------------------------------
//  Switch, collect, pin

//  KEYS: meta, versions. ARGV: "zetl:lut:<table>". Returns how many it deleted.
static const char *s_gc_script =
    "local current = redis.call('HGET', KEYS[1], 'version')\n"
    "if not current then return 0 end\n"
    "local removed = 0\n"
    "for _, v in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. current)) do\n"
    "  if redis.call('EXISTS', ARGV[1] .. ':pin:' .. v) == 0 then\n"
    "    redis.call('UNLINK', ARGV[1] .. ':v' .. v)\n"
    "    redis.call('ZREM', KEYS[2], v)\n"
    "    removed = removed + 1\n"
    "  end\n"
    "end\n"
    "return removed\n";

//  KEYS: the version's hash, its pin. ARGV: TTL in ms. Returns 1, or 0 when
//  the version is gone.
static const char *s_pin_script =
    "if tonumber(ARGV[1]) <= 0 then redis.call('DEL', KEYS[2]) return 1 end\n"
    "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
    "redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])\n"
    "return 1\n";

int
zetl_lut_gc (redisContext *redis, const char *table, uint64_t *removed, char **error)
{
    assert (redis);
    assert (error);
    *error = NULL;
    if (zetl_lut_check_table (table, error) != 0)
        return -1;
    char meta[ZETL_LUT_KEY_SIZE], versions[ZETL_LUT_KEY_SIZE];
    zetl_lut_meta_key (meta, sizeof meta, table);
    zetl_lut_versions_key (versions, sizeof versions, table);
    char *detail = NULL;
    redisReply *reply = zetl_redis_command (redis, &detail, "collect script", "EVAL %s 2 %s %s %s",
                                            s_gc_script, meta, versions, meta);
    if (!reply || reply->type != REDIS_REPLY_INTEGER) {
        *error = zsys_sprintf ("collecting old versions of table %s: %s", table,
                           detail ? detail : "unexpected answer from the collect script");
        free (detail);
        if (reply)
            freeReplyObject (reply);
        return -1;
    }
    if (removed)
        *removed = (uint64_t) reply->integer;
    freeReplyObject (reply);
    return 0;
}

int
zetl_lut_current (redisContext *redis, const char *table, uint64_t *version, char **error)
{
    assert (redis);
    assert (version);
    assert (error);
    *error = NULL;
    if (zetl_lut_check_table (table, error) != 0)
        return -1;
    char meta[ZETL_LUT_KEY_SIZE];
    zetl_lut_meta_key (meta, sizeof meta, table);
    char *detail = NULL;
    redisReply *reply = zetl_redis_command (redis, &detail, "HGET", "HGET %s version", meta);
    if (!reply) {
        *error = zsys_sprintf ("reading the current version of table %s: %s", table, detail);
        free (detail);
        return -1;
    }
    *version = reply->type == REDIS_REPLY_STRING ? strtoull (reply->str, NULL, 10) : 0;
    freeReplyObject (reply);
    return 0;
}

int
zetl_lut_pin (redisContext *redis, const char *table, uint64_t version, int64_t ttl_ms,
              char **error)
{
    assert (redis);
    assert (ttl_ms >= 0);
    assert (error);
    *error = NULL;
    if (zetl_lut_check_table (table, error) != 0)
        return -1;
    char hash[ZETL_LUT_KEY_SIZE], pin[ZETL_LUT_KEY_SIZE];
    zetl_lut_version_key (hash, sizeof hash, table, version);
    zetl_lut_pin_key (pin, sizeof pin, table, version);
    char *detail = NULL;
    redisReply *reply = zetl_redis_command (redis, &detail, "pin script", "EVAL %s 2 %s %s %lld",
                                            s_pin_script, hash, pin, (long long) ttl_ms);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1 ? 0 : -1;
    if (!reply)
        *error = zsys_sprintf ("pinning version %" PRIu64 " of table %s: %s", version, table, detail);
    else if (rc != 0)
        *error = zsys_sprintf ("cannot pin version %" PRIu64 " of table %s: it is no longer in Redis "
                           "(collected, or never loaded); enrich with the current version",
                           version, table);
    free (detail);
    if (reply)
        freeReplyObject (reply);
    return rc;
}

// ---------------------------------------------------------------------------
//  Listing

//  Fill INFO's meta and versions. Returns 0, or -1 with *ERROR set.
static int
s_list_table (redisContext *redis, zetl_lut_info_t *info, char **error)
{
    char meta[ZETL_LUT_KEY_SIZE], versions[ZETL_LUT_KEY_SIZE];
    zetl_lut_meta_key (meta, sizeof meta, info->name);
    zetl_lut_versions_key (versions, sizeof versions, info->name);
    redisAppendCommand (redis, "HMGET %s version rows key columns loaded_at", meta);
    redisAppendCommand (redis, "ZRANGE %s 0 -1", versions);
    char *zrange_error = NULL;
    redisReply *fields = zetl_redis_next_reply (redis, "HMGET", error);
    redisReply *members = zetl_redis_next_reply (redis, "ZRANGE", &zrange_error);
    if (!*error && zrange_error) {
        *error = zrange_error;
        zrange_error = NULL;
    }
    free (zrange_error);
    int rc = fields && members && fields->type == REDIS_REPLY_ARRAY && fields->elements == 5 &&
                     members->type == REDIS_REPLY_ARRAY
                 ? 0
                 : -1;
    if (rc == 0) {
        redisReply **field = fields->element;
        info->version = field[0]->str ? strtoull (field[0]->str, NULL, 10) : 0;
        info->rows = field[1]->str ? strtoull (field[1]->str, NULL, 10) : 0;
        info->key = strdup (field[2]->str ? field[2]->str : "");
        info->columns = strdup (field[3]->str ? field[3]->str : "");
        info->loaded_at_ms = field[4]->str ? strtoll (field[4]->str, NULL, 10) : 0;
        info->version_count = members->elements;
        info->versions =
            (zetl_lut_version_t *) calloc (members->elements + 1, sizeof (zetl_lut_version_t));
        assert (info->versions);
        for (size_t index = 0; index < members->elements; index++)
            info->versions[index].version = strtoull (members->element[index]->str, NULL, 10);
    }
    else if (!*error)
        *error = strdup ("unexpected answer to HMGET or ZRANGE");
    if (fields)
        freeReplyObject (fields);
    if (members)
        freeReplyObject (members);
    return rc;
}

//  Fill each version's row count and pin TTL, in one round trip
static int
s_list_versions (redisContext *redis, zetl_lut_info_t *info, char **error)
{
    for (size_t index = 0; index < info->version_count; index++) {
        char hash[ZETL_LUT_KEY_SIZE], pin[ZETL_LUT_KEY_SIZE];
        zetl_lut_version_key (hash, sizeof hash, info->name, info->versions[index].version);
        zetl_lut_pin_key (pin, sizeof pin, info->name, info->versions[index].version);
        redisAppendCommand (redis, "HLEN %s", hash);
        redisAppendCommand (redis, "PTTL %s", pin);
    }
    int rc = 0;
    for (size_t index = 0; index < 2 * info->version_count; index++) {
        char *detail = NULL;
        redisReply *reply = zetl_redis_next_reply (redis, index % 2 ? "PTTL" : "HLEN", &detail);
        if (!reply) {
            if (rc == 0)
                *error = detail;
            else
                free (detail);
            rc = -1;
            if (redis->err)
                break;  //  The connection is gone: no more replies will come
            continue;
        }
        zetl_lut_version_t *version = &info->versions[index / 2];
        long long value = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
        if (index % 2)
            version->pin_ttl_ms = value >= 0 ? value : -1;
        else
            version->rows = value > 0 ? (uint64_t) value : 0;
        freeReplyObject (reply);
    }
    return rc;
}

static int
s_compare_names (const void *a, const void *b)
{
    return strcmp (((const zetl_lut_info_t *) a)->name, ((const zetl_lut_info_t *) b)->name);
}

zetl_lut_list_t *
zetl_lut_list (redisContext *redis, char **error)
{
    assert (redis);
    assert (error);
    *error = NULL;
    char *detail = NULL;
    redisReply *names =
        zetl_redis_command (redis, &detail, "SMEMBERS", "SMEMBERS %s", ZETL_LUT_TABLES_KEY);
    if (!names || names->type != REDIS_REPLY_ARRAY) {
        *error = zsys_sprintf ("listing lookup tables: %s",
                           detail ? detail : "SMEMBERS " ZETL_LUT_TABLES_KEY " is not a set");
        free (detail);
        if (names)
            freeReplyObject (names);
        return NULL;
    }
    zetl_lut_list_t *self = (zetl_lut_list_t *) calloc (1, sizeof (zetl_lut_list_t));
    assert (self);
    self->tables = (zetl_lut_info_t *) calloc (names->elements + 1, sizeof (zetl_lut_info_t));
    assert (self->tables);
    for (size_t index = 0; index < names->elements; index++)
        if (zetl_lut_table_valid (names->element[index]->str))  //  Skip what zetl did not write
            strcpy (self->tables[self->count++].name, names->element[index]->str);
    freeReplyObject (names);
    qsort (self->tables, self->count, sizeof (zetl_lut_info_t), s_compare_names);
    for (size_t index = 0; index < self->count && !detail; index++)
        if (s_list_table (redis, &self->tables[index], &detail) == 0)
            s_list_versions (redis, &self->tables[index], &detail);
    if (detail) {
        *error = zsys_sprintf ("listing lookup tables: %s", detail);
        free (detail);
        zetl_lut_list_destroy (&self);
    }
    return self;
}

void
zetl_lut_list_destroy (zetl_lut_list_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_lut_list_t *self = *self_p;
        for (size_t index = 0; index < self->count; index++) {
            free (self->tables[index].key);
            free (self->tables[index].columns);
            free (self->tables[index].versions);
        }
        free (self->tables);
        free (self);
        *self_p = NULL;
    }
}
