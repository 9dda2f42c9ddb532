/* Unit tests: the strict CSV reader and header mapping. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onthedot/csv.h"
#include "onthedot/mem.h"
#include "testutil.h"

/* Reads all of data and renders the rows as "LINE:f1|f2;LINE:f1" into *out
 * (caller cleans it up). Returns the final status: OTD_ENOTFOUND when the
 * whole input was read. */
static enum otd_status parse_all(const char *data, size_t len, size_t max_row, size_t max_fields,
                                 struct otd_buf *out, struct otd_error *err)
{
	struct otd_csv r;
	struct otd_csv_row row;
	enum otd_status st;
	otd_buf_init(out, 0);
	otd_buf_puts(out, "");
	otd_csv_init(&r, data, len, max_row, max_fields);
	while((st = otd_csv_next(&r, &row, err)) == OTD_OK) {
		otd_buf_printf(out, "%s%zu:", out->len ? ";" : "", row.line);
		for(size_t i = 0; i < row.n; i++)
			otd_buf_printf(out, "%s%s", i ? "|" : "", row.fields[i]);
	}
	otd_csv_cleanup(&r);
	return st;
}

/* Asserts that data (a string) reads completely as rendered. */
static void expect_rows(const char *data, const char *rendered)
{
	struct otd_buf out;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = parse_all(data, strlen(data), 4096, 64, &out, &err);
	ck_assert_msg(st == OTD_ENOTFOUND, "input %s: status %d: %s", data, st, err.message);
	ck_assert_str_eq(out.data, rendered);
	otd_buf_cleanup(&out);
}

/* The line number an error message starts with ("line N: ..."). */
static size_t err_line(const struct otd_error *err)
{
	ck_assert_msg(strncmp(err->message, "line ", 5) == 0, "message: %s", err->message);
	char *end;
	unsigned long n = strtoul(err->message + 5, &end, 10);
	ck_assert_msg(end[0] == ':' && end[1] == ' ', "message: %s", err->message);
	return (size_t)n;
}

START_TEST(reads_plain_fields_and_rows)
{
	expect_rows("a,b,c\n1,2,3\n", "1:a|b|c;2:1|2|3");
	expect_rows("single", "1:single");
	expect_rows(",,\n", "1:||");
	expect_rows("a,\n,b\n", "1:a|;2:|b");
	/* Spaces are data; callers trim. */
	expect_rows(" a , b \n", "1: a | b ");
	/* Rows may differ in field count; callers check it. */
	expect_rows("a\nb,c\n", "1:a;2:b|c");
}
END_TEST

START_TEST(reads_quoted_fields)
{
	expect_rows("\"a,b\",\"say \"\"hi\"\"\",\"\"\n", "1:a,b|say \"hi\"|");
	expect_rows("\"\"", "1:");
	expect_rows("\"\"\"\"", "1:\"");
	expect_rows("\" x \",y", "1: x |y");
	expect_rows("a,\"\"\n", "1:a|");
	expect_rows("\"a\"\r\n\"b\"\r", "1:a;2:b");
}
END_TEST

START_TEST(crlf_and_lf_read_the_same)
{
	expect_rows("a,b\nc,d\n", "1:a|b;2:c|d");
	expect_rows("a,b\r\nc,d\r\n", "1:a|b;2:c|d");
	expect_rows("a,b\r\nc,d\n", "1:a|b;2:c|d");
	/* A final row without a line ending, or ending in a lone CR. */
	expect_rows("a,b\nc,d", "1:a|b;2:c|d");
	expect_rows("a,b\r\nc,d\r", "1:a|b;2:c|d");
	expect_rows("a,\r\n", "1:a|");
}
END_TEST

