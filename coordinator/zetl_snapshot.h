/*  zetl_snapshot - the coordinator's latest status, shared between two threads

    A holder of one JSON object (jansson), guarded by a mutex: the
    dispatcher builds a fresh status once a second (zetl_dispatch_status)
    and publishes it here; the HTTP server (zetl_http) reads it to answer
    /readyz, /metrics and /api/v1/…. A published status is never changed
    again, so a reader holds its own reference and reads it without a lock
    while the dispatcher goes on. Created by main () before both threads
    and destroyed after both have stopped.
*/
#ifndef ZETL_SNAPSHOT_H_INCLUDED
#define ZETL_SNAPSHOT_H_INCLUDED

#include <jansson.h>

typedef struct zetl_snapshot zetl_snapshot_t;

//  An empty holder. Caller owns the result.
zetl_snapshot_t *zetl_snapshot_new (void);

//  Destroy the holder and the status it holds, and set *self_p to NULL.
//  Does nothing if *self_p is NULL. No thread may use it any more.
void zetl_snapshot_destroy (zetl_snapshot_t **self_p);

//  Make *STATUS_P (a JSON object) the latest status. Takes ownership of
//  *STATUS_P and sets it to NULL; the caller must not change it afterwards.
//  The status it replaces is released (readers keep theirs alive).
void zetl_snapshot_publish (zetl_snapshot_t *self, json_t **status_p);

//  The latest status, or NULL if none was published yet. Caller owns the
//  result (json_decref it) and must not change it: it may be shared.
json_t *zetl_snapshot_get (zetl_snapshot_t *self);

#endif
