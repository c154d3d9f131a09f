/*  zetl_schedule - when a scheduled source reads again: an interval or cron

    A source's `schedule` is an interval ("30s", "6h": from the start of
    one run to the start of the next) or a cron expression of five fields,
    minute hour day-of-month month day-of-week, in UTC, each a star, a
    number, a range a-b, any of those followed by a step (a slash and n),
    or a comma list of those (day
    of week 0-7, 0 and 7 Sunday; as in cron, when both day fields are
    restricted a day matching either runs). Pure functions.
*/
#ifndef ZETL_SCHEDULE_H_INCLUDED
#define ZETL_SCHEDULE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t minutes;    //  bit m: minute m (0-59)
    uint32_t hours;      //  bit h (0-23)
    uint32_t days;       //  bit d (1-31)
    uint16_t months;     //  bit m (1-12)
    uint8_t weekdays;    //  bit d (0-6, Sunday 0)
    bool days_any;       //  day of month was *
    bool weekdays_any;   //  day of week was *
} zetl_cron_t;

//  Parse cron expression TEXT into *CRON. Returns 0, or -1 if it is not one.
int zetl_cron_parse (const char *text, zetl_cron_t *cron);

//  The first minute CRON names strictly after AFTER_US (microseconds since
//  the epoch, UTC), or -1 if none comes within five years (31 February).
int64_t zetl_cron_next_us (const zetl_cron_t *cron, int64_t after_us);

//  Milliseconds from now until the next run is due: with CRON (or NULL),
//  its next minute; else INTERVAL_MS after STARTED_MS (zclock_mono) of the
//  last run's start. Never negative.
int64_t zetl_schedule_wait_ms (const zetl_cron_t *cron, int64_t interval_ms, int64_t started_ms);

#endif
