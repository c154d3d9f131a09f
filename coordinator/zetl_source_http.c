/*  zetl_source_http - a pipeline's HTTP JSON API source, as an actor  */
#include "zetl_source_http.h"
#include "zetl_backoff.h"
#include "zetl_checkpoint.h"
#include "zetl_http_fetch.h"
#include "zetl_http_pages.h"
#include "zetl_pg.h"
#include "zetl_progress.h"

#include <curl/curl.h>
#include <inttypes.h>

#define S_CHECKPOINT "http"  //  the source's name in zetl_checkpoints
#define S_REFRESH_MS 1000    //  how often refresh requests are looked for while idle
#define S_NAME_MAX 512

typedef struct {
    zetl_feed_t feed;
    zetl_source_args_t args;
    const zetl_pipeline_t *pipeline;
    zetl_http_fetch_t *fetch;
    zetl_http_pages_t *pages;
    zetl_progress_t *progress;
    PGconn *conn;               //  zetl's own database: checkpoints and what is committed
    zetl_backoff_t pg_backoff;  //  reconnections
    int64_t pg_retry_at;        //  no reconnection before this (zclock_mono)
    char run_name[S_NAME_MAX];  //  "<pipeline>@http-run-<n>", the source being read
    bool run_open;              //  a run has been started and is not finished
    bool run_read;              //  every poll of the run is handed over
    uint64_t position;          //  the next record's position in the run
    uint64_t run_records;       //  records handed over in the run
    uint64_t run_pages;         //  pages read in the run
    int64_t refresh_at;         //  when refresh requests were last looked for
} s_source_t;

//  ---------------------------------------------------------------------------
//  zetl's database: checkpoints and commits

static bool
s_connected (s_source_t *self)
{
    if (self->conn && PQstatus (self->conn) == CONNECTION_OK)
        return true;
    if (zclock_mono () < self->pg_retry_at)
        return false;
    if (self->conn)
        PQfinish (self->conn);
    char *error = NULL;
    self->conn = zetl_pg_open (self->args.postgres, &error);
    if (self->conn) {
        zetl_backoff_reset (&self->pg_backoff);
        return true;
    }
    self->pg_retry_at = zclock_mono () + zetl_backoff_next (&self->pg_backoff);
    zetl_log_error ("http_source", "pg_unavailable",
                    json_pack ("{s:s, s:s}", "pipeline", self->pipeline->id, "error", error));
    free (error);
    return false;
}

//  Read what the targets have committed of the run (at most every
//  ZETL_PROGRESS_POLL_MS unless NOW) and write the newest state committed in
//  full; once the run is read and committed in full, it ends
static void
s_checkpoint (s_source_t *self, bool now)
{
    if (!self->run_open || !s_connected (self)
        || !zetl_progress_checkpoint (self->progress, self->conn, S_CHECKPOINT, self->run_name,
                                      self->run_read, now))
        return;
    self->run_open = false;
    zetl_log_info ("http_source", "run_finished",
                   json_pack ("{s:s, s:s, s:I, s:I}", "pipeline", self->pipeline->id, "source",
                              self->run_name, "records", (json_int_t) self->run_records, "pages",
                              (json_int_t) self->run_pages));
}

//  ---------------------------------------------------------------------------
//  The pipe

//  Wait up to MS, serving the pipe and writing checkpoints. Returns false
//  when the actor must stop.
static bool
s_wait (void *arg, int64_t ms)
{
    s_source_t *self = (s_source_t *) arg;
    int64_t until = zclock_mono () + ms;
    while (!self->feed.terminated) {
        s_checkpoint (self, false);
        int64_t left = until - zclock_mono ();
        if (left <= 0)
            break;
        zetl_feed_idle (&self->feed, left < ZETL_PROGRESS_POLL_MS ? left : ZETL_PROGRESS_POLL_MS);
    }
    return !self->feed.terminated;
}

//  During a transfer: serve the pipe and write checkpoints; true to stop
static bool
s_stop (void *arg)
{
    s_source_t *self = (s_source_t *) arg;
    zetl_feed_poll_pipe (&self->feed);
    s_checkpoint (self, false);
    return self->feed.terminated;
}

