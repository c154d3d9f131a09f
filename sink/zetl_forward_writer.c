/*  zetl_forward_writer - a forward target of a pipeline in a sink, as an actor  */
#include "zetl_forward_writer.h"
#include "zetl_breaker.h"
#include "zetl_forward_commit.h"
#include "zetl_log.h"
#include "zetl_producer.h"

#include <errno.h>

#define S_BACKOFF_MIN_MS 100
#define S_BACKOFF_MAX_MS 5000
#define S_WINDOW 64  //  producer batches held until ACKed: more than a sink's credit of batches

//  A batch on its way
typedef struct {
    zetl_msg_t *msg;                 //  the RESULT, owned
    zetl_forward_records_t records;  //  its rows as records for the other pipeline, once staged
    bool staged;                     //  records is filled
    size_t handed;                   //  records the producer took
    bool sent;                       //  the producer took them all: end is set
    uint64_t end;                    //  records the producer had taken after its last
    uint32_t copies;                 //  the same batch handed again meanwhile: answered alike
} s_flight_t;

typedef struct {
    zetl_forward_writer_args_t args;  //  what to send where
    zsock_t *pipe;
    const zetl_pipeline_t *pipeline;
    const zetl_target_t *target;
    char *producer_name;            //  <producer>/<sink name>
    zetl_producer_t *producer;      //  NULL until the other coordinator WELCOMEd it
    zetl_forward_commit_t *commit;  //  positions and counts here
    zlistx_t *flights;              //  s_flight_t, in arrival order
    zpoller_t *poller;              //  the pipe, and the producer's socket once connected
    zetl_breaker_t breaker;         //  in front of PostgreSQL and the other coordinator's WELCOME
    int64_t producer_due_ms;        //  when the producer next has something to do (mono), or -1
    bool caught_up;                 //  told the other coordinator it has nothing more for now
    zetl_log_limit_t unavailable;   //  failed connections to the other coordinator, logged
    bool terminated;
} s_writer_t;

static void
s_flight_free (void **item_p)
{
    s_flight_t *flight = (s_flight_t *) *item_p;
    if (flight) {
        zetl_msg_destroy (&flight->msg);
        zetl_forward_records_fini (&flight->records);
        free (flight);
        *item_p = NULL;
    }
}

//  Answer the flight at the list's cursor, and each copy of it, with
//  COMMAND and TEXT, and forget it
static void
s_answer (s_writer_t *self, const char *command, const char *text)
{
    void *handle = zlistx_cursor (self->flights);
    const s_flight_t *flight = (s_flight_t *) zlistx_handle_item (handle);
    for (uint32_t copy = 0; copy <= flight->copies; copy++)
        zsock_send (self->pipe, "s84s", command, flight->msg->batch_id, flight->msg->count, text);
    zlistx_delete (self->flights, handle);  //  The cursor goes back one: iterating goes on
}

//  PostgreSQL or the other coordinator failed (not the data): nothing is
//  tried until the breaker's period ends
static void
s_failed (s_writer_t *self, const char *event, const char *error)
{
    bool was_closed = zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED;
    int64_t now = zclock_mono ();
    zetl_breaker_failure (&self->breaker, now);
    if (was_closed)
        zetl_log_warn ("forward_writer", event,
                       json_pack ("{s:s, s:s, s:s, s:I}", "writer", self->args.writer, "target",
                                  self->target->name, "error", error, "retry_in_ms",
                                  (json_int_t) zetl_breaker_wait_ms (&self->breaker, now)));
}

static void
s_succeeded (s_writer_t *self)
{
    if (zetl_breaker_state (&self->breaker) == ZETL_BREAKER_CLOSED)
        return;
    int64_t now = zclock_mono ();
    zetl_breaker_success (&self->breaker, now);
    zetl_log_info ("forward_writer", "breaker_closed",
                   json_pack ("{s:s, s:I}", "writer", self->args.writer, "open_total_ms",
                              (json_int_t) zetl_breaker_open_total_ms (&self->breaker, now)));
}

