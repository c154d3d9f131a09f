/*  zetl_source_pg - a pipeline's PostgreSQL table source, as an actor  */
#include "zetl_source_pg.h"
#include "zetl_backoff.h"
#include "zetl_checkpoint.h"
#include "zetl_pg.h"
#include "zetl_pg_extract.h"
#include "zetl_pg_missing.h"
#include "zetl_progress.h"
#include "zetl_proto.h"

#include <inttypes.h>

#define S_REFRESH_MS 1000   //  between looks for refresh requests while idle

typedef struct {
    zetl_feed_t feed;
    zetl_source_args_t args;
    const zetl_pipeline_t *pipeline;
    PGconn *source;            //  the source database
    PGconn *zetl;              //  zetl's own: checkpoints, offsets, targets
    zetl_progress_t *progress;
    zetl_pg_missing_t *missing;//  delete_missing: keys seen by the run
    zetl_backoff_t backoff;
    char checkpoint[96];       //  "pg:<table>": the watermark's name in zetl_checkpoints
    char run[128];             //  "pg:<table>@run-<n>": the run being read
    uint64_t position;         //  the next row's number in the run
    int64_t started_ms;        //  when the run started
    char *state;               //  the watermark of the last page handed over
    msgpack_sbuffer packed;    //  the row being handed over
} s_source_t;

//  Row ROW of EXTRACT as a record into the feed, with pack's overrides
static void
s_feed_row (s_source_t *self, const zetl_pg_extract_t *extract, int row, const char *time_text,
            const char *flag_field)
{
    zetl_field_value_t values[ZETL_EXTRACT_COUNT];
    uint32_t partition;
    int64_t event_us;
    const char *reason, *field;
    zetl_pg_extract_values (extract, row, values);
    if (!time_text
        && zetl_extract_record (self->pipeline, values, &partition, &event_us, &reason, &field) == 0) {
        //  The usual row: packed straight into the chunk, its fields taken
        //  from the page (one that cannot be read goes the long way, below,
        //  to become a dead letter with its text)
        msgpack_packer packer;
        msgpack_packer_init (&packer, &self->feed.chunk->data, msgpack_sbuffer_write);
        size_t at = self->feed.chunk->data.size;
        zetl_pg_extract_pack (extract, row, &packer, NULL, NULL, flag_field);
        zetl_feed_add_extracted (&self->feed, self->position++, at, values, partition, event_us);
        if (zetl_chunk_full (self->feed.chunk))
            zetl_feed_send_chunk (&self->feed);
        return;
    }
    self->packed.size = 0;
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->packed, msgpack_sbuffer_write);
    zetl_pg_extract_pack (extract, row, &packer, self->pipeline->event_time.field, time_text,
                          flag_field);
    zetl_feed_map_row (&self->feed, self->packed.data, self->packed.size, self->position++);
    if (zetl_chunk_full (self->feed.chunk))
        zetl_feed_send_chunk (&self->feed);
}

static void
s_log_failure (s_source_t *self, const char *event, const char *error, const char *hint)
{
    zetl_log_error ("source", event,
                    json_pack ("{s:s, s:s, s:s?, s:s, s:s}", "pipeline", self->pipeline->id,
                               "table", self->pipeline->source.table, "run",
                               self->run[0] ? self->run : NULL, "error", error, "hint", hint));
}

//  Both connections, opened again when lost
static bool
s_connected (s_source_t *self)
{
    char *error = NULL;
    if (self->zetl && PQstatus (self->zetl) != CONNECTION_OK) {
        PQfinish (self->zetl);
        self->zetl = NULL;
    }
    if (self->source && PQstatus (self->source) != CONNECTION_OK) {
        PQfinish (self->source);
        self->source = NULL;
    }
    if (!self->zetl)
        self->zetl = zetl_pg_open (self->args.postgres, &error);
    const char *conninfo = self->pipeline->source.conninfo;
    if (self->zetl && !self->source)
        self->source = zetl_pg_connect (conninfo ? conninfo : self->args.postgres, &error);
    if (error) {
        s_log_failure (self, "pg_unavailable", error, "zetl retries with backoff");
        free (error);
    }
    return self->zetl && self->source;
}

//  Write the newest watermark that is committed everywhere; once READ_ALL
//  and committed in full, the run is over (true) and its offsets go
static bool
s_checkpoint (s_source_t *self, bool read_all, bool now)
{
    return zetl_progress_checkpoint (self->progress, self->zetl, self->checkpoint, self->run,
                                     read_all, now);
}

