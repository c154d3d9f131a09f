/*  zetl_ctl - the subcommands of zetlctl, the operator CLI

    ctl/main.c reads the command name and hands the rest of the command line
    to one of these functions: ARGV[0] is the command's name ("gen"), the
    options follow. Each parses its own options, prints its own --help, and
    returns the process exit code: 0 success, 1 failure, 2 bad usage.
    One file per subcommand, ctl/zetl_ctl_<name>.c.
*/
#ifndef ZETL_CTL_H_INCLUDED
#define ZETL_CTL_H_INCLUDED

#include "zetl_config.h"
#include "zetl_localpg.h"
#include <libpq-fe.h>

//  zetlctl gen bookings …: write a synthetic HOTELCRM bookings stream with a
//  known amount of disorder, lateness, duplicates and versions (JSONL or CSV).
int zetl_ctl_gen (int argc, char **argv);

//  zetlctl up --config FILE …: run a whole zetl cluster on this host as
//  supervised child processes (coordinator, workers, sinks, and throwaway
//  PostgreSQL/Redis when the configuration names none).
int zetl_ctl_up (int argc, char **argv);
//  zetlctl keys new NAME [--dir DIR]: a CURVE key pair (DIR/NAME, DIR/NAME_secret).
int zetl_ctl_keys (int argc, char **argv);
//  zetlctl status: stats from the coordinator's event socket.
int zetl_ctl_status (int argc, char **argv);
//  The event socket of CONFIG as this host reaches it, for COMMAND; NULL
//  after a message when cluster.events is off. Caller frees the result.
char *zetl_ctl_events_endpoint (const zetl_config_t *config, const char *command);
//  zetlctl top --config FILE: a live view of the cluster from the event
//  socket, redrawn every interval (plain text frames with --plain).
int zetl_ctl_top (int argc, char **argv);
//  zetlctl reprocess: send a pipeline's dead letters (by reason) back through it.
int zetl_ctl_reprocess (int argc, char **argv);
//  zetlctl refresh PIPELINE [--force]: ask a PostgreSQL or HTTP source to read now.
int zetl_ctl_refresh (int argc, char **argv);
//  zetlctl produce FILE…: send JSON lines to a pipeline as a producer, wait
//  until the coordinator has ACKed them all, print a one-line JSON summary.
int zetl_ctl_produce (int argc, char **argv);
//  zetlctl lut load FILE.csv --table T --key COL | lut list: lookup tables in
//  Redis, loaded as new versions and switched atomically.
int zetl_ctl_lut (int argc, char **argv);

//  Open zetl's database for commands that read or write zetl's tables: the
//  configuration's postgres (or ZETL_POSTGRES), else the local server
//  `zetlctl up` keeps under RUN_DIR/pg, started for the moment if it is not
//  running (then *LOCALPG holds it; stop it with zetl_localpg_stop). Returns
//  NULL with *ERROR set (caller frees) when neither is reachable.
PGconn *zetl_ctl_pg_open (const zetl_config_t *config, const char *run_dir,
                          zetl_localpg_t **localpg, char **error);

//  What a command does with a pipeline once zetl's database is open: returns
//  the exit code. ARG is the command's own.
typedef int (zetl_ctl_pipeline_fn) (PGconn *conn, const zetl_pipeline_t *pipeline, void *arg);

//  The body every command acting on one pipeline shares: load CONFIG_PATH,
//  find pipeline PIPELINE_ID (ACCEPT, when not NULL, says whether this
//  command applies to it; KIND names what it needs in the message, e.g.
//  "with a postgres source", or ""), open zetl's database (zetl_ctl_pg_open
//  with RUN_DIR), RUN, and clean up. Messages start with "zetlctl COMMAND:".
//  Returns RUN's exit code, 2 for a bad configuration or pipeline, 1 when
//  the database is unreachable.
int zetl_ctl_pipeline_run (const char *command, const char *config_path, const char *pipeline_id,
                           const char *run_dir, bool (*accept) (const zetl_pipeline_t *),
                           const char *kind, zetl_ctl_pipeline_fn *run, void *arg);

#endif
