/*  zetl_luts - the coordinator's view of the lookup tables in Redis, as an actor

    Pipelines that enrich pin each batch to the lookup-table versions
    current when it is first dispatched (DESIGN §7). This actor keeps the
    dispatcher told of those versions, and keeps the versions that
    uncommitted batches use in Redis:

      -> "VERSION" table version   the table's current version: once read
                                   at start (and after each reconnection),
                                   and on each switch zetlctl lut load
                                   publishes (channel zetl:lut:switch)
      <- "PINS" table version …    the versions batches use now: each gets
                                   a pin key for ZETL_LUTS_PIN_TTL_MS; a
                                   version no longer named loses its pin,
                                   and older unpinned versions are removed

    Redis unreachable: it reconnects every second and logs once per
    outage; the dispatcher keeps the versions it knew. Args: the
    configuration (borrowed: must outlive the actor).
*/
#ifndef ZETL_LUTS_H_INCLUDED
#define ZETL_LUTS_H_INCLUDED

#include "zetl_config.h"

#include <czmq.h>

#define ZETL_LUTS_PIN_TTL_MS 60000  //  a pin lasts this long unless renewed

//  The actor (zactor_new (zetl_luts_actor, config)).
void zetl_luts_actor (zsock_t *pipe, void *args);

//  The distinct lookup tables CONFIG's pipelines enrich from, in the order
//  they first appear (a new list of strings). Caller owns the result.
zlist_t *zetl_luts_tables (const zetl_config_t *config);

#endif
