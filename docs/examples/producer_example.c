/*  producer_example - send two records to a zetl pipeline and wait until they are loaded

    Run it with the coordinator's producer endpoint (cluster.producers) and,
    when the configuration has several pipelines, the id of one:

        producer_example tcp://127.0.0.1:5570 bookings

    Build it against zetl_common and zetl_proto (docs/PRODUCERS.md).
*/
#include "zetl_producer.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Pack one booking as a msgpack map into BUFFER
static void
s_pack_booking (msgpack_sbuffer *buffer, const char *id, int hotel, const char *updated_at)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    msgpack_pack_str_with_body (&pk, "booking_id", 10);
    msgpack_pack_str_with_body (&pk, id, strlen (id));
    msgpack_pack_str_with_body (&pk, "hotel_id", 8);
    msgpack_pack_int (&pk, hotel);
    msgpack_pack_str_with_body (&pk, "updated_at", 10);
    msgpack_pack_str_with_body (&pk, updated_at, strlen (updated_at));
}

int
main (int argc, char **argv)
{
    if (argc < 2) {
        fprintf (stderr, "usage: producer_example ENDPOINT [PIPELINE]\n");
        return 2;
    }
    zetl_producer_options_t options;
    zetl_producer_options_init (&options);  //  batch_size: the pipeline's; window 8; linger 50 ms
    options.connect_timeout_ms = 10000;

    //  The name is the producer's identity: keep it across restarts
    char *error = NULL;
    zetl_producer_t *producer = zetl_producer_new (argv[1], "example-producer",
                                                   argc > 2 ? argv[2] : NULL, &options, &error);
    if (!producer) {
        fprintf (stderr, "producer_example: %s\n", error);
        free (error);
        return 1;
    }

    //  A record as packed msgpack: the map is copied, the buffer stays ours
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    s_pack_booking (&buffer, "B-1", 7, "2026-05-04T10:15:02Z");
    int rc = zetl_producer_send (producer, buffer.data, buffer.size);
    msgpack_sbuffer_destroy (&buffer);

    //  A record as a JSON object
    const char *json =
        "{\"booking_id\":\"B-2\",\"hotel_id\":7,\"updated_at\":\"2026-05-04T10:16:00Z\"}";
    const char *reason = NULL;
    if (rc == 0 && zetl_producer_send_json (producer, json, strlen (json), &reason) != 0) {
        fprintf (stderr, "producer_example: %s\n", reason);
        rc = -1;
    }

    //  Send the partial batch and wait until the coordinator ACKs it: every
    //  record committed (or dead-lettered, if it fails the schema)
    if (rc == 0 && zetl_producer_flush (producer, 30000) != 0) {
        fprintf (stderr, "producer_example: not every record was ACKed within 30 s\n");
        rc = -1;
    }
    zetl_producer_stats_t stats;
    zetl_producer_stats (producer, &stats);
    printf ("records %llu, batches %llu, ACKed %llu, resent %llu\n",
            (unsigned long long) stats.records, (unsigned long long) stats.batches,
            (unsigned long long) stats.acked, (unsigned long long) stats.resent);
    zetl_producer_destroy (&producer);
    return rc == 0 ? 0 : 1;
}