static const char *
s_accept (void *arg, const zetl_http_response_t *response)
{
    s_source_t *self = (s_source_t *) arg;
    return zetl_http_pages_read (self->pages, response->body, response->len, response->url,
                                 response->link_next);
}

//  Wait until zetl's database answers. Returns false when the actor must stop.
static bool
s_wait_connected (s_source_t *self)
{
    while (!s_connected (self))
        if (!s_wait (self, self->pg_retry_at - zclock_mono ()))
            return false;
    return true;
}

//  ---------------------------------------------------------------------------
//  Runs

//  Where to resume from zetl_checkpoints. Returns false when the actor must stop.
static bool
s_restore (s_source_t *self)
{
    char *state = NULL;
    while (true) {
        if (!s_wait_connected (self))
            return false;
        if (zetl_checkpoint_read (self->conn, self->pipeline->id, S_CHECKPOINT, &state) == 0)
            break;
        if (!s_wait (self, zetl_backoff_next (&self->pg_backoff)))  //  Logged; try again
            return false;
    }
    if (zetl_http_pages_restore (self->pages, state) != 0)
        zetl_log_warn ("http_source", "checkpoint_ignored",
                       json_pack ("{s:s, s:s, s:s}", "pipeline", self->pipeline->id, "state", state,
                                  "hint",
                                  "the checkpoint does not fit source.pagination (was it "
                                  "changed?); reading from the first page"));
    free (state);
    return true;
}

//  Start a new run: its number, its name, and (the first time) the rows of
//  the run a crash abandoned gone. Returns false when the actor must stop.
static bool
s_start_run (s_source_t *self, bool first)
{
    int64_t run = 0;
    while (true) {
        if (!s_wait_connected (self))
            return false;
        if (zetl_checkpoint_next_run (self->conn, self->pipeline->id, S_CHECKPOINT, &run) == 0)
            break;
        if (!s_wait (self, zetl_backoff_next (&self->pg_backoff)))  //  Logged; try again
            return false;
    }
    char *state = zetl_http_pages_state (self->pages);
    if (first) {
        //  Runs an earlier coordinator left unfinished are never read again
        char prefix[S_NAME_MAX];
        snprintf (prefix, sizeof prefix, "%s@http-run-", self->pipeline->id);
        zetl_checkpoint_forget_runs (self->conn, self->pipeline->id, prefix);
    }
    snprintf (self->run_name, sizeof self->run_name, "%s@http-run-%" PRId64, self->pipeline->id,
              run);
    zetl_feed_begin (&self->feed, self->run_name, NULL);
    zetl_progress_begin (self->progress, state);
    self->run_open = true;
    self->position = self->run_records = self->run_pages = 0;
    zetl_log_info ("http_source", "run_started",
                   json_pack ("{s:s, s:s, s:s}", "pipeline", self->pipeline->id, "source",
                              self->run_name, "from", state));
    free (state);
    return true;
}

//  One page: its records into the feed, then the mark of where it leaves
//  us. Returns -1 when the actor must stop, else 1 after the last page.
static int
s_read_page (s_source_t *self)
{
    zetl_http_hooks_t hooks = {s_wait, s_stop, s_accept, self};
    const zetl_http_response_t *response = NULL;
    char *url = zetl_http_pages_url (self->pages);
    int rc = zetl_http_fetch_page (self->fetch, url, &hooks, &response);
    free (url);
    if (rc != 0)
        return -1;
    size_t count = zetl_http_pages_count (self->pages);
    for (size_t index = 0; index < count && !self->feed.terminated; index++) {
        size_t len;
        const char *record = zetl_http_pages_record (self->pages, index, &len);
        zetl_feed_jsonl_row (&self->feed, record, len, self->position++);
    }
    zetl_feed_send_chunk (&self->feed);
    if (self->feed.terminated)
        return -1;  //  Not marked: what was read of the page is not handed over
    self->run_records += count;
    self->run_pages++;
    bool last = zetl_http_pages_advance (self->pages);
    char *state = zetl_http_pages_state (self->pages);
    zetl_progress_mark (self->progress, self->feed.sent, state);
    free (state);
    s_checkpoint (self, false);
    return last ? 1 : 0;
}

