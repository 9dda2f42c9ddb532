/* Shifts: validating an RRULE and expanding it in floating local time. */
#include "onthedot/shift.h"

#include <libical/ical.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "onthedot/mem.h"

#define SECONDS_PER_DAY 86400

/* UNTIL is taken out of the rule handed to libical and applied here:
 * libical compares a UTC UNTIL with floating occurrences as if both were
 * UTC, and a date-only UNTIL against the occurrence's time of day, which
 * drops that day's shift. */
enum until_kind { UNTIL_NONE, UNTIL_DATE, UNTIL_LOCAL, UNTIL_UTC };

struct parsed_rule {
	struct icalrecurrencetype rt; /* rt.until cleared */
	enum until_kind until_kind;
	int64_t until; /* DATE: day number; LOCAL: wall seconds; UTC: instant */
};

/* The RRULE parts a shift may use; FREQ first (parse_rule relies on it). */
static const char *const known_parts[] = {
    "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST",
};

static enum otd_status bad_rrule(struct otd_error *err, const char *why)
{
	return otd_error_set(err, OTD_EINVAL, "bad_rrule", "rrule",
	                     "The shift's RRULE is not usable: %s. Give one such as "
	                     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR.",
	                     why);
}

static bool all_digits(const char *s, size_t n)
{
	for(size_t i = 0; i < n; i++) {
		if(s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

static int num(const char *s, size_t n)
{
	int v = 0;
	for(size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* UNTIL's value: YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ. */
static bool parse_until(const char *v, size_t len, struct parsed_rule *p)
{
	struct otd_civil c = {0};
	if(len != 8 && len != 15 && len != 16)
		return false;
	if(!all_digits(v, 8))
		return false;
	c.year = num(v, 4);
	c.month = num(v + 4, 2);
	c.day = num(v + 6, 2);
	if(!otd_date_valid(c.year, c.month, c.day))
		return false;
	if(len == 8) {
		p->until_kind = UNTIL_DATE;
		p->until = otd_days_from_civil(c.year, c.month, c.day);
		return true;
	}
	if(v[8] != 'T' || !all_digits(v + 9, 6) || (len == 16 && v[15] != 'Z'))
		return false;
	c.hour = num(v + 9, 2);
	c.minute = num(v + 11, 2);
	c.second = num(v + 13, 2);
	if(c.hour > 23 || c.minute > 59 || c.second > 59)
		return false;
	p->until_kind = len == 16 ? UNTIL_UTC : UNTIL_LOCAL;
	p->until = otd_civil_to_seconds(&c);
	return true;
}

/* Checks the parts of the rule text (libical accepts some things RFC 5545
 * forbids, and some we do not want) and fills p from libical's parse. */
static enum otd_status parse_rule(const char *rrule, struct parsed_rule *p, struct otd_error *err)
{
	enum { NPARTS = sizeof(known_parts) / sizeof(known_parts[0]) };
	bool seen[NPARTS] = {false};
	char why[160];

	memset(p, 0, sizeof(*p));
	if(!memchr(rrule, '\0', OTD_SHIFT_RRULE_MAX))
		return bad_rrule(err, "it is longer than 511 characters");
	if(!*rrule)
		return bad_rrule(err, "it is empty");
	if(strncasecmp(rrule, "RRULE:", 6) == 0)
		return bad_rrule(err, "leave out the \"RRULE:\" prefix");

	for(const char *s = rrule; *s;) {
		const char *end = strchr(s, ';');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		const char *eq = memchr(s, '=', len);
		if(len == 0 || !eq || eq == s || eq + 1 == s + len) {
			snprintf(why, sizeof(why),
			         "each part must be NAME=VALUE, separated by ';'");
			return bad_rrule(err, why);
		}
		size_t name_len = (size_t)(eq - s);
		size_t k = 0;
		while(k < NPARTS && !(strlen(known_parts[k]) == name_len &&
		                      strncasecmp(known_parts[k], s, name_len) == 0))
			k++;
		if(k == NPARTS) {
			snprintf(
			    why, sizeof(why),
			    "the part %.*s is not allowed (a shift takes FREQ, INTERVAL, COUNT, "
			    "UNTIL, BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS, WKST)",
			    (int)(name_len > 20 ? 20 : name_len), s);
			return bad_rrule(err, why);
		}
		if(seen[k]) {
			snprintf(why, sizeof(why), "%s appears twice", known_parts[k]);
			return bad_rrule(err, why);
		}
		seen[k] = true;
		if(strcmp(known_parts[k], "UNTIL") == 0 &&
		   !parse_until(eq + 1, (size_t)(s + len - eq - 1), p))
			return bad_rrule(err, "UNTIL must be a date (20261231), a local time "
			                      "(20261231T170000) or a UTC time (20261231T170000Z)");
		s += len;
		if(*s == ';') {
			s++;
			if(!*s)
				return bad_rrule(err, "it ends with ';'");
		}
	}
	if(!seen[0])
		return bad_rrule(err, "FREQ is missing");

	p->rt = icalrecurrencetype_from_string(rrule);
	if(p->rt.freq == ICAL_NO_RECURRENCE)
		return bad_rrule(err, "libical cannot read it (check each value)");
	switch(p->rt.freq) {
	case ICAL_DAILY_RECURRENCE:
	case ICAL_WEEKLY_RECURRENCE:
	case ICAL_MONTHLY_RECURRENCE: break;
	default: return bad_rrule(err, "FREQ must be DAILY, WEEKLY or MONTHLY");
	}
	if(p->rt.count < 0 || p->rt.count > OTD_SHIFT_OCCURRENCES_MAX) {
		snprintf(why, sizeof(why), "COUNT must be 1 to %d", OTD_SHIFT_OCCURRENCES_MAX);
		return bad_rrule(err, why);
	}
	if(p->rt.freq != ICAL_MONTHLY_RECURRENCE) {
		for(int i = 0; i < ICAL_BY_DAY_SIZE && p->rt.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX;
		    i++) {
			if(icalrecurrencetype_day_position(p->rt.by_day[i]) != 0)
				return bad_rrule(err,
				                 "BYDAY takes an ordinal (1MO, -1FR) only with "
				                 "FREQ=MONTHLY");
		}
	}
	if(p->rt.freq == ICAL_WEEKLY_RECURRENCE &&
	   p->rt.by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX)
		return bad_rrule(err, "BYMONTHDAY cannot be used with FREQ=WEEKLY");

	/* libical's parse must survive its own serialisation unchanged in
	 * the parts that drive expansion; a mismatch means it misread us. */
	char *again = icalrecurrencetype_as_string_r(&p->rt);
	bool same = false;
	if(again) {
		struct icalrecurrencetype rt2 = icalrecurrencetype_from_string(again);
		same =
		    rt2.freq == p->rt.freq && rt2.count == p->rt.count &&
		    rt2.interval == p->rt.interval &&
		    memcmp(rt2.by_day, p->rt.by_day, sizeof(rt2.by_day)) == 0 &&
		    memcmp(rt2.by_month_day, p->rt.by_month_day, sizeof(rt2.by_month_day)) == 0 &&
		    memcmp(rt2.by_month, p->rt.by_month, sizeof(rt2.by_month)) == 0 &&
		    memcmp(rt2.by_set_pos, p->rt.by_set_pos, sizeof(rt2.by_set_pos)) == 0;
		free(again);
	}
	if(!same)
		return bad_rrule(err, "libical reads it inconsistently");
	p->rt.until = icaltime_null_time();
	return OTD_OK;
}

static bool civil_time_ok(const struct otd_civil *c)
{
	return c->hour >= 0 && c->hour <= 23 && c->minute >= 0 && c->minute <= 59 &&
	       c->second >= 0 && c->second <= 59;
}

/* Everything but the RRULE. */
static enum otd_status check_fields(const struct otd_shift_rule *r, struct otd_error *err)
{
	const struct otd_civil *d = &r->dtstart;
	if(!otd_date_valid(d->year, d->month, d->day) || d->year > OTD_SHIFT_YEAR_MAX ||
	   !civil_time_ok(d))
		return otd_error_set(err, OTD_EINVAL, "bad_dtstart", "dtstart",
		                     "The shift's start must be a real local date and time in the "
		                     "years %d to %d, such as 2026-03-02T08:00.",
		                     OTD_YEAR_MIN, OTD_SHIFT_YEAR_MAX);
	if(r->duration_min < 1 || r->duration_min > OTD_SHIFT_DURATION_MAX)
		return otd_error_set(err, OTD_EINVAL, "bad_duration", "duration_minutes",
		                     "A shift lasts 1 to %d minutes (got %d).",
		                     OTD_SHIFT_DURATION_MAX, r->duration_min);
	if(r->n_exdates > OTD_SHIFT_EXDATES_MAX)
		return otd_error_set(err, OTD_ETOOBIG, "too_many_exdates", "exdates",
		                     "A shift may have at most %d excluded dates (got %zu).",
		                     OTD_SHIFT_EXDATES_MAX, r->n_exdates);
	if(r->n_exdates && !r->exdates)
		return otd_error_set(err, OTD_EINVAL, "bad_exdate", "exdates",
		                     "The shift's excluded dates are missing.");
	for(size_t i = 0; i < r->n_exdates; i++) {
		const struct otd_civil *x = &r->exdates[i];
		if(!otd_date_valid(x->year, x->month, x->day))
			return otd_error_set(err, OTD_EINVAL, "bad_exdate", "exdates",
			                     "Excluded date number %zu is not a real date in the "
			                     "years %d to %d.",
			                     i + 1, OTD_YEAR_MIN, OTD_YEAR_MAX);
	}
	return OTD_OK;
}

enum otd_status otd_shift_validate(const struct otd_shift_rule *r, struct otd_error *err)
{
	struct parsed_rule p;
	enum otd_status result = check_fields(r, err);
	if(result)
		return result;
	return parse_rule(r->rrule, &p, err);
}

static struct icaltimetype floating(const struct otd_civil *c)
{
	struct icaltimetype t = icaltime_null_time();
	t.year = c->year;
	t.month = c->month;
	t.day = c->day;
	t.hour = c->hour;
	t.minute = c->minute;
	t.second = c->second;
	t.is_date = 0;
	t.zone = NULL; /* floating: no zone, never converted by libical */
	return t;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int cmp_interval(const void *a, const void *b)
{
	const struct otd_interval *x = a, *y = b;
	if(x->start != y->start)
		return (x->start > y->start) - (x->start < y->start);
	return (x->end > y->end) - (x->end < y->end);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

enum otd_status otd_shift_expand(const struct otd_shift_rule *r, const struct otd_tz *tz,
                                 int64_t from_utc, int64_t to_utc, struct otd_interval **out,
                                 size_t *n, struct otd_error *err)
{
	enum otd_status result;
	struct parsed_rule p;
	icalrecur_iterator *it = NULL;
	int64_t *ex = NULL;
	struct otd_interval *v = NULL;
	size_t nv = 0, cap = 0;

	*out = NULL;
	*n = 0;
	result = check_fields(r, err);
	if(result)
		goto out;
	result = parse_rule(r->rrule, &p, err);
	if(result)
		goto out;

	/* Instants outside the calendar's years cannot hold a shift; clamping
	 * keeps the bound arithmetic below from overflowing. */
	const int64_t lo_bound = otd_days_from_civil(OTD_YEAR_MIN, 1, 1) * SECONDS_PER_DAY;
	const int64_t hi_bound =
	    otd_days_from_civil(OTD_SHIFT_YEAR_MAX + 1, 1, 1) * SECONDS_PER_DAY + OTD_TZ_OFFSET_MAX;
	from_utc = clamp(from_utc, lo_bound, hi_bound);
	to_utc = clamp(to_utc, lo_bound, hi_bound);
	if(from_utc >= to_utc)
		goto out;

	ex = xmalloc((r->n_exdates ? r->n_exdates : 1) * sizeof(*ex));
	for(size_t i = 0; i < r->n_exdates; i++)
		ex[i] =
		    otd_days_from_civil(r->exdates[i].year, r->exdates[i].month, r->exdates[i].day);
	if(r->n_exdates > 1)
		qsort(ex, r->n_exdates, sizeof(*ex), cmp_i64);

	const int64_t dur = (int64_t)r->duration_min * 60;
	/* A wall time w is the instant w - offset, and offsets are bounded, so
	 * wall times outside these bounds cannot touch [from_utc, to_utc). */
	const int64_t wall_min = from_utc - dur - OTD_TZ_OFFSET_MAX - SECONDS_PER_DAY;
	const int64_t wall_stop = to_utc + OTD_TZ_OFFSET_MAX;

	it = icalrecur_iterator_new(p.rt, floating(&r->dtstart));
	if(!it) {
		result = bad_rrule(err, "libical cannot expand it from this DTSTART");
		goto out;
	}
	/* Without COUNT nothing before the range matters: start the iterator
	 * near it (with COUNT every occurrence from DTSTART counts). */
	if(p.rt.count == 0 && wall_min > otd_civil_to_seconds(&r->dtstart)) {
		struct otd_civil skip;
		otd_civil_from_seconds(wall_min, &skip);
		if(!icalrecur_iterator_set_start(it, floating(&skip))) {
			result = otd_error_set(
			    err, OTD_EINTERNAL, "recurrence_failed", "rrule",
			    "libical could not start the shift's RRULE at %04d-%02d-%02d.",
			    skip.year, skip.month, skip.day);
			goto out;
		}
	}

	for(size_t walked = 0;;) {
		struct icaltimetype t = icalrecur_iterator_next(it);
		if(icaltime_is_null_time(t))
			break;
		if(++walked > OTD_SHIFT_OCCURRENCES_MAX) {
			result = otd_error_set(
			    err, OTD_ETOOBIG, "range_too_large", NULL,
			    "Asked for more than %d shifts at once: ask for a shorter "
			    "range of dates.",
			    OTD_SHIFT_OCCURRENCES_MAX);
			goto out;
		}
		struct otd_civil c = {t.year, t.month, t.day, t.hour, t.minute, t.second};
		int64_t wall = otd_civil_to_seconds(&c);
		int64_t day = floor_div(wall, SECONDS_PER_DAY);
		if(wall >= wall_stop)
			break;
		if(p.until_kind == UNTIL_DATE && day > p.until)
			break;
		if(p.until_kind == UNTIL_LOCAL && wall > p.until)
			break;
		if(p.until_kind == UNTIL_UTC && wall > p.until + OTD_TZ_OFFSET_MAX)
			break;
		if(wall < wall_min)
			continue;
		if(bsearch(&day, ex, r->n_exdates, sizeof(*ex), cmp_i64))
			continue;
		int64_t start;
		otd_tz_from_local(tz, &c, &start, NULL); /* RFC 5545 3.3.5: see shift.h */
		if(p.until_kind == UNTIL_UTC && start > p.until)
			continue;
		if(start >= to_utc || start + dur <= from_utc)
			continue;
		if(nv == cap) {
			cap = cap ? cap * 2 : 32;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[nv].start = start;
		v[nv].end = start + dur;
		nv++;
	}
	/* Wall order is UTC order except around a change of the clocks. */
	if(nv > 1)
		qsort(v, nv, sizeof(*v), cmp_interval);
	*out = v;
	*n = nv;
	v = NULL;
	result = OTD_OK;
out:
	if(it)
		icalrecur_iterator_free(it);
	free(ex);
	free(v);
	return result;
}
