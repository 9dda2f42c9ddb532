/* libFuzzer target: the CSV reader on arbitrary bytes with small caps.
 *
 * Reads every row and checks what the reader promises: fields are
 * NUL-terminated, hold no NUL, are valid UTF-8 and no longer than the row
 * cap; a row has 1..max fields; rows start on strictly increasing lines; an
 * error has one of the documented codes, a "line N: " message with N not
 * before the last row, and repeats on the next call. Then it writes the rows
 * it read back out as CSV (every field quoted) and reads that again: the
 * same fields must come back. Also maps the first row as a header. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/csv.h"
#include "onthedot/mem.h"

enum { MAX_ROW = 256, MAX_FIELDS = 16 };

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if(!(cond)) {                                                                      \
			fprintf(stderr, "fuzz_csv: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while(0)

/* True when s[0..n-1] is well-formed UTF-8 (an independent, simpler decoder
 * than the reader's: decode, then reject overlong, surrogate, too large). */
static int valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while(i < n) {
		unsigned c = s[i], k;
		uint32_t cp;
		if(c < 0x80) {
			i++;
			continue;
		} else if((c & 0xE0) == 0xC0) {
			k = 1;
			cp = c & 0x1F;
		} else if((c & 0xF0) == 0xE0) {
			k = 2;
			cp = c & 0x0F;
		} else if((c & 0xF8) == 0xF0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if(n - i <= k)
			return 0;
		for(unsigned j = 1; j <= k; j++) {
			if((s[i + j] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3F);
		}
		static const uint32_t min[4] = {0, 0x80, 0x800, 0x10000};
		if(cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* Appends row as CSV with every field quoted. */
static void write_row(struct otd_buf *b, const struct otd_csv_row *row)
{
	for(size_t i = 0; i < row->n; i++) {
		otd_buf_puts(b, i ? ",\"" : "\"");
		for(const char *c = row->fields[i]; *c; c++) {
			if(*c == '"')
				otd_buf_puts(b, "\"\"");
			else
				otd_buf_append(b, c, 1);
		}
		otd_buf_puts(b, "\"");
	}
	otd_buf_puts(b, "\n");
}

/* Appends the row's fields, each with its NUL, for comparison. */
static void flatten(struct otd_buf *b, const struct otd_csv_row *row)
{
	char n = (char)row->n;
	otd_buf_append(b, &n, 1);
	for(size_t i = 0; i < row->n; i++)
		otd_buf_append(b, row->fields[i], strlen(row->fields[i]) + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const expected[] = {"name", "phone", "email", "notes"};
	struct otd_csv r;
	struct otd_csv_row row;
	struct otd_error err;
	struct otd_buf again, flat;
	enum otd_status st;
	size_t last_line = 0, rows = 0;

	otd_buf_init(&again, 0);
	otd_buf_init(&flat, 0);
	otd_csv_init(&r, (const char *)data, size, MAX_ROW, MAX_FIELDS);
	while((st = otd_csv_next(&r, &row, &err)) == OTD_OK) {
		CHECK(row.n >= 1 && row.n <= MAX_FIELDS);
		CHECK(row.line > last_line);
		last_line = row.line;
		size_t total = 0;
		for(size_t i = 0; i < row.n; i++) {
			/* NUL within the cap: terminated, and not longer than the row. */
			const char *f = row.fields[i];
			size_t n = strnlen(f, MAX_ROW + 1);
			CHECK(n <= MAX_ROW);
			CHECK(valid_utf8((const unsigned char *)f, n));
			total += n;
		}
		CHECK(total + row.n - 1 <= MAX_ROW);
		if(rows == 0) {
			int index_of[4];
			struct otd_error herr;
			enum otd_status hs = otd_csv_header(&row, expected, 2, 4, index_of, &herr);
			CHECK(hs == OTD_OK || hs == OTD_EINVAL);
			if(hs == OTD_OK) {
				CHECK(index_of[0] >= 0 && index_of[1] >= 0);
				for(int j = 0; j < 4; j++)
					CHECK(index_of[j] >= -1 && index_of[j] < (int)row.n);
			} else {
				CHECK(strncmp(herr.message, "line ", 5) == 0);
				CHECK(valid_utf8((const unsigned char *)herr.message,
				                 strlen(herr.message)));
				CHECK(valid_utf8((const unsigned char *)herr.field,
				                 strlen(herr.field)));
			}
		}
		write_row(&again, &row);
		flatten(&flat, &row);
		rows++;
	}

	if(st != OTD_ENOTFOUND) {
		CHECK(st == OTD_EINVAL || st == OTD_ETOOBIG);
		CHECK(err.status == st);
		if(st == OTD_EINVAL)
			CHECK(!strcmp(err.code, "csv_syntax") || !strcmp(err.code, "csv_encoding"));
		else
			CHECK(!strcmp(err.code, "csv_row_too_long") ||
			      !strcmp(err.code, "csv_too_many_fields"));
		char *end;
		CHECK(strncmp(err.message, "line ", 5) == 0);
		unsigned long line = strtoul(err.message + 5, &end, 10);
		CHECK(end[0] == ':' && line > last_line);
		struct otd_error err2;
		CHECK(otd_csv_next(&r, &row, &err2) == st);
		CHECK(!strcmp(err2.message, err.message));
	} else {
		CHECK(otd_csv_next(&r, &row, &err) == OTD_ENOTFOUND);
	}
	otd_csv_cleanup(&r);

	/* Round trip: what was read, written back fully quoted, reads the same.
	 * Quoting at most doubles a row and adds three bytes per field. */
	struct otd_buf flat2;
	otd_buf_init(&flat2, 0);
	otd_csv_init(&r, again.data, again.len, 2 * MAX_ROW + 3 * MAX_FIELDS, MAX_FIELDS);
	size_t rows2 = 0;
	while((st = otd_csv_next(&r, &row, &err)) == OTD_OK) {
		flatten(&flat2, &row);
		rows2++;
	}
	CHECK(st == OTD_ENOTFOUND);
	CHECK(rows2 == rows);
	CHECK(flat2.len == flat.len && (flat.len == 0 || !memcmp(flat.data, flat2.data, flat.len)));
	otd_csv_cleanup(&r);
	otd_buf_cleanup(&flat2);
	otd_buf_cleanup(&flat);
	otd_buf_cleanup(&again);
	return 0;
}