//  Say HELLO to the other coordinator and wait for its WELCOME (up to the
//  target's timeout), once the breaker allows it
static void
s_connect (s_writer_t *self)
{
    if (!zetl_breaker_allow (&self->breaker, zclock_mono ()))
        return;
    zetl_producer_options_t options;
    zetl_producer_options_init (&options);
    options.linger_ms = self->target->sink_linger_ms;
    options.window = S_WINDOW;
    options.resend_ms = self->target->timeout_ms;
    options.connect_timeout_ms = self->target->timeout_ms;
    options.send_timeout_ms = 1;  //  A full window: come back when an ACK makes room
    char *error = NULL;
    self->producer = zetl_producer_new (self->target->coordinator, self->producer_name,
                                        self->target->pipeline, &options, &error);
    if (self->producer) {
        s_succeeded (self);
        zpoller_add (self->poller, zetl_producer_socket (self->producer));
        self->caught_up = false;
        return;
    }
    //  An unknown pipeline there needs an operator; a link down only time
    if (zetl_log_every (&self->unavailable, 60000))
        zetl_log_error ("forward_writer", "forward_unavailable",
                        json_pack ("{s:s, s:s, s:s, s:I}", "writer", self->args.writer, "producer",
                                   self->producer_name, "error", error, "seen",
                                   (json_int_t) self->unavailable.seen));
    s_failed (self, "forward_retry", error);
    free (error);
}

//  Stage every batch not staged yet, in order, while PostgreSQL answers
static void
s_stage (s_writer_t *self)
{
    for (s_flight_t *flight = (s_flight_t *) zlistx_first (self->flights); flight;
         flight = (s_flight_t *) zlistx_next (self->flights)) {
        if (flight->staged)
            continue;
        if (!zetl_breaker_allow (&self->breaker, zclock_mono ()))
            return;
        zetl_group_failure_t failure;
        if (zetl_forward_commit_stage (self->commit, flight->msg, &flight->records, &failure) ==
            0) {
            flight->staged = true;
            s_succeeded (self);
            continue;
        }
        if (!failure.malformed && !failure.data_failure) {
            s_failed (self, "commit_failed", failure.error_text);
            free (failure.error_text);
            return;
        }
        s_succeeded (self);  //  PostgreSQL answered: the batch is at fault, and none of it goes
        if (failure.malformed)
            s_answer (self, "DROPPED", failure.malformed_reason);
        else {
            zetl_log_warn ("forward_writer", "batch_refused",
                           json_pack ("{s:s, s:I, s:s}", "writer", self->args.writer, "batch",
                                      (json_int_t) flight->msg->batch_id, "error",
                                      failure.error_text));
            s_answer (self, "FAILED", failure.error_text);
        }
        free (failure.error_text);
    }
}

//  Hand the staged records to the producer, batch after batch in arrival
//  order, while its window has room. A batch's end is where the producer's
//  count of records taken stands after its last
static void
s_send (s_writer_t *self)
{
    for (s_flight_t *flight = (s_flight_t *) zlistx_first (self->flights); flight;
         flight = (s_flight_t *) zlistx_next (self->flights)) {
        if (flight->sent)
            continue;
        if (!flight->staged)
            return;
        while (flight->handed < flight->records.count) {
            size_t len;
            const void *data = zetl_forward_records_at (&flight->records, flight->handed, &len);
            if (zetl_producer_send (self->producer, data, len) != 0) {
                //  EAGAIN: full until an ACK makes room; EINTR: ending. Never
                //  EINVAL: one map, its size checked when staged
                assert (errno != EINVAL);
                return;
            }
            flight->handed++;
            self->caught_up = false;
        }
        zetl_producer_stats_t stats;
        zetl_producer_stats (self->producer, &stats);
        flight->end = stats.records;
        flight->sent = true;
        zetl_forward_records_fini (&flight->records);  //  The producer holds them now
    }
}

