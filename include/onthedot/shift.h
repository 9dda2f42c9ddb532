/* onthedot: a visitor's shift as an iCalendar recurrence, and its expansion.
 *
 * A shift rule is what an administrator imports: the local wall time of the
 * first shift (DTSTART, in the organisation's zone, without an offset), a
 * length in minutes, an RRULE (RFC 5545 section 3.3.10) and EXDATEs. It is
 * expanded in floating local time with libical's recurrence iterator, then
 * converted to UTC with the zone's offset table (onthedot/tz.h); libical's
 * zone functions are never called here (TRAPS.md, libical). */
#ifndef ONTHEDOT_SHIFT_H
#define ONTHEDOT_SHIFT_H

#include <stddef.h>
#include <stdint.h>

#include "onthedot/civil.h"
#include "onthedot/status.h"
#include "onthedot/tz.h"

#define OTD_SHIFT_RRULE_MAX 512         /* bytes, NUL included */
#define OTD_SHIFT_DURATION_MAX 1440     /* minutes */
#define OTD_SHIFT_EXDATES_MAX 4096      /* EXDATEs per rule */
#define OTD_SHIFT_OCCURRENCES_MAX 10000 /* occurrences one expansion may walk */
/* libical 3.0's recurrence iterator stops after this year (MAX_TIME_T_YEAR):
 * a DTSTART must fall on or before it and no shift is expanded beyond it. */
#define OTD_SHIFT_YEAR_MAX 2582

struct otd_shift_rule {
	/* The first shift's local start, years OTD_YEAR_MIN..OTD_SHIFT_YEAR_MAX. */
	struct otd_civil dtstart;
	int duration_min;                /* 1..OTD_SHIFT_DURATION_MAX, real elapsed minutes */
	char rrule[OTD_SHIFT_RRULE_MAX]; /* "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", no "RRULE:" */
	size_t n_exdates;
	struct otd_civil *exdates; /* local dates (time ignored) with no shift; caller owns */
};

/* Checks a rule before it is stored or expanded. The RRULE must parse with
 * libical and hold only these parts, each at most once: FREQ (DAILY, WEEKLY
 * or MONTHLY: a shift is at most one a day, so no HOURLY and no BYHOUR,
 * BYMINUTE or BYSECOND), INTERVAL, COUNT (1..OTD_SHIFT_OCCURRENCES_MAX) or
 * UNTIL, BYDAY (an ordinal such as 1MO only with MONTHLY), BYMONTHDAY (not
 * with WEEKLY), BYMONTH, BYSETPOS, WKST. UNTIL may be a date (that day's
 * shift included), a floating local time or a UTC time ending in Z.
 * Returns OTD_OK, or OTD_EINVAL with err naming the field: "dtstart"
 * (bad_dtstart), "duration_minutes" (bad_duration), "rrule" (bad_rrule),
 * "exdates" (bad_exdate; OTD_ETOOBIG too_many_exdates past the cap). */
enum otd_status otd_shift_validate(const struct otd_shift_rule *r, struct otd_error *err);

/* A half-open interval [start, end) of UTC instants. */
struct otd_interval {
	int64_t start, end;
};

/* Every shift of rule r that overlaps [from_utc, to_utc), in zone tz,
 * sorted by start. Each occurrence's local start comes from the RRULE
 * iterator in floating time; occurrences on an EXDATE are dropped (the
 * iterator ignores EXDATE; COUNT counts them, as RFC 5545 says); the local
 * start becomes UTC as RFC 5545 section 3.3.5 reads a DATE-TIME with a
 * TZID: a start the clocks skip (01:30 on London's spring-forward day) is
 * taken with the offset before the gap, so the shift starts at 02:30 BST
 * (01:30Z); a start that occurs twice (01:30 on the autumn day) is the first
 * occurrence, 01:30 BST (00:30Z). That is otd_tz_from_local's *earlier.
 * The end is start + duration in real elapsed time, so a 9-hour shift is
 * 9 hours long even across a change of the clocks.
 *
 * Validates r first (as otd_shift_validate). Rules without COUNT start
 * the iterator near from_utc, so the cost follows the range asked, not the
 * rule's age. Fails with OTD_ETOOBIG "range_too_large" when the range would
 * walk more than OTD_SHIFT_OCCURRENCES_MAX occurrences. The part of the
 * range after OTD_SHIFT_YEAR_MAX holds no shifts. On success *out is
 * an array of *n intervals (NULL when *n is 0) that the caller frees with
 * free(); on failure *out is NULL and *n is 0. from_utc >= to_utc yields
 * nothing. */
enum otd_status otd_shift_expand(const struct otd_shift_rule *r, const struct otd_tz *tz,
                                 int64_t from_utc, int64_t to_utc, struct otd_interval **out,
                                 size_t *n, struct otd_error *err);

#endif
