/*  zetl_sink_server - the sink process's loop, as an actor  */
#include "zetl_sink_server.h"
#include "zetl_curve.h"
#include "zetl_files_writer.h"
#include "zetl_forward_writer.h"
#include "zetl_log.h"
#include "zetl_pg_writer.h"
#include "zetl_proto.h"
#include "zetl_session.h"

#include <inttypes.h>

#define S_MAX_WRITERS 1024
#define S_MAX_PIPELINES 256
#define S_MAX_GROUPS 8  //  targets of one pipeline a sink writes

//  The writers of one target of a pipeline: a partition's batches always go
//  to the same one of them
typedef struct {
    size_t base;   //  index of the first writer
    size_t count;  //  writers
} s_group_t;

//  A batch handed to the writers of its pipeline's targets, until each
//  has answered
typedef struct {
    uint32_t waiting;  //  answers still to come (a batch handed twice waits for both)
    uint32_t count;    //  records in the batch
    char *refused;     //  the first FAILED text, or NULL
    char *dropped;     //  the first DROPPED reason, or NULL
} s_tracked_t;

typedef struct {
    zetl_sink_server_args_t args;
    zsock_t *pipe;
    zsock_t *data;                     //  ROUTER: RESULTs from workers
    char *endpoint;                    //  advertised data endpoint
    zetl_session_t *session;           //  link to the coordinator
    uint64_t generation;               //  configuration generation the writers were made for
    uint64_t welcomes;                 //  WELCOMEs seen: credit is granted again after each
    zactor_t *writers[S_MAX_WRITERS];  //  per pipeline and target: `connections` writers
    s_group_t groups[S_MAX_PIPELINES][S_MAX_GROUPS];  //  per pipeline: its targets' writers
    size_t group_count[S_MAX_PIPELINES];              //  groups of each pipeline
    char *writer_names[S_MAX_WRITERS];
    size_t writer_count;
    zpoller_t *poller;
    zhashx_t *tracked;  //  batch id (text) -> s_tracked_t: handed, not answered
    zetl_log_limit_t bad_frames;
    zetl_log_limit_t stale_config;
    bool terminated;
} s_server_t;

static bool
s_has_postgres (const zetl_pipeline_t *pipeline)
{
    for (size_t at = 0; at < pipeline->target_count; at++)
        if (pipeline->targets[at].type == ZETL_TARGET_POSTGRES)
            return true;
    return false;
}

//  Writers of TARGET in each sink. A forward target has one: its
//  producer's window keeps the link busy, and its name must be one of its own
static int64_t
s_writers_of (const zetl_target_t *target)
{
    return target->type == ZETL_TARGET_FORWARD ? 1 : target->connections;
}

//  Rows TARGET commits at once
static int64_t
s_rows_of (const zetl_target_t *target)
{
    return target->sink_batch_rows;
}

static void
s_tracked_free (void **item_p)
{
    s_tracked_t *tracked = (s_tracked_t *) *item_p;
    if (tracked) {
        free (tracked->refused);
        free (tracked->dropped);
        free (tracked);
        *item_p = NULL;
    }
}

static void
s_stop_writers (s_server_t *self)
{
    for (size_t index = 0; index < self->writer_count; index++) {
        zpoller_remove (self->poller, self->writers[index]);
        zactor_destroy (&self->writers[index]);
        free (self->writer_names[index]);
    }
    self->writer_count = 0;
    memset (self->group_count, 0, sizeof self->group_count);
    //  Batches the stopped writers held are never answered: the coordinator
    //  dispatches them again after their deadline
    zhashx_purge (self->tracked);
}

