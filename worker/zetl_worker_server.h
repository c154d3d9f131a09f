/*  zetl_worker_server - the worker process's loop, as an actor

    Stateless: keeps a session with the coordinator (zetl_session), grants
    credit for batches, turns each BATCH into a RESULT (zetl_process) and
    sends it straight to the sink the batch names, over one DEALER per sink
    with ZMQ_IMMEDIATE, so a send never blocks the loop. A result a sink
    cannot take yet is retried for a few seconds and then handed back to the
    coordinator (ERROR code RETRY), which dispatches it again.
*/
#ifndef ZETL_WORKER_SERVER_H_INCLUDED
#define ZETL_WORKER_SERVER_H_INCLUDED

#include <czmq.h>

#define ZETL_WORKER_CREDIT 2  //  batches a worker holds at once

typedef struct {
    const char *coordinator;  //  coordinator's worker endpoint
    const char *name;         //  this worker's name
} zetl_worker_server_args_t;

//  The actor; ARGS is a zetl_worker_server_args_t (borrowed for its life).
void zetl_worker_server_actor (zsock_t *pipe, void *args);

#endif
