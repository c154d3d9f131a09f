/*  zetl_config_walk - applies an option table to a YAML mapping (internal to zetl_config)

    See zetl_config_walk.h. Lists of strings, lists of sections and maps of
    sections share how they are counted and allocated (s_new_array); lists
    and maps of sections are read by one loop (s_read_elements).
*/
#include "zetl_config_walk.h"
#include "zetl_config.h"
#include "zetl_config_text.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_VALUES_MAX 1000000  //  an alias can repeat a subtree: bound the work

int
zetl_config_walk_error (zetl_config_walk_t *self, const zetl_config_node_t *node, const char *path,
                        const char *format, ...)
{
    if (self->error)
        return -1;
    va_list args;
    va_start (args, format);
    char *message = zetl_config_vprintf (format, args);
    va_end (args);
    size_t line = zetl_config_node_line (node);
    if (*path)
        self->error = zetl_config_printf ("%s:%zu: %s: %s", self->name, line, path, message);
    else
        self->error = zetl_config_printf ("%s:%zu: %s", self->name, line, message);
    free (message);
    return -1;
}

//  Count one more value read from NODE; refuse the document past S_VALUES_MAX
static int
s_count_value (zetl_config_walk_t *self, const zetl_config_node_t *node, const char *path)
{
    if (++self->values <= S_VALUES_MAX)
        return 0;
    return zetl_config_walk_error (self, node, path,
                                   "the document holds more than %d values once its aliases are "
                                   "expanded; use fewer aliases",
                                   S_VALUES_MAX);
}

//  NODE must be a value of OPT's kind: "expected an integer, not a list"
static int
s_check_kind (zetl_config_walk_t *self, const zetl_config_option_t *opt,
              const zetl_config_node_t *node, const char *path)
{
    zetl_config_kind_t kind = zetl_config_option_kind (opt->type);
    if (node->kind == kind && !node->is_null)
        return 0;
    char shown[ZETL_CONFIG_SHOW_MAX];
    char *got;
    if (node->is_null)
        got = zetl_config_strdup ("an empty value");
    else if (node->kind == ZETL_CONFIG_MAPPING)
        got = zetl_config_strdup ("a mapping");
    else if (node->kind == ZETL_CONFIG_LIST)
        got = zetl_config_strdup ("a list");
    else
        got =
            zetl_config_printf ("the value %s", zetl_config_show (node->text, shown, sizeof shown));
    char *expected = zetl_config_option_expected (opt);
    const char *hint = "";
    if (kind != ZETL_CONFIG_SCALAR)
        hint = "; see docs/CONFIG.md";
    else if (node->is_null)
        hint = "; give a value or remove the key";
    zetl_config_walk_error (self, node, path, "expected %s, not %s%s", expected, got, hint);
    free (expected);
    free (got);
    return -1;
}

//  Read scalar NODE as a value of OPT into the struct at BASE
static int
s_read_scalar (zetl_config_walk_t *self, const zetl_config_option_t *opt,
               const zetl_config_node_t *node, void *base, const char *path)
{
    char *message = zetl_config_option_read (opt, node->text, base);
    if (!message)
        return 0;
    zetl_config_walk_error (self, node, path, "%s", message);
    free (message);
    return -1;
}

//  Pair REPEAT of MAPPING has the key of pair EARLIER: "duplicate key"
static int
s_duplicate_key (zetl_config_walk_t *self, const zetl_config_node_t *mapping, size_t repeat,
                 size_t earlier, const char *path)
{
    const zetl_config_node_t *key = zetl_config_node_key (mapping, repeat);
    char child[ZETL_CONFIG_PATH_MAX];
    zetl_config_path_key (child, path, key->text);
    return zetl_config_walk_error (self, key, child, "duplicate key (first at line %zu); keep one",
                                   zetl_config_node_line (zetl_config_node_key (mapping, earlier)));
}

