/*  config_fixtures.h - what the zetl_config tests share

    Most cases build a YAML text from s_template with one extra line in one of
    four slots (cluster, pipeline, schema column, sink), or from s_producer (a
    pipeline fed by producers, given its schema and sinks), so every message
    can be checked byte for byte, line number included. Cases that repeat are
    tables run by one loop.
*/
#ifndef ZETL_CONFIG_FIXTURES_H_INCLUDED
#define ZETL_CONFIG_FIXTURES_H_INCLUDED

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zetl_config.h"

#define S_NAME "pipeline.yaml"

//  Lines 3, 9, 15 and 20 are the slots: a line is dropped in there, or a comment
static const char *s_template = "cluster:\n"                                            //  1
                                "  name: test\n"                                        //  2
                                "%s\n"                                                  //  3
                                "pipelines:\n"                                          //  4
                                "  - id: bookings\n"                                    //  5
                                "    source: { type: file, path: data/b.jsonl }\n"      //  6
                                "    partition_key: hotel_id\n"                         //  7
                                "    event_time: { field: updated_at }\n"               //  8
                                "%s\n"                                                  //  9
                                "    schema:\n"                                         //  10
                                "      booking_id: { type: string, required: true }\n"  //  11
                                "      hotel_id: { type: int }\n"                       //  12
                                "      updated_at: { type: timestamp }\n"               //  13
                                "      check_in: { type: date }\n"                      //  14
                                "%s\n"                                                  //  15
                                "    sinks:\n"                                          //  16
                                "      - type: postgres\n"                              //  17
                                "        table: bookings\n"                             //  18
                                "        primary_key: [booking_id]\n"                   //  19
                                "%s\n";                                                 //  20

enum { S_CLUSTER, S_PIPELINE, S_COLUMN, S_SINK };

//  The template with LINE in SLOT. Caller frees.
static inline char *
s_yaml (int slot, const char *line)
{
    const char *lines[4] = {"  # cluster", "    # pipeline", "      # column", "        # sink"};
    if (line)
        lines[slot] = line;
    size_t size = strlen (s_template) + 1;
    for (int index = 0; index < 4; index++)
        size += strlen (lines[index]);
    char *text = malloc (size);
    assert_non_null (text);
    snprintf (text, size, s_template, lines[0], lines[1], lines[2], lines[3]);
    return text;
}

static inline zetl_config_t *
s_parse (const char *text, char **error)
{
    return zetl_config_parse (text, strlen (text), S_NAME, error);
}

//  TEXT must load; returns the configuration
static inline zetl_config_t *
s_expect_ok (const char *text)
{
    char *error = NULL;
    zetl_config_t *config = s_parse (text, &error);
    if (!config)
        fail_msg ("refused: %s\n--- text:\n%s", error, text);
    assert_null (error);
    return config;
}

//  TEXT must be refused with exactly EXPECTED
static inline void
s_expect_error (const char *text, const char *expected)
{
    char *error = NULL;
    zetl_config_t *config = s_parse (text, &error);
    if (config)
        fail_msg ("accepted, expected: %s\n--- text:\n%s", expected, text);
    assert_non_null (error);
    if (strcmp (error, expected))
        fail_msg ("got:      %s\nexpected: %s", error, expected);
    free (error);
}

static inline void
s_slot_ok (int slot, const char *line)
{
    char *text = s_yaml (slot, line);
    zetl_config_t *config = s_expect_ok (text);
    zetl_config_destroy (&config);
    free (text);
}

static inline void
s_slot_error (int slot, const char *line, const char *expected)
{
    char *text = s_yaml (slot, line);
    s_expect_error (text, expected);
    free (text);
}

//  A pipeline fed by producers: "pipelines:", the pipeline's id p and its
//  source, partition_key KEY, the event_time field TIME_FIELD, then the
//  SCHEMA and SINKS lines (each ending in a newline). Caller frees.
static inline char *
s_producer (const char *key, const char *time_field, const char *schema, const char *sinks)
{
    char *text = NULL;
    assert_true (asprintf (&text,
                           "pipelines:\n"
                           "  - id: p\n"
                           "    source: { type: producer }\n"
                           "    partition_key: %s\n"
                           "    event_time: { field: %s }\n"
                           "%s%s",
                           key, time_field, schema, sinks) > 0);
    return text;
}

//  The SCHEMA and SINKS lines most s_producer cases use
#define S_ONE_COLUMN "    schema: { k: { type: timestamp } }\n"
#define S_FILES_SINK "    sinks: [{ type: files, path: out }]\n"

static inline void
s_producer_error (const char *key, const char *time_field, const char *schema, const char *sinks,
                  const char *expected)
{
    char *text = s_producer (key, time_field, schema, sinks);
    s_expect_error (text, expected);
    free (text);
}

#define S_COUNT(array) (sizeof (array) / sizeof (array)[0])

//  The environment must not leak into the cases that read postgres: and
//  redis: from the file: each main calls this first
static inline void
s_clear_environment (void)
{
    unsetenv ("ZETL_POSTGRES");
    unsetenv ("ZETL_REDIS");
}

#endif