//  The batches at the head of the queue whose every record the other
//  coordinator ACKed, as a list of their RESULTs (borrowed). Caller owns it
static zlistx_t *
s_acked (s_writer_t *self)
{
    zlistx_t *acked = zlistx_new ();
    uint64_t settled = self->producer ? zetl_producer_records_settled (self->producer) : 0;
    for (s_flight_t *flight = (s_flight_t *) zlistx_first (self->flights);
         flight && flight->sent && flight->end <= settled;
         flight = (s_flight_t *) zlistx_next (self->flights))
        zlistx_add_end (acked, flight->msg);
    return acked;
}

//  Commit the ACKed batches here, in one transaction, and answer them DONE
static void
s_settle (s_writer_t *self)
{
    zlistx_t *acked = s_acked (self);
    size_t count = zlistx_size (acked);
    if (count == 0 || !zetl_breaker_allow (&self->breaker, zclock_mono ())) {
        zlistx_destroy (&acked);
        return;
    }
    zetl_group_failure_t failure;
    if (zetl_forward_commit_run (self->commit, acked, &failure) == 0) {
        s_succeeded (self);
        for (size_t done = 0; done < count && zlistx_first (self->flights); done++)
            s_answer (self, "DONE", "");
    }
    else if (failure.malformed) {
        //  Read whole when staged, so not expected: drop it, commit the rest next turn
        s_succeeded (self);
        for (s_flight_t *flight = (s_flight_t *) zlistx_first (self->flights); flight;
             flight = (s_flight_t *) zlistx_next (self->flights))
            if (flight->msg == failure.malformed) {
                s_answer (self, "DROPPED", failure.malformed_reason);
                break;
            }
    }
    else
        s_failed (self, "commit_failed", failure.error_text);
    free (failure.error_text);
    zlistx_destroy (&acked);
}

//  ACKs, resends and the linger; then when the producer is next due
static void
s_pump (s_writer_t *self)
{
    int64_t due = zetl_producer_poll (self->producer, 0);
    self->producer_due_ms = due < 0 ? -1 : zclock_mono () + due;
}

//  One turn: stage, connect, send, take ACKs, commit what is ACKed
static void
s_work (s_writer_t *self)
{
    if (zlistx_size (self->flights) == 0 && !self->producer)
        return;  //  Connected on the first batch
    s_stage (self);
    if (!self->producer)
        s_connect (self);
    if (!self->producer)
        return;
    s_pump (self);
    s_send (self);
    s_pump (self);
    s_settle (self);
    //  Nothing left: say so, so that this producer stops holding the other
    //  pipeline's watermark back until it sends again
    if (zlistx_size (self->flights) == 0 && !self->caught_up &&
        zetl_producer_flush (self->producer, 0) == 0)
        self->caught_up = true;
}

//  Work that waits for the breaker: staging, connecting, committing
static bool
s_breaker_work (s_writer_t *self)
{
    s_flight_t *first = (s_flight_t *) zlistx_first (self->flights);
    if (!first)
        return false;
    if (!self->producer)
        return true;
    for (s_flight_t *flight = first; flight; flight = (s_flight_t *) zlistx_next (self->flights))
        if (!flight->staged)
            return true;
    zlistx_t *acked = s_acked (self);
    bool any = zlistx_size (acked) > 0;
    zlistx_destroy (&acked);
    return any;
}

//  How long to wait for the pipe or the producer's socket: until the
//  breaker allows what waits for it, or the producer is next due
static int
s_wait_ms (s_writer_t *self)
{
    int64_t now = zclock_mono ();
    int64_t wait = -1;
    if (s_breaker_work (self))
        wait = zetl_breaker_wait_ms (&self->breaker, now);
    if (self->producer && self->producer_due_ms >= 0) {
        int64_t due = self->producer_due_ms > now ? self->producer_due_ms - now : 0;
        if (wait < 0 || due < wait)
            wait = due;
    }
    return wait > INT32_MAX ? INT32_MAX : (int) wait;
}

