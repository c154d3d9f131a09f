/*  producer_test - the producer client against a fake coordinator

    The fake coordinator is an actor with a ROUTER on an inproc endpoint,
    speaking the codec as the real one does for producers: WELCOME with the
    configuration text, batches taken strictly in sequence (one after a gap
    dropped, a sequence already ACKed ACKed again), ACKs it can withhold,
    batches it can drop, and a restart that forgets every session. Each
    message it receives is also pushed, as it came, to a tap the test reads,
    so the checks run on the test's own thread. Covers the handshake,
    batch headers and bodies, the window holding back sends, send
    timeouts, the linger, resends after a lost batch and after a new
    session, numbering after a restart, JSON records, `zetlctl produce`,
    and the example program of docs/PRODUCERS.md.
*/
#include "zetl_config.h"
#include "zetl_ctl.h"
#include "zetl_producer.h"
#include "zetl_proto.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmocka.h>

//  The example program, compiled and run here against the fake coordinator
int producer_example_main (int argc, char **argv);
#define main producer_example_main
#include "../../docs/examples/producer_example.c"
#undef main

#define S_WAIT_MS 5000  //  how long to wait for what must come
#define S_EPOCH 7       //  the fake coordinator's first epoch

// clang-format off
#define S_PIPELINE(id, size)                                                                   \
    "  - id: " id "\n"                                                                         \
    "    source: { type: producer }\n"                                                         \
    "    partition_key: key\n"                                                                 \
    "    event_time: { field: at }\n"                                                          \
    "    batch_size: " size "\n"                                                               \
    "    schema:\n"                                                                            \
    "      key: { type: string, required: true }\n"                                            \
    "      at: { type: timestamp, required: true }\n"                                          \
    "    sinks:\n"                                                                             \
    "      - { type: files, path: out/" id " }\n"
// clang-format on

static const char s_two_pipelines[] =
    "pipelines:\n" S_PIPELINE ("clicks", "100") S_PIPELINE ("events", "200");
static const char s_one_pipeline[] = "pipelines:\n" S_PIPELINE ("events", "300");

//  ---------------------------------------------------------------------
//  The fake coordinator

typedef struct {
    const char *config_text;  //  the WELCOME's body (borrowed)
    char endpoint[64];        //  its ROUTER
    char tap[64];             //  where it pushes what it received
    _Atomic uint64_t taken;   //  batches taken so far, for a test thread to watch
} fake_args_t;

typedef struct {
    zsock_t *pipe;            //  commands from the test
    zsock_t *router;          //  cluster.producers
    zsock_t *tap;             //  PUSH: each message received, as it came
    const char *config_text;  //  WELCOME's body
    uint64_t hash;            //  its xxh3
    uint32_t epoch;           //  WELCOME's epoch
    fake_args_t *args;        //  the test's (borrowed)
    zframe_t *peer;           //  the producer's routing id while it has a session
    uint64_t acked;           //  highest sequence ACKed (ACKs go out in order here)
    uint64_t accepted;        //  highest sequence taken
    bool fresh;               //  after a restart: the first batch sets where the sequence is
    bool hold;                //  withhold ACKs
    uint64_t drop;            //  drop the next arrival of this sequence, 0 for none
    int64_t release_at;       //  when to release the held ACKs, 0 for never
    bool terminated;
} fake_t;

static void
s_fake_send (fake_t *self, zetl_msg_t **msg_p)
{
    if (self->peer)
        zetl_msg_send_router (*msg_p, self->router, self->peer);
    zetl_msg_destroy (msg_p);
}

static void
s_fake_ack (fake_t *self, uint64_t sequence)
{
    zetl_msg_t *ack = zetl_msg_new (ZETL_MSG_ACK);
    ack->batch_id = sequence;
    s_fake_send (self, &ack);
}

static void
s_fake_release (fake_t *self)
{
    while (self->acked < self->accepted)
        s_fake_ack (self, ++self->acked);
    self->hold = false;
    self->release_at = 0;
}

static void
s_fake_batch (fake_t *self, zetl_msg_t *msg, zframe_t *routing_id)
{
    if (!self->peer || !zframe_eq (self->peer, routing_id)) {
        zetl_msg_t *error = zetl_msg_new (ZETL_MSG_ERROR);
        error->code = ZETL_ERR_UNKNOWN_PEER;
        error->batch_id = msg->batch_id;
        zetl_msg_set_str (&error->text, "say HELLO first");
        zetl_msg_send_router (error, self->router, routing_id);
        zetl_msg_destroy (&error);
        return;
    }
    uint64_t sequence = msg->batch_id;
    if (sequence == self->drop) {
        self->drop = 0;  //  Lost on the way
        return;
    }
    if (sequence <= self->acked) {
        s_fake_ack (self, sequence);  //  A resend of what is done: ACK it again
        return;
    }
    if (sequence <= self->accepted)
        return;  //  A resend of what is in progress
    if (!self->fresh && sequence != self->accepted + 1)
        return;  //  After a gap: it comes again
    if (self->fresh)
        self->acked = sequence - 1;
    self->fresh = false;
    self->accepted = sequence;
    self->args->taken++;
    if (!self->hold)
        s_fake_release (self);
}

