/* Validation of what people type, and of whole catalog records. */
#include "onthedot/validate.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/utf8.h"
#include "onthedot/mem.h"

enum otd_status otd_phone_normalise(const char *in, const char *default_cc, char *out, size_t size,
                                    const char *field, struct otd_error *err)
{
	char digits[32];
	size_t n = 0;
	bool plus = false;
	const char *p = in;
	while(*p == ' ')
		p++;
	if(*p == '+') {
		plus = true;
		p++;
	}
	for(; *p; p++) {
		/* "+44 (0)1632 ...": the bracketed trunk 0 is dialled only at
		 * home and is not part of the international number. */
		if(n > 0 && p[0] == '(' && p[1] == '0' && p[2] == ')') {
			p += 2;
			continue;
		}
		if(isdigit((unsigned char)*p)) {
			if(n >= sizeof(digits) - 1)
				goto bad;
			digits[n++] = *p;
		} else if(!strchr(" -.()", *p)) {
			goto bad;
		}
	}
	digits[n] = '\0';
	const char *national = digits;
	char full[40];
	if(plus) {
		snprintf(full, sizeof(full), "%s", digits);
	} else if(n > 2 && digits[0] == '0' && digits[1] == '0') {
		snprintf(full, sizeof(full), "%s", digits + 2);
	} else if(n > 1 && digits[0] == '0') {
		snprintf(full, sizeof(full), "%s%s", default_cc, national + 1);
	} else {
		goto bad;
	}
	size_t len = strlen(full);
	if(len < 8 || len > 15 || full[0] == '0' || size < len + 2)
		goto bad;
	snprintf(out, size, "+%s", full);
	return OTD_OK;
bad:
	return otd_error_set(err, OTD_EINVAL, "invalid_phone", field,
	                     "The phone number must be a full number such as +44 1632 960001 or "
	                     "01632 960001.");
}

enum otd_status otd_email_normalise(const char *in, char *out, size_t size, const char *field,
                                    struct otd_error *err)
{
	size_t len = strlen(in);
	const char *at = strchr(in, '@');
	if(len < 3 || len > 254 || len + 1 > size || !at || at == in || strchr(at + 1, '@') ||
	   !strchr(at + 1, '.') || at[1] == '.' || in[len - 1] == '.')
		goto bad;
	for(const char *p = in; *p; p++)
		if((unsigned char)*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == ',' ||
		   *p == ';' || *p == '"' || *p == '\\')
			goto bad;
	memcpy(out, in, len + 1);
	for(char *p = out + (at - in); *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return OTD_OK;
bad:
	return otd_error_set(err, OTD_EINVAL, "invalid_email", field,
	                     "The email address must look like name@example.org.");
}

enum otd_status otd_code_validate(const char *code, const char *field, struct otd_error *err)
{
	size_t n = strlen(code);
	bool ok = n >= 1 && n <= 64;
	for(size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)code[i];
		ok = islower(c) || isdigit(c) || c == '_' || c == '-';
	}
	if(!ok)
		return otd_error_set(err, OTD_EINVAL, "invalid_code", field,
		                     "A code is 1 to 64 of a-z, 0-9, '_' and '-' (got \"%.64s\").", code);
	return OTD_OK;
}

/* Length in code points of valid UTF-8 without control characters (C0
 * but newline, tab and carriage return when multiline; DEL; C1), or -1. */
static long utf8_check(const unsigned char *s, bool multiline)
{
	long n = 0;
	size_t left = strlen((const char *)s);
	while(*s) {
		size_t k = otd_utf8_char(s, left);
		if(k == 0)
			return -1;
		if(k == 1 && ((*s < 0x20 && !(multiline && (*s == '\n' || *s == '\t' || *s == '\r'))) ||
		              *s == 0x7f))
			return -1;
		if(k == 2 && s[0] == 0xC2 && s[1] < 0xA0) /* U+0080..U+009F */
			return -1;
		s += k;
		left -= k;
		n++;
	}
	return n;
}

enum otd_status otd_text_validate(const char *s, size_t min, size_t max, bool multiline,
                                  const char *field, struct otd_error *err)
{
	long n = utf8_check((const unsigned char *)s, multiline);
	if(n < 0)
		return otd_error_set(err, OTD_EINVAL, "invalid_text", field,
		                     "The field \"%s\" holds characters that are not allowed (control "
		                     "characters or invalid UTF-8).",
		                     field);
	if((size_t)n < min)
		return otd_error_set(err, OTD_EINVAL, min <= 1 ? "empty" : "too_short", field,
		                     min <= 1 ? "The field \"%s\" must not be empty."
		                              : "The field \"%s\" is too short.",
		                     field);
	if((size_t)n > max)
		return otd_error_set(err, OTD_EINVAL, "too_long", field,
		                     "The field \"%s\" is at most %zu characters long.", field, max);
	return OTD_OK;
}

enum otd_status otd_shift_to_rule(const struct otd_shift *s, struct otd_shift_rule *rule,
                                  struct otd_civil *exbuf, struct otd_error *err)
{
	memset(rule, 0, sizeof(*rule));
	enum otd_status st = otd_local_parse(s->start, &rule->dtstart, err);
	if(st)
		return st;
	rule->duration_min = s->duration_min;
	if(strlen(s->rrule) >= sizeof(rule->rrule))
		return otd_error_set(err, OTD_EINVAL, "bad_rrule", "rrule", "The RRULE is too long.");
	memcpy(rule->rrule, s->rrule, strlen(s->rrule) + 1);
	for(size_t i = 0; i < s->n_exdates; i++) {
		int y, m, d;
		st = otd_date_parse(s->exdates[i], &y, &m, &d, err);
		if(st) {
			if(err)
				snprintf(err->field, sizeof(err->field), "exdates");
			return st;
		}
		exbuf[i] = (struct otd_civil){.year = y, .month = m, .day = d};
	}
	rule->n_exdates = s->n_exdates;
	rule->exdates = exbuf;
	return OTD_OK;
}

