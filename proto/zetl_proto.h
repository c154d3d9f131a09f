/*  zetl_proto - the zetl wire codec: the one place that packs and unpacks frames

    A message is one header frame (a msgpack array, see PROTOCOL.md) and, for
    some types, one body frame. On ROUTER sockets the peer's routing id comes
    first; zetl_msg_recv_router / zetl_msg_send_router handle it. A BATCH or
    RESULT body is a list of source names followed by `count` entries, each the
    record's source position, event time, flags, content hash and payload
    (a msgpack object: the record map, the output row, or a dead letter).
    zetl_body_writer builds such a body, zetl_body_reader walks one.

    Decoding never trusts the peer: unknown versions and types, short or
    oversized frames, bad msgpack and a count that does not match the body are
    reported as errors (a reason string), never a crash. A BATCH or RESULT
    body is checked by its counted reader (zetl_msg_body_reader), as it is
    read, so that the one reader a worker or a sink needs is also its only
    pass over the bytes.
*/
#ifndef ZETL_PROTO_H_INCLUDED
#define ZETL_PROTO_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#define ZETL_PROTO_VERSION 1
#define ZETL_PROTO_MAX_HEADER 4096              //  bytes in a header frame
#define ZETL_PROTO_MAX_BODY (256 * 1024 * 1024) //  bytes in a body frame
#define ZETL_PROTO_MAX_STRING 1024              //  bytes in a header string
#define ZETL_PROTO_MAX_LUTS 16                  //  lookup-table versions a header carries
#define ZETL_PROTO_MAX_LOAD 16                  //  figures a header's load carries

typedef enum {
    ZETL_MSG_HELLO = 1,   //  worker/sink -> coordinator: role (code), name, endpoint (sinks), hash held
    ZETL_MSG_WELCOME,     //  coordinator -> worker/sink: body = configuration text; hash, epoch
    ZETL_MSG_READY,       //  worker -> coordinator: credit (more batches it takes), batch_id done or 0
    ZETL_MSG_BATCH,       //  coordinator -> worker: body = entries; pipeline, batch_id, partition, count, sink
    ZETL_MSG_RESULT,      //  worker -> sink: body = output entries; same header fields as its BATCH
    ZETL_MSG_COMMIT,      //  sink -> coordinator: batch_id committed (count = records in it)
    ZETL_MSG_ACK,         //  coordinator -> producer: batch_id (producer sequence) committed
    ZETL_MSG_HEARTBEAT,   //  both ways, every second: credit = batches in progress at the sender
    ZETL_MSG_WATERMARK,   //  coordinator -> peers: pipeline, watermark_us
    ZETL_MSG_SINKS,       //  coordinator -> worker: body = msgpack array of [name, endpoint] pairs
    ZETL_MSG_DRAIN,       //  coordinator -> worker: take no more batches, finish, then BYE
    ZETL_MSG_BYE,         //  either way: the sender is leaving
    ZETL_MSG_ERROR,       //  either way: code, text, batch_id (0 when it names no batch)
    ZETL_MSG_TYPE_MAX = ZETL_MSG_ERROR
} zetl_msg_type_t;

//  A producer's HEARTBEAT code: it has sent all it has for now
#define ZETL_CAUGHT_UP 1

//  Peer roles, carried in HELLO's code field
typedef enum { ZETL_ROLE_WORKER = 1, ZETL_ROLE_SINK = 2, ZETL_ROLE_PRODUCER = 3 } zetl_role_t;

//  ERROR codes
typedef enum {
    ZETL_ERR_PROTOCOL = 1,  //  the frame could not be decoded
    ZETL_ERR_VERSION = 2,   //  unknown protocol version
    ZETL_ERR_DATA = 3,      //  the batch failed for its data (counts toward max_retries)
    ZETL_ERR_RETRY = 4,     //  transient: try the batch again later (never counts)
    ZETL_ERR_UNKNOWN_PEER = 5, //  say HELLO first
    ZETL_ERR_CONFIG = 6,    //  configuration hash not held: say HELLO again
    ZETL_ERR_LUT_GONE = 7   //  a lookup-table version the batch is pinned to is gone from
                            //  Redis: pin the batch again and retry it (never counts)
} zetl_err_t;

//  A worker's HEARTBEAT load: the figures, by index (PROTOCOL.md §7)
typedef enum {
    ZETL_LOAD_BUSY_US = 0,  //  µs spent processing batches since its previous heartbeat
    ZETL_LOAD_INTERVAL_US,  //  µs since its previous heartbeat
    ZETL_LOAD_RSS_BYTES,    //  resident memory, 0 when unknown
    ZETL_LOAD_LIMIT_BYTES,  //  the memory it may use (its cgroup's), 0 when unbounded
    ZETL_LOAD_LOOKUPS,      //  lookups made since it started
    ZETL_LOAD_LOOKUP_HITS,  //  of which answered from its cache
    ZETL_LOAD_COUNT
} zetl_load_t;

