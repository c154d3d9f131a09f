/*  zetl_config_option - a key of an option table, and how its value reads (internal to zetl_config)

    See zetl_config_option.h. One row of s_types per option type holds what
    the messages and the reference say about it and which function reads
    it; a reader only decides whether the text is valid and stores it, and
    zetl_config_option_read writes every message from the row, so all types
    word their refusals alike. Also the value syntax the public API offers:
    zetl_duration_parse and zetl_identifier_valid.
*/
#include "zetl_config_option.h"
#include "zetl_config.h"
#include "zetl_config_text.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_NAME_MAX 63  //  names and identifiers, as PostgreSQL's NAMEDATALEN - 1

//  What a reader makes of a text
enum { S_OK = 0, S_INVALID = -1, S_OUT_OF_RANGE = -2, S_EMPTY = -3 };

//  Reads TEXT as a value of OPT into the struct at BASE; returns S_OK or why not
typedef int (s_read_fn) (const zetl_config_option_t *opt, const char *text, void *base);
//  Says whether TEXT is a valid value of a type stored as text
typedef bool (s_valid_fn) (const char *text);

typedef struct {
    const char *name;         //  the type in docs/CONFIG.md
    const char *expected;     //  "expected EXPECTED, not a list"
    zetl_config_kind_t kind;  //  the node a value is
    s_read_fn *read;          //  scalar types: reads a text
    s_valid_fn *valid;        //  types stored as text: checks it, if more than non-empty
    const char *not_a;        //  "VALUE is not NOT_A; ADVICE..."
    const char *advice;       //  then the allowed values, or the range when RANGED
    bool ranged;              //  MIN..MAX apply, and the advice ends with them
    bool hinted;              //  the message ends with " (default X)" when there is one
} s_type_t;

static s_read_fn s_read_text, s_read_integer, s_read_bool, s_read_enum, s_read_char, s_read_number,
    s_read_time_format;
static s_valid_fn s_name_valid, s_endpoint_valid, s_hostport_valid;

// clang-format off
static const s_type_t s_types[] = {
    //                      name, expected, kind, read, valid,
    //                      not_a, advice, ranged, hinted
    [ZETL_OPT_STRING] = {"string", "a string", ZETL_CONFIG_SCALAR, s_read_text, NULL,
        "allowed", "use one of: ", false, true},
    [ZETL_OPT_NAME] = {"name", "a name", ZETL_CONFIG_SCALAR, s_read_text, s_name_valid,
        "a valid name", "use lowercase letters, digits, _ and -, at most 63 bytes", false, false},
    [ZETL_OPT_IDENTIFIER] = {"identifier", "an identifier", ZETL_CONFIG_SCALAR, s_read_text,
        zetl_identifier_valid, "a valid identifier", ZETL_CONFIG_IDENTIFIER_ADVICE, false, false},
    [ZETL_OPT_COLUMN] = {"column", "a column name", ZETL_CONFIG_SCALAR, s_read_text,
        zetl_identifier_valid, "a valid identifier", ZETL_CONFIG_IDENTIFIER_ADVICE, false, false},
    [ZETL_OPT_ENDPOINT] = {"endpoint", "an endpoint such as tcp://*:5570", ZETL_CONFIG_SCALAR,
        s_read_text, s_endpoint_valid, "a ZeroMQ endpoint",
        "use tcp://host:port, ipc://path or inproc://name", false, true},
    [ZETL_OPT_HOSTPORT] = {"host:port", "host:port", ZETL_CONFIG_SCALAR, s_read_text,
        s_hostport_valid, "host:port", "use an address and a port such as 127.0.0.1:8080", false,
        true},
    [ZETL_OPT_INT] = {"int", "an integer", ZETL_CONFIG_SCALAR, s_read_integer, NULL,
        "an integer", "use ", true, true},
    [ZETL_OPT_DURATION] = {"duration", "a duration such as 15m", ZETL_CONFIG_SCALAR, s_read_integer,
        NULL, "a duration", "use a whole number and a unit (ms, s, m, h, d) in ", true, true},
    [ZETL_OPT_SIZE] = {"size", "a size such as 256MiB", ZETL_CONFIG_SCALAR, s_read_integer,
        NULL, "a size", "use a whole number and a unit (B, KiB, MiB, GiB) in ", true, true},
    [ZETL_OPT_BOOL] = {"bool", "true or false", ZETL_CONFIG_SCALAR, s_read_bool, NULL,
        "a bool", "use true or false", false, true},
    [ZETL_OPT_ENUM] = {"enum", "one of the values", ZETL_CONFIG_SCALAR, s_read_enum, NULL,
        "allowed", "use one of: ", false, true},
    [ZETL_OPT_CHAR] = {"character", "one character", ZETL_CONFIG_SCALAR, s_read_char, NULL,
        "a single character", "use one ASCII character other than a quote or a line break, such "
        "as , or ; or \"\\t\"", false, true},
    [ZETL_OPT_NUMBER] = {"number", "a number", ZETL_CONFIG_SCALAR, s_read_number, NULL,
        "a number", "use a decimal such as 0 or 12.5", false, false},
    [ZETL_OPT_TIME_FORMAT] = {"time format", "iso8601, unix_ms or a strftime pattern",
        ZETL_CONFIG_SCALAR, s_read_time_format, NULL, "a time format", "use iso8601, unix_ms or a "
        "strftime pattern such as \"%Y-%m-%d %H:%M:%S\"", false, true},
    [ZETL_OPT_STRINGS] = {"list of strings", "a list of strings", ZETL_CONFIG_LIST},
    [ZETL_OPT_COLUMNS] = {"list of columns", "a list of column names", ZETL_CONFIG_LIST},
    [ZETL_OPT_PAIRS] = {"mapping of names to values", "a mapping of names to values",
        ZETL_CONFIG_MAPPING},
    [ZETL_OPT_SECTION] = {"mapping", "a mapping", ZETL_CONFIG_MAPPING},
    [ZETL_OPT_LIST] = {"list of mappings", "a list of mappings", ZETL_CONFIG_LIST},
    [ZETL_OPT_MAP] = {"mapping of columns", "a mapping of column names", ZETL_CONFIG_MAPPING},
    [ZETL_OPT_UNSUPPORTED] = {"unsupported", "nothing", ZETL_CONFIG_SCALAR},
};
// clang-format on

