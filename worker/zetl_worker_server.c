/*  zetl_worker_server - the worker process's loop, as an actor  */
#include "zetl_worker_server.h"
#include "zetl_fault.h"
#include "zetl_log.h"
#include "zetl_process.h"
#include "zetl_proto.h"
#include "zetl_proto_sinks.h"
#include "zetl_session.h"
#include "zetl_worker_load.h"
#include "zetl_curve.h"

#define S_RESULT_PATIENCE_MS 5000  //  how long a result waits for its sink
#define S_DRAIN_MS 10000           //  the longest a drain waits for results to go out
#define S_DRAIN_REPLY_MS 2000      //  the longest it waits for the coordinator's answer
#define S_RESULT_RETRY_MS 20       //  between tries
#define S_STATS_MS 10000           //  lookup counters are logged this often while they move

//  A result waiting for its sink to take it
typedef struct {
    zetl_msg_t *result;
    int64_t give_up_ms;
} s_pending_t;

typedef struct {
    zetl_worker_server_args_t args;
    zsock_t *pipe;
    zetl_session_t *session;
    zpoller_t *poller;
    zetl_process_t *process;      //  for the current configuration
    uint64_t generation;          //  configuration the processor was made for
    uint64_t welcomes;            //  WELCOMEs seen: credit is granted again after each
    zhashx_t *sinks;              //  sink name -> zsock_t * DEALER
    zhashx_t *endpoints;          //  sink name -> "endpoint key" it was connected with
    zlistx_t *pending;            //  s_pending_t
    uint64_t processed;           //  batches processed
    int64_t next_stats_ms;        //  when the lookup counters are logged next
    uint64_t lookups_logged;      //  lookups when they were logged last
    uint64_t lookups_before;      //  lookups of processors since replaced
    uint64_t hits_before;         //  their cache hits
    zetl_log_limit_t bad_frames;
    zetl_fault_t faults;          //  injected, when the environment asks for them
    zetl_worker_load_t load;      //  what heartbeats report
    bool draining;                //  leaving: takes no more batches, finishes those held
    bool drain_granted;           //  the coordinator answered DRAIN: no batch is on its way
    int64_t drain_reply_ms;       //  when to stop waiting for that answer
    int64_t drain_deadline_ms;    //  when to leave whatever is still held
    bool terminated;
} s_server_t;

static void
s_sock_free (void **item_p)
{
    zsock_destroy ((zsock_t **) item_p);
}

static void
s_pending_free (void **item_p)
{
    s_pending_t *pending = (s_pending_t *) *item_p;
    if (pending) {
        zetl_msg_destroy (&pending->result);
        free (pending);
        *item_p = NULL;
    }
}

static void
s_send_ready (s_server_t *self, uint32_t credit, uint64_t batch_id)
{
    zetl_msg_t *ready = zetl_msg_new (ZETL_MSG_READY);
    ready->credit = self->draining ? 0 : credit;
    ready->batch_id = batch_id;
    zetl_session_send (self->session, ready);
    zetl_msg_destroy (&ready);
}

static void
s_send_error (s_server_t *self, uint32_t code, uint64_t batch_id, const char *text)
{
    zetl_msg_t *error = zetl_msg_new (ZETL_MSG_ERROR);
    error->code = code;
    error->batch_id = batch_id;
    zetl_msg_set_str (&error->text, text);
    zetl_session_send (self->session, error);
    zetl_msg_destroy (&error);
}

//  The sinks of a SINKS BODY as name -> "endpoint key" ("-": no key), or
//  NULL if malformed. Caller owns the result.
static zhashx_t *
s_sink_addresses (zframe_t *body)
{
    zhashx_t *keys = NULL;
    zhashx_t *endpoints = zetl_sinks_decode (body, &keys);
    if (!endpoints)
        return NULL;
    zhashx_t *addresses = zhashx_new ();
    zhashx_set_destructor (addresses, (zhashx_destructor_fn *) zstr_free);
    for (const char *endpoint = (const char *) zhashx_first (endpoints); endpoint;
         endpoint = (const char *) zhashx_next (endpoints)) {
        const char *name = (const char *) zhashx_cursor (endpoints);
        const char *key = (const char *) zhashx_lookup (keys, name);
        zhashx_insert (addresses, name, zsys_sprintf ("%s %s", endpoint, key ? key : "-"));
    }
    zhashx_destroy (&endpoints);
    zhashx_destroy (&keys);
    return addresses;
}

