/*  zetl_producer_internal - a producer's state, shared by its modules (internal to zetl_producer)

    Not a public API: only the zetl_producer*.c files include this header.
    A producer (zetl_producer.h) is one struct used by one thread. Its code
    is in four modules: zetl_producer (the API: new, send, flush, poll),
    zetl_producer_session (HELLO, WELCOME, ERROR), zetl_producer_window (the
    batches held until ACKed, sealing and resending them) and
    zetl_producer_loop (draining what the coordinator sent, the timers, and
    waiting). The caller of the API owns the producer.
*/
#ifndef ZETL_PRODUCER_INTERNAL_H_INCLUDED
#define ZETL_PRODUCER_INTERNAL_H_INCLUDED

#include "zetl_config.h"
#include "zetl_jsonl.h"
#include "zetl_log.h"
#include "zetl_producer.h"
#include "zetl_proto.h"

//  A batch sent and held until ACKed, in a slot of the window
typedef struct {
    uint64_t sequence;  //  its sequence number: batch_id on the wire
    uint32_t count;     //  records in it
    uint32_t sends;     //  times it was sent (attempt = sends + 1 on the next)
    zframe_t *body;     //  its body, or NULL once ACKed
} zetl_producer_batch_t;

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
    zetl_producer_batch_t *window;    //  ring of options.window slots
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

//  zetl_producer_session: HELLO, WELCOME, ERROR

//  Say HELLO (again), and mark the producer not welcomed until WELCOME comes
void zetl_producer_send_hello (zetl_producer_t *self);
//  Handle WELCOME (borrowed): adopt its configuration, ACK what it says is
//  ACKed, set the numbering, and resend everything held on a new session
void zetl_producer_welcome (zetl_producer_t *self, zetl_msg_t *welcome);
//  Handle ERROR (borrowed): say HELLO again for UNKNOWN_PEER or CONFIG, log the others
void zetl_producer_error (zetl_producer_t *self, zetl_msg_t *error);

//  zetl_producer_window: the batches held until ACKed

//  Slot INDEX from the head of the window. Borrowed: valid until the producer is destroyed
zetl_producer_batch_t *zetl_producer_slot (zetl_producer_t *self, uint32_t index);
//  True if the window has a free slot
bool zetl_producer_room (const zetl_producer_t *self);
//  True if the batch being filled is full (records or bytes)
bool zetl_producer_full (zetl_producer_t *self);
//  Turn the batch being filled into the next in the window, and send it
void zetl_producer_seal (zetl_producer_t *self);
//  Take the ACK of SEQUENCE: free its batch and move the head past ACKed ones
void zetl_producer_ack (zetl_producer_t *self, uint64_t sequence);
//  Send every batch not ACKed again, in sequence, with the same numbers
void zetl_producer_resend_all (zetl_producer_t *self);

//  zetl_producer_loop: what arrives, what is due

//  When the timers next have something to do, or INT64_MAX
int64_t zetl_producer_next_due (zetl_producer_t *self, int64_t now);
//  One turn: handle what came and what is due, wait up to TIMEOUT_MS (at
//  most one slice, no later than the next thing due) for the coordinator,
//  and again. Returns 0, or -1 when interrupted
int zetl_producer_pump (zetl_producer_t *self, int64_t timeout_ms);
//  Turn until DONE (SELF) holds. Returns 0, or -1 with errno TIMEOUT_ERRNO
//  when DEADLINE_MS (monotonic, -1 for none) passes, EINTR when interrupted
int zetl_producer_wait_until (zetl_producer_t *self, bool (*done) (zetl_producer_t *),
                              int64_t deadline_ms, int timeout_errno);

#endif