//  Take batch MSG (takes ownership). The same batch dispatched again while
//  it is on its way here (its deadline passed while the link was down) is
//  not sent again: it is answered with the copy on its way. Its positions
//  are the same, so they commit once whichever copy's rows went
static void
s_take (s_writer_t *self, zetl_msg_t *msg)
{
    for (s_flight_t *flight = (s_flight_t *) zlistx_first (self->flights); flight;
         flight = (s_flight_t *) zlistx_next (self->flights))
        if (flight->msg->batch_id == msg->batch_id && flight->msg->partition == msg->partition) {
            flight->copies++;
            zetl_msg_destroy (&msg);
            return;
        }
    s_flight_t *flight = (s_flight_t *) zmalloc (sizeof (s_flight_t));
    flight->msg = msg;
    zetl_forward_records_init (&flight->records);
    zlistx_add_end (self->flights, flight);
}

static void
s_recv (s_writer_t *self)
{
    char *command = NULL;
    void *pointer = NULL;
    if (zsock_recv (self->pipe, "sp", &command, &pointer) != 0) {
        self->terminated = true;  //  Interrupted
        return;
    }
    if (streq (command, "$TERM"))
        self->terminated = true;
    else if (streq (command, "BATCH"))
        s_take (self, (zetl_msg_t *) pointer);
    else
        assert (false);  //  Unknown command on an internal pipe
    free (command);
}

static s_writer_t *
s_new (zsock_t *pipe, const zetl_forward_writer_args_t *args)
{
    s_writer_t *self = (s_writer_t *) zmalloc (sizeof (s_writer_t));
    self->args = *args;
    self->pipe = pipe;
    self->pipeline = &args->config->pipelines[args->pipeline];
    self->target = &self->pipeline->targets[args->target];
    char *fallback = self->target->producer
                         ? NULL
                         : zsys_sprintf ("%s-%s", args->config->cluster.name, self->pipeline->id);
    self->producer_name =
        zsys_sprintf ("%s/%s", fallback ? fallback : self->target->producer, args->sink);
    free (fallback);
    self->commit = zetl_forward_commit_new (self->pipeline, self->target, args->conninfo,
                                            args->writer, args->accounts);
    self->flights = zlistx_new ();
    zlistx_set_destructor (self->flights, s_flight_free);
    self->poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (self->poller, true);  //  Ended by the sink server, which sends $TERM
    zetl_breaker_config_t breaker = {1, S_BACKOFF_MIN_MS, S_BACKOFF_MAX_MS};
    zetl_breaker_init (&self->breaker, &breaker);
    self->producer_due_ms = -1;
    return self;
}

static void
s_destroy (s_writer_t **self_p)
{
    s_writer_t *self = *self_p;
    zpoller_destroy (&self->poller);
    //  What it holds unACKed is logged and dropped: those batches are not
    //  committed, so they come back and are sent again
    zetl_producer_destroy (&self->producer);
    zlistx_destroy (&self->flights);
    zetl_forward_commit_destroy (&self->commit);
    free (self->producer_name);
    free (self);
    *self_p = NULL;
}

void
zetl_forward_writer_actor (zsock_t *pipe, void *args)
{
    s_writer_t *self = s_new (pipe, (const zetl_forward_writer_args_t *) args);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        int wait_ms = s_wait_ms (self);
        if (wait_ms != 0) {
            void *which = zpoller_wait (self->poller, wait_ms);
            if (which == pipe) {
                s_recv (self);
                continue;  //  Take every queued batch before working
            }
            if (!which && zpoller_terminated (self->poller) && !zsys_interrupted)
                break;  //  The context is going
        }
        s_work (self);
    }
    s_destroy (&self);
}
