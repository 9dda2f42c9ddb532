/* onthedot: a strict, capped CSV reader over a memory buffer.
 *
 * Reads RFC 4180 CSV (comma separator, optional double quotes, "" for a
 * quote inside quotes, quoted fields may hold commas and newlines, LF or
 * CRLF row ends, the final row may lack one) for the imports of visitors,
 * visit types and the gazetteer. Pure: no I/O, the caller hands over the
 * bytes. Also accepted: a UTF-8 byte order mark at the very start (skipped)
 * and blank lines ("" or "\r" before the LF, skipped but counted).
 *
 * Strict: the first malformed byte stops the reader with an error that
 * names the physical line (1-based; a newline inside quotes counts), so a
 * person can open the file and fix it. Rejected: a quote inside an unquoted
 * field, text after a closing quote, a carriage return not followed by a
 * line feed outside quotes, a quote left open at end of input, a NUL byte,
 * invalid UTF-8 (overlong forms, surrogates, beyond U+10FFFF, truncated
 * sequences). Capped: a row longer than max_row_bytes or with more than
 * max_fields fields is an error, never truncated. Fields are returned as
 * they are, spaces included; callers trim.
 *
 * Usage:
 *	struct otd_csv r;
 *	struct otd_csv_row row;
 *	otd_csv_init(&r, data, len, 4096, 32);
 *	while(!(st = otd_csv_next(&r, &row, err)))
 *		use(row.fields, row.n, row.line);
 *	otd_csv_cleanup(&r);
 *	if(st != OTD_ENOTFOUND)
 *		fail with err;
 */
#ifndef ONTHEDOT_CSV_H
#define ONTHEDOT_CSV_H

#include <stddef.h>

#include "onthedot/status.h"

/* Reader state; treat every member as private. */
struct otd_csv {
	const unsigned char *data; /* the input, borrowed from the caller */
	size_t len;
	size_t pos;  /* next byte to read */
	size_t line; /* physical line of data[pos], 1-based */
	size_t max_row_bytes;
	size_t max_fields;
	char *buf; /* the current row's fields, each NUL-terminated */
	size_t buf_size;
	char **fields; /* pointers into buf */
	size_t fields_size;
	enum otd_status status; /* OTD_OK while reading; sticky once not */
	struct otd_error error; /* the error that stopped the reader */
};

/* One row. fields[0..n-1] are NUL-terminated UTF-8 strings without NUL
 * bytes, owned by the reader and valid until the next otd_csv_next or
 * otd_csv_cleanup; the caller may change them in place (to trim, say). */
struct otd_csv_row {
	size_t line; /* physical line where the row starts, 1-based */
	size_t n;    /* number of fields, at least 1 */
	char **fields;
};

/* Starts reading data[0..len-1], which the caller keeps alive and unchanged
 * until otd_csv_cleanup. max_row_bytes caps a row's bytes as they appear in
 * the input (quotes, commas and quoted newlines included, the row's own
 * line ending not); max_fields caps its fields. Both must be at least 1.
 * Allocates nothing; the first otd_csv_next does. */
void otd_csv_init(struct otd_csv *r, const char *data, size_t len, size_t max_row_bytes,
                  size_t max_fields);

/* Reads the next row into *row. Returns:
 *   OTD_OK         a row; *row valid until the next call
 *   OTD_ENOTFOUND  no more rows; *err untouched; later calls say the same
 *   OTD_EINVAL     malformed input; *err has code "csv_syntax" or
 *                  "csv_encoding" and a message starting "line N: "
 *   OTD_ETOOBIG    a cap was exceeded; code "csv_row_too_long" or
 *                  "csv_too_many_fields", message starting "line N: "
 * On anything but OTD_OK *row is emptied (n 0, fields NULL). After an error
 * the reader stops: every later call returns the same status and fills *err
 * with the same error. Line numbers: a cap error names the line where the
 * row starts, an unterminated quote the line where the quote opened, every
 * other error the line of the offending byte. err may be NULL. Memory is
 * reused between rows: one buffer of min(max_row_bytes, rest of the input)
 * + 1 bytes and a pointer per field, allocated with xrealloc. */
enum otd_status otd_csv_next(struct otd_csv *r, struct otd_csv_row *row, struct otd_error *err);

/* Frees the reader's memory; rows it returned are no longer valid. Safe to
 * call twice and after an error. */
void otd_csv_cleanup(struct otd_csv *r);

/* Maps a header row to column indexes. expected[0..n_expected-1] are the
 * column names the import knows, the first n_required of them required, the
 * rest optional. Names match case-insensitively (ASCII) after trimming
 * spaces and tabs around the header field. On OTD_OK index_of[j] (an array
 * of n_expected) is the column of expected[j], or -1 for an absent optional
 * column. Returns OTD_EINVAL with err naming the column (code and field)
 * for an unknown column ("csv_unknown_column"; an empty header is one),
 * a column given twice ("csv_duplicate_column") or a required column that
 * is absent ("csv_missing_column"; field is the first, the message lists
 * them, ending in "..." when too many to fit). Messages start "line N: "
 * with the header's line. More than INT_MAX columns: OTD_ETOOBIG. On
 * error index_of is unspecified. */
enum otd_status otd_csv_header(const struct otd_csv_row *row, const char *const *expected,
                               size_t n_required, size_t n_expected, int *index_of,
                               struct otd_error *err);

#endif
