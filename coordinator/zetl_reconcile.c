/*  zetl_reconcile - the reconciliation of a coordinator's run  */
#include "zetl_reconcile.h"
#include "zetl_log.h"
#include "zetl_pg.h"

typedef struct {
    const char *target;        //  the target reconciled: the first postgres one, else the first
    zetl_pg_stats_t baseline;  //  counters when the run started
    uint64_t records_in;       //  records read in this run
    zetl_admit_counters_t arrival;  //  how they arrived
    uint64_t reorder_overflow;      //  ordered: records that left the reorder buffer early
} s_pipeline_t;

struct zetl_reconcile {
    const zetl_config_t *config;
    s_pipeline_t *pipelines;
};

zetl_reconcile_t *
zetl_reconcile_new (const zetl_config_t *config)
{
    zetl_reconcile_t *self = (zetl_reconcile_t *) zmalloc (sizeof (zetl_reconcile_t));
    self->config = config;
    self->pipelines = (s_pipeline_t *) zmalloc (config->pipeline_count * sizeof (s_pipeline_t) + 1);
    for (size_t p = 0; p < config->pipeline_count; p++) {
        const zetl_pipeline_t *pipeline = &config->pipelines[p];
        for (size_t t = 0; t < pipeline->target_count && !self->pipelines[p].target; t++)
            if (pipeline->targets[t].type == ZETL_TARGET_POSTGRES)
                self->pipelines[p].target = pipeline->targets[t].name;
        //  A files target alone writes the counters in zetl_stats itself
        if (!self->pipelines[p].target && pipeline->target_count)
            self->pipelines[p].target = pipeline->targets[0].name;
    }
    return self;
}

void
zetl_reconcile_destroy (zetl_reconcile_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->pipelines);
        free (*self_p);
        *self_p = NULL;
    }
}

int
zetl_reconcile_start (zetl_reconcile_t *self, PGconn *conn)
{
    for (size_t p = 0; p < self->config->pipeline_count; p++) {
        s_pipeline_t *pipeline = &self->pipelines[p];
        if (pipeline->target
            && zetl_pg_read_stats (conn, self->config->pipelines[p].id, pipeline->target,
                                   &pipeline->baseline)
                   != 0)
            return -1;
    }
    return 0;
}

void
zetl_reconcile_add_in (zetl_reconcile_t *self, size_t pipeline, uint64_t records)
{
    self->pipelines[pipeline].records_in += records;
}

void
zetl_reconcile_set_arrival (zetl_reconcile_t *self, size_t pipeline,
                            const zetl_admit_counters_t *counters)
{
    self->pipelines[pipeline].arrival = *counters;
}

void
zetl_reconcile_set_reorder_overflow (zetl_reconcile_t *self, size_t pipeline, uint64_t overflow)
{
    self->pipelines[pipeline].reorder_overflow = overflow;
}

uint64_t
zetl_reconcile_records_in (zetl_reconcile_t *self, size_t pipeline)
{
    return self->pipelines[pipeline].records_in;
}

//  Print PIPELINE's line; returns true when it balances
static bool
s_report_one (zetl_reconcile_t *self, size_t index, const zetl_pg_stats_t *now, FILE *out)
{
    const s_pipeline_t *pipeline = &self->pipelines[index];
    const char *id = self->config->pipelines[index].id;
    int64_t changed = now->changed - pipeline->baseline.changed;
    int64_t unchanged = now->unchanged - pipeline->baseline.unchanged;
    int64_t dead = now->dead_lettered - pipeline->baseline.dead_lettered;
    int64_t deduplicated = now->deduplicated - pipeline->baseline.deduplicated;
    int64_t loaded = changed + unchanged;
    bool balanced = (int64_t) pipeline->records_in == loaded + dead + deduplicated;
    json_t *line = json_pack (
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:{s:I, s:I, s:I, s:I}}", "pipeline", id,
        "target", pipeline->target, "records_in", (json_int_t) pipeline->records_in,
        "records_loaded", (json_int_t) loaded, "changed", (json_int_t) changed, "unchanged",
        (json_int_t) unchanged, "records_dead_lettered", (json_int_t) dead,
        "records_deduplicated", (json_int_t) deduplicated, "balanced", balanced, "totals",
        "changed", (json_int_t) now->changed, "unchanged", (json_int_t) now->unchanged,
        "dead_lettered", (json_int_t) now->dead_lettered, "deduplicated",
        (json_int_t) now->deduplicated);
    const zetl_admit_counters_t *arrival = &pipeline->arrival;
    json_object_set_new (
        line, "arrival",
        json_pack ("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "on_time", (json_int_t) arrival->on_time,
                   "out_of_order", (json_int_t) arrival->out_of_order, "late",
                   (json_int_t) arrival->late, "too_late", (json_int_t) arrival->too_late,
                   "duplicates_dropped", (json_int_t) arrival->deduplicated, "id_conflicts",
                   (json_int_t) arrival->id_conflicts, "dedup_evicted_early",
                   (json_int_t) arrival->dedup_evicted_early, "reprocessed",
                   (json_int_t) arrival->reprocessed, "reorder_overflow",
                   (json_int_t) pipeline->reorder_overflow));
    char *text = json_dumps (line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf (out, "%s\n", text);
    fflush (out);
    free (text);
    json_decref (line);
    if (!balanced)
        zetl_log_error ("reconcile", "reconciliation_failed",
                        json_pack ("{s:s, s:I, s:I}", "pipeline", id, "records_in",
                                   (json_int_t) pipeline->records_in, "accounted",
                                   (json_int_t) (loaded + dead + deduplicated)));
    return balanced;
}

int
zetl_reconcile_report (zetl_reconcile_t *self, PGconn *conn, FILE *out)
{
    int rc = 0;
    for (size_t p = 0; p < self->config->pipeline_count; p++) {
        if (!self->pipelines[p].target)
            continue;
        zetl_pg_stats_t now;
        if (zetl_pg_read_stats (conn, self->config->pipelines[p].id, self->pipelines[p].target,
                                &now)
            != 0)
            rc = 1;
        else if (!s_report_one (self, p, &now, out) && rc == 0)
            rc = 3;
    }
    return rc;
}
