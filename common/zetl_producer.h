/*  zetl_producer - a client that sends records to a zetl pipeline and keeps them until ACKed

    A producer connects one DEALER to the coordinator's cluster.producers
    endpoint and says HELLO (role producer, its name). The WELCOME carries
    the configuration, from which the producer takes the pipeline's index
    and batch_size, and the highest sequence the coordinator has ACKed for
    this name. Records go out in BATCH messages numbered 1, 2, 3, … (after
    that highest sequence), one source name (the producer's) and each
    record's index in its batch as its position (proto/PROTOCOL.md §4, §6).

    A batch leaves when it holds batch_size records, or linger_ms after its
    first record. The producer keeps every batch until the coordinator ACKs
    it, which it does once every record of the batch is committed or
    dead-lettered: at most `window` batches from the oldest one not ACKed,
    and a send that needs a new batch while the window is full waits. That
    is the backpressure: nothing is ever dropped. When no ACK has come for
    resend_ms, or after a new session (ERROR UNKNOWN_PEER or CONFIG and a
    new HELLO, or a WELCOME of another epoch), every batch not ACKed is sent
    again, in sequence, with the same sequence number and the same records:
    the coordinator takes batches strictly in sequence, ACKs a sequence
    again rather than process it twice, and drops a batch after a gap,
    which then comes again. zetl sends no heartbeats of its own (a flush
    that completes tells the coordinator the producer is caught up:
    HEARTBEAT, code 1), but the socket keeps ZeroMQ's: a link silent for
    10 s is dropped and connected again, so a path that loses packets
    without a reset never holds the producer.

    One thread uses a producer, like a socket: it has no thread of its own,
    so ACKs, resends and the linger are handled inside its calls (send,
    flush, poll). A caller that stops sending for a while calls
    zetl_producer_poll or zetl_producer_flush, or the last partial batch
    waits for the next call. The caller owns the producer.
*/
#ifndef ZETL_PRODUCER_H_INCLUDED
#define ZETL_PRODUCER_H_INCLUDED

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#define ZETL_PRODUCER_MAX_BATCH 10000                //  records in one batch
#define ZETL_PRODUCER_MAX_RECORD (16 * 1024 * 1024)  //  bytes in one packed record

typedef struct zetl_producer zetl_producer_t;

typedef struct {
    uint32_t batch_size;         //  records per batch, 1..10000; 0: the pipeline's batch_size
    int64_t linger_ms;           //  a partial batch leaves this long after its first record (50)
    uint32_t window;             //  batches held from the oldest one not ACKed, 1..1024 (8)
    int64_t resend_ms;           //  resend what is not ACKed when no ACK came for this long (5000)
    int64_t connect_timeout_ms;  //  zetl_producer_new waits this long for WELCOME (5000)
    int64_t send_timeout_ms;     //  a send waits this long for room in the window; 0: no limit (0)
} zetl_producer_options_t;

typedef struct {
    uint64_t records;        //  records taken by zetl_producer_send (also those not yet in a batch)
    uint64_t records_acked;  //  records in batches the coordinator ACKed
    uint64_t batches;        //  batches made and sent (each counted once)
    uint64_t acked;          //  batches ACKed
    uint64_t resent;         //  sends of a batch after its first
    uint32_t held;           //  batches sent and not ACKed yet
    uint32_t pending;        //  records waiting in the batch being filled
} zetl_producer_stats_t;

//  Fill OPTIONS with the defaults above.
void zetl_producer_options_init (zetl_producer_options_t *options);

//  Connect to the coordinator at ENDPOINT (its cluster.producers endpoint)
//  as NAME, the producer's stable id (1..1024 bytes of UTF-8: use the same
//  name after a restart, and never two producers with one name), say HELLO
//  and wait up to options->connect_timeout_ms for WELCOME. PIPELINE is the
//  id of the pipeline to feed, or NULL for the configuration's only one.
//  OPTIONS may be NULL for the defaults; it is copied. Returns the producer,
//  or NULL with *ERROR set to a message saying what went wrong and what to
//  do (caller owns *ERROR, free it). Caller owns the result.
zetl_producer_t *zetl_producer_new (const char *endpoint, const char *name, const char *pipeline,
                                    const zetl_producer_options_t *options, char **error);

