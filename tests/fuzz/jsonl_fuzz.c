/*  jsonl_fuzz - libFuzzer target for the JSONL converter (common/zetl_jsonl)

    The input is a JSONL file: each line (without its '\n') goes through one
    converter that extracts three fields, as a file source does. A line that
    converts must append exactly one msgpack map that msgpack-c unpacks whole,
    holding every field reported present; a line that does not must leave the
    output as it was and say why. Any failed check aborts, which libFuzzer
    reports as a crash.
*/
#include "zetl_fuzz.h"
#include "zetl_jsonl.h"

#include <string.h>

static const char *const s_names[] = {"id", "updated_at", "hotel_id"};
#define S_NAMES 3

//  The map the converter appended at AT..OUT's end unpacks whole
static void
s_check_output (const msgpack_sbuffer *out, size_t at, const zetl_field_value_t *values)
{
    ZETL_FUZZ_CHECK (out->size > at);
    msgpack_unpacked unpacked;
    zetl_fuzz_unpack_map (out->data + at, out->size - at, &unpacked);
    for (size_t i = 0; i < S_NAMES; i++)
        if (values[i].present)
            ZETL_FUZZ_CHECK (zetl_record_get (&unpacked.data, s_names[i]) != NULL);
    msgpack_unpacked_destroy (&unpacked);
}

//  What every line goes through
typedef struct {
    zetl_jsonl_t *jsonl;  //  one converter for the whole file
    msgpack_sbuffer out;  //  the records so far
} converter_t;

static void
s_line (void *arg, const char *line, size_t len, size_t offset)
{
    (void) offset;
    converter_t *self = (converter_t *) arg;
    zetl_field_value_t values[S_NAMES];
    memset (values, 0, sizeof (values));
    const char *reason = NULL;
    size_t before = self->out.size;
    if (zetl_jsonl_convert (self->jsonl, line, len, &self->out, values, &reason) == 0) {
        s_check_output (&self->out, before, values);
        for (size_t i = 0; i < S_NAMES; i++)
            if (values[i].present)
                zetl_fuzz_touch (values[i].ptr, values[i].len);
    }
    else {
        ZETL_FUZZ_CHECK (reason);
        ZETL_FUZZ_CHECK (self->out.size == before);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    converter_t converter;
    converter.jsonl = zetl_jsonl_new (s_names, S_NAMES);
    ZETL_FUZZ_CHECK (converter.jsonl);
    msgpack_sbuffer_init (&converter.out);
    zetl_fuzz_lines (data, size, false, s_line, &converter);
    msgpack_sbuffer_destroy (&converter.out);
    zetl_jsonl_destroy (&converter.jsonl);
    ZETL_FUZZ_CHECK (converter.jsonl == NULL);
    return 0;
}
