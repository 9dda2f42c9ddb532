/* Bank holidays: an iCalendar file read into dated, named days. */
#include "onthedot/holidays.h"

#include <libical/ical.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/utf8.h"

#define LABEL_PART 48         /* bytes of a UID or SUMMARY shown in a message */
#define ITERATIONS_MAX 100000 /* iterator steps for one RRULE */
#define DEFAULT_NAME "Holiday"

/* One date of one event, before sorting. */
struct entry {
	int64_t day;
	size_t seq;  /* order of appearance: the first name wins */
	size_t name; /* index into names */
};

struct parse {
	struct entry *v;
	size_t n, cap;
	char (*names)[OTD_HOLIDAY_NAME_MAX + 1];
	size_t n_names, cap_names;
	size_t problems;
	char first[OTD_ERR_MESSAGE_MAX]; /* the first problem */
	bool too_many;
};

static void problem(struct parse *p, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(struct parse *p, const char *label, const char *fmt, ...)
{
	if(p->problems++ > 0)
		return;
	char why[OTD_ERR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(p->first, sizeof(p->first), "%.150s: %.160s", label, why);
}

/* The file lists more dates than allowed: the import stops here. */
static void too_many(struct parse *p, const char *label)
{
	if(p->problems == 0)
		p->too_many = true;
	problem(p, label, "brings the file over %d holiday dates", OTD_HOLIDAYS_MAX_DATES);
}


/* Copies s into out (max + 1 bytes) for a message: control characters
 * and broken UTF-8 as '?', cut to max bytes at a character boundary with
 * "..." when longer. */
static void shown(const char *s, size_t max, char *out)
{
	size_t n = strlen(s), o = 0;
	char *t = xmalloc(n + 1);
	for(size_t i = 0; i < n;) {
		size_t k = otd_utf8_char((const unsigned char *)s + i, n - i);
		unsigned char c = (unsigned char)s[i];
		if(k == 0 || (k == 1 && (c < 0x20 || c == 0x7F))) {
			t[o++] = '?';
			i++;
			continue;
		}
		memcpy(t + o, s + i, k);
		o += k;
		i += k;
	}
	if(o > max) {
		o = max - 3;
		while(o > 0 && ((unsigned char)t[o] & 0xC0) == 0x80)
			o--;
		memcpy(t + o, "...", 3);
		o += 3;
	}
	memcpy(out, t, o);
	out[o] = '\0';
	free(t);
}

/* "event 3 (UID abc@gov.uk, \"Boxing Day\")" */
static void event_label(icalcomponent *ev, size_t index, char *label, size_t size)
{
	icalproperty *up = icalcomponent_get_first_property(ev, ICAL_UID_PROPERTY);
	icalproperty *sp = icalcomponent_get_first_property(ev, ICAL_SUMMARY_PROPERTY);
	const char *uid = up ? icalproperty_get_uid(up) : NULL;
	const char *summary = sp ? icalproperty_get_summary(sp) : NULL;
	char u[LABEL_PART + 1], s[LABEL_PART + 1];
	if(uid && *uid)
		shown(uid, LABEL_PART, u);
	if(summary && *summary)
		shown(summary, LABEL_PART, s);
	if(uid && *uid && summary && *summary)
		snprintf(label, size, "event %zu (UID %s, \"%s\")", index, u, s);
	else if(uid && *uid)
		snprintf(label, size, "event %zu (UID %s)", index, u);
	else if(summary && *summary)
		snprintf(label, size, "event %zu (\"%s\")", index, s);
	else
		snprintf(label, size, "event %zu", index);
}

/* The first X-LIC-ERROR libical left in c or below it (skipping VEVENTs
 * when skip_events), other than an unknown property name (RFC 5545 lets
 * files carry properties a reader does not know) or an empty value
 * (Outlook writes "LOCATION:"; an empty DTSTART is then missing, which is
 * reported as such). */
static const char *parse_error(icalcomponent *c, bool skip_events)
{
	static const char empty[] = "No value for ";
	for(icalproperty *p = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY); p;
	    p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
		icalparameter *t =
		    icalproperty_get_first_parameter(p, ICAL_XLICERRORTYPE_PARAMETER);
		if(t && icalparameter_get_xlicerrortype(t) == ICAL_XLICERRORTYPE_PROPERTYPARSEERROR)
			continue;
		const char *msg = icalproperty_get_xlicerror(p);
		if(msg && strncmp(msg, empty, sizeof(empty) - 1) == 0)
			continue;
		return msg && *msg ? msg : "a line it cannot read";
	}
	for(icalcomponent *s = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT); s;
	    s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
		if(skip_events && icalcomponent_isa(s) == ICAL_VEVENT_COMPONENT)
			continue;
		const char *msg = parse_error(s, false);
		if(msg)
			return msg;
	}
	return NULL;
}

