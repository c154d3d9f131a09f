/*  zetl_files_encode - the bytes of a files target: rows as JSONL or CSV, then compressed  */
#include "zetl_files_encode.h"
#include "zetl_json_text.h"
#include "zetl_record.h"
#include "zetl_time.h"

#include <zlib.h>
#include <zstd.h>

#define S_ZSTD_LEVEL 3  //  libzstd's default: fast, and about gzip -6's ratio
#define S_GZIP_LEVEL 6  //  gzip's default

static const char *s_bad_type = "result value does not match its column's type";

zetl_files_compression_t
zetl_files_compression (const char *name)
{
    if (name && streq (name, "gzip"))
        return ZETL_FILES_GZIP;
    if (name && streq (name, "zstd"))
        return ZETL_FILES_ZSTD;
    return ZETL_FILES_PLAIN;
}

const char *
zetl_files_suffix (zetl_format_t format, zetl_files_compression_t compression)
{
    static const char *suffixes[2][3] = {{".jsonl", ".jsonl.gz", ".jsonl.zst"},
                                         {".csv", ".csv.gz", ".csv.zst"}};
    return suffixes[format == ZETL_FORMAT_CSV][compression];
}

static void
s_put (msgpack_sbuffer *out, const char *text, size_t len)
{
    char *p = zetl_json_text_reserve (out, len);
    memcpy (p, text, len);
    out->size += len;
}

//  A CSV field needs quotes when it holds a separator, a quote or a line
//  break, or is empty (an empty string, told apart from a null)
static void
s_put_csv_text (msgpack_sbuffer *out, const char *text, size_t len)
{
    if (len && !memchr (text, ',', len) && !memchr (text, '"', len) && !memchr (text, '\n', len) &&
        !memchr (text, '\r', len)) {
        s_put (out, text, len);
        return;
    }
    char *p = zetl_json_text_reserve (out, 2 * len + 2);
    char *start = p;
    *p++ = '"';
    for (size_t at = 0; at < len; at++) {
        if (text[at] == '"')
            *p++ = '"';
        *p++ = text[at];
    }
    *p++ = '"';
    out->size += (size_t) (p - start);
}

void
zetl_files_encode_header (const zetl_pipeline_t *pipeline, zetl_format_t format,
                          msgpack_sbuffer *out)
{
    if (format != ZETL_FORMAT_CSV)
        return;
    for (size_t column = 0; column < pipeline->field_count; column++) {
        const char *name = pipeline->fields[column].name;
        s_put_csv_text (out, name, strlen (name));
        s_put (out, ",", 1);
    }
    s_put (out, "zetl_deleted\r\n", 14);
}

//  The integer in VALUE, or false when it holds none that fits int64
static bool
s_int (const msgpack_object *value, int64_t *number)
{
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER && value->via.u64 <= INT64_MAX)
        *number = (int64_t) value->via.u64;
    else if (value->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        *number = value->via.i64;
    else
        return false;
    return true;
}

//  The text of VALUE in a column of TYPE, for the kinds whose text needs no
//  quoting in JSON (numbers, booleans) or is written quoted by the caller
//  (timestamps, dates), into SCRATCH (64 bytes). Sets *QUOTED when JSON
//  needs it in quotes. Returns the length, or -1 when the value does not
//  fit the type
static int
s_scalar_text (zetl_type_t type, const msgpack_object *value, char *scratch, bool *quoted)
{
    int64_t number;
    *quoted = false;
    switch (type) {
    case ZETL_TYPE_BOOL:
        if (value->type != MSGPACK_OBJECT_BOOLEAN)
            return -1;
        memcpy (scratch, value->via.boolean ? "true" : "false", 5);
        return value->via.boolean ? 4 : 5;
    case ZETL_TYPE_INT:
        if (!s_int (value, &number))
            return -1;
        return snprintf (scratch, 64, "%" PRId64, number);
    case ZETL_TYPE_TIMESTAMP:
        if (!s_int (value, &number))
            return -1;
        *quoted = true;
        return (int) zetl_time_format_iso (number, scratch, 64);
    case ZETL_TYPE_DATE:
        if (!s_int (value, &number) || number < INT32_MIN || number > INT32_MAX)
            return -1;
        *quoted = true;
        return (int) zetl_time_format_date ((int32_t) number, scratch, 64);
    default:
        return -1;
    }
}

//  Append the JSON of VALUE for FIELD. Returns 0 or -1 (type mismatch)
static int
s_json_value (const zetl_field_t *field, const msgpack_object *value, msgpack_sbuffer *out)
{
    if (value->type == MSGPACK_OBJECT_NIL) {
        s_put (out, "null", 4);
        return 0;
    }
    if (field->type == ZETL_TYPE_STRING) {
        if (value->type != MSGPACK_OBJECT_STR)
            return -1;
        return zetl_record_to_json (value, out);  //  Escaped as JSON says
    }
    if (field->type == ZETL_TYPE_NUMBER) {
        if (value->type != MSGPACK_OBJECT_EXT || value->via.ext.type != ZETL_EXT_DECIMAL)
            return -1;
        return zetl_record_to_json (value, out);  //  The exact decimal, bare
    }
    char scratch[64];
    bool quoted;
    int len = s_scalar_text (field->type, value, scratch, &quoted);
    if (len < 0)
        return -1;
    if (quoted)
        s_put (out, "\"", 1);
    s_put (out, scratch, (size_t) len);
    if (quoted)
        s_put (out, "\"", 1);
    return 0;
}

