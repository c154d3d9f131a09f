/*  zetl_session - a worker's or sink's link to the coordinator  */
#include "zetl_session.h"
#include "zetl_curve.h"
#include "zetl_log.h"

struct zetl_session {
    char *endpoint;          //  coordinator endpoint
    zetl_role_t role;        //  worker or sink
    char *name;              //  this peer's name
    char *advertise;         //  sinks: data endpoint, else NULL
    zsock_t *dealer;         //  link to the coordinator
    zpoller_t *poller;       //  where the dealer is polled, or NULL (borrowed)
    zetl_config_t *config;   //  adopted configuration, or NULL
    zetl_config_t *previous; //  the one before, kept until the next change
    uint64_t generation;     //  bumped on each adoption
    uint64_t welcomes;       //  WELCOMEs received
    uint32_t epoch;          //  coordinator epoch
    int64_t last_heard_ms;   //  monotonic time of the last message from the coordinator
    int64_t next_beat_ms;    //  when the next heartbeat is due
    int64_t next_hello_ms;   //  when to repeat HELLO while not welcomed
    zetl_log_limit_t bad_frames;  //  malformed frames from the coordinator
    zetl_session_load_fn *load_fn;  //  fills heartbeats' load, or NULL
    void *load_arg;                 //  its argument
};

static const char *
s_role_name (zetl_role_t role)
{
    return role == ZETL_ROLE_WORKER ? "worker" : role == ZETL_ROLE_SINK ? "sink" : "producer";
}

static void
s_send_hello (zetl_session_t *self)
{
    zetl_msg_t *hello = zetl_msg_new (ZETL_MSG_HELLO);
    hello->code = self->role;
    hello->config_hash = self->config ? self->config->hash : 0;
    zetl_msg_set_str (&hello->name, self->name);
    zetl_msg_set_str (&hello->endpoint, self->advertise);
    //  A sink says which key its data endpoint serves with, for the workers
    if (self->role == ZETL_ROLE_SINK)
        zetl_msg_set_str (&hello->text, zetl_curve_public ());
    zetl_msg_send (hello, self->dealer);
    zetl_msg_destroy (&hello);
    self->next_hello_ms = zclock_mono () + ZETL_HEARTBEAT_MS;
}

static void
s_connect (zetl_session_t *self)
{
    if (self->poller && self->dealer)
        zpoller_remove (self->poller, self->dealer);
    zsock_destroy (&self->dealer);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    if (self->poller)
        zpoller_add (self->poller, self->dealer);
    zsock_set_linger (self->dealer, 0);
    zsock_set_sndhwm (self->dealer, 10000);
    zsock_set_rcvhwm (self->dealer, 10000);
    zetl_curve_connect (self->dealer, NULL);
    if (zsock_connect (self->dealer, "%s", self->endpoint) != 0)
        zetl_log_error ("session", "connect_failed",
                        json_pack ("{s:s, s:s}", "endpoint", self->endpoint, "hint",
                                   "check --coordinator or ZETL_COORDINATOR"));
    self->last_heard_ms = zclock_mono ();
    self->next_beat_ms = self->last_heard_ms + ZETL_HEARTBEAT_MS;
    s_send_hello (self);
}

zetl_session_t *
zetl_session_new (const char *endpoint, zetl_role_t role, const char *name, const char *advertise)
{
    zetl_session_t *self = (zetl_session_t *) zmalloc (sizeof (zetl_session_t));
    self->endpoint = strdup (endpoint);
    self->role = role;
    self->name = strdup (name);
    self->advertise = advertise ? strdup (advertise) : NULL;
    s_connect (self);
    return self;
}

void
zetl_session_destroy (zetl_session_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_session_t *self = *self_p;
        if (self->dealer && self->config) {
            zetl_msg_t *bye = zetl_msg_new (ZETL_MSG_BYE);
            zetl_session_send (self, bye);
            zetl_msg_destroy (&bye);
        }
        if (self->poller)
            zpoller_remove (self->poller, self->dealer);
        zsock_destroy (&self->dealer);
        zetl_config_destroy (&self->config);
        zetl_config_destroy (&self->previous);
        free (self->endpoint);
        free (self->name);
        free (self->advertise);
        free (self);
        *self_p = NULL;
    }
}

void
zetl_session_poll_with (zetl_session_t *self, zpoller_t *poller)
{
    assert (!self->poller);
    self->poller = poller;
    zpoller_add (poller, self->dealer);
}

zsock_t *
zetl_session_socket (zetl_session_t *self)
{
    return self->dealer;
}