static void
s_fake_router (fake_t *self)
{
    zmsg_t *zmsg = zmsg_recv (self->router);
    if (!zmsg)
        return;
    zmsg_t *copy = zmsg_dup (zmsg);
    zframe_t *id = zmsg_pop (copy);
    zframe_destroy (&id);
    if (zmsg_send (&copy, self->tap) != 0)
        zmsg_destroy (&copy);  //  The test is not listening any more (a BYE after it ended)

    zframe_t *routing_id = zmsg_pop (zmsg);
    const char *reason = NULL;
    zetl_msg_t *msg = zetl_msg_decode (&zmsg, &reason);
    assert (msg);  //  The producer sends only what the codec makes
    if (msg->type == ZETL_MSG_HELLO) {
        zframe_destroy (&self->peer);
        self->peer = zframe_dup (routing_id);
        zetl_msg_t *welcome = zetl_msg_new (ZETL_MSG_WELCOME);
        welcome->epoch = self->epoch;
        welcome->config_hash = self->hash;
        welcome->batch_id = self->acked;
        zframe_t *body = zframe_new (self->config_text, strlen (self->config_text));
        zetl_msg_set_body (welcome, &body);
        s_fake_send (self, &welcome);
    }
    else if (msg->type == ZETL_MSG_BATCH)
        s_fake_batch (self, msg, routing_id);
    else if (msg->type == ZETL_MSG_BYE)
        zframe_destroy (&self->peer);
    zetl_msg_destroy (&msg);
    zframe_destroy (&routing_id);
}

static void
s_fake_command (fake_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg) {
        self->terminated = true;
        return;
    }
    char *command = zmsg_popstr (msg);
    char *argument = zmsg_popstr (msg);
    uint64_t value = argument ? strtoull (argument, NULL, 10) : 0;
    if (streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "HOLD"))
        self->hold = true;
    else if (streq (command, "RELEASE"))
        s_fake_release (self);
    else if (streq (command, "RELEASE_AFTER"))
        self->release_at = zclock_mono () + (int64_t) value;
    else if (streq (command, "DROP"))
        self->drop = value;
    else if (streq (command, "HIGH"))
        self->acked = self->accepted = value;
    else if (streq (command, "RESTART")) {
        //  A new coordinator: no sessions, nothing ACKed in its lifetime
        zframe_destroy (&self->peer);
        self->acked = self->accepted = 0;
        self->fresh = true;
        self->hold = false;
        self->epoch++;
    }
    else if (streq (command, "ERROR")) {
        zetl_msg_t *error = zetl_msg_new (ZETL_MSG_ERROR);
        error->code = (uint32_t) value;
        zetl_msg_set_str (&error->text, "a test error");
        s_fake_send (self, &error);
    }
    else
        assert (false);
    if (!self->terminated)
        zsock_signal (self->pipe, 0);
    zstr_free (&command);
    zstr_free (&argument);
    zmsg_destroy (&msg);
}

static void
s_fake_actor (zsock_t *pipe, void *args)
{
    fake_args_t *fake_args = (fake_args_t *) args;
    fake_t self = {.pipe = pipe, .args = fake_args};
    self.router = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self.router, 1);
    int rc = zsock_bind (self.router, "%s", fake_args->endpoint);
    assert (rc == 0);
    self.tap = zsock_new (ZMQ_PUSH);
    zsock_set_sndhwm (self.tap, 0);
    zsock_set_sndtimeo (self.tap, 0);  //  Never wait for a reader that has gone
    rc = zsock_bind (self.tap, "%s", fake_args->tap);
    assert (rc == 0);
    self.config_text = fake_args->config_text;
    self.hash = XXH3_64bits (self.config_text, strlen (self.config_text));
    self.epoch = S_EPOCH;
    zpoller_t *poller = zpoller_new (pipe, self.router, NULL);
    zsock_signal (pipe, 0);
    while (!self.terminated) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, 10);
        if (which == pipe)
            s_fake_command (&self);
        else if (which == self.router)
            s_fake_router (&self);
        else if (zpoller_terminated (poller))
            break;
        if (self.release_at && zclock_mono () >= self.release_at)
            s_fake_release (&self);
    }
    zpoller_destroy (&poller);
    zframe_destroy (&self.peer);
    zsock_destroy (&self.tap);
    zsock_destroy (&self.router);
}