/* The date of a DATE or DATE-TIME value; false (with a problem noted) when
 * it is not a real date in onthedot's years, is UTC, or is a DATE-TIME not
 * at midnight. what names the property in messages. */
static bool value_day(struct parse *p, const char *label, const char *what, struct icaltimetype t,
                      int64_t *day)
{
	if(t.is_date == 0) {
		/* The parser tags "...Z" with its UTC zone and leaves a TZID
		 * time floating (zone NULL): a non-NULL zone means UTC. */
		if(t.zone != NULL) {
			problem(p, label,
			        "%s is a UTC time; a holiday is a day: give the date "
			        "(%s;VALUE=DATE:%04d%02d%02d)",
			        what, what, t.year, t.month, t.day);
			return false;
		}
		if(t.hour || t.minute || t.second) {
			problem(p, label,
			        "%s is at %02d:%02d:%02d, not midnight; a holiday is a whole day "
			        "(%s;VALUE=DATE:%04d%02d%02d)",
			        what, t.hour, t.minute, t.second, what, t.year, t.month, t.day);
			return false;
		}
	}
	if(!otd_date_valid(t.year, t.month, t.day)) {
		problem(p, label, "%s %04d-%02d-%02d is not a real date in the years %d to %d",
		        what, t.year, t.month, t.day, OTD_YEAR_MIN, OTD_YEAR_MAX);
		return false;
	}
	*day = otd_days_from_civil(t.year, t.month, t.day);
	return true;
}

/* A property's date: DATE, DATE-TIME (as value_day) or, for RDATE, a
 * DATE-TIME-PERIOD holding a date. */
static bool prop_day(struct parse *p, const char *label, const char *what, icalproperty *prop,
                     int64_t *day)
{
	icalvalue *v = icalproperty_get_value(prop);
	switch(v ? icalvalue_isa(v) : ICAL_NO_VALUE) {
	case ICAL_DATE_VALUE: return value_day(p, label, what, icalvalue_get_date(v), day);
	case ICAL_DATETIME_VALUE: return value_day(p, label, what, icalvalue_get_datetime(v), day);
	case ICAL_DATETIMEPERIOD_VALUE: {
		struct icaldatetimeperiodtype dp = icalvalue_get_datetimeperiod(v);
		if(!icaltime_is_null_time(dp.time))
			return value_day(p, label, what, dp.time, day);
		break;
	}
	default: break;
	}
	problem(p, label, "%s is not a date", what);
	return false;
}

static void day_text(int64_t day, char out[11])
{
	int y, m, d;
	otd_civil_from_days(day, &y, &m, &d);
	otd_date_format(y, m, d, out);
}

/* How many days the event lasts: DTEND (exclusive) or DURATION in whole
 * days, else 1. 0 after noting a problem. */