//  Check NODE's entries against OPT (a list or a map), then allocate OPT's
//  array of ELEM_SIZE entries in BASE and set its count. Allocated zeroed and
//  counted first, so destroy frees whatever an error leaves behind. Returns
//  the array, or NULL after an error.
static char *
s_new_array (zetl_config_walk_t *self, const zetl_config_option_t *opt,
             const zetl_config_node_t *node, void *base, const char *path, size_t elem_size)
{
    if (s_check_kind (self, opt, node, path))
        return NULL;
    size_t count = node->count;
    int rc = 0;
    if (count == 0 && opt->type == ZETL_OPT_LIST)
        rc = zetl_config_walk_error (self, node, path, "is empty; add at least one entry (%s)",
                                     opt->doc);
    else if (count == 0 && opt->type == ZETL_OPT_MAP)
        rc = zetl_config_walk_error (self, node, path, "is empty; add at least one column");
    else if (count == 0)
        rc = zetl_config_walk_error (self, node, path,
                                     "is empty; list at least one value or remove the key");
    else if (opt->max && count > (size_t) opt->max)
        rc = zetl_config_walk_error (self, node, path, "has %zu %s; use at most %lld", count,
                                     opt->type == ZETL_OPT_MAP ? "columns" : "entries",
                                     (long long) opt->max);
    if (rc)
        return NULL;
    char **slot = (char **) zetl_config_at (base, opt->offset);
    assert (*slot == NULL);
    *slot = (char *) zetl_config_alloc (count, elem_size);
    memcpy (zetl_config_at (base, opt->aux), &count, sizeof count);
    return *slot;
}

//  A list of distinct strings (STRINGS, COLUMNS)
static int
s_read_strings (zetl_config_walk_t *self, const zetl_config_option_t *opt,
                const zetl_config_node_t *node, void *base, const char *path)
{
    char **array = (char **) s_new_array (self, opt, node, base, path, sizeof (char *));
    if (!array)
        return -1;
    //  Each item is read as one string (or column) stored in its slot of the array
    zetl_config_option_t item_opt = {.type = opt->type == ZETL_OPT_COLUMNS ? ZETL_OPT_COLUMN
                                                                           : ZETL_OPT_STRING};
    char shown[ZETL_CONFIG_SHOW_MAX], item_path[ZETL_CONFIG_PATH_MAX];
    for (size_t index = 0; index < node->count; index++) {
        const zetl_config_node_t *item = zetl_config_node_item (node, index);
        zetl_config_path_item (item_path, path, index);
        if (s_check_kind (self, &item_opt, item, item_path) ||
            s_count_value (self, item, item_path))
            return -1;
        if (!*item->text)
            return zetl_config_walk_error (self, item, item_path, "is empty; give a value");
        item_opt.offset = index * sizeof (char *);
        if (s_read_scalar (self, &item_opt, item, array, item_path))
            return -1;
    }
    size_t earlier = 0, repeat = zetl_config_node_repeat (node, &earlier);
    if (repeat == node->count)
        return 0;
    zetl_config_path_item (item_path, path, repeat);
    return zetl_config_walk_error (self, zetl_config_node_item (node, repeat), item_path,
                                   "%s is listed twice (also at [%zu]); keep one",
                                   zetl_config_show (array[repeat], shown, sizeof shown), earlier);
}

//  A mapping of distinct names to scalar values (PAIRS): stored as name,
//  value, name, value… An empty value is a value: a default may be ""
static int
s_read_pairs (zetl_config_walk_t *self, const zetl_config_option_t *opt,
              const zetl_config_node_t *node, void *base, const char *path)
{
    if (s_check_kind (self, opt, node, path))
        return -1;
    if (node->count == 0)
        return zetl_config_walk_error (self, node, path, "is empty; give at least one name: value");
    if (opt->max && node->count > (size_t) opt->max)
        return zetl_config_walk_error (self, node, path, "has %zu entries; use at most %lld",
                                       node->count, (long long) opt->max);
    size_t earlier = 0, repeat = zetl_config_node_repeat (node, &earlier);
    if (repeat < node->count)
        return s_duplicate_key (self, node, repeat, earlier, path);
    char **array = (char **) zetl_config_alloc (2 * node->count, sizeof (char *));
    *(char ***) zetl_config_at (base, opt->offset) = array;
    memcpy (zetl_config_at (base, opt->aux), &node->count, sizeof node->count);
    zetl_config_option_t value_opt = {.type = ZETL_OPT_STRING};
    char child[ZETL_CONFIG_PATH_MAX];
    for (size_t index = 0; index < node->count; index++) {
        const zetl_config_node_t *key = zetl_config_node_key (node, index);
        const zetl_config_node_t *value = zetl_config_node_value (node, index);
        zetl_config_path_key (child, path, key->text);
        if (s_count_value (self, value, child) || s_check_kind (self, &value_opt, value, child))
            return -1;
        if (!*key->text)
            return zetl_config_walk_error (self, key, child, "has an empty name; give a name");
        array[2 * index] = zetl_config_strdup (key->text);
        array[2 * index + 1] = zetl_config_strdup (value->text);
    }
    return 0;
}