START_TEST(skips_a_leading_bom_only)
{
	expect_rows("\xEF\xBB\xBFname,phone\n", "1:name|phone");
	expect_rows("\xEF\xBB\xBF\n\nx", "3:x");
	/* Elsewhere U+FEFF is an ordinary character. */
	expect_rows("a\n\xEF\xBB\xBF"
	            "b",
	            "1:a;2:\xEF\xBB\xBF"
	            "b");
	expect_rows("\xEF\xBB\xBF\xEF\xBB\xBF"
	            "a",
	            "1:\xEF\xBB\xBF"
	            "a");

	struct otd_buf out;
	struct otd_error err;
	ck_assert_int_eq(parse_all("\xEF\xBB\xBF", 3, 100, 4, &out, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(out.data, "");
	otd_buf_cleanup(&out);
	/* A truncated BOM is invalid UTF-8, not a BOM. */
	ck_assert_int_eq(parse_all("\xEF\xBB", 2, 100, 4, &out, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_encoding");
	otd_buf_cleanup(&out);
}
END_TEST

START_TEST(skips_blank_lines_but_counts_them)
{
	expect_rows("\n\na,b\n\r\n\nc\n\n", "3:a|b;6:c");
	expect_rows("\r\n\r\nx\r\n\r\n", "3:x");
	expect_rows("", "");
	expect_rows("\n", "");
	expect_rows("\r", "");
	/* A line of spaces is a row with one field. */
	expect_rows("a\n  \nb", "1:a;2:  ;3:b");
	/* A quoted empty field is a row, not a blank line. */
	expect_rows("a\n\"\"\nb", "1:a;2:;3:b");
}
END_TEST

START_TEST(quoted_newlines_advance_line_numbers)
{
	expect_rows("a,\"x\ny\"\nb,c\n\"p\r\nq\",r\ns", "1:a|x\ny;3:b|c;4:p\r\nq|r;6:s");
	expect_rows("\"\n\n\n\"\n\nz", "1:\n\n\n;6:z");

	struct otd_buf out;
	struct otd_error err;
	const char *in = "h\n\"a\nb\nc\" x\n";
	ck_assert_int_eq(parse_all(in, strlen(in), 100, 4, &out, &err), OTD_EINVAL);
	ck_assert_str_eq(out.data, "1:h");
	ck_assert_uint_eq(err_line(&err), 4);
	otd_buf_cleanup(&out);
}
END_TEST

START_TEST(accepts_valid_utf8_boundaries)
{
	/* U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF. */
	const char *chars = "\xC2\x80,\xDF\xBF,\xE0\xA0\x80,\xED\x9F\xBF,\xEE\x80\x80,\xEF\xBF\xBF,"
	                    "\xF0\x90\x80\x80,\xF4\x8F\xBF\xBF";
	struct otd_buf out;
	struct otd_error err;
	ck_assert_int_eq(parse_all(chars, strlen(chars), 100, 8, &out, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(out.data, "1:\xC2\x80|\xDF\xBF|\xE0\xA0\x80|\xED\x9F\xBF|\xEE\x80\x80|"
	                           "\xEF\xBF\xBF|\xF0\x90\x80\x80|\xF4\x8F\xBF\xBF");
	otd_buf_cleanup(&out);
	expect_rows("\"Zo\xC3\xAB, K\xC3\xB6nig\",\xE6\x9D\xB1\xE4\xBA\xAC",
	            "1:Zo\xC3\xAB, K\xC3\xB6nig|\xE6\x9D\xB1\xE4\xBA\xAC");
}
END_TEST

/* Malformed inputs and the exact line each error names. */
static const struct malformed {
	const char *what;
	const char *data;
	size_t len; /* 0: strlen(data) */
	size_t max_row, max_fields;
	size_t rows_before; /* rows read before the error */
	enum otd_status status;
	const char *code;
	size_t line;
} malformed[] = {
    {"quote in unquoted field", "a,b\nc\"d\n", 0, 100, 8, 1, OTD_EINVAL, "csv_syntax", 2},
    {"quote ending an unquoted field", "ab\"\n", 0, 100, 8, 0, OTD_EINVAL, "csv_syntax", 1},
    {"text after closing quote", "\"ab\"c\n", 0, 100, 8, 0, OTD_EINVAL, "csv_syntax", 1},
    {"space after closing quote", "x\n\"ab\" ,c\n", 0, 100, 8, 1, OTD_EINVAL, "csv_syntax", 2},
    {"text after quote, after quoted newlines", "\"a\n\nb\",\"c\"d", 0, 100, 8, 0, OTD_EINVAL,
     "csv_syntax", 3},
    {"quote in unquoted field after quoted newline", "\"a\nb\",c\"d", 0, 100, 8, 0, OTD_EINVAL,
     "csv_syntax", 2},
    {"unterminated quote names its line", "x\n\"abc\n\ndef", 0, 100, 8, 1, OTD_EINVAL, "csv_syntax",
     2},
    {"unterminated quote, escaped quote last", "a\n\n\"x\"\"\n", 0, 100, 8, 1, OTD_EINVAL,
     "csv_syntax", 3},
    {"unterminated quote in second field", "a\nb,\"c\nd\ne", 0, 100, 8, 1, OTD_EINVAL, "csv_syntax",
     2},
    {"unterminated quote opened after a quoted newline", "x\n\"a\nb\",\"c\nd\n", 0, 100, 8, 1,
     OTD_EINVAL, "csv_syntax", 3},
    {"lone quote at end", "a\n\"", 0, 100, 8, 1, OTD_EINVAL, "csv_syntax", 2},
    {"bare CR in a field", "a\rb\n", 0, 100, 8, 0, OTD_EINVAL, "csv_syntax", 1},
    {"CR CR LF", "a,b\r\r\n", 0, 100, 8, 0, OTD_EINVAL, "csv_syntax", 1},
    {"blank lines before an error count", "\n\r\n\nx\"\n", 0, 100, 8, 0, OTD_EINVAL, "csv_syntax",
     4},
    {"NUL byte", "a,b\nc\0d\n", 8, 100, 8, 1, OTD_EINVAL, "csv_encoding", 2},
    {"NUL byte in quotes", "\"a\nb\0\"", 6, 100, 8, 0, OTD_EINVAL, "csv_encoding", 2},
    {"NUL line", "a\n\0", 3, 100, 8, 1, OTD_EINVAL, "csv_encoding", 2},
    {"overlong 2 bytes", "ok\n\xC0\x80", 0, 100, 8, 1, OTD_EINVAL, "csv_encoding", 2},
    {"overlong C1", "\xC1\xBF", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"overlong 3 bytes", "a\nb\n\xE0\x80\x80", 0, 100, 8, 2, OTD_EINVAL, "csv_encoding", 3},
    {"overlong 4 bytes", "\xF0\x80\x80\x80", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"surrogate", "x,\xED\xA0\x80", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"surrogate in quotes", "\"\n\xED\xBF\xBF\"", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 2},
    {"above U+10FFFF", "\xF4\x90\x80\x80", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"F5 lead byte", "\xF5\x80\x80\x80", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"lone continuation byte", "a\n\x80", 0, 100, 8, 1, OTD_EINVAL, "csv_encoding", 2},
    {"FF byte", "\xFF", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"truncated at end", "\xE2\x82", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"truncated before comma", "\xE2\x82,x", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"truncated before closing quote", "\"\xC3\"", 0, 100, 8, 0, OTD_EINVAL, "csv_encoding", 1},
    {"latin-1 file", "name\nZo\xEB\n", 0, 100, 8, 1, OTD_EINVAL, "csv_encoding", 2},
    {"row one byte over", "0123456789\n01234567890\n", 0, 10, 8, 1, OTD_ETOOBIG, "csv_row_too_long",
     2},
    {"row over at end of input", "a\n\n01234567890", 0, 10, 8, 1, OTD_ETOOBIG, "csv_row_too_long",
     3},
    {"quoted row over names its first line", "a\n\"0\n1\n2\n3\n4\n5\"", 0, 10, 8, 1, OTD_ETOOBIG,
     "csv_row_too_long", 2},
    {"closing quote over the cap", "\"012345678\"", 0, 10, 8, 0, OTD_ETOOBIG, "csv_row_too_long",
     1},
    {"opening quote over the cap", "012345678,\"", 0, 10, 8, 0, OTD_ETOOBIG, "csv_row_too_long", 1},
    {"comma over the cap", "0123456789,", 0, 10, 8, 0, OTD_ETOOBIG, "csv_row_too_long", 1},
    {"escaped quote across the cap", "\"01234567\"\"\"", 0, 10, 8, 0, OTD_ETOOBIG,
     "csv_row_too_long", 1},
    {"character across the cap", "abc\xC3\xA9", 0, 4, 8, 0, OTD_ETOOBIG, "csv_row_too_long", 1},
    {"too many fields", "a,b,c\na,b,c,d\n", 0, 100, 3, 1, OTD_ETOOBIG, "csv_too_many_fields", 2},
    {"trailing comma adds a field", "a,b,c,", 0, 100, 3, 0, OTD_ETOOBIG, "csv_too_many_fields", 1},
    {"too many fields after a quoted newline", "\"a\nb\",c,d", 0, 100, 2, 0, OTD_ETOOBIG,
     "csv_too_many_fields", 1},
    {"one field allowed", "a\nb,c", 0, 100, 1, 1, OTD_ETOOBIG, "csv_too_many_fields", 2},
};

START_TEST(malformed_input_names_the_line)
{
	const struct malformed *m = &malformed[_i];
	size_t len = m->len ? m->len : strlen(m->data);
	struct otd_csv r;
	struct otd_csv_row row;
	struct otd_error err;
	enum otd_status st;
	size_t rows = 0;
	otd_csv_init(&r, m->data, len, m->max_row, m->max_fields);
	while((st = otd_csv_next(&r, &row, &err)) == OTD_OK)
		rows++;
	ck_assert_msg(st == m->status, "%s: status %d, want %d (%s)", m->what, st, m->status,
	              st == OTD_ENOTFOUND ? "no error" : err.message);
	ck_assert_msg(strcmp(err.code, m->code) == 0, "%s: code %s", m->what, err.code);
	ck_assert_msg(err_line(&err) == m->line, "%s: %s", m->what, err.message);
	ck_assert_msg(rows == m->rows_before, "%s: %zu rows before the error", m->what, rows);
	ck_assert_int_eq(err.status, m->status);
	ck_assert_uint_eq(row.n, 0);

	/* The reader stays stopped with the same error. */
	struct otd_error again;
	otd_error_clear(&again);
	ck_assert_int_eq(otd_csv_next(&r, &row, &again), m->status);
	ck_assert_str_eq(again.code, err.code);
	ck_assert_str_eq(again.message, err.message);
	ck_assert_int_eq(otd_csv_next(&r, &row, NULL), m->status);
	otd_csv_cleanup(&r);
}
END_TEST

START_TEST(messages_say_what_is_wrong)
{
	struct otd_buf out;
	struct otd_error err;
	parse_all("a,\"b\"c", 6, 100, 8, &out, &err);
	ck_assert_str_eq(err.message, "line 1: text after the closing quote of field 2; a quote "
	                              "inside a quoted field is written as two quotes");
	ck_assert_str_eq(err.field, "");
	otd_buf_cleanup(&out);
	parse_all("x\n\"abc", 6, 100, 8, &out, &err);
	ck_assert_str_eq(err.message, "line 2: field 1 opens a quote that is never closed");
	otd_buf_cleanup(&out);
	parse_all("0123456789a", 11, 10, 8, &out, &err);
	ck_assert_str_eq(err.message, "line 1: the row is longer than 10 bytes");
	otd_buf_cleanup(&out);
	parse_all("a,b,c", 5, 10, 2, &out, &err);
	ck_assert_str_eq(err.message, "line 1: the row has more than 2 fields");
	otd_buf_cleanup(&out);
}
END_TEST

START_TEST(caps_allow_exactly_the_limit)
{
	struct otd_buf out;
	struct otd_error err;
	/* 10 content bytes; the line ending does not count. */
	const char *in = "0123456789\r\n\"01234567\"\n\"\"\"\"\"\"\"\"\"\"\nab\xC3\xA9\n";
	ck_assert_int_eq(parse_all(in, strlen(in), 10, 8, &out, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(out.data, "1:0123456789;2:01234567;3:\"\"\"\";4:ab\xC3\xA9");
	otd_buf_cleanup(&out);
	in = "a,b,c\n,,\n";
	ck_assert_int_eq(parse_all(in, strlen(in), 10, 3, &out, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(out.data, "1:a|b|c;2:||");
	otd_buf_cleanup(&out);
	/* An effectively unlimited cap does not overflow. */
	ck_assert_int_eq(parse_all(in, strlen(in), SIZE_MAX, SIZE_MAX, &out, &err), OTD_ENOTFOUND);
	otd_buf_cleanup(&out);
}
END_TEST

START_TEST(many_fields_in_one_row)
{
	char in[400];
	size_t n = 0;
	for(int i = 0; i < 150; i++) {
		in[n++] = (char)('a' + i % 26);
		in[n++] = ',';
	}
	in[n - 1] = '\n';
	struct otd_csv r;
	struct otd_csv_row row;
	struct otd_error err;
	otd_csv_init(&r, in, n, sizeof(in), 150);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_OK);
	ck_assert_uint_eq(row.n, 150);
	for(size_t i = 0; i < row.n; i++) {
		ck_assert_uint_eq(strlen(row.fields[i]), 1);
		ck_assert_int_eq(row.fields[i][0], 'a' + (int)(i % 26));
	}
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_ENOTFOUND);
	otd_csv_cleanup(&r);
	otd_csv_cleanup(&r); /* twice is harmless */
}
END_TEST

START_TEST(end_of_input_is_sticky_and_leaves_err_alone)
{
	struct otd_csv r;
	struct otd_csv_row row;
	struct otd_error err;
	otd_error_set(&err, OTD_EBUSY, "marker", NULL, "untouched");
	otd_csv_init(&r, "a\n", 2, 10, 2);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_OK);
	ck_assert_str_eq(row.fields[0], "a");
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_ENOTFOUND);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(err.code, "marker");
	otd_csv_cleanup(&r);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_ENOTFOUND);
	/* NULL data with length 0 is empty input. */
	otd_csv_init(&r, NULL, 0, 10, 2);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_ENOTFOUND);
	otd_csv_cleanup(&r);
}
END_TEST

/* Header mapping. */

static const char *const visitor_cols[] = {"name", "phone", "email", "notes", "language"};

/* Maps header (one CSV line) against visitor_cols, 2 required. */
static enum otd_status map_header(const char *header, int index_of[5], struct otd_error *err)
{
	struct otd_csv r;
	struct otd_csv_row row;
	otd_csv_init(&r, header, strlen(header), 1000, 20);
	ck_assert_int_eq(otd_csv_next(&r, &row, err), OTD_OK);
	enum otd_status st = otd_csv_header(&row, visitor_cols, 2, 5, index_of, err);
	otd_csv_cleanup(&r);
	return st;
}

START_TEST(header_maps_columns_in_any_order)
{
	int ix[5];
	struct otd_error err;
	ck_assert_int_eq(map_header("email,name,language,phone,notes", ix, &err), OTD_OK);
	ck_assert_int_eq(ix[0], 1);
	ck_assert_int_eq(ix[1], 3);
	ck_assert_int_eq(ix[2], 0);
	ck_assert_int_eq(ix[3], 4);
	ck_assert_int_eq(ix[4], 2);
}
END_TEST

START_TEST(header_ignores_case_and_spaces)
{
	int ix[5];
	struct otd_error err;
	ck_assert_int_eq(map_header("\xEF\xBB\xBF  NAME ,\" Phone\t\",eMail", ix, &err), OTD_OK);
	ck_assert_int_eq(ix[0], 0);
	ck_assert_int_eq(ix[1], 1);
	ck_assert_int_eq(ix[2], 2);
	/* Inner spaces still count. */
	ck_assert_int_eq(map_header("name,pho ne", ix, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_unknown_column");
	/* A prefix is not a match. */
	ck_assert_int_eq(map_header("name,phon", ix, &err), OTD_EINVAL);
	ck_assert_int_eq(map_header("name,phones", ix, &err), OTD_EINVAL);
}
END_TEST

START_TEST(header_absent_optional_column_is_minus_one)
{
	int ix[5];
	struct otd_error err;
	ck_assert_int_eq(map_header("phone,name", ix, &err), OTD_OK);
	ck_assert_int_eq(ix[0], 1);
	ck_assert_int_eq(ix[1], 0);
	ck_assert_int_eq(ix[2], -1);
	ck_assert_int_eq(ix[3], -1);
	ck_assert_int_eq(ix[4], -1);
	ck_assert_int_eq(map_header("phone,notes,name", ix, &err), OTD_OK);
	ck_assert_int_eq(ix[3], 1);
	ck_assert_int_eq(ix[2], -1);
}
END_TEST

START_TEST(header_missing_required_column)
{
	int ix[5];
	struct otd_error err;
	ck_assert_int_eq(map_header("name,email", ix, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_missing_column");
	ck_assert_str_eq(err.field, "phone");
	ck_assert_str_eq(err.message, "line 1: missing required column: phone");
	ck_assert_int_eq(map_header("notes", ix, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "name");
	ck_assert_str_eq(err.message, "line 1: missing required columns: name, phone");
}
END_TEST

START_TEST(header_unknown_column)
{
	int ix[5];
	struct otd_error err;
	ck_assert_int_eq(map_header("name,phone, Fax ", ix, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_unknown_column");
	ck_assert_str_eq(err.field, "Fax");
	ck_assert_str_eq(err.message, "line 1: unknown column \"Fax\" (column 3); the columns are: "
	                              "name, phone, email, notes, language");
	/* An empty header field (a trailing comma) is an unknown column too. */
	ck_assert_int_eq(map_header("name,phone,", ix, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_unknown_column");
	ck_assert_ptr_nonnull(strstr(err.message, "column 3 has no name"));
	/* A long name is cut on a character boundary, never inside one. */
	char hdr[200] = "name,x";
	for(int i = 0; i < 40; i++)
		memcpy(hdr + 6 + 2 * i, "\xC3\xA9", 3);
	ck_assert_int_eq(map_header(hdr, ix, &err), OTD_EINVAL);
	ck_assert_uint_eq(strlen(err.field), 59 + 3);
	ck_assert_str_eq(err.field + 59, "...");
	ck_assert_ptr_nonnull(strstr(err.message, err.field));
}
END_TEST

START_TEST(header_duplicate_column)
{
	int ix[5];
	struct otd_error err;
	ck_assert_int_eq(map_header("name,phone,Name ", ix, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_duplicate_column");
	ck_assert_str_eq(err.field, "name");
	ck_assert_str_eq(err.message, "line 1: column \"name\" appears twice (columns 1 and 3)");
	ck_assert_int_eq(map_header("name,phone,notes,NOTES", ix, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "notes");
}
END_TEST

START_TEST(header_names_its_own_line)
{
	struct otd_csv r;
	struct otd_csv_row row;
	struct otd_error err;
	int ix[5];
	const char *in = "\n\r\nname,fax\n";
	otd_csv_init(&r, in, strlen(in), 100, 8);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_OK);
	ck_assert_int_eq(otd_csv_header(&row, visitor_cols, 2, 5, ix, &err), OTD_EINVAL);
	ck_assert_uint_eq(err_line(&err), 3);
	otd_csv_cleanup(&r);
}
END_TEST

START_TEST(header_long_name_lists_are_cut_visibly)
{
	char names[30][16];
	const char *expected[30];
	int ix[30];
	for(int j = 0; j < 30; j++) {
		snprintf(names[j], sizeof(names[j]), "column_%02d", j);
		expected[j] = names[j];
	}
	struct otd_csv r;
	struct otd_csv_row row;
	struct otd_error err;
	otd_csv_init(&r, "column_00,column_29", 19, 100, 8);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_OK);
	ck_assert_int_eq(otd_csv_header(&row, expected, 30, 30, ix, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "csv_missing_column");
	ck_assert_str_eq(err.field, "column_01");
	ck_assert_ptr_nonnull(strstr(err.message, "columns: column_01, column_02, "));
	ck_assert_ptr_null(strstr(err.message, "column_28"));
	ck_assert_str_eq(err.message + strlen(err.message) - 3, "...");
	otd_csv_cleanup(&r);
	/* All optional: the same header maps. */
	otd_csv_init(&r, "column_00,column_29", 19, 100, 8);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_OK);
	ck_assert_int_eq(otd_csv_header(&row, expected, 0, 30, ix, &err), OTD_OK);
	ck_assert_int_eq(ix[0], 0);
	ck_assert_int_eq(ix[29], 1);
	ck_assert_int_eq(ix[15], -1);
	otd_csv_cleanup(&r);
}
END_TEST

/* FNV-1a, to compare what was written with what was read. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for(size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211u;
	}
	return h;
}

START_TEST(reads_100000_rows_quickly_and_exactly)
{
	enum { ROWS = 100000 };
	struct otd_buf in;
	otd_buf_init(&in, 0);
	otd_buf_puts(&in, "\xEF\xBB\xBFid,name,email,note,lat,lon\r\n");
	uint64_t want = 14695981039346656037u;
	size_t line = 2, *want_line = xmalloc(ROWS * sizeof(*want_line));
	char f[6][96];
	for(int i = 0; i < ROWS; i++) {
		snprintf(f[0], sizeof(f[0]), "%d", i);
		snprintf(f[1], sizeof(f[1]), "Visitor %d, Jr.", i);
		snprintf(f[2], sizeof(f[2]), "visitor%d@example.org", i);
		snprintf(f[3], sizeof(f[3]), "%s \"gate %d\"",
		         i % 1000 == 0 ? "ring\ntwice" : "ring", i % 7);
		snprintf(f[4], sizeof(f[4]), "%d.%06d", 40 + i % 10, i * 7 % 1000000);
		snprintf(f[5], sizeof(f[5]), "-3.%06d", i * 13 % 1000000);
		/* Quote the fields that need it, doubling quotes. */
		for(int k = 0; k < 6; k++) {
			if(k)
				otd_buf_puts(&in, ",");
			if(strpbrk(f[k], ",\"\n")) {
				otd_buf_puts(&in, "\"");
				for(const char *c = f[k]; *c; c++)
					otd_buf_puts(&in, *c == '"' ? "\"\"" : (char[]){*c, 0});
				otd_buf_puts(&in, "\"");
			} else {
				otd_buf_puts(&in, f[k]);
			}
			want = fnv(want, f[k], strlen(f[k]) + 1);
		}
		otd_buf_puts(&in, i % 3 ? "\n" : "\r\n");
		want_line[i] = line;
		line += i % 1000 == 0 ? 2 : 1;
	}
	ck_assert_uint_gt(in.len, ROWS * 90);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct otd_csv r;
	struct otd_csv_row row;
	struct otd_error err;
	enum otd_status st;
	int ix[6];
	static const char *const cols[] = {"id", "name", "email", "lat", "lon", "note"};
	otd_csv_init(&r, in.data, in.len, 512, 16);
	ck_assert_int_eq(otd_csv_next(&r, &row, &err), OTD_OK);
	ck_assert_int_eq(otd_csv_header(&row, cols, 5, 6, ix, &err), OTD_OK);
	ck_assert_int_eq(ix[5], 3);
	uint64_t got = 14695981039346656037u;
	size_t rows = 0;
	while((st = otd_csv_next(&r, &row, &err)) == OTD_OK) {
		ck_assert_uint_eq(row.n, 6);
		for(size_t k = 0; k < row.n; k++)
			got = fnv(got, row.fields[k], strlen(row.fields[k]) + 1);
		ck_assert_uint_eq(row.line, want_line[rows]);
		rows++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_int_eq(st, OTD_ENOTFOUND);
	ck_assert_uint_eq(rows, ROWS);
	ck_assert_uint_eq(got, want);
	/* A bound that only catches quadratic behaviour, not a benchmark:
	 * sanitizer builds run this too. The -O2 figure is in the report. */
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(secs < 5.0, "100000 rows took %.2f s", secs);
	otd_csv_cleanup(&r);
	otd_buf_cleanup(&in);
	free(want_line);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("reader");
	tcase_add_test(tc, reads_plain_fields_and_rows);
	tcase_add_test(tc, reads_quoted_fields);
	tcase_add_test(tc, crlf_and_lf_read_the_same);
	tcase_add_test(tc, skips_a_leading_bom_only);
	tcase_add_test(tc, skips_blank_lines_but_counts_them);
	tcase_add_test(tc, quoted_newlines_advance_line_numbers);
	tcase_add_test(tc, accepts_valid_utf8_boundaries);
	tcase_add_loop_test(tc, malformed_input_names_the_line, 0,
	                    (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tc, messages_say_what_is_wrong);
	tcase_add_test(tc, caps_allow_exactly_the_limit);
	tcase_add_test(tc, many_fields_in_one_row);
	tcase_add_test(tc, end_of_input_is_sticky_and_leaves_err_alone);
	tcase_add_test(tc, reads_100000_rows_quickly_and_exactly);
	suite_add_tcase(s, tc);
	TCase *th = tcase_create("header");
	tcase_add_test(th, header_maps_columns_in_any_order);
	tcase_add_test(th, header_ignores_case_and_spaces);
	tcase_add_test(th, header_absent_optional_column_is_minus_one);
	tcase_add_test(th, header_missing_required_column);
	tcase_add_test(th, header_unknown_column);
	tcase_add_test(th, header_duplicate_column);
	tcase_add_test(th, header_names_its_own_line);
	tcase_add_test(th, header_long_name_lists_are_cut_visibly);
	suite_add_tcase(s, th);
	return testutil_run(s);
}