//  --------------------------------------------------------------------------
//  Value syntax

//  TEXT is 1 to S_NAME_MAX bytes of lowercase letters, digits and the characters in EXTRA
static bool
s_word_valid (const char *text, const char *extra)
{
    size_t len = strlen (text);
    if (len == 0 || len > S_NAME_MAX)
        return false;
    for (const char *p = text; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr (extra, *p)))
            return false;
    return true;
}

static bool
s_name_valid (const char *name)
{
    return s_word_valid (name, "_-");
}

bool
zetl_identifier_valid (const char *name)
{
    //  zetl_ names are zetl's own columns and tables (zetl_hash, zetl_offsets, ...)
    return name && s_word_valid (name, "_") && !(name[0] >= '0' && name[0] <= '9') &&
           strncmp (name, "zetl_", 5);
}

static bool
s_endpoint_valid (const char *text)
{
    const char *rest = NULL;
    if (!strncmp (text, "tcp://", 6) && strchr (text + 6, ':'))
        rest = text + 6;
    else if (!strncmp (text, "ipc://", 6))
        rest = text + 6;
    else if (!strncmp (text, "inproc://", 9))
        rest = text + 9;
    return rest && *rest;
}

//  Strict decimal integer: optional '-', digits, nothing else
static int
s_parse_int (const char *text, int64_t *value)
{
    const char *digits = text[0] == '-' ? text + 1 : text;
    if (*digits < '0' || *digits > '9')
        return -1;
    errno = 0;
    char *end = NULL;
    long long parsed = strtoll (text, &end, 10);
    if (*end || (errno && errno != ERANGE))
        return -1;  //  On ERANGE, parsed is clamped: out of every range, and said so
    *value = (int64_t) parsed;
    return 0;
}

static bool
s_hostport_valid (const char *text)
{
    const char *colon = strrchr (text, ':');
    int64_t port = 0;
    //  Port 0: any free port (the process logs the one it got)
    return colon && colon != text && s_parse_int (colon + 1, &port) == 0 && colon[1] != '-' &&
           port >= 0 && port <= 65535;
}

//  Units of durations (in ms) and sizes (in bytes), largest first
typedef struct {
    const char *name;
    int64_t value;
} s_unit_t;
static const s_unit_t s_duration_units[] = {{"d", ZETL_CONFIG_DAY},   {"h", ZETL_CONFIG_HOUR},
                                            {"m", ZETL_CONFIG_MINUTE}, {"s", ZETL_CONFIG_SECOND},
                                            {"ms", 1},                 {NULL, 0}};
static const s_unit_t s_size_units[] = {{"GiB", 1LL << 30}, {"MiB", 1LL << 20}, {"KiB", 1LL << 10},
                                        {"B", 1},           {NULL, 0}};