//  Append the CSV field of VALUE for FIELD. Returns 0 or -1 (type mismatch)
static int
s_csv_value (const zetl_field_t *field, const msgpack_object *value, msgpack_sbuffer *out)
{
    if (value->type == MSGPACK_OBJECT_NIL)
        return 0;  //  A null is an empty field
    if (field->type == ZETL_TYPE_STRING) {
        if (value->type != MSGPACK_OBJECT_STR)
            return -1;
        s_put_csv_text (out, value->via.str.ptr, value->via.str.size);
        return 0;
    }
    if (field->type == ZETL_TYPE_NUMBER) {
        if (value->type != MSGPACK_OBJECT_EXT || value->via.ext.type != ZETL_EXT_DECIMAL)
            return -1;
        s_put_csv_text (out, value->via.ext.ptr, value->via.ext.size);
        return 0;
    }
    char scratch[64];
    bool quoted;
    int len = s_scalar_text (field->type, value, scratch, &quoted);
    if (len < 0)
        return -1;
    s_put (out, scratch, (size_t) len);
    return 0;
}

static const msgpack_object *
s_row (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry, const char **reason)
{
    const msgpack_object *row = &entry->payload;
    if (row->type != MSGPACK_OBJECT_ARRAY || row->via.array.size != pipeline->field_count) {
        *reason = "result row does not match the schema's column count";
        return NULL;
    }
    return row;
}

int
zetl_files_encode_row (const zetl_pipeline_t *pipeline, zetl_format_t format,
                       const zetl_entry_t *entry, msgpack_sbuffer *out, const char **reason)
{
    const msgpack_object *row = s_row (pipeline, entry, reason);
    if (!row)
        return -1;
    size_t mark = out->size;
    bool deleted = (entry->flags & ZETL_ENTRY_DELETED) != 0;
    if (format == ZETL_FORMAT_CSV) {
        for (size_t column = 0; column < pipeline->field_count; column++) {
            if (s_csv_value (&pipeline->fields[column], &row->via.array.ptr[column], out) != 0)
                goto mismatch;
            s_put (out, ",", 1);
        }
        s_put (out, deleted ? "true\r\n" : "false\r\n", deleted ? 6 : 7);
        return 0;
    }
    s_put (out, "{", 1);
    for (size_t column = 0; column < pipeline->field_count; column++) {
        const zetl_field_t *field = &pipeline->fields[column];
        msgpack_object name;
        name.type = MSGPACK_OBJECT_STR;
        name.via.str.ptr = field->name;
        name.via.str.size = (uint32_t) strlen (field->name);
        if (column)
            s_put (out, ",", 1);
        zetl_record_to_json (&name, out);
        s_put (out, ":", 1);
        if (s_json_value (field, &row->via.array.ptr[column], out) != 0)
            goto mismatch;
    }
    if (deleted)
        s_put (out, ",\"zetl_deleted\":true", 20);
    s_put (out, "}\n", 2);
    return 0;
mismatch:
    out->size = mark;
    *reason = s_bad_type;
    return -1;
}

int64_t
zetl_files_event_us (const zetl_pipeline_t *pipeline, const zetl_entry_t *entry)
{
    int column = zetl_pipeline_field_index (pipeline, pipeline->event_time.field);
    const msgpack_object *row = &entry->payload;
    int64_t us;
    if (column >= 0 && row->type == MSGPACK_OBJECT_ARRAY && (size_t) column < row->via.array.size &&
        s_int (&row->via.array.ptr[column], &us))
        return us;
    return entry->event_us;
}

static int
s_gzip (const void *data, size_t size, msgpack_sbuffer *out, const char **reason)
{
    z_stream stream;
    memset (&stream, 0, sizeof stream);
    //  15 window bits + 16: a gzip header and trailer rather than zlib's
    if (deflateInit2 (&stream, S_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        *reason = "gzip: deflateInit2 failed";
        return -1;
    }
    size_t room = deflateBound (&stream, (uLong) size) + 32;  //  + the gzip header and trailer
    char *p = zetl_json_text_reserve (out, room);
    stream.next_in = (Bytef *) data;
    stream.avail_in = (uInt) size;
    stream.next_out = (Bytef *) p;
    stream.avail_out = (uInt) room;
    int rc = deflate (&stream, Z_FINISH);
    if (rc == Z_STREAM_END)
        out->size += stream.total_out;
    deflateEnd (&stream);
    if (rc != Z_STREAM_END) {
        *reason = "gzip: deflate did not finish";
        return -1;
    }
    return 0;
}

static int
s_zstd (const void *data, size_t size, msgpack_sbuffer *out, const char **reason)
{
    size_t room = ZSTD_compressBound (size);
    char *p = zetl_json_text_reserve (out, room);
    size_t written = ZSTD_compress (p, room, data, size, S_ZSTD_LEVEL);
    if (ZSTD_isError (written)) {
        *reason = ZSTD_getErrorName (written);
        return -1;
    }
    out->size += written;
    return 0;
}

int
zetl_files_compress (zetl_files_compression_t compression, const void *data, size_t size,
                     msgpack_sbuffer *out, const char **reason)
{
    if (compression == ZETL_FILES_GZIP)
        return s_gzip (data, size, out, reason);
    if (compression == ZETL_FILES_ZSTD)
        return s_zstd (data, size, out, reason);
    s_put (out, (const char *) data, size);
    return 0;
}
