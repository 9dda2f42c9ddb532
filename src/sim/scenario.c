/* Scenario files: every member checked, unknown ones refused, defaults
 * those of contrib/scenarios/README.md. */
#include "sim/scenario.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/guarantee.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"

#define PATH_MAX_LEN 80 /* bytes of a JSON path in messages and err->field */
#define FILE_SHOWN 80   /* bytes of the file name shown in messages */
#define SHOWN 40        /* bytes of a value or key quoted in a message */
#define SKILL_MAX 40
#define REQUESTS_MAX 20000
#define FACTOR_MIN 0.1
#define FACTOR_MAX 10.0

struct ctx {
	const char *file;
	struct otd_error *err;
};

static enum otd_status bad(struct ctx *c, const char *code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fills err with "FILE: PATH: <what>", field PATH, and returns OTD_EINVAL. */
static enum otd_status bad(struct ctx *c, const char *code, const char *path, const char *fmt, ...)
{
	char what[OTD_ERR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if(*c->file)
		return otd_error_set(c->err, OTD_EINVAL, code, path, "%.*s: %s: %s", FILE_SHOWN,
		                     c->file, path, what);
	return otd_error_set(c->err, OTD_EINVAL, code, path, "%s: %s", path, what);
}

/* s cut to at most SHOWN bytes on a character boundary, control
 * characters and quotes replaced by '?': safe inside a quoted message. */
static void shown(const char *s, char out[SHOWN + 4])
{
	size_t n = strlen(s);
	bool cut = n > SHOWN;
	if(cut) {
		n = SHOWN;
		while(n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--; /* do not split a UTF-8 sequence */
	}
	for(size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = ch < 0x20 || ch == 0x7F || ch == '"' || ch == '\\' ? '?' : (char)ch;
	}
	if(cut) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

/* A JSON value as a message shows it: "8am" (quoted), 45, 0.3, true, an
 * object... */
static void show_value(const json_t *v, char out[SHOWN + 8])
{
	char s[SHOWN + 4];
	switch(json_typeof(v)) {
	case JSON_STRING:
		shown(json_string_value(v), s);
		snprintf(out, SHOWN + 8, "\"%s\"", s);
		break;
	case JSON_INTEGER:
		snprintf(out, SHOWN + 8, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL: snprintf(out, SHOWN + 8, "%g", json_real_value(v)); break;
	case JSON_TRUE: snprintf(out, SHOWN + 8, "true"); break;
	case JSON_FALSE: snprintf(out, SHOWN + 8, "false"); break;
	case JSON_NULL: snprintf(out, SHOWN + 8, "null"); break;
	case JSON_OBJECT: snprintf(out, SHOWN + 8, "an object"); break;
	case JSON_ARRAY: snprintf(out, SHOWN + 8, "an array"); break;
	}
}

/* a + sep + b into out (PATH_MAX_LEN + 1 bytes), cut at PATH_MAX_LEN:
 * paths here are short, and a cut one still names the place. */
static void path_join(const char *a, const char *sep, const char *b, char *out)
{
	const char *parts[3] = {a, sep, b};
	size_t n = 0;
	for(int i = 0; i < 3; i++)
		for(const char *q = parts[i]; *q && n < PATH_MAX_LEN; q++)
			out[n++] = *q;
	out[n] = '\0';
}

/* path + "." + key into out (PATH_MAX_LEN + 1 bytes); a top-level key
 * stands alone. */
static void path_key(const char *path, const char *key, char *out)
{
	path_join(path, *path ? "." : "", key, out);
}

/* path + "[i]" into out (PATH_MAX_LEN + 1 bytes). */
static void path_index(const char *path, size_t i, char *out)
{
	char idx[24];
	snprintf(idx, sizeof(idx), "[%zu]", i);
	path_join(path, "", idx, out);
}

/* Levenshtein distance of two short strings, capped at 9. */
static int distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if(na > 40 || nb > 40)
		return 9;
	int row[41];
	for(size_t j = 0; j <= nb; j++)
		row[j] = (int)j;
	for(size_t i = 1; i <= na; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for(size_t j = 1; j <= nb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);
			if(up + 1 < best)
				best = up + 1;
			if(row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb] > 9 ? 9 : row[nb];
}

/* Refuses any member of obj not in known (NULL-terminated): a typo must
 * not be ignored, so the message offers the nearest known name, or lists
 * them all. */
static enum otd_status only_known(struct ctx *c, json_t *obj, const char *path,
                                  const char *const *known)
{
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value)
	{
		const char *nearest = NULL;
		int best = 3; /* at most two edits away counts as a typo */
		bool found = false;
		for(size_t i = 0; known[i] && !found; i++) {
			found = strcmp(key, known[i]) == 0;
			int d = distance(key, known[i]);
			if(d < best)
				best = d, nearest = known[i];
		}
		if(found)
			continue;
		char name[SHOWN + 4], sub[PATH_MAX_LEN + 1];
		shown(key, name);
		path_key(path, name, sub);
		if(nearest)
			return bad(c, "unknown_member", sub,
			           "is not a known member; did you mean \"%s\"?", nearest);
		char list[240] = "";
		size_t used = 0;
		for(size_t i = 0; known[i] && used < sizeof(list); i++) {
			int k = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
			                 known[i]);
			if(k < 0)
				break;
			used += (size_t)k;
		}
		return bad(c, "unknown_member", sub, "is not a known member (known: %s).", list);
	}
	return OTD_OK;
}

/* The member key of obj into *out: NULL when absent. Absent and required
 * is an error naming the member. */
static enum otd_status member(struct ctx *c, json_t *obj, const char *path, const char *key,
                              bool required, json_t **out)
{
	*out = json_object_get(obj, key);
	if(*out || !required)
		return OTD_OK;
	char sub[PATH_MAX_LEN + 1];
	path_key(path, key, sub);
	return bad(c, "missing", sub,
	           "is missing; it is required (see contrib/scenarios/README.md).");
}

static bool has_control(const char *s, bool multiline)
{
	for(; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if(multiline && (ch == '\n' || ch == '\t'))
			continue;
		if(ch < 0x20 || ch == 0x7F)
			return true;
	}
	return false;
}

/* A string member of min..size-1 bytes without control characters (but
 * newlines and tabs when multiline), copied into out. Left as it is when
 * absent and optional. */
static enum otd_status get_text(struct ctx *c, json_t *obj, const char *path, const char *key,
                                bool required, size_t min, bool multiline, char *out, size_t size)
{
	json_t *v;
	enum otd_status st = member(c, obj, path, key, required, &v);
	if(st || !v)
		return st;
	char sub[PATH_MAX_LEN + 1], val[SHOWN + 8];
	path_key(path, key, sub);
	show_value(v, val);
	if(!json_is_string(v))
		return bad(c, "wrong_type", sub, "%s is not a string.", val);
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if(n < min)
		return bad(c, "out_of_range", sub, "must not be empty.");
	if(n > size - 1)
		return bad(c, "out_of_range", sub,
		           "is %zu bytes long; at most %zu bytes are allowed.", n, size - 1);
	if(strlen(s) != n || has_control(s, multiline))
		return bad(c, "wrong_type", sub, "%s holds control characters%s.", val,
		           multiline ? " (only newlines and tabs are allowed)" : "");
	memcpy(out, s, n + 1);
	return OTD_OK;
}

/* A whole-number member in min..max into *out; left as it is when absent
 * and optional. */
static enum otd_status get_int(struct ctx *c, json_t *obj, const char *path, const char *key,
                               bool required, int min, int max, int *out)
{
	json_t *v;
	enum otd_status st = member(c, obj, path, key, required, &v);
	if(st || !v)
		return st;
	char sub[PATH_MAX_LEN + 1], val[SHOWN + 8];
	path_key(path, key, sub);
	show_value(v, val);
	if(!json_is_integer(v))
		return bad(c, "wrong_type", sub, "%s is not a whole number from %d to %d.", val,
		           min, max);
	json_int_t x = json_integer_value(v);
	if(x < min || x > max)
		return bad(c, "out_of_range", sub, "%s is out of range: allowed %d to %d.", val,
		           min, max);
	*out = (int)x;
	return OTD_OK;
}

/* A number member in [min, max] (above min when min_open) into *out;
 * left as it is when absent and optional. */
static enum otd_status get_number(struct ctx *c, json_t *obj, const char *path, const char *key,
                                  bool required, double min, bool min_open, double max, double *out)
{
	json_t *v;
	enum otd_status st = member(c, obj, path, key, required, &v);
	if(st || !v)
		return st;
	char sub[PATH_MAX_LEN + 1], val[SHOWN + 8];
	path_key(path, key, sub);
	show_value(v, val);
	char allowed[64];
	if(min_open)
		snprintf(allowed, sizeof(allowed), "more than %g, at most %g", min, max);
	else
		snprintf(allowed, sizeof(allowed), "%g to %g", min, max);
	if(!json_is_number(v))
		return bad(c, "wrong_type", sub, "%s is not a number (allowed %s).", val, allowed);
	double x = json_number_value(v);
	if(!isfinite(x) || x < min || (min_open && x <= min) || x > max)
		return bad(c, "out_of_range", sub, "%s is out of range: allowed %s.", val, allowed);
	*out = x;
	return OTD_OK;
}

/* "HH:MM" (00:00..23:59, or 24:00 when allow_24) into *minutes. */
static bool parse_clock(const char *s, bool allow_24, int *minutes)
{
	if(strlen(s) != 5 || s[2] != ':')
		return false;
	for(int i = 0; i < 5; i++)
		if(i != 2 && (s[i] < '0' || s[i] > '9'))
			return false;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if(m > 59 || h > 24 || (h == 24 && (!allow_24 || m != 0)))
		return false;
	*minutes = h * 60 + m;
	return true;
}

/* A local time member "HH:MM" into out (6 bytes) and *minutes (may be
 * NULL); "" too when allow_empty (then *minutes is -1). Left as it is when
 * absent and optional. */
static enum otd_status get_clock(struct ctx *c, json_t *obj, const char *path, const char *key,
                                 bool required, bool allow_24, bool allow_empty, char out[6],
                                 int *minutes)
{
	json_t *v;
	enum otd_status st = member(c, obj, path, key, required, &v);
	if(st || !v)
		return st;
	char sub[PATH_MAX_LEN + 1], val[SHOWN + 8];
	path_key(path, key, sub);
	show_value(v, val);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	int m = -1;
	if(s && allow_empty && !*s) {
		out[0] = '\0';
	} else if(s && parse_clock(s, allow_24, &m)) {
		memcpy(out, s, 6);
	} else {
		return bad(c, "bad_time", sub, "%s is not a time HH:MM (00:00 to %s)%s.", val,
		           allow_24 ? "24:00" : "23:59", allow_empty ? " or \"\"" : "");
	}
	if(minutes)
		*minutes = m;
	return OTD_OK;
}

/* An object member (absent and optional: *out NULL) whose members are all
 * in known. */
static enum otd_status get_object(struct ctx *c, json_t *obj, const char *key, bool required,
                                  const char *const *known, json_t **out)
{
	enum otd_status st = member(c, obj, "", key, required, out);
	if(st || !*out)
		return st;
	if(!json_is_object(*out)) {
		char val[SHOWN + 8];
		show_value(*out, val);
		return bad(c, "wrong_type", key, "%s is not an object {...}.", val);
	}
	return only_known(c, *out, key, known);
}

/* An array member of 1..max elements (absent and optional: *out NULL). */
static enum otd_status get_array(struct ctx *c, json_t *obj, const char *path, const char *key,
                                 bool required, size_t max, json_t **out)
{
	enum otd_status st = member(c, obj, path, key, required, out);
	if(st || !*out)
		return st;
	char sub[PATH_MAX_LEN + 1], val[SHOWN + 8];
	path_key(path, key, sub);
	show_value(*out, val);
	if(!json_is_array(*out))
		return bad(c, "wrong_type", sub, "%s is not an array [...].", val);
	size_t n = json_array_size(*out);
	if(n < 1 && required)
		return bad(c, "out_of_range", sub, "is empty: give 1 to %zu entries.", max);
	if(n > max)
		return bad(c, "too_many", sub, "has %zu entries; at most %zu are allowed.", n, max);
	return OTD_OK;
}

/* A code: 1..max of [a-z0-9-]. */
static bool code_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if(n < 1 || n > max)
		return false;
	for(; *s; s++)
		if(!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

/* Whether the space-separated list holds skill. */
static bool skills_hold(const char *list, const char *skill)
{
	size_t n = strlen(skill);
	for(const char *p = list; *p;) {
		size_t k = strcspn(p, " ");
		if(k == n && memcmp(p, skill, n) == 0)
			return true;
		p += k;
		while(*p == ' ')
			p++;
	}
	return false;
}

/* ---- sections ----------------------------------------------------------- */

static enum otd_status parse_area(struct ctx *c, json_t *root, struct sim_scenario *s)
{
	static const char *const keys[] = {"centre_lat", "centre_lon",    "radius_km", "addresses",
	                                   "town",       "postcode_area", NULL};
	json_t *o;
	enum otd_status st = get_object(c, root, "area", true, keys, &o);
	if(!st)
		st = get_number(c, o, "area", "centre_lat", true, -90, false, 90, &s->centre_lat);
	if(!st)
		st = get_number(c, o, "area", "centre_lon", true, -180, false, 180, &s->centre_lon);
	if(!st)
		st = get_number(c, o, "area", "radius_km", false, 0.5, false, 100, &s->radius_km);
	if(!st)
		st = get_int(c, o, "area", "addresses", true, 10, SIM_ADDRESSES_MAX, &s->addresses);
	if(!st)
		st = get_text(c, o, "area", "town", false, 1, false, s->town, sizeof(s->town));
	if(!st)
		st = get_text(c, o, "area", "postcode_area", false, 1, false, s->postcode_area,
		              sizeof(s->postcode_area));
	if(st)
		return st;
	for(const char *p = s->postcode_area; *p; p++)
		if(*p < 'A' || *p > 'Z') {
			char val[SHOWN + 4];
			shown(s->postcode_area, val);
			return bad(c, "out_of_range", "area.postcode_area",
			           "\"%s\" is not one or two capital letters (such as \"ZZ\").",
			           val);
		}
	return OTD_OK;
}

/* A group's skills: an array of distinct codes, joined with spaces. */
static enum otd_status parse_skills(struct ctx *c, json_t *g, const char *path, char *out,
                                    size_t size)
{
	json_t *a;
	enum otd_status st = get_array(c, g, path, "skills", true, 10, &a);
	if(st)
		return st;
	char base[PATH_MAX_LEN + 1];
	path_key(path, "skills", base);
	size_t used = 0;
	out[0] = '\0';
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		char sub[PATH_MAX_LEN + 1], val[SHOWN + 8];
		path_index(base, i, sub);
		show_value(v, val);
		if(!json_is_string(v) || !code_ok(json_string_value(v), SKILL_MAX))
			return bad(c, "bad_code", sub,
			           "%s is not a skill code: 1 to %d of a-z, 0-9 and '-'.", val,
			           SKILL_MAX);
		const char *skill = json_string_value(v);
		if(skills_hold(out, skill))
			return bad(c, "duplicate", sub, "%s is listed twice.", val);
		size_t n = strlen(skill);
		if(used + (used ? 1 : 0) + n + 1 > size)
			return bad(c, "too_long", base,
			           "the skills take more than %zu bytes joined with spaces.",
			           size - 1);
		if(used)
			out[used++] = ' ';
		memcpy(out + used, skill, n + 1);
		used += n;
	}
	return OTD_OK;
}

/* "MO,TU,WE,TH,FR": distinct two-letter days, comma-separated. */
static bool days_ok(const char *s)
{
	static const char *const names[] = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
	bool seen[7] = {false};
	for(const char *p = s;; p += 3) {
		int found = -1;
		for(int d = 0; d < 7; d++)
			if(strncmp(p, names[d], 2) == 0)
				found = d;
		if(found < 0 || seen[found])
			return false;
		seen[found] = true;
		if(p[2] == '\0')
			return true;
		if(p[2] != ',')
			return false;
	}
}

static enum otd_status parse_visitors(struct ctx *c, json_t *root, struct sim_scenario *s)
{
	static const char *const keys[] = {"count",         "role_title", "skills", "shift_start",
	                                   "shift_minutes", "days",       NULL};
	json_t *a;
	enum otd_status st = get_array(c, root, "", "visitors", true, SIM_GROUPS_MAX, &a);
	if(st)
		return st;
	int total = 0;
	size_t i;
	json_t *g;
	json_array_foreach(a, i, g)
	{
		char path[PATH_MAX_LEN + 1];
		path_index("visitors", i, path);
		struct sim_visitor_group *v = &s->groups[i];
		snprintf(v->role_title, sizeof(v->role_title), "Visitor");
		snprintf(v->days, sizeof(v->days), "MO,TU,WE,TH,FR");
		if(!json_is_object(g)) {
			char val[SHOWN + 8];
			show_value(g, val);
			return bad(c, "wrong_type", path, "%s is not an object {\"count\": ...}.",
			           val);
		}
		st = only_known(c, g, path, keys);
		if(!st)
			st = get_int(c, g, path, "count", true, 1, SIM_VISITORS_MAX, &v->count);
		if(!st)
			st = get_text(c, g, path, "role_title", false, 1, false, v->role_title,
			              sizeof(v->role_title));
		if(!st)
			st = parse_skills(c, g, path, v->skills, sizeof(v->skills));
		if(!st)
			st = get_clock(c, g, path, "shift_start", true, false, false,
			               v->shift_start, NULL);
		if(!st)
			st =
			    get_int(c, g, path, "shift_minutes", true, 60, 1440, &v->shift_minutes);
		if(!st)
			st =
			    get_text(c, g, path, "days", false, 1, false, v->days, sizeof(v->days));
		if(st)
			return st;
		if(!days_ok(v->days)) {
			char sub[PATH_MAX_LEN + 1], val[SHOWN + 4];
			path_key(path, "days", sub);
			shown(v->days, val);
			return bad(
			    c, "bad_days", sub,
			    "\"%s\" is not a list of days such as \"MO,TU,WE,TH,FR\" (MO, TU, WE, "
			    "TH, FR, SA, SU, each once, separated by commas).",
			    val);
		}
		total += v->count;
		s->n_groups = i + 1;
	}
	if(total > SIM_VISITORS_MAX)
		return bad(c, "too_many", "visitors",
		           "the groups hold %d visitors in all; at most %d are allowed.", total,
		           SIM_VISITORS_MAX);
	return OTD_OK;
}

static enum otd_status parse_types(struct ctx *c, json_t *root, struct sim_scenario *s)
{
	static const char *const keys[] = {
	    "code", "name", "skill", "duration_median_minutes", "duration_spread", "share", NULL};
	json_t *a;
	enum otd_status st = get_array(c, root, "", "visit_types", true, SIM_TYPES_MAX, &a);
	if(st)
		return st;
	size_t i;
	json_t *o;
	json_array_foreach(a, i, o)
	{
		char path[PATH_MAX_LEN + 1], sub[PATH_MAX_LEN + 1], val[SHOWN + 4];
		path_index("visit_types", i, path);
		struct sim_visit_type *t = &s->types[i];
		t->duration_spread = 0.3;
		t->share = 1.0;
		if(!json_is_object(o)) {
			char v[SHOWN + 8];
			show_value(o, v);
			return bad(c, "wrong_type", path, "%s is not an object {\"code\": ...}.",
			           v);
		}
		st = only_known(c, o, path, keys);
		if(!st)
			st = get_text(c, o, path, "code", true, 1, false, t->code, sizeof(t->code));
		if(!st && !code_ok(t->code, sizeof(t->code) - 1)) {
			path_key(path, "code", sub);
			shown(t->code, val);
			return bad(c, "bad_code", sub,
			           "\"%s\" is not a code: 1 to %zu of a-z, 0-9 and '-'.", val,
			           sizeof(t->code) - 1);
		}
		for(size_t j = 0; !st && j < i; j++)
			if(strcmp(s->types[j].code, t->code) == 0) {
				path_key(path, "code", sub);
				shown(t->code, val);
				return bad(
				    c, "duplicate", sub,
				    "\"%s\" is also visit_types[%zu].code; codes must differ.", val,
				    j);
			}
		if(!st)
			st = get_text(c, o, path, "name", true, 1, false, t->name, sizeof(t->name));
		if(!st)
			st = get_text(c, o, path, "skill", true, 1, false, t->skill,
			              sizeof(t->skill));
		if(!st && !code_ok(t->skill, SKILL_MAX)) {
			path_key(path, "skill", sub);
			shown(t->skill, val);
			return bad(c, "bad_code", sub,
			           "\"%s\" is not a skill code: 1 to %d of a-z, 0-9 and '-'.", val,
			           SKILL_MAX);
		}
		bool held = false;
		for(size_t k = 0; !st && k < s->n_groups && !held; k++)
			held = skills_hold(s->groups[k].skills, t->skill);
		if(!st && !held) {
			path_key(path, "skill", sub);
			shown(t->skill, val);
			return bad(
			    c, "unknown_skill", sub,
			    "no visitor group has the skill \"%s\"; add it to a group's skills.",
			    val);
		}
		if(!st)
			st = get_int(c, o, path, "duration_median_minutes", true, 5, 480,
			             &t->duration_median_minutes);
		if(!st)
			st = get_number(c, o, path, "duration_spread", false, 0, false, 2,
			                &t->duration_spread);
		if(!st)
			st = get_number(c, o, path, "share", false, 0, true, 1000, &t->share);
		if(st)
			return st;
		s->n_types = i + 1;
	}
	return OTD_OK;
}

static enum otd_status parse_planning(struct ctx *c, json_t *root, struct sim_scenario *s)
{
	static const char *const keys[] = {"speed_kmh", "road_factor",   "break_start",
	                                   "break_end", "break_minutes", "rule_set",
	                                   NULL};
	json_t *o;
	enum otd_status st = get_object(c, root, "planning", false, keys, &o);
	if(st || !o)
		return st;
	int from = 0, to = 0;
	const char *p = "planning";
	st = get_number(c, o, p, "speed_kmh", false, 5, false, 130, &s->speed_kmh);
	if(!st)
		st = get_number(c, o, p, "road_factor", false, 1, false, 3, &s->road_factor);
	if(!st)
		st = get_clock(c, o, p, "break_start", false, false, true, s->break_start, NULL);
	if(!st)
		st = get_clock(c, o, p, "break_end", false, false, true, s->break_end, NULL);
	if(!st)
		st = get_int(c, o, p, "break_minutes", false, 0, 120, &s->break_minutes);
	if(!st)
		st = get_text(c, o, p, "rule_set", false, 0, false, s->rule_set,
		              sizeof(s->rule_set));
	if(st)
		return st;
	/* The break: "" start and end only without one; else a span. */
	if(s->break_minutes > 0) {
		if(!*s->break_start)
			return bad(c, "bad_break", "planning.break_start",
			           "is \"\", but break_minutes is %d: give a time HH:MM (or set "
			           "break_minutes to 0 for no break).",
			           s->break_minutes);
		if(!*s->break_end)
			return bad(c, "bad_break", "planning.break_end",
			           "is \"\", but break_minutes is %d: give a time HH:MM (or set "
			           "break_minutes to 0 for no break).",
			           s->break_minutes);
		parse_clock(s->break_start, false, &from);
		parse_clock(s->break_end, false, &to);
		if(to <= from)
			return bad(
			    c, "bad_break", "planning.break_end",
			    "\"%s\" is not after planning.break_start \"%s\": the break starts "
			    "between the two.",
			    s->break_end, s->break_start);
	}
	if(*s->rule_set) {
		struct otd_rule_set rs;
		struct otd_error e;
		otd_error_clear(&e);
		if(otd_rule_set_builtin(s->rule_set, &rs, &e) != OTD_OK) {
			size_t n = strlen(e.message);
			if(n > 0 && e.message[n - 1] == '.')
				e.message[n - 1] = '\0';
			return bad(c, "unknown_rule_set", "planning.rule_set",
			           "%s; or \"\" for none.", e.message);
		}
		otd_rule_set_cleanup(&rs);
	}
	return OTD_OK;
}

static enum otd_status parse_demand(struct ctx *c, json_t *root, struct sim_scenario *s)
{
	static const char *const keys[] = {"requests_per_day",
	                                   "cancel_share",
	                                   "reschedule_share",
	                                   "sms_consent_share",
	                                   "email_consent_share",
	                                   "accept_offer_share",
	                                   NULL};
	json_t *o;
	const char *p = "demand";
	enum otd_status st = get_object(c, root, p, true, keys, &o);
	if(!st)
		st = get_int(c, o, p, "requests_per_day", true, 1, REQUESTS_MAX,
		             &s->requests_per_day);
	if(!st)
		st = get_number(c, o, p, "cancel_share", false, 0, false, 1, &s->cancel_share);
	if(!st)
		st = get_number(c, o, p, "reschedule_share", false, 0, false, 1,
		                &s->reschedule_share);
	if(!st)
		st = get_number(c, o, p, "sms_consent_share", false, 0, false, 1,
		                &s->sms_consent_share);
	if(!st)
		st = get_number(c, o, p, "email_consent_share", false, 0, false, 1,
		                &s->email_consent_share);
	if(!st)
		st = get_number(c, o, p, "accept_offer_share", false, 0, false, 1,
		                &s->accept_offer_share);
	if(st)
		return st;
	if(s->cancel_share + s->reschedule_share > 1.0)
		return bad(c, "out_of_range", "demand.reschedule_share",
		           "%g with cancel_share %g: the two shares of bookings add up to more "
		           "than 1.",
		           s->reschedule_share, s->cancel_share);
	return OTD_OK;
}

/* reality.overrun_minutes: [min, max], 0 <= min <= max <= 1440. */
static enum otd_status parse_overrun(struct ctx *c, json_t *o, struct otd_reality *r)
{
	json_t *a = json_object_get(o, "overrun_minutes");
	if(!a)
		return OTD_OK;
	const char *p = "reality.overrun_minutes";
	char val[SHOWN + 8];
	show_value(a, val);
	if(!json_is_array(a) || json_array_size(a) != 2)
		return bad(c, "wrong_type", p,
		           "%s is not a pair [min, max] of whole minutes from 0 to 1440.", val);
	int m[2];
	for(size_t i = 0; i < 2; i++) {
		json_t *v = json_array_get(a, i);
		char sub[PATH_MAX_LEN + 1];
		path_index(p, i, sub);
		show_value(v, val);
		if(!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1440)
			return bad(c, "out_of_range", sub,
			           "%s is not a whole number of minutes from 0 to 1440.", val);
		m[i] = (int)json_integer_value(v);
	}
	if(m[1] < m[0])
		return bad(c, "out_of_range", p, "[%d, %d]: the maximum is below the minimum.",
		           m[0], m[1]);
	r->overrun_min_s = m[0] * 60;
	r->overrun_max_s = m[1] * 60;
	return OTD_OK;
}

static enum otd_status parse_traffic(struct ctx *c, json_t *o, struct otd_reality *r)
{
	static const char *const keys[] = {"from", "to", "factor", NULL};
	json_t *a;
	enum otd_status st =
	    get_array(c, o, "reality", "traffic", false, OTD_REALITY_TRAFFIC_MAX, &a);
	if(st || !a)
		return st;
	size_t i;
	json_t *b;
	json_array_foreach(a, i, b)
	{
		char path[PATH_MAX_LEN + 1], sub[PATH_MAX_LEN + 1];
		path_index("reality.traffic", i, path);
		if(!json_is_object(b)) {
			char val[SHOWN + 8];
			show_value(b, val);
			return bad(c, "wrong_type", path,
			           "%s is not a band {\"from\": \"07:00\", \"to\": \"09:30\", "
			           "\"factor\": 1.3}.",
			           val);
		}
		struct otd_traffic_band *band = &r->traffic[i];
		char from[6], to[6];
		st = only_known(c, b, path, keys);
		if(!st)
			st = get_clock(c, b, path, "from", true, false, false, from,
			               &band->from_minute);
		if(!st)
			st = get_clock(c, b, path, "to", true, true, false, to, &band->to_minute);
		if(!st)
			st = get_number(c, b, path, "factor", true, FACTOR_MIN, false, FACTOR_MAX,
			                &band->factor);
		if(st)
			return st;
		if(band->to_minute <= band->from_minute) {
			path_key(path, "to", sub);
			return bad(c, "out_of_range", sub,
			           "\"%s\" is not after \"from\" \"%s\" (a band ends by 24:00).",
			           to, from);
		}
		r->n_traffic = i + 1;
	}
	return OTD_OK;
}

static enum otd_status parse_reality(struct ctx *c, json_t *root, struct sim_scenario *s)
{
	static const char *const keys[] = {"duration_factor",     "duration_spread",
	                                   "overrun_share",       "overrun_minutes",
	                                   "travel_factor",       "travel_spread",
	                                   "weather_factor",      "traffic",
	                                   "late_tap_share",      "late_tap_max_minutes",
	                                   "forgotten_tap_share", "sick_visitors",
	                                   "sick_from",           NULL};
	json_t *o;
	enum otd_status st = get_object(c, root, "reality", false, keys, &o);
	if(st || !o)
		return st;
	struct otd_reality *r = &s->reality;
	const char *p = "reality";
	int late_max = r->late_tap_max_s / 60;
	st = get_number(c, o, p, "duration_factor", false, FACTOR_MIN, false, FACTOR_MAX,
	                &r->duration_factor);
	if(!st)
		st =
		    get_number(c, o, p, "duration_spread", false, 0, false, 2, &r->duration_spread);
	if(!st)
		st = get_number(c, o, p, "overrun_share", false, 0, false, 1, &r->overrun_share);
	if(!st)
		st = parse_overrun(c, o, r);
	if(!st)
		st = get_number(c, o, p, "travel_factor", false, FACTOR_MIN, false, FACTOR_MAX,
		                &r->travel_factor);
	if(!st)
		st = get_number(c, o, p, "travel_spread", false, 0, false, 2, &r->travel_spread);
	if(!st)
		st = get_number(c, o, p, "weather_factor", false, FACTOR_MIN, false, FACTOR_MAX,
		                &r->weather_factor);
	if(!st)
		st = parse_traffic(c, o, r);
	if(!st)
		st = get_number(c, o, p, "late_tap_share", false, 0, false, 1, &r->late_tap_share);
	if(!st)
		st = get_int(c, o, p, "late_tap_max_minutes", false, 0, 120, &late_max);
	if(!st)
		st = get_number(c, o, p, "forgotten_tap_share", false, 0, false, 1,
		                &r->forgotten_tap_share);
	if(!st)
		st = get_int(c, o, p, "sick_visitors", false, 0, SIM_VISITORS_MAX,
		             &s->sick_visitors);
	if(!st)
		st = get_clock(c, o, p, "sick_from", false, false, false, s->sick_from, NULL);
	if(st)
		return st;
	r->late_tap_max_s = late_max * 60;
	int total = sim_scenario_visitors(s);
	if(s->sick_visitors > total)
		return bad(c, "out_of_range", "reality.sick_visitors",
		           "%d is more than the %d visitors of the scenario.", s->sick_visitors,
		           total);
	return OTD_OK;
}

/* The zone must load (from tzdata, through libical) for the year of the
 * first day. */
static enum otd_status check_zone(struct ctx *c, const struct sim_scenario *s, int year)
{
	struct otd_tz *tz = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	if(tzload_build(s->timezone, year, year, &tz, &e) == OTD_OK) {
		otd_tz_free(tz);
		return OTD_OK;
	}
	char val[SHOWN + 4];
	shown(s->timezone, val);
	return bad(c, "unknown_time_zone", "timezone",
	           "\"%s\" is not a time zone this machine knows: give an IANA name such as "
	           "\"Europe/London\" (tzdata must be installed).",
	           val);
}

static void set_defaults(struct sim_scenario *s)
{
	memset(s, 0, sizeof(*s));
	s->booking_days = 5;
	s->history_days = 0;
	s->radius_km = 8;
	snprintf(s->town, sizeof(s->town), "Wrenfield");
	snprintf(s->postcode_area, sizeof(s->postcode_area), "ZZ");
	s->speed_kmh = 30;
	s->road_factor = 1.3;
	snprintf(s->break_start, sizeof(s->break_start), "12:00");
	snprintf(s->break_end, sizeof(s->break_end), "14:00");
	s->break_minutes = 30;
	snprintf(s->rule_set, sizeof(s->rule_set), "gb-energy");
	s->cancel_share = 0.03;
	s->reschedule_share = 0.04;
	s->sms_consent_share = 0.7;
	s->email_consent_share = 0.9;
	s->accept_offer_share = 0.3;
	otd_reality_default(&s->reality);
	s->sick_visitors = 0;
	snprintf(s->sick_from, sizeof(s->sick_from), "10:00");
	s->tick_minutes = 5;
}

static enum otd_status parse_root(struct ctx *c, json_t *root, struct sim_scenario *s)
{
	static const char *const keys[] = {
	    "name",    "description",  "timezone",    "first_day", "booking_days", "history_days",
	    "area",    "visitors",     "visit_types", "planning",  "demand",
	    "reality", "tick_minutes", NULL};
	if(!json_is_object(root))
		return otd_error_set(c->err, OTD_EINVAL, "wrong_type", "",
		                     "%.*s%sa scenario is one JSON object {\"name\": ...}; see "
		                     "contrib/scenarios/README.md.",
		                     FILE_SHOWN, c->file, *c->file ? ": " : "");
	enum otd_status st = only_known(c, root, "", keys);
	if(!st)
		st = get_text(c, root, "", "name", true, 1, false, s->name, sizeof(s->name));
	if(!st)
		st = get_text(c, root, "", "description", false, 0, true, s->description,
		              sizeof(s->description));
	if(!st)
		st = get_text(c, root, "", "timezone", true, 1, false, s->timezone,
		              sizeof(s->timezone));
	if(!st)
		st = get_text(c, root, "", "first_day", true, 1, false, s->first_day,
		              sizeof(s->first_day));
	if(st)
		return st;
	int y, m, d;
	struct otd_error e;
	if(otd_date_parse(s->first_day, &y, &m, &d, &e) != OTD_OK) {
		char val[SHOWN + 4];
		shown(s->first_day, val);
		return bad(c, "bad_date", "first_day", "\"%s\" is not a date YYYY-MM-DD.", val);
	}
	st = check_zone(c, s, y);
	if(!st)
		st = get_int(c, root, "", "booking_days", false, 1, 30, &s->booking_days);
	if(!st)
		st = get_int(c, root, "", "history_days", false, 0, 7, &s->history_days);
	if(!st)
		st = parse_area(c, root, s);
	if(!st)
		st = parse_visitors(c, root, s);
	if(!st)
		st = parse_types(c, root, s);
	if(!st)
		st = parse_planning(c, root, s);
	if(!st)
		st = parse_demand(c, root, s);
	if(!st)
		st = parse_reality(c, root, s);
	if(!st)
		st = get_int(c, root, "", "tick_minutes", false, 1, 60, &s->tick_minutes);
	if(st)
		return st;
	/* Every range above is inside reality.h's: this only guards the two
	 * lists of rules from drifting apart. */
	const char *r = otd_reality_check(&s->reality);
	if(r)
		return otd_error_set(c->err, OTD_EINTERNAL, "bad_reality", "reality",
		                     "%.*s: the reality passed every check but %s.", FILE_SHOWN,
		                     c->file, r);
	return OTD_OK;
}

/* ---- public ----------------------------------------------------------- */

enum otd_status sim_scenario_parse(const char *text, size_t len, const char *name,
                                   struct sim_scenario *out, struct otd_error *err)
{
	struct ctx c = {name ? name : "", err};
	set_defaults(out);
	if(len > SIM_SCENARIO_MAX_BYTES)
		return otd_error_set(err, OTD_ETOOBIG, "too_big", "",
		                     "%.*s%sis %zu bytes; a scenario may have at most %d.",
		                     FILE_SHOWN, c.file, *c.file ? ": " : "", len,
		                     SIM_SCENARIO_MAX_BYTES);
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if(!root)
		return otd_error_set(err, OTD_EINVAL, "bad_json", "",
		                     "%.*s%snot valid JSON at line %d, column %d: %s.", FILE_SHOWN,
		                     c.file, *c.file ? ": " : "", jerr.line, jerr.column,
		                     jerr.text);
	enum otd_status st = parse_root(&c, root, out);
	json_decref(root);
	if(st)
		set_defaults(out); /* nothing half-read */
	return st;
}

enum otd_status sim_scenario_load(const char *path, struct sim_scenario *out, struct otd_error *err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	set_defaults(out);
	FILE *f = fopen(path, "rb");
	if(!f) {
		int e = errno;
		return otd_error_set(err, e == ENOENT ? OTD_ENOTFOUND : OTD_EIO,
		                     e == ENOENT ? "scenario_not_found" : "scenario_unreadable",
		                     "scenario", "Cannot open the scenario file %s: %s.", path,
		                     strerror(e));
	}
	/* One byte more than allowed tells "too big" from "just fits". */
	char *buf = xmalloc((size_t)SIM_SCENARIO_MAX_BYTES + 1);
	size_t n = fread(buf, 1, (size_t)SIM_SCENARIO_MAX_BYTES + 1, f);
	enum otd_status st = OTD_OK;
	if(ferror(f)) {
		int e = errno;
		st = otd_error_set(err, OTD_EIO, "scenario_unreadable", "scenario",
		                   "Cannot read the scenario file %s: %s.", path, strerror(e));
	} else if(n > SIM_SCENARIO_MAX_BYTES) {
		st =
		    otd_error_set(err, OTD_ETOOBIG, "too_big", "scenario",
		                  "The scenario file %s is larger than %d bytes, the most allowed.",
		                  path, SIM_SCENARIO_MAX_BYTES);
	} else {
		st = sim_scenario_parse(buf, n, base, out, err);
	}
	free(buf);
	fclose(f);
	return st;
}

int sim_scenario_visitors(const struct sim_scenario *s)
{
	int total = 0;
	for(size_t i = 0; i < s->n_groups; i++)
		total += s->groups[i].count;
	return total;
}