//  ---------------------------------------------------------------------
//  The test's side

typedef struct {
    fake_args_t args;
    zactor_t *fake;
    zsock_t *tap;  //  PULL: what the fake coordinator received
    int caught_up; //  caught-up HEARTBEATs seen among it (each flush that completes sends one)
} env_t;

static int
s_setup_with (void **state, const char *config_text)
{
    static int instance = 0;
    env_t *env = (env_t *) calloc (1, sizeof (env_t));
    env->args.config_text = config_text;
    snprintf (env->args.endpoint, sizeof env->args.endpoint, "inproc://producer-test-%d", instance);
    snprintf (env->args.tap, sizeof env->args.tap, "inproc://producer-test-tap-%d", instance++);
    env->fake = zactor_new (s_fake_actor, &env->args);
    env->tap = zsock_new (ZMQ_PULL);
    if (zsock_connect (env->tap, "%s", env->args.tap) != 0)
        zsock_destroy (&env->tap);
    *state = env;
    return env->fake && env->tap ? 0 : -1;
}

static int
s_setup (void **state)
{
    return s_setup_with (state, s_two_pipelines);
}

static int
s_setup_one (void **state)
{
    return s_setup_with (state, s_one_pipeline);
}

static int
s_teardown (void **state)
{
    env_t *env = (env_t *) *state;
    zactor_destroy (&env->fake);
    zsock_destroy (&env->tap);
    free (env);
    return 0;
}

//  Tell the fake coordinator COMMAND [ARGUMENT] and wait until it is done
static void
s_tell (env_t *env, const char *command, int64_t argument)
{
    char text[32];
    snprintf (text, sizeof text, "%lld", (long long) argument);
    zstr_sendx (env->fake, command, text, NULL);
    zsock_wait (env->fake);
}

//  The next message the fake coordinator received within MS, or NULL with
//  *REASON set; caught-up HEARTBEATs are counted and skipped
static zetl_msg_t *
s_next (env_t *env, int ms, const char **reason)
{
    zsock_set_rcvtimeo (env->tap, ms);
    *reason = "nothing";
    zmsg_t *zmsg;
    while ((zmsg = zmsg_recv (env->tap))) {
        zetl_msg_t *msg = zetl_msg_decode (&zmsg, reason);
        if (!msg || msg->type != ZETL_MSG_HEARTBEAT || msg->code != ZETL_CAUGHT_UP)
            return msg;
        env->caught_up++;
        zetl_msg_destroy (&msg);
    }
    return NULL;
}

//  The next message the fake coordinator received, which must be of TYPE
static zetl_msg_t *
s_expect (env_t *env, int type)
{
    const char *reason = NULL;
    zetl_msg_t *msg = s_next (env, S_WAIT_MS, &reason);
    if (!msg)
        fail_msg ("expected %s, got %s", zetl_msg_type_name (type), reason);
    if (msg->type != type)
        fail_msg ("expected %s, got %s", zetl_msg_type_name (type), zetl_msg_type_name (msg->type));
    return msg;
}

//  Nothing more reaches the fake coordinator within MS
static void
s_expect_nothing (env_t *env, int ms)
{
    const char *reason = NULL;
    zetl_msg_t *msg = s_next (env, ms, &reason);
    if (msg)
        fail_msg ("expected nothing, got %s", zetl_msg_type_name (msg->type));
}

//  The next BATCH: sequence SEQUENCE, COUNT records, of the fake's epoch EPOCH
static zetl_msg_t *
s_expect_batch (env_t *env, uint64_t sequence, uint32_t count, uint32_t pipeline, uint32_t epoch)
{
    zetl_msg_t *msg = s_expect (env, ZETL_MSG_BATCH);
    assert_int_equal (msg->batch_id, sequence);
    assert_int_equal (msg->count, count);
    assert_int_equal (msg->pipeline, pipeline);
    assert_int_equal (msg->epoch, epoch);
    assert_int_equal (msg->config_hash,
                      XXH3_64bits (env->args.config_text, strlen (env->args.config_text)));
    return msg;
}

static void
s_expect_hello (env_t *env, const char *name)
{
    zetl_msg_t *hello = s_expect (env, ZETL_MSG_HELLO);
    assert_int_equal (hello->code, ZETL_ROLE_PRODUCER);
    assert_int_equal (hello->config_hash, 0);
    if (name)
        assert_string_equal (hello->name, name);
    else
        assert_non_null (hello->name);
    zetl_msg_destroy (&hello);
}

