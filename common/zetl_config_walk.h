/*  zetl_config_walk - applies an option table to a YAML mapping (internal to zetl_config)

    Not a public API: only the zetl_config*.c files include this header.
    zetl_config_walk_section reads a mapping of the node tree
    (zetl_config_tree) into a section's struct with that section's table
    (zetl_config_option): it sets every default, reads the type of a section
    that has one first, refuses unknown, duplicate and misplaced keys,
    reads each value, and descends into sections, lists and maps, running
    each table's checks on their elements. The first error wins: it is kept
    as "FILE:LINE: PATH: MESSAGE" and every walk stops there. The caller
    owns the walk, a plain struct, and frees its error.
*/
#ifndef ZETL_CONFIG_WALK_H_INCLUDED
#define ZETL_CONFIG_WALK_H_INCLUDED

#include "zetl_config_option.h"
#include "zetl_config_tree.h"

struct zetl_config_walk {
    const char *name;  //  the file's name, for messages
    char *error;       //  the first error, or NULL
    size_t values;     //  values read so far, aliases expanded
};

//  Read mapping NODE into the struct at BASE with TABLE; PATH names NODE in
//  messages ("" for the document itself). Returns 0, or -1 with the error in
//  self->error. Whatever was stored, even on error, zetl_config_walk_free frees.
int zetl_config_walk_section (zetl_config_walk_t *self, const zetl_config_option_t *table,
                              const zetl_config_node_t *node, void *base, const char *path);

//  Record "FILE:LINE: PATH: MESSAGE" (or "FILE:LINE: MESSAGE" when PATH is
//  empty), LINE being NODE's, unless an error is already recorded. Returns -1.
int zetl_config_walk_error (zetl_config_walk_t *self, const zetl_config_node_t *node,
                            const char *path, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

//  Free every value TABLE stored in the struct at BASE.
void zetl_config_walk_free (const zetl_config_option_t *table, void *base);

#endif
