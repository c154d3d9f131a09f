/*  zetl_offsets - the statements on zetl_offsets of a sink commit  */
#include "zetl_offsets.h"
#include "zetl_pg.h"

#include <inttypes.h>

//  The int[] literal of COUNT partitions. Caller destroys it.
static zchunk_t *
s_partition_array (const uint32_t *partitions, size_t count)
{
    zchunk_t *array = zchunk_new (NULL, 11 * count + 3);
    zchunk_extend (array, "{", 1);
    for (size_t index = 0; index < count; index++) {
        char item[16];
        int len = snprintf (item, sizeof item, "%s%u", index ? "," : "", partitions[index]);
        zchunk_extend (array, item, (size_t) len);
    }
    zchunk_extend (array, "}", 2);
    return array;
}

//  The int8[] literal of COUNT positions. Caller destroys it.
static zchunk_t *
s_position_array (const int64_t *positions, size_t count)
{
    zchunk_t *array = zchunk_new (NULL, 21 * count + 3);
    zchunk_extend (array, "{", 1);
    for (size_t index = 0; index < count; index++) {
        char item[24];
        int len = snprintf (item, sizeof item, "%s%" PRId64, index ? "," : "", positions[index]);
        zchunk_extend (array, item, (size_t) len);
    }
    zchunk_extend (array, "}", 2);
    return array;
}

static const char *
s_array_text (zchunk_t *array)
{
    return array ? (const char *) zchunk_data (array) : NULL;
}

//  One statement for every key of a transaction, in the order given (sorted
//  by the caller, so that connections lock in one order and never deadlock).
//  The no-op update locks a row also when a concurrent transaction is
//  creating it: that one commits first and this one then reads its position.
//  The join puts the rows back in the order of the keys.
static const char *s_lock_sql =
    "WITH k AS (SELECT * FROM unnest($3::text[], $4::int[]) WITH ORDINALITY"
    "   AS k (source, partition, n)),"
    " l AS (INSERT INTO zetl_offsets (pipeline, target, source, partition, position)"
    "   SELECT $1::text, $2::text, source, partition, -1 FROM k ORDER BY n"
    "   ON CONFLICT (pipeline, target, source, partition)"
    "   DO UPDATE SET position = zetl_offsets.position"
    "   RETURNING source, partition, position, above)"
    " SELECT l.position, coalesce(l.above::text, '') FROM k JOIN l USING (source, partition)"
    " ORDER BY k.n";

PGresult *
zetl_offsets_lock (PGconn *conn, const char *pipeline, const char *target, size_t count,
                   const char *const *sources, const uint32_t *partitions)
{
    zchunk_t *source_array = zetl_pg_text_array (sources, count);
    zchunk_t *partition_array = s_partition_array (partitions, count);
    const char *values[4] = {pipeline, target, s_array_text (source_array),
                             s_array_text (partition_array)};
    PGresult *res = PQexecParams (conn, s_lock_sql, 4, NULL, values, NULL, NULL, 0);
    zchunk_destroy (&source_array);
    zchunk_destroy (&partition_array);
    return res;
}

void
zetl_offsets_read_locked (const PGresult *res, size_t count, int64_t *positions, char **above)
{
    for (size_t index = 0; index < count; index++) {
        positions[index] = atoll (PQgetvalue (res, (int) index, 0));
        if (above)
            above[index] = strdup (PQgetvalue (res, (int) index, 1));
    }
}

PGresult *
zetl_offsets_raise (PGconn *conn, const char *pipeline, const char *target, size_t count,
                    const char *const *sources, const uint32_t *partitions,
                    const int64_t *positions)
{
    zchunk_t *source_array = zetl_pg_text_array (sources, count);
    zchunk_t *partition_array = s_partition_array (partitions, count);
    zchunk_t *position_array = s_position_array (positions, count);
    const char *values[5] = {pipeline, target, s_array_text (source_array),
                             s_array_text (partition_array), s_array_text (position_array)};
    //  The rows are locked by this transaction already: no order to keep here
    PGresult *res = PQexecParams (
        conn,
        "UPDATE zetl_offsets AS o SET position = GREATEST(o.position, k.position),"
        " updated_at = now()"
        " FROM unnest($3::text[], $4::int[], $5::int8[]) AS k (source, partition, position)"
        " WHERE o.pipeline = $1 AND o.target = $2 AND o.source = k.source"
        " AND o.partition = k.partition",
        5, NULL, values, NULL, NULL, 0);
    zchunk_destroy (&source_array);
    zchunk_destroy (&partition_array);
    zchunk_destroy (&position_array);
    return res;
}

PGresult *
zetl_offsets_raise_ranges (PGconn *conn, const char *pipeline, const char *target, size_t count,
                           const char *const *sources, const uint32_t *partitions,
                           const int64_t *floors, const char *const *added)
{
    zchunk_t *source_array = zetl_pg_text_array (sources, count);
    zchunk_t *partition_array = s_partition_array (partitions, count);
    zchunk_t *floor_array = s_position_array (floors, count);
    zchunk_t *added_array = zetl_pg_text_array (added, count);
    const char *values[6] = {pipeline,
                             target,
                             s_array_text (source_array),
                             s_array_text (partition_array),
                             s_array_text (floor_array),
                             s_array_text (added_array)};
    PGresult *res = PQexecParams (
        conn,
        "UPDATE zetl_offsets AS o SET position = GREATEST(o.position, k.floor),"
        " above = nullif((coalesce(o.above, '{}') + k.added::int8multirange)"
        "   - int8multirange(int8range(NULL, GREATEST(o.position, k.floor) + 1)), '{}'),"
        " updated_at = now()"
        " FROM unnest($3::text[], $4::int[], $5::int8[], $6::text[])"
        "   AS k (source, partition, floor, added)"
        " WHERE o.pipeline = $1 AND o.target = $2 AND o.source = k.source"
        " AND o.partition = k.partition",
        6, NULL, values, NULL, NULL, 0);
    zchunk_destroy (&source_array);
    zchunk_destroy (&partition_array);
    zchunk_destroy (&floor_array);
    zchunk_destroy (&added_array);
    return res;
}
