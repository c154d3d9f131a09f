/*  zetl_alerts - the status's alert flags and what the targets hold  */
#include "zetl_alerts.h"
#include "zetl_log.h"
#include "zetl_pg.h"
#include "zetl_time.h"

#include <math.h>

#define S_TICK_MS 1000   //  flags are computed this often
#define S_STATS_EVERY 2  //  zetl_stats is read every this many ticks
#define S_STAGES_EVERY 10  //  zetl_dead_letters is counted by stage every this many

//  One pipeline's figures at one tick
typedef struct {
    int64_t at_ms;           //  zclock_mono
    uint64_t records_in;     //  the status's arrival.records_in
    uint64_t dead_lettered;  //  zetl_stats, all targets
    uint64_t reached;        //  zetl_stats loaded (changed + unchanged) + deduplicated
} s_sample_t;

typedef struct {
    char *id;
    s_sample_t *ring;          //  the history, oldest overwritten
    size_t size, head, count;  //  capacity, next slot, held
    json_t *targets;           //  zetl_stats per target, last read
    json_t *stages;            //  dead letters held by stage (the worst target's), last counted
    //  Those of its worst target (most dead letters, then fewest rows): each
    //  target writes its own dead letters, so a sum would count them twice
    uint64_t loaded, dead_lettered, deduplicated;
} s_pipeline_t;

typedef struct {
    const zetl_config_t *config;
    zetl_snapshot_t *status, *alerts;
    s_pipeline_t *pipelines;
    size_t pipeline_count;
    PGconn *pg;  //  NULL until connected
    int64_t started_ms;
    zetl_log_limit_t pg_errors;
} s_alerts_t;

static s_pipeline_t *
s_pipeline (s_alerts_t *self, const char *id)
{
    for (size_t p = 0; p < self->pipeline_count; p++)
        if (streq (self->pipelines[p].id, id))
            return &self->pipelines[p];
    return NULL;
}

//  zetl_stats per pipeline and target, into each pipeline's figures
static void
s_read_stats (s_alerts_t *self)
{
    if (self->pg && PQstatus (self->pg) != CONNECTION_OK)
        PQfinish (self->pg), self->pg = NULL;
    char *error = NULL;
    if (!self->pg && !(self->pg = zetl_pg_connect (self->config->postgres, &error))) {
        if (zetl_log_every (&self->pg_errors, 60000))
            zetl_log_warn ("alerts", "postgres_unreachable",
                           json_pack ("{s:s, s:s}", "error", error ? error : "?", "hint",
                                      "target figures and the flags that use them are stale"));
        free (error);
        return;
    }
    PGresult *res =
        PQexec (self->pg, "SELECT pipeline, target, sum(changed)::int8, sum(unchanged)::int8,"
                          " sum(dead_lettered)::int8, sum(deduplicated)::int8"
                          " FROM zetl_stats GROUP BY 1, 2 ORDER BY 1, 2");
    if (PQresultStatus (res) == PGRES_TUPLES_OK) {
        for (size_t p = 0; p < self->pipeline_count; p++) {
            json_decref (self->pipelines[p].targets);
            self->pipelines[p].targets = json_array ();
            self->pipelines[p].loaded = self->pipelines[p].dead_lettered = 0;
            self->pipelines[p].deduplicated = 0;
        }
        for (int row = 0; row < PQntuples (res); row++) {
            s_pipeline_t *pipeline = s_pipeline (self, PQgetvalue (res, row, 0));
            if (!pipeline)
                continue;
            long long figures[4];
            for (int column = 0; column < 4; column++)
                figures[column] = atoll (PQgetvalue (res, row, 2 + column));
            uint64_t loaded = (uint64_t) (figures[0] + figures[1]), dead = (uint64_t) figures[2];
            if (json_array_size (pipeline->targets) == 0 || dead > pipeline->dead_lettered ||
                (dead == pipeline->dead_lettered && loaded < pipeline->loaded)) {
                pipeline->loaded = loaded;
                pipeline->dead_lettered = dead;
                pipeline->deduplicated = (uint64_t) figures[3];
            }
            json_array_append_new (pipeline->targets,
                                   json_pack ("{s:s, s:I, s:I, s:I, s:I}", "target",
                                              PQgetvalue (res, row, 1), "changed", figures[0],
                                              "unchanged", figures[1], "dead_lettered", figures[2],
                                              "deduplicated", figures[3]));
        }
    }
    else if (zetl_log_every (&self->pg_errors, 60000))
        zetl_log_warn ("alerts", "stats_unreadable",
                       json_pack ("{s:s}", "error", PQresultErrorMessage (res)));
    PQclear (res);
}