//  A DEALER to the sink at ADDRESS ("endpoint key"), a CURVE client of its
//  key when CURVE is on; NULL (logged) when CURVE is on and it gave none
static zsock_t *
s_sink_dealer (const char *name, const char *address)
{
    const char *space = strchr (address, ' ');
    char *endpoint = strndup (address, (size_t) (space - address));
    const char *key = space + 1;
    zsock_t *dealer = NULL;
    if (zetl_curve_on () && !zetl_curve_key_valid (key))
        zetl_log_error ("worker", "sink_without_key",
                        json_pack ("{s:s, s:s, s:s}", "sink", name, "endpoint", endpoint, "hint",
                                   "CURVE is on here: give the sink a key pair (ZETL_CURVE_CERT)"));
    else {
        dealer = zsock_new (ZMQ_DEALER);
        zsock_set_immediate (dealer, 1);  //  Queue only to a connected sink
        zsock_set_linger (dealer, 0);
        zsock_set_sndhwm (dealer, 100);
        zetl_curve_connect (dealer, key);
        zsock_connect (dealer, "%s", endpoint);
        zetl_log_info ("worker", "sink_joined",
                       json_pack ("{s:s, s:s, s:b}", "sink", name, "endpoint", endpoint, "curve",
                                  zetl_curve_on ()));
    }
    free (endpoint);
    return dealer;
}

//  Adopt a new sink set: keep the DEALERs whose endpoint and key did not change
static void
s_update_sinks (s_server_t *self, zframe_t *body)
{
    zhashx_t *fresh = s_sink_addresses (body);
    if (!fresh) {
        zetl_log_warn ("worker", "sinks_malformed", NULL);
        return;
    }
    zlistx_t *names = zhashx_keys (self->sinks);
    for (const char *name = (const char *) zlistx_first (names); name;
         name = (const char *) zlistx_next (names)) {
        const char *now = (const char *) zhashx_lookup (fresh, name);
        const char *before = (const char *) zhashx_lookup (self->endpoints, name);
        if (!now || !before || strcmp (now, before) != 0) {
            zhashx_delete (self->sinks, name);
            zhashx_delete (self->endpoints, name);
        }
    }
    zlistx_destroy (&names);
    for (const char *address = (const char *) zhashx_first (fresh); address;
         address = (const char *) zhashx_next (fresh)) {
        const char *name = (const char *) zhashx_cursor (fresh);
        if (zhashx_lookup (self->sinks, name))
            continue;
        zsock_t *dealer = s_sink_dealer (name, address);
        if (!dealer)
            continue;
        zhashx_insert (self->sinks, name, dealer);
        zhashx_insert (self->endpoints, name, strdup (address));
    }
    zhashx_destroy (&fresh);
}

//  Try to hand RESULT to its sink. Returns 0 when sent.
static int
s_try_send (s_server_t *self, zetl_msg_t *result)
{
    zsock_t *dealer = result->sink ? (zsock_t *) zhashx_lookup (self->sinks, result->sink) : NULL;
    return dealer ? zetl_msg_send (result, dealer) : -1;
}

static void
s_handle_batch (s_server_t *self, zetl_msg_t *batch)
{
    if (batch->epoch < zetl_session_epoch (self->session))
        return;  //  From a coordinator another has replaced: it is dispatched again by the new one
    if (!zetl_session_holds (self->session, batch->config_hash) || !self->process) {
        //  A configuration we do not hold: learn it, and let the coordinator
        //  send the batch again
        zetl_session_rehello (self->session);
        s_send_error (self, ZETL_ERR_RETRY, batch->batch_id, "configuration not held yet");
        s_send_ready (self, 1, 0);
        return;
    }
    const char *reason = "refused: ZETL_FAULT_ERROR_ON matched";
    uint32_t code = ZETL_ERR_DATA;
    int64_t begun_us = zclock_usecs ();
    zetl_msg_t *result = zetl_fault_check (&self->faults, batch->body)
                             ? NULL
                             : zetl_process_batch (self->process, batch, &reason, &code);
    zetl_worker_load_busy (&self->load, zclock_usecs () - begun_us);
    if (!result) {
        s_send_error (self, code, batch->batch_id, reason);
        s_send_ready (self, 1, 0);
        return;
    }
    self->processed++;
    if (s_try_send (self, result) == 0) {
        zetl_msg_destroy (&result);
        s_send_ready (self, 1, batch->batch_id);
        return;
    }
    s_pending_t *pending = (s_pending_t *) zmalloc (sizeof (s_pending_t));
    pending->result = result;
    pending->give_up_ms = zclock_mono () + S_RESULT_PATIENCE_MS;
    zlistx_add_end (self->pending, pending);
}

