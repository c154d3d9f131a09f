/*  zetl_time - event time: parsing and formatting timestamps and dates

    Calendar arithmetic is Howard Hinnant's days-from-civil / civil-from-days
    (proleptic Gregorian), so nothing here touches the process time zone or
    needs timegm: every function is pure and thread safe.
*/
#include "zetl_time.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define S_US_PER_SEC INT64_C (1000000)
#define S_US_PER_DAY INT64_C (86400000000)
#define S_MAX_OFFSET_S (18 * 3600)  //  RFC 3339 allows more; real zones stop at ±14:00
#define S_STRFTIME_MAX 1024         //  longest text zetl_time_parse_strftime accepts

//  Days since 1970-01-01 of the proleptic Gregorian date Y-M-D
static int64_t
s_days_from_civil (int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   //  [0, 399]
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;  //  [0, 365]
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           //  [0, 146096]
    return era * 146097 + doe - 719468;
}

static void
s_civil_from_days (int64_t z, int64_t *y_p, int *m_p, int *d_p)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                       //  [0, 146096]
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  //  [0, 399]
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                //  [0, 365]
    int64_t mp = (5 * doy + 2) / 153;                                     //  [0, 11]
    int d = (int) (doy - (153 * mp + 2) / 5 + 1);
    int m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y_p = yoe + era * 400 + (m <= 2);
    *m_p = m;
    *d_p = d;
}

