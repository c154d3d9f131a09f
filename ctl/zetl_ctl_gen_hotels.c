/*  zetl_ctl_gen_hotels - zetlctl gen hotels: the hotels lookup table as CSV

    See zetl_ctl_gen_hotels.h. Each hotel takes four draws, in this order:
    region, city within the region, name prefix, name kind. Changing the
    lists or the order changes the output for every seed.
*/
#include "zetl_ctl_gen_hotels.h"
#include "zetl_rng.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_HOTELS 100000000LL  //  as many ids as gen bookings can write
#define S_STREAM 3                //  zetl_rng stream: bookings use 1 and 2
#define S_MAX_CITIES 6

typedef struct {
    const char *name;                  //  region
    const char *cities[S_MAX_CITIES];  //  its cities, NULL-terminated
} s_region_t;

// clang-format off
static const s_region_t s_regions[] = {
    {"Iberia",         {"Lisbon", "Porto", "Madrid", "Seville", "Valencia", NULL}},
    {"Alps",           {"Innsbruck", "Zermatt", "Chamonix", "Bolzano", NULL}},
    {"Nordics",        {"Oslo", "Bergen", "Stockholm", "Copenhagen", "Helsinki", NULL}},
    {"Benelux",        {"Amsterdam", "Brussels", "Antwerp", "Luxembourg", NULL}},
    {"Mediterranean",  {"Nice", "Naples", "Split", "Valletta", "Palma", NULL}},
    {"British Isles",  {"London", "Edinburgh", "Dublin", "Bath", NULL}},
    {"Central Europe", {"Vienna", "Prague", "Budapest", "Krakow", NULL}},
    {"Baltics",        {"Riga", "Tallinn", "Vilnius", NULL}},
};
static const char *s_prefixes[] = {"Grand", "Royal", "Old Town", "Riverside", "Garden", "Park",
                                   "Harbour", "Alpine", "Sunset", "Cathedral", "Station", "Lakeside"};
//  Two kinds need CSV quoting: readers must cope with commas and quotes
static const char *s_kinds[] = {"Hotel", "Inn", "Suites", "Lodge", "Palace", "Residence",
                                "Hotel & Spa", "Resort, Spa & Golf", "Inn \"Zur Post\""};
// clang-format on

#define S_COUNT(array) (sizeof (array) / sizeof ((array)[0]))

typedef struct {
    int64_t hotels;      //  --hotels
    uint64_t seed;       //  --seed
    const char *output;  //  --output, "-" for stdout
} s_options_t;

static void
s_usage (FILE *out)
{
    fprintf (out,
             "Usage: zetlctl gen hotels [--hotels N] [--seed S] [--output FILE]\n\n"
             "Write the hotels lookup table as CSV: a header hotel_id,hotel_name,region,city,\n"
             "then one row for each hotel id 1..N, names, regions and cities drawn from fixed\n"
             "lists by a PRNG. The same options give byte-identical output. Load it with\n"
             "zetlctl lut load FILE --table hotels --key hotel_id.\n\n"
             "  --hotels N     hotels, 1..%lld, default 500 (the ids gen bookings uses)\n"
             "  --seed S       PRNG seed, an unsigned 64-bit integer, default 1\n"
             "  --output FILE  write FILE (through FILE.tmp, renamed when complete); - for\n"
             "                 stdout (default)\n",
             S_MAX_HOTELS);
}

