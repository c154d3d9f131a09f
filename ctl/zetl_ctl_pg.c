/*  zetl_ctl_pg - zetl's database for the commands that use it (zetl_ctl.h)  */
#include "zetl_ctl.h"
#include "zetl_pg.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

//  Connect to the local server `zetlctl up` keeps under RUN_DIR/pg: the
//  running one, or one started now (then *LOCALPG holds it, to stop after)
static PGconn *
s_connect_local (const char *run_dir, zetl_localpg_t **localpg, char **error)
{
    char *pg_dir = zsys_sprintf ("%s/pg", run_dir);
    char *path = realpath (pg_dir, NULL);
    PGconn *conn = NULL;
    if (path) {
        char *conninfo = zsys_sprintf ("host='%s' port=5432 dbname=zetl user=%s connect_timeout=5",
                                       path, geteuid () == 0 ? "postgres" : getenv ("USER"));
        conn = PQconnectdb (conninfo);
        if (PQstatus (conn) != CONNECTION_OK) {
            PQfinish (conn);
            conn = NULL;
        }
        free (conninfo);
        free (path);
    }
    if (conn && zetl_pg_ensure_meta (conn) != 0) {
        *error = strdup ("cannot create zetl's tables in the local PostgreSQL");
        PQfinish (conn);
        conn = NULL;
    }
    else if (!conn && (*localpg = zetl_localpg_start (pg_dir, error)))
        conn = zetl_pg_open (zetl_localpg_conninfo (*localpg), error);
    free (pg_dir);
    return conn;
}

PGconn *
zetl_ctl_pg_open (const zetl_config_t *config, const char *run_dir, zetl_localpg_t **localpg,
                  char **error)
{
    *localpg = NULL;
    return config->postgres && *config->postgres ? zetl_pg_open (config->postgres, error)
                                                 : s_connect_local (run_dir, localpg, error);
}

int
zetl_ctl_pipeline_run (const char *command, const char *config_path, const char *pipeline_id,
                       const char *run_dir, bool (*accept) (const zetl_pipeline_t *),
                       const char *kind, zetl_ctl_pipeline_fn *run, void *arg)
{
    char *error = NULL;
    zetl_config_t *config = zetl_config_load (config_path, &error);
    if (!config) {
        fprintf (stderr, "%s\n", error);
        free (error);
        return 2;
    }
    const zetl_pipeline_t *pipeline = zetl_config_pipeline (config, pipeline_id);
    if (!pipeline || (accept && !accept (pipeline))) {
        fprintf (stderr, "zetlctl %s: %s names no pipeline '%s'%s%s\n", command, config_path,
                 pipeline_id, *kind ? " " : "", kind);
        zetl_config_destroy (&config);
        return 2;
    }
    zetl_localpg_t *localpg = NULL;
    PGconn *conn = zetl_ctl_pg_open (config, run_dir, &localpg, &error);
    int rc = 1;
    if (conn)
        rc = run (conn, pipeline, arg);
    else
        fprintf (stderr, "zetlctl %s: %s\n", command, error ? error : "no PostgreSQL");
    free (error);
    if (conn)
        PQfinish (conn);
    zetl_localpg_stop (&localpg);
    zetl_config_destroy (&config);
    return rc;
}