//  The dead letters held per pipeline and stage, the most any target holds
static void
s_count_stages (s_alerts_t *self)
{
    if (!self->pg)
        return;  //  s_read_stats connects, and says when it cannot
    PGresult *res = PQexec (self->pg, "SELECT pipeline, stage, max(n)::int8 FROM"
                                      " (SELECT pipeline, target, stage, count(*) AS n"
                                      "  FROM zetl_dead_letters GROUP BY 1, 2, 3) t"
                                      " GROUP BY 1, 2");
    if (PQresultStatus (res) == PGRES_TUPLES_OK) {
        for (size_t p = 0; p < self->pipeline_count; p++) {
            json_decref (self->pipelines[p].stages);
            self->pipelines[p].stages = json_object ();
        }
        for (int row = 0; row < PQntuples (res); row++) {
            s_pipeline_t *pipeline = s_pipeline (self, PQgetvalue (res, row, 0));
            if (pipeline)
                json_object_set_new (pipeline->stages, PQgetvalue (res, row, 1),
                                     json_integer (atoll (PQgetvalue (res, row, 2))));
        }
    }
    PQclear (res);
}

//  The sample of PIPELINE AGO_MS before its newest (the oldest held if the
//  history is shorter), or NULL when it holds fewer than two
static const s_sample_t *
s_sample_ago (const s_pipeline_t *pipeline, int64_t ago_ms, bool *complete)
{
    if (pipeline->count < 2)
        return NULL;
    const s_sample_t *newest =
        &pipeline->ring[(pipeline->head + pipeline->size - 1) % pipeline->size];
    const s_sample_t *found = NULL;
    for (size_t back = 1; back < pipeline->count; back++) {
        found = &pipeline->ring[(pipeline->head + pipeline->size - 1 - back) % pipeline->size];
        if (newest->at_ms - found->at_ms >= ago_ms) {
            *complete = true;
            return found;
        }
    }
    *complete = false;
    return found;
}

//  A ratio as JSON, null when there is nothing to divide by
static json_t *
s_ratio (double part, double whole)
{
    return whole > 0 ? json_real (part / whole) : json_null ();
}

//  The flags and ratios of PIPELINE, whose status is STATUS, at NOW_MS
static json_t *
s_judge (s_alerts_t *self, const s_pipeline_t *pipeline, const json_t *status, int64_t now_ms)
{
    const zetl_alerts_config_t *rules = &self->config->alerts;
    int64_t now_us = zetl_time_now_us ();
    const s_sample_t *newest =
        &pipeline->ring[(pipeline->head + pipeline->size - 1) % pipeline->size];
    bool whole_window = false, whole_baseline = false;
    const s_sample_t *recent = s_sample_ago (pipeline, rules->window_ms, &whole_window);
    double in = recent ? (double) (newest->records_in - recent->records_in) : 0;
    double dead = recent ? (double) (newest->dead_lettered - recent->dead_lettered) : 0;
    double reached = recent ? (double) (newest->reached - recent->reached) : 0;
    //  The baseline: the stretch of BASELINE before the window
    const s_sample_t *base =
        s_sample_ago (pipeline, rules->window_ms + rules->baseline_ms, &whole_baseline);
    double rate = recent ? in * 1000.0 / (double) (newest->at_ms - recent->at_ms) : 0;
    double base_rate = -1;
    if (base && whole_baseline && recent)
        base_rate = (double) (recent->records_in - base->records_in) * 1000.0 /
                    (double) (recent->at_ms - base->at_ms);
    json_t *error_rate = s_ratio (dead, in), *completeness = s_ratio (reached, in);
    json_t *variation = base_rate > 0 ? json_real ((rate - base_rate) / base_rate) : json_null ();
    double lag_s = json_number_value (json_object_get (status, "watermark_lag_seconds"));
    uint64_t held = (uint64_t) json_integer_value (
        json_object_get (json_object_get (status, "queue"), "records_held"));
    int64_t last_commit_us = json_integer_value (json_object_get (status, "last_commit_us"));
    int64_t last_record_us = json_integer_value (json_object_get (status, "last_record_us"));
    int64_t up_ms = now_ms - self->started_ms;
    bool stopped = held > 0 && (last_commit_us ? (now_us - last_commit_us) / 1000 : up_ms) >
                                   rules->stopped_after_ms;
    bool stale = (last_record_us ? (now_us - last_record_us) / 1000 : up_ms) > rules->freshness_ms;
    json_t *flags = json_pack (
        "{s:b, s:b, s:b, s:b, s:b, s:b}", "error_rate",
        json_is_real (error_rate) && json_real_value (error_rate) * 100 > rules->error_rate,
        "watermark_lag",
        json_is_number (json_object_get (status, "watermark_lag_seconds")) &&
            lag_s * 1000 > (double) rules->watermark_lag_ms,
        "stopped", stopped, "completeness",
        json_is_real (completeness) && json_real_value (completeness) * 100 < rules->completeness,
        "freshness", stale, "variation",
        json_is_real (variation) && fabs (json_real_value (variation)) * 100 > rules->variation);
    json_t *quality =
        json_pack ("{s:o, s:o, s:f, s:o, s:o, s:b}", "error_rate", error_rate, "completeness",
                   completeness, "arrival_rate", rate, "baseline_rate",
                   base_rate >= 0 ? json_real (base_rate) : json_null (), "variation", variation,
                   "window_full", whole_window);
    json_t *targets = pipeline->targets ? json_incref (pipeline->targets) : json_array ();
    json_t *stages = pipeline->stages ? json_incref (pipeline->stages) : json_object ();
    return json_pack ("{s:o, s:o, s:o, s:{s:I, s:I, s:I}, s:o}", "alerts", flags, "quality",
                      quality, "targets", targets, "outcomes", "loaded",
                      (json_int_t) pipeline->loaded, "dead_lettered",
                      (json_int_t) pipeline->dead_lettered, "deduplicated",
                      (json_int_t) pipeline->deduplicated, "dead_letters", stages);
}

