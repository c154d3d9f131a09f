/*  zetl_source_pg - a pipeline's PostgreSQL table source, as an actor

    Not written yet: the actor logs that PostgreSQL sources are not supported and
    sends "EOF" at once.
*/
#ifndef ZETL_SOURCE_PG_H_INCLUDED
#define ZETL_SOURCE_PG_H_INCLUDED

#include "zetl_feed.h"

//  ARGS is a zetl_source_args_t
void zetl_source_pg_actor (zsock_t *pipe, void *args);

#endif
