/*  zetl_redis - connecting to Redis by URL, and checking its replies

    See zetl_redis.h. The URL is parsed into its parts first, so a bad URL
    is reported as such before any connection is tried.
*/
#include "zetl_redis.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DEFAULT_PORT 6379
#define S_HINT "start redis-server or set ZETL_REDIS (or redis: in the configuration)"

//  The parts of a Redis URL
typedef struct {
    char *path;      //  unix socket path, or NULL for TCP
    char *host;      //  TCP host, or NULL for a unix socket
    int port;        //  TCP port
    long db;         //  database to select, or -1
    char *user;      //  AUTH user, or NULL
    char *password;  //  AUTH password, or NULL
} s_url_t;


static char *
s_strndup (const char *text, size_t len)
{
    char *copy = strndup (text, len);
    assert (copy);
    return copy;
}

static void
s_url_free (s_url_t *url)
{
    free (url->path);
    free (url->host);
    free (url->user);
    free (url->password);
}

//  Parse TEXT as a whole number in MIN..MAX into *VALUE. Returns 0 or -1.
static int
s_parse_long (const char *text, size_t len, long min, long max, long *value)
{
    if (len == 0 || len > 10)
        return -1;
    long result = 0;
    for (size_t index = 0; index < len; index++) {
        if (text[index] < '0' || text[index] > '9')
            return -1;
        result = result * 10 + (text[index] - '0');
    }
    if (result < min || result > max)
        return -1;
    *value = result;
    return 0;
}

//  unix:///PATH[?db=N]. Returns NULL, or what is wrong.
static const char *
s_parse_unix (const char *rest, s_url_t *url)
{
    if (*rest != '/')
        return "a unix socket URL needs an absolute path, as in unix:///run/redis/redis.sock";
    const char *query = strchr (rest, '?');
    size_t len = query ? (size_t) (query - rest) : strlen (rest);
    url->path = s_strndup (rest, len);
    if (query && (strncmp (query, "?db=", 4) != 0 ||
                  s_parse_long (query + 4, strlen (query + 4), 0, 100000, &url->db) != 0))
        return "the only query a unix socket URL takes is ?db=N (a database number)";
    return NULL;
}

//  [[USER]:PASSWORD@]HOST[:PORT][/DB]. Returns NULL, or what is wrong.
static const char *
s_parse_tcp (const char *rest, s_url_t *url)
{
    const char *at = strrchr (rest, '@');
    if (at) {
        const char *colon = memchr (rest, ':', (size_t) (at - rest));
        if (colon) {
            if (colon > rest)
                url->user = s_strndup (rest, (size_t) (colon - rest));
            url->password = s_strndup (colon + 1, (size_t) (at - colon - 1));
        }
        else
            url->password = s_strndup (rest, (size_t) (at - rest));
        rest = at + 1;
    }
    const char *host_end;
    if (*rest == '[') {
        host_end = strchr (rest, ']');
        if (!host_end)
            return "an IPv6 address needs its closing ']', as in redis://[::1]:6379";
        url->host = s_strndup (rest + 1, (size_t) (host_end - rest - 1));
        host_end++;
    }
    else {
        host_end = rest + strcspn (rest, ":/");
        url->host = s_strndup (rest, (size_t) (host_end - rest));
    }
    if (!*url->host)
        return "the host is missing, as in redis://localhost:6379";
    const char *slash = strchr (host_end, '/');
    size_t port_len = slash ? (size_t) (slash - host_end) : strlen (host_end);
    long port = S_DEFAULT_PORT;
    if (port_len > 0 &&
        (*host_end != ':' || s_parse_long (host_end + 1, port_len - 1, 1, 65535, &port) != 0))
        return "the port must be a number in 1..65535, as in redis://localhost:6379";
    url->port = (int) port;
    if (slash && slash[1] && s_parse_long (slash + 1, strlen (slash + 1), 0, 100000, &url->db) != 0)
        return "the database after '/' must be a number, as in redis://localhost:6379/0";
    return NULL;
}

//  Returns NULL, or what is wrong with TEXT
static const char *
s_parse_url (const char *text, s_url_t *url)
{
    *url = (s_url_t){NULL, NULL, 0, -1, NULL, NULL};
    if (strncmp (text, "unix://", 7) == 0)
        return s_parse_unix (text + 7, url);
    if (strncmp (text, "redis://", 8) == 0)
        return s_parse_tcp (text + 8, url);
    if (strncmp (text, "tcp://", 6) == 0)
        return s_parse_tcp (text + 6, url);
    if (strncmp (text, "rediss://", 9) == 0)
        return "TLS (rediss://) is not supported; use redis:// on a trusted network or a unix "
               "socket";
    if (strstr (text, "://"))
        return "unknown scheme; use unix:///path/to/redis.sock, redis://host:port[/db] or "
               "host:port";
    return s_parse_tcp (text, url);
}

