/*  zetl_sink_server - the sink process's loop, as an actor  */
#include "zetl_sink_server.h"
#include "zetl_log.h"
#include "zetl_pg_writer.h"
#include "zetl_proto.h"
#include "zetl_session.h"

#define S_MAX_WRITERS 1024

typedef struct {
    zetl_sink_server_args_t args;
    zsock_t *pipe;
    zsock_t *data;                   //  ROUTER: RESULTs from workers
    char *endpoint;                  //  advertised data endpoint
    zetl_session_t *session;         //  link to the coordinator
    uint64_t generation;             //  configuration generation the writers were made for
    uint64_t welcomes;               //  WELCOMEs seen: credit is granted again after each
    zactor_t *writers[S_MAX_WRITERS];//  per pipeline: `connections` writers of its postgres target
    size_t writer_base[256];         //  index of each pipeline's first writer
    char *writer_names[S_MAX_WRITERS];
    size_t writer_count;
    zpoller_t *poller;
    uint32_t busy;                   //  batches handed to writers, not yet committed
    zetl_log_limit_t bad_frames;
    zetl_log_limit_t stale_config;
    bool terminated;
} s_server_t;

static const zetl_target_t *
s_postgres_target (const zetl_pipeline_t *pipeline, size_t *index)
{
    for (size_t at = 0; at < pipeline->target_count; at++)
        if (pipeline->targets[at].type == ZETL_TARGET_POSTGRES) {
            *index = at;
            return &pipeline->targets[at];
        }
    return NULL;
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
    self->busy = 0;
}

//  (Re)create the writers for the configuration the session holds
static void
s_start_writers (s_server_t *self)
{
    s_stop_writers (self);
    const zetl_config_t *config = zetl_session_config (self->session);
    for (size_t p = 0; p < config->pipeline_count && p < 256; p++) {
        const zetl_pipeline_t *pipeline = &config->pipelines[p];
        self->writer_base[p] = self->writer_count;
        size_t target_index = 0;
        const zetl_target_t *target = s_postgres_target (pipeline, &target_index);
        if (!target)
            continue;
        for (int64_t conn = 0; conn < target->connections && self->writer_count < S_MAX_WRITERS;
             conn++) {
            size_t at = self->writer_count++;
            self->writer_names[at] = zsys_sprintf ("%s/%d", self->args.name, (int) conn);
            zetl_pg_writer_args_t writer_args = {config, p, target_index, self->args.postgres,
                                                 self->writer_names[at]};
            self->writers[at] = zactor_new (zetl_pg_writer_actor, &writer_args);
            zpoller_add (self->poller, self->writers[at]);
        }
    }
    self->generation = zetl_session_generation (self->session);
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
    if (msg->type != ZETL_MSG_RESULT || !config || msg->config_hash != config->hash
        || msg->pipeline >= config->pipeline_count
        || msg->epoch < zetl_session_epoch (self->session)) {
        //  Not ours to write (yet): the coordinator re-dispatches it by deadline
        if (msg->type == ZETL_MSG_RESULT && config && msg->config_hash != config->hash) {
            if (zetl_log_every (&self->stale_config, 10000))
                zetl_log_warn ("sink", "config_mismatch",
                               json_pack ("{s:I, s:I}", "batch", (json_int_t) msg->batch_id,
                                          "seen", (json_int_t) self->stale_config.seen));
            zetl_session_rehello (self->session);
        }
        zetl_msg_destroy (&msg);
        return;
    }
    const zetl_pipeline_t *pipeline = &config->pipelines[msg->pipeline];
    size_t target_index = 0;
    const zetl_target_t *target = s_postgres_target (pipeline, &target_index);
    if (!target) {
        zetl_msg_destroy (&msg);
        return;
    }
    //  A partition always goes through the same connection: its positions
    //  then commit in order
    size_t writer = self->writer_base[msg->pipeline] + msg->partition % (size_t) target->connections;
    self->busy++;
    zsock_send (self->writers[writer], "sp", "BATCH", msg);
}

