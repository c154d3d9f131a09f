/*  zetl_partition - the day partitions of a day-partitioned PostgreSQL target  */
#include "zetl_partition.h"
#include "zetl_copy.h"
#include "zetl_log.h"
#include "zetl_partition_keys.h"
#include "zetl_pg.h"
#include "zetl_time.h"

#include <inttypes.h>

#define S_DAY_MS 86400000LL
#define S_AHEAD_DAYS 3  //  partitions made ahead of time: today and the next 3 days
//  Begins a transaction of partition DDL: the advisory lock every sink takes
//  for it, and a bound on the wait for the table's lock (10 s), so that sink
//  transactions never queue long behind it
#define S_BEGIN_DDL "BEGIN; SET LOCAL lock_timeout = '10s'; SELECT pg_advisory_xact_lock(7325003)"

struct zetl_partition {
    PGconn *conn;                     //  borrowed
    const zetl_pipeline_t *pipeline;  //  borrowed
    const zetl_target_t *target;      //  borrowed
    size_t column;                    //  the partition column's index in the schema
    bool is_date;                     //  a date column, else a timestamp
    int32_t *days;                    //  days whose partition exists, sorted
    size_t count;                     //  entries in days
    size_t capacity;                  //  room in days
};

zetl_partition_t *
zetl_partition_new (PGconn *conn, const zetl_pipeline_t *pipeline, const zetl_target_t *target)
{
    if (!target->partition_by_day)
        return NULL;
    int field = zetl_pipeline_field_index (pipeline, target->partition_by_day);
    assert (field >= 0);  //  The configuration checked it
    zetl_partition_t *self = (zetl_partition_t *) zmalloc (sizeof (zetl_partition_t));
    self->conn = conn;
    self->pipeline = pipeline;
    self->target = target;
    self->column = (size_t) field;
    self->is_date = pipeline->fields[field].type == ZETL_TYPE_DATE;
    return self;
}

void
zetl_partition_destroy (zetl_partition_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->days);
        free (*self_p);
        *self_p = NULL;
    }
}

size_t
zetl_partition_column (const zetl_partition_t *self)
{
    return self->column;
}

static int32_t
s_floor_day (int64_t ms)
{
    int64_t day = ms / S_DAY_MS;
    if (ms % S_DAY_MS < 0)
        day--;
    return (int32_t) day;
}

void
zetl_partition_window (const zetl_partition_t *self, int64_t now_us, int32_t *first, int32_t *last)
{
    int64_t now_ms = now_us / 1000;
    //  A day is past when it ends at or before now - retention: its
    //  partition is wholly older than the window, the rule retention drops by
    *first = s_floor_day (now_ms - self->target->retention_ms);
    //  A day is future when it begins after now + max_future
    *last = s_floor_day (now_ms + self->target->max_future_ms);
}

int
zetl_partition_classify (const zetl_partition_t *self, const zetl_entry_t *entry, int64_t now_us,
                         int32_t *day)
{
    int64_t value = 0;
    int rc = zetl_copy_column_int (entry, self->column, &value);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return ZETL_DAY_NONE;
    if (self->is_date) {
        if (value < INT32_MIN || value > INT32_MAX)
            return -1;
        *day = (int32_t) value;
    }
    else
        *day = zetl_time_days (value);
    int32_t first, last;
    zetl_partition_window (self, now_us, &first, &last);
    if (*day < first)
        return ZETL_DAY_PAST;
    if (*day > last)
        return ZETL_DAY_FUTURE;
    return ZETL_DAY_IN;
}

//  Where DAY is in the sorted cache, or where it would go
static size_t
s_find (const zetl_partition_t *self, int32_t day)
{
    size_t low = 0, high = self->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (self->days[middle] < day)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

bool
zetl_partition_known (zetl_partition_t *self, int32_t day)
{
    size_t at = s_find (self, day);
    return at < self->count && self->days[at] == day;
}

static void
s_remember (zetl_partition_t *self, int32_t day)
{
    size_t at = s_find (self, day);
    if (at < self->count && self->days[at] == day)
        return;
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 64;
        self->days = (int32_t *) realloc (self->days, self->capacity * sizeof (int32_t));
        assert (self->days);
    }
    memmove (self->days + at + 1, self->days + at, (self->count - at) * sizeof (int32_t));
    self->days[at] = day;
    self->count++;
}

void
zetl_partition_forget (zetl_partition_t *self)
{
    self->count = 0;
}

char *
zetl_partition_name (const zetl_partition_t *self, int32_t day)
{
    char date[40];
    zetl_time_format_date (day, date, sizeof date);  //  YYYY-MM-DD
    return zsys_sprintf ("%s_p%.4s%.2s%.2s", self->target->table, date, date + 5, date + 8);
}

