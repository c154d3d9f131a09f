/*  zetl_config_check - the checks that span keys of zetl's configuration (internal to zetl_config)

    See zetl_config_check.h. Each check runs once an element of a list or a
    map (a pipeline, a schema column, a transform step, a sink target) is
    read, and refuses it with a message that names the place of the key.
*/
#include "zetl_config_check.h"
#include "zetl_config.h"
#include "zetl_config_tables.h"
#include "zetl_config_text.h"
#include "zetl_config_walk.h"
#include "zetl_expr.h"

#include <assert.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

//  Where a key's value is, for messages
typedef struct {
    const zetl_config_node_t *node;   //  the value, or NULL when the key is not given
    char path[ZETL_CONFIG_PATH_MAX];  //  the key's path
} s_place_t;

//  The place of KEY in mapping SECTION at PATH
static const s_place_t *
s_place (s_place_t *self, const zetl_config_node_t *section, const char *path, const char *key)
{
    self->node = zetl_config_node_lookup (section, key);
    zetl_config_path_key (self->path, path, key);
    return self;
}

//  The place of item INDEX of LIST at PATH
static const s_place_t *
s_place_item (s_place_t *self, const zetl_config_node_t *list, const char *path, size_t index)
{
    self->node = zetl_config_node_item (list, index);
    zetl_config_path_item (self->path, path, index);
    return self;
}

//  NAME, read AT a place, must be a column of PIPELINE's schema: "is not a
//  column of the schema; use one of: a, b". Sets *COLUMN, unless COLUMN is
//  NULL, to that column (NULL when NAME is: the key is not set).
static int
s_check_column (zetl_config_walk_t *walk, const zetl_pipeline_t *pipeline, const s_place_t *at,
                const char *name, const zetl_field_t **column)
{
    int index = name ? zetl_pipeline_field_index (pipeline, name) : -1;
    if (column)
        *column = index >= 0 ? &pipeline->fields[index] : NULL;
    if (!name || index >= 0)
        return 0;
    char shown[ZETL_CONFIG_SHOW_MAX];
    zetl_config_text_t columns = {NULL, 0};
    for (size_t field = 0; field < pipeline->field_count; field++)
        zetl_config_text_add_item (&columns, pipeline->fields[field].name);
    zetl_config_walk_error (walk, at->node, at->path,
                            "%s is not a column of the schema; use one of: %s",
                            zetl_config_show (name, shown, sizeof shown), columns.data);
    free (columns.data);
    return -1;
}

//  Keys of a schema column that apply to some types only, in the order they are checked
static const struct {
    const char *key;
    bool numeric;  //  int and number columns only; otherwise string columns only
} s_typed_keys[] = {
    {"max_len", false}, {"enum", false}, {"regex", false}, {"min", true}, {"max", true}};

//  PATTERN, read AT a place, must compile as the workers compile it
static int
s_check_regex (zetl_config_walk_t *walk, const s_place_t *at, const char *pattern)
{
    int code;
    PCRE2_SIZE offset;
    pcre2_code *regex = pcre2_compile ((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                       &code, &offset, NULL);
    if (regex) {
        pcre2_code_free (regex);
        return 0;
    }
    PCRE2_UCHAR message[256];
    pcre2_get_error_message (code, message, sizeof message);
    return zetl_config_walk_error (walk, at->node, at->path,
                                   "is not a PCRE2 pattern: %s at character %zu; fix the pattern",
                                   (char *) message, (size_t) offset + 1);
}

int
zetl_config_check_field (zetl_config_walk_t *walk, const zetl_config_node_t *node, void *array,
                         size_t index, const char *path)
{
    const zetl_field_t *field = &((zetl_field_t *) array)[index];
    bool numeric = field->type == ZETL_TYPE_INT || field->type == ZETL_TYPE_NUMBER;
    bool string = field->type == ZETL_TYPE_STRING;
    s_place_t at;
    for (size_t rule = 0; rule < sizeof s_typed_keys / sizeof s_typed_keys[0]; rule++) {
        bool numeric_key = s_typed_keys[rule].numeric;
        bool applies = numeric_key ? numeric : string;
        if (applies || !s_place (&at, node, path, s_typed_keys[rule].key)->node)
            continue;
        return zetl_config_walk_error (walk, at.node, at.path, "%s",
                                       numeric_key ? "applies to int and number columns only; "
                                                     "remove it or use type: int or number"
                                                   : "applies to string columns only; remove it "
                                                     "or use type: string");
    }
    if (field->regex && s_check_regex (walk, s_place (&at, node, path, "regex"), field->regex))
        return -1;
    if (field->has_min && field->has_max && field->min > field->max) {
        s_place (&at, node, path, "max");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "%g is below min %g; make max at least min", field->max,
                                       field->min);
    }
    return 0;
}

