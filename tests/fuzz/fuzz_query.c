/* Fuzz target: values that arrive in paths and query strings, and the
 * text parsers behind them: ids, page cursors, dates, instants, local
 * times, phone numbers, email addresses and postcodes. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "http/decode.h"
#include "onthedot/civil.h"
#include "onthedot/import.h"
#include "onthedot/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size > 512)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct otd_error err;
	int64_t v;
	if(id_decode(s, &v) == OTD_OK)
		assert(v > 0);
	if(cursor_decode(s, &v) == OTD_OK)
		assert(v >= 0);
	int y, m, d;
	if(otd_date_parse(s, &y, &m, &d, &err) == OTD_OK)
		assert(otd_date_valid(y, m, d));
	if(otd_rfc3339_parse(s, &v, &err) == OTD_OK) {
		char buf[OTD_RFC3339_SIZE];
		assert(otd_rfc3339_format(v, buf, sizeof(buf)) > 0);
	}
	struct otd_civil c;
	(void)otd_local_parse(s, &c, &err);
	char out[300], norm[16];
	if(otd_phone_normalise(s, "44", out, sizeof(out), "phone", &err) == OTD_OK)
		assert(out[0] == '+' && strlen(out) <= 16);
	if(otd_email_normalise(s, out, sizeof(out), "email", &err) == OTD_OK)
		assert(strchr(out, '@'));
	if(otd_postcode_normalise(s, out, norm, &err) == OTD_OK)
		assert(strlen(norm) >= 2 && strlen(norm) <= 10);
	(void)otd_text_validate(s, 1, 200, size % 2, "text", &err);
	free(s);
	return 0;
}
