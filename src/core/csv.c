/* Strict, capped CSV reader: RFC 4180 plus LF row ends, a leading BOM and
 * blank lines; header mapping for the imports. */
#include "onthedot/csv.h"
#include "onthedot/utf8.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"

void otd_csv_init(struct otd_csv *r, const char *data, size_t len, size_t max_row_bytes,
                  size_t max_fields)
{
	assert(max_row_bytes > 0 && max_fields > 0);
	memset(r, 0, sizeof(*r));
	r->data = (const unsigned char *)data;
	r->len = data ? len : 0;
	r->line = 1;
	/* A cap of 0 would make every row an error; that is the safe reading. */
	r->max_row_bytes = max_row_bytes;
	r->max_fields = max_fields;
	r->status = OTD_OK;
	/* Spreadsheets write a byte order mark; it is not part of the first field. */
	if(r->len >= 3 && memcmp(r->data, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
}

void otd_csv_cleanup(struct otd_csv *r)
{
	free(r->buf);
	free(r->fields);
	r->buf = NULL;
	r->buf_size = 0;
	r->fields = NULL;
	r->fields_size = 0;
	/* A call to otd_csv_next after cleanup finds no more rows (or the error). */
	r->data = NULL;
	r->len = 0;
	r->pos = 0;
}

/* Stops the reader with an error at line; later calls repeat it. */
static enum otd_status csv_fail(struct otd_csv *r, struct otd_error *err, enum otd_status status,
                                const char *code, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static enum otd_status csv_fail(struct otd_csv *r, struct otd_error *err, enum otd_status status,
                                const char *code, size_t line, const char *fmt, ...)
{
	char what[OTD_ERR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	otd_error_set(&r->error, status, code, NULL, "line %zu: %s", line, what);
	r->status = status;
	if(err)
		*err = r->error;
	return status;
}


enum otd_status otd_csv_next(struct otd_csv *r, struct otd_csv_row *row, struct otd_error *err)
{
	row->line = 0;
	row->n = 0;
	row->fields = NULL;
	if(r->status == OTD_ENOTFOUND)
		return OTD_ENOTFOUND;
	if(r->status) {
		if(err)
			*err = r->error;
		return r->status;
	}

	const unsigned char *d = r->data;
	size_t len = r->len, pos = r->pos, line = r->line;

	/* Blank lines: "\n", "\r\n", and a lone "\r" at the very end. */
	for(;;) {
		if(pos < len && d[pos] == '\n') {
			pos++;
			line++;
		} else if(pos < len && d[pos] == '\r' && (pos + 1 == len || d[pos + 1] == '\n')) {
			pos++;
		} else {
			break;
		}
	}
	r->pos = pos;
	r->line = line;
	if(pos == len) {
		r->status = OTD_ENOTFOUND;
		return OTD_ENOTFOUND;
	}

	const size_t row_line = line;
	/* Content bytes of this row lie in [pos, cap_end); a content byte at
	 * cap_end or beyond (before len) makes the row too long. */
	const size_t cap_end = len - pos > r->max_row_bytes ? pos + r->max_row_bytes : len;

	/* The decoded fields plus one NUL each take at most the row's content
	 * bytes plus one: a separator or a pair of quotes pays for each NUL.
	 * Reserved up front so buf never moves while fields point into it. */
	size_t need = cap_end - pos + 1;
	if(r->buf_size < need) {
		r->buf = xrealloc(r->buf, need);
		r->buf_size = need;
	}
	char *buf = r->buf;
	size_t out = 0, n = 0;
	unsigned char c;

	for(;;) {
		if(n == r->max_fields)
			return csv_fail(r, err, OTD_ETOOBIG, "csv_too_many_fields", row_line,
			                "the row has more than %zu fields", r->max_fields);
		if(n == r->fields_size) {
			size_t size = r->fields_size ? r->fields_size * 2 : 16;
			if(size > r->max_fields)
				size = r->max_fields;
			r->fields = xrealloc(r->fields, size * sizeof(*r->fields));
			r->fields_size = size;
		}
		r->fields[n++] = buf + out;

		if(pos < len && d[pos] == '"') {
			const size_t quote_line = line;
			if(pos >= cap_end)
				goto too_long;
			pos++;
			for(;;) {
				if(pos == len)
					return csv_fail(
					    r, err, OTD_EINVAL, "csv_syntax", quote_line,
					    "field %zu opens a quote that is never closed", n);
				if(pos >= cap_end)
					goto too_long;
				c = d[pos];
				if(c == '"') {
					if(pos + 1 < len && d[pos + 1] == '"') {
						if(pos + 1 >= cap_end)
							goto too_long;
						buf[out++] = '"';
						pos += 2;
						continue;
					}
					pos++;
					break;
				}
				if(c >= 0x80) {
					size_t k = otd_utf8_char(d + pos, len - pos);
					if(!k)
						goto bad_utf8;
					if(k > cap_end - pos)
						goto too_long;
					memcpy(buf + out, d + pos, k);
					out += k;
					pos += k;
					continue;
				}
				if(c == '\0')
					goto nul_byte;
				if(c == '\n')
					line++;
				buf[out++] = (char)c;
				pos++;
			}
		} else {
			while(pos < len) {
				c = d[pos];
				if(c == ',' || c == '\n' || c == '\r')
					break;
				if(pos >= cap_end)
					goto too_long;
				if(c >= 0x80) {
					size_t k = otd_utf8_char(d + pos, len - pos);
					if(!k)
						goto bad_utf8;
					if(k > cap_end - pos)
						goto too_long;
					memcpy(buf + out, d + pos, k);
					out += k;
					pos += k;
					continue;
				}
				if(c == '"')
					return csv_fail(
					    r, err, OTD_EINVAL, "csv_syntax", line,
					    "a quote inside unquoted field %zu; put the whole "
					    "field in quotes and double the quotes inside it",
					    n);
				if(c == '\0')
					goto nul_byte;
				buf[out++] = (char)c;
				pos++;
			}
		}
		buf[out++] = '\0';

		/* After a field: a separator, the end of the row or of the input. */
		if(pos == len)
			break;
		c = d[pos];
		if(c == ',') {
			if(pos >= cap_end)
				goto too_long;
			pos++;
			continue;
		}
		if(c == '\n') {
			pos++;
			line++;
			break;
		}
		if(c == '\r') {
			if(pos + 1 == len) {
				pos++;
				break;
			}
			if(d[pos + 1] == '\n') {
				pos += 2;
				line++;
				break;
			}
			return csv_fail(
			    r, err, OTD_EINVAL, "csv_syntax", line,
			    "a carriage return not followed by a line feed in field %zu", n);
		}
		/* Only a quoted field stops at another byte. */
		return csv_fail(r, err, OTD_EINVAL, "csv_syntax", line,
		                "text after the closing quote of field %zu; a quote inside a "
		                "quoted field is written as two quotes",
		                n);
	}

	assert(out <= need);
	r->pos = pos;
	r->line = line;
	row->line = row_line;
	row->n = n;
	row->fields = r->fields;
	return OTD_OK;

too_long:
	return csv_fail(r, err, OTD_ETOOBIG, "csv_row_too_long", row_line,
	                "the row is longer than %zu bytes", r->max_row_bytes);
bad_utf8:
	return csv_fail(r, err, OTD_EINVAL, "csv_encoding", line,
	                "invalid UTF-8 in field %zu; save the file as UTF-8", n);
nul_byte:
	return csv_fail(r, err, OTD_EINVAL, "csv_encoding", line,
	                "a NUL byte in field %zu; the file must be UTF-8 text", n);
}

/* Header mapping. */

#define NAME_SHOWN_MAX 60

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Locale-independent: tolower() would fold more than ASCII in some locales. */
static unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

/* True when s[0..n-1] equals name, ignoring ASCII case. */
static bool name_eq(const char *s, size_t n, const char *name)
{
	size_t i;
	for(i = 0; i < n; i++)
		if(name[i] == '\0' ||
		   ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)name[i]))
			return false;
	return name[i] == '\0';
}

/* Copies s[0..n-1] into dst for a message: at most NAME_SHOWN_MAX bytes, cut
 * on a UTF-8 character boundary (a cut character would make the JSON error
 * body invalid) and marked with "..." when cut. */
static void name_shown(char dst[NAME_SHOWN_MAX + 4], const char *s, size_t n)
{
	bool cut = false;
	if(n > NAME_SHOWN_MAX) {
		n = NAME_SHOWN_MAX;
		/* Back off continuation bytes (10xxxxxx) to a character start. */
		while(n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		cut = true;
	}
	memcpy(dst, s, n);
	memcpy(dst + n, cut ? "..." : "", cut ? 4 : 1);
}

/* Writes the names expected[from..to-1] (only those still unmapped when
 * only_missing) to list, comma-separated, ending in "..." when they do not
 * fit. Returns how many names it chose. */
static size_t list_names(char *list, size_t size, const char *const *expected, size_t from,
                         size_t to, const int *index_of, bool only_missing)
{
	size_t used = 0, count = 0;
	bool full = false;
	list[0] = '\0';
	for(size_t j = from; j < to; j++) {
		if(only_missing && index_of[j] >= 0)
			continue;
		count++;
		if(full)
			continue;
		int k =
		    snprintf(list + used, size - used, "%s%s", count > 1 ? ", " : "", expected[j]);
		if(k < 0 || (size_t)k >= size - used) {
			memcpy(list + size - 4, "...", 4);
			full = true;
			continue;
		}
		used += (size_t)k;
	}
	return count;
}

enum otd_status otd_csv_header(const struct otd_csv_row *row, const char *const *expected,
                               size_t n_required, size_t n_expected, int *index_of,
                               struct otd_error *err)
{
	char shown[NAME_SHOWN_MAX + 4];
	char list[200];
	assert(n_required <= n_expected);

	for(size_t j = 0; j < n_expected; j++)
		index_of[j] = -1;
	if(row->n > INT_MAX)
		return otd_error_set(err, OTD_ETOOBIG, "csv_too_many_fields", NULL,
		                     "line %zu: the header has too many columns", row->line);

	for(size_t i = 0; i < row->n; i++) {
		const char *s = row->fields[i];
		size_t n = strlen(s);
		while(n > 0 && is_blank(s[0])) {
			s++;
			n--;
		}
		while(n > 0 && is_blank(s[n - 1]))
			n--;
		size_t j;
		for(j = 0; j < n_expected; j++)
			if(name_eq(s, n, expected[j]))
				break;
		if(j == n_expected) {
			list_names(list, sizeof(list), expected, 0, n_expected, index_of, false);
			if(n == 0)
				return otd_error_set(
				    err, OTD_EINVAL, "csv_unknown_column", "",
				    "line %zu: column %zu has no name; the columns are: %s",
				    row->line, i + 1, list);
			name_shown(shown, s, n);
			return otd_error_set(
			    err, OTD_EINVAL, "csv_unknown_column", shown,
			    "line %zu: unknown column \"%s\" (column %zu); the columns "
			    "are: %s",
			    row->line, shown, i + 1, list);
		}
		if(index_of[j] >= 0)
			return otd_error_set(
			    err, OTD_EINVAL, "csv_duplicate_column", expected[j],
			    "line %zu: column \"%s\" appears twice (columns %d and %zu)", row->line,
			    expected[j], index_of[j] + 1, i + 1);
		index_of[j] = (int)i;
	}

	for(size_t j = 0; j < n_required; j++) {
		if(index_of[j] >= 0)
			continue;
		size_t missing =
		    list_names(list, sizeof(list), expected, j, n_required, index_of, true);
		return otd_error_set(err, OTD_EINVAL, "csv_missing_column", expected[j],
		                     "line %zu: missing required column%s: %s", row->line,
		                     missing > 1 ? "s" : "", list);
	}
	return OTD_OK;
}