//  Per-entry flags
#define ZETL_ENTRY_DEAD 0x01       //  payload is a dead letter {reason, field, error, raw}
#define ZETL_ENTRY_DUPLICATE 0x02  //  position only: dropped as a duplicate, payload nil
#define ZETL_ENTRY_LATE 0x04       //  arrived late (a fact about arrival, never stored in rows)
#define ZETL_ENTRY_OUT_OF_ORDER 0x08
#define ZETL_ENTRY_REPROCESS 0x10  //  bypasses the lateness check
#define ZETL_ENTRY_CHECKPOINT 0x20 //  position only, ordered mode: every record of this source
                                   //  and partition at or below it is committed everywhere
#define ZETL_ENTRY_DELETED 0x40    //  RESULT: the row is a delete marker (its zetl_deleted)
//  Entries that hold no record for a worker to process: they pass through to the sink
#define ZETL_ENTRY_PASS_THROUGH (ZETL_ENTRY_DEAD | ZETL_ENTRY_DUPLICATE | ZETL_ENTRY_CHECKPOINT)

typedef struct {
    uint8_t version;          //  protocol version (ZETL_PROTO_VERSION when built here)
    uint8_t type;             //  zetl_msg_type_t
    uint64_t config_hash;     //  configuration hash the sender holds
    uint32_t epoch;           //  coordinator epoch
    uint64_t batch_id;        //  batch id, 0 if none
    uint32_t pipeline;        //  pipeline index in the configuration
    uint32_t partition;       //  partition of the batch
    uint32_t count;           //  entries in the body
    int64_t watermark_us;     //  pipeline watermark, INT64_MIN before any record
    uint32_t attempt;         //  dispatch attempt, 1 first
    uint32_t credit;          //  READY/HEARTBEAT credit
    uint32_t code;            //  HELLO role, ERROR code
    char *sink;               //  BATCH/RESULT: name of the target sink; owned, or NULL
    char *name;               //  HELLO: peer name; owned, or NULL
    char *endpoint;           //  HELLO from a sink: its advertised data endpoint; owned, or NULL
    char *text;               //  ERROR: what happened; owned, or NULL
    uint32_t lut_count;       //  BATCH, RESULT: entries in luts (the pipeline's enrichments)
    uint64_t luts[ZETL_PROTO_MAX_LUTS];  //  the lookup-table version each enrichment uses
    uint32_t load_count;                 //  HEARTBEAT from a worker: entries in load
    uint64_t load[ZETL_PROTO_MAX_LOAD];  //  its figures, indexed by zetl_load_t
    zframe_t *body;           //  body frame; owned, or NULL
} zetl_msg_t;

//  Create a message of TYPE with every field zero/NULL, version current and
//  watermark INT64_MIN. Caller owns the result.
zetl_msg_t *zetl_msg_new (zetl_msg_type_t type);
//  Destroy the message, its strings and body; set *self_p to NULL.
void zetl_msg_destroy (zetl_msg_t **self_p);
//  Set a string field, copying VALUE (NULL clears it). FIELD is &msg->name etc.
void zetl_msg_set_str (char **field, const char *value);
//  Set the body, taking ownership of *body_p and setting it to NULL.
void zetl_msg_set_body (zetl_msg_t *self, zframe_t **body_p);
//  Return the name of a message type ("BATCH"), or "UNKNOWN".
const char *zetl_msg_type_name (int type);

//  Encode into a new zmsg_t (header frame, then body frame if any). The body
//  frame is duplicated, so SELF keeps its own. Caller owns the result.
zmsg_t *zetl_msg_encode (const zetl_msg_t *self);
//  Decode *ZMSG_P (routing id already removed), destroying it and setting it
//  to NULL. Returns the message, or NULL with *REASON set to a static string
//  saying what was wrong. Checks: frame count, header size, msgpack, version,
//  type, field types, string sizes, body size; for BATCH and RESULT, that a
//  count above 0 comes with a body. The body itself is checked as it is
//  read, by zetl_msg_body_reader (PROTOCOL.md §4): its reader reads it start
//  to end before acting on it. Caller owns the result.
zetl_msg_t *zetl_msg_decode (zmsg_t **zmsg_p, const char **reason);

//  Send on a DEALER/PUSH-like socket. Returns 0, or -1 if the send failed
//  (EAGAIN under ZMQ_DONTWAIT/IMMEDIATE, or the peer is unroutable). SELF is
//  not consumed. Sends are non-blocking.
int zetl_msg_send (const zetl_msg_t *self, zsock_t *sock);
//  Send to ROUTING_ID on a ROUTER socket (ROUTER_MANDATORY set by the
//  caller). Returns 0, or -1 (EHOSTUNREACH when the peer is gone).
int zetl_msg_send_router (const zetl_msg_t *self, zsock_t *sock, zframe_t *routing_id);
//  Receive one message from a DEALER socket. Returns the message, or NULL
//  with *REASON set (NULL reason means interrupted). Caller owns the result.
zetl_msg_t *zetl_msg_recv (zsock_t *sock, const char **reason);
//  Receive from a ROUTER socket: sets *ROUTING_ID_P to the sender's routing
//  id (caller owns it, also on decode failure so it can answer ERROR).
zetl_msg_t *zetl_msg_recv_router (zsock_t *sock, zframe_t **routing_id_p, const char **reason);