//  A whole number followed by one of UNITS ("0" alone is zero)
static int
s_parse_units (const char *text, const s_unit_t *units, int64_t *value)
{
    if (!text || !value || *text < '0' || *text > '9')
        return -1;
    int64_t count = 0;
    const char *p = text;
    for (; *p >= '0' && *p <= '9'; p++) {
        int digit = *p - '0';
        if (count > (INT64_MAX - digit) / 10)
            return -1;
        count = count * 10 + digit;
    }
    int64_t unit = 0;
    if (!*p && count == 0)
        unit = 1;  //  "0" needs no unit: zero is zero in any unit
    for (const s_unit_t *candidate = units; candidate->name; candidate++)
        if (!strcmp (p, candidate->name))
            unit = candidate->value;
    if (unit == 0 || count > INT64_MAX / unit)
        return -1;
    *value = count * unit;
    return 0;
}

int
zetl_duration_parse (const char *text, int64_t *ms)
{
    return s_parse_units (text, s_duration_units, ms);
}

int
zetl_size_parse (const char *text, int64_t *bytes)
{
    return s_parse_units (text, s_size_units, bytes);
}

//  VALUE in the largest whole unit: 90d, 15m, 100ms, 256MiB, 0
static const char *
s_format_units (int64_t value, const s_unit_t *units, char *buf, size_t size)
{
    if (value == 0)
        snprintf (buf, size, "0");
    else
        for (const s_unit_t *unit = units; unit->name; unit++)
            if (value % unit->value == 0) {
                snprintf (buf, size, "%lld%s", (long long) (value / unit->value), unit->name);
                break;
            }
    return buf;
}

//  --------------------------------------------------------------------------
//  Readers: each checks the text, then stores it in the struct at BASE

void *
zetl_config_at (void *base, size_t offset)
{
    return (char *) base + offset;
}

static void
s_set_string (void *base, size_t offset, const char *text)
{
    char **slot = (char **) zetl_config_at (base, offset);
    free (*slot);
    *slot = text ? zetl_config_strdup (text) : NULL;
}

//  STRING, NAME, IDENTIFIER, COLUMN, ENDPOINT, HOSTPORT: the text itself
static int
s_read_text (const zetl_config_option_t *opt, const char *text, void *base)
{
    if (opt->type == ZETL_OPT_STRING && !*text)
        return S_EMPTY;
    s_valid_fn *valid = s_types[opt->type].valid;
    bool off = (opt->flags & ZETL_OPT_OFF) && zetl_config_off (text);
    if ((valid && !off && !valid (text)) ||
        (opt->values && zetl_config_values_index (opt->values, text) < 0))
        return S_INVALID;
    s_set_string (base, opt->offset, text);
    return S_OK;
}

//  Store VALUE, which has SIZE bytes, in OPT's field
static int
s_store (const zetl_config_option_t *opt, void *base, const void *value, size_t size)
{
    assert (opt->size == size);
    memcpy (zetl_config_at (base, opt->offset), value, size);
    return S_OK;
}

//  INT, DURATION and SIZE
static int
s_read_integer (const zetl_config_option_t *opt, const char *text, void *base)
{
    int64_t value;
    int rc = opt->type == ZETL_OPT_INT        ? s_parse_int (text, &value)
             : opt->type == ZETL_OPT_DURATION ? zetl_duration_parse (text, &value)
                                              : zetl_size_parse (text, &value);
    if (rc)
        return S_INVALID;
    if (value < opt->min || value > opt->max)
        return S_OUT_OF_RANGE;
    if (opt->size == sizeof (int64_t))
        return s_store (opt, base, &value, sizeof value);
    assert (opt->type == ZETL_OPT_INT && opt->min >= 0 && opt->max <= UINT32_MAX);
    uint32_t narrow = (uint32_t) value;
    return s_store (opt, base, &narrow, sizeof narrow);
}

static int
s_read_bool (const zetl_config_option_t *opt, const char *text, void *base)
{
    bool value;
    if (!strcmp (text, "true") || !strcmp (text, "True") || !strcmp (text, "TRUE"))
        value = true;
    else if (!strcmp (text, "false") || !strcmp (text, "False") || !strcmp (text, "FALSE"))
        value = false;
    else
        return S_INVALID;
    return s_store (opt, base, &value, sizeof value);
}

static int
s_read_enum (const zetl_config_option_t *opt, const char *text, void *base)
{
    int index = zetl_config_values_index (opt->values, text);
    if (index < 0)
        return S_INVALID;
    return s_store (opt, base, &index, sizeof index);
}

static int
s_read_char (const zetl_config_option_t *opt, const char *text, void *base)
{
    //  A quote or a line break would make CSV rows ambiguous
    if (strlen (text) != 1 || (unsigned char) text[0] >= 0x80 || text[0] == '"' ||
        text[0] == '\n' || text[0] == '\r')
        return S_INVALID;
    return s_store (opt, base, text, 1);
}