//  The day of partition NAME, if NAME is one of ours: <table>_pYYYYMMDD
static bool
s_day_of_name (const zetl_partition_t *self, const char *name, int32_t *day)
{
    size_t prefix = strlen (self->target->table);
    if (strlen (name) != prefix + 10 || strncmp (name, self->target->table, prefix) != 0 ||
        name[prefix] != '_' || name[prefix + 1] != 'p')
        return false;
    const char *digits = name + prefix + 2;
    for (int index = 0; index < 8; index++)
        if (digits[index] < '0' || digits[index] > '9')
            return false;
    char date[11];
    snprintf (date, sizeof date, "%.4s-%.2s-%.2s", digits, digits + 4, digits + 6);
    return zetl_time_parse_date (date, 10, day) == 0;
}

//  Say what failed on the connection, with WHAT and the table
static char *
s_error (zetl_partition_t *self, const char *what)
{
    char *error =
        zsys_sprintf ("%s of table %s: %s", what, self->target->table, PQerrorMessage (self->conn));
    size_t len = strlen (error);
    while (len && error[len - 1] == '\n')
        error[--len] = 0;
    return error;
}

static bool
s_ok (PGresult *res)
{
    ExecStatusType status = PQresultStatus (res);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

//  Run SQL (no parameters, no rows wanted). Returns 0, or -1 with *ERROR set
static int
s_exec (zetl_partition_t *self, const char *sql, const char *what, char **error)
{
    PGresult *res = PQexec (self->conn, sql);
    int rc = s_ok (res) ? 0 : -1;
    if (rc != 0)
        *error = s_error (self, what);
    PQclear (res);
    return rc;
}

int
zetl_partition_load (zetl_partition_t *self, char **error)
{
    char *table = zetl_pg_ident (self->conn, self->target->table);
    const char *values[1] = {table};
    PGresult *res = PQexecParams (self->conn,
                                  "SELECT c.relname FROM pg_inherits i"
                                  " JOIN pg_class c ON c.oid = i.inhrelid"
                                  " WHERE i.inhparent = $1::regclass",
                                  1, NULL, values, NULL, NULL, 0);
    int rc = -1;
    if (s_ok (res)) {
        self->count = 0;
        for (int row = 0; row < PQntuples (res); row++) {
            int32_t day;
            if (s_day_of_name (self, PQgetvalue (res, row, 0), &day))
                s_remember (self, day);
        }
        rc = 0;
    }
    else
        *error = s_error (self, "reading the day partitions");
    PQclear (res);
    free (table);
    return rc;
}

//  The bound of a partition at the start of DAY, as an SQL literal of the
//  column's type: a UTC midnight for a timestamp. Made from a number, not
//  from data, so it may stand in DDL (which takes no parameters)
static void
s_bound (const zetl_partition_t *self, int32_t day, char *bound, size_t size)
{
    char date[40];
    zetl_time_format_date (day, date, sizeof date);
    snprintf (bound, size, self->is_date ? "'%s'" : "'%s 00:00:00+00'", date);
}

//  Create DAY's partition (the caller holds the DDL lock and knows it is missing)
static int
s_create_one (zetl_partition_t *self, int32_t day, char **error)
{
    char *name = zetl_partition_name (self, day);
    char *ident = zetl_pg_ident (self->conn, name);
    char *table = zetl_pg_ident (self->conn, self->target->table);
    char from[64], to[64];
    s_bound (self, day, from, sizeof from);
    s_bound (self, day + 1, to, sizeof to);
    char *sql = zsys_sprintf ("CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM (%s) "
                              "TO (%s)",
                              ident, table, from, to);
    int rc = s_exec (self, sql, "creating a day partition", error);
    if (rc == 0) {
        char date[40];
        zetl_time_format_date (day, date, sizeof date);
        zetl_log_info ("partition", "partition_created",
                       json_pack ("{s:s, s:s, s:s}", "table", self->target->table, "partition",
                                  name, "day", date));
    }
    free (sql);
    free (table);
    free (ident);
    free (name);
    return rc;
}

static int
s_begin_ddl (zetl_partition_t *self, char **error)
{
    return s_exec (self, S_BEGIN_DDL, "locking for partition DDL", error);
}

int
zetl_partition_create (zetl_partition_t *self, const int32_t *days, size_t count, char **error)
{
    if (count == 0)
        return 0;
    if (s_begin_ddl (self, error) != 0) {
        PQclear (PQexec (self->conn, "ROLLBACK"));
        return -1;
    }
    //  Under the lock, what exists now: another connection may have made some
    int rc = zetl_partition_load (self, error);
    for (size_t index = 0; rc == 0 && index < count; index++)
        if (!zetl_partition_known (self, days[index]))
            rc = s_create_one (self, days[index], error);
    if (rc == 0)
        rc = s_exec (self, "COMMIT", "committing new day partitions", error);
    if (rc != 0) {
        PQclear (PQexec (self->conn, "ROLLBACK"));
        zetl_partition_forget (self);
        return -1;
    }
    for (size_t index = 0; index < count; index++)
        s_remember (self, days[index]);
    return 0;
}

//  Remove the keys of the days before FIRST from the keys table; note per
//  day how many went in KEYS (day -> count, as text)
static int
s_expire_keys (zetl_partition_t *self, int32_t first, zhashx_t *keys, char **error)
{
    char *sql = zetl_partition_keys_expire_sql (self->conn, self->target);
    char date[40];
    zetl_time_format_date (first, date, sizeof date);
    const char *values[1] = {date};
    PGresult *res = PQexecParams (self->conn, sql, 1, NULL, values, NULL, NULL, 0);
    int rc = -1;
    if (s_ok (res)) {
        for (int row = 0; row < PQntuples (res); row++)
            zhashx_insert (keys, PQgetvalue (res, row, 0), (void *) PQgetvalue (res, row, 1));
        rc = 0;
    }
    else
        *error = s_error (self, "removing the keys of expired days");
    //  KEYS holds its own copies: PQclear may go
    PQclear (res);
    free (sql);
    return rc;
}

static void *
s_dup_text (const void *item)
{
    return strdup ((const char *) item);
}

static void
s_free_text (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

//  Drop DAY's partition (under the DDL lock) and log it with its keys removed
static int
s_drop_one (zetl_partition_t *self, int32_t day, zhashx_t *keys, char **error)
{
    char *name = zetl_partition_name (self, day);
    char *ident = zetl_pg_ident (self->conn, name);
    char *sql = zsys_sprintf ("DROP TABLE IF EXISTS %s", ident);
    int rc = s_exec (self, sql, "dropping an expired day partition", error);
    if (rc == 0) {
        char date[40], key[16];
        zetl_time_format_date (day, date, sizeof date);
        snprintf (key, sizeof key, "%" PRId32, day);
        const char *removed = (const char *) zhashx_lookup (keys, key);
        zetl_log_info ("partition", "partition_dropped",
                       json_pack ("{s:s, s:s, s:s, s:I, s:I}", "table", self->target->table,
                                  "partition", name, "day", date, "retention_ms",
                                  (json_int_t) self->target->retention_ms, "keys_removed",
                                  (json_int_t) (removed ? atoll (removed) : 0)));
    }
    free (sql);
    free (ident);
    free (name);
    return rc;
}

//  Drop every partition wholly older than the window that begins on FIRST,
//  and its keys, in one transaction: the keys first, in key order, as sink
//  transactions take them, then the partitions, so that nobody waits in a
//  circle
static int
s_expire (zetl_partition_t *self, int32_t first, char **error)
{
    if (s_begin_ddl (self, error) != 0 || zetl_partition_load (self, error) != 0) {
        PQclear (PQexec (self->conn, "ROLLBACK"));
        return -1;
    }
    size_t expired = s_find (self, first);  //  Days before FIRST
    if (expired == 0)
        return s_exec (self, "COMMIT", "ending partition upkeep", error);
    zhashx_t *keys = zhashx_new ();
    zhashx_set_duplicator (keys, s_dup_text);
    zhashx_set_destructor (keys, s_free_text);
    int rc = s_expire_keys (self, first, keys, error);
    for (size_t index = 0; rc == 0 && index < expired; index++)
        rc = s_drop_one (self, self->days[index], keys, error);
    if (rc == 0)
        rc = s_exec (self, "COMMIT", "committing dropped day partitions", error);
    if (rc != 0)
        PQclear (PQexec (self->conn, "ROLLBACK"));
    zhashx_destroy (&keys);
    //  Read again next time: what is cached may be gone
    zetl_partition_forget (self);
    return rc;
}

int
zetl_partition_maintain (zetl_partition_t *self, int64_t now_us, char **error)
{
    int32_t first, last;
    zetl_partition_window (self, now_us, &first, &last);
    int32_t today = zetl_time_days (now_us);
    int32_t ahead[S_AHEAD_DAYS + 1];
    size_t count = 0;
    for (int32_t day = today; day <= last && day <= today + S_AHEAD_DAYS; day++)
        if (day >= first)
            ahead[count++] = day;
    if (zetl_partition_create (self, ahead, count, error) != 0)
        return -1;
    if (s_expire (self, first, error) != 0)
        return -1;
    return zetl_partition_load (self, error);
}
