/*  zetl_source_pg - a pipeline's PostgreSQL table source, as an actor  */
#include "zetl_source_pg.h"

void
zetl_source_pg_actor (zsock_t *pipe, void *args)
{
    zetl_source_args_t *source_args = (zetl_source_args_t *) args;
    zetl_feed_t feed;
    zetl_feed_init (&feed, pipe, source_args->config, source_args->pipeline, 0);
    zhashx_destroy (&source_args->committed);
    zsock_signal (pipe, 0);
    zetl_log_error ("source", "source_unsupported",
                    json_pack ("{s:s}", "pipeline", feed.pipeline->id));
    zetl_feed_finish (&feed);
    zetl_feed_fini (&feed);
}
