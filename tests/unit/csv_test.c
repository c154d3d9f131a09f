/*  csv_test - zetl_csv: CSV rows into msgpack records  */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zetl_csv.h"

#define S_MAX_ROWS 32
#define S_MAX_NAMES 4

//  What the callback saw for one row, copied
typedef struct {
    uint64_t offset;
    char *reason;  //  NULL on a good row
    char *raw;     //  NUL-terminated copy
    char *json;    //  the record as JSON text, good rows only
    bool present[S_MAX_NAMES];
    char *values[S_MAX_NAMES];
} s_row_t;

typedef struct {
    s_row_t rows[S_MAX_ROWS];
    size_t count;
    size_t names;
} s_result_t;

static char *
s_copy (const char *data, size_t len)
{
    char *copy = (char *) malloc (len + 1);
    if (len)
        memcpy (copy, data, len);
    copy[len] = '\0';
    return copy;
}

static void
s_on_row (void *arg, uint64_t offset, const char *reason, const char *raw, size_t raw_len,
          const void *packed, size_t packed_len, const zetl_field_value_t *values)
{
    s_result_t *result = (s_result_t *) arg;
    assert_true (result->count < S_MAX_ROWS);
    s_row_t *row = &result->rows[result->count++];
    memset (row, 0, sizeof *row);
    row->offset = offset;
    row->raw = s_copy (raw, raw_len);
    if (reason) {
        row->reason = s_copy (reason, strlen (reason));
        assert_null (packed);
        return;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t used = 0;
    assert_int_equal (msgpack_unpack_next (&unpacked, (const char *) packed, packed_len, &used),
                      MSGPACK_UNPACK_SUCCESS);
    assert_int_equal (used, packed_len);
    msgpack_sbuffer json;
    msgpack_sbuffer_init (&json);
    assert_int_equal (zetl_record_to_json (&unpacked.data, &json), 0);
    row->json = s_copy (json.data, json.size);
    msgpack_sbuffer_destroy (&json);
    msgpack_unpacked_destroy (&unpacked);
    for (size_t i = 0; i < result->names; i++) {
        row->present[i] = values[i].present;
        if (values[i].present) {
            assert_true (values[i].is_string);
            row->values[i] = s_copy (values[i].ptr, values[i].len);
        }
    }
}

static void
s_result_free (s_result_t *result)
{
    for (size_t r = 0; r < result->count; r++) {
        free (result->rows[r].reason);
        free (result->rows[r].raw);
        free (result->rows[r].json);
        for (size_t i = 0; i < S_MAX_NAMES; i++)
            free (result->rows[r].values[i]);
    }
    memset (result, 0, sizeof *result);
}

//  Offset of NEEDLE in TEXT
static uint64_t
s_offset_of (const char *text, const char *needle)
{
    const char *at = strstr (text, needle);
    assert_non_null (at);
    return (uint64_t) (at - text);
}

//  Feed TEXT line by line, with offsets, then finish. Returns 0, or -1 and
//  *REASON (a copy) if the header was refused.
static int
s_parse (const char *text, char delimiter, const char *const *names, size_t count,
         s_result_t *result, char **reason_p)
{
    memset (result, 0, sizeof *result);
    result->names = count;
    zetl_csv_t *csv = zetl_csv_new (delimiter, names, count);
    assert_non_null (csv);
    size_t len = strlen (text), offset = 0;
    int rc = 0;
    while (offset < len) {
        const char *nl = (const char *) memchr (text + offset, '\n', len - offset);
        size_t line_len = nl ? (size_t) (nl - (text + offset)) + 1 : len - offset;
        const char *reason = NULL;
        if (zetl_csv_feed_line (csv, text + offset, line_len, offset, s_on_row, result, &reason) !=
            0) {
            assert_non_null (reason);
            if (reason_p)
                *reason_p = s_copy (reason, strlen (reason));
            rc = -1;
            break;
        }
        assert_null (reason);
        offset += line_len;
    }
    if (rc == 0)
        zetl_csv_finish (csv, s_on_row, result);
    zetl_csv_destroy (&csv);
    assert_null (csv);
    return rc;
}

//  What row INDEX of a parse must hold; NULL and 0 fields are not checked
typedef struct {
    const char *reason;  //  why it was refused; "" for a good row
    const char *raw;     //  its raw text
    uint64_t offset;     //  where it starts (never 0: the header comes first)
    const char *at;      //  the text it starts at, in the document
    const char *json;    //  the record as JSON text
    const char *value;   //  the first extracted value, which must be present
} s_want_t;

static void
s_assert_row (const s_result_t *result, size_t index, const char *text, s_want_t want)
{
    assert_true (index < result->count);
    const s_row_t *row = &result->rows[index];
    if (want.reason && *want.reason)
        assert_string_equal (row->reason, want.reason);
    else if (want.reason)
        assert_null (row->reason);
    if (want.raw)
        assert_string_equal (row->raw, want.raw);
    if (want.offset)
        assert_int_equal (row->offset, want.offset);
    if (want.at)
        assert_int_equal (row->offset, s_offset_of (text, want.at));
    if (want.json)
        assert_string_equal (row->json, want.json);
    if (want.value) {
        assert_true (row->present[0]);
        assert_string_equal (row->values[0], want.value);
    }
}

//  A short document: parsed with DELIMITER, extracting the field NAME (if
//  not NULL), it gives ROWS rows (-1: not checked), and its row INDEX is WANT
typedef struct {
    const char *text;
    char delimiter;
    const char *name;
    int rows;
    size_t index;
    s_want_t want;
} s_short_t;

//  Parse each of the COUNT documents DOCS and check them
static void
s_assert_short (const s_short_t *docs, size_t count)
{
    for (const s_short_t *doc = docs; doc < docs + count; doc++) {
        s_result_t result;
        const char *const *names = doc->name ? &doc->name : NULL;
        assert_int_equal (s_parse (doc->text, doc->delimiter, names, names ? 1 : 0, &result, NULL),
                          0);
        if (doc->rows >= 0)
            assert_int_equal (result.count, (size_t) doc->rows);
        if (doc->rows != 0)
            s_assert_row (&result, doc->index, doc->text, doc->want);
        s_result_free (&result);
    }
}

//  Parse TEXT into RESULT (the caller frees it): it must give ROWS rows,
//  row I as WANT[I] says
static void
s_parse_rows (s_result_t *result, const char *text, char delimiter, const char *const *names,
              size_t count, size_t rows, const s_want_t *want)
{
    assert_int_equal (s_parse (text, delimiter, names, count, result, NULL), 0);
    assert_int_equal (result->count, rows);
    for (size_t i = 0; i < rows; i++)
        s_assert_row (result, i, text, want[i]);
}

static void
test_header_and_rows (void **state)
{
    (void) state;
    const char *names[] = {"id", "amount", "nope", NULL};
    const char *text = " id , name\t,amount\n"
                       "BK-1,Ana,12.50\n"
                       "BK-2,Li,\n"
                       "BK-3,\"García, Ana\",\"\"\n";
    const s_want_t want[] = {
        {.reason = "",
         .offset = 19,
         .raw = "BK-1,Ana,12.50",
         .json = "{\"id\":\"BK-1\",\"name\":\"Ana\",\"amount\":\"12.50\"}",
         .value = "BK-1"},
        //  An empty unquoted field is nil; a quoted empty one is an empty string
        {.offset = 34, .json = "{\"id\":\"BK-2\",\"name\":\"Li\",\"amount\":null}"},
        {.offset = 43, .json = "{\"id\":\"BK-3\",\"name\":\"García, Ana\",\"amount\":\"\"}"},
    };
    s_result_t result;
    s_parse_rows (&result, text, ',', names, 4, 3, want);
    assert_string_equal (result.rows[0].values[1], "12.50");
    assert_false (result.rows[0].present[2]);  //  Not a column
    assert_false (result.rows[0].present[3]);  //  A NULL name
    assert_false (result.rows[1].present[1]);
    assert_true (result.rows[2].present[1]);
    assert_string_equal (result.rows[2].values[1], "");
    s_result_free (&result);
}

static void
test_quoting (void **state)
{
    (void) state;
    //  Delimiters, doubled quotes and line breaks inside quotes; spaces kept
    const char *text = "a,b,c\n"
                       "\"x,y\",\"say \"\"hi\"\"\",\" padded \"\n"
                       "1,\"two\nlines\",3\n"
                       " sp ,\"\",\"\"\"\"\n"
                       "4,\"a\n"
                       "\n"
                       "b\",5\n"
                       "6,7,8\n";
    const s_want_t want[] = {
        {.json = "{\"a\":\"x,y\",\"b\":\"say \\\"hi\\\"\",\"c\":\" padded \"}",
         .value = "say \"hi\""},
        //  A row spanning lines starts at its first line, and its raw text has them all
        {.json = "{\"a\":\"1\",\"b\":\"two\\nlines\",\"c\":\"3\"}",
         .at = "1,\"two",
         .raw = "1,\"two\nlines\",3",
         .value = "two\nlines"},
        {.json = "{\"a\":\" sp \",\"b\":\"\",\"c\":\"\\\"\"}"},
        //  A blank line inside quotes is part of the field
        {.json = "{\"a\":\"4\",\"b\":\"a\\n\\nb\",\"c\":\"5\"}", .raw = "4,\"a\n\nb\",5"},
        {.at = "6,7,8"},
    };
    s_result_t result;
    s_parse_rows (&result, text, ',', (const char *[]){"b"}, 1, 5, want);
    s_result_free (&result);
}

static void
test_wrong_field_count (void **state)
{
    (void) state;
    const char *text = "id,name,amount\n"     //  row 1, offset 0
                       "1,a,10\n"             //  row 2, offset 15
                       "2,b\n"                //  row 3, offset 22: too few
                       "3,c,30,extra\n"       //  row 4, offset 26: too many
                       "4,\"multi\nline\"\n"  //  row 5: spans lines, too few
                       "5,e,50\n";            //  row 6
    const s_want_t want[] = {
        {.reason = ""},
        {.reason = "row 3 has 2 fields, the header has 3", .raw = "2,b", .at = "2,b"},
        {.reason = "row 4 has 4 fields, the header has 3", .raw = "3,c,30,extra", .at = "3,c"},
        {.reason = "row 5 has 2 fields, the header has 3",
         .raw = "4,\"multi\nline\"",
         .at = "4,\"multi"},
        //  Parsing went on
        {.reason = "", .at = "5,e,50", .value = "5"},
    };
    s_result_t result;
    s_parse_rows (&result, text, ',', (const char *[]){"id"}, 1, 5, want);
    assert_null (result.rows[1].json);
    s_result_free (&result);
    //  One field
    s_assert_short (
        &(s_short_t){
            "a,b\nonly\n", ',', NULL, -1, 0, {.reason = "row 2 has 1 field, the header has 2"}},
        1);
}

static void
test_misplaced_quotes (void **state)
{
    (void) state;
    const char *text = "a,b\n"
                       "1,x\"y\n"    //  A quote inside an unquoted field
                       "2,\"x\"y\n"  //  Something after the closing quote
                       "3,ok\n";
    const s_want_t want[] = {
        {.raw = "1,x\"y", .offset = 4},
        {.raw = "2,\"x\"y"},
        {.reason = "", .json = "{\"a\":\"3\",\"b\":\"ok\"}"},
    };
    s_result_t result;
    s_parse_rows (&result, text, ',', NULL, 0, 3, want);
    assert_non_null (result.rows[0].reason);
    assert_non_null (strstr (result.rows[0].reason, "row 2"));
    assert_non_null (strstr (result.rows[0].reason, "quote"));
    assert_non_null (strstr (result.rows[1].reason, "row 3"));
    s_result_free (&result);
}

static void
test_delimiter_crlf_and_blank_lines (void **state)
{
    (void) state;
    const char *text = "id;amount;note\r\n"
                       "\r\n"
                       "1;12,50;\"a;b\"\r\n"
                       "\n"
                       "\n"
                       "2;3,10;\"two\r\nlines\"\r\n"
                       "3;x,y;\r\n";
    const s_want_t want[] = {
        {.json = "{\"id\":\"1\",\"amount\":\"12,50\",\"note\":\"a;b\"}",
         .raw = "1;12,50;\"a;b\"",  //  No "\r\n"
         .at = "1;12",
         .value = "12,50"},
        //  A CRLF line break inside quotes reads as "\n"; the raw text keeps it
        {.json = "{\"id\":\"2\",\"amount\":\"3,10\",\"note\":\"two\\nlines\"}",
         .raw = "2;3,10;\"two\r\nlines\"",
         .at = "2;3"},
        {.json = "{\"id\":\"3\",\"amount\":\"x,y\",\"note\":null}"},
    };
    s_result_t result;
    s_parse_rows (&result, text, ';', (const char *[]){"amount"}, 1, 3, want);
    s_result_free (&result);
    //  Tabs
    s_assert_short (
        &(s_short_t){"a\tb\n1\t\n", '\t', NULL, 1, 0, {.json = "{\"a\":\"1\",\"b\":null}"}}, 1);
}

static void
test_missing_final_newline (void **state)
{
    (void) state;
    const s_short_t docs[] = {
        {"a,b\n1,2\n3,4",
         ',',
         "b",
         2,
         1,
         {.json = "{\"a\":\"3\",\"b\":\"4\"}", .raw = "3,4", .offset = 8, .value = "4"}},
        {"a,b\r\n1,\"x\"\r", ',', "b", 1, 0, {.json = "{\"a\":\"1\",\"b\":\"x\"}"}},
        //  A trailing empty field at the very end
        {"a,b\n1,", ',', "b", -1, 0, {.json = "{\"a\":\"1\",\"b\":null}"}},
    };
    s_assert_short (docs, sizeof docs / sizeof docs[0]);
}

static void
test_unterminated_quote (void **state)
{
    (void) state;
    const char *text = "a,b\n"
                       "1,2\n"
                       "3,\"never\n"
                       "closed\n";
    const s_want_t want[] = {
        {.reason = ""},
        {.reason = "row 3 has an unterminated quoted field",
         .raw = "3,\"never\nclosed",
         .at = "3,\"never"},
    };
    s_result_t result;
    s_parse_rows (&result, text, ',', NULL, 0, 2, want);
    assert_non_null (result.rows[1].reason);
    s_result_free (&result);
}

static void
test_bad_headers (void **state)
{
    (void) state;
    s_result_t result;
    char *reason = NULL;
    assert_int_equal (s_parse ("id,name,id\n1,2,3\n", ',', NULL, 0, &result, &reason), -1);
    assert_non_null (strstr (reason, "column 3"));
    assert_non_null (strstr (reason, "\"id\""));
    assert_non_null (strstr (reason, "column 1"));
    assert_int_equal (result.count, 0);
    free (reason);
    //  Trimmed names compare equal
    assert_int_equal (s_parse ("id, id \n", ',', NULL, 0, &result, &reason), -1);
    assert_non_null (strstr (reason, "column 2"));
    free (reason);
    //  Empty names, quoted or not, blank or not
    const char *empty[] = {"id,,name\n", "id,\"\",name\n", "id,  ,name\n", "id,name,\n"};
    const char *column[] = {"column 2", "column 2", "column 2", "column 3"};
    for (int i = 0; i < 4; i++) {
        reason = NULL;
        assert_int_equal (s_parse (empty[i], ',', NULL, 0, &result, &reason), -1);
        if (!strstr (reason, column[i]) || !strstr (reason, "name"))
            fail_msg ("%s: %s", empty[i], reason);
        free (reason);
    }
    //  A malformed header
    assert_int_equal (s_parse ("id,na\"me\n", ',', NULL, 0, &result, &reason), -1);
    assert_non_null (strstr (reason, "header"));
    free (reason);
    //  Once refused, the parser stays refused
    zetl_csv_t *csv = zetl_csv_new (',', NULL, 0);
    const char *why = NULL;
    assert_int_equal (zetl_csv_feed_line (csv, "a,a\n", 4, 0, s_on_row, &result, &why), -1);
    why = NULL;
    assert_int_equal (zetl_csv_feed_line (csv, "1,2\n", 4, 4, s_on_row, &result, &why), -1);
    assert_non_null (why);
    zetl_csv_finish (csv, s_on_row, &result);
    assert_int_equal (result.count, 0);
    zetl_csv_destroy (&csv);
}

static void
test_header_details (void **state)
{
    (void) state;
    const s_short_t docs[] = {
        //  A byte order mark and quoted names
        {"\xef\xbb\xbf\"id\",\"the name\"\n1,x\n",
         ',',
         "id",
         1,
         0,
         {.json = "{\"id\":\"1\",\"the name\":\"x\"}", .value = "1"}},
        //  Blank lines before the header
        {"\n\r\nid\n7\n", ',', "id", 1, 0, {.json = "{\"id\":\"7\"}", .offset = 6}},
        //  Only a header, or nothing at all: no rows
        {"a,b\n", ',', "id", 0, 0, {0}},
        {"", ',', "id", 0, 0, {0}},
    };
    s_assert_short (docs, sizeof docs / sizeof docs[0]);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_header_and_rows),
        cmocka_unit_test (test_quoting),
        cmocka_unit_test (test_wrong_field_count),
        cmocka_unit_test (test_misplaced_quotes),
        cmocka_unit_test (test_delimiter_crlf_and_blank_lines),
        cmocka_unit_test (test_missing_final_newline),
        cmocka_unit_test (test_unterminated_quote),
        cmocka_unit_test (test_bad_headers),
        cmocka_unit_test (test_header_details),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
