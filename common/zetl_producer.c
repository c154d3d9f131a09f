/*  zetl_producer - a client that sends records to a zetl pipeline and keeps them until ACKed  */
#include "zetl_producer.h"
#include "zetl_config.h"
#include "zetl_jsonl.h"
#include "zetl_log.h"
#include "zetl_proto.h"
#include "zetl_proto_walk.h"

#include <errno.h>

#define S_HELLO_MS 1000                   //  repeat an unanswered HELLO this often
#define S_HELLO_RETRY_MS 100              //  or this soon when it could not be sent at all
#define S_BATCH_BYTES (16 * 1024 * 1024)  //  a batch is also full with this many bytes of entries
#define S_DRAIN_MAX 256                   //  messages handled per turn, so timers stay on time
#define S_SLICE_MS 250                    //  longest single wait: signals are seen between waits
#define S_WINDOW_MAX 1024                 //  most batches a window holds

//  A batch sent and held until ACKed, in a slot of the window
typedef struct {
    uint64_t sequence;  //  its sequence number: batch_id on the wire
    uint32_t count;     //  records in it
    uint32_t sends;     //  times it was sent (attempt = sends + 1 on the next)
    zframe_t *body;     //  its body, or NULL once ACKed
} s_batch_t;

struct zetl_producer {
    char *endpoint;                   //  the coordinator's cluster.producers endpoint
    char *name;                       //  this producer's id, and its source name in bodies
    char *pipeline_id;                //  the pipeline fed; if not given, set at WELCOME
    zetl_producer_options_t options;  //  as given; batch_size resolved on the first WELCOME
    zsock_t *dealer;                  //  link to the coordinator
    zetl_config_t *config;            //  the configuration of the last usable WELCOME, or NULL
    uint64_t config_hash;             //  the hash that WELCOME gave: carried by every BATCH
    uint32_t epoch;                   //  the coordinator's epoch from that WELCOME
    uint32_t pipeline;                //  index of pipeline_id in config
    bool welcomed;                    //  a WELCOME answered the last HELLO
    bool ever_welcomed;               //  true after the first WELCOME
    int64_t next_hello_ms;            //  when to say HELLO again while not welcomed
    char *refusal;                    //  why the first WELCOME could not be used, for new (owned)
    s_batch_t *window;                //  ring of options.window slots
    uint32_t head;                    //  slot of the oldest batch held: never ACKed when held > 0
    uint32_t held;                    //  slots in use from head on (ACKed ones among them empty)
    uint64_t next_sequence;           //  sequence the next batch gets
    int64_t resend_at_ms;             //  resend what is held if no ACK comes by then
    zetl_body_writer_t *writer;       //  the batch being filled
    uint32_t source;                  //  this producer's index in the writer's source names
    int64_t first_record_ms;          //  when the batch being filled got its first record
    bool flushing;                    //  inside zetl_producer_flush: a partial batch leaves at once
    zetl_jsonl_t *jsonl;              //  JSON text to msgpack for send_json, made on first use
    msgpack_sbuffer packed;           //  its output, one record at a time
    zetl_producer_stats_t stats;      //  counters (held and pending filled in on request)
    zetl_log_limit_t bad_frames;      //  undecodable frames from the coordinator
    zetl_log_limit_t errors;          //  ERRORs from the coordinator we only log
    zetl_log_limit_t resends;         //  resends for want of an ACK
};

void
zetl_producer_options_init (zetl_producer_options_t *options)
{
    assert (options);
    options->batch_size = 0;
    options->linger_ms = 50;
    options->window = 8;
    options->resend_ms = 5000;
    options->connect_timeout_ms = 5000;
    options->send_timeout_ms = 0;
}

//  ---------------------------------------------------------------------
//  The session: HELLO, WELCOME, ERROR