//  Hand over one page of the run; returns its rows, or -1
static int
s_read_page (s_source_t *self, zetl_pg_extract_t *extract, char **error)
{
    int rows = zetl_pg_extract_fetch (extract, error);
    for (int row = 0; row < rows && !self->feed.terminated; row++) {
        self->feed.flags = zetl_pg_extract_reread (extract, row) ? ZETL_ENTRY_REPROCESS : 0;
        s_feed_row (self, extract, row, NULL, NULL);
        if (self->pipeline->source.delete_missing)
            zetl_pg_missing_see (self->missing, extract, row);
    }
    if (rows > 0 && !self->feed.terminated) {
        free (self->state);
        self->state = zetl_pg_extract_state (extract, rows - 1);
        zetl_progress_mark (self->progress, self->feed.sent, self->state);
    }
    return rows;
}

//  delete_missing: a delete marker for each live key of the target the run
//  did not see. Returns 0, or -1 with *ERROR set
static int
s_send_tombstones (s_source_t *self, int64_t snapshot_us, char **error)
{
    const zetl_target_t *target = NULL;
    for (size_t index = 0; index < self->pipeline->target_count && !target; index++)
        if (self->pipeline->targets[index].type == ZETL_TARGET_POSTGRES)
            target = &self->pipeline->targets[index];
    if (!target)
        return 0;
    zetl_pg_missing_seal (self->missing);
    zetl_pg_extract_t *live =
        zetl_pg_extract_open_target (self->zetl, self->pipeline, target->table, error);
    if (!live)
        return -1;
    uint64_t tombstones = 0;
    int rows;
    char time_text[64];
    zetl_pg_missing_time_text (self->pipeline, snapshot_us, time_text, sizeof time_text);
    self->feed.flags = ZETL_ENTRY_REPROCESS;
    while (!self->feed.terminated && (rows = zetl_pg_extract_fetch (live, error)) > 0)
        for (int row = 0; row < rows && !self->feed.terminated; row++) {
            if (zetl_pg_missing_seen (self->missing, live, row))
                continue;
            s_feed_row (self, live, row, time_text, self->pipeline->delete_field);
            tombstones++;
        }
    zetl_pg_extract_destroy (&live);
    if (*error)
        return -1;
    if (tombstones && self->state)  //  The run is over once its markers are committed too
        zetl_progress_mark (self->progress, self->feed.sent, self->state);
    zetl_log_info ("source", "keys_missing",
                   json_pack ("{s:s, s:s, s:I, s:I}", "pipeline", self->pipeline->id, "run",
                              self->run, "seen", (json_int_t) zetl_pg_missing_size (self->missing),
                              "tombstones", (json_int_t) tombstones));
    return 0;
}

//  Read the pages of EXTRACT; returns 0 or -1 with *ERROR set
static int
s_read_pages (s_source_t *self, zetl_pg_extract_t *extract, char **error)
{
    const zetl_source_t *source = &self->pipeline->source;
    while (!self->feed.terminated) {
        int rows = s_read_page (self, extract, error);
        if (rows <= 0)
            return rows;
        zetl_feed_poll_pipe (&self->feed);
        s_checkpoint (self, false, false);
        if (zclock_mono () - self->started_ms > source->stale_after_ms) {
            *error = zsys_sprintf ("the run has read for longer than stale_after (%" PRId64
                                   " ms); it is abandoned and started again",
                                   source->stale_after_ms);
            return -1;
        }
    }
    return 0;
}

//  Start a run: its number, its name, the watermark it starts from
static int
s_begin_run (s_source_t *self, char **state)
{
    int64_t run = 0;
    if (zetl_checkpoint_read (self->zetl, self->pipeline->id, self->checkpoint, state)
        || zetl_checkpoint_next_run (self->zetl, self->pipeline->id, self->checkpoint, &run))
        return -1;
    snprintf (self->run, sizeof self->run, "%s@run-%" PRId64, self->checkpoint, run);
    zetl_feed_begin (&self->feed, self->run, NULL);
    zetl_progress_begin (self->progress, *state);
    zetl_pg_missing_reset (self->missing);
    free (self->state);
    self->state = *state ? strdup (*state) : NULL;
    self->position = 0;
    self->started_ms = zclock_mono ();
    return 0;
}

