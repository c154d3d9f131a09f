/*  filesink - drive a sink's files writer alone, as fast as it takes batches

    The measured side of the files target benchmark: starts one
    zetl_files_writer actor for the first files target of the configuration's
    first pipeline (PostgreSQL from ZETL_POSTGRES, for its positions) and
    hands it ROWS bookings rows in RESULT batches of 1000, spread over 16
    partitions of one source, keeping up to 64 batches in flight as a sink's
    credit does. Rows are made before the clock starts: what is timed is the
    writer's work only (encode, compress, temp write, fsync, rename, commit).
    Prints one line: rows, seconds, rows/s.

    Usage: zetl-bench-filesink CONFIG ROWS
*/
#include "zetl_config.h"
#include "zetl_files_writer.h"
#include "zetl_proto.h"
#include "zetl_record.h"

#include <czmq.h>
#include <inttypes.h>

#define S_BATCH 1000
#define S_PARTITIONS 16
#define S_IN_FLIGHT 64

static void
s_pack_str (msgpack_packer *pk, const char *text)
{
    size_t len = strlen (text);
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, text, len);
}

//  Row INDEX of the bookings schema (booking_id, hotel_id, guest_email,
//  amount, currency, status, check_in, nights, channel, updated_at), packed
static void
s_pack_row (msgpack_sbuffer *buffer, uint64_t index, int64_t event_us)
{
    static const char *statuses[] = {"new", "confirmed", "cancelled"};
    static const char *channels[] = {"direct", "booking.com", "expedia", "phone"};
    msgpack_packer pk;
    msgpack_packer_init (&pk, buffer, msgpack_sbuffer_write);
    char text[64];
    msgpack_pack_array (&pk, 10);
    snprintf (text, sizeof text, "BK-%08" PRIu64, index);
    s_pack_str (&pk, text);
    msgpack_pack_int64 (&pk, (int64_t) (index % 500) + 1);
    snprintf (text, sizeof text, "guest.%" PRIu64 "@example.com", index % 100000);
    s_pack_str (&pk, text);
    snprintf (text, sizeof text, "%" PRIu64 ".%02" PRIu64, 50 + index % 3000, index % 100);
    msgpack_pack_ext (&pk, strlen (text), ZETL_EXT_DECIMAL);
    msgpack_pack_ext_body (&pk, text, strlen (text));
    s_pack_str (&pk, "EUR");
    s_pack_str (&pk, statuses[index % 3]);
    msgpack_pack_int64 (&pk, 20454 + (int64_t) (index % 180));  //  a date in 2026
    msgpack_pack_int64 (&pk, 1 + (int64_t) (index % 14));
    s_pack_str (&pk, channels[index % 4]);
    msgpack_pack_int64 (&pk, event_us);
}

//  Every batch, made before the clock starts
static zlistx_t *
s_make_batches (uint64_t rows, uint64_t config_hash)
{
    zlistx_t *batches = zlistx_new ();
    msgpack_sbuffer row;
    msgpack_sbuffer_init (&row);
    uint64_t positions[S_PARTITIONS] = {0};
    int64_t start_us = INT64_C (1767225600000000);  //  2026-01-01T00:00:00Z
    uint8_t hash[16] = {0};
    for (uint64_t first = 0, batch = 1; first < rows; first += S_BATCH, batch++) {
        uint32_t partition = (uint32_t) (batch % S_PARTITIONS);
        zetl_body_writer_t *writer = zetl_body_writer_new ();
        uint32_t source = zetl_body_writer_source (writer, "bench.jsonl");
        uint64_t count = rows - first < S_BATCH ? rows - first : S_BATCH;
        for (uint64_t at = first; at < first + count; at++) {
            row.size = 0;
            int64_t event_us = start_us + (int64_t) at * 300000;  //  0.3 s apart: a few days
            s_pack_row (&row, at, event_us);
            memcpy (hash, &at, sizeof at);
            positions[partition] += 200;
            zetl_body_writer_append (writer, source, positions[partition], event_us, 0, hash,
                                     row.data, row.size);
        }
        zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_RESULT);
        msg->config_hash = config_hash;
        msg->batch_id = batch;
        msg->partition = partition;
        msg->count = (uint32_t) count;
        msg->attempt = 1;
        zframe_t *body = zetl_body_writer_finish (writer);
        zetl_msg_set_body (msg, &body);
        zetl_body_writer_destroy (&writer);
        zlistx_add_end (batches, msg);
    }
    msgpack_sbuffer_destroy (&row);
    return batches;
}

//  Wait for one answer; returns 0 for DONE
static int
s_answer (zactor_t *actor)
{
    char *command = NULL, *text = NULL;
    uint64_t batch_id = 0;
    uint32_t count = 0;
    if (zsock_recv (actor, "s84s", &command, &batch_id, &count, &text) != 0)
        return -1;
    int rc = streq (command, "DONE") ? 0 : -1;
    if (rc)
        fprintf (stderr, "filesink: batch %" PRIu64 ": %s %s\n", batch_id, command, text);
    free (command);
    free (text);
    return rc;
}

int
main (int argc, char **argv)
{
    if (argc != 3) {
        fprintf (stderr, "Usage: zetl-bench-filesink CONFIG ROWS\n");
        return 2;
    }
    char *error = NULL;
    zetl_config_t *config = zetl_config_load (argv[1], &error);
    if (!config) {
        fprintf (stderr, "filesink: %s\n", error);
        free (error);
        return 2;
    }
    const zetl_pipeline_t *pipeline = &config->pipelines[0];
    size_t target = 0;
    while (target < pipeline->target_count && pipeline->targets[target].type != ZETL_TARGET_FILES)
        target++;
    if (target == pipeline->target_count || !config->postgres) {
        fprintf (stderr, "filesink: the first pipeline needs a files target, and ZETL_POSTGRES\n");
        zetl_config_destroy (&config);
        return 2;
    }
    uint64_t rows = strtoull (argv[2], NULL, 10);
    zlistx_t *batches = s_make_batches (rows, config->hash);
    zetl_files_writer_args_t args = {config, 0, target, config->postgres, "bench/files", false};
    zactor_t *actor = zactor_new (zetl_files_writer_actor, &args);

    int64_t start = zclock_usecs ();
    size_t sent = 0, answered = 0, total = zlistx_size (batches);
    int rc = 0;
    zetl_msg_t *msg;
    while (rc == 0 && answered < total) {
        while (sent < total && sent - answered < S_IN_FLIGHT &&
               (msg = (zetl_msg_t *) zlistx_detach (batches, NULL))) {
            zsock_send (actor, "sp", "BATCH", msg);  //  The writer takes it
            sent++;
        }
        rc = s_answer (actor);
        answered++;
    }
    double seconds = (double) (zclock_usecs () - start) / 1e6;
    if (rc == 0)
        printf ("%" PRIu64 " %.3f %.0f\n", rows, seconds, (double) rows / seconds);
    zactor_destroy (&actor);
    while ((msg = (zetl_msg_t *) zlistx_detach (batches, NULL)))
        zetl_msg_destroy (&msg);
    zlistx_destroy (&batches);
    zetl_config_destroy (&config);
    return rc == 0 ? 0 : 1;
}
