/* Civil dates and times: day numbers, RFC 3339 and ISO 8601 text forms. */
#include "onthedot/civil.h"

#include <stdio.h>
#include <string.h>

#define SECONDS_PER_DAY 86400

/* Floor division and modulo, so that instants before 1970 split into a
 * day number and a non-negative second of the day. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

int64_t otd_days_from_civil(int y, int m, int d)
{
	/* Hinnant: shift the year to start in March so the leap day is last. */
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;                                  /* [0, 399] */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

void otd_civil_from_days(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
	int dd = (int)(doy - (153 * mp + 2) / 5 + 1);
	int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (mm <= 2));
	*m = mm;
	*d = dd;
}

int otd_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday, day 3 counting Monday as 0. */
	return (int)floor_mod(days + 3, 7);
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int otd_days_in_month(int y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if(m < 1 || m > 12)
		return 0;
	return len[m - 1] + (m == 2 && is_leap(y));
}

bool otd_date_valid(int y, int m, int d)
{
	if(y < OTD_YEAR_MIN || y > OTD_YEAR_MAX)
		return false;
	return d >= 1 && d <= otd_days_in_month(y, m);
}

int64_t otd_civil_to_seconds(const struct otd_civil *c)
{
	return otd_days_from_civil(c->year, c->month, c->day) * SECONDS_PER_DAY +
	       (int64_t)c->hour * 3600 + (int64_t)c->minute * 60 + c->second;
}

void otd_civil_from_seconds(int64_t t, struct otd_civil *out)
{
	int64_t days = floor_div(t, SECONDS_PER_DAY);
	int64_t sod = t - days * SECONDS_PER_DAY;
	otd_civil_from_days(days, &out->year, &out->month, &out->day);
	out->hour = (int)(sod / 3600);
	out->minute = (int)(sod / 60 % 60);
	out->second = (int)(sod % 60);
}

int otd_civil_cmp(const struct otd_civil *a, const struct otd_civil *b)
{
	const int fa[6] = {a->year, a->month, a->day, a->hour, a->minute, a->second};
	const int fb[6] = {b->year, b->month, b->day, b->hour, b->minute, b->second};
	for(int i = 0; i < 6; i++) {
		if(fa[i] != fb[i])
			return fa[i] < fb[i] ? -1 : 1;
	}
	return 0;
}

/* ---- parsing --------------------------------------------------------- */

