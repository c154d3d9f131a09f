/*  producer_fixtures.h - a fake coordinator for the producer client tests,
    and the test's side of it

    The fake coordinator is an actor with a ROUTER on an inproc endpoint,
    speaking the codec as the real one does for producers: WELCOME with the
    configuration text, batches taken strictly in sequence (one after a gap
    dropped, a sequence already ACKed ACKed again), ACKs it can withhold,
    batches it can drop, and a restart that forgets every session. Each
    message it receives is also pushed, as it came, to a tap the test reads,
    so the checks run on the test's own thread. s_setup starts one serving
    two pipelines, clicks (pipeline 0, batch_size 100) and events (pipeline
    1, batch_size 200); s_tell commands it, s_expect and s_expect_batch read
    what it received, and s_check_body checks a batch's records.
*/
#ifndef ZETL_PRODUCER_FIXTURES_H_INCLUDED
#define ZETL_PRODUCER_FIXTURES_H_INCLUDED

#include "zetl_config.h"
#include "zetl_producer.h"
#include "zetl_proto.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include <cmocka.h>

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

static inline void
s_fake_send (fake_t *self, zetl_msg_t **msg_p)
{
    if (self->peer)
        zetl_msg_send_router (*msg_p, self->router, self->peer);
    zetl_msg_destroy (msg_p);
}

static inline void
s_fake_ack (fake_t *self, uint64_t sequence)
{
    zetl_msg_t *ack = zetl_msg_new (ZETL_MSG_ACK);
    ack->batch_id = sequence;
    s_fake_send (self, &ack);
}

static inline void
s_fake_release (fake_t *self)
{
    while (self->acked < self->accepted)
        s_fake_ack (self, ++self->acked);
    self->hold = false;
    self->release_at = 0;
}

static inline void
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

static inline void
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

static inline void
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

static inline void
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

static inline int
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

static inline int
s_setup (void **state)
{
    return s_setup_with (state, s_two_pipelines);
}

static inline int
s_teardown (void **state)
{
    env_t *env = (env_t *) *state;
    zactor_destroy (&env->fake);
    zsock_destroy (&env->tap);
    free (env);
    return 0;
}

//  Tell the fake coordinator COMMAND [ARGUMENT] and wait until it is done
static inline void
s_tell (env_t *env, const char *command, int64_t argument)
{
    char text[32];
    snprintf (text, sizeof text, "%lld", (long long) argument);
    zstr_sendx (env->fake, command, text, NULL);
    zsock_wait (env->fake);
}

//  The next message the fake coordinator received within MS, or NULL with
//  *REASON set; caught-up HEARTBEATs are counted and skipped
static inline zetl_msg_t *
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
static inline zetl_msg_t *
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
static inline void
s_expect_nothing (env_t *env, int ms)
{
    const char *reason = NULL;
    zetl_msg_t *msg = s_next (env, ms, &reason);
    if (msg)
        fail_msg ("expected nothing, got %s", zetl_msg_type_name (msg->type));
}

//  The next BATCH: sequence SEQUENCE, COUNT records, of the fake's epoch EPOCH
static inline zetl_msg_t *
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

static inline void
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
static inline void
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
static inline void
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

static inline const msgpack_object *
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
static inline void
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
static inline void
s_options (zetl_producer_options_t *options)
{
    zetl_producer_options_init (options);
    options->linger_ms = 60000;
}

//  Read BATCHes until they hold TOTAL records of NAME, records 0, 1, … in
//  order (without CHECK, only count them). Returns how many batches that took
static inline int
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

static inline zetl_producer_t *
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

#endif
