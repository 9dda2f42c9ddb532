/* Form bodies: a strict decoder. */
#include "http/form.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"

static int hex(char c)
{
	if(c >= '0' && c <= '9')
		return c - '0';
	if(c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if(c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into a heap string; NULL with err on a bad escape. */
static char *decode(const char *s, size_t n, size_t field, struct otd_error *err)
{
	if(n > 3 * FORM_MAX_VALUE) {
		otd_error_set(err, OTD_EINVAL, "bad_form", NULL,
		              "Form field %zu is longer than %d bytes.", field + 1, FORM_MAX_VALUE);
		return NULL;
	}
	char *out = xmalloc(n + 1);
	size_t k = 0;
	for(size_t i = 0; i < n; i++) {
		char c = s[i];
		if(c == '+') {
			c = ' ';
		} else if(c == '%') {
			int hi = i + 2 < n ? hex(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex(s[i + 2]) : -1;
			if(hi < 0 || lo < 0) {
				free(out);
				otd_error_set(err, OTD_EINVAL, "bad_form", NULL,
				              "Form field %zu has a malformed %%-escape.",
				              field + 1);
				return NULL;
			}
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if(c == '\0') {
			free(out);
			otd_error_set(err, OTD_EINVAL, "bad_form", NULL,
			              "Form field %zu holds a NUL byte.", field + 1);
			return NULL;
		}
		out[k++] = c;
	}
	out[k] = '\0';
	if(k > FORM_MAX_VALUE) {
		free(out);
		otd_error_set(err, OTD_EINVAL, "bad_form", NULL,
		              "Form field %zu is longer than %d bytes.", field + 1, FORM_MAX_VALUE);
		return NULL;
	}
	return out;
}

enum otd_status form_parse(const char *body, size_t len, struct form *f, struct otd_error *err)
{
	memset(f, 0, sizeof(*f));
	size_t i = 0;
	while(i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		if(end > i) {
			if(f->n == FORM_MAX_FIELDS) {
				form_cleanup(f);
				return otd_error_set(err, OTD_EINVAL, "bad_form", NULL,
				                     "The form has more than %d fields.",
				                     FORM_MAX_FIELDS);
			}
			const char *eq = memchr(body + i, '=', end - i);
			size_t name_end = eq ? (size_t)(eq - body) : end;
			char *name = decode(body + i, name_end - i, f->n, err);
			char *value = name ? (eq ? decode(eq + 1, end - name_end - 1, f->n, err)
			                         : xstrdup(""))
			                   : NULL;
			if(!value) {
				free(name);
				form_cleanup(f);
				return OTD_EINVAL;
			}
			f->names[f->n] = name;
			f->values[f->n] = value;
			f->n++;
		}
		i = end + 1;
	}
	return OTD_OK;
}

const char *form_get(const struct form *f, const char *name)
{
	for(size_t i = 0; i < f->n; i++)
		if(strcmp(f->names[i], name) == 0)
			return f->values[i];
	return NULL;
}

void form_cleanup(struct form *f)
{
	for(size_t i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->values[i]);
	}
	memset(f, 0, sizeof(*f));
}
