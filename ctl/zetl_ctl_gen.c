/*  zetl_ctl_gen - zetlctl gen bookings: a synthetic HOTELCRM bookings stream

    Writes booking records (JSONL or CSV) with a known amount of versions,
    duplicates, disorder and lateness, for the demo, the tests and the
    benchmarks. Two stages, both streaming:

    1. Content, in event-time order: the bookings model
       (zetl_ctl_gen_bookings) makes each record, a new booking or the next
       version of an earlier one, and the text of its fields.
    2. Arrangement, here. Exactly round(D*N) records are moved later by a
       bounded distance (displaced), round(L*N) by hours of event time
       (late), and round(U*N) are written twice, the copy a little later
       (duplicates). A min-heap keyed by output position holds the records
       moved later. Then each record is written as a JSON object or a CSV
       row.

    Content and arrangement draw from two PRNG streams of one seed
    (zetl_rng), so --disorder, --late and --duplicates rearrange the same
    set of records. Only integer arithmetic touches the output: the same
    options give byte-identical output on any machine.
*/
#include "zetl_ctl.h"
#include "zetl_ctl_gen_bookings.h"
#include "zetl_ctl_gen_heap.h"
#include "zetl_ctl_gen_hotels.h"
#include "zetl_rng.h"
#include "zetl_time.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_COUNT 100000000LL                //  booking ids are 8 digits: at most 10^8 bookings
#define S_DEFAULT_START_US 1767225600000000LL  //  2026-01-01T00:00:00Z
#define S_MAX_START_US 221845392000000000LL    //  9000-01-01T00:00:00Z
#define S_LINE_MAX 512
#define S_COLUMNS ZETL_CTL_GEN_BOOKINGS_COLUMNS

//  One record moved later in the output, waiting for its position
typedef struct {
    uint64_t position;  //  output position it waits for
    uint64_t sequence;  //  push order: ties keep it
    char *line;         //  owned
    size_t len;         //  bytes in line
} s_pending_t;

typedef struct {
    int64_t count;      //  --count: distinct records
    double versions;    //  --versions
    double duplicates;  //  --duplicates
    double disorder;    //  --disorder
    double late;        //  --late
    uint64_t seed;      //  --seed
    int64_t start_us;   //  --start
    double rate;        //  --rate, records per second of event time
    bool csv;           //  --format csv
    const char *out;    //  --out, "-" for stdout
} s_options_t;

typedef struct {
    s_options_t opt;
    zetl_ctl_gen_bookings_t *bookings;  //  the content: what the records hold
    zetl_rng_t arrangement;             //  where they go: PRNG stream 2 of the seed
    FILE *file;                         //  output
    s_pending_t *pending;               //  min-heap of records moved later, by (position, sequence)
    size_t pending_size, pending_cap;
    uint64_t sequence;          //  pushes onto pending so far
    int64_t duplicates;         //  records written twice
    int64_t displaced;          //  records moved a little later
    int64_t late;               //  records moved hours later
    int64_t lines;              //  lines written, without the CSV header
    int64_t first_us, last_us;  //  event-time range
} s_gen_t;

static bool
s_pending_before (const s_pending_t *a, const s_pending_t *b)
{
    return a->position < b->position || (a->position == b->position && a->sequence < b->sequence);
}

ZETL_CTL_GEN_HEAP (pending, s_pending_t, s_pending_before)

//  The arrangement still to make: records to move and copy, and how far
typedef struct {
    int64_t late;           //  records still to move hours later
    int64_t displaced;      //  records still to move a little later
    int64_t duplicates;     //  records still to write twice
    uint64_t displace_max;  //  a displaced record moves 2 .. this many positions
    uint64_t copy_max;      //  a copy comes 1 .. this many positions after its original
    uint64_t late_min;      //  a late record moves late_min .. late_max positions
    uint64_t late_max;
} s_plan_t;

// ---------------------------------------------------------------------------
//  Output formats: no printf on the hot path

static char *
s_put_json_string (char *p, const char *text)
{
    *p++ = '"';
    for (; *text; text++) {
        if (*text == '"' || *text == '\\')
            *p++ = '\\';
        *p++ = *text;
    }
    *p++ = '"';
    return p;
}

