/* Fuzz target: application/x-www-form-urlencoded bodies (http/form.c), as
 * gateways post them (Twilio's callbacks, inbound messages). The input is
 * the body, not NUL-terminated. On success: at most FORM_MAX_FIELDS
 * fields, each name and value a string of at most FORM_MAX_VALUE bytes
 * with no NUL inside (the decoded bytes never outnumber the input's),
 * form_get finding the first field of each name, and the fields encoded
 * again (every byte as %XX) decoding to the same fields. On failure: the
 * form is empty and the error is bad_form naming the problem. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/form.h"

/* Every byte of s as %XX into out (3 bytes each); returns the length. */
static size_t encode(const char *s, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;
	for(const unsigned char *p = (const unsigned char *)s; *p; p++) {
		out[k++] = '%';
		out[k++] = hex[*p >> 4];
		out[k++] = hex[*p & 15];
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size > 64 * 1024)
		return 0;
	/* A copy of exactly size bytes: ASan catches a read past the end. */
	char *body = malloc(size ? size : 1);
	if(size)
		memcpy(body, data, size);
	struct form f;
	memset(&f, 0xA5, sizeof(f)); /* form_parse must not trust what was there */
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = form_parse(body, size, &f, &err);
	if(st != OTD_OK) {
		assert(st == OTD_EINVAL);
		assert(err.status == OTD_EINVAL);
		assert(strcmp(err.code, "bad_form") == 0);
		assert(strstr(err.message, "orm") !=
		       NULL); /* "Form field N ..." or "The form ..." */
		assert(f.n == 0);
		form_cleanup(&f);
		free(body);
		return 0;
	}
	assert(f.n <= FORM_MAX_FIELDS);
	size_t total = 0;
	for(size_t i = 0; i < f.n; i++) {
		assert(f.names[i] && f.values[i]);
		size_t ln = strlen(f.names[i]), lv = strlen(f.values[i]);
		assert(ln <= FORM_MAX_VALUE && lv <= FORM_MAX_VALUE);
		total += ln + lv;
		/* form_get gives the first field of that name (the same pointer). */
		size_t first = i;
		for(size_t j = 0; j < i; j++)
			if(strcmp(f.names[j], f.names[i]) == 0) {
				first = j;
				break;
			}
		assert(form_get(&f, f.names[i]) == f.values[first]);
	}
	assert(total <= size);

	/* Encoded again, the same fields come back. */
	char *again = malloc(f.n * (6 * FORM_MAX_VALUE + 2) + 1);
	size_t k = 0;
	for(size_t i = 0; i < f.n; i++) {
		k += encode(f.names[i], again + k);
		again[k++] = '=';
		k += encode(f.values[i], again + k);
		again[k++] = '&';
	}
	struct form g;
	st = form_parse(again, k, &g, &err);
	assert(st == OTD_OK);
	assert(g.n == f.n);
	for(size_t i = 0; i < f.n; i++) {
		assert(strcmp(g.names[i], f.names[i]) == 0);
		assert(strcmp(g.values[i], f.values[i]) == 0);
	}
	form_cleanup(&g);
	free(again);

	form_cleanup(&f);
	assert(f.n == 0 && form_get(&f, "") == NULL);
	free(body);
	return 0;
}