//  The names a step's mapping values (cast) or keys (utm) may take
static const char *s_cast_types = "string|int|number|bool|timestamp|date";
static const char *s_utm_roles = "campaign|source|medium|term|content";

//  A step's key and value at item INDEX of its mapping, for messages
static const s_place_t *
s_place_pair (s_place_t *self, const zetl_config_node_t *step, const char *path,
              const char *key, size_t index)
{
    s_place_t mapping;
    s_place (&mapping, step, path, key);
    self->node = zetl_config_node_value (mapping.node, index);
    zetl_config_path_key (self->path, mapping.path,
                          zetl_config_node_key (mapping.node, index)->text);
    return self;
}

//  The pairs of a cast or utm step name known types or roles; a compute
//  step's expressions parse
static int
s_check_step_pairs (zetl_config_walk_t *walk, const zetl_config_node_t *node,
                    const zetl_step_t *step, const char *path, const char *key)
{
    if (step->kind != ZETL_STEP_CAST && step->kind != ZETL_STEP_UTM
        && step->kind != ZETL_STEP_COMPUTE)
        return 0;
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at;
    for (size_t pair = 0; pair < step->count; pair++) {
        const char *name = step->args[2 * pair], *value = step->args[2 * pair + 1];
        s_place_pair (&at, node, path, key, pair);
        if (step->kind == ZETL_STEP_CAST && zetl_config_values_index (s_cast_types, value) < 0)
            return zetl_config_walk_error (walk, at.node, at.path,
                                           "%s is not a type; use one of: string, int, number, "
                                           "bool, timestamp, date",
                                           zetl_config_show (value, shown, sizeof shown));
        if (step->kind == ZETL_STEP_UTM && zetl_config_values_index (s_utm_roles, name) < 0)
            return zetl_config_walk_error (walk, at.node, at.path,
                                           "%s is not a UTM parameter; use campaign, source, "
                                           "medium, term or content",
                                           zetl_config_show (name, shown, sizeof shown));
        if (step->kind == ZETL_STEP_COMPUTE) {
            char *error = NULL;
            zetl_expr_t *expr = zetl_expr_parse (value, &error);
            if (!expr) {
                zetl_config_walk_error (walk, at.node, at.path, "%s in %s", error,
                                        zetl_config_show (value, shown, sizeof shown));
                free (error);
                return -1;
            }
            zetl_expr_destroy (&expr);
        }
    }
    return 0;
}

//  A step gives exactly one of its keys
int
zetl_config_check_step (zetl_config_walk_t *walk, const zetl_config_node_t *node, void *array,
                        size_t index, const char *path)
{
    zetl_step_t *step = &((zetl_step_t *) array)[index];
    size_t given = 0;
    for (int kind = 0; kind < ZETL_STEP_KINDS; kind++)
        if (step->lists[kind]) {
            given++;
            step->kind = (zetl_step_kind_t) kind;
        }
    if (given != 1)
        return zetl_config_walk_error (walk, node, path,
                                       "has %zu steps; give exactly one of trim, lower, upper, "
                                       "default, rename, drop, cast, utc, compute, utm per item",
                                       given);
    step->args = step->lists[step->kind];
    step->count = step->counts[step->kind];
    return s_check_step_pairs (walk, node, step, path, zetl_config_step_options[step->kind].key);
}

