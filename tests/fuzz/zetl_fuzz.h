/*  zetl_fuzz - checks shared by the libFuzzer targets in tests/fuzz

    Header only, included by each <name>_fuzz.c. A failed check prints where
    and what, then aborts, which libFuzzer reports as a crash and saves the
    input as the reproducer.
*/
#ifndef ZETL_FUZZ_H_INCLUDED
#define ZETL_FUZZ_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The libFuzzer entry point, defined by each target
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define ZETL_FUZZ_CHECK(condition)                                                                 \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf (stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);         \
            abort ();                                                                              \
        }                                                                                          \
    } while (0)

//  Read every byte of DATA (SIZE bytes), so the sanitizers check that it
//  points at memory that is there
static inline void
zetl_fuzz_touch (const void *data, size_t size)
{
    ZETL_FUZZ_CHECK (data || size == 0);
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < size; i++)
        sum ^= ((const uint8_t *) data)[i];
    (void) sum;
}

//  Check that PACKED (SIZE bytes) is exactly one msgpack map, as msgpack-c
//  unpacks it. Sets *UNPACKED to it (destroy it with msgpack_unpacked_destroy).
static inline void
zetl_fuzz_unpack_map (const void *packed, size_t size, msgpack_unpacked *unpacked)
{
    msgpack_unpacked_init (unpacked);
    size_t used = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (unpacked, (const char *) packed, size, &used);
    if (rc != MSGPACK_UNPACK_SUCCESS) {
        fprintf (stderr, "a converted record does not unpack: msgpack_unpack_next says %d\n",
                 (int) rc);
        abort ();
    }
    ZETL_FUZZ_CHECK (used == size);
    ZETL_FUZZ_CHECK (unpacked->data.type == MSGPACK_OBJECT_MAP);
}

typedef void (zetl_fuzz_line_fn) (void *arg, const char *line, size_t len, size_t offset);

//  Call FN for each line of DATA (SIZE bytes; the last may have no '\n'),
//  with its '\n' when WITH_NEWLINE, and its byte OFFSET in DATA. Each line is
//  copied into a buffer of its own, freed after the call, so that a read
//  past its end is caught.
static inline void
zetl_fuzz_lines (const uint8_t *data, size_t size, bool with_newline, zetl_fuzz_line_fn *fn,
                 void *arg)
{
    size_t offset = 0;
    while (offset < size) {
        const uint8_t *newline = (const uint8_t *) memchr (data + offset, '\n', size - offset);
        size_t whole = newline ? (size_t) (newline - (data + offset)) + 1 : size - offset;
        size_t len = newline && !with_newline ? whole - 1 : whole;
        char *line = (char *) malloc (len ? len : 1);
        ZETL_FUZZ_CHECK (line);
        memcpy (line, data + offset, len);
        fn (arg, line, len, offset);
        free (line);
        offset += whole;
    }
}

#endif
