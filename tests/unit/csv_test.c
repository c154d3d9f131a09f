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

static void
test_header_and_rows (void **state)
{
    (void) state;
    const char *names[] = {"id", "amount", "nope", NULL};
    s_result_t result;
    const char *text = " id , name\t,amount\n"
                       "BK-1,Ana,12.50\n"
                       "BK-2,Li,\n"
                       "BK-3,\"García, Ana\",\"\"\n";
    assert_int_equal (s_parse (text, ',', names, 4, &result, NULL), 0);
    assert_int_equal (result.count, 3);
    s_row_t *row = &result.rows[0];
    assert_null (row->reason);
    assert_int_equal (row->offset, 19);
    assert_string_equal (row->raw, "BK-1,Ana,12.50");
    assert_string_equal (row->json, "{\"id\":\"BK-1\",\"name\":\"Ana\",\"amount\":\"12.50\"}");
    assert_true (row->present[0]);
    assert_string_equal (row->values[0], "BK-1");
    assert_string_equal (row->values[1], "12.50");
    assert_false (row->present[2]);  //  Not a column
    assert_false (row->present[3]);  //  A NULL name
    //  An empty unquoted field is nil; a quoted empty one is an empty string
    row = &result.rows[1];
    assert_int_equal (row->offset, 34);
    assert_string_equal (row->json, "{\"id\":\"BK-2\",\"name\":\"Li\",\"amount\":null}");
    assert_false (row->present[1]);
    row = &result.rows[2];
    assert_int_equal (row->offset, 43);
    assert_string_equal (row->json, "{\"id\":\"BK-3\",\"name\":\"García, Ana\",\"amount\":\"\"}");
    assert_true (row->present[1]);
    assert_string_equal (row->values[1], "");
    s_result_free (&result);
}