static void
s_send_hello (zetl_producer_t *self)
{
    zetl_msg_t *hello = zetl_msg_new (ZETL_MSG_HELLO);
    hello->code = ZETL_ROLE_PRODUCER;
    zetl_msg_set_str (&hello->name, self->name);
    //  Refused only while not connected (ZMQ_IMMEDIATE): then try again soon
    int rc = zetl_msg_send (hello, self->dealer);
    zetl_msg_destroy (&hello);
    self->welcomed = false;
    self->next_hello_ms = zclock_mono () + (rc == 0 ? S_HELLO_MS : S_HELLO_RETRY_MS);
}

//  Write the ids of CONFIG's pipelines, comma-separated, into LIST (SIZE bytes)
static void
s_pipeline_list (const zetl_config_t *config, char *list, size_t size)
{
    size_t used = 0;
    list[0] = '\0';
    for (size_t index = 0; index < config->pipeline_count && used + 1 < size; index++) {
        int n = snprintf (list + used, size - used, "%s%s", index ? ", " : "",
                          config->pipelines[index].id);
        used += n > 0 ? (size_t) n : 0;
    }
}

//  Find the pipeline to feed in CONFIG. Returns its index, or -1 with
//  self->refusal set
static int
s_find_pipeline (zetl_producer_t *self, const zetl_config_t *config)
{
    char list[512];
    s_pipeline_list (config, list, sizeof list);
    if (!self->pipeline_id) {
        if (config->pipeline_count == 1)
            return 0;
        self->refusal =
            zsys_sprintf ("the coordinator at %s runs %zu pipelines (%s): say which one "
                          "to feed",
                          self->endpoint, config->pipeline_count, list);
        return -1;
    }
    for (size_t index = 0; index < config->pipeline_count; index++)
        if (streq (config->pipelines[index].id, self->pipeline_id))
            return (int) index;
    self->refusal = zsys_sprintf ("pipeline \"%s\" is not in the configuration of the coordinator "
                                  "at %s (its pipelines: %s)",
                                  self->pipeline_id, self->endpoint, list);
    return -1;
}

//  Adopt the configuration of WELCOME if it is new. Returns 0, or -1 with
//  self->refusal set when it cannot be used
static int
s_adopt (zetl_producer_t *self, zetl_msg_t *welcome)
{
    if (self->config && self->config_hash == welcome->config_hash)
        return 0;
    zstr_free (&self->refusal);
    if (!welcome->body) {
        self->refusal = zsys_sprintf ("the coordinator at %s sent WELCOME without its "
                                      "configuration; run the same zetl version on both sides",
                                      self->endpoint);
        return -1;
    }
    char *error = NULL;
    zetl_config_t *config =
        zetl_config_parse ((const char *) zframe_data (welcome->body), zframe_size (welcome->body),
                           "coordinator configuration", &error);
    if (!config) {
        self->refusal = zsys_sprintf ("the configuration of the coordinator at %s does not parse "
                                      "here (%s); run the same zetl version on both sides",
                                      self->endpoint, error ? error : "?");
        free (error);
        return -1;
    }
    int index = s_find_pipeline (self, config);
    if (index < 0) {
        zetl_config_destroy (&config);
        return -1;
    }
    if (!self->pipeline_id)
        self->pipeline_id = strdup (config->pipelines[index].id);
    zetl_config_destroy (&self->config);
    self->config = config;
    self->config_hash = welcome->config_hash;
    self->pipeline = (uint32_t) index;
    return 0;
}

static s_batch_t *s_slot (zetl_producer_t *self, uint32_t index);
static void s_ack (zetl_producer_t *self, uint64_t sequence);
static void s_resend_all (zetl_producer_t *self);