//  A forward target connects to the other cluster: its coordinator must be
//  an address to connect to, not one to bind
static int
s_check_forward (zetl_config_walk_t *walk, const zetl_config_node_t *node,
                 const zetl_target_t *target, const char *path)
{
    const char *endpoint = target->coordinator;
    if (strncmp (endpoint, "tcp://", 6) ||
        (strncmp (endpoint + 6, "*:", 2) && strncmp (endpoint + 6, "0.0.0.0:", 8)))
        return 0;
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at;
    s_place (&at, node, path, "coordinator");
    return zetl_config_walk_error (walk, at.node, at.path,
                                   "%s is an address to bind, not one to connect to; give the "
                                   "other cluster's cluster.producers as reached from here, such "
                                   "as tcp://central.example:5570",
                                   zetl_config_show (endpoint, shown, sizeof shown));
}

//  A target is known by its type and where it writes
int
zetl_config_check_target (zetl_config_walk_t *walk, const zetl_config_node_t *node, void *array,
                          size_t index, const char *path)
{
    zetl_target_t *target = &((zetl_target_t *) array)[index];
    if (target->type == ZETL_TARGET_POSTGRES)
        target->name = zetl_config_printf ("postgres:%s", target->table);
    else if (target->type == ZETL_TARGET_FILES)
        target->name = zetl_config_printf ("files:%s", target->path);
    else {
        target->name = zetl_config_printf ("forward:%s/%s", target->coordinator, target->pipeline);
        return s_check_forward (walk, node, target, path);
    }
    return 0;
}

//  Target INDEX of PIPELINE, read from item INDEX of SINKS
static int
s_check_target_columns (zetl_config_walk_t *walk, const zetl_pipeline_t *pipeline,
                        const s_place_t *sinks, size_t index)
{
    const zetl_target_t *target = &pipeline->targets[index];
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at, keys, key;
    s_place_item (&at, sinks->node, sinks->path, index);
    for (size_t other = 0; other < index; other++)
        if (!strcmp (pipeline->targets[other].name, target->name))
            return zetl_config_walk_error (
                walk, at.node, at.path,
                "writes %s, as sinks[%zu] does; a pipeline writes each target once",
                zetl_config_show (target->name, shown, sizeof shown), other);
    if (target->type != ZETL_TARGET_POSTGRES)
        return 0;
    s_place (&keys, at.node, at.path, "primary_key");
    for (size_t column = 0; column < target->primary_key_count; column++)
        if (s_check_column (walk, pipeline, s_place_item (&key, keys.node, keys.path, column),
                            target->primary_key[column], NULL))
            return -1;
    const zetl_field_t *day;
    if (s_check_column (walk, pipeline, s_place (&key, at.node, at.path, "partition_by_day"),
                        target->partition_by_day, &day))
        return -1;
    if (day && day->type != ZETL_TYPE_TIMESTAMP && day->type != ZETL_TYPE_DATE)
        return zetl_config_walk_error (walk, key.node, key.path,
                                       "%s is not a timestamp or date column; partition by a "
                                       "column of type timestamp or date",
                                       zetl_config_show (day->name, shown, sizeof shown));
    return 0;
}

//  A computed field must be a schema column: its type comes from there
static int
s_check_computed (zetl_config_walk_t *walk, const zetl_pipeline_t *pipeline,
                  const s_place_t *transform)
{
    char shown[ZETL_CONFIG_SHOW_MAX];
    for (size_t index = 0; index < pipeline->step_count; index++) {
        const zetl_step_t *step = &pipeline->steps[index];
        for (size_t pair = 0; step->kind == ZETL_STEP_COMPUTE && pair < step->count; pair++) {
            const char *name = step->args[2 * pair];
            if (zetl_pipeline_field_index (pipeline, name) >= 0)
                continue;
            s_place_t item, at;
            s_place_item (&item, transform->node, transform->path, index);
            s_place_pair (&at, item.node, item.path, "compute", pair);
            return zetl_config_walk_error (walk, at.node, at.path,
                                           "%s is not a column of the schema; declare it there "
                                           "with its type, such as %s: { type: number }",
                                           zetl_config_show (name, shown, sizeof shown), name);
        }
    }
    return 0;
}