//  ---------------------------------------------------------------------
//  Bodies of BATCH and RESULT

typedef struct {
    uint32_t source;          //  index into the body's source names
    uint64_t position;        //  position within that source: only grows
    int64_t event_us;         //  event time, microseconds since the epoch UTC
    uint32_t flags;           //  ZETL_ENTRY_*
    bool has_hash;            //  hash present
    uint8_t hash[16];         //  128-bit content hash (xxh3-128, big-endian bytes)
    msgpack_object payload;   //  record map, output row array, dead letter map, or nil
    const uint8_t *packed;    //  the payload as packed msgpack, inside the body frame
    size_t packed_size;       //  bytes at packed
} zetl_entry_t;

typedef struct zetl_body_writer zetl_body_writer_t;

//  Create an empty body. Caller owns the result.
zetl_body_writer_t *zetl_body_writer_new (void);
void zetl_body_writer_destroy (zetl_body_writer_t **self_p);
//  Return the index of source NAME in this body, adding it if new.
uint32_t zetl_body_writer_source (zetl_body_writer_t *self, const char *name);
//  Append one entry whose payload is PAYLOAD_LEN bytes of already packed
//  msgpack (one object; NULL/0 packs nil). HASH is 16 bytes or NULL.
void zetl_body_writer_append (zetl_body_writer_t *self, uint32_t source, uint64_t position,
                              int64_t event_us, uint32_t flags, const uint8_t *hash,
                              const void *payload, size_t payload_len);
//  Entries appended so far.
uint32_t zetl_body_writer_count (const zetl_body_writer_t *self);
//  Bytes of entry data appended so far.
size_t zetl_body_writer_size (const zetl_body_writer_t *self);
//  Return the body as a frame and reset the writer to empty. Caller owns the result.
zframe_t *zetl_body_writer_finish (zetl_body_writer_t *self);

typedef struct zetl_body_reader zetl_body_reader_t;

//  Start reading BODY (borrowed: must outlive the reader). Returns NULL with
//  *REASON set if the source list is malformed. Caller owns the result.
//  This reader reads entries until the body ends, whatever their number:
//  to read a message's body as the count in its header says, use
//  zetl_msg_body_reader.
zetl_body_reader_t *zetl_body_reader_new (zframe_t *body, const char **reason);
//  Start reading the body of BATCH or RESULT MSG (borrowed: must outlive the
//  reader), holding it to MSG->count entries: once that many were read the
//  reader ends only where the body does, and a body that ends early or goes
//  on is an error of zetl_body_reader_next ("record count does not match the
//  body: ...", "trailing bytes after the last entry"). BATCH and RESULT
//  bodies are checked this way only, as they are read (PROTOCOL.md §4): a
//  body is good once this reader has come to its end (0), and nothing read
//  from it may be acted on for good before then. MSG without a body reads
//  as empty. Returns NULL with *REASON set if the source list is malformed.
//  Caller owns the result.
zetl_body_reader_t *zetl_msg_body_reader (const zetl_msg_t *msg, const char **reason);
void zetl_body_reader_destroy (zetl_body_reader_t **self_p);
//  Number of source names, and name INDEX (borrowed, valid until destroyed).
uint32_t zetl_body_reader_sources (const zetl_body_reader_t *self);
const char *zetl_body_reader_source_name (const zetl_body_reader_t *self, uint32_t index);
//  Read the next entry into *ENTRY. Returns 1 when one was read, 0 at the end,
//  -1 with *REASON set on malformed data. ENTRY's payload is borrowed: valid
//  until the next call or until the reader is destroyed.
int zetl_body_reader_next (zetl_body_reader_t *self, zetl_entry_t *entry, const char **reason);
//  Like zetl_body_reader_next, checking the entry just as fully, but build no
//  payload object: ENTRY's payload is nil and only packed/packed_size say
//  where the payload is. For a reader that reads the payload's values once,
//  with zetl_walk_item (zetl_proto_walk.h), instead of walking a tree.
int zetl_body_reader_next_packed (zetl_body_reader_t *self, zetl_entry_t *entry,
                                  const char **reason);
//  Build the payload object of ENTRY, the entry zetl_body_reader_next_packed
//  just read (and checked), as zetl_body_reader_next would have: for the rare
//  entry a reader of packed payloads wants as a tree after all. ENTRY's
//  payload is borrowed: valid until the next read or until the reader is
//  destroyed.
void zetl_body_reader_build_payload (zetl_body_reader_t *self, zetl_entry_t *entry);

#endif
