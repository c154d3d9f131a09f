/*  jsonl_bench - zetl_jsonl_convert on booking-like lines

    200 000 lines of about 300 bytes, in memory. Baseline: the least a JSONL
    source could do with the same bytes, i.e. find each newline (memchr) and
    copy the line into a msgpack_sbuffer. Both drain their buffer every 1000
    records, as a batch would. Warm up, then best of 5; exits 1 when the
    ratio to the baseline is over the limit.
*/
#include "zetl_jsonl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_LINES 200000
#define S_BATCH 1000
#define S_RUNS 5
#define S_LIMIT 25.0

static char *
s_generate (size_t *size_p)
{
    static const char *statuses[] = {"confirmed", "cancelled", "pending", "checked_out"};
    static const char *currencies[] = {"EUR", "USD", "GBP", "MXN"};
    static const char *emails[] = {"ana.garcia", "li.wei", "joao.silva", "marta.lopez", "o.brien"};
    static const char *guests[] = {"Ana García", "Li Wei", "João Silva", "Marta López",
                                   "Seán O\\u2019Brien"};
    static const char *rooms[] = {"single", "double", "twin", "suite"};
    size_t cap = (size_t) S_LINES * 400;
    char *text = (char *) malloc (cap);
    if (!text)
        abort ();
    size_t size = 0;
    unsigned seed = 42;
    for (int i = 0; i < S_LINES; i++) {
        seed = seed * 1103515245 + 12345;
        unsigned r = seed >> 8;
        char amount[32];
        //  Half the amounts as strings, half as JSON numbers (exact decimals)
        if (i % 2)
            snprintf (amount, sizeof amount, "\"%u.%02u\"", 40 + r % 900, r % 100);
        else
            snprintf (amount, sizeof amount, "%u.%u", 40 + r % 900, r % 10);
        size += (size_t) snprintf (
            text + size, cap - size,
            "{\"booking_id\":\"BK-%07d\",\"hotel_id\":%u,\"guest_name\":\"%s\","
            "\"guest_email\":\"%s%u@example.com\",\"room_type\":\"%s\","
            "\"amount\":%s,\"currency\":\"%s\",\"status\":\"%s\",\"check_in\":\"2026-%02u-%02u\","
            "\"nights\":%u,\"guests\":%u,\"breakfast\":%s,\"notes\":null,"
            "\"updated_at\":\"2026-05-01T10:%02u:%02u.%03uZ\"}\n",
            i, r % 500, guests[(r >> 4) % 5], emails[r % 5], r % 1000, rooms[(r >> 2) % 4], amount,
            currencies[r % 4], statuses[(r >> 3) % 4], 1 + r % 12, 1 + r % 28, 1 + r % 14,
            1 + r % 4, r % 3 ? "true" : "false", r % 60, (r >> 6) % 60, r % 1000);
    }
    *size_p = size;
    return text;
}

static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);  //  CPU time: steady on a shared machine
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

//  The line at *P, before END, without its newline; moves *P past the newline
static inline size_t
s_next_line (const char **p, const char *end)
{
    const char *nl = (const char *) memchr (*p, '\n', (size_t) (end - *p));
    size_t len = (size_t) ((nl ? nl : end) - *p);
    *p += len + 1;
    return len;
}

//  One more record in OUT: drain it once it holds a batch, as a source would
static inline void
s_count_record (msgpack_sbuffer *out, int *in_batch)
{
    if (++*in_batch == S_BATCH) {
        msgpack_sbuffer_clear (out);
        *in_batch = 0;
    }
}

//  The least work: split lines and copy each one
static double
s_run_baseline (const char *text, size_t size, msgpack_sbuffer *out)
{
    double start = s_now ();
    const char *p = text, *end = text + size;
    int in_batch = 0;
    while (p < end) {
        const char *line = p;
        size_t len = s_next_line (&p, end);
        msgpack_sbuffer_write (out, line, len);
        s_count_record (out, &in_batch);
    }
    return s_now () - start;
}

static double
s_run_convert (zetl_jsonl_t *jsonl, const char *text, size_t size, msgpack_sbuffer *out,
               size_t *failed)
{
    zetl_field_value_t values[3];
    double start = s_now ();
    const char *p = text, *end = text + size;
    int in_batch = 0;
    while (p < end) {
        const char *line = p, *reason;
        size_t len = s_next_line (&p, end);
        if (zetl_jsonl_convert (jsonl, line, len, out, values, &reason) != 0 ||
            !values[0].present || !values[2].present)
            (*failed)++;
        s_count_record (out, &in_batch);
    }
    return s_now () - start;
}

int
main (void)
{
    size_t size;
    char *text = s_generate (&size);
    const char *names[] = {"booking_id", "hotel_id", "updated_at"};
    zetl_jsonl_t *jsonl = zetl_jsonl_new (names, 3);
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);

    size_t failed = 0;
    s_run_baseline (text, size, &out);
    s_run_convert (jsonl, text, size, &out, &failed);
    double best_baseline = 1e9, best_convert = 1e9;
    for (int run = 0; run < S_RUNS; run++) {
        double t = s_run_baseline (text, size, &out);
        if (t < best_baseline)
            best_baseline = t;
        t = s_run_convert (jsonl, text, size, &out, &failed);
        if (t < best_convert)
            best_convert = t;
    }
    double convert_ns = best_convert * 1e9 / S_LINES;
    double baseline_ns = best_baseline * 1e9 / S_LINES;
    double ratio = convert_ns / baseline_ns;
    bool ok = ratio <= S_LIMIT && failed == 0;
    printf ("jsonl_convert %.0f ns/rec (%.2f M rec/s, %.0f bytes/line), baseline %.1f ns/rec, "
            "ratio %.1f, limit %.1f: %s\n",
            convert_ns, 1e3 / convert_ns, (double) size / S_LINES, baseline_ns, ratio, S_LIMIT,
            ok ? "ok" : "FAIL");
    if (failed)
        printf ("jsonl_convert refused %zu lines\n", failed);

    msgpack_sbuffer_destroy (&out);
    zetl_jsonl_destroy (&jsonl);
    free (text);
    return ok ? 0 : 1;
}
