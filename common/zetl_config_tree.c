/*  zetl_config_tree - a YAML text as a tree of nodes that know their line (internal to zetl_config)

    See zetl_config_tree.h. The nodes mirror libyaml's document node for
    node, and scalar texts point into the document, which the tree keeps.
*/
#include "zetl_config_tree.h"
#include "zetl_config_text.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct zetl_config_tree {
    yaml_document_t document;    //  what libyaml read; holds the scalar texts
    zetl_config_node_t *nodes;   //  one per node of the document, in its order
    zetl_config_node_t **links;  //  every node's children, one after the other
    zetl_config_node_t *root;    //  the first node, or NULL for an empty document
    bool loaded;                 //  document holds what libyaml read, to be deleted
};

//  libyaml's error as "NAME:LINE: invalid YAML: PROBLEM ..."
static char *
s_yaml_error (const yaml_parser_t *parser, const char *name, const char *text, size_t len)
{
    if (parser->error == YAML_MEMORY_ERROR)
        ZETL_CONFIG_OUT_OF_MEMORY ();
    const char *problem = parser->problem ? parser->problem : "cannot parse";
    if (parser->error == YAML_READER_ERROR) {
        //  The reader reports a byte offset; count lines up to it
        size_t line = 1;
        for (size_t offset = 0; offset < parser->problem_offset && offset < len; offset++)
            line += text[offset] == '\n';
        return zetl_config_printf ("%s:%zu: invalid text: %s (byte %zu); save the file as UTF-8 "
                                   "text",
                                   name, line, problem, parser->problem_offset);
    }
    if (parser->context)
        return zetl_config_printf ("%s:%zu: invalid YAML: %s at column %zu (%s at line %zu); fix "
                                   "the syntax",
                                   name, parser->problem_mark.line + 1, problem,
                                   parser->problem_mark.column + 1, parser->context,
                                   parser->context_mark.line + 1);
    return zetl_config_printf ("%s:%zu: invalid YAML: %s at column %zu; fix the syntax", name,
                               parser->problem_mark.line + 1, problem,
                               parser->problem_mark.column + 1);
}

//  A scalar that YAML reads as null: an empty value, ~ or null
static bool
s_is_null (const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *text = (const char *) node->data.scalar.value;
    return !*text || !strcmp (text, "~") || !strcmp (text, "null") || !strcmp (text, "Null") ||
           !strcmp (text, "NULL");
}

static size_t
s_child_count (const yaml_node_t *node)
{
    if (node->type == YAML_SEQUENCE_NODE)
        return (size_t) (node->data.sequence.items.top - node->data.sequence.items.start);
    if (node->type == YAML_MAPPING_NODE)
        return (size_t) (node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    return 0;
}

//  Mirror the document's nodes; libyaml numbers them from 1
static void
s_build (zetl_config_tree_t *self)
{
    yaml_document_t *document = &self->document;
    size_t node_count = (size_t) (document->nodes.top - document->nodes.start);
    size_t link_count = 0;
    for (size_t index = 0; index < node_count; index++) {
        const yaml_node_t *node = &document->nodes.start[index];
        link_count += s_child_count (node) * (node->type == YAML_MAPPING_NODE ? 2 : 1);
    }
    self->nodes =
        (zetl_config_node_t *) zetl_config_alloc (node_count, sizeof (zetl_config_node_t));
    self->links = (zetl_config_node_t **) zetl_config_alloc (link_count, sizeof (void *));
    self->root = node_count ? &self->nodes[0] : NULL;

    zetl_config_node_t **links = self->links;
    for (size_t index = 0; index < node_count; index++) {
        const yaml_node_t *node = &document->nodes.start[index];
        zetl_config_node_t *mirror = &self->nodes[index];
        mirror->line = node->start_mark.line + 1;
        mirror->text = "";
        mirror->count = s_child_count (node);
        mirror->children = links;
        if (node->type == YAML_SCALAR_NODE) {
            mirror->kind = ZETL_CONFIG_SCALAR;
            mirror->text = (const char *) node->data.scalar.value;
            mirror->is_null = s_is_null (node);
        }
        else if (node->type == YAML_SEQUENCE_NODE) {
            mirror->kind = ZETL_CONFIG_LIST;
            for (size_t item = 0; item < mirror->count; item++)
                *links++ = &self->nodes[node->data.sequence.items.start[item] - 1];
        }
        else {
            mirror->kind = ZETL_CONFIG_MAPPING;
            for (size_t pair = 0; pair < mirror->count; pair++) {
                *links++ = &self->nodes[node->data.mapping.pairs.start[pair].key - 1];
                *links++ = &self->nodes[node->data.mapping.pairs.start[pair].value - 1];
            }
        }
    }
}

//  Read on after a first document that was not empty: the error, or NULL
static char *
s_check_rest (yaml_parser_t *parser, const char *name, const char *text, size_t len)
{
    yaml_document_t next;
    if (!yaml_parser_load (parser, &next))
        return s_yaml_error (parser, name, text, len);
    //  One file, one configuration: a second document would be ignored silently
    char *error = NULL;
    if (yaml_document_get_root_node (&next))
        error = zetl_config_printf ("%s:%zu: a second YAML document starts here; keep one "
                                    "document per file",
                                    name, next.start_mark.line + 1);
    yaml_document_delete (&next);
    return error;
}

zetl_config_tree_t *
zetl_config_tree_new (const char *text, size_t len, const char *name, char **error)
{
    assert (text || len == 0);
    assert (name);
    assert (error);
    zetl_config_tree_t *self = (zetl_config_tree_t *) zetl_config_alloc (1, sizeof *self);
    yaml_parser_t parser;
    if (!yaml_parser_initialize (&parser))
        ZETL_CONFIG_OUT_OF_MEMORY ();
    yaml_parser_set_input_string (&parser, (const unsigned char *) text, len);
    self->loaded = yaml_parser_load (&parser, &self->document) != 0;
    if (!self->loaded)
        *error = s_yaml_error (&parser, name, text, len);
    else {
        s_build (self);
        //  An empty document ends the stream: there is no second one to look for
        *error = self->root ? s_check_rest (&parser, name, text, len) : NULL;
    }
    yaml_parser_delete (&parser);
    if (*error)
        zetl_config_tree_destroy (&self);
    return self;
}

void
zetl_config_tree_destroy (zetl_config_tree_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_config_tree_t *self = *self_p;
        if (self->loaded)
            yaml_document_delete (&self->document);
        free (self->nodes);
        free (self->links);
        free (self);
        *self_p = NULL;
    }
}

