/* Strict JSON field checking. */
#include "http/json_in.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t utf8_length(const char *s)
{
	size_t n = 0;
	for(; *s; s++)
		if(((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static const char *type_name(enum field_type t)
{
	switch(t) {
	case FIELD_STRING: return "a string";
	case FIELD_INT: return "an integer";
	case FIELD_NUMBER: return "a number";
	case FIELD_BOOL: return "true or false";
	case FIELD_ARRAY: return "an array";
	case FIELD_OBJECT: return "an object";
	}
	return "?";
}

static bool type_ok(const json_t *v, enum field_type t)
{
	switch(t) {
	case FIELD_STRING: return json_is_string(v);
	case FIELD_INT: return json_is_integer(v);
	case FIELD_NUMBER: return json_is_number(v);
	case FIELD_BOOL: return json_is_boolean(v);
	case FIELD_ARRAY: return json_is_array(v);
	case FIELD_OBJECT: return json_is_object(v);
	}
	return false;
}

enum otd_status json_check(const json_t *obj, const struct field_spec *spec, size_t n,
                           const char *prefix, struct otd_error *err)
{
	char field[OTD_ERR_FIELD_MAX];
	const char *key;
	json_t *value;
	if(!prefix)
		prefix = "";
	json_object_foreach((json_t *)obj, key, value)
	{
		bool known = false;
		for(size_t i = 0; i < n && !known; i++)
			known = strcmp(spec[i].name, key) == 0;
		if(!known) {
			snprintf(field, sizeof(field), "%s%s", prefix, key);
			return otd_error_set(err, OTD_EINVAL, "unknown_field", field,
			                     "The field \"%s\" is not accepted here.", field);
		}
	}
	for(size_t i = 0; i < n; i++) {
		const struct field_spec *f = &spec[i];
		snprintf(field, sizeof(field), "%s%s", prefix, f->name);
		json_t *v = json_object_get(obj, f->name);
		if(!v || (json_is_null(v) && f->nullable)) {
			if(f->required)
				return otd_error_set(err, OTD_EINVAL, "missing_field", field,
				                     "The field \"%s\" is required.", field);
			continue;
		}
		if(!type_ok(v, f->type))
			return otd_error_set(err, OTD_EINVAL, "wrong_type", field,
			                     "The field \"%s\" must be %s.", field, type_name(f->type));
		double lo = f->min, hi = f->max;
		switch(f->type) {
		case FIELD_STRING: {
			size_t len = utf8_length(json_string_value(v));
			if(hi > 0 && (double)len > hi)
				return otd_error_set(err, OTD_EINVAL, "too_long", field,
				                     "The field \"%s\" is at most %.0f characters long.", field,
				                     hi);
			if((double)len < lo)
				return otd_error_set(err, OTD_EINVAL, lo <= 1 ? "empty" : "too_short", field,
				                     lo <= 1 ? "The field \"%s\" must not be empty."
				                             : "The field \"%s\" is too short.",
				                     field);
			break;
		}
		case FIELD_INT:
		case FIELD_NUMBER: {
			double d = json_number_value(v);
			if(!isfinite(d) || (lo < hi && (d < lo || d > hi)))
				return otd_error_set(err, OTD_EINVAL, "out_of_range", field,
				                     "The field \"%s\" must be from %g to %g.", field, lo, hi);
			break;
		}
		case FIELD_ARRAY: {
			size_t len = json_array_size(v);
			if(hi > 0 && (double)len > hi)
				return otd_error_set(err, OTD_EINVAL, "too_many", field,
				                     "The field \"%s\" holds at most %.0f items.", field, hi);
			if((double)len < lo)
				return otd_error_set(err, OTD_EINVAL, "too_few", field,
				                     "The field \"%s\" needs at least %.0f items.", field, lo);
			break;
		}
		default: break;
		}
	}
	return OTD_OK;
}

const char *json_get_str(const json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

long long json_get_int(const json_t *obj, const char *name, long long fallback)
{
	json_t *v = json_object_get(obj, name);
	return json_is_integer(v) ? (long long)json_integer_value(v) : fallback;
}

double json_get_num(const json_t *obj, const char *name, double fallback)
{
	json_t *v = json_object_get(obj, name);
	return json_is_number(v) ? json_number_value(v) : fallback;
}

bool json_get_bool(const json_t *obj, const char *name, bool fallback)
{
	json_t *v = json_object_get(obj, name);
	return json_is_boolean(v) ? json_is_true(v) : fallback;
}

bool json_has(const json_t *obj, const char *name)
{
	json_t *v = json_object_get(obj, name);
	return v && !json_is_null(v);
}