//  Pack record I: {"i": I, "s": "record-I"}
static void
s_record (msgpack_sbuffer *buffer, int i)
{
    char text[32];
    int len = snprintf (text, sizeof text, "record-%d", i);
    msgpack_packer pk;
    buffer->size = 0;
    msgpack_packer_init (&pk, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 2);
    msgpack_pack_str_with_body (&pk, "i", 1);
    msgpack_pack_int (&pk, i);
    msgpack_pack_str_with_body (&pk, "s", 1);
    msgpack_pack_str_with_body (&pk, text, (size_t) len);
}

//  Send records FIRST..FIRST+COUNT-1, each taken at once
static void
s_send_records (zetl_producer_t *producer, int first, int count)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    for (int i = first; i < first + count; i++) {
        s_record (&buffer, i);
        assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), 0);
    }
    msgpack_sbuffer_destroy (&buffer);
}

static const msgpack_object *
s_map_get (const msgpack_object *map, const char *key)
{
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[index];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen (key) &&
            memcmp (kv->key.via.str.ptr, key, kv->key.via.str.size) == 0)
            return &kv->val;
    }
    return NULL;
}

//  The body of MSG: one source NAME, entries at positions 0.. holding
//  records FIRST, FIRST+1, …
static void
s_check_body (zetl_msg_t *msg, const char *name, int first)
{
    const char *reason = NULL;
    zetl_body_reader_t *reader = zetl_msg_body_reader (msg, &reason);
    assert_non_null (reader);
    assert_int_equal (zetl_body_reader_sources (reader), 1);
    assert_string_equal (zetl_body_reader_source_name (reader, 0), name);
    zetl_entry_t entry;
    uint32_t index = 0;
    int rc;
    while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1) {
        assert_int_equal (entry.source, 0);
        assert_int_equal (entry.position, index);
        assert_int_equal (entry.event_us, 0);
        assert_int_equal (entry.flags, 0);
        assert_false (entry.has_hash);
        assert_int_equal (entry.payload.type, MSGPACK_OBJECT_MAP);
        assert_int_equal (entry.payload.via.map.size, 2);
        const msgpack_object *value = s_map_get (&entry.payload, "i");
        assert_non_null (value);
        assert_int_equal (value->via.i64, first + (int) index);
        value = s_map_get (&entry.payload, "s");
        assert_non_null (value);
        char text[32];
        snprintf (text, sizeof text, "record-%d", first + (int) index);
        assert_int_equal (value->via.str.size, strlen (text));
        assert_memory_equal (value->via.str.ptr, text, strlen (text));
        index++;
    }
    assert_int_equal (rc, 0);
    assert_int_equal (index, msg->count);
    zetl_body_reader_destroy (&reader);
}

//  The defaults, but batches leave only full or on flush, however slow the
//  machine: the tests count them
static void
s_options (zetl_producer_options_t *options)
{
    zetl_producer_options_init (options);
    options->linger_ms = 60000;
}

//  Read BATCHes until they hold TOTAL records of NAME, records 0, 1, … in
//  order (without CHECK, only count them). Returns how many batches that took
static int
s_expect_records (env_t *env, const char *name, int total, bool check)
{
    int batches = 0;
    int seen = 0;
    uint64_t first = 0;
    while (seen < total) {
        zetl_msg_t *batch = s_expect (env, ZETL_MSG_BATCH);
        if (batches == 0)
            first = batch->batch_id;
        assert_int_equal (batch->batch_id, first + (uint64_t) batches);  //  Contiguous
        if (check)
            s_check_body (batch, name, seen);
        seen += (int) batch->count;
        batches++;
        zetl_msg_destroy (&batch);
    }
    assert_int_equal (seen, total);
    return batches;
}

static zetl_producer_t *
s_producer (env_t *env, const char *name, const char *pipeline,
            const zetl_producer_options_t *options)
{
    char *error = NULL;
    zetl_producer_t *producer =
        zetl_producer_new (env->args.endpoint, name, pipeline, options, &error);
    if (!producer)
        fail_msg ("zetl_producer_new: %s", error);
    s_expect_hello (env, name);
    return producer;
}

//  ---------------------------------------------------------------------
//  Tests

