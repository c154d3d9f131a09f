/*  localredis_test - zetl_localredis starts a private Redis, hiredis reaches it, it stops

    Skipped (exit 77) when redis-server is not installed.
*/
#include "zetl_localredis.h"
#include "zetl_redis.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    return remove (path);
}

static int
s_setup (void **state)
{
    char *dir = strdup ("/tmp/zetl-localredis-test-XXXXXX");
    if (!mkdtemp (dir)) {
        free (dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int
s_teardown (void **state)
{
    char *dir = *state;
    nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free (dir);
    return 0;
}

static zetl_localredis_t *
s_start (const char *dir)
{
    char *error = NULL;
    zetl_localredis_t *redis = zetl_localredis_start (dir, &error);
    if (!redis)
        print_error ("%s\n", error);
    assert_non_null (redis);
    assert_null (error);
    return redis;
}

static void
test_start_command_stop (void **state)
{
    const char *dir = *state;
    zetl_localredis_t *server = s_start (dir);
    char *url = strdup (zetl_localredis_url (server));  //  Borrowed until the stop
    char *expected_url = NULL;
    assert_true (asprintf (&expected_url, "unix://%s/redis.sock", dir) > 0);
    assert_string_equal (url, expected_url);
    free (expected_url);
    pid_t pid = zetl_localredis_pid (server);
    assert_true (pid > 0);
    assert_int_equal (kill (pid, 0), 0);

    char *error = NULL;
    redisContext *redis = zetl_redis_connect (url, 2000, &error);
    assert_non_null (redis);
    redisReply *reply = zetl_redis_command (redis, &error, "SET", "SET greeting %s", "hello");
    assert_non_null (reply);
    freeReplyObject (reply);
    reply = zetl_redis_command (redis, &error, "GET", "GET greeting");
    assert_non_null (reply);
    assert_string_equal (reply->str, "hello");
    freeReplyObject (reply);
    //  No persistence, no TCP: the defaults of a throwaway server
    reply = zetl_redis_command (redis, &error, "CONFIG", "CONFIG GET port");
    assert_non_null (reply);
    assert_string_equal (reply->element[1]->str, "0");
    freeReplyObject (reply);
    reply = zetl_redis_command (redis, &error, "CONFIG", "CONFIG GET appendonly");
    assert_string_equal (reply->element[1]->str, "no");
    freeReplyObject (reply);
    redisFree (redis);

    zetl_localredis_stop (&server);
    assert_null (server);
    zetl_localredis_stop (&server);  //  A second stop does nothing
    assert_int_equal (kill (pid, 0), -1);
    assert_int_equal (errno, ESRCH);

    //  Gone: connecting now fails with a message that says what to do
    redis = zetl_redis_connect (url, 500, &error);
    assert_null (redis);
    assert_non_null (strstr (error, "start redis-server"));
    free (error);
    free (url);
}

static void
test_restart_and_refuse_second_server (void **state)
{
    const char *dir = *state;
    zetl_localredis_t *first = s_start (dir);
    char *error = NULL;
    zetl_localredis_t *second = zetl_localredis_start (dir, &error);
    assert_null (second);
    assert_non_null (strstr (error, "already running"));
    free (error);
    zetl_localredis_stop (&first);

    //  The same directory serves again once the first server is gone
    first = s_start (dir);
    zetl_localredis_stop (&first);
    struct stat st;
    assert_int_equal (stat (dir, &st), 0);
}

static void
test_persistent_keeps_data (void **state)
{
    const char *dir = *state;
    zetl_localredis_options_t options = {.persistent = true};
    char *error = NULL;
    zetl_localredis_t *server = zetl_localredis_start_with (dir, &options, &error);
    assert_non_null (server);
    redisContext *redis = zetl_redis_connect (zetl_localredis_url (server), 2000, &error);
    assert_non_null (redis);
    redisReply *reply = zetl_redis_command (redis, &error, "SET", "SET kept %s", "yes");
    assert_non_null (reply);
    freeReplyObject (reply);
    redisFree (redis);
    zetl_localredis_stop (&server);

    server = zetl_localredis_start_with (dir, &options, &error);
    assert_non_null (server);
    redis = zetl_redis_connect (zetl_localredis_url (server), 2000, &error);
    assert_non_null (redis);
    reply = zetl_redis_command (redis, &error, "GET", "GET kept");
    assert_non_null (reply);
    assert_int_equal (reply->type, REDIS_REPLY_STRING);
    assert_string_equal (reply->str, "yes");
    freeReplyObject (reply);
    redisFree (redis);
    zetl_localredis_stop (&server);
}

static void
test_bad_directory (void **state)
{
    (void) state;
    char *error = NULL;
    zetl_localredis_t *server = zetl_localredis_start ("/proc/zetl-cannot-be-here", &error);
    assert_null (server);
    assert_non_null (strstr (error, "cannot create directory /proc/zetl-cannot-be-here"));
    free (error);
}

int
main (void)
{
    char *server = zetl_localredis_server ();
    if (!server) {
        fprintf (stderr, "localredis_test: no redis-server installed; skipped\n");
        return 77;
    }
    free (server);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_start_command_stop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_restart_and_refuse_second_server, s_setup,
                                         s_teardown),
        cmocka_unit_test_setup_teardown (test_persistent_keeps_data, s_setup, s_teardown),
        cmocka_unit_test (test_bad_directory),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