static void
test_quoting (void **state)
{
    (void) state;
    const char *names[] = {"b"};
    s_result_t result;
    //  Delimiters, doubled quotes and line breaks inside quotes; spaces kept
    const char *text = "a,b,c\n"
                       "\"x,y\",\"say \"\"hi\"\"\",\" padded \"\n"
                       "1,\"two\nlines\",3\n"
                       " sp ,\"\",\"\"\"\"\n"
                       "4,\"a\n"
                       "\n"
                       "b\",5\n"
                       "6,7,8\n";
    assert_int_equal (s_parse (text, ',', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 5);
    assert_string_equal (result.rows[0].json,
                         "{\"a\":\"x,y\",\"b\":\"say \\\"hi\\\"\",\"c\":\" padded \"}");
    assert_string_equal (result.rows[0].values[0], "say \"hi\"");
    //  A row spanning lines starts at its first line, and its raw text has them all
    assert_string_equal (result.rows[1].json, "{\"a\":\"1\",\"b\":\"two\\nlines\",\"c\":\"3\"}");
    assert_int_equal (result.rows[1].offset, s_offset_of (text, "1,\"two"));
    assert_string_equal (result.rows[1].raw, "1,\"two\nlines\",3");
    assert_string_equal (result.rows[1].values[0], "two\nlines");
    assert_string_equal (result.rows[2].json, "{\"a\":\" sp \",\"b\":\"\",\"c\":\"\\\"\"}");
    //  A blank line inside quotes is part of the field
    assert_string_equal (result.rows[3].json, "{\"a\":\"4\",\"b\":\"a\\n\\nb\",\"c\":\"5\"}");
    assert_string_equal (result.rows[3].raw, "4,\"a\n\nb\",5");
    assert_int_equal (result.rows[4].offset, s_offset_of (text, "6,7,8"));
    s_result_free (&result);
}

static void
test_wrong_field_count (void **state)
{
    (void) state;
    const char *names[] = {"id"};
    s_result_t result;
    const char *text = "id,name,amount\n"     //  row 1, offset 0
                       "1,a,10\n"             //  row 2, offset 15
                       "2,b\n"                //  row 3, offset 22: too few
                       "3,c,30,extra\n"       //  row 4, offset 26: too many
                       "4,\"multi\nline\"\n"  //  row 5: spans lines, too few
                       "5,e,50\n";            //  row 6
    assert_int_equal (s_parse (text, ',', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 5);
    assert_null (result.rows[0].reason);
    assert_string_equal (result.rows[1].reason, "row 3 has 2 fields, the header has 3");
    assert_string_equal (result.rows[1].raw, "2,b");
    assert_int_equal (result.rows[1].offset, s_offset_of (text, "2,b"));
    assert_null (result.rows[1].json);
    assert_string_equal (result.rows[2].reason, "row 4 has 4 fields, the header has 3");
    assert_string_equal (result.rows[2].raw, "3,c,30,extra");
    assert_int_equal (result.rows[2].offset, s_offset_of (text, "3,c"));
    assert_string_equal (result.rows[3].reason, "row 5 has 2 fields, the header has 3");
    assert_string_equal (result.rows[3].raw, "4,\"multi\nline\"");
    assert_int_equal (result.rows[3].offset, s_offset_of (text, "4,\"multi"));
    //  Parsing went on
    assert_null (result.rows[4].reason);
    assert_int_equal (result.rows[4].offset, s_offset_of (text, "5,e,50"));
    assert_string_equal (result.rows[4].values[0], "5");
    s_result_free (&result);
    //  One field
    assert_int_equal (s_parse ("a,b\nonly\n", ',', NULL, 0, &result, NULL), 0);
    assert_string_equal (result.rows[0].reason, "row 2 has 1 field, the header has 2");
    s_result_free (&result);
}

static void
test_misplaced_quotes (void **state)
{
    (void) state;
    s_result_t result;
    const char *text = "a,b\n"
                       "1,x\"y\n"    //  A quote inside an unquoted field
                       "2,\"x\"y\n"  //  Something after the closing quote
                       "3,ok\n";
    assert_int_equal (s_parse (text, ',', NULL, 0, &result, NULL), 0);
    assert_int_equal (result.count, 3);
    assert_non_null (result.rows[0].reason);
    assert_non_null (strstr (result.rows[0].reason, "row 2"));
    assert_non_null (strstr (result.rows[0].reason, "quote"));
    assert_string_equal (result.rows[0].raw, "1,x\"y");
    assert_int_equal (result.rows[0].offset, 4);
    assert_non_null (strstr (result.rows[1].reason, "row 3"));
    assert_string_equal (result.rows[1].raw, "2,\"x\"y");
    assert_null (result.rows[2].reason);
    assert_string_equal (result.rows[2].json, "{\"a\":\"3\",\"b\":\"ok\"}");
    s_result_free (&result);
}

static void
test_delimiter_crlf_and_blank_lines (void **state)
{
    (void) state;
    const char *names[] = {"amount"};
    s_result_t result;
    const char *text = "id;amount;note\r\n"
                       "\r\n"
                       "1;12,50;\"a;b\"\r\n"
                       "\n"
                       "\n"
                       "2;3,10;\"two\r\nlines\"\r\n"
                       "3;x,y;\r\n";
    assert_int_equal (s_parse (text, ';', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 3);
    assert_string_equal (result.rows[0].json,
                         "{\"id\":\"1\",\"amount\":\"12,50\",\"note\":\"a;b\"}");
    assert_string_equal (result.rows[0].raw, "1;12,50;\"a;b\"");  //  No "\r\n"
    assert_int_equal (result.rows[0].offset, s_offset_of (text, "1;12"));
    assert_string_equal (result.rows[0].values[0], "12,50");
    //  A CRLF line break inside quotes reads as "\n"; the raw text keeps it
    assert_string_equal (result.rows[1].json,
                         "{\"id\":\"2\",\"amount\":\"3,10\",\"note\":\"two\\nlines\"}");
    assert_string_equal (result.rows[1].raw, "2;3,10;\"two\r\nlines\"");
    assert_int_equal (result.rows[1].offset, s_offset_of (text, "2;3"));
    assert_string_equal (result.rows[2].json, "{\"id\":\"3\",\"amount\":\"x,y\",\"note\":null}");
    s_result_free (&result);
    //  Tabs
    assert_int_equal (s_parse ("a\tb\n1\t\n", '\t', NULL, 0, &result, NULL), 0);
    assert_int_equal (result.count, 1);
    assert_string_equal (result.rows[0].json, "{\"a\":\"1\",\"b\":null}");
    s_result_free (&result);
}

static void
test_missing_final_newline (void **state)
{
    (void) state;
    const char *names[] = {"b"};
    s_result_t result;
    assert_int_equal (s_parse ("a,b\n1,2\n3,4", ',', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 2);
    assert_string_equal (result.rows[1].json, "{\"a\":\"3\",\"b\":\"4\"}");
    assert_string_equal (result.rows[1].raw, "3,4");
    assert_int_equal (result.rows[1].offset, 8);
    assert_string_equal (result.rows[1].values[0], "4");
    s_result_free (&result);
    assert_int_equal (s_parse ("a,b\r\n1,\"x\"\r", ',', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 1);
    assert_string_equal (result.rows[0].json, "{\"a\":\"1\",\"b\":\"x\"}");
    s_result_free (&result);
    //  A trailing empty field at the very end
    assert_int_equal (s_parse ("a,b\n1,", ',', names, 1, &result, NULL), 0);
    assert_string_equal (result.rows[0].json, "{\"a\":\"1\",\"b\":null}");
    s_result_free (&result);
}

static void
test_unterminated_quote (void **state)
{
    (void) state;
    s_result_t result;
    const char *text = "a,b\n"
                       "1,2\n"
                       "3,\"never\n"
                       "closed\n";
    assert_int_equal (s_parse (text, ',', NULL, 0, &result, NULL), 0);
    assert_int_equal (result.count, 2);
    assert_null (result.rows[0].reason);
    assert_non_null (result.rows[1].reason);
    assert_string_equal (result.rows[1].reason, "row 3 has an unterminated quoted field");
    assert_string_equal (result.rows[1].raw, "3,\"never\nclosed");
    assert_int_equal (result.rows[1].offset, s_offset_of (text, "3,\"never"));
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
    const char *names[] = {"id"};
    s_result_t result;
    //  A byte order mark and quoted names; blank lines before the header
    const char *text = "\xef\xbb\xbf\"id\",\"the name\"\n1,x\n";
    assert_int_equal (s_parse (text, ',', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 1);
    assert_string_equal (result.rows[0].json, "{\"id\":\"1\",\"the name\":\"x\"}");
    assert_string_equal (result.rows[0].values[0], "1");
    s_result_free (&result);
    assert_int_equal (s_parse ("\n\r\nid\n7\n", ',', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 1);
    assert_string_equal (result.rows[0].json, "{\"id\":\"7\"}");
    assert_int_equal (result.rows[0].offset, 6);
    s_result_free (&result);
    //  Only a header, or nothing at all: no rows
    assert_int_equal (s_parse ("a,b\n", ',', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 0);
    assert_int_equal (s_parse ("", ',', names, 1, &result, NULL), 0);
    assert_int_equal (result.count, 0);
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