static void
test_batches_and_bodies (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    zetl_producer_t *producer = s_producer (env, "producer-a", "events", &options);
    assert_int_equal (zetl_producer_pipeline (producer), 1);
    assert_int_equal (zetl_producer_batch_size (producer), 200);  //  the pipeline's

    s_send_records (producer, 0, 250);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    zetl_msg_t *batch = s_expect_batch (env, 1, 200, 1, S_EPOCH);
    assert_int_equal (batch->attempt, 1);
    s_check_body (batch, "producer-a", 0);
    zetl_msg_destroy (&batch);
    batch = s_expect_batch (env, 2, 50, 1, S_EPOCH);
    s_check_body (batch, "producer-a", 200);
    zetl_msg_destroy (&batch);

    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.records, 250);
    assert_int_equal (stats.records_acked, 250);
    assert_int_equal (stats.batches, 2);
    assert_int_equal (stats.acked, 2);
    assert_int_equal (stats.resent, 0);
    assert_int_equal (stats.held, 0);
    assert_int_equal (stats.pending, 0);
    zetl_producer_destroy (&producer);
    assert_null (producer);
    zetl_msg_t *bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);
    //  The flush that completed said the producer is caught up, once
    assert_int_equal (env->caught_up, 1);
    zetl_producer_destroy (&producer);  //  A second destroy does nothing
}

static void
test_many_records (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = ZETL_PRODUCER_MAX_BATCH;
    options.window = 2;
    zetl_producer_t *producer = s_producer (env, "producer-m", "clicks", &options);
    int64_t started = zclock_usecs ();
    s_send_records (producer, 0, 30000);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS * 4), 0);
    int64_t elapsed_us = zclock_usecs () - started;
    for (uint64_t sequence = 1; sequence <= 3; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, ZETL_PRODUCER_MAX_BATCH, 0, S_EPOCH);
        s_check_body (batch, "producer-m", (int) (sequence - 1) * ZETL_PRODUCER_MAX_BATCH);
        zetl_msg_destroy (&batch);
    }
    print_message ("30000 records in %.1f ms, ACKed\n", (double) elapsed_us / 1000.0);
    zetl_producer_destroy (&producer);
}

static void
test_window_blocks (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = 3;
    options.window = 2;
    zetl_producer_t *producer = s_producer (env, "producer-w", "clicks", &options);
    s_tell (env, "HOLD", 0);

    //  Two batches fill the window; the third is full and waits
    s_send_records (producer, 0, 9);
    for (uint64_t sequence = 1; sequence <= 2; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 3, 0, S_EPOCH);
        s_check_body (batch, "producer-w", (int) (sequence - 1) * 3);
        zetl_msg_destroy (&batch);
    }
    s_expect_nothing (env, 200);
    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.held, 2);
    assert_int_equal (stats.pending, 3);

    //  The next record needs room: the send waits until ACKs come
    s_tell (env, "RELEASE_AFTER", 300);
    int64_t started = zclock_mono ();
    s_send_records (producer, 9, 1);
    assert_true (zclock_mono () - started >= 250);
    zetl_msg_t *batch = s_expect_batch (env, 3, 3, 0, S_EPOCH);
    s_check_body (batch, "producer-w", 6);
    zetl_msg_destroy (&batch);

    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    batch = s_expect_batch (env, 4, 1, 0, S_EPOCH);
    s_check_body (batch, "producer-w", 9);
    zetl_msg_destroy (&batch);
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.acked, 4);
    assert_int_equal (stats.records_acked, 10);
    assert_int_equal (stats.resent, 0);
    zetl_producer_destroy (&producer);
}

static void
test_send_timeout (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = 1;
    options.window = 1;
    options.send_timeout_ms = 200;
    zetl_producer_t *producer = s_producer (env, "producer-t", "clicks", &options);
    s_tell (env, "HOLD", 0);
    s_send_records (producer, 0, 2);  //  One in the window, one full batch waiting

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    s_record (&buffer, 2);
    int64_t started = zclock_mono ();
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), -1);
    assert_int_equal (errno, EAGAIN);
    assert_true (zclock_mono () - started >= 190);
    const char *error = NULL;
    assert_int_equal (zetl_producer_send_json (producer, "{\"i\":2}", 7, &error), -1);
    assert_int_equal (errno, EAGAIN);
    assert_non_null (error);
    assert_int_equal (zetl_producer_flush (producer, 100), -1);
    assert_int_equal (errno, ETIMEDOUT);

    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.records, 2);  //  The refused ones were not taken
    s_tell (env, "RELEASE", 0);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), 0);
    msgpack_sbuffer_destroy (&buffer);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    for (uint64_t sequence = 1; sequence <= 3; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 1, 0, S_EPOCH);
        s_check_body (batch, "producer-t", (int) sequence - 1);
        zetl_msg_destroy (&batch);
    }
    zetl_producer_destroy (&producer);
}

static void
test_linger (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    zetl_producer_options_init (&options);
    options.linger_ms = 50;
    zetl_producer_t *producer = s_producer (env, "producer-l", "events", &options);
    s_send_records (producer, 0, 2);
    //  No flush: a caller that waits gives the producer its turns
    int64_t started = zclock_mono ();
    while (zetl_producer_poll (producer, 20) >= 0 && zclock_mono () - started < S_WAIT_MS)
        ;
    assert_true (zclock_mono () - started >= 30);
    zetl_msg_t *batch = s_expect_batch (env, 1, 2, 1, S_EPOCH);
    s_check_body (batch, "producer-l", 0);
    zetl_msg_destroy (&batch);
    assert_int_equal (zetl_producer_poll (producer, 0), -1);  //  Nothing held
    zetl_producer_destroy (&producer);
}