//  The keys of MAP NODE must be distinct names: "duplicate key" wherever a
//  column repeats, before any column is read
static int
s_check_names (zetl_config_walk_t *self, const zetl_config_node_t *node, const char *path)
{
    for (size_t index = 0; index < node->count; index++)
        if (!zetl_config_node_has_name (node, index))
            return zetl_config_walk_error (self, zetl_config_node_key (node, index), path,
                                           "has a key that is not a column name");
    size_t earlier = 0, repeat = zetl_config_node_repeat (node, &earlier);
    return repeat < node->count ? s_duplicate_key (self, node, repeat, earlier, path) : 0;
}

//  Store the name of column INDEX of MAP NODE in the element's first field
//  (see ZETL_OPT_MAP), and its path in CHILD
static int
s_read_column_name (zetl_config_walk_t *self, const zetl_config_node_t *node, size_t index,
                    void *element, const char *path, char *child)
{
    const zetl_config_node_t *key = zetl_config_node_key (node, index);
    zetl_config_path_key (child, path, key->text);
    if (!zetl_identifier_valid (key->text)) {
        char shown[ZETL_CONFIG_SHOW_MAX];
        return zetl_config_walk_error (
            self, key, child, "%s is not a valid column name; " ZETL_CONFIG_IDENTIFIER_ADVICE,
            zetl_config_show (key->text, shown, sizeof shown));
    }
    *(char **) element = zetl_config_strdup (key->text);
    return 0;
}

//  A list of sections (LIST), or a mapping of column names to sections (MAP)
static int
s_read_elements (zetl_config_walk_t *self, const zetl_config_option_t *opt,
                 const zetl_config_node_t *node, void *base, const char *path)
{
    bool map = opt->type == ZETL_OPT_MAP;
    char *array = s_new_array (self, opt, node, base, path, opt->elem_size);
    if (!array || (map && s_check_names (self, node, path)))
        return -1;
    char child[ZETL_CONFIG_PATH_MAX];
    for (size_t index = 0; index < node->count; index++) {
        void *element = array + index * opt->elem_size;
        const zetl_config_node_t *value;
        if (map) {
            if (s_read_column_name (self, node, index, element, path, child))
                return -1;
            value = zetl_config_node_value (node, index);
        }
        else {
            zetl_config_path_item (child, path, index);
            value = zetl_config_node_item (node, index);
        }
        if (zetl_config_walk_section (self, opt->sub, value, element, child) ||
            (opt->check && opt->check (self, value, array, index, child)))
            return -1;
    }
    return 0;
}

