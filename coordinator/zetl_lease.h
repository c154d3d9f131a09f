/*  zetl_lease - one coordinator per pipeline: advisory locks and the epoch, as an actor

    A coordinator may run its pipelines only while it holds, for each of
    them, a PostgreSQL session-level advisory lock (the key is the xxh3-64
    of "zetl pipeline " + the pipeline's id). The actor keeps one connection
    for the locks:

      - it tries every lock without waiting; if another coordinator holds
        one, it lets go of those it got (two coordinators with overlapping
        sets never wait on each other), says "STANDBY" once, and tries again
        every second: a hot standby that takes over as soon as the active
        coordinator's session ends (it dies, or its connection does);
      - holding them all, it raises the epoch of its pipelines in
        zetl_coordinators (one epoch: the highest any of them had, plus one)
        and sends "ACQUIRED" + epoch (a decimal string). Batch ids carry the
        epoch, and peers drop messages of an older epoch than their last
        WELCOME's, so a deposed coordinator cannot be mistaken for the
        new one;
      - then it checks the connection every second; if it breaks, the locks
        are gone (PostgreSQL ends the session) and it sends "LOST" once. The
        coordinator must stop at once: another may already run the
        pipelines.

    PostgreSQL being down before the locks are held only delays (retry with
    backoff, logged).

    Commands on the pipe besides $TERM: "WATERMARK" pipeline value, a
    watermark checkpoint (zetl_dispatch_watermark) it writes on the
    connection that holds the locks.
*/
#ifndef ZETL_LEASE_H_INCLUDED
#define ZETL_LEASE_H_INCLUDED

#include "zetl_config.h"
#include <czmq.h>

typedef struct {
    const zetl_config_t *config;  //  borrowed: outlives the actor
    const char *postgres;         //  connection string (borrowed)
} zetl_lease_args_t;

void zetl_lease_actor (zsock_t *pipe, void *args);

#endif