static void
test_resend_after_drop (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = 2;
    options.resend_ms = 300;
    zetl_producer_t *producer = s_producer (env, "producer-r", "clicks", &options);
    s_tell (env, "DROP", 2);
    s_send_records (producer, 0, 6);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);

    //  1 taken; 2 lost; 3 dropped after the gap; then 2 and 3 again, the same
    zetl_msg_t *first[4] = {NULL};
    for (uint64_t sequence = 1; sequence <= 3; sequence++)
        first[sequence] = s_expect_batch (env, sequence, 2, 0, S_EPOCH);
    for (uint64_t sequence = 2; sequence <= 3; sequence++) {
        zetl_msg_t *again = s_expect_batch (env, sequence, 2, 0, S_EPOCH);
        assert_int_equal (again->attempt, 2);
        assert_int_equal (zframe_size (again->body), zframe_size (first[sequence]->body));
        assert_memory_equal (zframe_data (again->body), zframe_data (first[sequence]->body),
                             zframe_size (again->body));
        s_check_body (again, "producer-r", (int) (sequence - 1) * 2);
        zetl_msg_destroy (&again);
    }
    for (int index = 1; index <= 3; index++)
        zetl_msg_destroy (&first[index]);
    s_expect_nothing (env, 100);

    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.batches, 3);
    assert_int_equal (stats.resent, 2);
    assert_int_equal (stats.acked, 3);
    zetl_producer_destroy (&producer);
}

static void
test_new_session_resends (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    options.batch_size = 2;
    options.resend_ms = 300;
    zetl_producer_t *producer = s_producer (env, "producer-s", "events", &options);
    s_tell (env, "HOLD", 0);
    s_send_records (producer, 0, 4);
    for (uint64_t sequence = 1; sequence <= 2; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 2, 1, S_EPOCH);
        zetl_msg_destroy (&batch);
    }
    //  The coordinator restarts: our next resend meets a stranger, which
    //  says so; we say HELLO, and send everything again in the new epoch
    s_tell (env, "RESTART", 0);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    for (uint64_t sequence = 1; sequence <= 2; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 2, 1, S_EPOCH);
        zetl_msg_destroy (&batch);
    }
    s_expect_hello (env, "producer-s");
    for (uint64_t sequence = 1; sequence <= 2; sequence++) {
        zetl_msg_t *batch = s_expect_batch (env, sequence, 2, 1, S_EPOCH + 1);
        s_check_body (batch, "producer-s", (int) (sequence - 1) * 2);
        zetl_msg_destroy (&batch);
    }
    s_expect_nothing (env, 100);

    //  An ERROR UNKNOWN_PEER on its own also makes a new session
    s_tell (env, "ERROR", ZETL_ERR_UNKNOWN_PEER);
    zetl_producer_poll (producer, 100);
    s_expect_hello (env, "producer-s");
    s_send_records (producer, 4, 2);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    zetl_msg_t *batch = s_expect_batch (env, 3, 2, 1, S_EPOCH + 1);
    zetl_msg_destroy (&batch);

    //  Other errors are logged only
    s_tell (env, "ERROR", ZETL_ERR_DATA);
    zetl_producer_poll (producer, 100);
    s_expect_nothing (env, 100);
    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.batches, 3);
    assert_int_equal (stats.acked, 3);
    assert_int_equal (stats.resent, 4);
    zetl_producer_destroy (&producer);
}

static void
test_numbering_after_restart (void **state)
{
    env_t *env = (env_t *) *state;
    //  The coordinator ACKed up to 41 for this name before we started
    s_tell (env, "HIGH", 41);
    zetl_producer_options_t options;
    s_options (&options);
    zetl_producer_t *producer = s_producer (env, "producer-n", "clicks", &options);
    s_send_records (producer, 0, 3);
    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    zetl_msg_t *batch = s_expect_batch (env, 42, 3, 0, S_EPOCH);
    s_check_body (batch, "producer-n", 0);
    zetl_msg_destroy (&batch);
    zetl_producer_destroy (&producer);
}