static int
s_read_value (zetl_config_walk_t *self, const zetl_config_option_t *opt,
              const zetl_config_node_t *node, void *base, const char *path)
{
    if (s_count_value (self, node, path))
        return -1;
    switch (opt->type) {
    case ZETL_OPT_SECTION:
        if (zetl_config_walk_section (self, opt->sub, node, zetl_config_at (base, opt->offset),
                                      path))
            return -1;
        return opt->check ? opt->check (self, node, zetl_config_at (base, opt->offset), 0, path)
                          : 0;
    case ZETL_OPT_LIST:
    case ZETL_OPT_MAP:
        return s_read_elements (self, opt, node, base, path);
    case ZETL_OPT_STRINGS:
    case ZETL_OPT_COLUMNS:
        return s_read_strings (self, opt, node, base, path);
    case ZETL_OPT_PAIRS:
        return s_read_pairs (self, opt, node, base, path);
    case ZETL_OPT_UNSUPPORTED:
        return zetl_config_walk_error (
            self, node, path, "%s are not supported by this version of zetl; remove the key",
            opt->doc);
    default:
        //  YAML reads a bare null as no value: an enum that has a value
        //  called null takes it as that
        if (opt->type == ZETL_OPT_ENUM && node->kind == ZETL_CONFIG_SCALAR && node->is_null
            && opt->values && zetl_config_values_index (opt->values, "null") >= 0) {
            char *message = zetl_config_option_read (opt, "null", base);
            if (message) {
                zetl_config_walk_error (self, node, path, "%s", message);
                free (message);
                return -1;
            }
            return 0;
        }
        if (s_check_kind (self, opt, node, path))
            return -1;
        return s_read_scalar (self, opt, node, base, path);
    }
}

static bool
s_applies (const zetl_config_option_t *opt, const char *variant)
{
    if (!opt->when)
        return true;
    if (!variant)
        return false;
    //  WHEN lists the variants it applies to: "postgres" or "postgres|http"
    size_t len = strlen (variant);
    for (const char *at = opt->when; at; at = strchr (at, '|'), at = at ? at + 1 : NULL)
        if (!strncmp (at, variant, len) && (at[len] == '|' || at[len] == '\0'))
            return true;
    return false;
}

//  Set every default of TABLE that applies to VARIANT, and those of its
//  sections, so a key left out reads as its default.
static void
s_apply_defaults (const zetl_config_option_t *table, void *base, const char *variant)
{
    for (const zetl_config_option_t *opt = table; opt->key; opt++) {
        if (!s_applies (opt, variant))
            continue;
        if (opt->def) {
            char *message = zetl_config_option_read (opt, opt->def, base);
            assert (!message);  //  A default that does not parse is a bug in the table
            free (message);
        }
        else if (opt->type == ZETL_OPT_SECTION && !(opt->sub[0].flags & ZETL_OPT_DISCRIMINATOR))
            s_apply_defaults (opt->sub, zetl_config_at (base, opt->offset), NULL);
    }
}

static const zetl_config_option_t *
s_find (const zetl_config_option_t *table, const char *key)
{
    for (const zetl_config_option_t *opt = table; opt->key; opt++)
        if (!strcmp (opt->key, key))
            return opt;
    return NULL;
}

//  "unknown key; expected one of: a, b, c"
static int
s_unknown_key (zetl_config_walk_t *self, const zetl_config_option_t *table, const char *variant,
               const zetl_config_node_t *node, const char *path)
{
    zetl_config_text_t keys = {NULL, 0};
    for (const zetl_config_option_t *opt = table; opt->key; opt++)
        if (opt->type != ZETL_OPT_UNSUPPORTED && s_applies (opt, variant))
            zetl_config_text_add_item (&keys, opt->key);
    zetl_config_walk_error (self, node, path, "unknown key; expected one of: %s", keys.data);
    free (keys.data);
    return -1;
}

//  OPT's key is not in mapping NODE at PATH
static int
s_missing_key (zetl_config_walk_t *self, const zetl_config_option_t *opt,
               const zetl_config_node_t *node, const char *path)
{
    char child[ZETL_CONFIG_PATH_MAX];
    zetl_config_path_key (child, path, opt->key);
    return zetl_config_walk_error (self, node, child, "required key is missing; add it (%s)",
                                   opt->doc);
}

