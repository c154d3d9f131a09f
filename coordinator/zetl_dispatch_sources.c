/*  zetl_dispatch_sources - the dispatcher's sources: their actors, chunks into batches, ordered release

    Part of the dispatcher (zetl_dispatch_internal.h): starting each
    pipeline's file and reprocess source actors with what is committed,
    taking their chunks through admission into the partitions' batches (or
    the reorder buffer of an ordered pipeline), and the chunk credit that
    backpressure holds back.
*/
#include "zetl_dispatch_internal.h"
#include "zetl_pg.h"
#include "zetl_source_file.h"
#include "zetl_source_http.h"
#include "zetl_source_pg.h"
#include "zetl_source_reprocess.h"

void
zetl_dispatch_append (zetl_dispatch_pipeline_t *pipeline, uint32_t partition, const char *source,
                      uint64_t position, int64_t event_us, uint32_t flags, const void *payload,
                      size_t len, void *tag)
{
    zetl_dispatch_track_t *track = &pipeline->tracks[partition];
    if (tag) {
        if (!track->tags) {
            track->tags = zlistx_new ();
            zlistx_set_destructor (track->tags, (zlistx_destructor_fn *) zstr_free);
        }
        zetl_dispatch_tag_t *entry = (zetl_dispatch_tag_t *) zmalloc (sizeof *entry);
        entry->index = track->appended;
        entry->batch = tag;
        zlistx_add_end (track->tags, entry);
    }
    track->appended++;
    if (pipeline->partitions[partition].building == 0)
        pipeline->partitions[partition].first_wm_us = zetl_admit_watermark (pipeline->admit);
    zetl_batches_append (pipeline->batches, &pipeline->partitions[partition], source, position,
                         event_us, flags, payload, len, pipeline->now_ms);
}

//  What zetl_admit_chunk's callback needs
typedef struct {
    zetl_dispatch_pipeline_t *pipeline;
    void *tag;
} s_take_t;

//  Each admitted record into its partition's batch, or the reorder buffer
static void
s_take_admitted (void *arg, const zetl_chunk_t *chunk, const zetl_chunk_record_t *record,
                 uint32_t flags, const void *payload, size_t len)
{
    s_take_t *take = (s_take_t *) arg;
    if (take->pipeline->ordered)
        zetl_ordered_take (take->pipeline->ordered, chunk->source, record->partition,
                           record->position, record->event_us, flags, payload, len, take->tag);
    else
        zetl_dispatch_append (take->pipeline, record->partition, chunk->source, record->position,
                              record->event_us, flags, payload, len, take->tag);
}

//  Take the records of CHUNK into their partitions' batches. Records of
//  KIND ZETL_DISPATCH_REPROCESS were counted in when they first came.
void
zetl_dispatch_take_chunk (zetl_dispatcher_t *self, zetl_chunk_t *chunk,
                          zetl_dispatch_source_kind_t kind, void *tag)
{
    zetl_dispatch_pipeline_t *pipeline = &self->pipelines[chunk->pipeline];
    uint32_t source_id =
        kind == ZETL_DISPATCH_PRODUCERS ? pipeline->producer_source : pipeline->source_id;
    s_take_t take = {pipeline, tag};
    pipeline->now_ms = zclock_mono ();
    zetl_admit_chunk (pipeline->admit, source_id, chunk, pipeline->now_ms, s_take_admitted, &take);
    if (pipeline->ordered)
        zetl_ordered_release (pipeline->ordered, zetl_admit_watermark (pipeline->admit), SIZE_MAX);
    if (kind != ZETL_DISPATCH_REPROCESS)
        zetl_reconcile_add_in (self->reconcile, chunk->pipeline, chunk->count);
}

