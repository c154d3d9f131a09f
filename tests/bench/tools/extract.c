/*  extract - the PostgreSQL source's read path alone, for its benchmark

    Reads a pipeline's postgres source table the way a run of zetl's
    PostgreSQL source does (zetl_pg_extract: one snapshot, a server-side
    cursor, pages of page_size rows, the next asked for while one is packed)
    and packs every row into a record, its partition and event time taken
    from the page, as the source does, without the rest of the cluster. Prints one line: rows, seconds, rows/s.

    Usage: zetl-bench-extract CONFIG PIPELINE (the source's conninfo, else
    ZETL_POSTGRES).
*/
#include "zetl_config.h"
#include "zetl_extract.h"
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
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &out, msgpack_sbuffer_write);

    int64_t start = zclock_usecs ();
    zetl_pg_extract_t *extract = zetl_pg_extract_open (conn, pipeline, NULL, false, &error);
    uint64_t rows = 0, bad = 0;
    int page;
    while (extract && (page = zetl_pg_extract_fetch (extract, &error)) > 0) {
        out.size = 0;
        for (int row = 0; row < page; row++) {
            zetl_field_value_t values[ZETL_EXTRACT_COUNT];
            uint32_t partition;
            int64_t event_us;
            const char *reason, *field;
            zetl_pg_extract_values (extract, row, values);
            if (zetl_extract_record (pipeline, values, &partition, &event_us, &reason, &field))
                bad++;
            zetl_pg_extract_pack (extract, row, &packer, NULL, NULL, NULL);
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
    PQfinish (conn);
    zetl_config_destroy (&config);
    return rc;
}
