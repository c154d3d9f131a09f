/*  zetl_ctl_gen_bookings - the bookings model of zetlctl gen: what the records hold

    A booking is a few small numbers (indexes into the tables below, cents,
    days); its text is made only when a record of it is written, without
    printf. Bookings with versions still to come wait in a min-heap keyed
    by the event time their next version is due.
*/
#include "zetl_ctl_gen_bookings.h"
#include "zetl_ctl_gen_heap.h"
#include "zetl_rng.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_HOTELS 500
#define S_SECOND_US 1000000LL
#define S_HOUR_US (3600 * S_SECOND_US)

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

const zetl_ctl_gen_bookings_column_t zetl_ctl_gen_bookings_columns[ZETL_CTL_GEN_BOOKINGS_COLUMNS] = {
    {"booking_id", true}, {"hotel_id", false}, {"guest_email", true}, {"amount", false},
    {"currency", true}, {"status", true}, {"check_in", true}, {"nights", false},
    {"channel", true}, {"updated_at", true}};
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

struct zetl_ctl_gen_bookings {
    zetl_rng_t rng;                 //  PRNG stream 1 of the seed: every draw of the content
    uint64_t seed;                  //  --seed: also fixes each hotel's list price
    uint64_t versions_per_million;  //  bookings with later versions, per million
    uint16_t hotel_rank[S_HOTELS];  //  hotel_id by popularity rank
    uint64_t id_key[4];             //  booking number -> 8-digit id: Feistel round keys
    int64_t gap_max_us;             //  event-time gap between records: uniform 0..gap_max_us
    int64_t version_lag_max_us;     //  a version comes 1 s .. this after the one before
    s_booking_t *due;               //  min-heap of bookings with versions to come, by (due_us, id)
    size_t due_size, due_cap;       //  items in due, and room
    int64_t now_us;                 //  event time of the last record made
    int64_t records;                //  records made
    int64_t bookings;               //  distinct booking ids made
};

static bool
s_booking_before (const s_booking_t *a, const s_booking_t *b)
{
    return a->due_us < b->due_us || (a->due_us == b->due_us && a->id < b->id);
}

ZETL_CTL_GEN_HEAP (due, s_booking_t, s_booking_before)

zetl_ctl_gen_bookings_t *
zetl_ctl_gen_bookings_new (uint64_t seed, int64_t count, int64_t start_us, double rate,
                           double versions)
{
    assert (count >= 0 && rate > 0 && versions >= 0 && versions <= 1);
    zetl_ctl_gen_bookings_t *self =
        (zetl_ctl_gen_bookings_t *) calloc (1, sizeof (zetl_ctl_gen_bookings_t));
    if (!self)
        return NULL;
    self->seed = seed;
    self->versions_per_million = (uint64_t) (versions * 1000000 + 0.5);
    self->now_us = start_us;
    zetl_rng_seed (&self->rng, seed, 1);
    //  Which hotels are busy: a seeded shuffle of 1..500, busiest first
    for (uint16_t index = 0; index < S_HOTELS; index++)
        self->hotel_rank[index] = (uint16_t) (index + 1);
    for (uint32_t index = S_HOTELS - 1; index > 0; index--) {
        uint32_t other = (uint32_t) zetl_rng_below (&self->rng, index + 1);
        uint16_t swap = self->hotel_rank[index];
        self->hotel_rank[index] = self->hotel_rank[other];
        self->hotel_rank[other] = swap;
    }
    for (int round = 0; round < 4; round++)
        self->id_key[round] = zetl_rng_next (&self->rng);

    int64_t mean_gap_us = (int64_t) (1e6 / rate + 0.5);
    self->gap_max_us = 2 * mean_gap_us;
    //  Versions follow within a tenth of the stream's span (10 s .. 6 h), so
    //  most of them land inside the stream whatever its length
    int64_t lag_us = count * mean_gap_us / 10;
    self->version_lag_max_us = lag_us < 10 * S_SECOND_US ? 10 * S_SECOND_US
                               : lag_us > 6 * S_HOUR_US  ? 6 * S_HOUR_US
                                                         : lag_us;
    return self;
}

void
zetl_ctl_gen_bookings_destroy (zetl_ctl_gen_bookings_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_ctl_gen_bookings_t *self = *self_p;
        free (self->due);
        free (self);
        *self_p = NULL;
    }
}

int64_t
zetl_ctl_gen_bookings_ids (const zetl_ctl_gen_bookings_t *self)
{
    assert (self);
    return self->bookings;
}

// ---------------------------------------------------------------------------
//  Field values

