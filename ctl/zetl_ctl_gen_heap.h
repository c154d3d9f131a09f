/*  zetl_ctl_gen_heap - binary min-heaps of plain structs for zetlctl gen

    Private to ctl/zetl_ctl_gen*.c. ZETL_CTL_GEN_HEAP (name, type, before)
    defines two static functions for a heap of TYPE held in an array the
    caller owns (and frees), ordered by BEFORE (a, b), a strict "a comes
    first" on const TYPE pointers:

    s_<name>_push (type **heap, size_t *size, size_t *cap, type item)
        Add ITEM, growing *HEAP (realloc) as needed; out of memory aborts.
    s_<name>_pop (type *heap, size_t *size)
        Remove and return the first item; *SIZE must not be 0.

    The bookings model keeps the bookings whose next version is due in one;
    the stream arrangement keeps the records it has moved later in another.
    Items that BEFORE does not order come out in no particular order, so
    each BEFORE breaks its ties: the output must not depend on them.
*/
#ifndef ZETL_CTL_GEN_HEAP_H_INCLUDED
#define ZETL_CTL_GEN_HEAP_H_INCLUDED

#include <stdio.h>
#include <stdlib.h>

#define ZETL_CTL_GEN_HEAP(name, type, before)                                                      \
    static void s_##name##_push (type **heap, size_t *size, size_t *cap, type item)                \
    {                                                                                              \
        if (*size == *cap) {                                                                       \
            *cap = *cap ? *cap * 2 : 1024;                                                         \
            *heap = (type *) realloc (*heap, *cap * sizeof (type));                                \
            if (!*heap) {                                                                          \
                fprintf (stderr, "zetlctl gen: out of memory\n");                                  \
                abort ();                                                                          \
            }                                                                                      \
        }                                                                                          \
        size_t child = (*size)++;                                                                  \
        while (child > 0 && before (&item, &(*heap)[(child - 1) / 2])) {                           \
            (*heap)[child] = (*heap)[(child - 1) / 2];                                             \
            child = (child - 1) / 2;                                                               \
        }                                                                                          \
        (*heap)[child] = item;                                                                     \
    }                                                                                              \
    static type s_##name##_pop (type *heap, size_t *size)                                          \
    {                                                                                              \
        type top = heap[0], last = heap[--*size];                                                  \
        size_t parent = 0, child;                                                                  \
        while ((child = 2 * parent + 1) < *size) {                                                 \
            if (child + 1 < *size && before (&heap[child + 1], &heap[child]))                      \
                child++;                                                                           \
            if (!before (&heap[child], &last))                                                     \
                break;                                                                             \
            heap[parent] = heap[child];                                                            \
            parent = child;                                                                        \
        }                                                                                          \
        if (*size)                                                                                 \
            heap[parent] = last;                                                                   \
        return top;                                                                                \
    }

#endif
