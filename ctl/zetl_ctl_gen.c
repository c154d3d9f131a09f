/*  zetl_ctl_gen - zetlctl gen bookings: a synthetic HOTELCRM bookings stream

    Writes booking records (JSONL or CSV) with a known amount of versions,
    duplicates, disorder and lateness, for the demo, the tests and the
    benchmarks. Two stages, both streaming:

    1. Content, in event-time order. Event time advances by a random gap of
       mean 1/rate per record. Each slot is either the next version of an
       earlier booking that has fallen due (status or amount change), or a
       new booking. A version is due at least 1 s after the one before it, so
       two versions of one booking never share an updated_at.
    2. Arrangement. Exactly round(D*N) records are moved later by a bounded
       distance (displaced), round(L*N) by hours of event time (late), and
       round(U*N) are written twice, the copy a little later (duplicates). A
       min-heap keyed by output position holds the records moved later.

    Content and arrangement draw from two PRNG streams (xoshiro256**, seeded
    by splitmix64), so --disorder, --late and --duplicates rearrange the same
    set of records. Only integer arithmetic touches the output: the same
    options give byte-identical output on any machine.
*/
#include "zetl_ctl.h"
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
#define S_HOTELS 500
#define S_SECOND_US 1000000LL
#define S_HOUR_US (3600 * S_SECOND_US)
#define S_LINE_MAX 512

// ---------------------------------------------------------------------------
//  PRNG: xoshiro256** seeded from splitmix64 (both public domain, Vigna)

typedef struct {
    uint64_t s[4];
} s_rng_t;

static uint64_t
s_splitmix64 (uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void
s_rng_seed (s_rng_t *rng, uint64_t seed, uint64_t stream)
{
    uint64_t state = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int index = 0; index < 4; index++)
        rng->s[index] = s_splitmix64 (&state);
}

static inline uint64_t
s_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t
s_rng_next (s_rng_t *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = s_rotl (s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl (s[3], 45);
    return result;
}

//  Uniform in [0, n); 0 when n is 0. The modulo bias is below 2^-30 for the
//  ranges used here, and it is deterministic, which is what matters.
static uint64_t
s_rng_below (s_rng_t *rng, uint64_t n)
{
    return n ? s_rng_next (rng) % n : 0;
}

//  Uniform in [low, high]
static int64_t
s_rng_range (s_rng_t *rng, int64_t low, int64_t high)
{
    return low + (int64_t) s_rng_below (rng, (uint64_t) (high - low) + 1);
}

//  floor (n * u^2) with u uniform in [0, 1): small values are the common ones
static uint32_t
s_rng_skewed (s_rng_t *rng, uint32_t n)
{
    uint64_t u = s_rng_next (rng) >> 32;
    return (uint32_t) ((((u * u) >> 32) * n) >> 32);
}

// ---------------------------------------------------------------------------
//  Days since 1970-01-01 -> proleptic Gregorian date (H. Hinnant's algorithm)

static void
s_civil_from_days (int64_t z, int *year, int *month, int *day)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (int) (doy - (153 * mp + 2) / 5 + 1);
    *month = (int) (mp < 10 ? mp + 3 : mp - 9);
    *year = (int) (yoe + era * 400 + (*month <= 2));
}

// ---------------------------------------------------------------------------
//  Line building: no printf on the hot path

static char *
s_put (char *p, const char *text)
{
    size_t len = strlen (text);
    memcpy (p, text, len);
    return p + len;
}

