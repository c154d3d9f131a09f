/*  pglimit - the least work loading rows into PostgreSQL the way a zetl sink must

    The baseline of zetl's end-to-end benchmark: reads COPY text rows (one
    per line) and loads them into TABLE with the same statements a sink runs
    (COPY into a temporary staging table, then one INSERT ... SELECT
    DISTINCT ON ... ON CONFLICT DO UPDATE ... WHERE last-write-wins), in
    transactions of ROWS_PER_TX rows over CONNECTIONS connections, rows split
    between connections by a hash of their first column's partition value.
    Prints one line: rows, seconds, rows/s.

    Usage: zetl-bench-pglimit FILE TABLE COLUMNS KEY ORDER CONNECTIONS ROWS_PER_TX [SPLIT_COLUMN]
    (COLUMNS comma separated, as in FILE; KEY the primary key column; ORDER the
    event time column). Connection from ZETL_POSTGRES.
*/
#include <czmq.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <xxhash.h>

typedef struct {
    const char *conninfo;
    const char *table, *columns, *key, *order;
    long rows_per_tx;
    char **lines;         //  this connection's rows
    size_t *lens;
    size_t count;
    int failed;
} s_job_t;

static int
s_exec (PGconn *conn, const char *sql)
{
    PGresult *res = PQexec (conn, sql);
    int ok = PQresultStatus (res) == PGRES_COMMAND_OK || PQresultStatus (res) == PGRES_TUPLES_OK;
    if (!ok)
        fprintf (stderr, "pglimit: %s: %s", sql, PQerrorMessage (conn));
    PQclear (res);
    return ok ? 0 : -1;
}

static void *
s_load (void *arg)
{
    s_job_t *job = (s_job_t *) arg;
    PGconn *conn = PQconnectdb (job->conninfo);
    if (PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "pglimit: %s", PQerrorMessage (conn));
        job->failed = 1;
        return NULL;
    }
    char sql[8192];
    snprintf (sql, sizeof sql,
              "CREATE TEMP TABLE stage (LIKE %s INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
              job->table);
    s_exec (conn, sql);
    char copy[4096], upsert[8192], set[4096] = "";
    snprintf (copy, sizeof copy, "COPY stage (%s) FROM STDIN", job->columns);
    //  SET c = EXCLUDED.c for every column
    char *columns = strdup (job->columns), *save = NULL;
    for (char *column = strtok_r (columns, ",", &save); column; column = strtok_r (NULL, ",", &save))
        snprintf (set + strlen (set), sizeof set - strlen (set), "%s%s = EXCLUDED.%s",
                  *set ? ", " : "", column, column);
    free (columns);
    snprintf (upsert, sizeof upsert,
              "INSERT INTO %s AS t (%s) SELECT DISTINCT ON (%s) %s FROM stage ORDER BY %s, %s DESC,"
              " zetl_lut_gen DESC, zetl_hash DESC ON CONFLICT (%s) DO UPDATE SET %s WHERE"
              " (t.%s, t.zetl_lut_gen, t.zetl_hash) < (EXCLUDED.%s, EXCLUDED.zetl_lut_gen,"
              " EXCLUDED.zetl_hash)",
              job->table, job->columns, job->key, job->columns, job->key, job->order, job->key,
              set, job->order, job->order);
    for (size_t at = 0; at < job->count && !job->failed; at += (size_t) job->rows_per_tx) {
        size_t end = at + (size_t) job->rows_per_tx < job->count ? at + (size_t) job->rows_per_tx
                                                                  : job->count;
        if (s_exec (conn, "BEGIN") != 0) {
            job->failed = 1;
            break;
        }
        PGresult *res = PQexec (conn, copy);
        PQclear (res);
        for (size_t row = at; row < end; row++)
            PQputCopyData (conn, job->lines[row], (int) job->lens[row]);
        PQputCopyEnd (conn, NULL);
        while ((res = PQgetResult (conn)))
            PQclear (res);
        if (s_exec (conn, upsert) != 0 || s_exec (conn, "COMMIT") != 0)
            job->failed = 1;
    }
    PQfinish (conn);
    return NULL;
}

int
main (int argc, char **argv)
{
    if (argc < 8) {
        fprintf (stderr, "usage: zetl-bench-pglimit FILE TABLE COLUMNS KEY ORDER CONNECTIONS "
                         "ROWS_PER_TX [SPLIT_COLUMN_INDEX]\n");
        return 2;
    }
    int connections = atoi (argv[6]);
    int split = argc > 8 ? atoi (argv[8]) : 0;
    if (connections < 1 || connections > 64)
        return 2;
    FILE *file = fopen (argv[1], "r");
    if (!file) {
        perror (argv[1]);
        return 1;
    }
    s_job_t jobs[64];
    memset (jobs, 0, sizeof jobs);
    size_t capacity[64] = {0};
    char *line = NULL;
    size_t size = 0;
    ssize_t len;
    size_t total = 0;
    while ((len = getline (&line, &size, file)) > 0) {
        //  Split by the value of column SPLIT, as zetl splits by partition key
        const char *field = line;
        for (int column = 0; column < split && field; column++) {
            field = strchr (field, '\t');
            field = field ? field + 1 : NULL;
        }
        size_t field_len = field ? strcspn (field, "\t\n") : 0;
        s_job_t *job = &jobs[field ? XXH3_64bits (field, field_len) % (uint64_t) connections : 0];
        size_t index = (size_t) (job - jobs);
        if (job->count == capacity[index]) {
            capacity[index] = capacity[index] ? capacity[index] * 2 : 4096;
            job->lines = (char **) realloc (job->lines, capacity[index] * sizeof (char *));
            job->lens = (size_t *) realloc (job->lens, capacity[index] * sizeof (size_t));
        }
        job->lines[job->count] = strndup (line, (size_t) len);
        job->lens[job->count++] = (size_t) len;
        total++;
    }
    free (line);
    fclose (file);
    pthread_t threads[64];
    int64_t start = zclock_usecs ();
    for (int index = 0; index < connections; index++) {
        s_job_t *job = &jobs[index];
        job->conninfo = getenv ("ZETL_POSTGRES");
        job->table = argv[2];
        job->columns = argv[3];
        job->key = argv[4];
        job->order = argv[5];
        job->rows_per_tx = atol (argv[7]);
        pthread_create (&threads[index], NULL, s_load, job);
    }
    int failed = 0;
    for (int index = 0; index < connections; index++) {
        pthread_join (threads[index], NULL);
        failed |= jobs[index].failed;
        for (size_t row = 0; row < jobs[index].count; row++)
            free (jobs[index].lines[row]);
        free (jobs[index].lines);
        free (jobs[index].lens);
    }
    double seconds = (double) (zclock_usecs () - start) / 1e6;
    printf ("rows %zu seconds %.3f rows_per_second %.0f\n", total, seconds, (double) total / seconds);
    return failed;
}