static void
s_welcome (zetl_producer_t *self, zetl_msg_t *welcome)
{
    uint64_t hash_before = self->config_hash;
    if (s_adopt (self, welcome) != 0) {
        //  A configuration without our pipeline (a reload) or from another
        //  version: hold everything, and ask again only at the resend pace
        if (self->ever_welcomed)
            zetl_log_error ("producer", "welcome_unusable",
                            json_pack ("{s:s, s:s}", "name", self->name, "error", self->refusal));
        self->welcomed = false;
        self->next_hello_ms = zclock_mono () + self->options.resend_ms;
        return;
    }
    //  A new session: the coordinator may have lost whatever was on its way
    bool new_session = self->ever_welcomed && (!self->welcomed || welcome->epoch != self->epoch ||
                                               welcome->config_hash != hash_before);
    self->epoch = welcome->epoch;
    self->welcomed = true;
    self->ever_welcomed = true;

    //  Everything up to batch_id is ACKed: ACKs may have been lost on the way
    if (self->held > 0) {
        //  By sequence, not slot: each ACK may move the head
        uint64_t first = s_slot (self, 0)->sequence;
        uint64_t last = first + self->held - 1;
        for (uint64_t sequence = first; sequence <= last && sequence <= welcome->batch_id;
             sequence++)
            s_ack (self, sequence);
    }
    if (welcome->batch_id >= self->next_sequence) {
        //  After a restart this is where our numbering goes on. Beyond what
        //  this producer sent, it means another one uses the same name
        if (self->stats.batches > 0)
            zetl_log_warn ("producer", "producer_name_shared",
                           json_pack ("{s:s, s:I, s:I, s:s}", "name", self->name, "acked",
                                      (json_int_t) welcome->batch_id, "sent",
                                      (json_int_t) (self->next_sequence - 1), "hint",
                                      "give every producer a name of its own"));
        self->next_sequence = welcome->batch_id + 1;
    }
    //  A producer that has sent nothing yet numbers above every sequence of
    //  its name the coordinator took or has committed records of (attempt),
    //  so that its records are never mistaken for replays of an earlier run
    if (self->stats.batches == 0 && welcome->attempt >= self->next_sequence)
        self->next_sequence = (uint64_t) welcome->attempt + 1;
    if (new_session) {
        zetl_log_info ("producer", "producer_session",
                       json_pack ("{s:s, s:i, s:i}", "name", self->name, "epoch", (int) self->epoch,
                                  "held", (int) self->held));
        s_resend_all (self);
    }
}

static void
s_error (zetl_producer_t *self, zetl_msg_t *error)
{
    if (error->code == ZETL_ERR_UNKNOWN_PEER || error->code == ZETL_ERR_CONFIG) {
        //  The coordinator restarted, was replaced, or reloaded: a new
        //  session. While a HELLO is out, the ERRORs for what we sent
        //  before it need no HELLO of their own
        if (self->welcomed) {
            zetl_log_warn ("producer", "producer_rehello",
                           json_pack ("{s:s, s:i, s:s}", "name", self->name, "code",
                                      (int) error->code, "text", error->text ? error->text : ""));
            s_send_hello (self);
        }
        return;
    }
    if (!self->ever_welcomed && !self->refusal)
        self->refusal =
            zsys_sprintf ("the coordinator at %s refused HELLO: %s (error %u)", self->endpoint,
                          error->text ? error->text : "", (unsigned) error->code);
    if (zetl_log_every (&self->errors, 60000))
        zetl_log (error->code == ZETL_ERR_VERSION ? ZETL_LOG_ERROR : ZETL_LOG_WARN, "producer",
                  "coordinator_error",
                  json_pack ("{s:s, s:i, s:s, s:I, s:I}", "name", self->name, "code",
                             (int) error->code, "text", error->text ? error->text : "", "batch_id",
                             (json_int_t) error->batch_id, "seen", (json_int_t) self->errors.seen));
}

//  ---------------------------------------------------------------------
//  The window

static s_batch_t *
s_slot (zetl_producer_t *self, uint32_t index)
{
    return &self->window[(self->head + index) % self->options.window];
}

static bool
s_room (const zetl_producer_t *self)
{
    return self->held < self->options.window;
}