//  RFC 4180: quote a field holding a comma, a quote or a line break
static char *
s_put_csv_string (char *p, const char *text)
{
    if (!strpbrk (text, ",\"\r\n"))
        return stpcpy (p, text);
    *p++ = '"';
    for (; *text; text++) {
        if (*text == '"')
            *p++ = '"';
        *p++ = *text;
    }
    *p++ = '"';
    return p;
}

//  Write the record whose field texts are VALUES into LINE (S_LINE_MAX
//  bytes), with its newline. Returns the length.
static size_t
s_format (const s_gen_t *self, char values[][ZETL_CTL_GEN_BOOKINGS_VALUE], char *line)
{
    char *p = line;
    for (size_t column = 0; column < S_COLUMNS; column++) {
        const zetl_ctl_gen_bookings_column_t *field = &zetl_ctl_gen_bookings_columns[column];
        if (self->opt.csv) {
            if (column)
                *p++ = ',';
            p = s_put_csv_string (p, values[column]);
        }
        else {
            p = stpcpy (stpcpy (stpcpy (p, column ? ",\"" : "{\""), field->name), "\":");
            p = field->quoted ? s_put_json_string (p, values[column]) : stpcpy (p, values[column]);
        }
    }
    p = stpcpy (p, self->opt.csv ? "\n" : "}\n");
    return (size_t) (p - line);
}

// ---------------------------------------------------------------------------
//  Arrangement

static void
s_write (s_gen_t *self, const char *line, size_t len)
{
    fwrite (line, 1, len, self->file);
    self->lines++;
}

//  Send LINE to output POSITION: straight out when that is now, else onto the heap
static void
s_place (s_gen_t *self, const char *line, size_t len, uint64_t position, uint64_t now)
{
    if (position == now && (self->pending_size == 0 || self->pending[0].position > now)) {
        s_write (self, line, len);
        return;
    }
    s_pending_t item = {position, self->sequence++, (char *) malloc (len), len};
    if (!item.line) {
        fprintf (stderr, "zetlctl gen: out of memory\n");
        abort ();
    }
    memcpy (item.line, line, len);
    s_pending_push (&self->pending, &self->pending_size, &self->pending_cap, item);
}

static void
s_flush_until (s_gen_t *self, uint64_t position)
{
    while (self->pending_size && self->pending[0].position <= position) {
        s_pending_t item = s_pending_pop (self->pending, &self->pending_size);
        s_write (self, item.line, item.len);
        free (item.line);
    }
}

static int64_t
s_fraction_count (double fraction, int64_t count)
{
    return (int64_t) (fraction * (double) count + 0.5);
}

//  The exact counts to move and copy, and how far, in output positions
static s_plan_t
s_plan (s_gen_t *self)
{
    const int64_t count = self->opt.count;
    s_plan_t plan;
    plan.late = s_fraction_count (self->opt.late, count);
    plan.displaced = s_fraction_count (self->opt.disorder, count);
    plan.duplicates = s_fraction_count (self->opt.duplicates, count);
    if (plan.late + plan.displaced > count)  //  Both rounded up
        plan.displaced = count - plan.late;
    self->duplicates = plan.duplicates;
    self->displaced = plan.displaced;
    self->late = plan.late;

    double rate = self->opt.rate;
    //  Displaced: 2..500 records and at most ~3 minutes of event time; duplicates
    //  follow their original within 200 records and ~1 minute
    plan.displace_max = (uint64_t) (rate * 180 < 500 ? (rate * 180 > 2 ? rate * 180 : 2) : 500);
    plan.copy_max = (uint64_t) (rate * 60 < 200 ? (rate * 60 > 1 ? rate * 60 : 1) : 200);
    plan.late_min = (uint64_t) (rate * 3600) > plan.displace_max ? (uint64_t) (rate * 3600)
                                                                 : plan.displace_max + 1;
    plan.late_max = plan.late_min * 6;
    return plan;
}