//  Start the writers of target TARGET_INDEX of pipeline P: `connections`
//  of them, a group
static void
s_start_group (s_server_t *self, const zetl_config_t *config, size_t p, size_t target_index)
{
    const zetl_pipeline_t *pipeline = &config->pipelines[p];
    const zetl_target_t *target = &pipeline->targets[target_index];
    if (self->group_count[p] == S_MAX_GROUPS)
        return;
    s_group_t *group = &self->groups[p][self->group_count[p]];
    group->base = self->writer_count;
    group->count = 0;
    for (int64_t conn = 0; conn < s_writers_of (target) && self->writer_count < S_MAX_WRITERS;
         conn++) {
        size_t at = self->writer_count++;
        if (target->type == ZETL_TARGET_POSTGRES) {
            self->writer_names[at] = zsys_sprintf ("%s/%d", self->args.name, (int) conn);
            zetl_pg_writer_args_t writer_args = {config, p, target_index, self->args.postgres,
                                                 self->writer_names[at]};
            self->writers[at] = zactor_new (zetl_pg_writer_actor, &writer_args);
        }
        else if (target->type == ZETL_TARGET_FORWARD) {
            self->writer_names[at] =
                zsys_sprintf ("%s/%s/forward%zu", self->args.name, pipeline->id, target_index);
            zetl_forward_writer_args_t writer_args = {config,
                                                      p,
                                                      target_index,
                                                      self->args.postgres,
                                                      self->writer_names[at],
                                                      self->args.name,
                                                      !s_has_postgres (pipeline)};
            self->writers[at] = zactor_new (zetl_forward_writer_actor, &writer_args);
        }
        else {
            self->writer_names[at] = zsys_sprintf ("%s/%s/files%zu/%d", self->args.name,
                                                   pipeline->id, target_index, (int) conn);
            zetl_files_writer_args_t writer_args = {config,
                                                    p,
                                                    target_index,
                                                    self->args.postgres,
                                                    self->writer_names[at],
                                                    !s_has_postgres (pipeline)};
            self->writers[at] = zactor_new (zetl_files_writer_actor, &writer_args);
        }
        zpoller_add (self->poller, self->writers[at]);
        group->count++;
    }
    if (group->count)
        self->group_count[p]++;
}

//  (Re)create the writers for the configuration the session holds. The
//  first postgres target of a pipeline is written (as before), and every
//  files and forward target
static void
s_start_writers (s_server_t *self)
{
    s_stop_writers (self);
    const zetl_config_t *config = zetl_session_config (self->session);
    for (size_t p = 0; p < config->pipeline_count && p < S_MAX_PIPELINES; p++) {
        const zetl_pipeline_t *pipeline = &config->pipelines[p];
        bool postgres_started = false;
        for (size_t t = 0; t < pipeline->target_count; t++) {
            const zetl_target_t *target = &pipeline->targets[t];
            if (target->type == ZETL_TARGET_POSTGRES && postgres_started)
                continue;
            postgres_started = postgres_started || target->type == ZETL_TARGET_POSTGRES;
            s_start_group (self, config, p, t);
        }
    }
    self->generation = zetl_session_generation (self->session);
}

//  A copy of MSG for another writer, its own body frame included. Caller
//  owns the result
static zetl_msg_t *
s_msg_dup (const zetl_msg_t *msg)
{
    zetl_msg_t *copy = zetl_msg_new ((zetl_msg_type_t) msg->type);
    zframe_t *body = msg->body ? zframe_dup (msg->body) : NULL;
    char *sink = copy->sink, *name = copy->name, *endpoint = copy->endpoint, *text = copy->text;
    *copy = *msg;
    copy->sink = sink;
    copy->name = name;
    copy->endpoint = endpoint;
    copy->text = text;
    copy->body = NULL;
    zetl_msg_set_str (&copy->sink, msg->sink);
    zetl_msg_set_str (&copy->name, msg->name);
    zetl_msg_set_str (&copy->endpoint, msg->endpoint);
    zetl_msg_set_str (&copy->text, msg->text);
    if (body)
        zetl_msg_set_body (copy, &body);
    return copy;
}

//  Start waiting for WRITERS answers about batch BATCH_ID of COUNT records
static void
s_track (s_server_t *self, uint64_t batch_id, uint32_t count, uint32_t writers)
{
    char key[24];
    snprintf (key, sizeof key, "%" PRIu64, batch_id);
    s_tracked_t *tracked = (s_tracked_t *) zhashx_lookup (self->tracked, key);
    if (!tracked) {
        tracked = (s_tracked_t *) zmalloc (sizeof (s_tracked_t));
        tracked->count = count;
        zhashx_insert (self->tracked, key, tracked);
    }
    tracked->waiting += writers;
}