//  One poll: pages until the last. Returns false when the actor must stop.
static bool
s_poll (s_source_t *self)
{
    self->run_read = false;
    int rc;
    while ((rc = s_read_page (self)) == 0)
        ;
    if (rc < 0)
        return false;
    self->run_read = true;
    zetl_feed_caught_up (&self->feed);
    return !self->feed.terminated;
}

//  After a poll: wait until the run is committed and its last state
//  written, up to MAX_MS (-1: no limit). Returns false when the actor must stop.
static bool
s_wait_committed (s_source_t *self, int64_t max_ms)
{
    int64_t until = zclock_mono () + max_ms;
    s_checkpoint (self, true);
    while (self->run_open && (max_ms < 0 || zclock_mono () < until))
        if (!s_wait (self, ZETL_PROGRESS_POLL_MS))
            return false;
    return true;
}

//  Idle until the schedule's next poll, or a refresh request. Returns
//  false when the actor must stop.
static bool
s_idle (s_source_t *self, int64_t since)
{
    int64_t until = zclock_mono () + zetl_source_wait_ms (&self->pipeline->source, since);
    while (zclock_mono () < until) {
        int64_t left = until - zclock_mono ();
        if (!s_wait (self, left < S_REFRESH_MS ? left : S_REFRESH_MS))
            return false;
        bool requested = false, force = false;
        if (s_connected (self) &&
            zetl_checkpoint_take_refresh (self->conn, self->pipeline->id, &requested, &force) ==
                0 &&
            requested) {
            zetl_log_info (
                "http_source", "refresh_requested",
                json_pack ("{s:s, s:b}", "pipeline", self->pipeline->id, "force", force));
            if (force)
                zetl_http_pages_rewind (self->pages);
            break;
        }
    }
    return true;
}

//  ---------------------------------------------------------------------------
//  The actor

static void
s_run (s_source_t *self)
{
    if (!s_restore (self))
        return;
    bool first = true;
    while (!self->feed.terminated) {
        if (!self->run_open && !s_start_run (self, first))
            return;
        first = false;
        if (!s_poll (self))
            return;
        int64_t read_at = zclock_mono ();
        bool ordered = self->pipeline->ordered;
        int64_t wait_ms = !ordered         ? -1
                          : self->args.once ? 0
                                            : zetl_source_wait_ms (&self->pipeline->source, read_at);
        if (!s_wait_committed (self, wait_ms))
            return;
        if (self->args.once || !s_idle (self, read_at))
            return;
    }
}

void
zetl_source_http_actor (zsock_t *pipe, void *args)
{
    s_source_t *self = (s_source_t *) zmalloc (sizeof (s_source_t));
    self->args = *(zetl_source_args_t *) args;
    zhashx_destroy (&((zetl_source_args_t *) args)->committed);
    self->args.committed = NULL;
    zetl_feed_init (&self->feed, pipe, self->args.config, self->args.pipeline, 0);
    self->pipeline = self->feed.pipeline;
    zetl_backoff_init (&self->pg_backoff, 100, 5000);
    zsock_signal (pipe, 0);

    char *error = NULL;
    self->fetch = zetl_http_fetch_new (&self->pipeline->source, self->pipeline->id, &error);
    if (self->fetch) {
        self->pages = zetl_http_pages_new (&self->pipeline->source);
        self->progress = zetl_progress_new (self->pipeline);
        s_run (self);
        s_checkpoint (self, true);  //  What is committed by now, before going
    }
    else
        zetl_log_error ("http_source", "source_misconfigured",
                        json_pack ("{s:s, s:s, s:s}", "pipeline", self->pipeline->id, "error",
                                   error, "hint", "the source reads nothing until restarted"));
    free (error);

    zetl_feed_finish (&self->feed);
    zetl_http_fetch_destroy (&self->fetch);
    zetl_http_pages_destroy (&self->pages);
    zetl_progress_destroy (&self->progress);
    zetl_feed_fini (&self->feed);
    if (self->conn)
        PQfinish (self->conn);
    free (self);
}
