/*  zetl_config_text - the text of configuration messages (internal to zetl_config)

    See zetl_config_text.h.
*/
#include "zetl_config_text.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
zetl_config_out_of_memory (const char *file, int line)
{
    fprintf (stderr, "%s:%d: out of memory\n", file, line);
    abort ();
}

void *
zetl_config_alloc (size_t count, size_t size)
{
    void *memory = calloc (count ? count : 1, size ? size : 1);
    if (!memory)
        ZETL_CONFIG_OUT_OF_MEMORY ();
    return memory;
}

char *
zetl_config_strdup (const char *text)
{
    size_t len = strlen (text);
    char *copy = (char *) zetl_config_alloc (1, len + 1);
    memcpy (copy, text, len + 1);
    return copy;
}

char *
zetl_config_vprintf (const char *format, va_list args)
{
    char *text = NULL;
    if (vasprintf (&text, format, args) < 0)
        ZETL_CONFIG_OUT_OF_MEMORY ();
    return text;
}

char *
zetl_config_printf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = zetl_config_vprintf (format, args);
    va_end (args);
    return text;
}

void
zetl_config_text_add (zetl_config_text_t *self, const char *piece)
{
    size_t piece_len = strlen (piece);
    char *data = (char *) realloc (self->data, self->len + piece_len + 1);
    if (!data)
        ZETL_CONFIG_OUT_OF_MEMORY ();
    memcpy (data + self->len, piece, piece_len + 1);
    self->data = data;
    self->len += piece_len;
}

void
zetl_config_text_add_item (zetl_config_text_t *self, const char *item)
{
    if (self->data)
        zetl_config_text_add (self, ", ");
    zetl_config_text_add (self, item);
}

const char *
zetl_config_show (const char *text, char *buf, size_t size)
{
    assert (size >= 16);
    size_t used = 0;
    buf[used++] = '"';
    for (const char *p = text; *p; p++) {
        if (used + 8 > size) {
            memcpy (buf + used, "...", 3);
            used += 3;
            break;
        }
        unsigned char c = (unsigned char) *p;
        if (c == '"' || c == '\\')
            used += (size_t) snprintf (buf + used, size - used, "\\%c", c);
        else if (c == '\n')
            used += (size_t) snprintf (buf + used, size - used, "\\n");
        else if (c == '\t')
            used += (size_t) snprintf (buf + used, size - used, "\\t");
        else if (c < 0x20 || c == 0x7f)
            used += (size_t) snprintf (buf + used, size - used, "\\x%02x", c);
        else
            buf[used++] = (char) c;
    }
    buf[used++] = '"';
    buf[used] = 0;
    return buf;
}

void
zetl_config_path_key (char *child, const char *path, const char *key)
{
    size_t used = 0;
    if (*path) {
        used = strlen (path);
        if (used > ZETL_CONFIG_PATH_MAX - 80)
            used = ZETL_CONFIG_PATH_MAX - 80;
        memcpy (child, path, used);
        child[used++] = '.';
    }
    size_t key_len = 0;
    for (const char *p = key; *p && key_len < 64; p++, key_len++)
        child[used++] = ((unsigned char) *p < 0x20 || *p == 0x7f) ? '?' : *p;
    if (key[key_len]) {
        memcpy (child + used, "...", 3);
        used += 3;
    }
    child[used] = 0;
}

void
zetl_config_path_item (char *child, const char *path, size_t index)
{
    snprintf (child, ZETL_CONFIG_PATH_MAX, "%.*s[%zu]", ZETL_CONFIG_PATH_MAX - 32, path, index);
}

int
zetl_config_values_index (const char *values, const char *text)
{
    size_t text_len = strlen (text);
    int index = 0;
    for (const char *p = values; *p; index++) {
        const char *end = strchr (p, '|');
        size_t len = end ? (size_t) (end - p) : strlen (p);
        if (len == text_len && !memcmp (p, text, len))
            return index;
        p += len + (end ? 1 : 0);
    }
    return -1;
}

const char *
zetl_config_values_name (const char *values, int index, char *buf, size_t size)
{
    const char *p = values;
    for (int skip = 0; skip < index && p; skip++) {
        p = strchr (p, '|');
        if (p)
            p++;
    }
    assert (p);
    const char *end = strchr (p, '|');
    size_t len = end ? (size_t) (end - p) : strlen (p);
    assert (len < size);
    memcpy (buf, p, len);
    buf[len] = 0;
    return buf;
}

char *
zetl_config_values_list (const char *values, bool code)
{
    int count = 1;
    for (const char *p = values; *p; p++)
        count += *p == '|';
    zetl_config_text_t list = {NULL, 0};
    for (int index = 0; index < count; index++) {
        char name[64], item[68];
        zetl_config_values_name (values, index, name, sizeof name);
        snprintf (item, sizeof item, code ? "`%s`" : "%s", name);
        zetl_config_text_add_item (&list, item);
    }
    return list.data;
}