//  Retry results waiting for their sink; give up on those past patience
static void
s_retry_pending (s_server_t *self)
{
    int64_t now = zclock_mono ();
    size_t count = zlistx_size (self->pending);
    //  Take each one off the front; those still waiting go back at the end
    while (count-- > 0) {
        s_pending_t *pending = (s_pending_t *) zlistx_detach (self->pending, NULL);
        uint64_t batch_id = pending->result->batch_id;
        if (s_try_send (self, pending->result) == 0)
            s_send_ready (self, 1, batch_id);
        else if (now >= pending->give_up_ms) {
            zetl_log_warn ("worker", "sink_unreachable",
                           json_pack ("{s:s, s:I}", "sink",
                                      pending->result->sink ? pending->result->sink : "",
                                      "batch", (json_int_t) batch_id));
            s_send_error (self, ZETL_ERR_RETRY, batch_id, "sink unreachable");
            s_send_ready (self, 1, 0);
        }
        else {
            zlistx_add_end (self->pending, pending);
            continue;
        }
        s_pending_free ((void **) &pending);
    }
}

//  The lookup counters for heartbeats: those of processors replaced by a
//  new configuration, and the current one's
static void
s_count_lookups (s_server_t *self)
{
    uint64_t lookups = 0, hits = 0;
    if (self->process)
        zetl_process_lookup_counts (self->process, &lookups, &hits);
    self->load.lookups = self->lookups_before + lookups;
    self->load.lookup_hits = self->hits_before + hits;
}

//  Leave without losing work: say DRAIN, so the coordinator sends nothing
//  more; finish what is held; then end (the session says BYE). Asked by
//  $TERM (a signal) or by the coordinator (WHO).
static void
s_start_drain (s_server_t *self, const char *who)
{
    if (self->draining)
        return;
    self->draining = true;
    int64_t now = zclock_mono ();
    self->drain_deadline_ms = now + S_DRAIN_MS;
    self->drain_reply_ms = now + S_DRAIN_REPLY_MS;
    zetl_log_info ("worker", "draining",
                   json_pack ("{s:s, s:s, s:i}", "name", self->args.name, "asked_by", who,
                              "results_held", (int) zlistx_size (self->pending)));
    zetl_msg_t *drain = zetl_msg_new (ZETL_MSG_DRAIN);
    if (!zetl_session_config (self->session) || zetl_session_send (self->session, drain) != 0)
        self->drain_reply_ms = now;  //  Never welcomed, or cannot say it: nothing to wait for
    zetl_msg_destroy (&drain);
}

//  Draining: done once the coordinator answered and every result is out, or
//  when it does not answer, or at the deadline (what is left is dispatched
//  again once it sees BYE)
static void
s_check_drain (s_server_t *self)
{
    int64_t now = zclock_mono ();
    bool out = zlistx_size (self->pending) == 0;
    if ((self->drain_granted && out) || (!self->drain_granted && now >= self->drain_reply_ms) ||
        now >= self->drain_deadline_ms) {
        self->terminated = true;
        zetl_log_info ("worker", self->drain_granted && out ? "drained" : "drain_cut_short",
                       json_pack ("{s:s, s:b, s:i}", "name", self->args.name, "answered",
                                  self->drain_granted, "results_held",
                                  (int) zlistx_size (self->pending)));
    }
}

static void
s_handle_session (s_server_t *self)
{
    zetl_msg_t *msg = zetl_session_recv (self->session);
    if (zetl_session_config (self->session)
        && zetl_session_generation (self->session) != self->generation) {
        s_count_lookups (self);
        self->lookups_before = self->load.lookups;
        self->hits_before = self->load.lookup_hits;
        zetl_process_destroy (&self->process);
        self->process = zetl_process_new (zetl_session_config (self->session));
        self->generation = zetl_session_generation (self->session);
    }
    if (zetl_session_welcomes (self->session) != self->welcomes) {
        //  A new session at the coordinator starts with no credit of ours
        self->welcomes = zetl_session_welcomes (self->session);
        if (self->process)
            s_send_ready (self, ZETL_WORKER_CREDIT, 0);
    }
    if (!msg)
        return;
    if (msg->type == ZETL_MSG_BATCH)
        s_handle_batch (self, msg);
    else if (msg->type == ZETL_MSG_DRAIN) {
        s_start_drain (self, "coordinator");
        self->drain_granted = true;
    }
    else if (msg->type == ZETL_MSG_SINKS)
        s_update_sinks (self, msg->body);
    else if (msg->type == ZETL_MSG_ERROR)
        zetl_log_warn ("worker", "coordinator_error",
                       json_pack ("{s:i, s:s}", "code", (int) msg->code, "text",
                                  msg->text ? msg->text : ""));
    zetl_msg_destroy (&msg);
}