//  Decimal VALUE, zero-padded to at least WIDTH digits
static char *
s_put_uint (char *p, uint64_t value, int width)
{
    char digits[24];
    int len = 0;
    do {
        digits[len++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    while (len < width)
        digits[len++] = '0';
    while (len)
        *p++ = digits[--len];
    return p;
}

static char *
s_put_date (char *p, int64_t days)
{
    int year, month, day;
    s_civil_from_days (days, &year, &month, &day);
    p = s_put_uint (p, (uint64_t) year, 4);
    *p++ = '-';
    p = s_put_uint (p, (uint64_t) month, 2);
    *p++ = '-';
    return s_put_uint (p, (uint64_t) day, 2);
}

//  ISO 8601 UTC with milliseconds: 2026-01-01T00:00:00.020Z
static char *
s_put_timestamp (char *p, int64_t us)
{
    int64_t ms = us / 1000;
    int64_t ms_of_day = ms % 86400000;
    p = s_put_date (p, ms / 86400000);
    *p++ = 'T';
    p = s_put_uint (p, (uint64_t) (ms_of_day / 3600000), 2);
    *p++ = ':';
    p = s_put_uint (p, (uint64_t) (ms_of_day / 60000 % 60), 2);
    *p++ = ':';
    p = s_put_uint (p, (uint64_t) (ms_of_day / 1000 % 60), 2);
    *p++ = '.';
    p = s_put_uint (p, (uint64_t) (ms_of_day % 1000), 3);
    *p++ = 'Z';
    return p;
}

//  Exact decimal with two places, from cents: never through a double
static char *
s_put_cents (char *p, int64_t cents)
{
    p = s_put_uint (p, (uint64_t) (cents / 100), 1);
    *p++ = '.';
    return s_put_uint (p, (uint64_t) (cents % 100), 2);
}

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
        return s_put (p, text);
    *p++ = '"';
    for (; *text; text++) {
        if (*text == '"')
            *p++ = '"';
        *p++ = *text;
    }
    *p++ = '"';
    return p;
}

// ---------------------------------------------------------------------------
//  Bookings

typedef enum { S_NEW = 0, S_CONFIRMED, S_CANCELLED } s_status_t;

// clang-format off
static const char *s_status_names[] = {"new", "confirmed", "cancelled"};
static const char *s_first_names[] = {
    "lucia", "sofia", "martina", "maria", "julia", "paula", "valeria", "emma", "daniela", "carla",
    "alba", "noa", "sara", "carmen", "laura", "elena", "hugo", "mateo", "martin", "lucas",
    "leo", "daniel", "alejandro", "manuel", "pablo", "alvaro", "adrian", "david", "mario", "diego",
    "javier", "jorge", "anna", "james", "oliver", "charlotte", "thomas", "camille", "luca", "giulia"};
static const char *s_last_names[] = {
    "garcia", "rodriguez", "gonzalez", "fernandez", "lopez", "martinez", "sanchez", "perez",
    "gomez", "martin", "jimenez", "ruiz", "hernandez", "diaz", "moreno", "munoz", "alvarez",
    "romero", "alonso", "gutierrez", "navarro", "torres", "dominguez", "vazquez", "ramos", "gil",
    "ramirez", "serrano", "blanco", "molina", "smith", "jones", "brown", "taylor", "dubois",
    "rossi", "muller", "silva", "costa", "ferrari"};
static const char *s_domains[] = {
    "gmail.com", "gmail.com", "gmail.com", "hotmail.com", "hotmail.es", "yahoo.es", "outlook.com",
    "icloud.com", "telefonica.net", "gmx.de", "orange.fr", "btinternet.com"};
//  Channels and currencies, with weights in per mille
static const char *s_channels[] = {"direct", "booking.com", "expedia", "phone", "travel_agent", "corporate"};
static const uint32_t s_channel_weights[] = {300, 300, 150, 100, 80, 70};
static const char *s_currencies[] = {"EUR", "USD", "GBP"};
static const uint32_t s_currency_weights[] = {850, 100, 50};
static const int64_t s_currency_per_100_eur[] = {100, 108, 86};
// clang-format on

#define S_COUNT_OF(array) (sizeof (array) / sizeof ((array)[0]))

typedef struct {
    uint32_t id;             //  the 8 digits of booking_id
    uint16_t hotel_id;       //  1..500
    uint8_t nights;          //  1..14
    uint8_t status;          //  s_status_t
    uint8_t currency;        //  index in s_currencies
    uint8_t channel;         //  index in s_channels
    uint8_t versions_left;   //  later versions still to come
    uint8_t first, last;     //  guest_email: indexes in s_first_names, s_last_names
    uint8_t domain, number;  //  guest_email: index in s_domains, 0 or 10..99
    bool capitals;           //  guest_email typed with capitals, as some guests do
    int32_t check_in;        //  days since the epoch
    int64_t nightly_cents;   //  price per night in the booking's currency
    int64_t amount_cents;    //  amount
    int64_t due_us;          //  event time its next version is due (version heap key)
} s_booking_t;

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
    s_rng_t content;                //  what the records hold
    s_rng_t arrangement;            //  where they go
    FILE *file;                     //  output
    uint16_t hotel_rank[S_HOTELS];  //  hotel_id by popularity rank
    uint64_t id_key[4];             //  booking number -> 8-digit id: Feistel round keys
    int64_t gap_max_us;             //  event-time gap between records: uniform 0..gap_max_us
    int64_t version_lag_max_us;     //  a version comes 1 s .. this after the one before
    s_booking_t *due;               //  min-heap of bookings with versions to come, by (due_us, id)
    size_t due_size, due_cap;
    s_pending_t *pending;  //  min-heap of records moved later, by (position, sequence)
    size_t pending_size, pending_cap;
    uint64_t sequence;          //  pushes onto pending so far
    int64_t bookings;           //  distinct booking ids
    int64_t duplicates;         //  records written twice
    int64_t displaced;          //  records moved a little later
    int64_t late;               //  records moved hours later
    int64_t lines;              //  lines written, without the CSV header
    int64_t first_us, last_us;  //  event-time range
} s_gen_t;

