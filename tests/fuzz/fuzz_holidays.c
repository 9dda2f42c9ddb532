/* libFuzzer target: the bank holidays import's parser (core/holidays.c,
 * libical's parser and recurrence iterator underneath) on arbitrary bytes.
 *
 * Checks what otd_holidays_parse promises: on success 1..5,000 holidays,
 * strictly ascending real dates in "YYYY-MM-DD" form, names of 1..200
 * bytes of UTF-8 without control characters and without leading or
 * trailing spaces; on failure no list, a documented status and code, an
 * empty field and a non-empty message. Parsing the same bytes twice gives
 * the same answer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/holidays.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if(!(cond)) {                                                                      \
			fprintf(stderr, "fuzz_holidays: %s:%d: check failed: %s\n", __FILE__,      \
			        __LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while(0)

/* True when s[0..n) is well-formed UTF-8 with no control character (an
 * independent decoder, simpler than the parser's). */
static int clean_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while(i < n) {
		unsigned c = s[i], k;
		uint32_t cp;
		if(c < 0x80) {
			if(c < 0x20 || c == 0x7F)
				return 0;
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otd_holiday *h = NULL;
	size_t n = 0;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = otd_holidays_parse((const char *)data, size, &h, &n, &err);
	if(st == OTD_OK) {
		CHECK(h != NULL);
		CHECK(n >= 1 && n <= OTD_HOLIDAYS_MAX_DATES);
		for(size_t i = 0; i < n; i++) {
			int y, m, d;
			struct otd_error e;
			CHECK(strnlen(h[i].date, sizeof(h[i].date)) == 10);
			CHECK(otd_date_parse(h[i].date, &y, &m, &d, &e) == OTD_OK);
			if(i > 0)
				CHECK(strcmp(h[i - 1].date, h[i].date) < 0);
			size_t len = strnlen(h[i].name, sizeof(h[i].name));
			CHECK(len >= 1 && len <= OTD_HOLIDAY_NAME_MAX);
			CHECK(clean_utf8((const unsigned char *)h[i].name, len));
			CHECK(h[i].name[0] != ' ' && h[i].name[len - 1] != ' ');
		}
	} else {
		CHECK(h == NULL && n == 0);
		CHECK((st == OTD_EINVAL && strcmp(err.code, "bad_holidays") == 0) ||
		      (st == OTD_ETOOBIG && strcmp(err.code, "too_many_holidays") == 0));
		CHECK(err.field[0] == '\0');
		CHECK(err.message[0] != '\0');
	}
	/* Deterministic: a second parse agrees. */
	struct otd_holiday *h2 = NULL;
	size_t n2 = 0;
	struct otd_error err2;
	enum otd_status st2 = otd_holidays_parse((const char *)data, size, &h2, &n2, &err2);
	CHECK(st2 == st && n2 == n);
	if(st == OTD_OK) {
		for(size_t i = 0; i < n; i++)
			CHECK(strcmp(h[i].date, h2[i].date) == 0 &&
			      strcmp(h[i].name, h2[i].name) == 0);
	} else {
		CHECK(strcmp(err.message, err2.message) == 0);
	}
	free(h);
	free(h2);
	return 0;
}