char *
zetl_redis_redact (const char *url)
{
    assert (url);
    const char *scheme = strstr (url, "://");
    const char *authority = scheme ? scheme + 3 : url;
    const char *at = strncmp (url, "unix://", 7) == 0 ? NULL : strrchr (authority, '@');
    if (!at)
        return s_strndup (url, strlen (url));
    const char *colon = memchr (authority, ':', (size_t) (at - authority));
    const char *secret = colon ? colon + 1 : authority;
    return zsys_sprintf ("%.*s***%s", (int) (secret - url), url, at);
}

int
zetl_redis_check (redisContext *redis, const redisReply *reply, const char *what, char **error)
{
    assert (redis);
    assert (error);
    if (reply && reply->type != REDIS_REPLY_ERROR)
        return 0;
    if (reply)
        *error = zsys_sprintf ("%s: Redis answered: %.*s", what, (int) reply->len, reply->str);
    else if (redis->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
        *error = zsys_sprintf ("%s: no answer from Redis within the timeout; check that it is "
                           "running and not overloaded",
                           what);
    else
        *error = zsys_sprintf ("%s: %s; check that Redis is still running and reachable", what,
                           redis->errstr[0] ? redis->errstr : "connection lost");
    return -1;
}

redisReply *
zetl_redis_command (redisContext *redis, char **error, const char *what, const char *format, ...)
{
    assert (redis);
    va_list args;
    va_start (args, format);
    redisReply *reply = (redisReply *) redisvCommand (redis, format, args);
    va_end (args);
    if (zetl_redis_check (redis, reply, what, error) == 0)
        return reply;
    if (reply)
        freeReplyObject (reply);
    return NULL;
}

redisReply *
zetl_redis_next_reply (redisContext *redis, const char *what, char **error)
{
    assert (redis);
    void *reply = NULL;
    if (redisGetReply (redis, &reply) != REDIS_OK)
        reply = NULL;
    if (zetl_redis_check (redis, (redisReply *) reply, what, error) == 0)
        return (redisReply *) reply;
    if (reply)
        freeReplyObject (reply);
    return NULL;
}

//  AUTH, SELECT, or else PING: the server answers as Redis. Returns 0 or -1.
static int
s_handshake (redisContext *redis, const s_url_t *url, const char *shown, char **error)
{
    redisReply *reply = NULL;
    char *detail = NULL;
    if (url->password && url->user)
        reply = zetl_redis_command (redis, &detail, "AUTH", "AUTH %s %s", url->user, url->password);
    else if (url->password)
        reply = zetl_redis_command (redis, &detail, "AUTH", "AUTH %s", url->password);
    if (url->password && !reply) {
        *error = zsys_sprintf ("cannot log in to Redis at %s: %s; check the user and password in "
                           "the URL",
                           shown, detail);
        free (detail);
        return -1;
    }
    if (reply)
        freeReplyObject (reply);
    if (url->db >= 0)
        reply = zetl_redis_command (redis, &detail, "SELECT", "SELECT %ld", url->db);
    else
        reply = zetl_redis_command (redis, &detail, "PING", "PING");
    if (!reply) {
        bool noauth = strstr (detail, "NOAUTH") != NULL;
        *error = zsys_sprintf ("Redis at %s does not answer: %s; %s", shown, detail,
                           noauth ? "give the password in the URL, as in redis://:PASSWORD@host"
                                  : S_HINT);
        free (detail);
        return -1;
    }
    freeReplyObject (reply);
    return 0;
}

redisContext *
zetl_redis_connect (const char *url, int timeout_ms, char **error)
{
    assert (url);
    assert (error);
    *error = NULL;
    char *shown = zetl_redis_redact (url);
    s_url_t parts;
    const char *wrong = s_parse_url (url, &parts);
    redisContext *redis = NULL;
    if (wrong) {
        *error = zsys_sprintf ("Redis URL \"%s\" is not valid: %s", shown, wrong);
        goto cleanup;
    }
    struct timeval timeout = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    if (timeout_ms <= 0)
        redis = parts.path ? redisConnectUnix (parts.path) : redisConnect (parts.host, parts.port);
    else
        redis = parts.path ? redisConnectUnixWithTimeout (parts.path, timeout)
                           : redisConnectWithTimeout (parts.host, parts.port, timeout);
    if (!redis) {
        *error = zsys_sprintf ("cannot connect to Redis at %s: out of memory", shown);
        goto cleanup;
    }
    if (redis->err) {
        *error = zsys_sprintf ("cannot connect to Redis at %s: %s; %s", shown, redis->errstr, S_HINT);
        goto failed;
    }
    if (timeout_ms > 0 && redisSetTimeout (redis, timeout) != REDIS_OK) {
        *error = zsys_sprintf ("cannot set a %d ms timeout on the connection to Redis at %s: %s",
                           timeout_ms, shown, redis->errstr);
        goto failed;
    }
    if (s_handshake (redis, &parts, shown, error) == 0)
        goto cleanup;
failed:
    redisFree (redis);
    redis = NULL;
cleanup:
    s_url_free (&parts);
    free (shown);
    return redis;
}
