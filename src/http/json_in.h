/* onthedot strict JSON input: every request object is checked against a
 * field table before use. Unknown, duplicate (rejected by the parser),
 * missing and wrongly typed fields, and values out of bounds, each give a
 * 400 naming the field. */
#ifndef OTD_HTTP_JSON_IN_H
#define OTD_HTTP_JSON_IN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "onthedot/status.h"

enum field_type {
	FIELD_STRING, /* min/max: length in characters (UTF-8 code points) */
	FIELD_INT,    /* min/max: value */
	FIELD_NUMBER, /* integer or real; min/max: value */
	FIELD_BOOL,
	FIELD_ARRAY, /* min/max: number of elements */
	FIELD_OBJECT,
};

struct field_spec {
	const char *name;
	enum field_type type;
	bool required;
	double min, max;
	bool nullable; /* JSON null accepted (and treated as absent) */
};

/* Checks obj against spec[0..n). prefix ("shifts[2].") is prepended to the
 * field name in errors. Returns OTD_OK or OTD_EINVAL with err filled. */
enum otd_status json_check(const json_t *obj, const struct field_spec *spec, size_t n,
                           const char *prefix, struct otd_error *err);

/* Accessors for fields already checked: NULL / fallback when absent. */
const char *json_get_str(const json_t *obj, const char *name);
long long json_get_int(const json_t *obj, const char *name, long long fallback);
double json_get_num(const json_t *obj, const char *name, double fallback);
bool json_get_bool(const json_t *obj, const char *name, bool fallback);
bool json_has(const json_t *obj, const char *name);

/* Number of UTF-8 code points in s (jansson has validated the encoding). */
size_t utf8_length(const char *s);

#endif
