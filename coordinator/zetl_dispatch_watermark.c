/*  zetl_dispatch_watermark - the dispatcher's watermark checkpoints

    A coordinator restarted after a crash reads again every record not
    committed, and must judge its lateness as the first reading did, or at
    least never more harshly: restoring the watermark it had at the crash
    would turn records that were on time then into too late ones. So the
    value checkpointed is the watermark in force when the oldest record not
    yet committed was taken in (each batch notes the watermark at its first
    record; W only rises, so later records saw as much or more), and the
    restart starts W there: every record read again meets a W no higher than
    the one it met the first time.

    Written once a second, when it rose, by the lease actor on the
    connection that holds the pipelines' locks (zetl_checkpoints, source
    "watermark"), so the dispatcher never waits on PostgreSQL and a deposed
    coordinator cannot write. Ordered pipelines are left out: records wait
    in their reorder buffer before any batch holds them.
*/
#include "zetl_checkpoint.h"
#include "zetl_dispatch_internal.h"

#include <inttypes.h>

#define S_SOURCE "watermark"  //  its name in zetl_checkpoints

int
zetl_dispatch_watermark_restore (zetl_dispatch_pipeline_t *pipeline, PGconn *conn)
{
    pipeline->checkpointed_wm_us = INT64_MIN;
    if (pipeline->ordered)
        return 0;
    char *state = NULL;
    if (zetl_checkpoint_read (conn, pipeline->pipeline->id, S_SOURCE, &state) != 0)
        return -1;
    char *end = NULL;
    long long value = state ? strtoll (state, &end, 10) : 0;
    if (state && end != state && *end == '\0') {
        zetl_admit_restore (pipeline->admit, value);
        pipeline->checkpointed_wm_us = value;
        zetl_log_info ("dispatch", "watermark_restored",
                       json_pack ("{s:s, s:I}", "pipeline", pipeline->pipeline->id,
                                  "watermark_us", (json_int_t) value));
    }
    free (state);
    return 0;
}

//  The watermark each pipeline may restart from, into SAFE[pipeline]: the
//  lowest noted by its batches not yet committed, or W itself when none is
//  held. One pass over the batches for all pipelines.
static void
s_safe (zetl_dispatcher_t *self, int64_t *safe)
{
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        safe[p] = zetl_admit_watermark (pipeline->admit);
        for (uint32_t number = 0; number < pipeline->pipeline->partitions; number++) {
            const zetl_partition_t *partition = &pipeline->partitions[number];
            if (partition->building && partition->first_wm_us < safe[p])
                safe[p] = partition->first_wm_us;
        }
    }
    for (zetl_batch_t *batch = zetl_batches_first (self->batches); batch;
         batch = zetl_batches_next (self->batches)) {
        size_t p = batch->partition->pipeline;
        if (batch->first_wm_us < safe[p])
            safe[p] = batch->first_wm_us;
    }
}

void
zetl_dispatch_watermark_checkpoint (zetl_dispatcher_t *self, bool now)
{
    int64_t clock = zclock_mono ();
    if (!now && clock < self->next_watermark_ms)
        return;
    self->next_watermark_ms = clock + 1000;
    if (!self->lease || self->pipeline_count == 0)
        return;
    int64_t *safe = (int64_t *) malloc (self->pipeline_count * sizeof (int64_t));
    assert (safe);
    s_safe (self, safe);
    for (size_t p = 0; p < self->pipeline_count; p++) {
        zetl_dispatch_pipeline_t *pipeline = &self->pipelines[p];
        if (pipeline->ordered || safe[p] <= pipeline->checkpointed_wm_us)
            continue;
        char text[24];
        snprintf (text, sizeof text, "%" PRId64, safe[p]);
        if (zsock_send (self->lease, "sss", "WATERMARK", pipeline->pipeline->id, text) == 0)
            pipeline->checkpointed_wm_us = safe[p];
    }
    free (safe);
}