//  Place record INDEX of the stream, its text LINE, and maybe a copy of it
static void
s_arrange (s_gen_t *self, s_plan_t *plan, const char *line, size_t len, int64_t index)
{
    zetl_rng_t *rng = &self->arrangement;
    //  Exact counts: draw each record's class from what is still needed
    //  over what is still to come (sequential sampling without replacement)
    uint64_t now = (uint64_t) index;
    uint64_t remaining = (uint64_t) (self->opt.count - index);
    uint64_t draw = zetl_rng_below (rng, remaining);
    uint64_t position = now;
    if (draw < (uint64_t) plan->late) {
        plan->late--;
        position +=
            (uint64_t) zetl_rng_range (rng, (int64_t) plan->late_min, (int64_t) plan->late_max);
    }
    else if (draw < (uint64_t) (plan->late + plan->displaced)) {
        plan->displaced--;
        position += (uint64_t) zetl_rng_range (rng, 2, (int64_t) plan->displace_max);
    }
    s_place (self, line, len, position, now);
    if (zetl_rng_below (rng, remaining) < (uint64_t) plan->duplicates) {
        plan->duplicates--;
        uint64_t copy = position + (uint64_t) zetl_rng_range (rng, 1, (int64_t) plan->copy_max);
        s_place (self, line, len, copy, now);
    }
    s_flush_until (self, now);
}

//  Generate and write every record
static void
s_generate (s_gen_t *self)
{
    s_plan_t plan = s_plan (self);
    char values[S_COLUMNS][ZETL_CTL_GEN_BOOKINGS_VALUE], line[S_LINE_MAX];
    for (int64_t index = 0; index < self->opt.count; index++) {
        int64_t now_us = zetl_ctl_gen_bookings_next (self->bookings, values);
        if (index == 0)
            self->first_us = now_us;
        self->last_us = now_us;
        s_arrange (self, &plan, line, s_format (self, values, line), index);
    }
    s_flush_until (self, UINT64_MAX);
}

// ---------------------------------------------------------------------------
//  Command line

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: zetlctl gen bookings [options]\n"
        "       (zetlctl gen hotels --help: a hotels CSV for a lookup table)\n\n"
        "Write a synthetic HOTELCRM bookings stream, one record per line, in event-time order\n"
        "except for the disorder, lateness and duplicates asked for. The same options give\n"
        "byte-identical output; --disorder, --late and --duplicates only rearrange and repeat\n"
        "the same records.\n\n"
        "  --count N        distinct records, default 10000. Every version of a booking is one\n"
        "                   record; duplicate copies come on top, so the output has\n"
        "                   N + round(U*N) lines (plus the header with --format csv)\n"
        "  --versions V     fraction of bookings that get 1-3 later versions (status or amount\n"
        "                   changes, each with an updated_at at least 1 s later), default 0.2\n"
        "  --duplicates U   round(U*N) records are written twice, byte for byte, the copy at\n"
        "                   most 200 records (about a minute of event time) later, default 0\n"
        "  --disorder D     round(D*N) records are moved 2..500 records later (at most about\n"
        "                   3 minutes of event time), default 0\n"
        "  --late L         round(L*N) records are moved 1..6 hours of event time later\n"
        "                   (records near the end come last), default 0. D + L <= 1\n"
        "  --seed S         PRNG seed, an unsigned 64-bit integer, default 1\n"
        "  --start TIME     event time of the first record, ISO 8601 UTC,\n"
        "                   default 2026-01-01T00:00:00Z\n"
        "  --rate R         records per second of event time, default 50\n"
        "  --format F       jsonl (default) or csv (header row, RFC 4180 quoting)\n"
        "  --out FILE       write FILE (through FILE.tmp, renamed when complete); - for\n"
        "                   stdout (default)\n\n"
        "Fields: booking_id (BK-nnnnnnnn), hotel_id (1..500), guest_email, amount (exact,\n"
        "2 decimals), currency (EUR, USD, GBP), status (new, confirmed, cancelled), check_in\n"
        "(date), nights (1..14), channel, updated_at (ISO 8601 UTC, milliseconds).\n"
        "A one-line JSON summary goes to stderr.\n");
}