//  Output fields of the enrichments that the schema lacks become string
//  columns at its end, in the order the enrichments give them
static int
s_add_enriched (zetl_config_walk_t *walk, zetl_pipeline_t *pipeline, const s_place_t *enrich)
{
    char shown[ZETL_CONFIG_SHOW_MAX];
    for (size_t index = 0; index < pipeline->enrich_count; index++) {
        const zetl_enrichment_t *lookup = &pipeline->enrich[index];
        for (size_t pair = 0; pair < lookup->field_count; pair++) {
            const char *name = lookup->fields[2 * pair];
            if (zetl_pipeline_field_index (pipeline, name) >= 0)
                continue;
            if (!zetl_identifier_valid (name)) {
                s_place_t item, at;
                s_place_item (&item, enrich->node, enrich->path, index);
                s_place_pair (&at, item.node, item.path, "fields", pair);
                return zetl_config_walk_error (walk, at.node, at.path,
                                               "%s is not a valid column name; "
                                               ZETL_CONFIG_IDENTIFIER_ADVICE,
                                               zetl_config_show (name, shown, sizeof shown));
            }
            size_t count = pipeline->field_count;
            pipeline->fields =
                (zetl_field_t *) realloc (pipeline->fields, (count + 1) * sizeof (zetl_field_t));
            assert (pipeline->fields);
            memset (&pipeline->fields[count], 0, sizeof (zetl_field_t));
            pipeline->fields[count].name = zetl_config_strdup (name);
            pipeline->fields[count].type = ZETL_TYPE_STRING;
            pipeline->field_count = count + 1;
        }
    }
    return 0;
}

//  A postgres source: its defaults that depend on other keys, and the keys
//  that only make sense together
static int
s_check_postgres_source (zetl_config_walk_t *walk, zetl_pipeline_t *pipeline,
                         const s_place_t *source)
{
    zetl_source_t *self = &pipeline->source;
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at;
    if (!self->updated_at)
        self->updated_at = zetl_config_strdup (pipeline->event_time.field);
    if (!self->page_size)
        self->page_size = 10000;
    for (size_t index = 0; index < self->key_count; index++)
        if (!zetl_identifier_valid (self->key[index]))
            return zetl_config_walk_error (walk, s_place (&at, source->node, source->path, "key")->node,
                                           at.path, "%s is not a valid column name; "
                                           ZETL_CONFIG_IDENTIFIER_ADVICE,
                                           zetl_config_show (self->key[index], shown, sizeof shown));
    if (self->mode == ZETL_EXTRACT_SLIDING_WINDOW && self->lookback_ms == 0)
        return zetl_config_walk_error (walk, source->node, source->path,
                                       "mode sliding_window reads the last lookback of rows; "
                                       "set lookback, such as 24h");
    if (self->delete_missing && self->mode != ZETL_EXTRACT_FULL_REFRESH) {
        s_place (&at, source->node, source->path, "delete_missing");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "needs mode full_refresh: only a whole read of the table "
                                       "knows which keys are gone");
    }
    if (self->delete_missing && !pipeline->delete_field) {
        s_place (&at, source->node, source->path, "delete_missing");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "needs the pipeline's delete_field, the field its delete "
                                       "markers carry; set delete_field: _deleted");
    }
    return 0;
}

//  A postgres or http source: schedule as an interval, page_size's default
static int
s_check_scheduled_source (zetl_config_walk_t *walk, zetl_pipeline_t *pipeline,
                          const s_place_t *source)
{
    zetl_source_t *self = &pipeline->source;
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at;
    self->scheduled_by_cron = zetl_cron_parse (self->schedule, &self->cron) == 0;
    if (self->scheduled_by_cron)
        self->schedule_ms = 0;
    else if (zetl_duration_parse (self->schedule, &self->schedule_ms) != 0
             || self->schedule_ms < 100) {
        s_place (&at, source->node, source->path, "schedule");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "%s is neither an interval of at least 100ms (30s, 1m, "
                                       "6h) nor a cron expression of five fields (\"0 */6 * * *\")",
                                       zetl_config_show (self->schedule, shown, sizeof shown));
    }
    if (self->type == ZETL_SOURCE_POSTGRES)
        return s_check_postgres_source (walk, pipeline, source);
    if (!self->page_size)
        self->page_size = 100;
    if (strncmp (self->url, "http://", 7) && strncmp (self->url, "https://", 8)) {
        s_place (&at, source->node, source->path, "url");
        return zetl_config_walk_error (walk, at.node, at.path,
                                       "%s is not an http:// or https:// URL",
                                       zetl_config_show (self->url, shown, sizeof shown));
    }
    if (self->pagination == ZETL_PAGES_CURSOR && !self->next)
        return zetl_config_walk_error (walk, source->node, source->path,
                                       "pagination cursor needs next, the dotted path of the "
                                       "cursor in a page, such as meta.next_cursor");
    return 0;
}