static void
s_adopt (zetl_session_t *self, zetl_msg_t *welcome)
{
    self->epoch = welcome->epoch;
    self->welcomes++;
    if (self->config && self->config->hash == welcome->config_hash)
        return;  //  Same configuration: a reconnect, nothing to rebuild
    if (!welcome->body) {
        zetl_log_error ("session", "welcome_without_config", NULL);
        return;
    }
    char *error = NULL;
    zetl_config_t *config =
        zetl_config_parse ((const char *) zframe_data (welcome->body), zframe_size (welcome->body),
                           "coordinator configuration", &error);
    if (!config) {
        zetl_log_error ("session", "config_rejected",
                        json_pack ("{s:s, s:s}", "error", error ? error : "?", "hint",
                                   "run the same zetl version on coordinator, workers and sinks"));
        free (error);
        return;
    }
    zetl_config_destroy (&self->previous);
    self->previous = self->config;
    self->config = config;
    self->generation++;
    zetl_log_info ("session", "config_adopted",
                   json_pack ("{s:s, s:I, s:i}", "role", s_role_name (self->role), "hash",
                              (json_int_t) config->hash, "epoch", (int) self->epoch));
}

zetl_msg_t *
zetl_session_recv (zetl_session_t *self)
{
    const char *reason = NULL;
    zetl_msg_t *msg = zetl_msg_recv (self->dealer, &reason);
    if (!msg) {
        if (reason && zetl_log_every (&self->bad_frames, 60000))
            zetl_log_warn ("session", "frame_malformed",
                           json_pack ("{s:s, s:s, s:I}", "peer", "coordinator", "reason", reason,
                                      "seen", (json_int_t) self->bad_frames.seen));
        return NULL;
    }
    self->last_heard_ms = zclock_mono ();
    switch (msg->type) {
    case ZETL_MSG_WELCOME:
        s_adopt (self, msg);
        zetl_msg_destroy (&msg);
        return NULL;
    case ZETL_MSG_HEARTBEAT:
        zetl_msg_destroy (&msg);
        return NULL;
    case ZETL_MSG_ERROR:
        if (msg->code == ZETL_ERR_UNKNOWN_PEER || msg->code == ZETL_ERR_CONFIG
            || msg->code == ZETL_ERR_VERSION) {
            zetl_log_warn ("session", "coordinator_refused",
                           json_pack ("{s:i, s:s}", "code", (int) msg->code, "text",
                                      msg->text ? msg->text : ""));
            s_send_hello (self);
            zetl_msg_destroy (&msg);
            return NULL;
        }
        return msg;
    default:
        return msg;
    }
}

int64_t
zetl_session_tick (zetl_session_t *self, uint32_t busy)
{
    int64_t now = zclock_mono ();
    if (now - self->last_heard_ms > ZETL_HEARTBEAT_MS * ZETL_HEARTBEAT_MISSED) {
        //  The coordinator is gone or restarted: a new socket gets a new
        //  routing id, so the coordinator sees a fresh peer
        zetl_log_warn ("session", "coordinator_silent",
                       json_pack ("{s:s, s:I}", "endpoint", self->endpoint, "silent_ms",
                                  (json_int_t) (now - self->last_heard_ms)));
        s_connect (self);
        now = zclock_mono ();
    }
    if (!self->config && now >= self->next_hello_ms)
        s_send_hello (self);
    if (now >= self->next_beat_ms) {
        zetl_msg_t *beat = zetl_msg_new (ZETL_MSG_HEARTBEAT);
        beat->credit = busy;
        if (self->load_fn)
            beat->load_count = self->load_fn (self->load_arg, beat->load);
        zetl_session_send (self, beat);
        zetl_msg_destroy (&beat);
        self->next_beat_ms = now + ZETL_HEARTBEAT_MS;
    }
    int64_t due = self->next_beat_ms - now;
    if (!self->config && self->next_hello_ms - now < due)
        due = self->next_hello_ms - now;
    return due < 0 ? 0 : due;
}

void
zetl_session_report_load (zetl_session_t *self, zetl_session_load_fn *fn, void *arg)
{
    self->load_fn = fn;
    self->load_arg = arg;
}

const zetl_config_t *
zetl_session_config (zetl_session_t *self)
{
    return self->config;
}

uint64_t
zetl_session_generation (zetl_session_t *self)
{
    return self->generation;
}

uint64_t
zetl_session_welcomes (zetl_session_t *self)
{
    return self->welcomes;
}

bool
zetl_session_holds (zetl_session_t *self, uint64_t hash)
{
    return self->config && self->config->hash == hash;
}

uint32_t
zetl_session_epoch (zetl_session_t *self)
{
    return self->epoch;
}

int
zetl_session_send (zetl_session_t *self, zetl_msg_t *msg)
{
    msg->config_hash = self->config ? self->config->hash : 0;
    msg->epoch = self->epoch;
    return zetl_msg_send (msg, self->dealer);
}

void
zetl_session_rehello (zetl_session_t *self)
{
    s_send_hello (self);
}