static void
test_json_records (void **state)
{
    env_t *env = (env_t *) *state;
    zetl_producer_options_t options;
    s_options (&options);
    zetl_producer_t *producer = s_producer (env, "producer-j", "events", &options);
    const char *error = NULL;
    const char *good = "{\"i\":0,\"s\":\"record-0\"}\n";
    assert_int_equal (zetl_producer_send_json (producer, good, strlen (good), &error), 0);
    assert_null (error);
    const char *bad[] = {"[1,2]", "not json", "{\"i\":", "42", ""};
    for (size_t index = 0; index < sizeof bad / sizeof bad[0]; index++) {
        errno = 0;
        assert_int_equal (
            zetl_producer_send_json (producer, bad[index], strlen (bad[index]), &error), -1);
        assert_int_equal (errno, EINVAL);
        assert_non_null (error);
    }
    //  Packed records must be one msgpack map, and nothing after it
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, 1);
    msgpack_pack_int (&pk, 1);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), -1);
    assert_int_equal (errno, EINVAL);
    s_record (&buffer, 1);
    msgpack_pack_nil (&pk);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size), -1);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size - 2), -1);
    assert_int_equal (zetl_producer_send (producer, buffer.data, buffer.size - 1), 0);
    msgpack_sbuffer_destroy (&buffer);

    assert_int_equal (zetl_producer_flush (producer, S_WAIT_MS), 0);
    zetl_msg_t *batch = s_expect_batch (env, 1, 2, 1, S_EPOCH);
    s_check_body (batch, "producer-j", 0);
    zetl_msg_destroy (&batch);
    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    assert_int_equal (stats.records, 2);
    zetl_producer_destroy (&producer);
}

static void
test_refusals (void **state)
{
    env_t *env = (env_t *) *state;
    char *error = NULL;
    assert_null (zetl_producer_new (env->args.endpoint, "producer-x", "nope", NULL, &error));
    assert_non_null (strstr (error, "\"nope\""));
    assert_non_null (strstr (error, "clicks, events"));
    zstr_free (&error);
    s_expect_hello (env, "producer-x");
    assert_null (zetl_producer_new (env->args.endpoint, "producer-x", NULL, NULL, &error));
    assert_non_null (strstr (error, "2 pipelines"));
    zstr_free (&error);
    s_expect_hello (env, "producer-x");

    zetl_producer_options_t options;
    zetl_producer_options_init (&options);
    options.connect_timeout_ms = 200;
    assert_null (
        zetl_producer_new ("inproc://producer-test-nobody", "producer-x", NULL, &options, &error));
    assert_non_null (strstr (error, "no WELCOME"));
    zstr_free (&error);
    options.window = 0;
    assert_null (zetl_producer_new (env->args.endpoint, "producer-x", NULL, &options, &error));
    assert_non_null (strstr (error, "window"));
    zstr_free (&error);
    assert_null (zetl_producer_new (env->args.endpoint, "", NULL, NULL, &error));
    assert_non_null (strstr (error, "name"));
    zstr_free (&error);
}

//  Run `zetlctl produce ARGV…` with stdout into OUT (SIZE bytes). Returns the exit code
static int
s_run_ctl (int argc, char **argv, char *out, size_t size)
{
    char path[] = "/tmp/producer_test_out_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    fflush (stdout);
    int saved = dup (STDOUT_FILENO);
    dup2 (fd, STDOUT_FILENO);
    int rc = zetl_ctl_produce (argc, argv);
    fflush (stdout);
    dup2 (saved, STDOUT_FILENO);
    close (saved);
    ssize_t got = pread (fd, out, size - 1, 0);
    out[got > 0 ? got : 0] = '\0';
    close (fd);
    unlink (path);
    return rc;
}

//  OUT is the summary line of `zetlctl produce` with these numbers, nothing resent
static void
s_check_summary (const char *out, int records, int batches, int rejected)
{
    char expected[128];
    snprintf (expected, sizeof expected,
              "{\"records\":%d,\"batches\":%d,\"resent\":0,\"rejected\":%d}\n", records, batches,
              rejected);
    assert_string_equal (out, expected);
}

typedef struct {
    int fd;                      //  the pipe's write end
    _Atomic uint64_t *taken;     //  batches the fake coordinator took
} slow_writer_t;

//  Write one line into the pipe, wait until the linger has sent it as a batch
//  of its own (polled, with a deadline), write another and close the pipe
static void
s_slow_writer (zsock_t *pipe, void *args)
{
    slow_writer_t *writer = (slow_writer_t *) args;
    int fd = writer->fd;
    uint64_t before = *writer->taken;
    zsock_signal (pipe, 0);
    const char *first = "{\"i\":0,\"s\":\"record-0\"}\n";
    const char *second = "{\"i\":1,\"s\":\"record-1\"}\n";
    ssize_t written = write (fd, first, strlen (first));
    int64_t deadline = zclock_mono () + 10000;
    while (*writer->taken == before && zclock_mono () < deadline)
        zclock_sleep (10);  //  Poll interval
    written += write (fd, second, strlen (second));
    assert (written == (ssize_t) (strlen (first) + strlen (second)));
    close (fd);
    free (zstr_recv (pipe));  //  $TERM
}