static bool
s_booking_before (const s_booking_t *a, const s_booking_t *b)
{
    return a->due_us < b->due_us || (a->due_us == b->due_us && a->id < b->id);
}

static bool
s_pending_before (const s_pending_t *a, const s_pending_t *b)
{
    return a->position < b->position || (a->position == b->position && a->sequence < b->sequence);
}

//  Binary min-heap push and pop, one pair per element type
#define S_HEAP_FUNCTIONS(name, type, before)                                                       \
    static void s_##name##_push (type **heap, size_t *size, size_t *cap, type item)                \
    {                                                                                              \
        if (*size == *cap) {                                                                       \
            *cap = *cap ? *cap * 2 : 1024;                                                         \
            *heap = (type *) realloc (*heap, *cap * sizeof (type));                                \
            if (!*heap) {                                                                          \
                fprintf (stderr, "zetlctl gen: out of memory\n");                                  \
                abort ();                                                                          \
            }                                                                                      \
        }                                                                                          \
        size_t child = (*size)++;                                                                  \
        while (child > 0 && before (&item, &(*heap)[(child - 1) / 2])) {                           \
            (*heap)[child] = (*heap)[(child - 1) / 2];                                             \
            child = (child - 1) / 2;                                                               \
        }                                                                                          \
        (*heap)[child] = item;                                                                     \
    }                                                                                              \
    static type s_##name##_pop (type *heap, size_t *size)                                          \
    {                                                                                              \
        type top = heap[0], last = heap[--*size];                                                  \
        size_t parent = 0, child;                                                                  \
        while ((child = 2 * parent + 1) < *size) {                                                 \
            if (child + 1 < *size && before (&heap[child + 1], &heap[child]))                      \
                child++;                                                                           \
            if (!before (&heap[child], &last))                                                     \
                break;                                                                             \
            heap[parent] = heap[child];                                                            \
            parent = child;                                                                        \
        }                                                                                          \
        if (*size)                                                                                 \
            heap[parent] = last;                                                                   \
        return top;                                                                                \
    }

S_HEAP_FUNCTIONS (due, s_booking_t, s_booking_before)
S_HEAP_FUNCTIONS (pending, s_pending_t, s_pending_before)

static uint32_t
s_pick_weighted (s_rng_t *rng, const uint32_t *weights, size_t count)
{
    uint32_t draw = (uint32_t) s_rng_below (rng, 1000);
    for (size_t index = 0; index < count; index++) {
        if (draw < weights[index])
            return (uint32_t) index;
        draw -= weights[index];
    }
    return 0;
}

//  The hotel's list price per night in EUR cents: 55..380 EUR, whole euros,
//  a fixed function of the seed and the hotel
static int64_t
s_hotel_rate_cents (const s_gen_t *self, uint16_t hotel_id)
{
    uint64_t state = self->opt.seed ^ ((uint64_t) hotel_id << 32);
    return (55 + (int64_t) (s_splitmix64 (&state) % 326)) * 100;
}

static void
s_price (const s_gen_t *self, s_booking_t *booking, s_rng_t *rng)
{
    //  Seasonal and room-type spread around the list price: -20% .. +30%, in 5% steps
    int64_t eur =
        s_hotel_rate_cents (self, booking->hotel_id) * (80 + 5 * s_rng_range (rng, 0, 10)) / 100;
    booking->nightly_cents = eur * s_currency_per_100_eur[booking->currency] / 100;
    booking->amount_cents = booking->nightly_cents * booking->nights;
}

//  Booking number -> 8-digit id: a 4-round Feistel network on two 4-digit
//  halves, a bijection on 0..10^8-1, so ids are distinct and look random
static uint32_t
s_booking_id (const s_gen_t *self, uint32_t number)
{
    uint32_t left = number / 10000, right = number % 10000;
    for (int round = 0; round < 4; round++) {
        uint64_t state = self->id_key[round] ^ right;
        uint32_t mixed = (left + (uint32_t) (s_splitmix64 (&state) % 10000)) % 10000;
        left = right;
        right = mixed;
    }
    return left * 10000 + right;
}