static bool
s_is_leap (int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_days_in_month (int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && s_is_leap (y) ? 29 : days[m - 1];
}

static bool
s_valid_date (int64_t y, int m, int d)
{
    return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= s_days_in_month (y, m);
}

//  Floor division and remainder by a positive divisor, safe for INT64_MIN
static int64_t
s_floor_div (int64_t a, int64_t b, int64_t *rem)
{
    int64_t q = a / b, r = a % b;
    if (r < 0) {
        q--;
        r += b;
    }
    *rem = r;
    return q;
}

//  Read exactly N decimal digits at TEXT[*POS]; advances *POS
static bool
s_digits (const char *text, size_t len, size_t *pos, int n, int *value)
{
    if (*pos + (size_t) n > len)
        return false;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = text[*pos + (size_t) i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *pos += (size_t) n;
    *value = v;
    return true;
}

int
zetl_time_parse_iso8601 (const char *text, size_t len, int64_t *us)
{
    if (!text || !us)
        return -1;
    size_t pos = 0;
    int year, month, day;
    if (!s_digits (text, len, &pos, 4, &year) || pos >= len || text[pos++] != '-' ||
        !s_digits (text, len, &pos, 2, &month) || pos >= len || text[pos++] != '-' ||
        !s_digits (text, len, &pos, 2, &day))
        return -1;
    if (!s_valid_date (year, month, day))
        return -1;
    int64_t days = s_days_from_civil (year, month, day);
    if (pos == len) {
        *us = days * S_US_PER_DAY;
        return 0;
    }
    char sep = text[pos++];
    if (sep != 'T' && sep != 't' && sep != ' ')
        return -1;

    int hour, minute, second = 0;
    int64_t fraction_us = 0;
    if (!s_digits (text, len, &pos, 2, &hour) || pos >= len || text[pos++] != ':' ||
        !s_digits (text, len, &pos, 2, &minute))
        return -1;
    if (pos < len && text[pos] == ':') {
        pos++;
        if (!s_digits (text, len, &pos, 2, &second))
            return -1;
        if (pos < len && text[pos] == '.') {
            pos++;
            //  Up to 9 digits (nanoseconds); kept to the microsecond, truncated
            int digits = 0;
            int64_t scale = 100000;
            while (pos < len && text[pos] >= '0' && text[pos] <= '9') {
                if (++digits > 9)
                    return -1;
                fraction_us += (text[pos] - '0') * scale;
                scale /= 10;
                pos++;
            }
            if (digits == 0)
                return -1;
        }
    }
    if (hour > 23 || minute > 59 || second > 59)
        return -1;

    int offset_s = 0;
    if (pos < len) {
        char c = text[pos++];
        if (c == 'Z' || c == 'z') {
            if (pos != len)
                return -1;
        }
        else if (c == '+' || c == '-') {
            int off_h, off_m = 0;
            if (!s_digits (text, len, &pos, 2, &off_h))
                return -1;
            if (pos < len) {
                if (text[pos] == ':')
                    pos++;
                if (!s_digits (text, len, &pos, 2, &off_m) || pos != len)
                    return -1;
            }
            if (off_m > 59 || off_h * 3600 + off_m * 60 > S_MAX_OFFSET_S)
                return -1;
            offset_s = (off_h * 3600 + off_m * 60) * (c == '-' ? -1 : 1);
        }
        else
            return -1;
    }
    int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    *us = seconds * S_US_PER_SEC + fraction_us;
    return 0;
}

int32_t
zetl_time_days (int64_t us)
{
    int64_t rem;
    return (int32_t) s_floor_div (us, S_US_PER_DAY, &rem);
}

int
zetl_time_parse_date (const char *text, size_t len, int32_t *days)
{
    if (!text || !days)
        return -1;
    int64_t us;
    if (zetl_time_parse_iso8601 (text, len, &us) != 0)
        return -1;
    *days = zetl_time_days (us);
    return 0;
}

//  glibc's strptime has no %f; split FORMAT there so we can read the fraction
//  ourselves. Returns a pointer to "%f" in FORMAT, or NULL.
static const char *
s_find_fraction (const char *format, bool *has_epoch)
{
    *has_epoch = false;
    for (const char *p = format; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        //  Skip glibc's E and O modifiers (%Ey, %OH)
        if (*p == 'E' || *p == 'O')
            p++;
        if (*p == 'f')
            return p - 1;
        if (*p == 's')
            *has_epoch = true;
        if (*p == '\0')
            break;
    }
    return NULL;
}

int
zetl_time_parse_strftime (const char *text, size_t len, const char *format, int64_t *us)
{
    if (!text || !format || !us || len >= S_STRFTIME_MAX || memchr (text, '\0', len))
        return -1;
    char input[S_STRFTIME_MAX];
    memcpy (input, text, len);
    input[len] = '\0';

    bool has_epoch;
    const char *fraction_at = s_find_fraction (format, &has_epoch);
    //  %s goes through localtime in glibc: its result would depend on TZ
    if (has_epoch)
        return -1;
    char head[256];
    const char *tail = NULL;
    if (fraction_at) {
        size_t head_len = (size_t) (fraction_at - format);
        if (head_len >= sizeof head)
            return -1;
        memcpy (head, format, head_len);
        head[head_len] = '\0';
        tail = fraction_at + 2;
    }
    struct tm tm;
    memset (&tm, 0, sizeof tm);
    tm.tm_year = 70;  //  Fields the format leaves out default to 1970-01-01 00:00:00 UTC
    tm.tm_mday = 1;
    tm.tm_gmtoff = 0;
    const char *rest = strptime (input, fraction_at ? head : format, &tm);
    if (!rest)
        return -1;
    int64_t fraction_us = 0;
    if (fraction_at) {
        int digits = 0;
        int64_t scale = 100000;
        while (*rest >= '0' && *rest <= '9') {
            if (++digits > 9)
                return -1;
            fraction_us += (*rest - '0') * scale;
            scale /= 10;
            rest++;
        }
        if (digits == 0)
            return -1;
        if (*tail) {
            rest = strptime (rest, tail, &tm);
            if (!rest)
                return -1;
        }
    }
    if (*rest != '\0')
        return -1;

    int64_t year = (int64_t) tm.tm_year + 1900;
    int month = tm.tm_mon + 1;
    if (!s_valid_date (year, month, tm.tm_mday) || tm.tm_hour < 0 || tm.tm_hour > 23 ||
        tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 59)
        return -1;
    if (tm.tm_gmtoff > S_MAX_OFFSET_S || tm.tm_gmtoff < -S_MAX_OFFSET_S)
        return -1;
    int64_t seconds = s_days_from_civil (year, month, tm.tm_mday) * 86400 + tm.tm_hour * 3600 +
                      tm.tm_min * 60 + tm.tm_sec - (int64_t) tm.tm_gmtoff;
    *us = seconds * S_US_PER_SEC + fraction_us;
    return 0;
}

int
zetl_time_parse_unix_ms (const char *text, size_t len, int64_t *us)
{
    if (!text || !us || len == 0)
        return -1;
    //  0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z, as elsewhere in zetl
    const int64_t min_ms = INT64_C (-62135596800000);
    const int64_t max_ms = INT64_C (253402300799999);
    size_t pos = 0;
    bool negative = text[0] == '-';
    if (negative)
        pos++;
    if (pos == len || len - pos > 15)
        return -1;
    int64_t ms = 0;
    for (; pos < len; pos++) {
        if (text[pos] < '0' || text[pos] > '9')
            return -1;
        ms = ms * 10 + (text[pos] - '0');
    }
    if (negative)
        ms = -ms;
    if (ms < min_ms || ms > max_ms)
        return -1;
    *us = ms * 1000;
    return 0;
}

//  "00" to "99": two digits per lookup, no division when writing
static const char s_pairs[201] = "0001020304050607080910111213141516171819"
                                 "2021222324252627282930313233343536373839"
                                 "4041424344454647484950515253545556575859"
                                 "6061626364656667686970717273747576777879"
                                 "8081828384858687888990919293949596979899";

static char *
s_put2 (char *p, uint32_t v)
{
    memcpy (p, s_pairs + 2 * v, 2);
    return p + 2;
}

#define S_DAYS_0000 INT64_C (-719528)  //  0000-01-01
#define S_DAYS_9999 INT64_C (2932896)  //  9999-12-31

//  The civil date of day Z, for 0000-01-01 <= Z <= 9999-12-31 only. The
//  same calendar as s_civil_from_days, by Neri and Schneider's Euclidean
//  affine functions ("Euclidean affine functions and their application to
//  calendar algorithms", 2022): 32-bit multiplications and shifts instead of
//  64-bit divisions, since writing COPY text formats a date per value
static void
s_civil_fast (int64_t z, uint32_t *y_p, uint32_t *m_p, uint32_t *d_p)
{
    //  Shift day 0 to 0000-03-01 of a year far enough back that N is never
    //  negative (82 cycles of 400 years): unsigned arithmetic throughout
    const uint32_t shift_cycles = 82;
    uint32_t n = (uint32_t) (z + 719468 + 146097 * shift_cycles);
    uint32_t n1 = 4 * n + 3;
    uint32_t century = n1 / 146097;
    uint32_t day_of_century = n1 % 146097 / 4;
    uint32_t n2 = 4 * day_of_century + 3;
    uint64_t p2 = (uint64_t) 2939745 * n2;
    uint32_t year_of_century = (uint32_t) (p2 >> 32);
    uint32_t day_of_year = (uint32_t) p2 / 2939745 / 4;  //  From March 1st
    uint32_t n3 = 2141 * day_of_year + 197913;
    uint32_t month = n3 >> 16;                          //  March = 3 .. February = 14
    uint32_t january = day_of_year >= 306;              //  January or February: next year
    *y_p = 100 * century + year_of_century - 400 * shift_cycles + january;
    *m_p = january ? month - 12 : month;
    *d_p = (n3 & 0xFFFF) / 2141 + 1;
}

//  Write "YYYY-MM-DD" into P; returns the end. Years outside 0..9999 (never
//  parsed, only reachable from arbitrary int64 values) are written in full.
static char *
s_put_date (char *p, int64_t days)
{
    uint32_t y, m, d;
    if (days >= S_DAYS_0000 && days <= S_DAYS_9999)
        s_civil_fast (days, &y, &m, &d);
    else {
        int64_t year;
        int month, day;
        s_civil_from_days (days, &year, &month, &day);
        p += sprintf (p, "%lld", (long long) year);
        *p++ = '-';
        p = s_put2 (p, (uint32_t) month);
        *p++ = '-';
        return s_put2 (p, (uint32_t) day);
    }
    p = s_put2 (p, y / 100);
    p = s_put2 (p, y % 100);
    *p++ = '-';
    p = s_put2 (p, m);
    *p++ = '-';
    return s_put2 (p, d);
}

//  Copy the LEN bytes at TEXT into BUF of SIZE, snprintf-like but returning
//  the length actually written
static size_t
s_copy_out (const char *text, size_t len, char *buf, size_t size)
{
    if (!buf || size == 0)
        return 0;
    if (len >= size)
        len = size - 1;
    memcpy (buf, text, len);
    buf[len] = '\0';
    return len;
}

//  Longest text s_format writes, with the NUL: a 7-character year (the most
//  an int64 of microseconds reaches, sign included) and a 3-character zone
#define S_FORMAT_MAX 40

static size_t
s_format (int64_t us, char sep, const char *zone, size_t zone_len, char *buf, size_t size)
{
    //  Write straight into BUF when it surely has room (COPY text always
    //  does), else into TEXT and copy what fits
    char text[S_FORMAT_MAX];
    char *start = buf && size >= S_FORMAT_MAX ? buf : text;
    int64_t rem;
    int64_t days = s_floor_div (us, S_US_PER_DAY, &rem);
    char *p = s_put_date (start, days);
    uint32_t secs = (uint32_t) (rem / S_US_PER_SEC);  //  [0, 86400)
    uint32_t frac = (uint32_t) (rem - (int64_t) secs * S_US_PER_SEC);
    *p++ = sep;
    p = s_put2 (p, secs / 3600);
    *p++ = ':';
    p = s_put2 (p, secs / 60 % 60);
    *p++ = ':';
    p = s_put2 (p, secs % 60);
    *p++ = '.';
    p = s_put2 (p, frac / 10000);
    p = s_put2 (p, frac / 100 % 100);
    p = s_put2 (p, frac % 100);
    memcpy (p, zone, zone_len);
    p += zone_len;
    if (start == buf) {
        *p = '\0';
        return (size_t) (p - buf);
    }
    return s_copy_out (text, (size_t) (p - text), buf, size);
}

size_t
zetl_time_format_pg (int64_t us, char *buf, size_t size)
{
    return s_format (us, ' ', "+00", 3, buf, size);
}

size_t
zetl_time_format_iso (int64_t us, char *buf, size_t size)
{
    return s_format (us, 'T', "Z", 1, buf, size);
}

size_t
zetl_time_format_date (int32_t days, char *buf, size_t size)
{
    //  An int32 of days reaches an 8-character year, sign included
    char text[S_FORMAT_MAX];
    if (buf && size >= S_FORMAT_MAX) {
        char *p = s_put_date (buf, days);
        *p = '\0';
        return (size_t) (p - buf);
    }
    char *p = s_put_date (text, days);
    return s_copy_out (text, (size_t) (p - text), buf, size);
}

int64_t
zetl_time_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * S_US_PER_SEC + now.tv_nsec / 1000;
}
