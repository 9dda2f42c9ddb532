/* onthedot: civil (calendar) dates and times, and their text forms.
 *
 * Pure arithmetic on the proleptic Gregorian calendar, with no time zone:
 * a day number counts days since 1970-01-01, an instant counts seconds
 * since 1970-01-01T00:00:00Z (leap seconds do not exist here, as in POSIX).
 * Zones live in onthedot/tz.h. The parsers are strict: they accept exactly
 * the forms DESIGN.md's API conventions name and say what is wrong in a
 * struct otd_error whose field is left "" for the caller to fill in. */
#ifndef ONTHEDOT_CIVIL_H
#define ONTHEDOT_CIVIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

/* The range of years a date may have in onthedot (otd_date_valid). */
#define OTD_YEAR_MIN 1900
#define OTD_YEAR_MAX 2999

/* Bytes otd_rfc3339_format needs for any year 0..9999, NUL included. */
#define OTD_RFC3339_SIZE 21

/* A wall-clock reading: a date and a time of day, in no particular zone. */
struct otd_civil {
	int year, month, day;     /* month 1..12, day 1..31 */
	int hour, minute, second; /* 0..23, 0..59, 0..59 */
};

/* Days from 1970-01-01 to y-m-d (negative before it), proleptic
 * Gregorian. m must be 1..12; d may be any value and counts on from the
 * first of the month. Howard Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms", days_from_civil. */
int64_t otd_days_from_civil(int y, int m, int d);

/* The inverse of otd_days_from_civil (Hinnant's civil_from_days). */
void otd_civil_from_days(int64_t days, int *y, int *m, int *d);

/* Day of the week of a day number: 0 = Monday .. 6 = Sunday (ISO 8601
 * order, minus one). */
int otd_weekday(int64_t days);

/* 28..31 for a month 1..12 of year y; 0 when m is out of range. */
int otd_days_in_month(int y, int m);

/* True when y-m-d names a real day and OTD_YEAR_MIN <= y <= OTD_YEAR_MAX. */
bool otd_date_valid(int y, int m, int d);

/* Seconds since the epoch of a civil reading taken as UTC. Fields are not
 * checked; out-of-range hours, minutes and seconds carry over. */
int64_t otd_civil_to_seconds(const struct otd_civil *c);

/* The civil reading of UTC instant t (t taken as UTC). */
void otd_civil_from_seconds(int64_t t, struct otd_civil *out);

/* -1, 0 or 1 as a is before, equal to or after b (field by field). */
int otd_civil_cmp(const struct otd_civil *a, const struct otd_civil *b);

/* Parses a strict RFC 3339 instant (section 5.6, date-time):
 * "YYYY-MM-DDTHH:MM:SS" then optional fractional seconds (".5", any number
 * of digits, truncated towards the earlier second), then "Z" or "+HH:MM"
 * or "-HH:MM". 'T' and 'Z' may be lower case (RFC 3339 section 5.6 note);
 * a space instead of 'T', a missing seconds field, leap second 60, an
 * offset without its colon and anything after the offset are rejected. The
 * date must satisfy otd_date_valid; offset hours are 00..23, minutes
 * 00..59. On success stores the UTC instant in *out. On failure returns
 * OTD_EINVAL with err's code "bad_time", a message saying which part is
 * wrong, and err's field "" (the caller names the field). */
enum otd_status otd_rfc3339_parse(const char *s, int64_t *out, struct otd_error *err);

/* Writes t as "2026-03-03T10:00:00Z" into buf (OTD_RFC3339_SIZE bytes is
 * always enough for years 0..9999). Returns the length written, excluding
 * the NUL; when size is too small writes "" (if size > 0) and returns 0. */
size_t otd_rfc3339_format(int64_t t, char *buf, size_t size);

/* Parses a strict "YYYY-MM-DD" that satisfies otd_date_valid into *y, *m,
 * *d. On failure returns OTD_EINVAL, err code "bad_date", field "". */
enum otd_status otd_date_parse(const char *s, int *y, int *m, int *d, struct otd_error *err);

/* Writes "YYYY-MM-DD" into buf. y must be 0..9999 and m, d in range (any
 * valid date qualifies); otherwise writes "0000-00-00". */
void otd_date_format(int y, int m, int d, char buf[11]);

/* Parses a floating local time, "YYYY-MM-DDTHH:MM" or
 * "YYYY-MM-DDTHH:MM:SS" with no offset and no fraction ('T' as in
 * otd_rfc3339_parse; second defaults to 0). The date must satisfy
 * otd_date_valid. On failure returns OTD_EINVAL, err code "bad_local_time",
 * field "". */
enum otd_status otd_local_parse(const char *s, struct otd_civil *out, struct otd_error *err);

#endif
