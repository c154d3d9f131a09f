/*  zetl_localpg - a throwaway PostgreSQL server in a directory of its own

    zetlctl up starts one under ./run/ when the configuration names no
    PostgreSQL, and tests start one in a temporary directory. It runs initdb
    (once: DIR/data is kept between starts) and pg_ctl from the newest
    /usr/lib/postgresql/<version>/bin (else from PATH), listens on a unix
    socket in DIR only (no TCP), trusts local connections, and holds a
    database called zetl. PostgreSQL refuses to run as root: when the caller
    is root, the server programs run as the system user postgres (runuser),
    DIR is handed to that user, and clients connect as user postgres.

    Child programs run with fork/exec, their output appended to
    DIR/localpg.log; the server itself logs to DIR/postgres.log. Starting and
    stopping block until the server is up or down (at most about a minute).
    They wait for their own child processes by pid: a caller that reaps every
    child from a SIGCHLD handler must not run them meanwhile.
*/
#ifndef ZETL_LOCALPG_H_INCLUDED
#define ZETL_LOCALPG_H_INCLUDED

#include <stdbool.h>

typedef struct zetl_localpg zetl_localpg_t;

typedef struct {
    bool fast;  //  tests only: synchronous_commit=off and initdb --no-sync (a crash of the
                //  machine may lose the last commits; fsync stays on)
    int port;   //  the port in the socket's name, 1..65535; 0 means 5432. No TCP port is
                //  opened: the socket lives in DIR, so any number is free
} zetl_localpg_options_t;

//  Start a server in DIR (created if missing) with default options: durable
//  commits, socket DIR/.s.PGSQL.5432. Returns the running server, or NULL
//  with *ERROR set to a message that says what failed, where, and what to do
//  (caller owns *ERROR, free it). Caller owns the result: stop it with
//  zetl_localpg_stop.
zetl_localpg_t *zetl_localpg_start (const char *dir, char **error);

//  Same as zetl_localpg_start, with OPTIONS (NULL for the defaults).
zetl_localpg_t *zetl_localpg_start_with (const char *dir, const zetl_localpg_options_t *options,
                                         char **error);

//  Return the libpq connection string, "host=DIR port=N dbname=zetl user=U"
//  (DIR absolute). Borrowed: valid until the server is stopped.
const char *zetl_localpg_conninfo (zetl_localpg_t *self);

//  Return the absolute socket directory (the DIR given to start). Borrowed,
//  as above.
const char *zetl_localpg_dir (zetl_localpg_t *self);

//  Return the port number in the socket's name.
int zetl_localpg_port (zetl_localpg_t *self);

//  Return the database user clients connect as. Borrowed, as above.
const char *zetl_localpg_user (zetl_localpg_t *self);

//  Stop the server (pg_ctl stop -m fast: open sessions are cut, committed
//  data stays in DIR/data for the next start), free it and set *SELF_P to
//  NULL. Does nothing if *SELF_P is NULL. A failure to stop is logged.
void zetl_localpg_stop (zetl_localpg_t **self_p);

//  Return the directory holding the newest installed PostgreSQL server
//  programs (initdb, pg_ctl, postgres), or NULL if there are none. Caller
//  owns the result.
char *zetl_localpg_bindir (void);

#endif