const zetl_config_node_t *
zetl_config_tree_root (const zetl_config_tree_t *self)
{
    assert (self);
    return self->root;
}

const zetl_config_node_t *
zetl_config_node_item (const zetl_config_node_t *node, size_t index)
{
    if (!node || node->kind != ZETL_CONFIG_LIST || index >= node->count)
        return NULL;
    return node->children[index];
}

const zetl_config_node_t *
zetl_config_node_key (const zetl_config_node_t *mapping, size_t index)
{
    assert (mapping && mapping->kind == ZETL_CONFIG_MAPPING && index < mapping->count);
    return mapping->children[2 * index];
}

const zetl_config_node_t *
zetl_config_node_value (const zetl_config_node_t *mapping, size_t index)
{
    assert (mapping && mapping->kind == ZETL_CONFIG_MAPPING && index < mapping->count);
    return mapping->children[2 * index + 1];
}

bool
zetl_config_node_has_name (const zetl_config_node_t *mapping, size_t index)
{
    const zetl_config_node_t *key = zetl_config_node_key (mapping, index);
    return key->kind == ZETL_CONFIG_SCALAR && !key->is_null;
}

const zetl_config_node_t *
zetl_config_node_lookup (const zetl_config_node_t *node, const char *key)
{
    if (!node || node->kind != ZETL_CONFIG_MAPPING)
        return NULL;
    for (size_t index = 0; index < node->count; index++) {
        const zetl_config_node_t *key_node = zetl_config_node_key (node, index);
        if (key_node->kind == ZETL_CONFIG_SCALAR && !strcmp (key_node->text, key))
            return zetl_config_node_value (node, index);
    }
    return NULL;
}

size_t
zetl_config_node_earlier_key (const zetl_config_node_t *mapping, size_t index)
{
    const zetl_config_node_t *key = zetl_config_node_key (mapping, index);
    for (size_t other = 0; other < index; other++) {
        const zetl_config_node_t *other_key = zetl_config_node_key (mapping, other);
        if (other_key->kind == ZETL_CONFIG_SCALAR && !other_key->is_null &&
            !strcmp (other_key->text, key->text))
            return other;
    }
    return index;
}

size_t
zetl_config_node_line (const zetl_config_node_t *node)
{
    return node ? node->line : 0;
}

//  One plain name of a list or mapping, for finding repeats
typedef struct {
    const char *text;
    size_t index;
} s_entry_t;

static int
s_entry_compare (const void *left, const void *right)
{
    const s_entry_t *a = (const s_entry_t *) left, *b = (const s_entry_t *) right;
    int rc = strcmp (a->text, b->text);
    return rc ? rc : (a->index > b->index) - (a->index < b->index);
}

size_t
zetl_config_node_repeat (const zetl_config_node_t *node, size_t *earlier)
{
    assert (node && node->kind != ZETL_CONFIG_SCALAR);
    s_entry_t *entries = (s_entry_t *) zetl_config_alloc (node->count, sizeof (s_entry_t));
    size_t count = 0;
    for (size_t index = 0; index < node->count; index++) {
        const zetl_config_node_t *name = node->kind == ZETL_CONFIG_LIST
                                             ? node->children[index]
                                             : zetl_config_node_key (node, index);
        if (name->kind == ZETL_CONFIG_SCALAR && !name->is_null)
            entries[count++] = (s_entry_t){name->text, index};
    }
    qsort (entries, count, sizeof (s_entry_t), s_entry_compare);
    size_t repeat = node->count, start = 0;
    for (size_t index = 1; index <= count; index++) {
        if (index < count && !strcmp (entries[index].text, entries[start].text))
            continue;
        //  In a run of equal texts, by position: the second one repeats the first
        if (index - start >= 2 && entries[start + 1].index < repeat) {
            repeat = entries[start + 1].index;
            *earlier = entries[start].index;
        }
        start = index;
    }
    free (entries);
    return repeat;
}
