/*  zetl_source_http - a pipeline's HTTP JSON API source, as an actor

    Not written yet: the actor logs that HTTP sources are not supported and
    sends "EOF" at once.
*/
#ifndef ZETL_SOURCE_HTTP_H_INCLUDED
#define ZETL_SOURCE_HTTP_H_INCLUDED

#include "zetl_feed.h"

//  ARGS is a zetl_source_args_t
void zetl_source_http_actor (zsock_t *pipe, void *args);

#endif
