/* Turning a libical zone into onthedot's immutable offset table. */
#include "app/tzload.h"

#include <libical/ical.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"

#define NAME_MAX_LEN 64
#define STEP_SECONDS (6 * 3600)

/* IANA names are letters, digits and "/_-+"; refusing anything else (and
 * "..") keeps a configured name from steering libical to some other file. */
static bool name_ok(const char *name)
{
	size_t len = strlen(name);
	if(len == 0 || len > NAME_MAX_LEN || name[0] == '/' || strstr(name, ".."))
		return false;
	for(const char *p = name; *p; p++) {
		char c = *p;
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		          (c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' || c == '+';
		if(!ok)
			return false;
	}
	return true;
}

/* The zone's offset at UTC instant t. The icaltimetype is built from our
 * own civil arithmetic: icaltime_from_timet_with_zone tags its result UTC
 * whatever zone it is given (TRAPS.md), and only UTC fields are wanted. */
static int32_t offset_of(icaltimezone *zone, int64_t t)
{
	struct otd_civil c;
	otd_civil_from_seconds(t, &c);
	struct icaltimetype tt = icaltime_null_time();
	tt.year = c.year;
	tt.month = c.month;
	tt.day = c.day;
	tt.hour = c.hour;
	tt.minute = c.minute;
	tt.second = c.second;
	tt.is_date = 0;
	tt.zone = icaltimezone_get_utc_timezone();
	int is_daylight = 0;
	return (int32_t)icaltimezone_get_utc_offset_of_utc_time(zone, &tt, &is_daylight);
}

enum otd_status tzload_build(const char *name, int from_year, int to_year, struct otd_tz **out,
                             struct otd_error *err)
{
	enum otd_status result = OTD_OK;
	int64_t *at = NULL;
	int32_t *offset = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if(from_year < OTD_YEAR_MIN || to_year > OTD_YEAR_MAX || from_year > to_year)
		return otd_error_set(
		    err, OTD_EINVAL, "bad_years", NULL,
		    "The time zone years must satisfy %d <= from (%d) <= to (%d) <= %d.",
		    OTD_YEAR_MIN, from_year, to_year, OTD_YEAR_MAX);
	if(!name || !name_ok(name))
		return otd_error_set(
		    err, OTD_EINVAL, "unknown_time_zone", "timezone",
		    "The time zone name is not an IANA name such as Europe/London.");

	icaltimezone *zone = icaltimezone_get_builtin_timezone(name);
	if(!zone && strcmp(name, "UTC") == 0)
		zone = icaltimezone_get_utc_timezone();
	if(!zone)
		return otd_error_set(err, OTD_EINVAL, "unknown_time_zone", "timezone",
		                     "Unknown time zone \"%s\": give an IANA name such as "
		                     "Europe/London. If the name is right, the tzdata package "
		                     "(/usr/share/zoneinfo) may be missing.",
		                     name);

	/* Two days' margin either side: a local year begins up to 26 hours
	 * away from its UTC midnight. */
	int64_t begin = otd_days_from_civil(from_year, 1, 1) * 86400 - 86400 * 2;
	int64_t end = otd_days_from_civil(to_year + 1, 1, 1) * 86400 + 86400 * 2;
	int32_t initial = offset_of(zone, begin);
	int32_t prev = initial;

	int64_t t = begin;
	while(t < end) {
		int64_t step_end = t + STEP_SECONDS;
		int32_t now = offset_of(zone, step_end);
		if(now == prev) {
			t = step_end;
			continue;
		}
		/* Bisect (t, step_end] for the first second of a new offset. */
		int64_t lo = t, hi = step_end;
		while(hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;
			if(offset_of(zone, mid) == prev)
				lo = mid;
			else
				hi = mid;
		}
		if(n == cap) {
			cap = cap ? cap * 2 : 256;
			at = xrealloc(at, cap * sizeof(*at));
			offset = xrealloc(offset, cap * sizeof(*offset));
		}
		at[n] = hi;
		offset[n] = offset_of(zone, hi);
		prev = offset[n];
		n++;
		/* Go on from the change, not from step_end: should a second
		 * change fall in the same step, it is found next time round. */
		t = hi;
	}

	*out = otd_tz_new(name, initial, at, offset, n);
	if(!*out)
		result =
		    otd_error_set(err, OTD_EINTERNAL, "bad_time_zone_table", "timezone",
		                  "The time zone \"%s\" gave offsets onthedot cannot use.", name);
	free(at);
	free(offset);
	return result;
}

void tzload_shutdown(void)
{
	icaltimezone_free_builtin_timezones();
}
