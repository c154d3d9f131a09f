/*  zetl_producer_loop - a producer's turns: what the coordinator sent, what is due, waiting

    Part of a producer (zetl_producer.h): it has no thread of its own, so the
    API's calls turn this loop. A turn drains a bounded number of messages
    (WELCOME, ACK, ERROR), runs the timers (HELLO again, resend, the linger)
    and waits for the coordinator no longer than one slice, so that signals
    are seen between waits.
*/
#include "zetl_producer_internal.h"

#include <errno.h>

#define S_DRAIN_MAX 256  //  messages handled per turn, so timers stay on time
#define S_SLICE_MS 250   //  longest single wait: signals are seen between waits

static void
s_handle (zetl_producer_t *self, zetl_msg_t *msg)
{
    switch (msg->type) {
    case ZETL_MSG_WELCOME:
        zetl_producer_welcome (self, msg);
        break;
    case ZETL_MSG_ACK:
        zetl_producer_ack (self, msg->batch_id);
        break;
    case ZETL_MSG_ERROR:
        zetl_producer_error (self, msg);
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
            zetl_producer_send_hello (self);
    }
    else if (self->held > 0 && now >= self->resend_at_ms) {
        //  No ACK for resend_ms: a batch or its ACK was lost, or the
        //  pipeline is slow. Either way the coordinator drops what it has
        if (zetl_log_every (&self->resends, 60000))
            zetl_log_info ("producer", "batches_resent",
                           json_pack ("{s:s, s:i, s:I, s:I}", "name", self->name, "held",
                                      (int) self->held, "first",
                                      (json_int_t) zetl_producer_slot (self, 0)->sequence, "seen",
                                      (json_int_t) self->resends.seen));
        zetl_producer_resend_all (self);
    }
    uint32_t count = zetl_body_writer_count (self->writer);
    if (count > 0 && zetl_producer_room (self) &&
        (self->flushing || zetl_producer_full (self) ||
         now - self->first_record_ms >= self->options.linger_ms))
        zetl_producer_seal (self);
}

//  When s_timers next has something to do, or INT64_MAX
int64_t
zetl_producer_next_due (zetl_producer_t *self, int64_t now)
{
    int64_t due = INT64_MAX;
    if (!self->welcomed)
        due = self->next_hello_ms;
    else if (self->held > 0)
        due = self->resend_at_ms;
    if (zetl_body_writer_count (self->writer) > 0 && zetl_producer_room (self)) {
        int64_t seal = self->flushing || zetl_producer_full (self)
                           ? now
                           : self->first_record_ms + self->options.linger_ms;
        if (seal < due)
            due = seal;
    }
    return due;
}

//  One turn: handle what came and what is due, wait up to TIMEOUT_MS (at
//  most one slice, no later than the next thing due) for the coordinator,
//  and again. Returns 0, or -1 when interrupted
int
zetl_producer_pump (zetl_producer_t *self, int64_t timeout_ms)
{
    s_drain (self);
    int64_t now = zclock_mono ();
    s_timers (self, now);
    int64_t wait = zetl_producer_next_due (self, now) - now;
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
int
zetl_producer_wait_until (zetl_producer_t *self, bool (*done) (zetl_producer_t *),
                          int64_t deadline_ms, int timeout_errno)
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
        if (zsys_interrupted || zetl_producer_pump (self, wait) != 0) {
            errno = EINTR;
            return -1;
        }
    }
    return 0;
}