static void
s_handle_result (s_server_t *self)
{
    zframe_t *routing_id = NULL;
    const char *reason = NULL;
    zetl_msg_t *msg = zetl_msg_recv_router (self->data, &routing_id, &reason);
    zframe_destroy (&routing_id);
    if (!msg) {
        if (reason && zetl_log_every (&self->bad_frames, 60000))
            zetl_log_warn ("sink", "frame_malformed",
                           json_pack ("{s:s, s:s, s:I}", "peer", "worker", "reason", reason, "seen",
                                      (json_int_t) self->bad_frames.seen));
        return;
    }
    const zetl_config_t *config = zetl_session_config (self->session);
    //  A RESULT of an older epoch than our coordinator's comes from a batch a
    //  coordinator since replaced dispatched: the new one dispatches it again
    if (msg->type != ZETL_MSG_RESULT || !config || msg->config_hash != config->hash ||
        msg->pipeline >= config->pipeline_count ||
        msg->epoch < zetl_session_epoch (self->session)) {
        //  Not ours to write (yet): the coordinator re-dispatches it by deadline
        if (msg->type == ZETL_MSG_RESULT && config && msg->config_hash != config->hash) {
            if (zetl_log_every (&self->stale_config, 10000))
                zetl_log_warn ("sink", "config_mismatch",
                               json_pack ("{s:I, s:I}", "batch", (json_int_t) msg->batch_id, "seen",
                                          (json_int_t) self->stale_config.seen));
            zetl_session_rehello (self->session);
        }
        zetl_msg_destroy (&msg);
        return;
    }
    size_t groups = msg->pipeline < S_MAX_PIPELINES ? self->group_count[msg->pipeline] : 0;
    if (groups == 0) {
        zetl_msg_destroy (&msg);
        return;
    }
    //  Every target gets the batch; a partition always goes through the same
    //  writer of each, so its positions commit in order
    s_track (self, msg->batch_id, msg->count, (uint32_t) groups);
    for (size_t index = 0; index < groups; index++) {
        const s_group_t *group = &self->groups[msg->pipeline][index];
        size_t writer = group->base + msg->partition % group->count;
        zetl_msg_t *copy = index + 1 < groups ? s_msg_dup (msg) : msg;
        zsock_send (self->writers[writer], "sp", "BATCH", copy);
    }
}

//  Every target has answered about TRACKED, batch BATCH_ID: COMMIT once all
//  committed it, ERROR when one refused it for its data, nothing when its
//  body turned out malformed (it comes back after its deadline)
static void
s_answer (s_server_t *self, uint64_t batch_id, s_tracked_t *tracked)
{
    if (tracked->dropped) {
        if (zetl_log_every (&self->bad_frames, 60000))
            zetl_log_warn ("sink", "frame_malformed",
                           json_pack ("{s:s, s:s, s:I, s:I}", "peer", "worker", "reason",
                                      tracked->dropped, "batch", (json_int_t) batch_id, "seen",
                                      (json_int_t) self->bad_frames.seen));
        return;
    }
    zetl_msg_t *msg = NULL;
    if (!tracked->refused) {
        msg = zetl_msg_new (ZETL_MSG_COMMIT);
        msg->count = tracked->count;
    }
    else {
        msg = zetl_msg_new (ZETL_MSG_ERROR);
        msg->code = ZETL_ERR_DATA;
        zetl_msg_set_str (&msg->text, tracked->refused);
    }
    msg->batch_id = batch_id;
    //  If this send fails the coordinator re-dispatches by deadline, and the
    //  replay is skipped by every target's committed positions
    zetl_session_send (self->session, msg);
    zetl_msg_destroy (&msg);
}

static void
s_handle_writer (s_server_t *self, zactor_t *writer)
{
    char *command = NULL, *text = NULL;
    uint64_t batch_id = 0;
    uint32_t count = 0;
    if (zsock_recv (writer, "s84s", &command, &batch_id, &count, &text) != 0)
        return;
    char key[24];
    snprintf (key, sizeof key, "%" PRIu64, batch_id);
    s_tracked_t *tracked = (s_tracked_t *) zhashx_lookup (self->tracked, key);
    if (tracked) {
        //  DROPPED: a RESULT whose body its reader refused, a malformed frame
        //  found as it was read. FAILED: refused for its data
        if (streq (command, "DROPPED") && !tracked->dropped)
            tracked->dropped = strdup (text);
        else if (streq (command, "FAILED") && !tracked->refused)
            tracked->refused = strdup (text);
        if (--tracked->waiting == 0) {
            s_answer (self, batch_id, tracked);
            zhashx_delete (self->tracked, key);
        }
    }
    free (command);
    free (text);
}

