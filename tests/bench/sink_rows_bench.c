/*  sink_rows_bench - what a sink's writer spends on each RESULT row before
    PostgreSQL sees it: read the body, check it, write the COPY text

    200 RESULT bodies of 1000 bookings rows each (10 columns: text, int,
    number, date, timestamp; 5% duplicates, a few texts that need escapes).
    Timed, per row:
    - the sink's path: the counted reader (zetl_msg_body_reader) with payloads
      left packed, each row written in place by zetl_copy_row_packed; the
      read is the body's only check and its only walk;
    - for comparison, the path that checks the body first (zetl_body_check),
      then builds each payload as a tree (zetl_body_reader_next) for
      zetl_copy_row;
    - baseline: the least the job could take, i.e. copy the finished COPY
      text of each body into the output buffer, line by line.
    Warm up, then best of 5; exits 1 when the sink's path is over the limit of
    its ratio to the baseline.
*/
#include "zetl_config.h"
#include "zetl_copy.h"
#include "zetl_proto.h"
#include "zetl_proto_body.h"
#include "zetl_record.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_BODIES 200
#define S_ROWS 1000  //  per body
#define S_RUNS 5
#define S_LIMIT 10.0  //  Checking, then building trees takes about 11.6; in place about 8.2

static const char *s_yaml =
    "pipelines:\n"
    "  - id: bookings\n"
    "    source: { type: file, path: x.jsonl }\n"
    "    partition_key: hotel_id\n"
    "    event_time: { field: updated_at }\n"
    "    schema:\n"
    "      booking_id: { type: string }\n"
    "      hotel_id: { type: int }\n"
    "      guest_email: { type: string }\n"
    "      amount: { type: number }\n"
    "      currency: { type: string }\n"
    "      status: { type: string }\n"
    "      check_in: { type: date }\n"
    "      nights: { type: int }\n"
    "      channel: { type: string }\n"
    "      updated_at: { type: timestamp }\n"
    "    sinks:\n"
    "      - { type: postgres, table: bookings, primary_key: [booking_id] }\n";

static const zetl_pipeline_t *s_pipeline;
static zetl_msg_t *s_results[S_BODIES];       //  RESULT messages, as a sink is handed them
static msgpack_sbuffer s_expected[S_BODIES];  //  the COPY text of each
static msgpack_sbuffer s_out;                 //  what each path writes, reused
static size_t s_rows;                         //  rows written per pass, for the check

static double
s_now_s (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

static uint32_t
s_random (uint32_t *seed)
{
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    return *seed;
}

static void
s_pack_text (msgpack_packer *packer, const char *text)
{
    msgpack_pack_str_with_body (packer, text, strlen (text));
}

static void
s_make_bodies (void)
{
    static const char *statuses[] = {"new", "confirmed", "cancelled", "checked_in"};
    static const char *channels[] = {"web", "mobile", "agent", "partner\tapi"};
    static const char *currencies[] = {"EUR", "USD", "GBP"};
    uint32_t seed = 88172645u;
    zetl_body_writer_t *writer = zetl_body_writer_new ();
    msgpack_sbuffer row;
    msgpack_sbuffer_init (&row);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &row, msgpack_sbuffer_write);
    for (int body = 0; body < S_BODIES; body++) {
        uint32_t source = zetl_body_writer_source (writer, "bookings.jsonl");
        for (int index = 0; index < S_ROWS; index++) {
            uint8_t hash[16];
            for (int byte = 0; byte < 16; byte++)
                hash[byte] = (uint8_t) s_random (&seed);
            uint64_t position = (uint64_t) body * 200000 + (uint64_t) index * 190;
            if (s_random (&seed) % 20 == 0) {
                zetl_body_writer_append (writer, source, position, 0, ZETL_ENTRY_DUPLICATE, NULL,
                                         NULL, 0);
                continue;
            }
            char id[32], email[64], amount[32];
            uint32_t booking = s_random (&seed) % 1000000;
            snprintf (id, sizeof id, "BK-%07u", booking);
            snprintf (email, sizeof email, "guest%u@example%s.com", booking % 50000,
                      booking % 97 ? "" : "\\mail");
            snprintf (amount, sizeof amount, "%u.%02u", 40 + s_random (&seed) % 900,
                      s_random (&seed) % 100);
            int64_t updated_us = 1767225600000000LL
                                 + (int64_t) (s_random (&seed) % 31536000) * 1000000
                                 + s_random (&seed) % 1000000;
            row.size = 0;
            msgpack_pack_array (&packer, 10);
            s_pack_text (&packer, id);
            msgpack_pack_int64 (&packer, 1 + s_random (&seed) % 5000);
            s_pack_text (&packer, email);
            msgpack_pack_ext_with_body (&packer, amount, strlen (amount), ZETL_EXT_DECIMAL);
            s_pack_text (&packer, currencies[s_random (&seed) % 3]);
            s_pack_text (&packer, statuses[s_random (&seed) % 4]);
            msgpack_pack_int64 (&packer, 20454 + s_random (&seed) % 365);
            msgpack_pack_int64 (&packer, 1 + s_random (&seed) % 14);
            s_pack_text (&packer, channels[s_random (&seed) % 4]);
            msgpack_pack_int64 (&packer, updated_us);
            zetl_body_writer_append (writer, source, position, updated_us, 0, hash, row.data,
                                     row.size);
        }
        zetl_msg_t *msg = zetl_msg_new (ZETL_MSG_RESULT);
        msg->count = zetl_body_writer_count (writer);
        zframe_t *frame = zetl_body_writer_finish (writer);
        zetl_msg_set_body (msg, &frame);
        s_results[body] = msg;
    }
    msgpack_sbuffer_destroy (&row);
    zetl_body_writer_destroy (&writer);
}

