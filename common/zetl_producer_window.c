/*  zetl_producer_window - the batches a producer holds until the coordinator ACKs them

    Part of a producer (zetl_producer.h), on the thread that uses it. A ring
    of options.window slots from the oldest batch not ACKed: sealing the
    batch being filled into the next slot and sending it, taking ACKs, and
    sending every batch not ACKed again, with the same numbers.
*/
#include "zetl_producer_internal.h"

#define S_BATCH_BYTES (16 * 1024 * 1024)  //  a batch is also full with this many bytes of entries

zetl_producer_batch_t *
zetl_producer_slot (zetl_producer_t *self, uint32_t index)
{
    return &self->window[(self->head + index) % self->options.window];
}

bool
zetl_producer_room (const zetl_producer_t *self)
{
    return self->held < self->options.window;
}

static void
s_send_batch (zetl_producer_t *self, zetl_producer_batch_t *batch)
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
void
zetl_producer_resend_all (zetl_producer_t *self)
{
    for (uint32_t index = 0; index < self->held; index++) {
        zetl_producer_batch_t *batch = zetl_producer_slot (self, index);
        if (batch->body)
            s_send_batch (self, batch);
    }
    self->resend_at_ms = zclock_mono () + self->options.resend_ms;
}

void
zetl_producer_ack (zetl_producer_t *self, uint64_t sequence)
{
    if (self->held == 0)
        return;
    uint64_t first = zetl_producer_slot (self, 0)->sequence;
    if (sequence < first || sequence - first >= self->held)
        return;  //  An ACK again for a batch long ACKed, or for none of ours
    zetl_producer_batch_t *batch = zetl_producer_slot (self, (uint32_t) (sequence - first));
    if (!batch->body)
        return;
    zframe_destroy (&batch->body);
    self->stats.acked++;
    self->stats.records_acked += batch->count;
    while (self->held > 0 && !zetl_producer_slot (self, 0)->body) {
        self->head = (self->head + 1) % self->options.window;
        self->held--;
    }
    //  Progress: the resend clock starts again
    self->resend_at_ms = zclock_mono () + self->options.resend_ms;
}

bool
zetl_producer_full (zetl_producer_t *self)
{
    return zetl_body_writer_count (self->writer) >= self->options.batch_size ||
           zetl_body_writer_size (self->writer) >= S_BATCH_BYTES;
}

//  Turn the batch being filled into the next in the window, and send it
void
zetl_producer_seal (zetl_producer_t *self)
{
    assert (zetl_producer_room (self));
    assert (zetl_body_writer_count (self->writer) > 0);
    if (self->held == 0)
        self->resend_at_ms = zclock_mono () + self->options.resend_ms;
    zetl_producer_batch_t *batch = zetl_producer_slot (self, self->held++);
    batch->sequence = self->next_sequence++;
    batch->count = zetl_body_writer_count (self->writer);
    batch->sends = 0;
    batch->body = zetl_body_writer_finish (self->writer);
    self->stats.batches++;
    s_send_batch (self, batch);
}