//  Parse TEXT, the value of --NAME, as a number in MIN..MAX (a whole one when
//  WHOLE). Returns 0, or -1 after saying what is wrong.
static int
s_parse_number (const char *name, const char *text, double min, double max, bool whole,
                double *value)
{
    char *end;
    errno = 0;
    *value = strtod (text, &end);
    if (errno || end == text || *end || !(*value >= min && *value <= max) ||
        (whole && *value != (double) (int64_t) *value)) {
        fprintf (stderr, "zetlctl gen: --%s '%s' is out of range; use %s%.15g..%.15g\n", name, text,
                 whole ? "a whole number in " : "", min, max);
        return -1;
    }
    return 0;
}

//  Parse ARG, the value of --seed, --start or --format (OPTION 's', 't' or
//  'f'), into OPT. Returns 0, or -1 after saying what is wrong.
static int
s_parse_text (int option, const char *arg, s_options_t *opt)
{
    char *end;
    if (option == 's') {
        errno = 0;
        opt->seed = strtoull (arg, &end, 10);
        if (errno || *end || end == arg || *arg == '-') {
            fprintf (stderr, "zetlctl gen: --seed '%s' is not an unsigned 64-bit integer\n", arg);
            return -1;
        }
    }
    else if (option == 't') {
        if (zetl_time_parse_iso8601 (arg, strlen (arg), &opt->start_us) != 0 || opt->start_us < 0 ||
            opt->start_us > S_MAX_START_US) {
            fprintf (stderr,
                     "zetlctl gen: --start '%s' is not an ISO 8601 time from 1970 "
                     "to 8999; use e.g. 2026-01-01T00:00:00Z\n",
                     arg);
            return -1;
        }
    }
    else {
        opt->csv = strcmp (arg, "csv") == 0;
        if (!opt->csv && strcmp (arg, "jsonl") != 0) {
            fprintf (stderr, "zetlctl gen: --format '%s' is unknown; use jsonl or csv\n", arg);
            return -1;
        }
    }
    return 0;
}