static void
s_booking_new (s_gen_t *self, s_booking_t *booking, int64_t now_us)
{
    s_rng_t *rng = &self->content;
    memset (booking, 0, sizeof *booking);
    booking->id = s_booking_id (self, (uint32_t) self->bookings);
    booking->hotel_id = self->hotel_rank[s_rng_skewed (rng, S_HOTELS)];
    booking->nights = (uint8_t) (1 + s_rng_skewed (rng, 14));
    booking->status = s_rng_below (rng, 100) < 75 ? S_NEW : S_CONFIRMED;
    booking->currency = (uint8_t) s_pick_weighted (rng, s_currency_weights, 3);
    booking->channel = (uint8_t) s_pick_weighted (rng, s_channel_weights, S_COUNT_OF (s_channels));
    booking->first = (uint8_t) s_rng_below (rng, S_COUNT_OF (s_first_names));
    booking->last = (uint8_t) s_rng_below (rng, S_COUNT_OF (s_last_names));
    booking->domain = (uint8_t) s_rng_below (rng, S_COUNT_OF (s_domains));
    booking->number = s_rng_below (rng, 2) ? (uint8_t) s_rng_range (rng, 10, 99) : 0;
    booking->capitals = s_rng_below (rng, 100) < 3;
    booking->check_in = (int32_t) (now_us / (86400 * S_SECOND_US) + s_rng_skewed (rng, 181));
    s_price (self, booking, rng);
    if (s_rng_below (rng, 1000000) < (uint64_t) (self->opt.versions * 1000000 + 0.5))
        booking->versions_left = (uint8_t) s_rng_range (rng, 1, 3);
    self->bookings++;
}

//  The next version of BOOKING: a status change or an amount change, never
//  the same content again
static void
s_booking_change (s_gen_t *self, s_booking_t *booking)
{
    s_rng_t *rng = &self->content;
    uint64_t draw = s_rng_below (rng, 100);
    bool modify = false;
    if (booking->status == S_NEW) {
        if (draw < 70)
            booking->status = S_CONFIRMED;
        else if (draw < 85)
            booking->status = S_CANCELLED;
        else
            modify = true;
    }
    else if (booking->status == S_CONFIRMED) {
        if (draw < 55)
            modify = true;
        else
            booking->status = S_CANCELLED;
    }
    else if (draw < 60) {
        booking->status = S_CONFIRMED;  //  Reinstated, at today's price
        s_price (self, booking, rng);
    }
    else if (booking->amount_cents > 0)
        booking->amount_cents = booking->amount_cents / 500 * 100;  //  A 20% cancellation fee
    else
        booking->status = S_CONFIRMED;

    if (modify) {
        //  The guest changes the length of stay: another number of nights, repriced
        uint8_t nights = (uint8_t) s_rng_range (rng, 1, 14);
        booking->nights = nights != booking->nights ? nights : (uint8_t) (nights % 14 + 1);
        s_price (self, booking, rng);
    }
}

//  The columns, in output order; quoted: a JSON string
// clang-format off
static const struct {
    const char *name;
    bool quoted;
} s_columns[] = {
    {"booking_id", true}, {"hotel_id", false}, {"guest_email", true}, {"amount", false},
    {"currency", true}, {"status", true}, {"check_in", true}, {"nights", false},
    {"channel", true}, {"updated_at", true}};
// clang-format on
#define S_COLUMNS S_COUNT_OF (s_columns)