//  Grant sources the chunks backpressure held back. Time a source waits for
//  credit is not idleness: the watermark is told when reading stops and resumes
void
zetl_dispatch_grant_credit (zetl_dispatcher_t *self)
{
    for (size_t index = 0; index < self->pipeline_count; index++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[index];
        for (int kind = 0; kind < ZETL_DISPATCH_SOURCES; kind++) {
            zetl_dispatch_source_t *source = &pipeline->sources[kind];
            while (!self->draining && source->owed > 0
                   && zetl_batches_held (self->batches) < self->held_limit) {
                zstr_send (source->actor, "MORE");
                source->owed--;
            }
        }
        bool reading = pipeline->sources[ZETL_DISPATCH_READER].owed == 0;
        if (pipeline->admit && reading != pipeline->reading) {
            pipeline->reading = reading;
            zetl_admit_reading (pipeline->admit, reading, zclock_mono ());
        }
    }
}


//  An entry the ordered mode lets go, into its partition's open batch
static void
s_ordered_emit (void *arg, uint32_t partition, const char *source, uint64_t position,
                int64_t event_us, uint32_t flags, const void *payload, size_t len, void *tag)
{
    zetl_dispatch_append ((zetl_dispatch_pipeline_t *) arg, partition, source, position, event_us,
                          flags, payload, len, tag);
}

//  Ordered mode: release what the watermark lets go; once every file is
//  read nothing older can come, so the rest leaves in order
void
zetl_dispatch_ordered_release (zetl_dispatch_pipeline_t *pipeline)
{
    if (!pipeline->ordered)
        return;
    bool read = pipeline->sources[ZETL_DISPATCH_READER].drained;
    zetl_ordered_release (pipeline->ordered,
                          read ? INT64_MAX : zetl_admit_watermark (pipeline->admit), SIZE_MAX);
}


//  The actor that reads a pipeline's configured source, or NULL for producers
static zactor_fn *
s_reader_actor (zetl_source_type_t type)
{
    switch (type) {
    case ZETL_SOURCE_FILE:
        return zetl_source_file_actor;
    case ZETL_SOURCE_POSTGRES:
        return zetl_source_pg_actor;
    case ZETL_SOURCE_HTTP:
        return zetl_source_http_actor;
    default:
        return NULL;
    }
}

//  Read what every target has committed and the counters, start the sources
int
zetl_dispatch_start_pipelines (zetl_dispatcher_t *self, PGconn *conn)
{
    const zetl_config_t *config = self->args.config;
    self->pipeline_count = config->pipeline_count;
    self->pipelines = (zetl_dispatch_pipeline_t *) zmalloc (config->pipeline_count * sizeof (zetl_dispatch_pipeline_t) + 1);
    for (size_t p = 0; p < config->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        pipeline->pipeline = &config->pipelines[p];
        pipeline->partitions =
            zetl_batches_add_pipeline (self->batches, p, pipeline->pipeline->partitions,
                                       (uint32_t) pipeline->pipeline->batch_size);
        pipeline->admit = zetl_admit_new (pipeline->pipeline);
        pipeline->batches = self->batches;
        pipeline->tracks = (zetl_dispatch_track_t *) zmalloc (
            pipeline->pipeline->partitions * sizeof (zetl_dispatch_track_t));
        if (pipeline->pipeline->ordered)
            pipeline->ordered = zetl_ordered_new (pipeline->pipeline, s_ordered_emit, pipeline);
        pipeline->source_id = zetl_admit_add_source (pipeline->admit);
        pipeline->reading = true;
        pipeline->published_watermark = INT64_MIN;
        zetl_admit_reading (pipeline->admit, true, zclock_mono ());
        if (zetl_dispatch_watermark_restore (pipeline, conn) != 0)
            return -1;
        const char *targets[64];
        size_t target_count = 0;
        for (size_t index = 0; index < pipeline->pipeline->target_count && index < 64; index++)
            targets[target_count++] = pipeline->pipeline->targets[index].name;
        zhashx_t *committed = zetl_pg_read_positions (conn, pipeline->pipeline->id, targets,
                                                      target_count);
        pipeline->committed_at_start = zetl_pg_read_positions (conn, pipeline->pipeline->id,
                                                                targets, target_count);
        if (!committed || !pipeline->committed_at_start) {
            zhashx_destroy (&committed);
            return -1;
        }
        zetl_dispatch_source_t *reader = &pipeline->sources[ZETL_DISPATCH_READER];
        zactor_fn *reader_fn = s_reader_actor (pipeline->pipeline->source.type);
        zetl_source_args_t source_args = {config, p, committed, self->args.postgres,
                                          self->args.once};
        if (reader_fn) {
            reader->actor = zactor_new (reader_fn, &source_args);
            zpoller_add (self->poller, reader->actor);
        }
        else {  //  Producers: their batches come on the producers socket
            zhashx_destroy (&committed);
            reader->drained = true;
        }
        source_args.committed = NULL;
        zetl_dispatch_source_t *reprocess = &pipeline->sources[ZETL_DISPATCH_REPROCESS];
        reprocess->actor = zactor_new (zetl_source_reprocess_actor, &source_args);
        zpoller_add (self->poller, reprocess->actor);
    }
    return zetl_reconcile_start (self->reconcile, conn);
}


