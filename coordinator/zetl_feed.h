/*  zetl_feed - what every source actor of a pipeline shares: its feed to the dispatcher

    A source actor reads rows from somewhere (files, the dead letters being
    reprocessed), turns each into a record and hands chunks of records to the
    dispatcher over its pipe. This module holds the part that does not depend
    on where the rows come from:

      - flow control: "CHUNK" + pointer (a zetl_chunk_t, the receiver owns
        it) leaves only while the actor holds credit; each "MORE" on the pipe
        grants one more; "STOP" makes it stop reading and answer "STOPPED"
        once it will send nothing more; "$TERM" ends it;
      - turning a JSONL row into a record: partition and event time
        (zetl_extract), the deduplication key (the id and the 128-bit hash of
        the canonical form, computed here on the reading thread so the
        dispatcher only looks it up), or a dead letter with the raw text;
      - skipping rows at or below the positions every target has committed,
        and the highest position handed over per partition (sent), which
        sources that checkpoint (zetl_progress) compare with what commits;
      - telling the dispatcher when the source has caught up ("CAUGHT_UP").

    One zetl_feed_t lives on its actor's stack; nothing here is shared
    between threads.
*/
#ifndef ZETL_FEED_H_INCLUDED
#define ZETL_FEED_H_INCLUDED

#include "zetl_chunk.h"
#include "zetl_config.h"
#include "zetl_extract.h"
#include "zetl_jsonl.h"
#include "zetl_log.h"
#include "zetl_ranges.h"

#include <czmq.h>

//  What the dispatcher gives every source actor it starts
typedef struct {
    const zetl_config_t *config;  //  borrowed: outlives the actor
    size_t pipeline;              //  index of the pipeline
    zhashx_t *committed;          //  "source\x1fpartition" -> zetl_pg_position_t *, what every
                                  //  target has committed; taken by the actor, may be NULL
    const char *postgres;         //  zetl's own database (borrowed: outlives the actor)
    bool once;                    //  read what there is now, then send EOF (zetlctl up --once)
} zetl_source_args_t;

#define ZETL_FEED_CREDIT 4             //  chunks in flight to the dispatcher at start
#define ZETL_FEED_MAX_PARTITIONS 4096  //  the configuration's upper bound

typedef struct {
    zsock_t *pipe;
    const zetl_pipeline_t *pipeline;
    size_t pipeline_index;
    uint32_t flags;             //  ZETL_ENTRY_* every record of this source carries
    int credit;                 //  chunks we may still send
    bool terminated;            //  stop reading
    bool stop_requested;        //  stopped by STOP: say STOPPED, then wait for $TERM
    zetl_chunk_t *chunk;        //  being filled
    const char *name;           //  the source being read (borrowed)
    zetl_jsonl_t *jsonl;
    const char *names[ZETL_EXTRACT_COUNT];
    int64_t committed[ZETL_FEED_MAX_PARTITIONS];  //  per partition, of the current source
    int64_t sent[ZETL_FEED_MAX_PARTITIONS];  //  per partition, the highest position handed over
                                             //  of the current source (-1: none)
    zetl_ranges_t *above[ZETL_FEED_MAX_PARTITIONS];  //  ordered mode: committed above it, or NULL
    uint64_t records;           //  records read (not skipped)
    uint64_t skipped;           //  records at or below committed positions
    uint64_t bad_rows;          //  rows turned into dead letters
    zetl_log_limit_t bad_log;
    msgpack_zone zone;          //  a producer's record unpacked to find its fields: cleared, not freed
    zpoller_t *poller;          //  on the pipe, for zetl_feed_idle
} zetl_feed_t;

//  Set up SELF for PIPE and PIPELINE (index INDEX of CONFIG); FLAGS go on
//  every record.
void zetl_feed_init (zetl_feed_t *self, zsock_t *pipe, const zetl_config_t *config,
                       size_t index, uint32_t flags);

//  Free what SELF holds.
void zetl_feed_fini (zetl_feed_t *self);

//  Start reading source NAME (borrowed until the next zetl_feed_begin):
//  hand over what was read so far, then take NAME's committed positions
//  from COMMITTED ("source\x1fpartition" -> zetl_pg_position_t *; may be NULL).
void zetl_feed_begin (zetl_feed_t *self, const char *name, zhashx_t *committed);

//  Take one command from the dispatcher, waiting for it.
void zetl_feed_take_command (zetl_feed_t *self);

//  Wait up to MS for commands, taking each (credit, STOP, $TERM): how a
//  source that has nothing to read waits while staying responsive.
void zetl_feed_idle (zetl_feed_t *self, int64_t ms);

//  Take any credit that arrived meanwhile, without waiting.
void zetl_feed_poll_pipe (zetl_feed_t *self);

//  Wait for credit, then hand the chunk over (nothing when it is empty).
void zetl_feed_send_chunk (zetl_feed_t *self);

//  True when POSITION of PARTITION is committed everywhere already.
bool zetl_feed_committed (const zetl_feed_t *self, uint32_t partition, uint64_t position);

//  One converted record, packed at OFFSET of the chunk's data, with its
//  extracted VALUES; RAW is the row's text for a dead letter.
void zetl_feed_add_record (zetl_feed_t *self, uint64_t position, size_t offset,
                             const zetl_field_value_t *values, const char *raw, size_t raw_len);

//  The same for a record whose PARTITION and EVENT_US the source has taken
//  from VALUES itself (zetl_extract_record succeeded): nothing computed twice.
void zetl_feed_add_extracted (zetl_feed_t *self, uint64_t position, size_t offset,
                              const zetl_field_value_t *values, uint32_t partition,
                              int64_t event_us);

//  A row that cannot be read: a dead letter with REASON, FIELD and ERROR.
void zetl_feed_bad_row (zetl_feed_t *self, uint32_t partition, uint64_t position,
                          const char *reason, const char *field, const char *error,
                          const char *raw, size_t raw_len);

//  One JSONL row (without its newline) at POSITION. Hands the chunk over
//  when it is full.
void zetl_feed_jsonl_row (zetl_feed_t *self, const char *row, size_t len, uint64_t position);

//  One record that came as a packed msgpack map (PACKED, LEN bytes, already
//  checked to be one well-formed object) at POSITION: appended to the chunk
//  as it is, its fields extracted like a JSONL row's. Anything but a map is
//  a dead letter (malformed). Does not hand the chunk over.
void zetl_feed_map_row (zetl_feed_t *self, const void *packed, size_t len, uint64_t position);

//  Hand the chunk over and tell the dispatcher this source has nothing more
//  to read for now ("CAUGHT_UP"): it stops holding the watermark back until
//  its next record.
void zetl_feed_caught_up (zetl_feed_t *self);

//  Hand the last chunk over, send "EOF" + records read, and stay until told
//  to stop, so the dispatcher owns the ending.
void zetl_feed_finish (zetl_feed_t *self);

#endif