//  Write BOOKING as it stands at UPDATED_US into LINE (S_LINE_MAX bytes), with
//  its newline. Returns the length.
static size_t
s_format (const s_gen_t *self, const s_booking_t *booking, int64_t updated_us, char *line)
{
    char values[S_COLUMNS][96], *v;
    *s_put_uint (s_put (values[0], "BK-"), booking->id, 8) = 0;
    *s_put_uint (values[1], booking->hotel_id, 1) = 0;
    v = s_put (s_put (values[2], s_first_names[booking->first]), ".");
    v = s_put (v, s_last_names[booking->last]);
    if (booking->number)
        v = s_put_uint (v, booking->number, 2);
    *s_put (s_put (v, "@"), s_domains[booking->domain]) = 0;
    if (booking->capitals) {
        values[2][0] = (char) (values[2][0] - 'a' + 'A');
        v = strchr (values[2], '.');
        v[1] = (char) (v[1] - 'a' + 'A');
    }
    *s_put_cents (values[3], booking->amount_cents) = 0;
    strcpy (values[4], s_currencies[booking->currency]);
    strcpy (values[5], s_status_names[booking->status]);
    *s_put_date (values[6], booking->check_in) = 0;
    *s_put_uint (values[7], booking->nights, 1) = 0;
    strcpy (values[8], s_channels[booking->channel]);
    *s_put_timestamp (values[9], updated_us) = 0;

    char *p = line;
    for (size_t column = 0; column < S_COLUMNS; column++) {
        if (self->opt.csv) {
            if (column)
                *p++ = ',';
            p = s_put_csv_string (p, values[column]);
        }
        else {
            p = s_put (s_put (s_put (p, column ? ",\"" : "{\""), s_columns[column].name), "\":");
            p = s_columns[column].quoted ? s_put_json_string (p, values[column])
                                         : s_put (p, values[column]);
        }
    }
    p = s_put (p, self->opt.csv ? "\n" : "}\n");
    return (size_t) (p - line);
}

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

//  Generate and write every record
static void
s_generate (s_gen_t *self)
{
    const int64_t count = self->opt.count;
    int64_t need_late = s_fraction_count (self->opt.late, count);
    int64_t need_displaced = s_fraction_count (self->opt.disorder, count);
    int64_t need_duplicates = s_fraction_count (self->opt.duplicates, count);
    if (need_late + need_displaced > count)  //  Both rounded up
        need_displaced = count - need_late;
    self->duplicates = need_duplicates;
    self->displaced = need_displaced;
    self->late = need_late;

    double rate = self->opt.rate;
    //  Displaced: 2..500 records and at most ~3 minutes of event time; duplicates
    //  follow their original within 200 records and ~1 minute
    uint64_t displace_max = (uint64_t) (rate * 180 < 500 ? (rate * 180 > 2 ? rate * 180 : 2) : 500);
    uint64_t copy_max = (uint64_t) (rate * 60 < 200 ? (rate * 60 > 1 ? rate * 60 : 1) : 200);
    uint64_t late_min =
        (uint64_t) (rate * 3600) > displace_max ? (uint64_t) (rate * 3600) : displace_max + 1;
    uint64_t late_max = late_min * 6;

    char line[S_LINE_MAX];
    int64_t now_us = self->opt.start_us;
    for (int64_t index = 0; index < count; index++) {
        if (index > 0)
            now_us += s_rng_range (&self->content, 0, self->gap_max_us);
        s_booking_t booking;
        if (self->due_size && self->due[0].due_us <= now_us) {
            booking = s_due_pop (self->due, &self->due_size);
            s_booking_change (self, &booking);
            booking.versions_left--;
        }
        else
            s_booking_new (self, &booking, now_us);
        if (booking.versions_left) {
            booking.due_us =
                now_us + s_rng_range (&self->content, S_SECOND_US, self->version_lag_max_us);
            s_due_push (&self->due, &self->due_size, &self->due_cap, booking);
        }
        size_t len = s_format (self, &booking, now_us, line);
        if (index == 0)
            self->first_us = now_us;
        self->last_us = now_us;

        //  Exact counts: draw each record's class from what is still needed
        //  over what is still to come (sequential sampling without replacement)
        uint64_t now = (uint64_t) index;
        uint64_t remaining = (uint64_t) (count - index);
        uint64_t draw = s_rng_below (&self->arrangement, remaining);
        uint64_t position = now;
        if (draw < (uint64_t) need_late) {
            need_late--;
            position +=
                (uint64_t) s_rng_range (&self->arrangement, (int64_t) late_min, (int64_t) late_max);
        }
        else if (draw < (uint64_t) (need_late + need_displaced)) {
            need_displaced--;
            position += (uint64_t) s_rng_range (&self->arrangement, 2, (int64_t) displace_max);
        }
        s_place (self, line, len, position, now);
        if (s_rng_below (&self->arrangement, remaining) < (uint64_t) need_duplicates) {
            need_duplicates--;
            s_place (self, line, len,
                     position + (uint64_t) s_rng_range (&self->arrangement, 1, (int64_t) copy_max),
                     now);
        }
        s_flush_until (self, now);
    }
    s_flush_until (self, UINT64_MAX);
}