static void
s_send_batch (zetl_producer_t *self, s_batch_t *batch)
{
    if (!self->welcomed)
        return;  //  It goes with the others once WELCOME comes
    zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_BATCH);
    msg->config_hash = self->config_hash;
    msg->epoch = self->epoch;
    msg->batch_id = batch->sequence;
    msg->pipeline = self->pipeline;
    msg->count = batch->count;
    msg->attempt = batch->sends + 1;
    msg->body = batch->body;  //  Lent: the codec sends a reference and we keep the frame
    int rc = zetl_msg_send (msg, self->dealer);
    msg->body = NULL;
    zetl_msg_destroy (&msg);
    //  A send refused (not connected, or the queue full) changes nothing:
    //  the batch is held and goes again at the next resend
    if (rc == 0 && batch->sends++ > 0)
        self->stats.resent++;
}

//  Send every batch not ACKed again, in sequence, with the same numbers
static void
s_resend_all (zetl_producer_t *self)
{
    for (uint32_t index = 0; index < self->held; index++) {
        s_batch_t *batch = s_slot (self, index);
        if (batch->body)
            s_send_batch (self, batch);
    }
    self->resend_at_ms = zclock_mono () + self->options.resend_ms;
}

static void
s_ack (zetl_producer_t *self, uint64_t sequence)
{
    if (self->held == 0)
        return;
    uint64_t first = s_slot (self, 0)->sequence;
    if (sequence < first || sequence - first >= self->held)
        return;  //  An ACK again for a batch long ACKed, or for none of ours
    s_batch_t *batch = s_slot (self, (uint32_t) (sequence - first));
    if (!batch->body)
        return;
    zframe_destroy (&batch->body);
    self->stats.acked++;
    self->stats.records_acked += batch->count;
    while (self->held > 0 && !s_slot (self, 0)->body) {
        self->head = (self->head + 1) % self->options.window;
        self->held--;
    }
    //  Progress: the resend clock starts again
    self->resend_at_ms = zclock_mono () + self->options.resend_ms;
}

static bool
s_full (zetl_producer_t *self)
{
    return zetl_body_writer_count (self->writer) >= self->options.batch_size ||
           zetl_body_writer_size (self->writer) >= S_BATCH_BYTES;
}

//  Turn the batch being filled into the next in the window, and send it
static void
s_seal (zetl_producer_t *self)
{
    assert (s_room (self));
    assert (zetl_body_writer_count (self->writer) > 0);
    if (self->held == 0)
        self->resend_at_ms = zclock_mono () + self->options.resend_ms;
    s_batch_t *batch = s_slot (self, self->held++);
    batch->sequence = self->next_sequence++;
    batch->count = zetl_body_writer_count (self->writer);
    batch->sends = 0;
    batch->body = zetl_body_writer_finish (self->writer);
    self->stats.batches++;
    s_send_batch (self, batch);
}

//  ---------------------------------------------------------------------
//  The loop: what arrives, what is due

static void
s_handle (zetl_producer_t *self, zetl_msg_t *msg)
{
    switch (msg->type) {
    case ZETL_MSG_WELCOME:
        s_welcome (self, msg);
        break;
    case ZETL_MSG_ACK:
        s_ack (self, msg->batch_id);
        break;
    case ZETL_MSG_ERROR:
        s_error (self, msg);
        break;
    default:
        break;  //  Nothing else is for producers: ignored
    }
}

//  Handle what the coordinator sent, a bounded number of messages
static void
s_drain (zetl_producer_t *self)
{
    for (int n = 0; n < S_DRAIN_MAX && (zsock_events (self->dealer) & ZMQ_POLLIN); n++) {
        const char *reason = NULL;
        zetl_msg_t *msg = zetl_msg_recv (self->dealer, &reason);
        if (msg) {
            s_handle (self, msg);
            zetl_msg_destroy (&msg);
        }
        else if (!reason)
            break;  //  Interrupted
        else if (zetl_log_every (&self->bad_frames, 60000))
            zetl_log_warn ("producer", "frame_malformed",
                           json_pack ("{s:s, s:s, s:I}", "peer", "coordinator", "reason", reason,
                                      "seen", (json_int_t) self->bad_frames.seen));
    }
}

