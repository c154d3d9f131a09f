/*  zetl_config_check - the checks that span keys of zetl's configuration (internal to zetl_config)

    Not a public API: only the zetl_config*.c files include this header.
    The option tables (zetl_config_tables) name these checks on their list
    and map options; zetl_config_walk runs one on each element once its keys
    are read. They check what one key cannot: a partition key must be a
    schema column, pipeline ids are unique, a sliding-window source sets
    lookback, and so on. Some also fill in what depends on other keys (a
    target's name, a step's kind, a source's defaults, the string columns
    that enrichments add to the schema). Each returns 0, or -1 after
    zetl_config_walk_error.
*/
#ifndef ZETL_CONFIG_CHECK_H_INCLUDED
#define ZETL_CONFIG_CHECK_H_INCLUDED

#include "zetl_config_option.h"

//  A pipeline: a unique id, its columns in the schema, an event time of type
//  timestamp, its source, transform, enrichments and targets
zetl_config_check_fn zetl_config_check_pipeline;
//  The autoscaling section: min_workers at most max_workers.
zetl_config_check_fn zetl_config_check_autoscaling;

//  A schema column: keys that suit its type, a regex that compiles, min <= max
zetl_config_check_fn zetl_config_check_field;

//  A transform step gives exactly one of its keys, and that key's pairs are valid
zetl_config_check_fn zetl_config_check_step;

//  A target is known by its type and where it writes: sets its name
zetl_config_check_fn zetl_config_check_target;

#endif