static int64_t event_span(struct parse *p, const char *label, icalcomponent *ev, int64_t start)
{
	icalproperty *end = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
	icalproperty *dur = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);
	int64_t span = 1;
	if(end && dur) {
		problem(p, label, "has both DTEND and DURATION; give one");
		return 0;
	}
	if(end) {
		int64_t last;
		if(!prop_day(p, label, "DTEND", end, &last))
			return 0;
		span = last - start;
		if(span < 1) {
			char a[11], b[11];
			day_text(start, a);
			day_text(last, b);
			problem(p, label,
			        "DTEND %s is not after DTSTART %s (DTEND is the day after the "
			        "holiday)",
			        b, a);
			return 0;
		}
	} else if(dur) {
		struct icaldurationtype d = icalproperty_get_duration(dur);
		if(d.is_neg || d.hours || d.minutes || d.seconds || (d.days == 0 && d.weeks == 0)) {
			problem(p, label, "DURATION must be whole days, such as P1D");
			return 0;
		}
		span = (int64_t)d.weeks * 7 + d.days;
	}
	if(span > OTD_HOLIDAYS_SPAN_MAX) {
		problem(p, label, "lasts %lld days; one event may cover at most %d",
		        (long long)span, OTD_HOLIDAYS_SPAN_MAX);
		return 0;
	}
	return span;
}

