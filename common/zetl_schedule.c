/*  zetl_schedule - when a scheduled source reads again: an interval or cron  */
#include "zetl_schedule.h"
#include "zetl_time.h"

#include <czmq.h>
#include <time.h>

//  One field "a", "a-b", "*", each with an optional "/n", or a comma list of
//  them, into BITS for values LOW..HIGH; false if it is none
static bool
s_field (const char *text, size_t len, int low, int high, uint64_t *bits, bool *any)
{
    *bits = 0;
    *any = len == 1 && text[0] == '*';
    const char *end = text + len;
    while (text < end) {
        const char *comma = memchr (text, ',', (size_t) (end - text));
        const char *stop = comma ? comma : end;
        int from = low, to = high, step = 1, consumed = 0, step_len = 0;
        char item[32];
        if ((size_t) (stop - text) >= sizeof item || stop == text)
            return false;
        memcpy (item, text, (size_t) (stop - text));
        item[stop - text] = 0;
        if (item[0] == '*')
            consumed = 1;
        else if (sscanf (item, "%d-%d%n", &from, &to, &consumed) != 2
                 && sscanf (item, "%d%n", &from, &consumed) == 1)
            to = from;
        else if (consumed == 0)
            return false;
        if (item[consumed] == '/' && sscanf (item + consumed + 1, "%d%n", &step, &step_len) == 1
            && step > 0 && item[consumed + 1 + step_len] == 0) {
            if (item[0] != '*' && from == to)
                to = high;  //  "5/15": from 5 on
        }
        else if (item[consumed] != 0)
            return false;
        if (from < low || to > high || from > to)
            return false;
        for (int value = from; value <= to; value += step)
            *bits |= UINT64_C (1) << value;
        text = comma ? comma + 1 : end;
    }
    return *bits != 0;
}

int
zetl_cron_parse (const char *text, zetl_cron_t *cron)
{
    static const int limits[5][2] = {{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}};
    uint64_t bits[5];
    bool any[5];
    int field = 0;
    while (*text && field <= 5) {
        while (*text == ' ' || *text == '\t')
            text++;
        size_t len = strcspn (text, " \t");
        if (len == 0)
            break;
        if (field == 5
            || !s_field (text, len, limits[field][0], limits[field][1], &bits[field], &any[field]))
            return -1;
        field++;
        text += len;
    }
    if (field != 5)
        return -1;
    *cron = (zetl_cron_t){.minutes = bits[0],
                          .hours = (uint32_t) bits[1],
                          .days = (uint32_t) bits[2],
                          .months = (uint16_t) bits[3],
                          .weekdays = (uint8_t) ((bits[4] | bits[4] >> 7) & 0x7F),
                          .days_any = any[2],
                          .weekdays_any = any[4]};
    return 0;
}

static bool
s_day_matches (const zetl_cron_t *cron, const struct tm *tm)
{
    bool day = (cron->days >> tm->tm_mday) & 1, weekday = (cron->weekdays >> tm->tm_wday) & 1;
    if (cron->days_any || cron->weekdays_any)
        return day && weekday;
    return day || weekday;
}

int64_t
zetl_cron_next_us (const zetl_cron_t *cron, int64_t after_us)
{
    time_t at = (time_t) (after_us / 1000000 / 60 + 1) * 60;  //  the next whole minute
    for (int day = 0; day < 5 * 366; day++) {
        struct tm tm;
        gmtime_r (&at, &tm);
        if (!((cron->months >> (tm.tm_mon + 1)) & 1) || !s_day_matches (cron, &tm)) {
            at += (time_t) ((23 - tm.tm_hour) * 3600 + (59 - tm.tm_min) * 60 + 60);  //  next midnight
            continue;
        }
        for (; tm.tm_hour < 24; tm.tm_hour++, tm.tm_min = 0)
            if ((cron->hours >> tm.tm_hour) & 1)
                for (; tm.tm_min < 60; tm.tm_min++)
                    if ((cron->minutes >> tm.tm_min) & 1)
                        return ((int64_t) (at - at % 86400) + tm.tm_hour * 3600 + tm.tm_min * 60)
                               * 1000000;
        at = at - at % 86400 + 86400;
    }
    return -1;
}

int64_t
zetl_schedule_wait_ms (const zetl_cron_t *cron, int64_t interval_ms, int64_t started_ms)
{
    int64_t wait;
    if (cron) {
        int64_t now_us = zetl_time_now_us (), next = zetl_cron_next_us (cron, now_us);
        wait = next < 0 ? INT64_C (86400000) : (next - now_us + 999) / 1000;
    }
    else
        wait = started_ms + interval_ms - zclock_mono ();
    return wait > 0 ? wait : 0;
}
