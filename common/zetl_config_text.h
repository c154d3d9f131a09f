/*  zetl_config_text - the text of configuration messages (internal to zetl_config)

    Not a public API: only the zetl_config*.c files include this header.
    Quoted values, key paths such as pipelines[0].sinks[1].table, "a|b|c"
    value lists, a growing string, and the allocating helpers they use, which
    abort with file:line when memory runs out (out of memory is fatal). Pure
    functions, no state; strings they return are owned by the caller.
*/
#ifndef ZETL_CONFIG_TEXT_H_INCLUDED
#define ZETL_CONFIG_TEXT_H_INCLUDED

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define ZETL_CONFIG_PATH_MAX 512  //  longest key path in a message, with its NUL
#define ZETL_CONFIG_SHOW_MAX 96   //  a buffer for zetl_config_show

//  Print "FILE:LINE: out of memory" and abort.
#define ZETL_CONFIG_OUT_OF_MEMORY() zetl_config_out_of_memory (__FILE__, __LINE__)
_Noreturn void zetl_config_out_of_memory (const char *file, int line);

//  calloc that aborts instead of returning NULL; a count or size of 0 counts as 1.
//  Caller owns the result.
void *zetl_config_alloc (size_t count, size_t size);

//  A copy of TEXT. Caller owns the result.
char *zetl_config_strdup (const char *text);

//  The formatted text. Caller owns the result.
char *zetl_config_printf (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
char *zetl_config_vprintf (const char *format, va_list args)
    __attribute__ ((format (printf, 1, 0)));

//  A growing string, for lists in messages. Start it as {NULL, 0}; caller frees data.
typedef struct {
    char *data;  //  the text so far, NUL-terminated, or NULL before the first piece
    size_t len;  //  bytes in data
} zetl_config_text_t;

//  Append PIECE.
void zetl_config_text_add (zetl_config_text_t *self, const char *piece);

//  Append ", " (unless the text is still empty), then ITEM.
void zetl_config_text_add_item (zetl_config_text_t *self, const char *item);

//  Write TEXT into BUF (SIZE bytes, at least 16) as a quoted string for a
//  message: escaped, and cut short if long, so a stray binary value cannot
//  garble the message. Returns BUF.
const char *zetl_config_show (const char *text, char *buf, size_t size);

//  Write PATH.KEY (or KEY at the top) into CHILD (ZETL_CONFIG_PATH_MAX bytes).
//  Control characters in a key become '?' and a very long key is cut, so
//  messages stay one readable line.
void zetl_config_path_key (char *child, const char *path, const char *key);

//  Write PATH[INDEX] into CHILD (ZETL_CONFIG_PATH_MAX bytes).
void zetl_config_path_item (char *child, const char *path, size_t index);

//  Index of TEXT among VALUES ("a|b|c"), or -1.
int zetl_config_values_index (const char *values, const char *text);

//  Copy value INDEX of VALUES into BUF (SIZE bytes). Returns BUF.
const char *zetl_config_values_name (const char *values, int index, char *buf, size_t size);

//  VALUES as "a, b, c", or with each value in backticks for Markdown when CODE.
//  Caller owns the result.
char *zetl_config_values_list (const char *values, bool code);

#endif