static bool array_used(const short *a)
{
	return a[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

/* Can BYMONTH x BYMONTHDAY name a real day at all? libical searches for a
 * very long time before giving up on FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30. */
static bool monthdays_possible(const struct icalrecurrencetype *rt, int dtstart_month)
{
	if(!array_used(rt->by_month_day))
		return true;
	int months[13], nm = 0;
	if(array_used(rt->by_month)) {
		for(int i = 0;
		    i < ICAL_BY_MONTH_SIZE && rt->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX; i++)
			months[nm++ % 13] = icalrecurrencetype_month_month(rt->by_month[i]);
	} else {
		months[nm++] = dtstart_month;
	}
	static const int longest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	for(int i = 0; i < nm && i < 13; i++) {
		int m = months[i];
		if(m < 1 || m > 12)
			continue;
		for(int j = 0;
		    j < ICAL_BY_MONTHDAY_SIZE && rt->by_month_day[j] != ICAL_RECURRENCE_ARRAY_MAX;
		    j++) {
			int d = rt->by_month_day[j];
			if((d > 0 ? d : -d) <= longest[m])
				return true;
		}
	}
	return false;
}

/* Checks an RRULE against what a holiday may use (see holidays.h). */
static bool rule_ok(struct parse *p, const char *label, const struct icalrecurrencetype *rt,
                    int dtstart_month)
{
	if(rt->freq != ICAL_YEARLY_RECURRENCE) {
		problem(p, label,
		        "RRULE must be FREQ=YEARLY (a holiday comes at most once a year; list "
		        "other dates as events or RDATEs)");
		return false;
	}
	if(rt->rscale) {
		problem(p, label, "RRULE with RSCALE (a non-Gregorian calendar) is not supported");
		return false;
	}
	if(array_used(rt->by_second) || array_used(rt->by_minute) || array_used(rt->by_hour) ||
	   array_used(rt->by_year_day) || array_used(rt->by_week_no) ||
	   array_used(rt->by_set_pos)) {
		problem(p, label,
		        "RRULE may use only INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY, BYDAY "
		        "and WKST");
		return false;
	}
	if(rt->count < 0 || rt->count > OTD_HOLIDAYS_MAX_DATES || rt->interval < 1) {
		problem(p, label, "RRULE has a COUNT or INTERVAL out of range");
		return false;
	}
	for(int i = 0; i < ICAL_BY_MONTH_SIZE && rt->by_month[i] != ICAL_RECURRENCE_ARRAY_MAX;
	    i++) {
		int m = icalrecurrencetype_month_month(rt->by_month[i]);
		if(icalrecurrencetype_month_is_leap(rt->by_month[i]) || m < 1 || m > 12) {
			problem(p, label, "RRULE has a BYMONTH out of range");
			return false;
		}
	}
	int pos_max = array_used(rt->by_month) ? 5 : 53;
	for(int i = 0; i < ICAL_BY_DAY_SIZE && rt->by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; i++) {
		int pos = icalrecurrencetype_day_position(rt->by_day[i]);
		if(pos > pos_max || pos < -pos_max) {
			problem(p, label, "RRULE has a BYDAY position out of range (%d)", pos);
			return false;
		}
	}
	if(!monthdays_possible(rt, dtstart_month)) {
		problem(p, label, "RRULE's BYMONTH and BYMONTHDAY name no real day");
		return false;
	}
	return true;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

struct days {
	int64_t *v;
	size_t n, cap;
};

static void days_push(struct days *d, int64_t day)
{
	if(d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = day;
}

/* The days on which occurrences of ev start: DTSTART, the RRULE's dates up
 * to OTD_HOLIDAYS_LAST_YEAR and the RDATEs, less the EXDATEs. False after
 * noting a problem. */
static bool event_starts(struct parse *p, const char *label, icalcomponent *ev,
                         struct icaltimetype dtstart, int64_t start, struct days *out,
                         bool *overflow)
{
	*overflow = false;
	days_push(out, start);
	size_t n_rules = 0;
	for(icalproperty *rp = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY); rp;
	    rp = icalcomponent_get_next_property(ev, ICAL_RRULE_PROPERTY)) {
		if(++n_rules > 1) {
			problem(p, label, "has more than one RRULE");
			return false;
		}
		struct icalrecurrencetype rt = icalproperty_get_rrule(rp);
		if(!rule_ok(p, label, &rt, dtstart.month))
			return false;
		/* UNTIL is applied here, by date: libical would compare a
		 * DATE-TIME UNTIL with date occurrences. */
		int64_t until = INT64_MAX;
		if(!icaltime_is_null_time(rt.until)) {
			if(!otd_date_valid(rt.until.year, rt.until.month, rt.until.day)) {
				problem(p, label, "RRULE's UNTIL is not a real date");
				return false;
			}
			until = otd_days_from_civil(rt.until.year, rt.until.month, rt.until.day);
			rt.until = icaltime_null_time();
		}
		if(p->problems)
			continue; /* the file is refused anyway: spare the expansion */
		struct icaltimetype first = icaltime_null_time();
		first.year = dtstart.year;
		first.month = dtstart.month;
		first.day = dtstart.day;
		first.is_date = 1;
		icalrecur_iterator *it = icalrecur_iterator_new(rt, first);
		if(!it) {
			/* libical 3.0 gives no iterator when the rule matches no
			 * day at all from DTSTART on. */
			problem(p, label, "its RRULE names no date from DTSTART on");
			return false;
		}
		for(size_t steps = 0;; steps++) {
			struct icaltimetype t = icalrecur_iterator_next(it);
			if(icaltime_is_null_time(t) || t.year > OTD_HOLIDAYS_LAST_YEAR)
				break;
			if(steps >= ITERATIONS_MAX || out->n > OTD_HOLIDAYS_MAX_DATES) {
				*overflow = true;
				break;
			}
			if(!otd_date_valid(t.year, t.month, t.day))
				break;
			int64_t day = otd_days_from_civil(t.year, t.month, t.day);
			if(day > until)
				break;
			days_push(out, day);
		}
		icalrecur_iterator_free(it);
	}
	for(icalproperty *rp = icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY); rp;
	    rp = icalcomponent_get_next_property(ev, ICAL_RDATE_PROPERTY)) {
		int64_t day;
		if(!prop_day(p, label, "RDATE", rp, &day))
			return false;
		days_push(out, day);
		if(out->n > OTD_HOLIDAYS_MAX_DATES) {
			*overflow = true;
			break;
		}
	}
	struct days ex = {0};
	bool ok = true;
	for(icalproperty *xp = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY); xp;
	    xp = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
		int64_t day;
		if(!prop_day(p, label, "EXDATE", xp, &day)) {
			ok = false;
			break;
		}
		days_push(&ex, day);
	}
	if(ok && ex.n) {
		qsort(ex.v, ex.n, sizeof(*ex.v), cmp_i64);
		size_t k = 0;
		for(size_t i = 0; i < out->n; i++)
			if(!bsearch(&out->v[i], ex.v, ex.n, sizeof(*ex.v), cmp_i64))
				out->v[k++] = out->v[i];
		out->n = k;
	}
	free(ex.v);
	return ok;
}

/* The event's name from its SUMMARY: line breaks and tabs as spaces,
 * trimmed, DEFAULT_NAME when empty. False after noting a problem. */
static bool event_name(struct parse *p, const char *label, icalcomponent *ev,
                       char name[OTD_HOLIDAY_NAME_MAX + 1])
{
	icalproperty *sp = icalcomponent_get_first_property(ev, ICAL_SUMMARY_PROPERTY);
	const char *s = sp ? icalproperty_get_summary(sp) : NULL;
	if(!s)
		s = "";
	size_t n = strlen(s);
	for(size_t i = 0; i < n;) {
		size_t k = otd_utf8_char((const unsigned char *)s + i, n - i);
		unsigned char c = (unsigned char)s[i];
		if(k == 0) {
			problem(p, label, "SUMMARY is not valid UTF-8");
			return false;
		}
		if(k == 1 && (c < 0x20 || c == 0x7F) && c != '\n' && c != '\r' && c != '\t') {
			problem(p, label, "SUMMARY holds a control character");
			return false;
		}
		i += k;
	}
	size_t a = 0, b = n;
	while(a < b && (s[a] == ' ' || s[a] == '\n' || s[a] == '\r' || s[a] == '\t'))
		a++;
	while(b > a &&
	      (s[b - 1] == ' ' || s[b - 1] == '\n' || s[b - 1] == '\r' || s[b - 1] == '\t'))
		b--;
	if(b - a > OTD_HOLIDAY_NAME_MAX) {
		problem(p, label, "SUMMARY is longer than %d bytes", OTD_HOLIDAY_NAME_MAX);
		return false;
	}
	if(a == b) {
		snprintf(name, OTD_HOLIDAY_NAME_MAX + 1, "%s", DEFAULT_NAME);
		return true;
	}
	for(size_t i = a; i < b; i++)
		name[i - a] = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
	name[b - a] = '\0';
	return true;
}

/* Reads one VEVENT (index counts from 1) into p. */
static void read_event(struct parse *p, icalcomponent *ev, size_t index)
{
	char label[160];
	event_label(ev, index, label, sizeof(label));

	const char *lic = parse_error(ev, false);
	if(lic) {
		char why[120];
		shown(lic, 100, why);
		problem(p, label, "libical cannot read a line of it: %s", why);
		return;
	}
	icalproperty *st = icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY);
	if(st && icalproperty_get_status(st) == ICAL_STATUS_CANCELLED)
		return;
	if(icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY)) {
		problem(p, label,
		        "has a RECURRENCE-ID (a changed occurrence), which is not supported: give "
		        "the holiday as an event of its own");
		return;
	}
	icalproperty *sp = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
	if(!sp) {
		problem(p, label, "has no DTSTART (the holiday's date)");
		return;
	}
	if(icalcomponent_get_next_property(ev, ICAL_DTSTART_PROPERTY)) {
		problem(p, label, "has more than one DTSTART");
		return;
	}
	int64_t start;
	if(!prop_day(p, label, "DTSTART", sp, &start))
		return;
	struct icaltimetype dtstart = icalproperty_get_dtstart(sp);
	int64_t span = event_span(p, label, ev, start);
	if(span == 0)
		return;
	char name[OTD_HOLIDAY_NAME_MAX + 1] = {0};
	if(!event_name(p, label, ev, name))
		return;
	struct days starts = {0};
	bool overflow;
	if(!event_starts(p, label, ev, dtstart, start, &starts, &overflow)) {
		free(starts.v);
		return;
	}
	if(overflow) {
		too_many(p, label);
		free(starts.v);
		return;
	}
	if(starts.n && !p->problems) {
		if(p->n_names == p->cap_names) {
			p->cap_names = p->cap_names ? p->cap_names * 2 : 32;
			p->names = xrealloc(p->names, p->cap_names * sizeof(*p->names));
		}
		memcpy(p->names[p->n_names], name, sizeof(name));
		p->n_names++;
	}
	for(size_t i = 0; i < starts.n && !p->problems; i++) {
		for(int64_t d = 0; d < span; d++) {
			int64_t day = starts.v[i] + d;
			int y, m, dd;
			otd_civil_from_days(day, &y, &m, &dd);
			if(!otd_date_valid(y, m, dd)) {
				problem(p, label, "reaches past the year %d", OTD_YEAR_MAX);
				break;
			}
			if(p->n >= OTD_HOLIDAYS_MAX_DATES) {
				too_many(p, label);
				break;
			}
			if(p->n == p->cap) {
				p->cap = p->cap ? p->cap * 2 : 64;
				p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
			}
			p->v[p->n] = (struct entry){day, p->n, p->n_names - 1};
			p->n++;
		}
	}
	free(starts.v);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if(x->day != y->day)
		return (x->day > y->day) - (x->day < y->day);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