static void
s_usage (FILE *out)
{
    fprintf (
        out,
        "Usage: zetlctl gen bookings [options]\n\n"
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
    char *end;
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
        else if (option == 's') {
            errno = 0;
            opt->seed = strtoull (optarg, &end, 10);
            if (errno || *end || end == optarg || *optarg == '-') {
                fprintf (stderr, "zetlctl gen: --seed '%s' is not an unsigned 64-bit integer\n",
                         optarg);
                rc = -1;
            }
        }
        else if (option == 't') {
            if (zetl_time_parse_iso8601 (optarg, strlen (optarg), &opt->start_us) != 0 ||
                opt->start_us < 0 || opt->start_us > S_MAX_START_US) {
                fprintf (stderr,
                         "zetlctl gen: --start '%s' is not an ISO 8601 time from 1970 "
                         "to 8999; use e.g. 2026-01-01T00:00:00Z\n",
                         optarg);
                rc = -1;
            }
        }
        else if (option == 'f') {
            opt->csv = strcmp (optarg, "csv") == 0;
            if (!opt->csv && strcmp (optarg, "jsonl") != 0) {
                fprintf (stderr, "zetlctl gen: --format '%s' is unknown; use jsonl or csv\n",
                         optarg);
                rc = -1;
            }
        }
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
        fprintf (stderr, "zetlctl gen: say what to generate: zetlctl gen bookings [options]\n");
        rc = -1;
    }
    if (rc == 0 && opt->disorder + opt->late > 1) {
        fprintf (stderr, "zetlctl gen: --disorder plus --late is over 1; lower one of them\n");
        rc = -1;
    }
    return rc;
}

static void
s_setup (s_gen_t *self)
{
    s_rng_seed (&self->content, self->opt.seed, 1);
    s_rng_seed (&self->arrangement, self->opt.seed, 2);
    //  Which hotels are busy: a seeded shuffle of 1..500, busiest first
    for (uint16_t index = 0; index < S_HOTELS; index++)
        self->hotel_rank[index] = (uint16_t) (index + 1);
    for (uint32_t index = S_HOTELS - 1; index > 0; index--) {
        uint32_t other = (uint32_t) s_rng_below (&self->content, index + 1);
        uint16_t swap = self->hotel_rank[index];
        self->hotel_rank[index] = self->hotel_rank[other];
        self->hotel_rank[other] = swap;
    }
    for (int round = 0; round < 4; round++)
        self->id_key[round] = s_rng_next (&self->content);

    int64_t mean_gap_us = (int64_t) (1e6 / self->opt.rate + 0.5);
    self->gap_max_us = 2 * mean_gap_us;
    //  Versions follow within a tenth of the stream's span (10 s .. 6 h), so
    //  most of them land inside the stream whatever its length
    int64_t lag_us = self->opt.count * mean_gap_us / 10;
    self->version_lag_max_us = lag_us < 10 * S_SECOND_US ? 10 * S_SECOND_US
                               : lag_us > 6 * S_HOUR_US  ? 6 * S_HOUR_US
                                                         : lag_us;
}

static void
s_print_summary (s_gen_t *self)
{
    char first[32] = "", last[32] = "";
    if (self->opt.count > 0) {
        *s_put_timestamp (first, self->first_us) = 0;
        *s_put_timestamp (last, self->last_us) = 0;
    }
    json_t *summary = json_pack (
        "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:s}", "event", "bookings_generated",
        "records", (json_int_t) self->lines, "distinct", (json_int_t) self->opt.count,
        "distinct_ids", (json_int_t) self->bookings, "versions",
        (json_int_t) (self->opt.count - self->bookings), "duplicates",
        (json_int_t) self->duplicates, "displaced", (json_int_t) self->displaced, "late",
        (json_int_t) self->late, "first_event", first, "last_event", last, "out", self->opt.out);
    char *text = json_dumps (summary, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf (stderr, "%s\n", text);
    free (text);
    json_decref (summary);
}

int
zetl_ctl_gen (int argc, char **argv)
{
    s_gen_t gen = {0}, *self = &gen;
    int rc = s_parse_options (argc, argv, &self->opt);
    if (rc != 0)
        return rc > 0 ? 0 : 2;  //  --help, or bad usage
    s_setup (self);

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
        fprintf (self->file, "%s%s", s_columns[column].name, column + 1 < S_COLUMNS ? "," : "\n");
    s_generate (self);

    rc = fflush (self->file) == 0 && !ferror (self->file) ? 0 : 1;
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
    if (rc == 0)
        s_print_summary (self);
    free (path);
    free (self->due);
    free (self->pending);
    return rc;
}