static void
s_timers (zetl_producer_t *self, int64_t now)
{
    if (!self->welcomed) {
        if (now >= self->next_hello_ms)
            s_send_hello (self);
    }
    else if (self->held > 0 && now >= self->resend_at_ms) {
        //  No ACK for resend_ms: a batch or its ACK was lost, or the
        //  pipeline is slow. Either way the coordinator drops what it has
        if (zetl_log_every (&self->resends, 60000))
            zetl_log_info ("producer", "batches_resent",
                           json_pack ("{s:s, s:i, s:I, s:I}", "name", self->name, "held",
                                      (int) self->held, "first",
                                      (json_int_t) s_slot (self, 0)->sequence, "seen",
                                      (json_int_t) self->resends.seen));
        s_resend_all (self);
    }
    uint32_t count = zetl_body_writer_count (self->writer);
    if (count > 0 && s_room (self) &&
        (self->flushing || s_full (self) || now - self->first_record_ms >= self->options.linger_ms))
        s_seal (self);
}

//  When s_timers next has something to do, or INT64_MAX
static int64_t
s_next_due (zetl_producer_t *self, int64_t now)
{
    int64_t due = INT64_MAX;
    if (!self->welcomed)
        due = self->next_hello_ms;
    else if (self->held > 0)
        due = self->resend_at_ms;
    if (zetl_body_writer_count (self->writer) > 0 && s_room (self)) {
        int64_t seal =
            self->flushing || s_full (self) ? now : self->first_record_ms + self->options.linger_ms;
        if (seal < due)
            due = seal;
    }
    return due;
}

//  One turn: handle what came and what is due, wait up to TIMEOUT_MS (at
//  most one slice, no later than the next thing due) for the coordinator,
//  and again. Returns 0, or -1 when interrupted
static int
s_pump (zetl_producer_t *self, int64_t timeout_ms)
{
    s_drain (self);
    int64_t now = zclock_mono ();
    s_timers (self, now);
    int64_t wait = s_next_due (self, now) - now;
    if (wait > timeout_ms)
        wait = timeout_ms;
    if (wait > S_SLICE_MS)
        wait = S_SLICE_MS;
    if (wait > 0) {
        zmq_pollitem_t item = {zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0};
        if (zmq_poll (&item, 1, (long) wait) == -1 && errno == ETERM)
            return -1;
        s_drain (self);
        s_timers (self, zclock_mono ());
    }
    return zsys_interrupted ? -1 : 0;
}

//  Turn until DONE (SELF) holds. Returns 0, or -1 with errno TIMEOUT_ERRNO
//  when DEADLINE_MS (monotonic, -1 for none) passes, EINTR when interrupted
static int
s_wait_until (zetl_producer_t *self, bool (*done) (zetl_producer_t *), int64_t deadline_ms,
              int timeout_errno)
{
    while (!done (self)) {
        int64_t wait = S_SLICE_MS;
        if (deadline_ms >= 0) {
            wait = deadline_ms - zclock_mono ();
            if (wait <= 0) {
                errno = timeout_errno;
                return -1;
            }
        }
        if (zsys_interrupted || s_pump (self, wait) != 0) {
            errno = EINTR;
            return -1;
        }
    }
    return 0;
}

static bool
s_welcomed_or_refused (zetl_producer_t *self)
{
    return self->ever_welcomed || self->refusal;
}

static bool
s_not_full (zetl_producer_t *self)
{
    return !s_full (self);
}

static bool
s_all_acked (zetl_producer_t *self)
{
    return self->held == 0 && zetl_body_writer_count (self->writer) == 0;
}

