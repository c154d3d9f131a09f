/*  zetl_ctl_gen_bookings - the bookings model of zetlctl gen: what the records hold

    Private to ctl/zetl_ctl_gen*.c. The model makes the content of the
    stream, one record at a time and in event-time order: event time
    advances by a random gap of mean 1/rate per record, and each record is
    either the next version of an earlier booking that has fallen due (a
    status or amount change) or a new booking. A version is due at least
    1 s after the one before it, so two versions of one booking never share
    an updated_at. zetl_ctl_gen.c owns the model, moves the records it
    makes (disorder, lateness, duplicates) and writes them as JSONL or CSV.

    Every draw comes from PRNG stream 1 of the seed, and only integer
    arithmetic touches the text: the same arguments give the same records
    on any machine.
*/
#ifndef ZETL_CTL_GEN_BOOKINGS_H_INCLUDED
#define ZETL_CTL_GEN_BOOKINGS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#define ZETL_CTL_GEN_BOOKINGS_COLUMNS 10  //  fields in a record
#define ZETL_CTL_GEN_BOOKINGS_VALUE 96    //  bytes for the text of one field, NUL included

typedef struct zetl_ctl_gen_bookings zetl_ctl_gen_bookings_t;

//  A field of the records
typedef struct {
    const char *name;  //  JSON key and CSV header
    bool quoted;       //  a JSON string; else a number, written bare
} zetl_ctl_gen_bookings_column_t;

//  The fields, in output order: booking_id, hotel_id, guest_email, amount,
//  currency, status, check_in, nights, channel, updated_at
extern const zetl_ctl_gen_bookings_column_t
    zetl_ctl_gen_bookings_columns[ZETL_CTL_GEN_BOOKINGS_COLUMNS];

//  Create a model for COUNT records (it sizes the version lag by it), the
//  first at event time START_US, RATE (> 0) records a second of event time,
//  with a fraction VERSIONS (0..1) of the bookings getting 1-3 later
//  versions; all drawn from SEED. Caller owns the result; NULL when out of
//  memory.
zetl_ctl_gen_bookings_t *zetl_ctl_gen_bookings_new (uint64_t seed, int64_t count, int64_t start_us,
                                                    double rate, double versions);

//  Destroy the model and set *SELF_P to NULL. Does nothing if *SELF_P is NULL.
void zetl_ctl_gen_bookings_destroy (zetl_ctl_gen_bookings_t **self_p);

//  Make the next record: write the text of its fields into VALUES (in
//  column order, each NUL-terminated; strings unescaped) and return its
//  event time, which is also its updated_at.
int64_t zetl_ctl_gen_bookings_next (zetl_ctl_gen_bookings_t *self,
                                    char values[][ZETL_CTL_GEN_BOOKINGS_VALUE]);

//  Distinct booking ids among the records made so far; the other records
//  are later versions.
int64_t zetl_ctl_gen_bookings_ids (const zetl_ctl_gen_bookings_t *self);

//  Write event time US as updated_at is written, ISO 8601 UTC with
//  milliseconds (2026-01-01T00:00:00.020Z, 24 bytes), at P. Returns the end
//  of what was written; adds no NUL.
char *zetl_ctl_gen_bookings_put_timestamp (char *p, int64_t us);

#endif