//  Read the type of a section whose TYPE_OPT is its discriminator, and put
//  its name (the variant) in BUF
static int
s_read_variant (zetl_config_walk_t *self, const zetl_config_option_t *type_opt,
                const zetl_config_node_t *node, void *base, const char *path, char *buf,
                size_t size)
{
    const zetl_config_node_t *type_node = zetl_config_node_lookup (node, type_opt->key);
    if (!type_node)
        return s_missing_key (self, type_opt, node, path);
    char child[ZETL_CONFIG_PATH_MAX];
    zetl_config_path_key (child, path, type_opt->key);
    if (s_read_value (self, type_opt, type_node, base, child))
        return -1;
    int index;
    memcpy (&index, zetl_config_at (base, type_opt->offset), sizeof index);
    zetl_config_values_name (type_opt->values, index, buf, size);
    return 0;
}

int
zetl_config_walk_section (zetl_config_walk_t *self, const zetl_config_option_t *table,
                          const zetl_config_node_t *node, void *base, const char *path)
{
    if (node->kind != ZETL_CONFIG_MAPPING && !*path)
        return zetl_config_walk_error (self, node, path,
                                       "the document is not a mapping; it must hold keys such as "
                                       "cluster: and pipelines: (see docs/examples/bookings.yaml)");
    const zetl_config_option_t section = {.type = ZETL_OPT_SECTION};
    if (s_check_kind (self, &section, node, path))
        return -1;
    size_t table_size = 0;
    while (table[table_size].key)
        table_size++;
    assert (table_size <= 64);  //  Keys seen are bits of a uint64_t

    //  The type comes first: it decides which other keys apply
    const zetl_config_option_t *type_opt =
        (table[0].flags & ZETL_OPT_DISCRIMINATOR) ? &table[0] : NULL;
    char variant_buf[32];
    const char *variant = type_opt ? variant_buf : NULL;
    if (type_opt &&
        s_read_variant (self, type_opt, node, base, path, variant_buf, sizeof variant_buf))
        return -1;
    s_apply_defaults (table, base, variant);

    uint64_t seen = 0;
    char child[ZETL_CONFIG_PATH_MAX];
    for (size_t index = 0; index < node->count; index++) {
        const zetl_config_node_t *key = zetl_config_node_key (node, index);
        if (!zetl_config_node_has_name (node, index))
            return zetl_config_walk_error (self, key, path,
                                           "has a key that is not a plain name; write keys as "
                                           "name: value");
        size_t earlier = zetl_config_node_earlier_key (node, index);
        if (earlier < index)
            return s_duplicate_key (self, node, index, earlier, path);
        zetl_config_path_key (child, path, key->text);
        const zetl_config_option_t *opt = s_find (table, key->text);
        if (!opt)
            return s_unknown_key (self, table, variant, key, child);
        if (!s_applies (opt, variant))
            return zetl_config_walk_error (
                self, key, child, "is not used by type %s; remove it (it applies to type %s)",
                variant, opt->when);
        seen |= UINT64_C (1) << (opt - table);
        if (opt != type_opt &&  //  The type was read above
            s_read_value (self, opt, zetl_config_node_value (node, index), base, child))
            return -1;
    }
    for (const zetl_config_option_t *opt = table; opt->key; opt++)
        if ((opt->flags & ZETL_OPT_REQUIRED) && s_applies (opt, variant) &&
            !(seen & (UINT64_C (1) << (opt - table))))
            return s_missing_key (self, opt, node, path);
    return 0;
}

void
zetl_config_walk_free (const zetl_config_option_t *table, void *base)
{
    for (const zetl_config_option_t *opt = table; opt->key; opt++) {
        if (opt->type == ZETL_OPT_SECTION)
            zetl_config_walk_free (opt->sub, zetl_config_at (base, opt->offset));
        else if (opt->type == ZETL_OPT_LIST || opt->type == ZETL_OPT_MAP) {
            char **slot = (char **) zetl_config_at (base, opt->offset);
            size_t count;
            memcpy (&count, zetl_config_at (base, opt->aux), sizeof count);
            for (size_t index = 0; *slot && index < count; index++) {
                void *element = *slot + index * opt->elem_size;
                if (opt->type == ZETL_OPT_MAP)
                    free (*(char **) element);
                zetl_config_walk_free (opt->sub, element);
            }
            free (*slot);
            *slot = NULL;
        }
        else
            zetl_config_option_free (opt, base);
    }
}