//  ---------------------------------------------------------------------
//  The API

static bool
s_name_valid (const char *name)
{
    size_t left = strlen (name);
    if (left == 0 || left > ZETL_PROTO_MAX_STRING)
        return false;
    for (const uint8_t *p = (const uint8_t *) name; left > 0;) {
        size_t size = zetl_walk_utf8_char (p, left);
        if (size == 0)
            return false;
        p += size;
        left -= size;
    }
    return true;
}

static char *
s_options_error (const zetl_producer_options_t *options)
{
    if (options->batch_size > ZETL_PRODUCER_MAX_BATCH)
        return zsys_sprintf ("batch_size %u is out of range; use 1..%d, or 0 for the pipeline's",
                             (unsigned) options->batch_size, ZETL_PRODUCER_MAX_BATCH);
    if (options->window < 1 || options->window > S_WINDOW_MAX)
        return zsys_sprintf ("window %u is out of range; use 1..%d (default 8)",
                             (unsigned) options->window, S_WINDOW_MAX);
    if (options->linger_ms < 0 || options->resend_ms < 1 || options->connect_timeout_ms < 0 ||
        options->send_timeout_ms < 0)
        return strdup ("linger_ms, connect_timeout_ms and send_timeout_ms must be 0 or more, "
                       "and resend_ms 1 or more");
    return NULL;
}

static void
s_connect (zetl_producer_t *self)
{
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zsock_set_linger (self->dealer, 0);
    //  Send nothing into a link not yet (or no longer) up: a coordinator
    //  that comes back gets the held batches once, at the next resend,
    //  rather than a queue of stale copies
    zsock_set_immediate (self->dealer, 1);
    zsock_set_sndhwm (self->dealer, (int) self->options.window * 2 + 16);
    zsock_set_rcvhwm (self->dealer, 10000);
    zsock_set_maxmsgsize (self->dealer, ZETL_PROTO_MAX_BODY);
}

zetl_producer_t *
zetl_producer_new (const char *endpoint, const char *name, const char *pipeline,
                   const zetl_producer_options_t *options, char **error)
{
    assert (endpoint);
    assert (name);
    assert (error);
    *error = NULL;
    zetl_producer_options_t resolved;
    if (options)
        resolved = *options;
    else
        zetl_producer_options_init (&resolved);
    if (!s_name_valid (name)) {
        *error = strdup ("a producer name must be 1 to 1024 bytes of UTF-8; give each producer a "
                         "stable name of its own");
        return NULL;
    }
    if ((*error = s_options_error (&resolved)))
        return NULL;

    zetl_producer_t *self = (zetl_producer_t *) zmalloc (sizeof (zetl_producer_t));
    self->endpoint = strdup (endpoint);
    self->name = strdup (name);
    self->pipeline_id = pipeline ? strdup (pipeline) : NULL;
    self->options = resolved;
    self->window = (s_batch_t *) zmalloc (resolved.window * sizeof (s_batch_t));
    self->next_sequence = 1;
    self->writer = zetl_body_writer_new ();
    msgpack_sbuffer_init (&self->packed);
    s_connect (self);
    if (zsock_connect (self->dealer, "%s", endpoint) != 0) {
        *error = zsys_sprintf ("cannot connect to the coordinator at \"%s\": %s; give its "
                               "cluster.producers endpoint, such as tcp://host:5570",
                               endpoint, zmq_strerror (zmq_errno ()));
        zetl_producer_destroy (&self);
        return NULL;
    }
    s_send_hello (self);
    int64_t deadline = zclock_mono () + resolved.connect_timeout_ms;
    if (s_wait_until (self, s_welcomed_or_refused, deadline, ETIMEDOUT) != 0 || self->refusal) {
        if (self->refusal)
            *error = strdup (self->refusal);
        else if (errno == EINTR)
            *error = strdup ("interrupted while waiting for the coordinator's WELCOME");
        else
            *error = zsys_sprintf ("no WELCOME from the coordinator at %s within %lld ms; is it "
                                   "running, and is this its cluster.producers endpoint?",
                                   endpoint, (long long) resolved.connect_timeout_ms);
        zetl_producer_destroy (&self);
        return NULL;
    }
    if (self->options.batch_size == 0) {
        int64_t size = self->config->pipelines[self->pipeline].batch_size;
        self->options.batch_size =
            (uint32_t) (size < 1                         ? 1
                        : size > ZETL_PRODUCER_MAX_BATCH ? ZETL_PRODUCER_MAX_BATCH
                                                         : size);
    }
    zetl_log_info ("producer", "producer_connected",
                   json_pack ("{s:s, s:s, s:s, s:i, s:i, s:I}", "name", self->name, "endpoint",
                              self->endpoint, "pipeline", self->pipeline_id, "epoch",
                              (int) self->epoch, "batch_size", (int) self->options.batch_size,
                              "next_sequence", (json_int_t) self->next_sequence));
    return self;
}