static void
test_ctl_produce (void **state)
{
    env_t *env = (env_t *) *state;
    char path[] = "/tmp/producer_test_in_XXXXXX";
    int fd = mkstemp (path);
    assert_true (fd >= 0);
    const char *lines = "{\"i\":0,\"s\":\"record-0\"}\n"
                        "\n"
                        "not json\n"
                        "{\"i\":1,\"s\":\"record-1\"}\r\n"
                        "[3]\n"
                        "{\"i\":2,\"s\":\"record-2\"}";  //  The last line has no newline
    assert_int_equal (write (fd, lines, strlen (lines)), (ssize_t) strlen (lines));
    close (fd);

    char *argv[] = {"produce", "--coordinator", env->args.endpoint, "--name", "ctl-test", path,
                    NULL};
    char out[256];
    assert_int_equal (s_run_ctl (6, argv, out, sizeof out), 0);
    s_expect_hello (env, "ctl-test");
    s_check_summary (out, 3, s_expect_records (env, "ctl-test", 3, true), 2);
    zetl_msg_t *bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);

    //  Without --name: one derived from the host and the files, the same each time
    char *plain[] = {"produce", "--coordinator", env->args.endpoint, path, NULL};
    assert_int_equal (s_run_ctl (4, plain, out, sizeof out), 0);
    zetl_msg_t *hello = s_expect (env, ZETL_MSG_HELLO);
    assert_memory_equal (hello->name, "produce-", 8);
    char *name = strdup (hello->name);
    zetl_msg_destroy (&hello);
    s_expect_records (env, name, 3, true);
    bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);
    assert_int_equal (s_run_ctl (4, plain, out, sizeof out), 0);
    hello = s_expect (env, ZETL_MSG_HELLO);
    assert_string_equal (hello->name, name);
    zetl_msg_destroy (&hello);
    s_expect_records (env, name, 3, true);
    free (name);
    bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);

    //  stdin: a quiet pipe still lets a partial batch leave after its linger
    int fds[2];
    assert_int_equal (pipe (fds), 0);
    int saved_stdin = dup (STDIN_FILENO);
    dup2 (fds[0], STDIN_FILENO);
    close (fds[0]);
    slow_writer_t slow = {fds[1], &env->args.taken};
    zactor_t *writer = zactor_new (s_slow_writer, &slow);
    char *from_stdin[] = {
        "produce", "--coordinator", env->args.endpoint, "--name", "ctl-stdin", "-", NULL};
    assert_int_equal (s_run_ctl (6, from_stdin, out, sizeof out), 0);
    zactor_destroy (&writer);
    dup2 (saved_stdin, STDIN_FILENO);
    close (saved_stdin);
    assert_string_equal (out, "{\"records\":2,\"batches\":2,\"resent\":0,\"rejected\":0}\n");
    s_expect_hello (env, "ctl-stdin");
    assert_int_equal (s_expect_records (env, "ctl-stdin", 2, true), 2);
    bye = s_expect (env, ZETL_MSG_BYE);
    zetl_msg_destroy (&bye);

    //  A file that does not open: the rest is sent, and the exit code says so
    char *missing[] = {"produce", "--coordinator", env->args.endpoint,
                       "--name",  "ctl-test",      "/nonexistent/in.jsonl",
                       NULL};
    assert_int_equal (s_run_ctl (6, missing, out, sizeof out), 1);
    assert_string_equal (out, "{\"records\":0,\"batches\":0,\"resent\":0,\"rejected\":0}\n");
    char *usage[] = {"produce", "--coordinator", env->args.endpoint, NULL};
    assert_int_equal (s_run_ctl (3, usage, out, sizeof out), 2);
    unlink (path);
}

static void
test_example (void **state)
{
    env_t *env = (env_t *) *state;
    char *argv[] = {"producer_example", env->args.endpoint, "events", NULL};
    assert_int_equal (producer_example_main (3, argv), 0);
    s_expect_hello (env, "example-producer");
    s_expect_records (env, "example-producer", 2, false);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_batches_and_bodies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_many_records, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_window_blocks, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_send_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_linger, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_resend_after_drop, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_new_session_resends, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_numbering_after_restart, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_json_records, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_refusals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ctl_produce, s_setup_one, s_teardown),
        cmocka_unit_test_setup_teardown (test_example, s_setup, s_teardown),
    };
    int rc = cmocka_run_group_tests (tests, NULL, NULL);
    zsys_shutdown ();
    return rc;
}