//  Destroy the producer and set *self_p to NULL; does nothing if *self_p is
//  NULL. Batches not ACKed and records not yet sent are dropped (and logged
//  as producer_closed_unacked): call zetl_producer_flush first.
void zetl_producer_destroy (zetl_producer_t **self_p);

//  Add one record: DATA is LEN bytes holding exactly one packed msgpack map
//  (copied; at most ZETL_PRODUCER_MAX_RECORD bytes). Sends the batch when it is
//  full or its linger has passed. Waits while a batch is full and the window
//  has no room, handling ACKs and resends meanwhile, up to
//  options.send_timeout_ms. Returns 0 when the record is taken, or -1 with
//  errno set and the record not taken: EINVAL (not one msgpack map, or too
//  large), EAGAIN (send_timeout_ms passed: try again), EINTR (interrupted by
//  SIGINT/SIGTERM, or the ZeroMQ context is ending).
int zetl_producer_send (zetl_producer_t *self, const void *data, size_t len);

//  Add one record given as JSON text: TEXT is LEN bytes holding one JSON
//  object (no newline needed), converted as the file sources convert JSON
//  lines (zetl_jsonl: integers stay integers, other numbers become exact
//  decimals). Returns as zetl_producer_send; text that is not one JSON
//  object returns -1 with errno EINVAL and *ERROR set to a static string
//  saying why (do not free it), and nothing is sent. ERROR may be NULL.
int zetl_producer_send_json (zetl_producer_t *self, const char *text, size_t len,
                             const char **error);

//  Send the partial batch, then wait until the coordinator has ACKed every
//  batch, up to TIMEOUT_MS (-1: no limit). Returns 0 when everything sent
//  so far is ACKed, or -1 with errno ETIMEDOUT or EINTR; nothing is lost
//  then: the batches are still held and a later flush goes on. A flush that
//  returns 0 also declares the producer caught up (it has nothing more for
//  now): until it sends again, it does not hold the pipeline's watermark
//  back. Call it when a burst of input is done.
int zetl_producer_flush (zetl_producer_t *self, int64_t timeout_ms);

//  Handle ACKs, errors, resends and the linger, waiting up to TIMEOUT_MS
//  (0: only what is due now) for the coordinator. Returns the milliseconds
//  until the producer next has something to do on its own (a linger or a
//  resend), or -1 when it holds nothing: for callers that wait on other
//  things between records.
int64_t zetl_producer_poll (zetl_producer_t *self, int64_t timeout_ms);

//  Fill *STATS with the producer's counters.
void zetl_producer_stats (zetl_producer_t *self, zetl_producer_stats_t *stats);

//  The index of the pipeline this producer feeds, in the coordinator's configuration.
uint32_t zetl_producer_pipeline (zetl_producer_t *self);

//  The records per batch in use.
uint32_t zetl_producer_batch_size (zetl_producer_t *self);

//  How many of the records taken so far, counted in the order they were
//  taken, the coordinator has ACKed with every record before them: the
//  first N records sent are committed. For callers that must know when a
//  given record is (zetl_producer_stats counts the records_acked of batches
//  ACKed out of order too).
uint64_t zetl_producer_records_settled (zetl_producer_t *self);

//  The producer's socket to the coordinator, for a caller that waits on it
//  together with sockets of its own (zpoller) and then calls
//  zetl_producer_poll (self, 0). Borrowed: valid until the producer is
//  destroyed; receive nothing from it.
zsock_t *zetl_producer_socket (zetl_producer_t *self);

#endif
