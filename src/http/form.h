/* onthedot: application/x-www-form-urlencoded bodies (gateways' callbacks:
 * Twilio posts forms). Strict: a malformed escape, a NUL, too many fields
 * or a field too long is an error naming what is wrong. */
#ifndef OTD_HTTP_FORM_H
#define OTD_HTTP_FORM_H

#include <stddef.h>

#include "onthedot/status.h"

#define FORM_MAX_FIELDS 64
#define FORM_MAX_VALUE 4096 /* bytes of one decoded name or value */

struct form {
	size_t n;
	char *names[FORM_MAX_FIELDS]; /* decoded, NUL-terminated, owned */
	char *values[FORM_MAX_FIELDS];
};

/* Decodes len bytes of body ("a=1&b=x%20y", '+' is a space) into f. An
 * empty body gives no fields; "a" alone gives a = "". On error f is
 * empty and err (OTD_EINVAL, code bad_form) says what is wrong. */
enum otd_status form_parse(const char *body, size_t len, struct form *f, struct otd_error *err);

/* The first value of name, or NULL. */
const char *form_get(const struct form *f, const char *name);

/* Frees the fields. */
void form_cleanup(struct form *f);

#endif
