/* Guarantees: rule set files, rules in force, working days, notice,
 * payment deadlines and amounts owed. */
#include "onthedot/guarantee.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/mem.h"

#define PATH_MAX_LEN 80 /* bytes of a JSON path in messages and err->field */
#define FILE_SHOWN 80   /* bytes of the file name shown in messages */

/* ---- parsing ------------------------------------------------------------ */

struct ctx {
	const char *file;
	struct otd_error *err;
};

static enum otd_status bad(struct ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills err with "FILE: PATH <what>" and returns OTD_EINVAL. */
static enum otd_status bad(struct ctx *c, const char *path, const char *fmt, ...)
{
	char what[OTD_ERR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return otd_error_set(c->err, OTD_EINVAL, "bad_rule_set", path, "%.*s: %s %s", FILE_SHOWN,
	                     c->file, path, what);
}

/* path + "." + key into out (PATH_MAX_LEN + 1 bytes); a top-level key
 * stands alone. */
static void path_key(const char *path, const char *key, char *out)
{
	/* Paths here are short; one cut at PATH_MAX_LEN still names the place. */
	size_t n = 0;
	for(const char *p = path; *p && n < PATH_MAX_LEN; p++)
		out[n++] = *p;
	if(*path && n < PATH_MAX_LEN)
		out[n++] = '.';
	for(const char *p = key; *p && n < PATH_MAX_LEN; p++)
		out[n++] = *p;
	out[n] = '\0';
}

/* Refuses any key of obj not in known[0..n). */
static enum otd_status only_known(struct ctx *c, json_t *obj, const char *path,
                                  const char *const *known, size_t n)
{
	const char *key;
	json_t *value;
	json_object_foreach(obj, key, value)
	{
		bool found = false;
		for(size_t i = 0; i < n && !found; i++)
			found = strcmp(key, known[i]) == 0;
		if(found)
			continue;
		char list[200] = "";
		size_t used = 0;
		for(size_t i = 0; i < n && used < sizeof(list); i++) {
			int k = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
			                 known[i]);
			if(k < 0)
				break;
			used += (size_t)k;
		}
		char sub[PATH_MAX_LEN + 1];
		char shown[40];
		snprintf(shown, sizeof(shown), "%s", key);
		/* A key is any JSON string: keep control characters out of messages. */
		for(char *p = shown; *p; p++)
			if((unsigned char)*p < 0x20 || *p == 0x7F)
				*p = '?';
		path_key(path, shown, sub);
		return bad(c, sub, "is not a known field (known: %s)", list);
	}
	return OTD_OK;
}

static bool has_control(const char *s)
{
	for(; *s; s++)
		if((unsigned char)*s < 0x20 || *s == 0x7F)
			return true;
	return false;
}

/* A required string member of 1..max bytes without control characters,
 * copied into out (max + 1 bytes). */
static enum otd_status get_text(struct ctx *c, json_t *obj, const char *path, const char *key,
                                size_t max, char *out)
{
	char sub[PATH_MAX_LEN + 1];
	path_key(path, key, sub);
	json_t *v = json_object_get(obj, key);
	if(!v)
		return bad(c, sub, "is missing");
	if(!json_is_string(v))
		return bad(c, sub, "must be a string");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if(n == 0)
		return bad(c, sub, "must not be empty");
	if(n > max)
		return bad(c, sub, "is %zu bytes; at most %zu", n, max);
	if(strlen(s) != n || has_control(s))
		return bad(c, sub, "must not hold control characters");
	memcpy(out, s, n + 1);
	return OTD_OK;
}

/* An integer member in min..max. When absent: OTD_OK with *present false
 * if optional, else "is missing". */
static enum otd_status get_int(struct ctx *c, json_t *obj, const char *path, const char *key,
                               bool required, int64_t min, int64_t max, int64_t *out, bool *present)
{
	char sub[PATH_MAX_LEN + 1];
	path_key(path, key, sub);
	json_t *v = json_object_get(obj, key);
	if(present)
		*present = v != NULL;
	if(!v) {
		if(required)
			return bad(c, sub, "is missing");
		return OTD_OK;
	}
	if(!json_is_integer(v))
		return bad(c, sub, "must be a whole number%s",
		           json_is_real(v) ? " (amounts are minor units: 40.00 is 4000)" : "");
	json_int_t x = json_integer_value(v);
	if(x < 0 && min >= 0)
		return bad(c, sub, "must not be negative (%" JSON_INTEGER_FORMAT ")", x);
	if(x < min || x > max)
		return bad(c, sub, "must be %" PRId64 " to %" PRId64 " (%" JSON_INTEGER_FORMAT ")",
		           min, max, x);
	*out = (int64_t)x;
	return OTD_OK;
}

/* A required object member. */
static enum otd_status get_object(struct ctx *c, json_t *obj, const char *path, const char *key,
                                  json_t **out)
{
	char sub[PATH_MAX_LEN + 1];
	path_key(path, key, sub);
	*out = json_object_get(obj, key);
	if(!*out)
		return bad(c, sub, "is missing");
	if(!json_is_object(*out))
		return bad(c, sub, "must be an object");
	return OTD_OK;
}

/* The kind member of obj: which of names[0..n) it is, into *out. expect
 * is the phrase for the message ("\"days\" or \"working_days\""). */
static enum otd_status get_kind(struct ctx *c, json_t *obj, const char *path,
                                const char *const *names, size_t n, const char *expect, int *out)
{
	char sub[PATH_MAX_LEN + 1];
	path_key(path, "kind", sub);
	json_t *v = json_object_get(obj, "kind");
	if(!v)
		return bad(c, sub, "is missing");
	for(size_t i = 0; json_is_string(v) && i < n; i++)
		if(strcmp(json_string_value(v), names[i]) == 0) {
			*out = (int)i;
			return OTD_OK;
		}
	return bad(c, sub, "must be %s", expect);
}

static enum otd_status parse_notice(struct ctx *c, json_t *vo, const char *path,
                                    struct otd_rule_version *v)
{
	static const char *const keys[] = {"kind", "amount", "more_than"};
	static const char *const kinds[] = {"none", "hours", "working_days"};
	char p[PATH_MAX_LEN + 1];
	path_key(path, "notice", p);
	json_t *o;
	enum otd_status st = get_object(c, vo, path, "notice", &o);
	if(!st)
		st = only_known(c, o, p, keys, 3);
	int kind = 0;
	if(!st)
		st = get_kind(c, o, p, kinds, 3, "\"hours\", \"working_days\" or \"none\"", &kind);
	if(st)
		return st;
	v->notice.kind = (enum otd_notice_kind)kind;
	int64_t amount = 0;
	if(kind == OTD_NOTICE_NONE) {
		st = get_int(c, o, p, "amount", false, 0, OTD_RULE_WORKING_DAYS_MAX, &amount, NULL);
		if(!st && amount) {
			char sub[PATH_MAX_LEN + 1];
			path_key(p, "amount", sub);
			return bad(c, sub, "must be 0 or left out when kind is \"none\"");
		}
	} else
		st = get_int(c, o, p, "amount", true, 1,
		             kind == OTD_NOTICE_HOURS ? OTD_RULE_HOURS_MAX
		                                      : OTD_RULE_WORKING_DAYS_MAX,
		             &amount, NULL);
	if(st)
		return st;
	v->notice.amount = (int)amount;
	char sub[PATH_MAX_LEN + 1];
	path_key(p, "more_than", sub);
	json_t *mt = json_object_get(o, "more_than");
	if(mt && !json_is_boolean(mt))
		return bad(c, sub, "must be true or false");
	v->notice.more_than = mt && json_is_true(mt);
	if(v->notice.more_than && kind == OTD_NOTICE_NONE)
		return bad(c, sub, "cannot be true when kind is \"none\"");
	return OTD_OK;
}

static enum otd_status parse_pay(struct ctx *c, json_t *vo, const char *path,
                                 struct otd_rule_version *v)
{
	static const char *const keys[] = {"kind", "amount"};
	static const char *const kinds[] = {"days", "working_days"};
	char p[PATH_MAX_LEN + 1];
	path_key(path, "pay_within", p);
	json_t *o;
	enum otd_status st = get_object(c, vo, path, "pay_within", &o);
	if(!st)
		st = only_known(c, o, p, keys, 2);
	int kind = 0;
	if(!st)
		st = get_kind(c, o, p, kinds, 2, "\"days\" or \"working_days\"", &kind);
	int64_t amount = 0;
	if(!st)
		st = get_int(c, o, p, "amount", true, 1, OTD_RULE_PAY_DAYS_MAX, &amount, NULL);
	if(st)
		return st;
	v->pay_within.kind = (enum otd_pay_kind)kind;
	v->pay_within.amount = (int)amount;
	return OTD_OK;
}

static enum otd_status parse_late(struct ctx *c, json_t *vo, const char *path,
                                  struct otd_rule_version *v)
{
	static const char *const keys[] = {"kind", "amount_minor"};
	static const char *const kinds[] = {"none", "same_again", "fixed"};
	char p[PATH_MAX_LEN + 1];
	path_key(path, "late_penalty", p);
	json_t *o;
	enum otd_status st = get_object(c, vo, path, "late_penalty", &o);
	if(!st)
		st = only_known(c, o, p, keys, 2);
	int kind = 0;
	if(!st)
		st = get_kind(c, o, p, kinds, 3, "\"none\", \"same_again\" or \"fixed\"", &kind);
	if(st)
		return st;
	v->late_penalty.kind = (enum otd_late_kind)kind;
	if(kind != OTD_LATE_FIXED) {
		if(json_object_get(o, "amount_minor")) {
			char sub[PATH_MAX_LEN + 1];
			path_key(p, "amount_minor", sub);
			return bad(c, sub, "is only for kind \"fixed\"");
		}
		return OTD_OK;
	}
	return get_int(c, o, p, "amount_minor", true, 0, OTD_RULE_AMOUNT_MAX,
	               &v->late_penalty.amount_minor, NULL);
}

static enum otd_status parse_version(struct ctx *c, json_t *vo, const char *path,
                                     struct otd_rule_version *v)
{
	static const char *const keys[] = {"version",  "effective_from", "regulation",
	                                   "currency", "missed_minor",   "short_notice_minor",
	                                   "notice",   "pay_within",     "late_penalty"};
	char sub[PATH_MAX_LEN + 1];
	if(!json_is_object(vo))
		return bad(c, path, "must be an object");
	enum otd_status st = only_known(c, vo, path, keys, sizeof(keys) / sizeof(keys[0]));
	if(!st)
		st = get_text(c, vo, path, "version", OTD_RULE_VERSION_MAX, v->version);
	char date[33];
	if(!st)
		st = get_text(c, vo, path, "effective_from", sizeof(date) - 1, date);
	if(st)
		return st;
	int y, m, d;
	if(otd_date_parse(date, &y, &m, &d, NULL)) {
		path_key(path, "effective_from", sub);
		return bad(c, sub, "must be a real date YYYY-MM-DD (\"%s\")", date);
	}
	memcpy(v->effective_from, date, sizeof(v->effective_from));
	st = get_text(c, vo, path, "regulation", OTD_RULE_REGULATION_MAX, v->regulation);
	if(!st)
		st = get_text(c, vo, path, "currency", 3, v->currency);
	if(st)
		return st;
	const char *cur = v->currency;
	if(strlen(cur) != 3 || cur[0] < 'A' || cur[0] > 'Z' || cur[1] < 'A' || cur[1] > 'Z' ||
	   cur[2] < 'A' || cur[2] > 'Z') {
		path_key(path, "currency", sub);
		return bad(c, sub, "must be three capital letters (ISO 4217, \"GBP\")");
	}
	st = get_int(c, vo, path, "missed_minor", true, 0, OTD_RULE_AMOUNT_MAX, &v->missed_minor,
	             NULL);
	if(!st)
		st = get_int(c, vo, path, "short_notice_minor", true, 0, OTD_RULE_AMOUNT_MAX,
		             &v->short_notice_minor, NULL);
	if(!st)
		st = parse_notice(c, vo, path, v);
	if(!st)
		st = parse_pay(c, vo, path, v);
	if(!st)
		st = parse_late(c, vo, path, v);
	return st;
}

/* notes: a string or an array of strings (paragraphs, joined by "\n"). */
static enum otd_status parse_notes(struct ctx *c, json_t *root, struct otd_rule_set *out)
{
	json_t *notes = json_object_get(root, "notes");
	if(!notes) {
		out->notes = xstrdup("");
		return OTD_OK;
	}
	struct otd_buf b;
	otd_buf_init(&b, OTD_RULE_NOTES_MAX);
	enum otd_status st = OTD_OK;
	if(json_is_string(notes)) {
		const char *s = json_string_value(notes);
		if(strlen(s) != json_string_length(notes))
			st = bad(c, "notes", "must not hold a NUL character");
		else if(!otd_buf_puts(&b, s))
			st = bad(c, "notes", "are longer than %d bytes", OTD_RULE_NOTES_MAX);
	} else if(json_is_array(notes)) {
		size_t i;
		json_t *p;
		json_array_foreach(notes, i, p)
		{
			char sub[PATH_MAX_LEN + 1];
			snprintf(sub, sizeof(sub), "notes[%zu]", i);
			if(!json_is_string(p) ||
			   strlen(json_string_value(p)) != json_string_length(p)) {
				st = bad(c, sub, "must be a string");
				break;
			}
			if((i && !otd_buf_puts(&b, "\n")) ||
			   !otd_buf_puts(&b, json_string_value(p))) {
				st =
				    bad(c, "notes", "are longer than %d bytes", OTD_RULE_NOTES_MAX);
				break;
			}
		}
	} else {
		st = bad(c, "notes", "must be a string or an array of strings");
	}
	if(!st)
		out->notes = b.len ? otd_buf_steal(&b) : xstrdup("");
	otd_buf_cleanup(&b);
	return st;
}

static enum otd_status parse_root(struct ctx *c, json_t *root, struct otd_rule_set *out)
{
	static const char *const keys[] = {"name", "title", "notes", "versions"};
	if(!json_is_object(root))
		return otd_error_set(c->err, OTD_EINVAL, "bad_rule_set", "",
		                     "%.*s: must hold one JSON object", FILE_SHOWN, c->file);
	enum otd_status st = only_known(c, root, "", keys, 4);
	if(!st)
		st = get_text(c, root, "", "name", OTD_RULE_NAME_MAX, out->name);
	if(st)
		return st;
	for(const char *p = out->name; *p; p++)
		if(!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return bad(c, "name", "must use only a-z, 0-9 and '-' (\"%s\")", out->name);
	st = get_text(c, root, "", "title", OTD_RULE_TITLE_MAX, out->title);
	if(!st)
		st = parse_notes(c, root, out);
	if(st)
		return st;
	json_t *vs = json_object_get(root, "versions");
	if(!vs)
		return bad(c, "versions", "is missing");
	if(!json_is_array(vs))
		return bad(c, "versions", "must be an array");
	size_t n = json_array_size(vs);
	if(n == 0 || n > OTD_RULE_VERSIONS_MAX)
		return bad(c, "versions", "must hold 1 to %d versions (it holds %zu)",
		           OTD_RULE_VERSIONS_MAX, n);
	out->versions = xcalloc(n, sizeof(*out->versions));
	for(size_t i = 0; i < n; i++) {
		char path[PATH_MAX_LEN + 1];
		snprintf(path, sizeof(path), "versions[%zu]", i);
		struct otd_rule_version *v = &out->versions[i];
		st = parse_version(c, json_array_get(vs, i), path, v);
		if(st)
			return st;
		out->n_versions = i + 1;
		if(i == 0)
			continue;
		char sub[PATH_MAX_LEN + 1];
		/* "YYYY-MM-DD" sorts as text does. */
		if(strcmp(v->effective_from, v[-1].effective_from) <= 0) {
			path_key(path, "effective_from", sub);
			return bad(
			    c, sub,
			    "%s must be later than versions[%zu].effective_from %s (versions "
			    "go oldest first)",
			    v->effective_from, i - 1, v[-1].effective_from);
		}
		for(size_t j = 0; j < i; j++)
			if(strcmp(v->version, out->versions[j].version) == 0) {
				path_key(path, "version", sub);
				return bad(c, sub, "\"%s\" is already versions[%zu].version",
				           v->version, j);
			}
	}
	return OTD_OK;
}

enum otd_status otd_rule_set_parse(const char *file_name, const char *json, size_t len,
                                   struct otd_rule_set *out, struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct ctx c = {file_name ? file_name : "rule set", err};
	if(len > OTD_RULE_SET_MAX_BYTES)
		return otd_error_set(err, OTD_ETOOBIG, "rule_set_too_big", "",
		                     "%.*s: is %zu bytes; a rule set may have at most %zu",
		                     FILE_SHOWN, c.file, len, OTD_RULE_SET_MAX_BYTES);
	json_error_t jerr;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if(!root)
		return otd_error_set(err, OTD_EINVAL, "bad_rule_set", "",
		                     "%.*s: line %d, column %d: %s", FILE_SHOWN, c.file, jerr.line,
		                     jerr.column, jerr.text);
	enum otd_status st = parse_root(&c, root, out);
	json_decref(root);
	if(st)
		otd_rule_set_cleanup(out);
	return st;
}

enum otd_status otd_rule_set_builtin(const char *name, struct otd_rule_set *out,
                                     struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	size_t n = name ? strlen(name) : 0;
	char known[200] = "";
	size_t used = 0;
	for(size_t i = 0; i < otd_guarantees_count; i++) {
		const struct otd_asset *a = &otd_guarantees[i];
		size_t an = strlen(a->name);
		if(an < 5 || strcmp(a->name + an - 5, ".json") != 0)
			continue;
		if(n && an == n + 5 && memcmp(a->name, name, n) == 0)
			return otd_rule_set_parse(a->name, (const char *)a->data, a->len, out, err);
		if(used < sizeof(known)) {
			int k = snprintf(known + used, sizeof(known) - used, "%s%.*s",
			                 used ? ", " : "", (int)(an - 5), a->name);
			if(k > 0)
				used += (size_t)k;
		}
	}
	return otd_error_set(err, OTD_ENOTFOUND, "unknown_rule_set", "name",
	                     "No built-in rule set is called \"%.60s\"; the known ones are %s.",
	                     name ? name : "", known);
}

void otd_rule_set_cleanup(struct otd_rule_set *s)
{
	if(!s)
		return;
	free(s->notes);
	free(s->versions);
	memset(s, 0, sizeof(*s));
}

/* ---- days --------------------------------------------------------------- */

/* t's local date in tz as a day number. */
static int64_t local_day(const struct otd_tz *tz, int64_t t)
{
	struct otd_local l;
	otd_tz_to_local(tz, t, &l);
	return otd_days_from_civil(l.c.year, l.c.month, l.c.day);
}

/* The instant local day number day starts. */
static int64_t day_start(const struct otd_tz *tz, int64_t day)
{
	int y, m, d;
	otd_civil_from_days(day, &y, &m, &d);
	return otd_tz_day_start(tz, y, m, d);
}

static int cmp_date(const void *key, const void *elem)
{
	return memcmp(key, elem, 10);
}

static bool is_holiday(const char date[11], const char (*holidays)[11], size_t n)
{
	return n && holidays && bsearch(date, holidays, n, sizeof(*holidays), cmp_date);
}

static bool working_day(int64_t day, const char (*holidays)[11], size_t n)
{
	if(otd_weekday(day) >= 5)
		return false;
	int y, m, d;
	char text[11];
	otd_civil_from_days(day, &y, &m, &d);
	otd_date_format(y, m, d, text);
	return !is_holiday(text, holidays, n);
}

bool otd_is_working_day(const char date[11], const char (*holidays)[11], size_t n_holidays)
{
	int y, m, d;
	if(!date || otd_date_parse(date, &y, &m, &d, NULL))
		return false;
	return working_day(otd_days_from_civil(y, m, d), holidays, n_holidays);
}

int64_t otd_working_days_after(const struct otd_tz *tz, const char (*holidays)[11], size_t n,
                               int64_t t, int days)
{
	int64_t day = local_day(tz, t);
	/* Weekends and holidays are finite, so this ends: at most days
	 * working days plus n holidays plus the weekends among them. */
	for(int counted = 0; counted < days;)
		if(working_day(++day, holidays, n))
			counted++;
	return day_start(tz, day + 1);
}

bool otd_notice_enough(const struct otd_rule_version *v, const struct otd_tz *tz,
                       const char (*holidays)[11], size_t n, int64_t told_at, int64_t window_start)
{
	assert(v);
	switch(v->notice.kind) {
	case OTD_NOTICE_NONE: return true;
	case OTD_NOTICE_HOURS: {
		if(told_at >= window_start)
			return false;
		/* Unsigned: the difference of two far-apart instants still fits. */
		uint64_t gap = (uint64_t)window_start - (uint64_t)told_at;
		uint64_t need = (uint64_t)v->notice.amount * 3600u;
		return v->notice.more_than ? gap > need : gap >= need;
	}
	case OTD_NOTICE_WORKING_DAYS: {
		int64_t from = local_day(tz, told_at), to = local_day(tz, window_start);
		int64_t need = (int64_t)v->notice.amount + (v->notice.more_than ? 1 : 0);
		int64_t k = 0;
		/* Stop once enough are found: the window may be far off. */
		for(int64_t d = from + 1; d < to && k < need; d++)
			if(working_day(d, holidays, n))
				k++;
		return k >= need;
	}
	}
	return false;
}

/* Far enough back for OTD_RULE_WORKING_DAYS_MAX working days with holidays. */
#define NOTICE_WALK_MAX (3 * 366)

int64_t otd_notice_deadline(const struct otd_rule_version *v, const struct otd_tz *tz,
                            const char (*holidays)[11], size_t n, int64_t window_start)
{
	assert(v);
	switch(v->notice.kind) {
	case OTD_NOTICE_NONE: return 0;
	case OTD_NOTICE_HOURS: {
		int64_t last =
		    window_start - (int64_t)v->notice.amount * 3600 - (v->notice.more_than ? 1 : 0);
		return last < window_start ? last : window_start - 1; /* the start itself is late */
	}
	case OTD_NOTICE_WORKING_DAYS: {
		int64_t to = local_day(tz, window_start);
		int64_t need = (int64_t)v->notice.amount + (v->notice.more_than ? 1 : 0);
		if(need == 0)
			return window_start - 1;
		/* Told on day d, the working days between are d + 1 .. to - 1:
		 * walk d back from the day before, counting them. */
		int64_t k = 0;
		for(int64_t d = to - 1; d > to - NOTICE_WALK_MAX; d--) {
			if(k >= need)
				return day_start(tz, d + 1) - 1;
			if(working_day(d, holidays, n))
				k++;
		}
		return 0;
	}
	}
	return 0;
}

int64_t otd_payment_deadline(const struct otd_rule_version *v, const struct otd_tz *tz,
                             const char (*holidays)[11], size_t n, int64_t breached_at)
{
	assert(v);
	if(v->pay_within.kind == OTD_PAY_WORKING_DAYS)
		return otd_working_days_after(tz, holidays, n, breached_at, v->pay_within.amount);
	return day_start(tz, local_day(tz, breached_at) + v->pay_within.amount + 1);
}

int64_t otd_amount_owed(const struct otd_rule_version *v, int64_t amount_minor, int64_t deadline,
                        int64_t paid_at)
{
	assert(v);
	if(paid_at == 0 || paid_at <= deadline)
		return amount_minor;
	switch(v->late_penalty.kind) {
	case OTD_LATE_NONE: return amount_minor;
	case OTD_LATE_SAME_AGAIN: return amount_minor + amount_minor;
	case OTD_LATE_FIXED: return amount_minor + v->late_penalty.amount_minor;
	}
	return amount_minor;
}

const struct otd_rule_version *otd_rule_in_force(const struct otd_rule_set *s,
                                                 const struct otd_tz *tz, int64_t t)
{
	struct otd_local l;
	char today[11];
	otd_tz_to_local(tz, t, &l);
	otd_date_format(l.c.year, l.c.month, l.c.day, today);
	const struct otd_rule_version *found = NULL;
	for(size_t i = 0; i < s->n_versions; i++) {
		if(strcmp(s->versions[i].effective_from, today) > 0)
			break;
		found = &s->versions[i];
	}
	return found;
}

/* ---- money -------------------------------------------------------------- */

void otd_money_text(const char currency[4], int64_t minor, char *out, size_t n)
{
	if(!out || n == 0)
		return;
	/* The magnitude as unsigned, so INT64_MIN has one too. */
	uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	const char *sign = minor < 0 ? "-" : "";
	int k;
	if(currency && strcmp(currency, "GBP") == 0)
		k = snprintf(out, n, "%s\xC2\xA3%" PRIu64 ".%02u", sign, mag / 100,
		             (unsigned)(mag % 100));
	else if(currency && strcmp(currency, "EUR") == 0)
		k = snprintf(out, n, "%s\xE2\x82\xAC%" PRIu64 ".%02u", sign, mag / 100,
		             (unsigned)(mag % 100));
	else
		k = snprintf(out, n, "%s%.3s %" PRIu64 ".%02u", sign, currency ? currency : "???",
		             mag / 100, (unsigned)(mag % 100));
	if(k < 0 || (size_t)k >= n)
		out[0] = '\0';
}
