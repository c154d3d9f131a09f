/*  zetl_source_reprocess - a pipeline's reprocess requests, as a source actor

    Sends back through the pipeline the dead letters that reprocess requests
    (zetl_reprocess, `zetlctl reprocess`) cover. Each request is a source of
    its own, "reprocess@<id>", whose positions are its items' numbers; its
    records carry ZETL_ENTRY_REPROCESS, so they pass the lateness check and
    do not move the watermark. A record's raw text is read again as a JSONL
    row: one that still cannot be read becomes a dead letter again, under
    the new source name.

    At start, and then every second unless `once`, it looks for unfinished
    requests of its pipeline in PostgreSQL and reads each it has not read in
    this run, skipping the items every target has committed (a restarted
    coordinator goes on where the last one stopped). With `once` it sends
    "EOF" after one look. PostgreSQL is read here, never in the dispatcher's
    loop; while it is unreachable the actor retries with backoff.

    The pipe speaks zetl_feed's protocol: CHUNK / MORE / STOP / STOPPED / EOF.
*/
#ifndef ZETL_SOURCE_REPROCESS_H_INCLUDED
#define ZETL_SOURCE_REPROCESS_H_INCLUDED

#include "zetl_feed.h"

//  ARGS is a zetl_source_args_t (its committed is not used)
void zetl_source_reprocess_actor (zsock_t *pipe, void *args);

#endif