static uint32_t
s_pick_weighted (zetl_rng_t *rng, const uint32_t *weights, size_t count)
{
    uint32_t draw = (uint32_t) zetl_rng_below (rng, 1000);
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
s_hotel_rate_cents (const zetl_ctl_gen_bookings_t *self, uint16_t hotel_id)
{
    uint64_t state = self->seed ^ ((uint64_t) hotel_id << 32);
    return (55 + (int64_t) (zetl_rng_splitmix64 (&state) % 326)) * 100;
}

static void
s_price (zetl_ctl_gen_bookings_t *self, s_booking_t *booking)
{
    //  Seasonal and room-type spread around the list price: -20% .. +30%, in 5% steps
    int64_t eur = s_hotel_rate_cents (self, booking->hotel_id) *
                  (80 + 5 * zetl_rng_range (&self->rng, 0, 10)) / 100;
    booking->nightly_cents = eur * s_currency_per_100_eur[booking->currency] / 100;
    booking->amount_cents = booking->nightly_cents * booking->nights;
}

//  Booking number -> 8-digit id: a 4-round Feistel network on two 4-digit
//  halves, a bijection on 0..10^8-1, so ids are distinct and look random
static uint32_t
s_booking_id (const zetl_ctl_gen_bookings_t *self, uint32_t number)
{
    uint32_t left = number / 10000, right = number % 10000;
    for (int round = 0; round < 4; round++) {
        uint64_t state = self->id_key[round] ^ right;
        uint32_t mixed = (left + (uint32_t) (zetl_rng_splitmix64 (&state) % 10000)) % 10000;
        left = right;
        right = mixed;
    }
    return left * 10000 + right;
}

static void
s_booking_new (zetl_ctl_gen_bookings_t *self, s_booking_t *booking)
{
    zetl_rng_t *rng = &self->rng;
    memset (booking, 0, sizeof *booking);
    booking->id = s_booking_id (self, (uint32_t) self->bookings);
    booking->hotel_id = self->hotel_rank[zetl_rng_skewed (rng, S_HOTELS)];
    booking->nights = (uint8_t) (1 + zetl_rng_skewed (rng, 14));
    booking->status = zetl_rng_below (rng, 100) < 75 ? S_NEW : S_CONFIRMED;
    booking->currency = (uint8_t) s_pick_weighted (rng, s_currency_weights, 3);
    booking->channel = (uint8_t) s_pick_weighted (rng, s_channel_weights, S_COUNT_OF (s_channels));
    booking->first = (uint8_t) zetl_rng_below (rng, S_COUNT_OF (s_first_names));
    booking->last = (uint8_t) zetl_rng_below (rng, S_COUNT_OF (s_last_names));
    booking->domain = (uint8_t) zetl_rng_below (rng, S_COUNT_OF (s_domains));
    booking->number = zetl_rng_below (rng, 2) ? (uint8_t) zetl_rng_range (rng, 10, 99) : 0;
    booking->capitals = zetl_rng_below (rng, 100) < 3;
    booking->check_in =
        (int32_t) (self->now_us / (86400 * S_SECOND_US) + zetl_rng_skewed (rng, 181));
    s_price (self, booking);
    if (zetl_rng_below (rng, 1000000) < self->versions_per_million)
        booking->versions_left = (uint8_t) zetl_rng_range (rng, 1, 3);
    self->bookings++;
}

//  The next version of BOOKING: a status change or an amount change, never
//  the same content again
static void
s_booking_change (zetl_ctl_gen_bookings_t *self, s_booking_t *booking)
{
    uint64_t draw = zetl_rng_below (&self->rng, 100);
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
        s_price (self, booking);
    }
    else if (booking->amount_cents > 0)
        booking->amount_cents = booking->amount_cents / 500 * 100;  //  A 20% cancellation fee
    else
        booking->status = S_CONFIRMED;

    if (modify) {
        //  The guest changes the length of stay: another number of nights, repriced
        uint8_t nights = (uint8_t) zetl_rng_range (&self->rng, 1, 14);
        booking->nights = nights != booking->nights ? nights : (uint8_t) (nights % 14 + 1);
        s_price (self, booking);
    }
}

// ---------------------------------------------------------------------------
//  Text of the fields: no printf on the hot path

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

char *
zetl_ctl_gen_bookings_put_timestamp (char *p, int64_t us)
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

//  The text of each field of BOOKING as it stands at UPDATED_US
static void
s_values (const s_booking_t *booking, int64_t updated_us,
          char values[][ZETL_CTL_GEN_BOOKINGS_VALUE])
{
    char *v;
    *s_put_uint (stpcpy (values[0], "BK-"), booking->id, 8) = 0;
    *s_put_uint (values[1], booking->hotel_id, 1) = 0;
    v = stpcpy (stpcpy (values[2], s_first_names[booking->first]), ".");
    v = stpcpy (v, s_last_names[booking->last]);
    if (booking->number)
        v = s_put_uint (v, booking->number, 2);
    stpcpy (stpcpy (v, "@"), s_domains[booking->domain]);
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
    *zetl_ctl_gen_bookings_put_timestamp (values[9], updated_us) = 0;
}

// ---------------------------------------------------------------------------

int64_t
zetl_ctl_gen_bookings_next (zetl_ctl_gen_bookings_t *self,
                            char values[][ZETL_CTL_GEN_BOOKINGS_VALUE])
{
    assert (self && values);
    if (self->records++ > 0)
        self->now_us += zetl_rng_range (&self->rng, 0, self->gap_max_us);
    s_booking_t booking;
    if (self->due_size && self->due[0].due_us <= self->now_us) {
        booking = s_due_pop (self->due, &self->due_size);
        s_booking_change (self, &booking);
        booking.versions_left--;
    }
    else
        s_booking_new (self, &booking);
    if (booking.versions_left) {
        booking.due_us =
            self->now_us + zetl_rng_range (&self->rng, S_SECOND_US, self->version_lag_max_us);
        s_due_push (&self->due, &self->due_size, &self->due_cap, booking);
    }
    s_values (&booking, self->now_us, values);
    return self->now_us;
}
