/*  zetl_config_option - a key of an option table, and how its value reads (internal to zetl_config)

    Not a public API: only the zetl_config*.c files include this header.
    Each section of the configuration is a table of zetl_config_option_t
    (zetl_config_tables.c), ended by an entry whose key is NULL. This module
    knows each option type: what a value of it looks like, how a scalar value
    reads from text into the section's struct, and how its type, range and
    default are written in messages and in docs/CONFIG.md. zetl_config_walk
    applies a whole table to a YAML mapping. Tables are static and read-only.
*/
#ifndef ZETL_CONFIG_OPTION_H_INCLUDED
#define ZETL_CONFIG_OPTION_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "zetl_config_tree.h"

//  Durations in milliseconds, for the option tables
#define ZETL_CONFIG_SECOND INT64_C (1000)
#define ZETL_CONFIG_MINUTE (60 * ZETL_CONFIG_SECOND)
#define ZETL_CONFIG_HOUR (60 * ZETL_CONFIG_MINUTE)
#define ZETL_CONFIG_DAY (24 * ZETL_CONFIG_HOUR)

typedef enum {
    ZETL_OPT_STRING,       //  non-empty text; VALUES, when set, lists the allowed ones
    ZETL_OPT_NAME,         //  [a-z0-9_-]+, at most 63 bytes
    ZETL_OPT_IDENTIFIER,   //  a SQL identifier (zetl_identifier_valid)
    ZETL_OPT_COLUMN,       //  an identifier naming a column of the pipeline's schema
    ZETL_OPT_ENDPOINT,     //  a ZeroMQ endpoint: tcp://, ipc:// or inproc://
    ZETL_OPT_HOSTPORT,     //  host:port
    ZETL_OPT_INT,          //  int64_t, or uint32_t when the field has 4 bytes; MIN..MAX
    ZETL_OPT_DURATION,     //  int64_t milliseconds; MIN..MAX
    ZETL_OPT_SIZE,         //  int64_t bytes, written with a unit (256MiB); MIN..MAX
    ZETL_OPT_BOOL,         //  true or false
    ZETL_OPT_ENUM,         //  one of VALUES, stored as its index (a C enum)
    ZETL_OPT_CHAR,         //  one ASCII character
    ZETL_OPT_NUMBER,       //  a double; sets the bool at AUX
    ZETL_OPT_TIME_FORMAT,  //  iso8601, unix_ms or a strftime pattern; the pattern goes to AUX
    ZETL_OPT_STRINGS,      //  a non-empty list of distinct strings (char **), count at AUX
    ZETL_OPT_COLUMNS,      //  a non-empty list of distinct schema columns (char **), count at AUX
    ZETL_OPT_PAIRS,        //  a non-empty mapping of distinct names to scalars (char **: name,
                           //  value, name, value…), pair count at AUX
    ZETL_OPT_SECTION,      //  a mapping read with table SUB into the struct at OFFSET
    ZETL_OPT_LIST,         //  a non-empty list of SUB mappings: array at OFFSET, count at AUX
    ZETL_OPT_MAP,          //  a non-empty mapping column -> SUB mapping; the column in the
                           //  element's first field (char *), array at OFFSET, count at AUX
    ZETL_OPT_UNSUPPORTED   //  a key of a later version of zetl: refused by name
} zetl_opt_type_t;

enum {
    ZETL_OPT_REQUIRED = 1,  //  the key must be given
    ZETL_OPT_DISCRIMINATOR =
        2,            //  the section's type: read first, picks the keys that apply (WHEN)
    ZETL_OPT_OFF = 4  //  ENDPOINT, HOSTPORT: "off" is also taken (zetl_config_off)
};

typedef struct zetl_config_walk zetl_config_walk_t;
typedef struct zetl_config_option zetl_config_option_t;

//  Checks element INDEX of ARRAY (a LIST or MAP option's elements, INDEX and
//  those before it read) once read from NODE. Returns 0, or -1 after
//  zetl_config_walk_error.
typedef int (zetl_config_check_fn) (zetl_config_walk_t *walk, const zetl_config_node_t *node,
                                    void *array, size_t index, const char *path);

struct zetl_config_option {
    const char *key;       //  key in the YAML
    zetl_opt_type_t type;  //  how to read and store the value
    const char *def;       //  default, written as in the YAML; NULL: none
    int64_t min;           //  smallest value (INT, DURATION)
    int64_t max;           //  largest value (INT, DURATION); most entries (lists, MAP), 0: any
    size_t offset;         //  the field in the section's struct
    size_t size;           //  sizeof the field
    const char *values;    //  ENUM, STRING: allowed values, "a|b|c"
    const char *when;      //  the key applies only when the section's type is this
    int flags;             //  ZETL_OPT_REQUIRED, ZETL_OPT_DISCRIMINATOR
    size_t aux;            //  offset of the count, the has_ flag or the pattern
    const zetl_config_option_t *sub;  //  SECTION, LIST, MAP: the table of the elements
    size_t elem_size;                 //  LIST, MAP: sizeof an element
    zetl_config_check_fn *check;      //  LIST, MAP: run on each element once read;
                                      //  SECTION: on the section (INDEX 0)
    const char *doc;                  //  one line for docs/CONFIG.md and for messages
};

//  How to write a SQL identifier, for messages that refuse one
#define ZETL_CONFIG_IDENTIFIER_ADVICE                                                              \
    "use lowercase letters, digits and _, starting with a letter or _, at most 63 bytes, not "     \
    "starting with zetl_"

//  OFFSET and SIZE of MEMBER of struct type T, for a table entry
#define ZETL_OPT_FIELD(T, member) offsetof (T, member), sizeof (((T *) 0)->member)
//  MIN, MAX, OFFSET and SIZE of a key that stores nothing
#define ZETL_OPT_NONE 0, 0, 0, 0

//  The node kind a value of TYPE must be. A scalar must also not be null.
zetl_config_kind_t zetl_config_option_kind (zetl_opt_type_t type);

//  What a value of OPT looks like, for "expected X, not Y": "an integer".
//  Caller owns the result.
char *zetl_config_option_expected (const zetl_config_option_t *opt);

//  OPT's type in docs/CONFIG.md: "duration", or "one of `a`, `b`" when it
//  lists its values. Caller owns the result.
char *zetl_config_option_type_name (const zetl_config_option_t *opt);

//  OPT's range into BUF: "100..10000", or "0..1d" for a duration. Returns BUF.
const char *zetl_config_option_range (const zetl_config_option_t *opt, char *buf, size_t size);

//  Read TEXT as a value of scalar option OPT into the struct at BASE,
//  replacing what a default put there. Returns NULL, or a message such as
//  "\"abc\" is not an integer; use 100..10000 (default 1000)" that names no
//  place (caller owns it).
char *zetl_config_option_read (const zetl_config_option_t *opt, const char *text, void *base);

//  Free the text or the list of strings option OPT stored in the struct at
//  BASE, and set its pointers to NULL. Does nothing for other types: the
//  sections, lists and maps are zetl_config_walk_free's.
void zetl_config_option_free (const zetl_config_option_t *opt, void *base);

//  The address OFFSET bytes into BASE: a field of a section's struct.
void *zetl_config_at (void *base, size_t offset);

#endif
