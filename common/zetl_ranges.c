/*  zetl_ranges - committed positions of one (source, partition) in ordered mode  */
#include "zetl_ranges.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t low;   //  first position in the range
    int64_t high;  //  one past the last
} s_range_t;

struct zetl_ranges {
    int64_t floor;
    s_range_t *ranges;   //  sorted, from the text
    size_t range_count;
    uint64_t *slots;     //  added positions, open addressing; 0 = empty (positions stored + 1)
    size_t slot_count;   //  a power of two
    size_t added;
    char *text;          //  the added positions' literal
    size_t text_len, text_size;
};

//  Parse "{[a,b),[c,d)}" into SELF->ranges. Returns 0 or -1.
static int
s_parse (zetl_ranges_t *self, const char *text)
{
    const char *at = text;
    if (*at++ != '{')
        return -1;
    size_t capacity = 0;
    while (*at && *at != '}') {
        if (*at == ',')
            at++;
        if (*at++ != '[')
            return -1;
        char *end = NULL;
        long long low = strtoll (at, &end, 10);
        if (end == at || *end != ',')
            return -1;
        at = end + 1;
        long long high = strtoll (at, &end, 10);
        if (end == at || *end != ')' || high <= low)
            return -1;
        at = end + 1;
        if (self->range_count == capacity) {
            capacity = capacity ? capacity * 2 : 16;
            self->ranges = (s_range_t *) realloc (self->ranges, capacity * sizeof (s_range_t));
            assert (self->ranges);
        }
        self->ranges[self->range_count++] = (s_range_t) {low, high};
    }
    return *at == '}' && at[1] == 0 ? 0 : -1;
}

zetl_ranges_t *
zetl_ranges_new (int64_t floor, const char *above)
{
    zetl_ranges_t *self = (zetl_ranges_t *) calloc (1, sizeof (zetl_ranges_t));
    assert (self);
    self->floor = floor;
    if (above && *above && s_parse (self, above) != 0)
        zetl_ranges_destroy (&self);
    return self;
}

void
zetl_ranges_destroy (zetl_ranges_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->ranges);
        free ((*self_p)->slots);
        free ((*self_p)->text);
        free (*self_p);
        *self_p = NULL;
    }
}

static size_t
s_slot (const zetl_ranges_t *self, uint64_t position)
{
    uint64_t hash = (position + 1) * 0x9E3779B97F4A7C15ULL;
    size_t index = (size_t) (hash >> 17) & (self->slot_count - 1);
    while (self->slots[index] && self->slots[index] != position + 1)
        index = (index + 1) & (self->slot_count - 1);
    return index;
}

bool
zetl_ranges_has (const zetl_ranges_t *self, uint64_t position)
{
    if ((int64_t) position <= self->floor)
        return true;
    size_t low = 0, high = self->range_count;
    while (low < high) {  //  The first range ending past POSITION
        size_t middle = (low + high) / 2;
        if (self->ranges[middle].high <= (int64_t) position)
            low = middle + 1;
        else
            high = middle;
    }
    if (low < self->range_count && self->ranges[low].low <= (int64_t) position)
        return true;
    return self->slot_count && self->slots[s_slot (self, position)] == position + 1;
}

static void
s_grow (zetl_ranges_t *self)
{
    uint64_t *old = self->slots;
    size_t old_count = self->slot_count;
    self->slot_count = old_count ? old_count * 2 : 1024;
    self->slots = (uint64_t *) calloc (self->slot_count, sizeof (uint64_t));
    assert (self->slots);
    for (size_t index = 0; index < old_count; index++)
        if (old[index])
            self->slots[s_slot (self, old[index] - 1)] = old[index];
    free (old);
}

void
zetl_ranges_add (zetl_ranges_t *self, uint64_t position)
{
    if ((self->added + 1) * 2 > self->slot_count)
        s_grow (self);
    size_t slot = s_slot (self, position);
    if (self->slots[slot])
        return;
    self->slots[slot] = position + 1;
    self->added++;
    char item[48];
    int len = snprintf (item, sizeof item, "%c[%" PRIu64 ",%" PRIu64 ")", self->text_len ? ',' : '{',
                        position, position + 1);
    if (self->text_len + (size_t) len + 2 > self->text_size) {
        self->text_size = (self->text_size + (size_t) len + 2) * 2;
        self->text = (char *) realloc (self->text, self->text_size);
        assert (self->text);
    }
    memcpy (self->text + self->text_len, item, (size_t) len);
    self->text_len += (size_t) len;
}

void
zetl_ranges_raise_floor (zetl_ranges_t *self, int64_t position)
{
    if (position > self->floor)
        self->floor = position;
}

int64_t
zetl_ranges_floor (const zetl_ranges_t *self)
{
    return self->floor;
}

size_t
zetl_ranges_added (const zetl_ranges_t *self)
{
    return self->added;
}

const char *
zetl_ranges_added_text (zetl_ranges_t *self)
{
    if (!self->text_len)
        return "{}";
    self->text[self->text_len] = '}';
    self->text[self->text_len + 1] = 0;
    return self->text;
}
