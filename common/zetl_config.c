/*  zetl_config - the pipeline configuration: one YAML file, parsed and checked once

    zetl_config_parse turns the text into a node tree (zetl_config_tree),
    then walks it (zetl_config_walk) with the top-level option table
    (zetl_config_tables), which holds one table per section; the same
    tables apply defaults, check types and ranges, refuse unknown keys, free
    the result and write docs/CONFIG.md (zetl_config_doc), so the parser,
    the defaults and the reference cannot disagree. Checks that span
    sections run once a whole pipeline is read. The first error wins: the
    walk stops there and the message names the file, the line and the key.
*/
#include "zetl_config.h"
#include "zetl_config_tables.h"
#include "zetl_config_text.h"
#include "zetl_config_tree.h"
#include "zetl_config_walk.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define S_FILE_MAX (16 * 1024 * 1024)  //  the text travels in HELLO replies: keep it small

const zetl_pipeline_t *
zetl_config_pipeline (const zetl_config_t *self, const char *id)
{
    assert (self);
    assert (id);
    for (size_t index = 0; index < self->pipeline_count; index++)
        if (!strcmp (self->pipelines[index].id, id))
            return &self->pipelines[index];
    return NULL;
}

int
zetl_pipeline_field_index (const zetl_pipeline_t *pipeline, const char *name)
{
    assert (pipeline);
    if (!name)
        return -1;
    for (size_t index = 0; index < pipeline->field_count; index++)
        if (!strcmp (pipeline->fields[index].name, name))
            return (int) index;
    return -1;
}

void
zetl_config_destroy (zetl_config_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_config_t *self = *self_p;
        //  Target names are derived, not read, so the tables do not know them
        for (size_t index = 0; self->pipelines && index < self->pipeline_count; index++) {
            zetl_pipeline_t *pipeline = &self->pipelines[index];
            for (size_t target = 0; pipeline->targets && target < pipeline->target_count; target++)
                free (pipeline->targets[target].name);
        }
        zetl_config_walk_free (zetl_config_top_options, self);
        free (self->path);
        free (self->text);
        free (self);
        *self_p = NULL;
    }
}

//  Replace *SLOT with the value of environment variable NAME, if set
static void
s_apply_variable (char **slot, const char *name)
{
    //  Each process reaches PostgreSQL and Redis its own way; an empty variable counts as unset
    const char *value = getenv (name);
    if (value && *value) {
        free (*slot);
        *slot = zetl_config_strdup (value);
    }
}

//  Read the document in SELF's text; returns the first error, or NULL
static char *
s_read (zetl_config_t *self, const char *name)
{
    char *error = NULL;
    zetl_config_tree_t *tree = zetl_config_tree_new (self->text, self->text_len, name, &error);
    if (!tree)
        return error;
    const zetl_config_node_t *root = zetl_config_tree_root (tree);
    zetl_config_walk_t walk = {.name = name};
    if (!root)
        walk.error = zetl_config_printf ("%s:1: the document is empty; it needs at least "
                                         "pipelines: (see docs/examples/bookings.yaml)",
                                         name);
    else
        zetl_config_walk_section (&walk, zetl_config_top_options, root, self, "");
    zetl_config_tree_destroy (&tree);
    return walk.error;
}

zetl_config_t *
zetl_config_parse (const char *text, size_t len, const char *name, char **error)
{
    assert (text || len == 0);
    if (!name)
        name = "(config)";
    if (error)
        *error = NULL;
    zetl_config_t *self = (zetl_config_t *) zetl_config_alloc (1, sizeof (zetl_config_t));
    self->path = zetl_config_strdup (name);
    self->text = (char *) zetl_config_alloc (1, len + 1);
    if (len)
        memcpy (self->text, text, len);
    self->text_len = len;
    self->hash = XXH3_64bits (self->text, len);

    char *message = s_read (self, name);
    if (message) {
        if (error)
            *error = message;
        else
            free (message);
        zetl_config_destroy (&self);
        return NULL;
    }
    s_apply_variable (&self->postgres, "ZETL_POSTGRES");
    s_apply_variable (&self->redis, "ZETL_REDIS");
    return self;
}

//  Read FILE, at most S_FILE_MAX bytes and one more, into *TEXT (caller
//  frees) and *LEN. Returns 0, or an errno.
static int
s_read_file (FILE *file, char **text, size_t *len)
{
    size_t capacity = 64 * 1024;
    *text = (char *) zetl_config_alloc (1, capacity);
    *len = 0;
    for (;;) {
        if (*len == capacity) {
            capacity *= 2;
            char *larger = (char *) realloc (*text, capacity);
            if (!larger)
                ZETL_CONFIG_OUT_OF_MEMORY ();
            *text = larger;
        }
        size_t got = fread (*text + *len, 1, capacity - *len, file);
        *len += got;
        if (*len > S_FILE_MAX || got == 0)
            break;
    }
    return ferror (file) ? errno : 0;
}

zetl_config_t *
zetl_config_load (const char *path, char **error)
{
    assert (path);
    if (error)
        *error = NULL;
    FILE *file = fopen (path, "rb");
    if (!file) {
        if (error)
            *error = zetl_config_printf ("cannot read %s: %s; check the path given to --config",
                                         path, strerror (errno));
        return NULL;
    }
    char *text;
    size_t len;
    int read_error = s_read_file (file, &text, &len);
    fclose (file);
    zetl_config_t *self = NULL;
    char *message = NULL;
    if (read_error)
        message =
            zetl_config_printf ("cannot read %s: %s; check the file", path, strerror (read_error));
    else if (len > S_FILE_MAX)
        message = zetl_config_printf ("%s is larger than %d MiB; a configuration file must be "
                                      "smaller",
                                      path, S_FILE_MAX / (1024 * 1024));
    else
        self = zetl_config_parse (text, len, path, error);
    if (error && message)
        *error = message;
    else
        free (message);
    free (text);
    return self;
}

char *
zetl_endpoint_local (const char *bind)
{
    const char *star = strstr (bind, "://*:");
    if (!star)
        return strdup (bind);
    size_t scheme = (size_t) (star - bind);
    const char *port = star + 5;
    char *local = (char *) malloc (scheme + strlen ("://127.0.0.1:") + strlen (port) + 1);
    assert (local);
    sprintf (local, "%.*s://127.0.0.1:%s", (int) scheme, bind, port);
    return local;
}

int64_t
zetl_source_wait_ms (const zetl_source_t *source, int64_t started_ms)
{
    return zetl_schedule_wait_ms (source->scheduled_by_cron ? &source->cron : NULL,
                                  source->schedule_ms, started_ms);
}

bool
zetl_config_off (const char *endpoint)
{
    return endpoint && strcmp (endpoint, "off") == 0;
}
