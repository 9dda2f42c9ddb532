/* Import file rows: gazetteer, visit types, visitors. */
#include "onthedot/import.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/validate.h"

const char *const OTD_GAZETTEER_COLUMNS[] = {"line1",  "postcode", "latitude", "longitude",
                                             "uprn",   "line2",    "town"};
const char *const OTD_VISIT_TYPE_COLUMNS[] = {"code",           "name",
                                              "skill",          "duration_median_minutes",
                                              "window_minutes", "duration_spread"};
const char *const OTD_VISITOR_COLUMNS[] = {"email",         "name",        "role_title",
                                           "base_lat",      "base_lon",    "phone",
                                           "skills",        "shift_start", "shift_minutes",
                                           "shift_rrule",   "shift_exdates"};

/* Field idx of the row, trimmed into a heap copy ("" when the column is
 * absent or the row short). */
static char *field(const struct otd_csv_row *row, int idx)
{
	if(idx < 0 || (size_t)idx >= row->n)
		return xstrdup("");
	const char *s = row->fields[idx];
	while(*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while(n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return xstrndup(s, n);
}

static enum otd_status number(const struct otd_csv_row *row, int idx, const char *name, double lo,
                              double hi, double *out, struct otd_error *err)
{
	char *s = field(row, idx);
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	bool ok = *s && !*end && !errno && isfinite(v) && v >= lo && v <= hi;
	free(s);
	if(!ok)
		return otd_error_set(err, OTD_EINVAL, "invalid_number", name,
		                     "%s must be a number from %g to %g.", name, lo, hi);
	*out = v;
	return OTD_OK;
}

static enum otd_status integer(const struct otd_csv_row *row, int idx, const char *name, long lo,
                               long hi, long *out, struct otd_error *err)
{
	char *s = field(row, idx);
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	bool ok = *s && !*end && !errno && v >= lo && v <= hi;
	free(s);
	if(!ok)
		return otd_error_set(err, OTD_EINVAL, "invalid_number", name,
		                     "%s must be a whole number from %ld to %ld.", name, lo, hi);
	*out = v;
	return OTD_OK;
}

enum otd_status otd_postcode_normalise(const char *in, char *display, char *norm,
                                       struct otd_error *err)
{
	size_t d = 0, k = 0;
	bool space = false;
	for(const char *p = in; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if(c == ' ') {
			space = d > 0;
			continue;
		}
		if(!isalnum(c) || k >= 10 || d >= 10)
			goto bad;
		if(space) {
			display[d++] = ' ';
			space = false;
		}
		if(d >= 10)
			goto bad;
		display[d++] = (char)toupper(c);
		norm[k++] = (char)toupper(c);
	}
	display[d] = '\0';
	norm[k] = '\0';
	if(k < 2)
		goto bad;
	return OTD_OK;
bad:
	display[0] = norm[0] = '\0';
	return otd_error_set(err, OTD_EINVAL, "invalid_postcode", "postcode",
	                     "postcode must be 2 to 10 letters and digits (spaces allowed).");
}

enum otd_status otd_gazetteer_row(const struct otd_csv_row *row, const int *idx,
                                  struct otd_address *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	out->line1 = field(row, idx[0]);
	out->line2 = field(row, idx[5]);
	out->town = field(row, idx[6]);
	enum otd_status st;
	if((st = otd_text_validate(out->line1, 1, 200, false, "line1", err)) ||
	   (st = otd_text_validate(out->line2, 0, 200, false, "line2", err)) ||
	   (st = otd_text_validate(out->town, 0, 100, false, "town", err)))
		return st;
	char *pc = field(row, idx[1]);
	st = otd_postcode_normalise(pc, out->postcode, out->postcode_norm, err);
	free(pc);
	if(st)
		return st;
	if((st = number(row, idx[2], "latitude", -90, 90, &out->lat, err)) ||
	   (st = number(row, idx[3], "longitude", -180, 180, &out->lon, err)))
		return st;
	char *uprn = field(row, idx[4]);
	size_t n = strlen(uprn);
	bool ok = n <= 12;
	for(size_t i = 0; ok && i < n; i++)
		ok = isdigit((unsigned char)uprn[i]);
	if(ok)
		memcpy(out->uprn, uprn, n + 1);
	free(uprn);
	if(!ok)
		return otd_error_set(err, OTD_EINVAL, "invalid_uprn", "uprn",
		                     "uprn must be up to 12 digits (or empty).");
	/* Identity without a UPRN: the first line, case and spacing folded,
	 * with the postcode. */
	struct otd_buf key;
	otd_buf_init(&key, 0);
	bool space = false;
	for(const char *p = out->line1; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if(c == ' ' || c == ',' || c == '.') {
			space = key.len > 0;
			continue;
		}
		if(space)
			otd_buf_append(&key, " ", 1);
		space = false;
		char lc = (char)(c < 0x80 ? tolower(c) : c);
		otd_buf_append(&key, &lc, 1);
	}
	otd_buf_printf(&key, "|%s", out->postcode_norm);
	out->match_key = otd_buf_steal(&key);
	return OTD_OK;
}

enum otd_status otd_visit_type_row(const struct otd_csv_row *row, const int *idx,
                                   struct otd_visit_type *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	enum otd_status st;
	char *code = field(row, idx[0]);
	char *skill = field(row, idx[2]);
	snprintf(out->code, sizeof(out->code), "%.64s", code);
	snprintf(out->skill, sizeof(out->skill), "%.64s", skill);
	const char *too_long = strlen(code) > 64 ? "code" : strlen(skill) > 64 ? "skill" : NULL;
	free(code);
	free(skill);
	if(too_long)
		return otd_error_set(err, OTD_EINVAL, "invalid_code", too_long,
		                     "%s is at most 64 characters.", too_long);
	out->name = field(row, idx[1]);
	long window;
	if((st = number(row, idx[3], "duration_median_minutes", 0.1, 720, &out->duration_median_min,
	                err)) ||
	   (st = integer(row, idx[4], "window_minutes", 15, 720, &window, err)))
		return st;
	out->window_min = (int)window;
	out->duration_spread = 0.3;
	char *spread = field(row, idx[5]);
	bool has_spread = spread[0] != '\0';
	free(spread);
	if(has_spread && (st = number(row, idx[5], "duration_spread", 0, 3, &out->duration_spread, err)))
		return st;
	out->active = true;
	return otd_visit_type_validate(out, err);
}

/* Splits s at spaces and ';' into heap strings appended to *items. */
static void split_list(const char *s, char ***items, size_t *n)
{
	const char *p = s;
	while(*p) {
		while(*p == ' ' || *p == ';')
			p++;
		const char *start = p;
		while(*p && *p != ' ' && *p != ';')
			p++;
		if(p > start) {
			*items = xrealloc(*items, (*n + 1) * sizeof(char *));
			(*items)[(*n)++] = xstrndup(start, (size_t)(p - start));
		}
	}
}

enum otd_status otd_visitor_row(const struct otd_csv_row *row, const int *idx,
                                struct otd_visitor *out, struct otd_shift *shift, bool *has_shift,
                                struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	memset(shift, 0, sizeof(*shift));
	*has_shift = false;
	enum otd_status st;
	out->email = field(row, idx[0]);
	out->name = field(row, idx[1]);
	out->role_title = field(row, idx[2]);
	out->phone = field(row, idx[5]);
	out->active = true;
	if(!out->email[0])
		return otd_error_set(err, OTD_EINVAL, "missing_value", "email",
		                     "email is required: it identifies the visitor on re-import.");
	if((st = number(row, idx[3], "base_lat", -90, 90, &out->base_lat, err)) ||
	   (st = number(row, idx[4], "base_lon", -180, 180, &out->base_lon, err)))
		return st;
	char *skills = field(row, idx[6]);
	split_list(skills, &out->skills, &out->n_skills);
	free(skills);
	char *start = field(row, idx[7]);
	char *minutes = field(row, idx[8]);
	char *rrule = field(row, idx[9]);
	int given = (start[0] != 0) + (minutes[0] != 0) + (rrule[0] != 0);
	free(minutes);
	if(given == 0) {
		free(start);
		free(rrule);
		return OTD_OK;
	}
	if(given != 3) {
		free(start);
		free(rrule);
		return otd_error_set(err, OTD_EINVAL, "incomplete_shift", "shift_rrule",
		                     "A shift needs shift_start, shift_minutes and shift_rrule together.");
	}
	struct otd_civil c;
	st = otd_local_parse(start, &c, err);
	free(start);
	if(st) {
		free(rrule);
		snprintf(err->field, sizeof(err->field), "shift_start");
		return st;
	}
	snprintf(shift->start, sizeof(shift->start), "%04d-%02d-%02dT%02d:%02d:%02d", c.year,
	         c.month, c.day, c.hour, c.minute, c.second);
	bool rrule_ok = strlen(rrule) < sizeof(shift->rrule);
	snprintf(shift->rrule, sizeof(shift->rrule), "%s", rrule);
	free(rrule);
	if(!rrule_ok)
		return otd_error_set(err, OTD_EINVAL, "bad_rrule", "shift_rrule",
		                     "shift_rrule is too long.");
	long mins;
	if((st = integer(row, idx[8], "shift_minutes", 1, 1440, &mins, err)))
		return st;
	shift->duration_min = (int)mins;
	char *exdates = field(row, idx[10]);
	char **dates = NULL;
	size_t nd = 0;
	split_list(exdates, &dates, &nd);
	free(exdates);
	shift->exdates = nd ? xcalloc(nd, sizeof(*shift->exdates)) : NULL;
	for(size_t i = 0; i < nd; i++) {
		int y, m, d;
		if(st == OTD_OK && otd_date_parse(dates[i], &y, &m, &d, err) != OTD_OK) {
			st = OTD_EINVAL;
			snprintf(err->field, sizeof(err->field), "shift_exdates");
		}
		if(st == OTD_OK) {
			otd_date_format(y, m, d, shift->exdates[i]);
			shift->n_exdates = i + 1;
		}
		free(dates[i]);
	}
	free(dates);
	if(st)
		return st;
	*has_shift = true;
	return OTD_OK;
}
