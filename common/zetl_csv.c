/*  zetl_csv - CSV rows into msgpack records (libcsv)

    libcsv does the quoting; this module decides what a row is. Lines come
    in one at a time, without their line break: we hand libcsv the line's
    content and then a single '\n', the only byte it treats as the end of a
    row, so a CRLF file parses like an LF one (a line break inside a quoted
    field is read as "\n"). A row therefore ends exactly at the end of one of
    the lines we fed; until it does, we keep those lines' bytes so a bad row
    can be reported with its text and the offset of its first line.

    Strict mode: a quote inside an unquoted field or anything but a
    delimiter after a closing quote makes the row bad. Fields are taken as
    they are (no trimming: a transform step can trim), except header names.
*/
#include "zetl_csv.h"

#include <assert.h>
#include <csv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_ROW (16 * 1024 * 1024)  //  bytes of one row, all its lines; as for JSON lines
#define S_OPTIONS (CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL)

typedef struct {
    size_t offset;  //  in field_buf
    size_t len;     //  bytes
    bool is_null;   //  empty and unquoted
} s_field_t;

struct zetl_csv {
    struct csv_parser parser;    //  libcsv state
    char delimiter;              //  field delimiter
    const char *const *names;    //  fields to extract, borrowed; NULL entries skipped
    size_t count;                //  entries in names
    int *name_column;            //  header column of names[i], or -1
    zetl_field_value_t *values;  //  extracted fields of the current row
    bool have_header;            //  the header row was read
    bool failed;                 //  the header was unusable; reason says why
    char **header;               //  trimmed column names, owned
    size_t *header_lens;         //  bytes of each name
    size_t columns;              //  entries in header
    char *field_buf;             //  bytes of the current row's fields
    size_t field_used;           //  bytes used in field_buf
    size_t field_cap;            //  bytes allocated at field_buf
    s_field_t *fields;           //  fields of the current row
    size_t nfields;              //  fields in the current row so far
    size_t fields_cap;           //  entries allocated at fields
    char *raw;                   //  the lines of the current row, as fed
    size_t raw_len;              //  bytes in raw; 0: no row under way
    size_t raw_cap;              //  bytes allocated at raw
    uint64_t row_offset;         //  file offset of the current row's first line
    uint64_t rows;               //  rows completed, the header included
    msgpack_sbuffer packed;      //  the record of the current row
    zetl_csv_row_fn *fn;         //  callback of the call under way
    void *arg;                   //  its argument
    char reason[320];            //  the last bad row's reason, or the header's
};

static void
s_oom (void)
{
    fprintf (stderr, "zetl_csv: out of memory\n");
    abort ();
}

static void *
s_grow (void *ptr, size_t *cap, size_t need, size_t item_size)
{
    if (need <= *cap)
        return ptr;
    size_t new_cap = *cap ? *cap : 64;
    while (new_cap < need)
        new_cap *= 2;
    void *new_ptr = realloc (ptr, new_cap * item_size);
    if (!new_ptr)
        s_oom ();
    *cap = new_cap;
    return new_ptr;
}

//  No trimming: spaces are data
static int
s_is_space (unsigned char c)
{
    (void) c;
    return 0;
}

//  Only '\n' ends a row: we feed it ourselves, once per line
static int
s_is_term (unsigned char c)
{
    return c == '\n';
}

static void
s_parser_init (zetl_csv_t *self)
{
    csv_init (&self->parser, S_OPTIONS);
    csv_set_delim (&self->parser, (unsigned char) self->delimiter);
    csv_set_space_func (&self->parser, s_is_space);
    csv_set_term_func (&self->parser, s_is_term);
}

//  Drop the row under way: after a parse error, libcsv's state is only
//  good for starting again
static void
s_discard_row (zetl_csv_t *self)
{
    csv_free (&self->parser);
    s_parser_init (self);
    self->nfields = 0;
    self->field_used = 0;
    self->raw_len = 0;
}