//  The sink's path: one counted read, rows written in place
static void
s_in_place (void)
{
    s_rows = 0;
    for (int body = 0; body < S_BODIES; body++) {
        s_out.size = 0;
        const char *reason = NULL;
        zetl_body_reader_t *reader = zetl_msg_body_reader (s_results[body], &reason);
        zetl_entry_t entry;
        int rc;
        while ((rc = zetl_body_reader_next_packed (reader, &entry, &reason)) == 1) {
            if (entry.flags & ZETL_ENTRY_DUPLICATE)
                continue;
            if (zetl_copy_row_packed (s_pipeline, &entry, 0, &s_out, &reason) != 0)
                abort ();
            s_rows++;
        }
        if (rc != 0)
            abort ();
        zetl_body_reader_destroy (&reader);
    }
}

//  Check first, then build each payload as a tree and write it from there
static void
s_check_then_trees (void)
{
    s_rows = 0;
    for (int body = 0; body < S_BODIES; body++) {
        s_out.size = 0;
        if (zetl_body_check (s_results[body]->body, s_results[body]->count))
            abort ();
        const char *reason = NULL;
        zetl_body_reader_t *reader = zetl_body_reader_new (s_results[body]->body, &reason);
        zetl_entry_t entry;
        int rc;
        while ((rc = zetl_body_reader_next (reader, &entry, &reason)) == 1) {
            if (entry.flags & ZETL_ENTRY_DUPLICATE)
                continue;
            if (zetl_copy_row (s_pipeline, &entry, 0, &s_out, &reason) != 0)
                abort ();
            s_rows++;
        }
        if (rc != 0)
            abort ();
        zetl_body_reader_destroy (&reader);
    }
}

//  Baseline: copy each body's finished COPY text, a line at a time
static void
s_baseline (void)
{
    for (int body = 0; body < S_BODIES; body++) {
        s_out.size = 0;
        const char *line = s_expected[body].data;
        const char *end = line + s_expected[body].size;
        while (line < end) {
            const char *newline = (const char *) memchr (line, '\n', (size_t) (end - line));
            msgpack_sbuffer_write (&s_out, line, (size_t) (newline - line) + 1);
            line = newline + 1;
        }
    }
}

//  Write the COPY text of MSG's rows to OUT, from trees or in PLACE. Returns
//  the rows written
static size_t
s_write_body (const zetl_msg_t *msg, bool in_place, msgpack_sbuffer *out)
{
    const char *reason = NULL;
    zetl_body_reader_t *reader = zetl_msg_body_reader (msg, &reason);
    zetl_entry_t entry;
    size_t rows = 0;
    int rc;
    while ((rc = in_place ? zetl_body_reader_next_packed (reader, &entry, &reason)
                          : zetl_body_reader_next (reader, &entry, &reason))
           == 1) {
        if (entry.flags & ZETL_ENTRY_DUPLICATE)
            continue;
        if ((in_place ? zetl_copy_row_packed (s_pipeline, &entry, 0, out, &reason)
                      : zetl_copy_row (s_pipeline, &entry, 0, out, &reason))
            != 0)
            abort ();
        rows++;
    }
    if (rc != 0)
        abort ();
    zetl_body_reader_destroy (&reader);
    return rows;
}

//  Warm up, then the best of S_RUNS: seconds per row
static double
s_best (void (*pass) (void))
{
    pass ();
    double best = 1e9;
    for (int run = 0; run < S_RUNS; run++) {
        double start = s_now_s ();
        pass ();
        double seconds = s_now_s () - start;
        if (seconds < best)
            best = seconds;
    }
    return best;
}

int
main (void)
{
    char *error = NULL;
    zetl_config_t *config = zetl_config_parse (s_yaml, strlen (s_yaml), "bench.yaml", &error);
    if (!config) {
        fprintf (stderr, "sink_rows_bench: %s\n", error);
        return 1;
    }
    s_pipeline = &config->pipelines[0];
    s_make_bodies ();
    msgpack_sbuffer_init (&s_out);

    //  Both paths write the same text; keep it for the baseline
    size_t rows = 0;
    for (int body = 0; body < S_BODIES; body++) {
        msgpack_sbuffer_init (&s_expected[body]);
        rows += s_write_body (s_results[body], false, &s_expected[body]);
        s_out.size = 0;
        s_write_body (s_results[body], true, &s_out);
        if (s_out.size != s_expected[body].size
            || memcmp (s_out.data, s_expected[body].data, s_out.size) != 0) {
            fprintf (stderr, "sink_rows_bench: the two paths write different text\n");
            return 1;
        }
    }

    double base = s_best (s_baseline) / (double) rows;
    double trees = s_best (s_check_then_trees) / (double) rows;
    double in_place = s_best (s_in_place) / (double) rows;
    if (s_rows != rows)
        abort ();
    double ratio = in_place / base;
    printf ("sink_rows: %zu rows; check then trees %.1f ns/row (ratio %.2f); "
            "read once in place %.1f ns/row, %.2fx faster\n",
            rows, trees * 1e9, trees / base, in_place * 1e9, trees / in_place);
    printf ("sink_rows %.1f ns/row, baseline (copy each COPY line) %.1f ns/row, ratio %.2f, "
            "limit %.2f: %s\n",
            in_place * 1e9, base * 1e9, ratio, S_LIMIT, ratio <= S_LIMIT ? "ok" : "FAIL");

    for (int body = 0; body < S_BODIES; body++) {
        zetl_msg_destroy (&s_results[body]);
        msgpack_sbuffer_destroy (&s_expected[body]);
    }
    msgpack_sbuffer_destroy (&s_out);
    zetl_config_destroy (&config);
    return ratio <= S_LIMIT ? 0 : 1;
}
