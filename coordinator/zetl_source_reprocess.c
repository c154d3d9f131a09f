/*  zetl_source_reprocess - a pipeline's reprocess requests, as a source actor  */
#include "zetl_source_reprocess.h"
#include "zetl_backoff.h"
#include "zetl_feed.h"
#include "zetl_pg.h"
#include "zetl_proto.h"
#include "zetl_reprocess.h"

#include <inttypes.h>

#define S_LOOK_MS 1000         //  between looks for new requests
#define S_PAGE 10000           //  items read per query
#define S_MAX_REQUESTS 1024    //  unfinished requests taken per look
#define S_MAX_READ 65536       //  requests remembered as read in this run

typedef struct {
    zetl_feed_t feed;
    zetl_source_args_t args;
    PGconn *conn;
    zetl_backoff_t backoff;
    char name[48];             //  the request being read: "reprocess@<id>"
    int64_t read[S_MAX_READ];  //  requests read in this run
    size_t read_count;
} s_source_t;

static bool
s_connected (s_source_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return true;
    if (self->conn)
        PQfinish (self->conn);
    char *error = NULL;
    self->conn = zetl_pg_open (self->args.postgres, &error);
    if (self->conn) {
        zetl_backoff_reset (&self->backoff);
        return true;
    }
    zetl_log_error ("reprocess", "pg_unavailable",
                    json_pack ("{s:s, s:s}", "pipeline", self->feed.pipeline->id, "error", error));
    free (error);
    return false;
}

static bool
s_was_read (s_source_t *self, int64_t request)
{
    for (size_t index = 0; index < self->read_count; index++)
        if (self->read[index] == request)
            return true;
    return false;
}

//  Read every item of REQUEST not yet committed everywhere into the feed.
//  Returns 0, or -1 if PostgreSQL failed (the request is read again later).
static int
s_read_request (s_source_t *self, int64_t request)
{
    const zetl_pipeline_t *pipeline = self->feed.pipeline;
    const char *targets[64];
    size_t target_count = 0;
    for (size_t index = 0; index < pipeline->target_count && index < 64; index++)
        targets[target_count++] = pipeline->targets[index].name;
    zhashx_t *committed = zetl_pg_read_positions (self->conn, pipeline->id, targets, target_count);
    if (!committed)
        return -1;
    snprintf (self->name, sizeof self->name, ZETL_REPROCESS_PREFIX "%" PRId64, request);
    zetl_feed_begin (&self->feed, self->name, committed);
    zhashx_destroy (&committed);
    uint64_t before = self->feed.records;
    int64_t after = 0;
    while (!self->feed.terminated) {
        PGresult *res = zetl_reprocess_items (self->conn, request, after, S_PAGE);
        if (!res)
            return -1;
        int rows = PQntuples (res);
        for (int row = 0; row < rows && !self->feed.terminated; row++) {
            after = atoll (PQgetvalue (res, row, 0));
            zetl_feed_jsonl_row (&self->feed, PQgetvalue (res, row, 1),
                                 (size_t) PQgetlength (res, row, 1), (uint64_t) after);
        }
        PQclear (res);
        zetl_feed_poll_pipe (&self->feed);
        if (rows < S_PAGE)
            break;
    }
    zetl_feed_send_chunk (&self->feed);
    zetl_log_info ("reprocess", "request_read",
                   json_pack ("{s:s, s:s, s:I}", "pipeline", pipeline->id, "source", self->name,
                              "records", (json_int_t) (self->feed.records - before)));
    return 0;
}

//  One look at the requests: read the unfinished ones not read yet.
//  Returns 0, or -1 if PostgreSQL failed.
static int
s_look (s_source_t *self)
{
    int64_t *requests = (int64_t *) malloc (S_MAX_REQUESTS * sizeof (int64_t));
    size_t count = 0;
    int rc = zetl_reprocess_pending (self->conn, self->feed.pipeline->id, requests,
                                     S_MAX_REQUESTS, &count);
    for (size_t index = 0; rc == 0 && index < count && !self->feed.terminated; index++) {
        if (s_was_read (self, requests[index]) || self->read_count == S_MAX_READ)
            continue;
        rc = s_read_request (self, requests[index]);
        if (rc == 0)
            self->read[self->read_count++] = requests[index];
    }
    free (requests);
    return rc;
}

void
zetl_source_reprocess_actor (zsock_t *pipe, void *args)
{
    s_source_t *self = (s_source_t *) zmalloc (sizeof (s_source_t));
    self->args = *(zetl_source_args_t *) args;
    zetl_feed_init (&self->feed, pipe, self->args.config, self->args.pipeline,
                    ZETL_ENTRY_REPROCESS);
    zetl_backoff_init (&self->backoff, 100, 5000);
    zsock_signal (pipe, 0);

    bool looked = false;
    while (!self->feed.terminated && !(self->args.once && looked)) {
        if (!s_connected (self) || s_look (self) != 0) {
            zetl_feed_idle (&self->feed, (int) zetl_backoff_next (&self->backoff));
            continue;
        }
        looked = true;
        if (!self->args.once)
            zetl_feed_idle (&self->feed, S_LOOK_MS);
    }
    zetl_feed_finish (&self->feed);
    zetl_feed_fini (&self->feed);
    if (self->conn)
        PQfinish (self->conn);
    free (self);
}