zetl_csv_t *
zetl_csv_new (char delimiter, const char *const *names, size_t count)
{
    assert (delimiter != '"' && delimiter != '\n' && delimiter != '\r');
    assert (names || count == 0);
    zetl_csv_t *self = (zetl_csv_t *) calloc (1, sizeof (zetl_csv_t));
    if (!self)
        return NULL;
    self->delimiter = delimiter;
    self->names = names;
    self->count = count;
    self->name_column = (int *) calloc (count ? count : 1, sizeof (int));
    self->values = (zetl_field_value_t *) calloc (count ? count : 1, sizeof (zetl_field_value_t));
    if (!self->name_column || !self->values) {
        free (self->name_column);
        free (self->values);
        free (self);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        self->name_column[i] = -1;
    msgpack_sbuffer_init (&self->packed);
    s_parser_init (self);
    return self;
}

void
zetl_csv_destroy (zetl_csv_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zetl_csv_t *self = *self_p;
        csv_free (&self->parser);
        for (size_t i = 0; i < self->columns; i++)
            free (self->header[i]);
        free (self->header);
        free (self->header_lens);
        free (self->name_column);
        free (self->values);
        free (self->field_buf);
        free (self->fields);
        free (self->raw);
        msgpack_sbuffer_destroy (&self->packed);
        free (self);
        *self_p = NULL;
    }
}

//  libcsv: end of a field. FIELD is NULL for an empty unquoted field.
static void
s_on_field (void *field, size_t len, void *arg)
{
    zetl_csv_t *self = (zetl_csv_t *) arg;
    self->fields = (s_field_t *) s_grow (self->fields, &self->fields_cap, self->nfields + 1,
                                         sizeof (s_field_t));
    //  One spare byte: the buffer exists even when every field is empty
    self->field_buf =
        (char *) s_grow (self->field_buf, &self->field_cap, self->field_used + len + 1, 1);
    s_field_t *f = &self->fields[self->nfields++];
    f->offset = self->field_used;
    f->len = len;
    f->is_null = field == NULL;
    if (len) {
        memcpy (self->field_buf + self->field_used, field, len);
        self->field_used += len;
    }
}

//  The raw text of the current row, without its final line break
static size_t
s_raw_text_len (const zetl_csv_t *self)
{
    size_t len = self->raw_len;
    if (len > 0 && self->raw[len - 1] == '\n')
        len--;
    if (len > 0 && self->raw[len - 1] == '\r')
        len--;
    return len;
}

static void
s_report_bad (zetl_csv_t *self)
{
    if (self->fn)
        self->fn (self->arg, self->row_offset, self->reason, self->raw, s_raw_text_len (self), NULL,
                  0, NULL);
}

static void
s_take_header (zetl_csv_t *self)
{
    self->have_header = true;
    self->columns = self->nfields;
    self->header = (char **) calloc (self->columns ? self->columns : 1, sizeof (char *));
    self->header_lens = (size_t *) calloc (self->columns ? self->columns : 1, sizeof (size_t));
    if (!self->header || !self->header_lens)
        s_oom ();
    for (size_t c = 0; c < self->columns; c++) {
        const s_field_t *f = &self->fields[c];
        const char *name = self->field_buf + f->offset;
        size_t len = f->len;
        while (len > 0 && (*name == ' ' || *name == '\t')) {
            name++;
            len--;
        }
        while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t' || name[len - 1] == '\r'))
            len--;
        self->header[c] = (char *) malloc (len + 1);
        if (!self->header[c])
            s_oom ();
        memcpy (self->header[c], name, len);
        self->header[c][len] = '\0';
        self->header_lens[c] = len;
        if (len == 0) {
            snprintf (self->reason, sizeof self->reason,
                      "header column %zu has no name; name every column", c + 1);
            self->failed = true;
            return;
        }
        for (size_t other = 0; other < c; other++)
            if (self->header_lens[other] == len && memcmp (self->header[other], name, len) == 0) {
                snprintf (self->reason, sizeof self->reason,
                          "header column %zu \"%.100s\" has the name of column %zu; names must "
                          "be unique",
                          c + 1, self->header[c], other + 1);
                self->failed = true;
                return;
            }
    }
    for (size_t i = 0; i < self->count; i++) {
        if (!self->names[i])
            continue;
        for (size_t c = 0; c < self->columns; c++)
            if (strcmp (self->header[c], self->names[i]) == 0) {
                self->name_column[i] = (int) c;
                break;
            }
    }
}

static void
s_emit_row (zetl_csv_t *self)
{
    msgpack_sbuffer_clear (&self->packed);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->packed, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, self->columns);
    for (size_t c = 0; c < self->columns; c++) {
        const s_field_t *f = &self->fields[c];
        msgpack_pack_str (&pk, self->header_lens[c]);
        msgpack_pack_str_body (&pk, self->header[c], self->header_lens[c]);
        if (f->is_null)
            msgpack_pack_nil (&pk);
        else {
            msgpack_pack_str (&pk, f->len);
            msgpack_pack_str_body (&pk, self->field_buf + f->offset, f->len);
        }
    }
    for (size_t i = 0; i < self->count; i++) {
        zetl_field_value_t *value = &self->values[i];
        int c = self->name_column[i];
        if (c < 0 || self->fields[c].is_null) {
            *value = (zetl_field_value_t){NULL, 0, false, false};
            continue;
        }
        value->ptr = self->field_buf + self->fields[c].offset;
        value->len = self->fields[c].len;
        value->present = true;
        value->is_string = true;
    }
    if (self->fn)
        self->fn (self->arg, self->row_offset, NULL, self->raw, s_raw_text_len (self),
                  self->packed.data, self->packed.size, self->values);
}