static int
s_read_number (const zetl_config_option_t *opt, const char *text, void *base)
{
    char *end = NULL;
    errno = 0;
    double value = strtod (text, &end);
    //  Decimal only: strtod also takes hex, inf and nan, which are no bounds
    bool decimal = strspn (text, "0123456789+-.eE") == strlen (text);
    if (!*text || *end || errno || !decimal || !isfinite (value))
        return S_INVALID;
    bool given = true;
    memcpy (zetl_config_at (base, opt->aux), &given, sizeof given);
    return s_store (opt, base, &value, sizeof value);
}

static int
s_read_time_format (const zetl_config_option_t *opt, const char *text, void *base)
{
    int kind;
    if (!strcmp (text, "iso8601"))
        kind = ZETL_TIME_ISO8601;
    else if (!strcmp (text, "unix_ms"))
        kind = ZETL_TIME_UNIX_MS;
    else if (strchr (text, '%'))
        kind = ZETL_TIME_STRFTIME;
    else
        return S_INVALID;
    s_set_string (base, opt->aux, kind == ZETL_TIME_STRFTIME ? text : NULL);
    return s_store (opt, base, &kind, sizeof kind);
}

//  --------------------------------------------------------------------------
//  Reading, freeing and describing

char *
zetl_config_option_read (const zetl_config_option_t *opt, const char *text, void *base)
{
    const s_type_t *type = &s_types[opt->type];
    assert (type->read);
    int rc = type->read (opt, text, base);
    if (rc == S_OK)
        return NULL;
    if (rc == S_EMPTY)
        return zetl_config_strdup ("is empty; give a value or remove the key");

    char range[64], hint[64] = "", shown[ZETL_CONFIG_SHOW_MAX];
    if (type->ranged)
        zetl_config_option_range (opt, range, sizeof range);
    if (type->hinted && opt->def)
        snprintf (hint, sizeof hint, "%s (default %s)", opt->flags & ZETL_OPT_OFF ? ", or off" : "",
                  opt->def);
    if (rc == S_OUT_OF_RANGE)
        return zetl_config_printf ("%s is out of range; use %s%s", text, range, hint);
    //  The advice ends with the allowed values, or with the range
    char *values = opt->values ? zetl_config_values_list (opt->values, false) : NULL;
    const char *tail = values ? values : type->ranged ? range : "";
    char *message =
        zetl_config_printf ("%s is not %s; %s%s%s", zetl_config_show (text, shown, sizeof shown),
                            type->not_a, type->advice, tail, hint);
    free (values);
    return message;
}

void
zetl_config_option_free (const zetl_config_option_t *opt, void *base)
{
    if (s_types[opt->type].read == s_read_text)
        s_set_string (base, opt->offset, NULL);
    else if (opt->type == ZETL_OPT_TIME_FORMAT)
        s_set_string (base, opt->aux, NULL);
    else if (opt->type == ZETL_OPT_STRINGS || opt->type == ZETL_OPT_COLUMNS
             || opt->type == ZETL_OPT_PAIRS) {
        char ***slot = (char ***) zetl_config_at (base, opt->offset);
        size_t count;
        memcpy (&count, zetl_config_at (base, opt->aux), sizeof count);
        if (opt->type == ZETL_OPT_PAIRS)
            count *= 2;
        for (size_t index = 0; *slot && index < count; index++)
            free ((*slot)[index]);
        free (*slot);
        *slot = NULL;
    }
}

zetl_config_kind_t
zetl_config_option_kind (zetl_opt_type_t type)
{
    return s_types[type].kind;
}

//  PLAIN, or PREFIX and the list of OPT's values when it has them
static char *
s_describe (const zetl_config_option_t *opt, const char *plain, const char *prefix, bool code)
{
    if (!opt->values)
        return zetl_config_strdup (plain);
    char *list = zetl_config_values_list (opt->values, code);
    char *text = zetl_config_printf ("%s%s", prefix, list);
    free (list);
    return text;
}

char *
zetl_config_option_expected (const zetl_config_option_t *opt)
{
    return s_describe (opt, s_types[opt->type].expected, "one of: ", false);
}

char *
zetl_config_option_type_name (const zetl_config_option_t *opt)
{
    return s_describe (opt, s_types[opt->type].name, "one of ", true);
}

const char *
zetl_config_option_range (const zetl_config_option_t *opt, char *buf, size_t size)
{
    if (opt->type == ZETL_OPT_DURATION || opt->type == ZETL_OPT_SIZE) {
        const s_unit_t *units = opt->type == ZETL_OPT_SIZE ? s_size_units : s_duration_units;
        char low[24], high[24];
        snprintf (buf, size, "%s..%s", s_format_units (opt->min, units, low, sizeof low),
                  s_format_units (opt->max, units, high, sizeof high));
    }
    else
        snprintf (buf, size, "%lld..%lld", (long long) opt->min, (long long) opt->max);
    return buf;
}