void
zetl_producer_destroy (zetl_producer_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_producer_t *self = *self_p;
        uint32_t unacked = 0;
        uint64_t records = zetl_body_writer_count (self->writer);
        for (uint32_t index = 0; index < self->held; index++) {
            s_batch_t *batch = s_slot (self, index);
            if (batch->body) {
                unacked++;
                records += batch->count;
                zframe_destroy (&batch->body);
            }
        }
        if (records > 0)
            zetl_log_warn ("producer", "producer_closed_unacked",
                           json_pack ("{s:s, s:i, s:I, s:s}", "name", self->name, "batches",
                                      (int) unacked, "records", (json_int_t) records, "hint",
                                      "call zetl_producer_flush before closing"));
        if (self->welcomed) {
            zetl_msg_t *bye = zetl_msg_new (ZETL_MSG_BYE);
            bye->config_hash = self->config_hash;
            bye->epoch = self->epoch;
            //  Best effort: the coordinator copes without. A short linger
            //  lets it leave, and bounds what ending the ZeroMQ context waits
            zsock_set_linger (self->dealer, 100);
            zetl_msg_send (bye, self->dealer);
            zetl_msg_destroy (&bye);
        }
        zsock_destroy (&self->dealer);
        zetl_config_destroy (&self->config);
        zetl_body_writer_destroy (&self->writer);
        zetl_jsonl_destroy (&self->jsonl);
        msgpack_sbuffer_destroy (&self->packed);
        free (self->window);
        zstr_free (&self->refusal);
        free (self->endpoint);
        free (self->name);
        free (self->pipeline_id);
        free (self);
        *self_p = NULL;
    }
}

//  True if DATA (LEN bytes) is exactly one msgpack map, checked as the
//  coordinator's body reader will: one bad record would hold back the whole
//  batch, resent forever
static bool
s_one_map (const void *data, size_t len)
{
    zetl_walk_cursor_t cur = {(const uint8_t *) data, (const uint8_t *) data + len};
    zetl_walk_item_t item;
    if (zetl_walk_item (&cur, &item) || item.type != MSGPACK_OBJECT_MAP)
        return false;
    cur.ptr = (const uint8_t *) data;
    size_t budget = ZETL_WALK_MAX_OBJECTS;
    return !zetl_walk_skip (&cur, 0, &budget) && cur.ptr == cur.end;
}

//  Take a checked record: wait for room if the batch being filled is full
static int
s_add (zetl_producer_t *self, const void *data, size_t len)
{
    s_pump (self, 0);
    if (s_full (self)) {
        int64_t deadline =
            self->options.send_timeout_ms > 0 ? zclock_mono () + self->options.send_timeout_ms : -1;
        if (s_wait_until (self, s_not_full, deadline, EAGAIN) != 0)
            return -1;
    }
    uint32_t position = zetl_body_writer_count (self->writer);
    if (position == 0) {
        //  A finished body forgets its names: each batch names us again
        self->source = zetl_body_writer_source (self->writer, self->name);
        self->first_record_ms = zclock_mono ();
    }
    zetl_body_writer_append (self->writer, self->source, position, 0, 0, NULL, data, len);
    self->stats.records++;
    if (s_full (self) && s_room (self))
        s_seal (self);
    return 0;
}