//  libcsv: end of a row
static void
s_on_row (int c, void *arg)
{
    (void) c;
    zetl_csv_t *self = (zetl_csv_t *) arg;
    self->rows++;
    if (!self->have_header)
        s_take_header (self);
    else if (self->nfields != self->columns) {
        snprintf (self->reason, sizeof self->reason,
                  "row %" PRIu64 " has %zu field%s, the header has %zu", self->rows, self->nfields,
                  self->nfields == 1 ? "" : "s", self->columns);
        s_report_bad (self);
    }
    else
        s_emit_row (self);
    self->nfields = 0;
    self->field_used = 0;
    self->raw_len = 0;
}

//  A bad row that libcsv could not finish: report it (or fail on the
//  header) and start afresh
static void
s_bad_row (zetl_csv_t *self, const char *what)
{
    self->rows++;
    if (!self->have_header) {
        snprintf (self->reason, sizeof self->reason, "header row %s", what);
        self->failed = true;
    }
    else {
        snprintf (self->reason, sizeof self->reason, "row %" PRIu64 " %s", self->rows, what);
        s_report_bad (self);
    }
    s_discard_row (self);
}

int
zetl_csv_feed_line (zetl_csv_t *self, const char *line, size_t len, uint64_t offset,
                    zetl_csv_row_fn *fn, void *arg, const char **reason)
{
    assert (self);
    assert (line || len == 0);
    const char *dummy_reason;
    if (!reason)
        reason = &dummy_reason;
    *reason = NULL;
    if (self->failed) {
        *reason = self->reason;
        return -1;
    }
    //  The line's content, without "\n" or "\r\n"
    bool has_newline = len > 0 && line[len - 1] == '\n';
    size_t content_len = len - has_newline;
    if (content_len > 0 && line[content_len - 1] == '\r')
        content_len--;
    const char *content = line;
    if (self->raw_len == 0) {
        //  A blank line between rows is no row at all
        if (content_len == 0)
            return 0;
        self->row_offset = offset;
        //  A UTF-8 byte order mark before the header (spreadsheets write one)
        if (!self->have_header && self->rows == 0 && content_len >= 3 &&
            memcmp (content, "\xef\xbb\xbf", 3) == 0) {
            content += 3;
            content_len -= 3;
        }
    }
    self->fn = fn;
    self->arg = arg;
    self->raw = (char *) s_grow (self->raw, &self->raw_cap, self->raw_len + len, 1);
    memcpy (self->raw + self->raw_len, line, len);
    self->raw_len += len;

    size_t parsed = csv_parse (&self->parser, content, content_len, s_on_field, s_on_row, self);
    if (parsed == content_len && has_newline)
        parsed += csv_parse (&self->parser, "\n", 1, s_on_field, s_on_row, self) == 1 ? 1 : 0;
    if (parsed < content_len + has_newline) {
        if (csv_error (&self->parser) == CSV_EPARSE) {
            char what[64];
            snprintf (what, sizeof what, "has a misplaced quote in field %zu", self->nfields + 1);
            s_bad_row (self, what);
        }
        else
            s_oom ();
    }
    else if (self->raw_len > S_MAX_ROW)
        s_bad_row (self, "is longer than 16 MiB (an unterminated quote?)");
    self->fn = NULL;
    self->arg = NULL;
    if (self->failed) {
        *reason = self->reason;
        return -1;
    }
    return 0;
}

void
zetl_csv_finish (zetl_csv_t *self, zetl_csv_row_fn *fn, void *arg)
{
    assert (self);
    if (self->failed || self->raw_len == 0)
        return;
    self->fn = fn;
    self->arg = arg;
    //  Completes a last row that had no line break; refuses an open quote
    if (csv_fini (&self->parser, s_on_field, s_on_row, self) != 0)
        s_bad_row (self, "has an unterminated quoted field");
    self->raw_len = 0;
    self->fn = NULL;
    self->arg = NULL;
}