//  Returns 0, 1 after --help, or -1 after saying what is wrong.
static int
s_parse_options (int argc, char **argv, s_options_t *opt)
{
    *opt = (s_options_t){10000, 0.2, 0, 0, 0, 1, S_DEFAULT_START_US, 50, false, "-"};
    static const struct option longopts[] = {{"count", required_argument, NULL, 'n'},
                                             {"versions", required_argument, NULL, 'v'},
                                             {"duplicates", required_argument, NULL, 'u'},
                                             {"disorder", required_argument, NULL, 'd'},
                                             {"late", required_argument, NULL, 'l'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"start", required_argument, NULL, 't'},
                                             {"rate", required_argument, NULL, 'r'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"out", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int option, rc = 0;
    double count = 0;
    while (rc == 0 && (option = getopt_long (argc, argv, ":h", longopts, NULL)) != -1) {
        if (option == 'n') {
            rc = s_parse_number ("count", optarg, 0, S_MAX_COUNT, true, &count);
            opt->count = (int64_t) count;
        }
        else if (option == 'v')
            rc = s_parse_number ("versions", optarg, 0, 1, false, &opt->versions);
        else if (option == 'u')
            rc = s_parse_number ("duplicates", optarg, 0, 1, false, &opt->duplicates);
        else if (option == 'd')
            rc = s_parse_number ("disorder", optarg, 0, 1, false, &opt->disorder);
        else if (option == 'l')
            rc = s_parse_number ("late", optarg, 0, 1, false, &opt->late);
        else if (option == 'r')
            rc = s_parse_number ("rate", optarg, 0.001, 1000000, false, &opt->rate);
        else if (option == 's' || option == 't' || option == 'f')
            rc = s_parse_text (option, optarg, opt);
        else if (option == 'o')
            opt->out = optarg;
        else if (option == 'h') {
            s_usage (stdout);
            return 1;
        }
        else {
            fprintf (stderr, "zetlctl gen: %s '%s'; see zetlctl gen --help\n",
                     option == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
            rc = -1;
        }
    }
    if (rc == 0 && (optind != argc - 1 || strcmp (argv[optind], "bookings") != 0)) {
        fprintf (stderr, "zetlctl gen: say what to generate: zetlctl gen bookings [options], or "
                         "zetlctl gen hotels [options]\n");
        rc = -1;
    }
    if (rc == 0 && opt->disorder + opt->late > 1) {
        fprintf (stderr, "zetlctl gen: --disorder plus --late is over 1; lower one of them\n");
        rc = -1;
    }
    return rc;
}

static void
s_print_summary (s_gen_t *self)
{
    char first[32] = "", last[32] = "";
    int64_t ids = zetl_ctl_gen_bookings_ids (self->bookings);
    if (self->opt.count > 0) {
        *zetl_ctl_gen_bookings_put_timestamp (first, self->first_us) = 0;
        *zetl_ctl_gen_bookings_put_timestamp (last, self->last_us) = 0;
    }
    json_t *summary = json_pack ("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s}", "event",
                                 "bookings_generated", "records", (json_int_t) self->lines,
                                 "distinct", (json_int_t) self->opt.count, "distinct_ids",
                                 (json_int_t) ids, "versions", (json_int_t) (self->opt.count - ids),
                                 "duplicates", (json_int_t) self->duplicates, "displaced",
                                 (json_int_t) self->displaced, "late", (json_int_t) self->late,
                                 "first_event", first, "last_event", last, "out", self->opt.out);
    char *text = json_dumps (summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf (stderr, "%s\n", text);
    free (text);
    json_decref (summary);
}

//  Flush and close the output, then rename PATH (FILE.tmp) to --out. Returns
//  0, or 1 after saying what went wrong and removing PATH.
static int
s_finish_output (s_gen_t *self, const char *path, bool to_stdout)
{
    int rc = fflush (self->file) == 0 && !ferror (self->file) ? 0 : 1;
    if (!to_stdout && fclose (self->file) != 0)
        rc = 1;
    if (rc != 0)
        fprintf (stderr,
                 "zetlctl gen: cannot write %s: %s; free some space or choose another "
                 "--out\n",
                 to_stdout ? "stdout" : path, strerror (errno));
    else if (!to_stdout && rename (path, self->opt.out) != 0) {
        fprintf (stderr, "zetlctl gen: cannot rename %s to %s: %s\n", path, self->opt.out,
                 strerror (errno));
        rc = 1;
    }
    if (rc != 0 && !to_stdout)
        remove (path);
    return rc;
}

int
zetl_ctl_gen (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv[1], "hotels") == 0)
        return zetl_ctl_gen_hotels (argc - 1, argv + 1);  //  The hotels lookup table
    s_gen_t gen = {0}, *self = &gen;
    int rc = s_parse_options (argc, argv, &self->opt);
    if (rc != 0)
        return rc > 0 ? 0 : 2;  //  --help, or bad usage

    //  Write FILE.tmp, renamed when complete: a reader never sees half a file
    bool to_stdout = strcmp (self->opt.out, "-") == 0;
    char *path = NULL;
    if (asprintf (&path, "%s.tmp", to_stdout ? "stdout" : self->opt.out) < 0)
        abort ();
    self->file = to_stdout ? stdout : fopen (path, "w");
    if (!self->file) {
        fprintf (stderr,
                 "zetlctl gen: cannot create %s: %s; check that its directory exists "
                 "and is writable\n",
                 path, strerror (errno));
        free (path);
        return 1;
    }
    setvbuf (self->file, NULL, _IOFBF, 1 << 20);
    for (size_t column = 0; self->opt.csv && column < S_COLUMNS; column++)
        fprintf (self->file, "%s%s", zetl_ctl_gen_bookings_columns[column].name,
                 column + 1 < S_COLUMNS ? "," : "\n");

    zetl_rng_seed (&self->arrangement, self->opt.seed, 2);
    self->bookings = zetl_ctl_gen_bookings_new (self->opt.seed, self->opt.count, self->opt.start_us,
                                                self->opt.rate, self->opt.versions);
    if (!self->bookings) {
        fprintf (stderr, "zetlctl gen: out of memory\n");
        abort ();
    }
    s_generate (self);
    rc = s_finish_output (self, path, to_stdout);
    if (rc == 0)
        s_print_summary (self);
    free (path);
    zetl_ctl_gen_bookings_destroy (&self->bookings);
    free (self->pending);
    return rc;
}