static void prefix_field(struct otd_error *err, const char *prefix)
{
	char f[2 * OTD_ERR_FIELD_MAX + 64];
	snprintf(f, sizeof(f), "%.63s%s", prefix, err->field);
	size_t n = strnlen(f, sizeof(err->field) - 1);
	memcpy(err->field, f, n);
	err->field[n] = '\0';
}

enum otd_status otd_visitor_validate(const struct otd_visitor *v, const struct otd_tz *tz,
                                     struct otd_error *err)
{
	enum otd_status st;
	if((st = otd_text_validate(v->name ? v->name : "", 1, OTD_NAME_MAX, false, "name", err)))
		return st;
	if((st = otd_text_validate(v->role_title ? v->role_title : "", 1, 100, false, "role_title",
	                           err)))
		return st;
	if(!isfinite(v->base_lat) || v->base_lat < -90 || v->base_lat > 90)
		return otd_error_set(err, OTD_EINVAL, "out_of_range", "base.lat",
		                     "The base latitude must be from -90 to 90.");
	if(!isfinite(v->base_lon) || v->base_lon < -180 || v->base_lon > 180)
		return otd_error_set(err, OTD_EINVAL, "out_of_range", "base.lon",
		                     "The base longitude must be from -180 to 180.");
	if(v->n_skills > OTD_SKILLS_MAX)
		return otd_error_set(err, OTD_EINVAL, "too_many", "skills",
		                     "A visitor has at most %d skills.", OTD_SKILLS_MAX);
	for(size_t i = 0; i < v->n_skills; i++) {
		char f[32];
		snprintf(f, sizeof(f), "skills[%zu]", i);
		if((st = otd_code_validate(v->skills[i], f, err)))
			return st;
	}
	if(v->n_shifts > OTD_SHIFTS_MAX)
		return otd_error_set(err, OTD_EINVAL, "too_many", "shifts",
		                     "A visitor has at most %d shift rules.", OTD_SHIFTS_MAX);
	for(size_t i = 0; i < v->n_shifts; i++) {
		const struct otd_shift *s = &v->shifts[i];
		char prefix[32];
		snprintf(prefix, sizeof(prefix), "shifts[%zu].", i);
		if(strcmp(s->tzid, otd_tz_name(tz)) != 0) {
			otd_error_set(err, OTD_EINVAL, "unsupported_timezone", "tzid",
			              "Shifts are kept in the organisation's zone, %s (got \"%.64s\").",
			              otd_tz_name(tz), s->tzid);
			prefix_field(err, prefix);
			return OTD_EINVAL;
		}
		struct otd_civil *ex = xcalloc(s->n_exdates ? s->n_exdates : 1, sizeof(*ex));
		struct otd_shift_rule rule;
		st = otd_shift_to_rule(s, &rule, ex, err);
		if(st == OTD_OK)
			st = otd_shift_validate(&rule, err);
		free(ex);
		if(st) {
			if(!err->field[0] || strcmp(err->field, "dtstart") == 0)
				snprintf(err->field, sizeof(err->field), "start");
			prefix_field(err, prefix);
			return st;
		}
	}
	return OTD_OK;
}

enum otd_status otd_visit_type_validate(const struct otd_visit_type *t, struct otd_error *err)
{
	enum otd_status st;
	if((st = otd_code_validate(t->code, "code", err)))
		return st;
	if((st = otd_text_validate(t->name ? t->name : "", 1, OTD_NAME_MAX, false, "name", err)))
		return st;
	if((st = otd_code_validate(t->skill, "skill", err)))
		return st;
	if(!isfinite(t->duration_median_min) || t->duration_median_min <= 0 ||
	   t->duration_median_min > 720)
		return otd_error_set(err, OTD_EINVAL, "out_of_range", "duration_median_minutes",
		                     "The median duration must be more than 0 and at most 720 minutes.");
	if(!isfinite(t->duration_spread) || t->duration_spread < 0 || t->duration_spread > 3)
		return otd_error_set(err, OTD_EINVAL, "out_of_range", "duration_spread",
		                     "The duration spread (log-normal sigma) must be from 0 to 3.");
	if(t->window_min < 15 || t->window_min > 720 || t->window_min % 5 != 0)
		return otd_error_set(err, OTD_EINVAL, "out_of_range", "window_minutes",
		                     "The window width must be 15 to 720 minutes, in steps of 5.");
	return OTD_OK;
}

bool otd_window_in_shifts(const struct otd_shift *shifts, size_t n, const struct otd_tz *tz,
                          int64_t start, int64_t end)
{
	for(size_t i = 0; i < n; i++) {
		struct otd_civil *ex = xcalloc(shifts[i].n_exdates ? shifts[i].n_exdates : 1,
		                               sizeof(*ex));
		struct otd_shift_rule rule;
		struct otd_interval *occ = NULL;
		size_t k = 0;
		bool inside = false;
		if(otd_shift_to_rule(&shifts[i], &rule, ex, NULL) == OTD_OK &&
		   otd_shift_expand(&rule, tz, start - 86400, end + 86400, &occ, &k, NULL) == OTD_OK) {
			for(size_t j = 0; j < k && !inside; j++)
				inside = occ[j].start <= start && end <= occ[j].end;
		}
		free(occ);
		free(ex);
		if(inside)
			return true;
	}
	return false;
}
