/* onthedot: bank holidays from an iCalendar file, pure.
 *
 * `onthedot import holidays FILE.ics` (DESIGN.md, journey 5) reads a file
 * such as GOV.UK's https://www.gov.uk/bank-holidays/england-and-wales.ics
 * with libical's parser (no zone is loaded or looked up) and turns it into
 * a sorted list of local dates with names. What is read:
 *
 *  - every VEVENT is one holiday, named by its SUMMARY ("Holiday" when it
 *    has none; line breaks and tabs become spaces; at most 200 bytes);
 *    VEVENTs with STATUS:CANCELLED are left out; other components ignored;
 *  - DTSTART;VALUE=DATE:20261225 (also without VALUE=DATE) gives the date.
 *    A DATE-TIME is accepted only at 00:00:00 as a floating or TZID time
 *    (its wall-clock date is the holiday; the zone is not looked up): some
 *    calendars export all-day events so. A UTC time ("...Z") or any other
 *    time of day is refused, as it names an instant, not a day;
 *  - a DTEND (exclusive, as RFC 5545 3.6.1 says) or DURATION in whole days
 *    makes one event cover each date from DTSTART up to the day before
 *    DTEND, at most OTD_HOLIDAYS_SPAN_MAX days; without either, one day;
 *  - RRULE: FREQ=YEARLY only (INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY,
 *    BYDAY, WKST allowed: "last Monday of May" is
 *    FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO), expanded with libical's iterator
 *    from DTSTART through OTD_HOLIDAYS_LAST_YEAR; EXDATE dates are removed
 *    and RDATE dates added by this code (libical's iterator ignores them);
 *    RECURRENCE-ID (a moved occurrence) is refused;
 *  - a date given twice is kept once, with the first event's name.
 *
 * A file with any problem is refused whole (the import is all or nothing).
 * The message names the first problem by the event's position, UID and
 * SUMMARY ("event 3 (UID xyz@gov.uk, \"Boxing Day\"): DTSTART is missing")
 * and counts the others. */
#ifndef ONTHEDOT_HOLIDAYS_H
#define ONTHEDOT_HOLIDAYS_H

#include <stddef.h>

#include "onthedot/status.h"

#define OTD_HOLIDAYS_MAX_DATES 5000
#define OTD_HOLIDAYS_MAX_BYTES ((size_t)4 << 20)
#define OTD_HOLIDAYS_SPAN_MAX 31
#define OTD_HOLIDAYS_LAST_YEAR 2100
#define OTD_HOLIDAY_NAME_MAX 200

struct otd_holiday {
	char date[11];                       /* "YYYY-MM-DD", a real date */
	char name[OTD_HOLIDAY_NAME_MAX + 1]; /* UTF-8, 1..200 bytes, no control characters */
};

/* Parses ics[0..len) (UTF-8 iCalendar; a UTF-8 byte order mark is skipped)
 * into *out, sorted by date with no date twice; *n counts them (at least
 * one). The caller frees *out with free(). On failure *out is NULL and *n
 * 0, and err says why, with field "" : OTD_EINVAL "bad_holidays" (not one
 * VCALENDAR, a NUL byte, a line libical cannot read, an event without
 * DTSTART, a malformed or unusable date, rule or name, no holiday at all)
 * or OTD_ETOOBIG "too_many_holidays" (more than OTD_HOLIDAYS_MAX_DATES
 * dates, or len over OTD_HOLIDAYS_MAX_BYTES). Thread-safe. */
enum otd_status otd_holidays_parse(const char *ics, size_t len, struct otd_holiday **out, size_t *n,
                                   struct otd_error *err);

#endif