//  One tick: note each pipeline's figures, judge them, publish
static void
s_tick (s_alerts_t *self, uint64_t tick)
{
    json_t *status = zetl_snapshot_get (self->status);
    if (!status)
        return;
    if (tick % S_STATS_EVERY == 0)
        s_read_stats (self);
    if (tick % S_STAGES_EVERY == 0)
        s_count_stages (self);
    int64_t now_ms = zclock_mono ();
    json_t *result = json_object ();
    size_t index;
    json_t *pipeline_status;
    json_array_foreach (json_object_get (status, "pipelines"), index, pipeline_status)
    {
        s_pipeline_t *pipeline =
            s_pipeline (self, json_string_value (json_object_get (pipeline_status, "id")));
        if (!pipeline)
            continue;
        s_sample_t *sample = &pipeline->ring[pipeline->head];
        sample->at_ms = now_ms;
        sample->records_in = (uint64_t) json_integer_value (
            json_object_get (json_object_get (pipeline_status, "arrival"), "records_in"));
        sample->dead_lettered = pipeline->dead_lettered;
        sample->reached = pipeline->loaded + pipeline->deduplicated;
        pipeline->head = (pipeline->head + 1) % pipeline->size;
        if (pipeline->count < pipeline->size)
            pipeline->count++;
        json_object_set_new (result, pipeline->id,
                             s_judge (self, pipeline, pipeline_status, now_ms));
    }
    json_decref (status);
    zetl_snapshot_publish (self->alerts, &result);
}

static void
s_destroy (s_alerts_t *self)
{
    for (size_t p = 0; p < self->pipeline_count; p++) {
        free (self->pipelines[p].ring);
        json_decref (self->pipelines[p].targets);
        json_decref (self->pipelines[p].stages);
    }
    free (self->pipelines);
    if (self->pg)
        PQfinish (self->pg);
    free (self);
}

void
zetl_alerts_actor (zsock_t *pipe, void *args_)
{
    const zetl_alerts_args_t *args = (const zetl_alerts_args_t *) args_;
    s_alerts_t *self = (s_alerts_t *) zmalloc (sizeof (s_alerts_t));
    self->config = args->config;
    self->status = args->status;
    self->alerts = args->alerts;
    self->started_ms = zclock_mono ();
    self->pipeline_count = self->config->pipeline_count;
    self->pipelines = (s_pipeline_t *) zmalloc ((self->pipeline_count + 1) * sizeof (s_pipeline_t));
    const zetl_alerts_config_t *rules = &self->config->alerts;
    size_t size = (size_t) ((rules->window_ms + rules->baseline_ms) / S_TICK_MS) + 3;
    for (size_t p = 0; p < self->pipeline_count; p++) {
        self->pipelines[p].id = self->config->pipelines[p].id;
        self->pipelines[p].size = size;
        self->pipelines[p].ring = (s_sample_t *) zmalloc (size * sizeof (s_sample_t));
    }
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (poller, true);  //  $TERM from the main thread ends it
    for (uint64_t tick = 0;; tick++) {
        if (zpoller_wait (poller, S_TICK_MS) == pipe) {
            char *command = zstr_recv (pipe);
            bool end = !command || streq (command, "$TERM");
            free (command);
            if (end)
                break;
        }
        s_tick (self, tick);
    }
    zpoller_destroy (&poller);
    s_destroy (self);
}

json_t *
zetl_alerts_merge (const json_t *status, const json_t *alerts)
{
    if (!status)
        return NULL;
    json_t *merged = json_copy ((json_t *) status);  //  Shallow: members shared, not changed
    json_t *pipelines = json_array (), *raised = json_array ();
    size_t index;
    json_t *pipeline;
    json_array_foreach (json_object_get (status, "pipelines"), index, pipeline)
    {
        json_t *copy = json_copy (pipeline);
        const char *id = json_string_value (json_object_get (pipeline, "id"));
        json_t *judged = id && alerts ? json_object_get (alerts, id) : NULL;
        if (judged) {
            json_object_update (copy, judged);
            const char *name;
            json_t *flag;
            json_object_foreach (json_object_get (judged, "alerts"), name,
                                 flag) if (json_is_true (flag))
                json_array_append_new (raised,
                                       json_pack ("{s:s, s:s}", "pipeline", id, "alert", name));
        }
        json_array_append_new (pipelines, copy);
    }
    json_object_set_new (merged, "pipelines", pipelines);
    json_object_set_new (merged, "alerts", raised);
    return merged;
}