//  One run, FORCE: the whole table. Returns 0, or -1 if it failed (the
//  watermark stays where it was)
static int
s_run (s_source_t *self, bool force)
{
    char *state = NULL, *error = NULL;
    if (s_begin_run (self, &state)) {
        free (state);
        return -1;
    }
    uint64_t before = self->feed.records;
    zetl_pg_extract_t *extract = zetl_pg_extract_open (self->source, self->pipeline, state, force,
                                                       &error);
    free (state);
    int64_t snapshot_us = extract ? zetl_pg_extract_snapshot_us (extract) : 0;
    int rc = extract ? s_read_pages (self, extract, &error) : -1;
    zetl_pg_extract_destroy (&extract);
    if (rc == 0 && self->pipeline->source.delete_missing && !self->feed.terminated)
        rc = s_send_tombstones (self, snapshot_us, &error);
    if (rc != 0) {
        s_log_failure (self, "extraction_failed", error ? error : "unknown error",
                       "the extraction watermark stays where it was; zetl tries again");
        free (error);
        zetl_progress_clear (self->progress);
        return -1;
    }
    zetl_feed_caught_up (&self->feed);
    //  Wait until the run is committed everywhere, then write where it ended
    while (!self->feed.terminated && !s_checkpoint (self, true, true))
        zetl_feed_idle (&self->feed, ZETL_PROGRESS_POLL_MS);
    zetl_log_info ("source", "extraction_done",
                   json_pack ("{s:s, s:s, s:I, s:b, s:I}", "pipeline", self->pipeline->id, "run",
                              self->run, "records", (json_int_t) (self->feed.records - before),
                              "forced", force, "ms",
                              (json_int_t) (zclock_mono () - self->started_ms)));
    return 0;
}

//  Until the next scheduled run or a refresh request; sets *FORCE when
//  the request asks for a forced refresh
static void
s_wait_next (s_source_t *self, int64_t due_ms, bool *force)
{
    *force = false;
    while (!self->feed.terminated && zclock_mono () < due_ms) {
        bool requested = false;
        if (zetl_checkpoint_take_refresh (self->zetl, self->pipeline->id, &requested, force) == 0
            && requested)
            return;
        int64_t left = due_ms - zclock_mono ();
        zetl_feed_idle (&self->feed, left < S_REFRESH_MS ? left : S_REFRESH_MS);
    }
}

static void
s_loop (s_source_t *self)
{
    bool force = false, ran = false;
    while (!self->feed.terminated && !(self->args.once && ran)) {
        if (!s_connected (self)) {
            zetl_feed_idle (&self->feed, zetl_backoff_next (&self->backoff));
            continue;
        }
        int64_t started = zclock_mono ();
        if (s_run (self, force) != 0) {
            zetl_feed_idle (&self->feed, zetl_backoff_next (&self->backoff));
            continue;
        }
        zetl_backoff_reset (&self->backoff);
        ran = true;
        if (!self->args.once)
            s_wait_next (self, zclock_mono () + zetl_source_wait_ms (&self->pipeline->source, started), &force);
    }
}

void
zetl_source_pg_actor (zsock_t *pipe, void *args)
{
    s_source_t *self = (s_source_t *) zmalloc (sizeof (s_source_t));
    self->args = *(zetl_source_args_t *) args;
    zhashx_destroy (&self->args.committed);  //  Runs are new sources: nothing of them is committed
    self->pipeline = &self->args.config->pipelines[self->args.pipeline];
    zetl_feed_init (&self->feed, pipe, self->args.config, self->args.pipeline, 0);
    snprintf (self->checkpoint, sizeof self->checkpoint, "pg:%s", self->pipeline->source.table);
    self->progress = zetl_progress_new (self->pipeline);
    self->missing = zetl_pg_missing_new ();
    zetl_backoff_init (&self->backoff, 200, 10000);
    msgpack_sbuffer_init (&self->packed);
    zsock_signal (pipe, 0);

    //  Runs an earlier coordinator left unfinished are never read again
    char prefix[128];
    snprintf (prefix, sizeof prefix, "%s@run-", self->checkpoint);
    if (s_connected (self))
        zetl_checkpoint_forget_runs (self->zetl, self->pipeline->id, prefix);
    s_loop (self);

    zetl_feed_finish (&self->feed);
    zetl_pg_missing_destroy (&self->missing);
    zetl_progress_destroy (&self->progress);
    zetl_feed_fini (&self->feed);
    free (self->state);
    msgpack_sbuffer_destroy (&self->packed);
    if (self->source)
        PQfinish (self->source);
    if (self->zetl)
        PQfinish (self->zetl);
    free (self);
}