//  Returns 0, 1 after --help, or -1 after saying what is wrong.
static int
s_parse_options (int argc, char **argv, s_options_t *opt)
{
    *opt = (s_options_t){500, 1, "-"};
    static const struct option longopts[] = {{"hotels", required_argument, NULL, 'n'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    optind = 1;
    opterr = 0;
    int option;
    char *end;
    while ((option = getopt_long (argc, argv, ":h", longopts, NULL)) != -1) {
        errno = 0;
        if (option == 'n') {
            long long hotels = strtoll (optarg, &end, 10);
            if (errno || *end || end == optarg || hotels < 1 || hotels > S_MAX_HOTELS) {
                fprintf (stderr,
                         "zetlctl gen hotels: --hotels '%s' is out of range; use "
                         "1..%lld\n",
                         optarg, S_MAX_HOTELS);
                return -1;
            }
            opt->hotels = hotels;
        }
        else if (option == 's') {
            opt->seed = strtoull (optarg, &end, 10);
            if (errno || *end || end == optarg || *optarg == '-') {
                fprintf (stderr,
                         "zetlctl gen hotels: --seed '%s' is not an unsigned 64-bit integer\n",
                         optarg);
                return -1;
            }
        }
        else if (option == 'o')
            opt->output = optarg;
        else if (option == 'h') {
            s_usage (stdout);
            return 1;
        }
        else {
            fprintf (stderr, "zetlctl gen hotels: %s '%s'; see zetlctl gen hotels --help\n",
                     option == ':' ? "missing value for" : "unknown option", argv[optind - 1]);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf (stderr, "zetlctl gen hotels: unexpected '%s'; see zetlctl gen hotels --help\n",
                 argv[optind]);
        return -1;
    }
    return 0;
}

//  Write TEXT as a CSV field (RFC 4180: quoted when it holds a comma, a
//  quote or a line break)
static void
s_put_field (FILE *file, const char *text)
{
    if (!strpbrk (text, ",\"\r\n")) {
        fputs (text, file);
        return;
    }
    fputc ('"', file);
    for (; *text; text++) {
        if (*text == '"')
            fputc ('"', file);
        fputc (*text, file);
    }
    fputc ('"', file);
}

static void
s_generate (const s_options_t *opt, FILE *file)
{
    zetl_rng_t rng;
    zetl_rng_seed (&rng, opt->seed, S_STREAM);
    fputs ("hotel_id,hotel_name,region,city\n", file);
    for (int64_t id = 1; id <= opt->hotels; id++) {
        const s_region_t *region = &s_regions[zetl_rng_below (&rng, S_COUNT (s_regions))];
        size_t cities = 0;
        while (cities < S_MAX_CITIES && region->cities[cities])
            cities++;
        const char *city = region->cities[zetl_rng_below (&rng, cities)];
        const char *prefix = s_prefixes[zetl_rng_below (&rng, S_COUNT (s_prefixes))];
        const char *kind = s_kinds[zetl_rng_below (&rng, S_COUNT (s_kinds))];
        char name[128];
        snprintf (name, sizeof name, "%s %s %s", prefix, kind, city);
        fprintf (file, "%" PRId64 ",", id);
        s_put_field (file, name);
        fputc (',', file);
        s_put_field (file, region->name);
        fputc (',', file);
        s_put_field (file, city);
        fputc ('\n', file);
    }
}

//  A one-line JSON summary on stderr, as gen bookings writes
static void
s_print_summary (const s_options_t *opt)
{
    char seed[24];
    snprintf (seed, sizeof seed, "%" PRIu64, opt->seed);
    //  A seed above 2^63 does not fit a JSON integer of jansson's: give it as text
    json_t *summary = json_pack (
        "{s:s, s:I, s:o, s:s}", "event", "hotels_generated", "hotels", (json_int_t) opt->hotels,
        "seed", opt->seed <= INT64_MAX ? json_integer ((json_int_t) opt->seed) : json_string (seed),
        "out", opt->output);
    char *text = json_dumps (summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf (stderr, "%s\n", text);
    free (text);
    json_decref (summary);
}

int
zetl_ctl_gen_hotels (int argc, char **argv)
{
    s_options_t opt;
    int rc = s_parse_options (argc, argv, &opt);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    //  Write FILE.tmp, renamed when complete: a reader never sees half a file
    bool to_stdout = strcmp (opt.output, "-") == 0;
    char *path = NULL;
    if (asprintf (&path, "%s.tmp", opt.output) < 0)
        abort ();
    FILE *file = to_stdout ? stdout : fopen (path, "w");
    if (!file) {
        fprintf (stderr,
                 "zetlctl gen hotels: cannot create %s: %s; check that its directory exists and "
                 "is writable\n",
                 path, strerror (errno));
        free (path);
        return 1;
    }
    setvbuf (file, NULL, _IOFBF, 1 << 20);
    s_generate (&opt, file);
    rc = fflush (file) == 0 && !ferror (file) ? 0 : 1;
    if (!to_stdout && fclose (file) != 0)
        rc = 1;
    if (rc != 0)
        fprintf (stderr,
                 "zetlctl gen hotels: cannot write %s: %s; free some space or choose "
                 "another --output\n",
                 to_stdout ? "stdout" : path, strerror (errno));
    else if (!to_stdout && rename (path, opt.output) != 0) {
        fprintf (stderr, "zetlctl gen hotels: cannot rename %s to %s: %s\n", path, opt.output,
                 strerror (errno));
        rc = 1;
    }
    if (rc != 0 && !to_stdout)
        remove (path);
    if (rc == 0)
        s_print_summary (&opt);
    free (path);
    return rc;
}
