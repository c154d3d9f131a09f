/*  zetl_config_tree - a YAML text as a tree of nodes that know their line (internal to zetl_config)

    Not a public API: only the zetl_config*.c files include this header.
    libyaml parses the text; the tree copies its structure into nodes the
    option walker (zetl_config_walk) reads without libyaml's types. A text
    must hold at most one document. An alias is the node it names, not a
    copy, so nodes may be shared (and a node may even contain itself): walk
    with a bound. The tree owns every node; nodes are borrowed, valid until
    the tree is destroyed.
*/
#ifndef ZETL_CONFIG_TREE_H_INCLUDED
#define ZETL_CONFIG_TREE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    ZETL_CONFIG_SCALAR,  //  a value
    ZETL_CONFIG_LIST,    //  a sequence of nodes
    ZETL_CONFIG_MAPPING  //  pairs of a key node and a value node, in file order
} zetl_config_kind_t;

typedef struct zetl_config_node zetl_config_node_t;
struct zetl_config_node {
    zetl_config_kind_t kind;        //  what the node is
    size_t line;                    //  1-based line where the node starts
    const char *text;               //  SCALAR: the value, NUL-terminated; otherwise ""
    bool is_null;                   //  SCALAR read as null by YAML: unquoted empty, ~ or null
    size_t count;                   //  LIST: items; MAPPING: pairs; SCALAR: 0
    zetl_config_node_t **children;  //  LIST: the items; MAPPING: key, value, key, value, ...
};

typedef struct zetl_config_tree zetl_config_tree_t;

//  Parse TEXT (LEN bytes), read from a file called NAME. Returns the tree, or
//  NULL with *ERROR set to "NAME:LINE: ..." when the text is not valid YAML or
//  holds a second document (caller owns *ERROR). Caller owns the result.
zetl_config_tree_t *zetl_config_tree_new (const char *text, size_t len, const char *name,
                                          char **error);

//  Destroy the tree and set *self_p to NULL. Does nothing if *self_p is NULL.
void zetl_config_tree_destroy (zetl_config_tree_t **self_p);

//  The document's root node, or NULL when the document is empty.
const zetl_config_node_t *zetl_config_tree_root (const zetl_config_tree_t *self);

//  Item INDEX of NODE, or NULL if NODE is NULL, not a list or too short.
const zetl_config_node_t *zetl_config_node_item (const zetl_config_node_t *node, size_t index);

//  The key, or the value, of pair INDEX of MAPPING, a mapping with more pairs.
const zetl_config_node_t *zetl_config_node_key (const zetl_config_node_t *mapping, size_t index);
const zetl_config_node_t *zetl_config_node_value (const zetl_config_node_t *mapping, size_t index);

//  Return true if pair INDEX of MAPPING has a key that is a plain name: a scalar, not null.
bool zetl_config_node_has_name (const zetl_config_node_t *mapping, size_t index);

//  The value of the first pair of NODE whose key is KEY, or NULL if NODE is
//  NULL, not a mapping or has no such key.
const zetl_config_node_t *zetl_config_node_lookup (const zetl_config_node_t *node, const char *key);

//  The line of NODE, or 0 if NODE is NULL.
size_t zetl_config_node_line (const zetl_config_node_t *node);

//  Return the index of the first pair of MAPPING before pair INDEX that has
//  the same key, a plain name; or INDEX if there is none.
size_t zetl_config_node_earlier_key (const zetl_config_node_t *mapping, size_t index);

//  Return the index of the first item of list NODE (or pair of mapping NODE:
//  by key) that repeats the text of an earlier one, and set *EARLIER to that
//  one's index; or return NODE's count if all differ. Nodes that are not
//  plain names (scalars, not null) repeat nothing. O(n log n), since aliases
//  can make long lists cheaply.
size_t zetl_config_node_repeat (const zetl_config_node_t *node, size_t *earlier);

#endif