/* The scanners advance *p over what they accept. On failure they write a
 * short phrase saying what is wrong into why and return false. */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly n ASCII digits (isdigit would take the locale's word for it). */
static bool take_digits(const char **p, int n, int *val)
{
	int v = 0;
	for(int i = 0; i < n; i++) {
		char c = (*p)[i];
		if(!is_digit(c))
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*val = v;
	return true;
}

static bool take_char(const char **p, char c)
{
	if(**p != c)
		return false;
	(*p)++;
	return true;
}

static bool scan_date(const char **p, int *y, int *m, int *d, char *why, size_t why_size)
{
	if(!take_digits(p, 4, y)) {
		snprintf(why, why_size, "the year must be four digits");
		return false;
	}
	if(!take_char(p, '-')) {
		snprintf(why, why_size, "expected '-' after the year");
		return false;
	}
	if(!take_digits(p, 2, m)) {
		snprintf(why, why_size, "the month must be two digits");
		return false;
	}
	if(!take_char(p, '-')) {
		snprintf(why, why_size, "expected '-' after the month");
		return false;
	}
	if(!take_digits(p, 2, d)) {
		snprintf(why, why_size, "the day must be two digits");
		return false;
	}
	if(*y < OTD_YEAR_MIN || *y > OTD_YEAR_MAX) {
		snprintf(why, why_size, "the year must be %d to %d", OTD_YEAR_MIN, OTD_YEAR_MAX);
		return false;
	}
	if(*m < 1 || *m > 12) {
		snprintf(why, why_size, "the month must be 01 to 12");
		return false;
	}
	int dim = otd_days_in_month(*y, *m);
	if(*d < 1 || *d > dim) {
		snprintf(why, why_size, "the day must be 01 to %02d for %04d-%02d", dim, *y, *m);
		return false;
	}
	return true;
}

/* 'T' (or 't', RFC 3339 section 5.6) then HH:MM, then :SS when present or
 * required. Leaves *p after the last field. */
static bool scan_time(const char **p, struct otd_civil *c, bool need_seconds, char *why,
                      size_t why_size)
{
	if(!take_char(p, 'T') && !take_char(p, 't')) {
		snprintf(why, why_size, "expected 'T' between the date and the time");
		return false;
	}
	if(!take_digits(p, 2, &c->hour)) {
		snprintf(why, why_size, "the hour must be two digits");
		return false;
	}
	if(!take_char(p, ':')) {
		snprintf(why, why_size, "expected ':' after the hour");
		return false;
	}
	if(!take_digits(p, 2, &c->minute)) {
		snprintf(why, why_size, "the minutes must be two digits");
		return false;
	}
	c->second = 0;
	if(take_char(p, ':')) {
		if(!take_digits(p, 2, &c->second)) {
			snprintf(why, why_size, "the seconds must be two digits");
			return false;
		}
	} else if(need_seconds) {
		snprintf(why, why_size, "the seconds are required (HH:MM:SS)");
		return false;
	}
	if(c->hour > 23) {
		snprintf(why, why_size, "the hour must be 00 to 23");
		return false;
	}
	if(c->minute > 59) {
		snprintf(why, why_size, "the minutes must be 00 to 59");
		return false;
	}
	if(c->second == 60) {
		snprintf(why, why_size, "leap seconds (:60) are not accepted");
		return false;
	}
	if(c->second > 59) {
		snprintf(why, why_size, "the seconds must be 00 to 59");
		return false;
	}
	return true;
}

/* Optional ".digits", then "Z" or "+HH:MM" / "-HH:MM"; stores the offset
 * in seconds east of UTC. */
static bool scan_fraction_and_offset(const char **p, int32_t *offset, char *why, size_t why_size)
{
	if(take_char(p, '.')) {
		if(!is_digit(**p)) {
			snprintf(why, why_size, "expected digits after the decimal point");
			return false;
		}
		/* Sub-second precision is dropped: instants are whole seconds. */
		while(is_digit(**p))
			(*p)++;
	}
	if(take_char(p, 'Z') || take_char(p, 'z')) {
		*offset = 0;
		return true;
	}
	int sign;
	if(take_char(p, '+'))
		sign = 1;
	else if(take_char(p, '-'))
		sign = -1;
	else {
		snprintf(why, why_size, "expected 'Z' or an offset such as +01:00 after the time");
		return false;
	}
	int oh, om;
	if(!take_digits(p, 2, &oh) || !take_char(p, ':') || !take_digits(p, 2, &om)) {
		snprintf(why, why_size, "the offset must look like +01:00 or -05:30");
		return false;
	}
	if(oh > 23 || om > 59) {
		snprintf(why, why_size, "the offset must be within -23:59 to +23:59");
		return false;
	}
	*offset = sign * (oh * 3600 + om * 60);
	return true;
}

enum otd_status otd_rfc3339_parse(const char *s, int64_t *out, struct otd_error *err)
{
	char why[128];
	struct otd_civil c;
	int32_t offset = 0;
	const char *p = s;

	if(!s || !*s) {
		snprintf(why, sizeof(why), "it is empty");
		goto bad;
	}
	if(!scan_date(&p, &c.year, &c.month, &c.day, why, sizeof(why)))
		goto bad;
	if(!scan_time(&p, &c, true, why, sizeof(why)))
		goto bad;
	if(!scan_fraction_and_offset(&p, &offset, why, sizeof(why)))
		goto bad;
	if(*p) {
		snprintf(why, sizeof(why), "unexpected text after the offset");
		goto bad;
	}
	*out = otd_civil_to_seconds(&c) - offset;
	return OTD_OK;
bad:
	return otd_error_set(err, OTD_EINVAL, "bad_time", NULL,
	                     "Give an instant in RFC 3339 form, such as 2026-03-03T10:00:00Z: %s.",
	                     why);
}

size_t otd_rfc3339_format(int64_t t, char *buf, size_t size)
{
	struct otd_civil c;
	otd_civil_from_seconds(t, &c);
	int n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day,
	                 c.hour, c.minute, c.second);
	if(n < 0 || (size_t)n >= size) {
		if(size > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

enum otd_status otd_date_parse(const char *s, int *y, int *m, int *d, struct otd_error *err)
{
	char why[128];
	int yy, mm, dd;
	const char *p = s;

	if(!s || !*s) {
		snprintf(why, sizeof(why), "it is empty");
		goto bad;
	}
	if(!scan_date(&p, &yy, &mm, &dd, why, sizeof(why)))
		goto bad;
	if(*p) {
		snprintf(why, sizeof(why), "unexpected text after the day");
		goto bad;
	}
	*y = yy;
	*m = mm;
	*d = dd;
	return OTD_OK;
bad:
	return otd_error_set(err, OTD_EINVAL, "bad_date", NULL,
	                     "Give a date as YYYY-MM-DD, such as 2026-03-03: %s.", why);
}

void otd_date_format(int y, int m, int d, char buf[11])
{
	if(y < 0 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31) {
		memcpy(buf, "0000-00-00", 11);
		return;
	}
	snprintf(buf, 11, "%04d-%02d-%02d", y, m, d);
}

enum otd_status otd_local_parse(const char *s, struct otd_civil *out, struct otd_error *err)
{
	char why[128];
	struct otd_civil c;
	const char *p = s;

	if(!s || !*s) {
		snprintf(why, sizeof(why), "it is empty");
		goto bad;
	}
	if(!scan_date(&p, &c.year, &c.month, &c.day, why, sizeof(why)))
		goto bad;
	if(!scan_time(&p, &c, false, why, sizeof(why)))
		goto bad;
	if(*p) {
		snprintf(why, sizeof(why), "%s",
		         *p == 'Z' || *p == 'z' || *p == '+' || *p == '-'
		             ? "a local time takes no offset or 'Z'"
		             : "unexpected text after the time");
		goto bad;
	}
	*out = c;
	return OTD_OK;
bad:
	return otd_error_set(err, OTD_EINVAL, "bad_local_time", NULL,
	                     "Give a local time as YYYY-MM-DDTHH:MM, such as 2026-03-03T08:00: %s.",
	                     why);
}
