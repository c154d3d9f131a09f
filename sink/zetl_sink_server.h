/*  zetl_sink_server - the sink process's loop, as an actor

    Binds the data endpoint workers send RESULTs to, keeps the session with
    the coordinator (zetl_session), and hands each result batch to a writer
    of every target of its pipeline (its first PostgreSQL target,
    zetl_pg_writer, each files target, zetl_files_writer, and each forward
    target, zetl_forward_writer, which sends the rows to another cluster's
    pipeline and answers once that cluster ACKed them), chosen by
    partition so a partition's batches always go through the same writer of
    each target. Reports COMMIT to the coordinator once every target has
    committed the batch, ERROR when one refused it for its data, and
    nothing when its body turned out malformed (it comes back after its
    deadline). Decoding, database and disk work never block each other:
    writers are actors.
*/
#ifndef ZETL_SINK_SERVER_H_INCLUDED
#define ZETL_SINK_SERVER_H_INCLUDED

#include <czmq.h>

typedef struct {
    const char *coordinator;  //  coordinator's sink endpoint
    const char *name;         //  this sink's name
    const char *bind;         //  data endpoint to bind
    const char *advertise;    //  data endpoint workers connect to, or NULL for the bound one
    const char *postgres;     //  PostgreSQL connection string
} zetl_sink_server_args_t;

//  The actor; ARGS is a zetl_sink_server_args_t (borrowed for the actor's
//  life). Sends "READY" + the bound endpoint once bound, or "FAILED" + reason.
void zetl_sink_server_actor (zsock_t *pipe, void *args);

#endif
