/*  zetl_config_tables - the option tables of zetl's configuration (internal to zetl_config)

    Not a public API: only the zetl_config*.c files include this header.
    One table per section (top level, cluster, pipeline, source, event_time,
    schema column, sink target). The checks that span keys, run once a
    section's keys are read, are zetl_config_check's: the tables name them.
    zetl_config_walk applies the tables when the file is parsed,
    zetl_config_walk_free frees what they stored and
    zetl_config_write_reference writes docs/CONFIG.md from them. Static and
    read-only.
*/
#ifndef ZETL_CONFIG_TABLES_H_INCLUDED
#define ZETL_CONFIG_TABLES_H_INCLUDED

#include "zetl_config_option.h"

//  The keys of the file itself, into a zetl_config_t; sub-tables hang off it
extern const zetl_config_option_t zetl_config_top_options[];
//  A schema column's keys; the first, type, lists the type names in enum order
extern const zetl_config_option_t zetl_config_field_options[];
//  A transform step's keys, one per zetl_step_kind_t, in that order
extern const zetl_config_option_t zetl_config_step_options[];

#endif