int
zetl_config_check_pipeline (zetl_config_walk_t *walk, const zetl_config_node_t *node, void *array,
                            size_t index, const char *path)
{
    const zetl_pipeline_t *pipelines = (zetl_pipeline_t *) array, *pipeline = &pipelines[index];
    char shown[ZETL_CONFIG_SHOW_MAX];
    s_place_t at, event_time;
    s_place (&at, node, path, "id");
    for (size_t other = 0; other < index; other++)
        if (!strcmp (pipelines[other].id, pipeline->id))
            return zetl_config_walk_error (
                walk, at.node, at.path,
                "%s is already the id of pipelines[%zu]; pipeline ids must be unique",
                zetl_config_show (pipeline->id, shown, sizeof shown), other);
    if (s_check_column (walk, pipeline, s_place (&at, node, path, "id_field"), pipeline->id_field,
                        NULL) ||
        s_check_column (walk, pipeline, s_place (&at, node, path, "partition_key"),
                        pipeline->partition_key, NULL))
        return -1;

    if (!pipeline->acknowledgements && pipeline->ordered) {
        s_place (&at, node, path, "acknowledgements");
        return zetl_config_walk_error (
            walk, at.node, at.path,
            "ordered: true needs acknowledgements: the order holds only while each partition "
            "waits for its batch to commit");
    }

    //  Watermarks and last-write-wins need a point in time, not a day
    const zetl_field_t *time_column;
    s_place (&event_time, node, path, "event_time");
    if (s_check_column (walk, pipeline, s_place (&at, event_time.node, event_time.path, "field"),
                        pipeline->event_time.field, &time_column))
        return -1;
    if (time_column->type != ZETL_TYPE_TIMESTAMP) {
        char type_name[32];
        return zetl_config_walk_error (
            walk, at.node, at.path,
            "%s is a %s column; event time needs a column of type timestamp",
            zetl_config_show (time_column->name, shown, sizeof shown),
            zetl_config_values_name (zetl_config_field_options[0].values, (int) time_column->type,
                                     type_name, sizeof type_name));
    }
    s_place_t source;
    s_place (&source, node, path, "source");
    if ((pipeline->source.type == ZETL_SOURCE_POSTGRES || pipeline->source.type == ZETL_SOURCE_HTTP)
        && s_check_scheduled_source (walk, &((zetl_pipeline_t *) array)[index], &source))
        return -1;
    s_place_t transform, enrich;
    if (s_check_computed (walk, pipeline, s_place (&transform, node, path, "transform"))
        || s_add_enriched (walk, &((zetl_pipeline_t *) array)[index],
                           s_place (&enrich, node, path, "enrich")))
        return -1;
    s_place_t sinks;
    s_place (&sinks, node, path, "sinks");
    for (size_t target = 0; target < pipeline->target_count; target++)
        if (s_check_target_columns (walk, pipeline, &sinks, target))
            return -1;
    return 0;
}

int
zetl_config_check_autoscaling (zetl_config_walk_t *walk, const zetl_config_node_t *node,
                               void *section, size_t index, const char *path)
{
    (void) index;
    const zetl_autoscaling_t *autoscaling = (const zetl_autoscaling_t *) section;
    if (autoscaling->min_workers <= autoscaling->max_workers)
        return 0;
    s_place_t at;
    s_place (&at, node, path, "min_workers");
    return zetl_config_walk_error (walk, at.node, at.path,
                                   "min_workers (%u) is above max_workers (%u); lower it or "
                                   "raise max_workers",
                                   autoscaling->min_workers, autoscaling->max_workers);
}