//  The uncommitted batches this sink takes: enough to fill two commits on
//  each writer of the busiest target, so one is built while the other
//  commits. A batch counts once however many targets write it
static uint32_t
s_credit (const zetl_config_t *config)
{
    int64_t credit = 4;
    for (size_t p = 0; p < config->pipeline_count; p++) {
        const zetl_pipeline_t *pipeline = &config->pipelines[p];
        for (size_t t = 0; t < pipeline->target_count; t++) {
            const zetl_target_t *target = &pipeline->targets[t];
            int64_t per_commit =
                (s_rows_of (target) + pipeline->batch_size - 1) / pipeline->batch_size;
            if (per_commit * s_writers_of (target) * 2 > credit)
                credit = per_commit * s_writers_of (target) * 2;
        }
    }
    return (uint32_t) (credit > 1024 ? 1024 : credit);
}

static void
s_handle_session (s_server_t *self)
{
    zetl_msg_t *msg = zetl_session_recv (self->session);
    zetl_msg_destroy (&msg);  //  Sinks take no other commands yet
    if (zetl_session_config (self->session) &&
        zetl_session_generation (self->session) != self->generation)
        s_start_writers (self);
    if (zetl_session_config (self->session) &&
        zetl_session_welcomes (self->session) != self->welcomes) {
        self->welcomes = zetl_session_welcomes (self->session);
        zetl_msg_t *ready = zetl_msg_new (ZETL_MSG_READY);
        ready->credit = s_credit (zetl_session_config (self->session));
        zetl_session_send (self->session, ready);
        zetl_msg_destroy (&ready);
    }
}

static int
s_bind (s_server_t *self)
{
    self->data = zsock_new (ZMQ_ROUTER);
    zsock_set_rcvhwm (self->data, 10000);
    zsock_set_linger (self->data, 0);
    zetl_curve_serve (self->data);  //  With CURVE, only allowed workers send results
    if (zsock_bind (self->data, "%s", self->args.bind) < 0) {
        zsock_send (self->pipe, "ss", "FAILED", "cannot bind the data endpoint");
        zetl_log_error ("sink", "bind_failed",
                        json_pack ("{s:s, s:s, s:s}", "endpoint", self->args.bind, "error",
                                   zmq_strerror (zmq_errno ()), "hint",
                                   "choose a free address with --bind"));
        return -1;
    }
    //  zsock_last_endpoint gives a string the caller frees
    self->endpoint =
        self->args.advertise ? strdup (self->args.advertise) : zsock_last_endpoint (self->data);
    return 0;
}

void
zetl_sink_server_actor (zsock_t *pipe, void *args)
{
    s_server_t *self = (s_server_t *) zmalloc (sizeof (s_server_t));
    self->args = *(zetl_sink_server_args_t *) args;
    self->pipe = pipe;
    zsock_signal (pipe, 0);
    if (s_bind (self) != 0) {
        zsock_destroy (&self->data);
        free (self);
        return;
    }
    self->tracked = zhashx_new ();
    zhashx_set_destructor (self->tracked, s_tracked_free);
    self->session =
        zetl_session_new (self->args.coordinator, ZETL_ROLE_SINK, self->args.name, self->endpoint);
    self->poller = zpoller_new (pipe, self->data, NULL);
    zetl_session_poll_with (self->session, self->poller);
    zsock_send (pipe, "ss", "READY", self->endpoint);
    zetl_log_info ("sink", "started",
                   json_pack ("{s:s, s:s, s:s}", "name", self->args.name, "data", self->endpoint,
                              "coordinator", self->args.coordinator));

    while (!self->terminated) {
        int64_t wait_ms = zetl_session_tick (self->session, (uint32_t) zhashx_size (self->tracked));
        void *which = zpoller_wait (self->poller, (int) wait_ms);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            self->terminated = !command || streq (command, "$TERM");
            free (command);
        }
        else if (which == self->data)
            s_handle_result (self);
        else if (which == zetl_session_socket (self->session))
            s_handle_session (self);
        else if (which)
            s_handle_writer (self, (zactor_t *) which);
        else if (zpoller_terminated (self->poller))
            break;
    }
    s_stop_writers (self);
    zetl_session_destroy (&self->session);  //  Before the poller it is polled with
    zpoller_destroy (&self->poller);
    zhashx_destroy (&self->tracked);
    zsock_destroy (&self->data);
    free (self->endpoint);
    free (self);
}