static void
s_handle_writer (s_server_t *self, zactor_t *writer)
{
    char *command = NULL, *text = NULL;
    uint64_t batch_id = 0;
    uint32_t count = 0;
    if (zsock_recv (writer, "s84s", &command, &batch_id, &count, &text) != 0)
        return;
    if (self->busy)
        self->busy--;
    zetl_msg_t *msg = NULL;
    if (streq (command, "DROPPED")) {
        //  A RESULT whose body its reader refused: a malformed frame, found
        //  as it was read rather than when it was decoded. Nothing is
        //  answered; the batch comes back after its deadline
        if (zetl_log_every (&self->bad_frames, 60000))
            zetl_log_warn ("sink", "frame_malformed",
                           json_pack ("{s:s, s:s, s:I, s:I}", "peer", "worker", "reason", text,
                                      "batch", (json_int_t) batch_id, "seen",
                                      (json_int_t) self->bad_frames.seen));
        free (command);
        free (text);
        return;
    }
    if (streq (command, "DONE")) {
        msg = zetl_msg_new (ZETL_MSG_COMMIT);
        msg->count = count;
    }
    else {
        msg = zetl_msg_new (ZETL_MSG_ERROR);
        msg->code = ZETL_ERR_DATA;
        zetl_msg_set_str (&msg->text, text);
    }
    msg->batch_id = batch_id;
    //  If this send fails the coordinator re-dispatches by deadline, and the
    //  replay is skipped here by its committed positions
    zetl_session_send (self->session, msg);
    zetl_msg_destroy (&msg);
    free (command);
    free (text);
}

//  The uncommitted batches this sink takes: enough to fill two transactions
//  on each connection, so one is built while the other commits
static uint32_t
s_credit (const zetl_config_t *config)
{
    int64_t credit = 4;
    for (size_t p = 0; p < config->pipeline_count; p++) {
        const zetl_pipeline_t *pipeline = &config->pipelines[p];
        size_t target_index = 0;
        const zetl_target_t *target = s_postgres_target (pipeline, &target_index);
        if (!target)
            continue;
        int64_t per_tx = (target->sink_batch_rows + pipeline->batch_size - 1) / pipeline->batch_size;
        if (per_tx * target->connections * 2 > credit)
            credit = per_tx * target->connections * 2;
    }
    return (uint32_t) (credit > 1024 ? 1024 : credit);
}

static void
s_handle_session (s_server_t *self)
{
    zetl_msg_t *msg = zetl_session_recv (self->session);
    zetl_msg_destroy (&msg);  //  Sinks take no other commands yet
    if (zetl_session_config (self->session)
        && zetl_session_generation (self->session) != self->generation)
        s_start_writers (self);
    if (zetl_session_config (self->session)
        && zetl_session_welcomes (self->session) != self->welcomes) {
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
    if (zsock_bind (self->data, "%s", self->args.bind) < 0) {
        zsock_send (self->pipe, "ss", "FAILED", "cannot bind the data endpoint");
        zetl_log_error ("sink", "bind_failed",
                        json_pack ("{s:s, s:s, s:s}", "endpoint", self->args.bind, "error",
                                   zmq_strerror (zmq_errno ()), "hint",
                                   "choose a free address with --bind"));
        return -1;
    }
    //  zsock_last_endpoint gives a string the caller frees
    self->endpoint = self->args.advertise ? strdup (self->args.advertise)
                                          : zsock_last_endpoint (self->data);
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
    self->session = zetl_session_new (self->args.coordinator, ZETL_ROLE_SINK, self->args.name,
                                      self->endpoint);
    self->poller = zpoller_new (pipe, self->data, NULL);
    zetl_session_poll_with (self->session, self->poller);
    zsock_send (pipe, "ss", "READY", self->endpoint);
    zetl_log_info ("sink", "started",
                   json_pack ("{s:s, s:s, s:s}", "name", self->args.name, "data", self->endpoint,
                              "coordinator", self->args.coordinator));

    while (!self->terminated) {
        int64_t wait_ms = zetl_session_tick (self->session, self->busy);
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
    zsock_destroy (&self->data);
    free (self->endpoint);
    free (self);
}
