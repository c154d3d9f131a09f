/*  extract - the PostgreSQL source's read path alone, for its benchmark

    Reads a pipeline's postgres source table the way a run of zetl's
    PostgreSQL source does (zetl_pg_extract: one snapshot, a server-side
    cursor, pages of page_size rows) and packs every row into a record, then
    pulls out the fields a source needs (partition key, event time, id) as
    the feed does for each record, without the rest of the cluster. Prints one line: rows, seconds, rows/s.

    Usage: zetl-bench-extract CONFIG PIPELINE (the source's conninfo, else
    ZETL_POSTGRES).
*/
#include "zetl_config.h"
#include "zetl_extract.h"
#include "zetl_record.h"
#include "zetl_pg.h"
#include "zetl_pg_extract.h"

#include <czmq.h>

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "Usage: zetl-bench-extract CONFIG PIPELINE\n");
        return 2;
    }
    char *error = NULL;
    zetl_config_t *config = zetl_config_load (argv[1], &error);
    const zetl_pipeline_t *pipeline = config ? zetl_config_pipeline (config, argv[2]) : NULL;
    if (!pipeline || pipeline->source.type != ZETL_SOURCE_POSTGRES) {
        fprintf (stderr, "extract: %s\n", error ? error : "no such pipeline with a postgres source");
        return 2;
    }
    const char *conninfo = pipeline->source.conninfo ? pipeline->source.conninfo : config->postgres;
    PGconn *conn = zetl_pg_connect (conninfo, &error);
    if (!conn) {
        fprintf (stderr, "extract: %s\n", error);
        return 1;
    }
    const char *names[ZETL_EXTRACT_COUNT];
    zetl_extract_names (pipeline, names);
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &out, msgpack_sbuffer_write);
    msgpack_zone zone;
    msgpack_zone_init (&zone, 8192);
    int64_t start = zclock_usecs ();
    zetl_pg_extract_t *extract = zetl_pg_extract_open (conn, pipeline, NULL, false, &error);
    uint64_t rows = 0, bad = 0;
    int page;
    while (extract && (page = zetl_pg_extract_fetch (extract, &error)) > 0) {
        out.size = 0;
        for (int row = 0; row < page; row++) {
            size_t at = out.size, offset = 0;
            zetl_pg_extract_pack (extract, row, &packer, NULL, NULL, NULL);
            msgpack_object record;
            msgpack_zone_clear (&zone);
            if (msgpack_unpack (out.data + at, out.size - at, &offset, &zone, &record)
                    != MSGPACK_UNPACK_SUCCESS
                || !zetl_record_get (&record, names[ZETL_EXTRACT_KEY])
                || !zetl_record_get (&record, names[ZETL_EXTRACT_TIME]))
                bad++;
            rows++;
        }
    }
    zetl_pg_extract_destroy (&extract);
    double seconds = (double) (zclock_usecs () - start) / 1e6;
    int rc = error || bad ? 1 : 0;
    if (error)
        fprintf (stderr, "extract: %s\n", error);
    printf ("%llu %.3f %.0f\n", (unsigned long long) rows, seconds, (double) rows / seconds);
    free (error);
    msgpack_sbuffer_destroy (&out);
    msgpack_zone_destroy (&zone);
    PQfinish (conn);
    zetl_config_destroy (&config);
    return rc;
}