enum otd_status otd_holidays_parse(const char *ics, size_t len, struct otd_holiday **out, size_t *n,
                                   struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	if(len > OTD_HOLIDAYS_MAX_BYTES)
		return otd_error_set(err, OTD_ETOOBIG, "too_many_holidays", NULL,
		                     "The holidays file is %zu bytes; the limit is %zu.", len,
		                     OTD_HOLIDAYS_MAX_BYTES);
	if(len >= 3 && memcmp(ics, "\xEF\xBB\xBF", 3) == 0) {
		ics += 3;
		len -= 3;
	}
	if(memchr(ics, '\0', len))
		return otd_error_set(err, OTD_EINVAL, "bad_holidays", NULL,
		                     "The holidays file holds a NUL byte: it is not an iCalendar "
		                     "text file.");
	char *text = xstrndup(ics, len);
	icalcomponent *cal = icalparser_parse_string(text);
	free(text);
	if(!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
		bool several = cal && icalcomponent_isa(cal) == ICAL_XROOT_COMPONENT;
		if(cal)
			icalcomponent_free(cal);
		return otd_error_set(err, OTD_EINVAL, "bad_holidays", NULL,
		                     several ? "The holidays file holds more than one calendar; "
		                               "give one VCALENDAR."
		                             : "The holidays file is not an iCalendar file: it "
		                               "must hold one BEGIN:VCALENDAR ... END:VCALENDAR.");
	}

	struct parse p = {0};
	const char *lic = parse_error(cal, true);
	if(lic) {
		char why[120];
		shown(lic, 100, why);
		problem(&p, "the calendar", "libical cannot read a line of it: %s", why);
	}
	size_t events = 0;
	for(icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	    ev && !p.too_many; ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		read_event(&p, ev, ++events);
	icalcomponent_free(cal);

	enum otd_status result = OTD_OK;
	if(p.problems) {
		char more[64] = "";
		if(p.problems > 1 && !p.too_many)
			snprintf(more, sizeof(more), " (and %zu more problem%s)", p.problems - 1,
			         p.problems == 2 ? "" : "s");
		result = otd_error_set(err, p.too_many ? OTD_ETOOBIG : OTD_EINVAL,
		                       p.too_many ? "too_many_holidays" : "bad_holidays", NULL,
		                       "%s%s.", p.first, more);
	} else if(p.n == 0) {
		result = otd_error_set(err, OTD_EINVAL, "bad_holidays", NULL,
		                       events ? "The holidays file lists no holiday dates (every "
		                                "event is cancelled or excluded)."
		                              : "The holidays file holds no events (VEVENT): no "
		                                "holidays to import.");
	}
	if(result == OTD_OK) {
		qsort(p.v, p.n, sizeof(*p.v), cmp_entry);
		struct otd_holiday *h = xcalloc(p.n, sizeof(*h));
		size_t k = 0;
		for(size_t i = 0; i < p.n; i++) {
			if(k && p.v[i].day == p.v[i - 1].day)
				continue;
			day_text(p.v[i].day, h[k].date);
			memcpy(h[k].name, p.names[p.v[i].name], sizeof(h[k].name));
			k++;
		}
		*out = h;
		*n = k;
	}
	free(p.v);
	free(p.names);
	return result;
}