//  The lookup counters, when a pipeline enriches: every S_STATS_MS while
//  they move, and at the end (FORCE)
static void
s_log_lookups (s_server_t *self, bool force)
{
    int64_t now = zclock_mono ();
    if (!self->process || (!force && now < self->next_stats_ms))
        return;
    self->next_stats_ms = now + S_STATS_MS;
    json_t *stats = zetl_process_lookup_stats (self->process);
    if (!stats)
        return;
    json_t *lookups = json_object_get (stats, "lookups");
    uint64_t count = lookups ? (uint64_t) json_integer_value (lookups) : 0;
    if (count == self->lookups_logged && !force) {
        json_decref (stats);
        return;
    }
    self->lookups_logged = count;
    json_object_set_new (stats, "name", json_string (self->args.name));
    zetl_log_info ("worker", "lookup_stats", stats);
}

void
zetl_worker_server_actor (zsock_t *pipe, void *args)
{
    s_server_t *self = (s_server_t *) zmalloc (sizeof (s_server_t));
    self->args = *(zetl_worker_server_args_t *) args;
    self->pipe = pipe;
    zetl_fault_init (&self->faults, self->args.name);
    self->sinks = zhashx_new ();
    zhashx_set_destructor (self->sinks, s_sock_free);
    self->endpoints = zhashx_new ();
    zhashx_set_destructor (self->endpoints, (zhashx_destructor_fn *) zstr_free);
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, s_pending_free);
    self->session = zetl_session_new (self->args.coordinator, ZETL_ROLE_WORKER, self->args.name, NULL);
    zetl_worker_load_init (&self->load);
    zetl_session_report_load (self->session, zetl_worker_load_report, &self->load);
    self->poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (self->poller, true);  //  A signal drains, by $TERM from main
    zetl_session_poll_with (self->session, self->poller);
    zsock_signal (pipe, 0);
    zsock_send (pipe, "ss", "READY", self->args.name);
    zetl_log_info ("worker", "started",
                   json_pack ("{s:s, s:s}", "name", self->args.name, "coordinator",
                              self->args.coordinator));
    bool told_to_end = false;  //  $TERM came: the pipe is not to be written to again
    while (!self->terminated) {
        uint32_t busy = (uint32_t) zlistx_size (self->pending);
        s_count_lookups (self);
        int64_t wait_ms = zetl_session_tick (self->session, busy);
        if ((zlistx_size (self->pending) || self->draining) && wait_ms > S_RESULT_RETRY_MS)
            wait_ms = S_RESULT_RETRY_MS;
        void *which = zpoller_wait (self->poller, (int) wait_ms);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM")) {
                told_to_end = true;
                s_start_drain (self, "signal");
            }
            free (command);
        }
        else if (which == zetl_session_socket (self->session))
            s_handle_session (self);
        else if (!which && zpoller_terminated (self->poller))
            break;
        if (zlistx_size (self->pending))
            s_retry_pending (self);
        if (self->draining)
            s_check_drain (self);
        s_log_lookups (self, false);
    }
    if (!told_to_end)
        zsock_send (pipe, "ss", "DONE", "0");  //  Drained at the coordinator's word: main ends
    s_log_lookups (self, true);
    zetl_log_info ("worker", "stopped",
                   json_pack ("{s:s, s:I}", "name", self->args.name, "batches",
                              (json_int_t) self->processed));
    zetl_process_destroy (&self->process);  //  Before the session: it borrows its configuration
    zetl_session_destroy (&self->session);  //  Before the poller it is polled with
    zpoller_destroy (&self->poller);
    zlistx_destroy (&self->pending);
    zhashx_destroy (&self->sinks);
    zhashx_destroy (&self->endpoints);
    free (self);
}
