/*  zetl_producer - a client that sends records to a zetl pipeline and keeps them until ACKed  */
#include "zetl_producer.h"
#include "zetl_curve.h"
#include "zetl_producer_internal.h"
#include "zetl_proto_walk.h"

#include <errno.h>

#define S_WINDOW_MAX 1024             //  most batches a window holds
#define S_HEARTBEAT_IVL_MS 1000       //  ZMTP PING this often
#define S_HEARTBEAT_TIMEOUT_MS 10000  //  a link with no answer to a PING for this long is dead

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

static bool
s_welcomed_or_refused (zetl_producer_t *self)
{
    return self->ever_welcomed || self->refusal;
}

static bool
s_not_full (zetl_producer_t *self)
{
    return !zetl_producer_full (self);
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
    //  A link that goes silent (a network path that drops packets without a
    //  reset) would otherwise hold the connection open, and every resend
    //  with it, until TCP gives up many minutes later. ZMTP heartbeats,
    //  answered by the coordinator's I/O thread however busy its pipeline,
    //  drop such a link after S_HEARTBEAT_TIMEOUT_MS of silence, and the
    //  DEALER connects again; the TTL tells the coordinator to drop its end too
    zsock_set_heartbeat_ivl (self->dealer, S_HEARTBEAT_IVL_MS);
    zsock_set_heartbeat_timeout (self->dealer, S_HEARTBEAT_TIMEOUT_MS);
    zsock_set_heartbeat_ttl (self->dealer, S_HEARTBEAT_TIMEOUT_MS);
    zetl_curve_connect (self->dealer, NULL);  //  A CURVE client when the process set it up
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
    self->window =
        (zetl_producer_batch_t *) zmalloc (resolved.window * sizeof (zetl_producer_batch_t));
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
    zetl_producer_send_hello (self);
    int64_t deadline = zclock_mono () + resolved.connect_timeout_ms;
    if (zetl_producer_wait_until (self, s_welcomed_or_refused, deadline, ETIMEDOUT) != 0 ||
        self->refusal) {
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
            zetl_producer_batch_t *batch = zetl_producer_slot (self, index);
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
    zetl_producer_pump (self, 0);
    if (zetl_producer_full (self)) {
        int64_t deadline =
            self->options.send_timeout_ms > 0 ? zclock_mono () + self->options.send_timeout_ms : -1;
        if (zetl_producer_wait_until (self, s_not_full, deadline, EAGAIN) != 0)
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
    if (zetl_producer_full (self) && zetl_producer_room (self))
        zetl_producer_seal (self);
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
    int rc = zetl_producer_wait_until (self, s_all_acked, deadline, ETIMEDOUT);
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
        if (zetl_producer_pump (self, deadline - zclock_mono ()) != 0)
            break;
        now = zclock_mono ();
    } while (now < deadline);
    if (s_all_acked (self))
        return -1;
    now = zclock_mono ();
    int64_t due = zetl_producer_next_due (self, now);
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
        if (zetl_producer_slot (self, index)->body)
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

uint64_t
zetl_producer_records_settled (zetl_producer_t *self)
{
    assert (self);
    //  Every slot from the head on holds records not settled: the head's
    //  batch is never ACKed, and those after it wait for it even if ACKed
    uint64_t unsettled = zetl_body_writer_count (self->writer);
    for (uint32_t index = 0; index < self->held; index++)
        unsettled += zetl_producer_slot (self, index)->count;
    return self->stats.records - unsettled;
}

zsock_t *
zetl_producer_socket (zetl_producer_t *self)
{
    assert (self);
    return self->dealer;
}