int
zetl_producer_send (zetl_producer_t *self, const void *data, size_t len)
{
    assert (self);
    assert (data || len == 0);
    if (len == 0 || len > ZETL_PRODUCER_MAX_RECORD || !s_one_map (data, len)) {
        errno = EINVAL;
        return -1;
    }
    return s_add (self, data, len);
}

int
zetl_producer_send_json (zetl_producer_t *self, const char *text, size_t len, const char **error)
{
    assert (self);
    assert (text || len == 0);
    const char *ignored;
    if (!error)
        error = &ignored;
    *error = NULL;
    while (len > 0 && text[len - 1] == '\n')
        len--;
    if (!self->jsonl)
        self->jsonl = zetl_jsonl_new (NULL, 0);
    self->packed.size = 0;
    const char *reason = NULL;
    if (zetl_jsonl_convert (self->jsonl, text, len, &self->packed, NULL, &reason) != 0) {
        *error = reason;
        errno = EINVAL;
        return -1;
    }
    if (self->packed.size > ZETL_PRODUCER_MAX_RECORD) {
        *error = "record larger than 16 MiB packed";
        errno = EINVAL;
        return -1;
    }
    if (s_add (self, self->packed.data, self->packed.size) != 0) {
        *error = errno == EAGAIN ? "no room in the window within send_timeout_ms: nothing ACKed"
                                 : "interrupted";
        return -1;
    }
    return 0;
}

int
zetl_producer_flush (zetl_producer_t *self, int64_t timeout_ms)
{
    assert (self);
    int64_t deadline = timeout_ms >= 0 ? zclock_mono () + timeout_ms : -1;
    self->flushing = true;
    int rc = s_wait_until (self, s_all_acked, deadline, ETIMEDOUT);
    self->flushing = false;
    if (rc == 0) {
        //  All sent is committed: this producer has nothing more for now, and
        //  says so, so that it stops holding the watermark back
        zetl_msg_t *caught_up = zetl_msg_new (ZETL_MSG_HEARTBEAT);
        caught_up->code = ZETL_CAUGHT_UP;
        caught_up->pipeline = self->pipeline;
        zetl_msg_send (caught_up, self->dealer);
        zetl_msg_destroy (&caught_up);
    }
    return rc;
}

int64_t
zetl_producer_poll (zetl_producer_t *self, int64_t timeout_ms)
{
    assert (self);
    int64_t deadline = zclock_mono () + (timeout_ms > 0 ? timeout_ms : 0);
    int64_t now;
    do {
        if (s_pump (self, deadline - zclock_mono ()) != 0)
            break;
        now = zclock_mono ();
    } while (now < deadline);
    if (s_all_acked (self))
        return -1;
    now = zclock_mono ();
    int64_t due = s_next_due (self, now);
    return due <= now ? 0 : due - now;
}

void
zetl_producer_stats (zetl_producer_t *self, zetl_producer_stats_t *stats)
{
    assert (self);
    assert (stats);
    *stats = self->stats;
    stats->held = 0;
    for (uint32_t index = 0; index < self->held; index++)
        if (s_slot (self, index)->body)
            stats->held++;
    stats->pending = zetl_body_writer_count (self->writer);
}

uint32_t
zetl_producer_pipeline (zetl_producer_t *self)
{
    assert (self);
    return self->pipeline;
}

uint32_t
zetl_producer_batch_size (zetl_producer_t *self)
{
    assert (self);
    return self->options.batch_size;
}
