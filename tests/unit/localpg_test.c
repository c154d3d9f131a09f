/*  localpg_test - zetl_localpg starts a private PostgreSQL, libpq reaches it, it stops

    Skipped (exit 77) when no PostgreSQL server programs are installed.
*/
#include "zetl_localpg.h"

#include <ftw.h>
#include <libpq-fe.h>
#include <setjmp.h>
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
    char *dir = strdup ("/tmp/zetl-localpg-test-XXXXXX");
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

static char *
s_query_value (const char *conninfo, const char *sql)
{
    PGconn *conn = PQconnectdb (conninfo);
    char *value = NULL;
    if (PQstatus (conn) == CONNECTION_OK) {
        PGresult *result = PQexec (conn, sql);
        if (PQresultStatus (result) == PGRES_TUPLES_OK && PQntuples (result) == 1)
            value = strdup (PQgetvalue (result, 0, 0));
        else
            print_error ("%s: %s\n", sql, PQresultErrorMessage (result));
        PQclear (result);
    }
    else
        print_error ("cannot connect to \"%s\": %s\n", conninfo, PQerrorMessage (conn));
    PQfinish (conn);
    return value;
}

static void
test_start_query_stop_restart (void **state)
{
    const char *dir = *state;
    zetl_localpg_options_t options = {.fast = true, .port = 0};
    char *error = NULL;
    zetl_localpg_t *pg = zetl_localpg_start_with (dir, &options, &error);
    if (!pg)
        print_error ("%s\n", error);
    assert_non_null (pg);
    assert_null (error);

    const char *conninfo = zetl_localpg_conninfo (pg);
    assert_non_null (strstr (conninfo, "dbname=zetl"));
    assert_int_equal (zetl_localpg_port (pg), 5432);
    assert_string_equal (zetl_localpg_dir (pg), dir);

    char *one = s_query_value (conninfo, "SELECT 1");
    assert_non_null (one);
    assert_string_equal (one, "1");
    free (one);
    char *database = s_query_value (conninfo, "SELECT current_database()");
    assert_string_equal (database, "zetl");
    free (database);
    char *tcp = s_query_value (conninfo, "SHOW listen_addresses");
    assert_string_equal (tcp, "");
    free (tcp);

    //  Committed data survives a stop and a start with the same directory
    PGconn *conn = PQconnectdb (conninfo);
    PQclear (PQexec (conn, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)"));
    PQfinish (conn);
    zetl_localpg_stop (&pg);
    assert_null (pg);
    zetl_localpg_stop (&pg);  //  A second stop does nothing

    char *socket_path = NULL;
    assert_true (asprintf (&socket_path, "%s/.s.PGSQL.5432", dir) > 0);
    assert_int_not_equal (access (socket_path, F_OK), 0);  //  The server is gone
    free (socket_path);

    options.port = 6543;
    pg = zetl_localpg_start_with (dir, &options, &error);
    if (!pg)
        print_error ("%s\n", error);
    assert_non_null (pg);
    assert_non_null (strstr (zetl_localpg_conninfo (pg), "port=6543"));
    char *kept = s_query_value (zetl_localpg_conninfo (pg), "SELECT id FROM kept");
    assert_string_equal (kept, "42");
    free (kept);
    zetl_localpg_stop (&pg);
}

static void
test_bad_directory_says_what_to_do (void **state)
{
    (void) state;
    char *error = NULL;
    zetl_localpg_t *pg = zetl_localpg_start ("/proc/zetl-cannot-be-here/pg", &error);
    assert_null (pg);
    assert_non_null (error);
    assert_non_null (strstr (error, "/proc/zetl-cannot-be-here/pg"));
    free (error);
}

int
main (void)
{
    char *bindir = zetl_localpg_bindir ();
    if (!bindir) {
        fprintf (stderr, "SKIP: no PostgreSQL server programs installed (apt-get install "
                         "postgresql)\n");
        return 77;
    }
    free (bindir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_start_query_stop_restart, s_setup, s_teardown),
        cmocka_unit_test (test_bad_directory_says_what_to_do),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