//  The pipeline and kind of source ACTOR; false if it is none of ours
static bool
s_find_source (zetl_dispatcher_t *self, zactor_t *actor, size_t *pipeline, int *kind)
{
    for (size_t p = 0; p < self->pipeline_count; p++)
        for (int k = 0; k < ZETL_DISPATCH_SOURCES; k++)
            if (self->pipelines[p].sources[k].actor == actor) {
                *pipeline = p;
                *kind = k;
                return true;
            }
    return false;
}

void
zetl_dispatch_handle_source (zetl_dispatcher_t *self, zactor_t *actor)
{
    size_t p = 0;
    int kind = 0;
    zmsg_t *msg = zmsg_recv (actor);
    if (!msg || !s_find_source (self, actor, &p, &kind)) {
        zmsg_destroy (&msg);
        return;
    }
    zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
    zetl_dispatch_source_t *source = &pipeline->sources[kind];
    char *command = zmsg_popstr (msg);
    if (command && streq (command, "CHUNK")) {
        void *pointer = NULL;
        zframe_t *frame = zmsg_pop (msg);
        if (frame && zframe_size (frame) == sizeof (void *))
            memcpy (&pointer, zframe_data (frame), sizeof (void *));
        zframe_destroy (&frame);
        zetl_chunk_t *chunk = (zetl_chunk_t *) pointer;
        //  While draining, records read are let go: they were not counted, and
        //  are read again on the next start since nothing committed them
        if (chunk && !self->draining)
            zetl_dispatch_take_chunk (self, chunk, (zetl_dispatch_source_kind_t) kind, NULL);
        zetl_chunk_destroy (&chunk);
        source->owed++;
        zetl_dispatch_grant_credit (self);
    }
    else if (command && streq (command, "CAUGHT_UP") && kind == ZETL_DISPATCH_READER)
        zetl_admit_caught_up (pipeline->admit, pipeline->source_id);
    else if (command && streq (command, "STOPPED")) {
        zpoller_remove (self->poller, actor);
        zactor_destroy (&source->actor);
    }
    else if (command && streq (command, "EOF") && !self->draining) {
        source->drained = true;
        if (kind == ZETL_DISPATCH_READER) {
            zetl_admit_caught_up (pipeline->admit, pipeline->source_id);
            zetl_dispatch_ordered_release (pipeline);
            zetl_log_info ("dispatch", "source_drained",
                           json_pack ("{s:s, s:I}", "pipeline", pipeline->pipeline->id,
                                      "records_in",
                                      (json_int_t) zetl_reconcile_records_in (self->reconcile, p)));
        }
    }
    free (command);
    zmsg_destroy (&msg);
}

