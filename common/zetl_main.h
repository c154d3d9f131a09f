/*  zetl_main - what the main () of every zetl process shares

    Logging and czmq set up, the standard options (--help, --version), a
    default peer name, and running the process's server actor until it
    finishes or SIGINT/SIGTERM arrives. A server actor reports on its pipe
    "READY" + detail once started, "FAILED" + reason if it cannot start, and
    "DONE" + exit code if it finishes on its own.
*/
#ifndef ZETL_MAIN_H_INCLUDED
#define ZETL_MAIN_H_INCLUDED

#include "zetl_curve.h"

#include <czmq.h>
#include <stdio.h>

//  Start logging as PROC (borrowed: a string literal) and czmq, whose signal
//  handler turns SIGINT/SIGTERM into zsys_interrupted; ignore SIGPIPE.
void zetl_main_init (const char *proc);

//  Handle getopt_long's OPTION if it is a standard one: 'h' (--help: USAGE
//  to stdout), 'V' (--version) or '?' (a bad option: USAGE to stderr).
//  Returns the exit code to leave with, or -1 for an option of the caller's.
int zetl_main_option (int option, const char *proc, void (*usage) (FILE *out));

//  Write "ROLE-<pid>" into NAME (SIZE bytes): the default name of a peer.
void zetl_main_default_name (const char *role, char *name, size_t size);

//  Turn CURVE on as ARGS and the environment say (zetl_curve_setup); on a
//  bad key, print why for PROC and return 2, else 0. The caller calls
//  zetl_curve_teardown () before it exits.
int zetl_main_curve (zetl_curve_args_t *args, const char *proc);

//  Wait on *ACTOR_P until it reports DONE or FAILED, or a signal arrives;
//  then destroy it. Returns the exit code: DONE's code, 1 on FAILED, 0 on a
//  signal.
int zetl_main_run (zactor_t **actor_p);

#endif
