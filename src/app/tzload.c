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

/* ---- VTIMEZONE -------------------------------------------------------- */

/* A floating wall time as seconds, for comparing onsets. */
static int64_t wall_seconds(struct icaltimetype t)
{
	struct otd_civil c = {t.year, t.month, t.day, t.hour, t.minute, t.second};
	return otd_civil_to_seconds(&c);
}

/* What trimming needs to know of one STANDARD or DAYLIGHT observance: its
 * latest onset at or before the cut (INT64_MIN when none) and whether it
 * has an onset after it. */
struct onsets {
	int64_t last_before;
	bool after;
};

static void note_onset(struct onsets *o, int64_t t, int64_t cut)
{
	if(t <= cut) {
		if(t > o->last_before)
			o->last_before = t;
	} else {
		o->after = true;
	}
}

/* Walks obs's DTSTART, RDATEs and RRULE onsets (up to the first one after
 * the cut). A rule that cannot be walked, or takes too long, counts as
 * reaching past the cut: keeping an observance is always safe. */
static void observance_onsets(icalcomponent *obs, int64_t cut, struct onsets *o)
{
	o->last_before = INT64_MIN;
	o->after = false;
	icalproperty *p = icalcomponent_get_first_property(obs, ICAL_DTSTART_PROPERTY);
	if(!p) {
		o->after = true;
		return;
	}
	struct icaltimetype start = icalproperty_get_dtstart(p);
	start.zone = NULL;
	note_onset(o, wall_seconds(start), cut);
	for(p = icalcomponent_get_first_property(obs, ICAL_RDATE_PROPERTY); p;
	    p = icalcomponent_get_next_property(obs, ICAL_RDATE_PROPERTY)) {
		struct icaldatetimeperiodtype r = icalproperty_get_rdate(p);
		struct icaltimetype t = icaltime_is_null_time(r.time) ? r.period.start : r.time;
		note_onset(o, wall_seconds(t), cut);
	}
	for(p = icalcomponent_get_first_property(obs, ICAL_RRULE_PROPERTY); p;
	    p = icalcomponent_get_next_property(obs, ICAL_RRULE_PROPERTY)) {
		struct icalrecurrencetype rt = icalproperty_get_rrule(p);
		icalrecur_iterator *it = icalrecur_iterator_new(rt, start);
		if(!it) {
			o->after = true;
			continue;
		}
		int walked = 0;
		for(;;) {
			struct icaltimetype t = icalrecur_iterator_next(it);
			if(icaltime_is_null_time(t))
				break;
			if(++walked > 10000) {
				o->after = true;
				break;
			}
			int64_t w = wall_seconds(t);
			note_onset(o, w, cut);
			if(w > cut)
				break;
		}
		icalrecur_iterator_free(it);
	}
}

/* libical ends a rule with UNTIL = its last onset in UTC, as RFC 5545
 * 3.3.10 says; but readers that compare UNTIL with the floating onset as if
 * both were wall times (dateutil, so python3-vobject; libical itself, see
 * core/shift.c) then lose the last onset whenever the zone is east of UTC
 * before it (London's last October change under that rule). Moving UNTIL a
 * day later, while still before the rule's next onset, means the same to a
 * strict reader and gives naive ones the right answer. */
static void widen_until(icalcomponent *obs)
{
	icalproperty *rp = icalcomponent_get_first_property(obs, ICAL_RRULE_PROPERTY);
	icalproperty *sp = icalcomponent_get_first_property(obs, ICAL_DTSTART_PROPERTY);
	icalproperty *fp = icalcomponent_get_first_property(obs, ICAL_TZOFFSETFROM_PROPERTY);
	if(!rp || !sp || !fp)
		return;
	struct icalrecurrencetype rt = icalproperty_get_rrule(rp);
	if(icaltime_is_null_time(rt.until) || rt.until.is_date || rt.count)
		return;
	const int64_t until = wall_seconds(rt.until);
	const int64_t from = icalproperty_get_tzoffsetfrom(fp);
	struct icaltimetype start = icalproperty_get_dtstart(sp);
	start.zone = NULL;
	struct icalrecurrencetype open = rt;
	open.until = icaltime_null_time();
	icalrecur_iterator *it = icalrecur_iterator_new(open, start);
	if(!it)
		return;
	int64_t last = INT64_MIN, next = INT64_MAX;
	for(int walked = 0; walked < 10000; walked++) {
		struct icaltimetype t = icalrecur_iterator_next(it);
		if(icaltime_is_null_time(t))
			break;
		int64_t onset = wall_seconds(t) - from; /* the onset in UTC */
		if(onset > until) {
			next = onset;
			break;
		}
		last = onset;
	}
	icalrecur_iterator_free(it);
	if(last == INT64_MIN || last + 86400 >= next)
		return;
	struct otd_civil c;
	otd_civil_from_seconds(last + 86400, &c);
	struct icaltimetype u = icaltime_null_time();
	u.year = c.year;
	u.month = c.month;
	u.day = c.day;
	u.hour = c.hour;
	u.minute = c.minute;
	u.second = c.second;
	u.is_date = 0;
	u.zone = icaltimezone_get_utc_timezone();
	rt.until = u;
	icalproperty_set_rrule(rp, rt);
}

/* UTC has no transitions and libical no component for it. */
static icalcomponent *utc_vtimezone(void)
{
	icalcomponent *tz = icalcomponent_new_vtimezone();
	icalcomponent_add_property(tz, icalproperty_new_tzid("UTC"));
	icalcomponent *std = icalcomponent_new_xstandard();
	struct icaltimetype t = icaltime_null_time();
	t.year = 1970;
	t.month = 1;
	t.day = 1;
	t.is_date = 0;
	icalcomponent_add_property(std, icalproperty_new_tzname("UTC"));
	icalcomponent_add_property(std, icalproperty_new_tzoffsetfrom(0));
	icalcomponent_add_property(std, icalproperty_new_tzoffsetto(0));
	icalcomponent_add_property(std, icalproperty_new_dtstart(t));
	icalcomponent_add_component(tz, std);
	return tz;
}

/* Keeps the observances calendars need from TZLOAD_VTIMEZONE_FROM_YEAR on:
 * those with an onset after its first second, and the one in force then
 * (the latest onset before it over all observances). */
static void trim_observances(icalcomponent *tz)
{
	const int64_t cut = otd_days_from_civil(TZLOAD_VTIMEZONE_FROM_YEAR, 1, 1) * 86400;
	size_t n = 0;
	for(icalcomponent *c = icalcomponent_get_first_component(tz, ICAL_ANY_COMPONENT); c;
	    c = icalcomponent_get_next_component(tz, ICAL_ANY_COMPONENT))
		n++;
	if(n == 0)
		return;
	icalcomponent **obs = xcalloc(n, sizeof(*obs));
	struct onsets *on = xcalloc(n, sizeof(*on));
	size_t in_force = n, i = 0;
	for(icalcomponent *c = icalcomponent_get_first_component(tz, ICAL_ANY_COMPONENT); c;
	    c = icalcomponent_get_next_component(tz, ICAL_ANY_COMPONENT), i++) {
		obs[i] = c;
		observance_onsets(c, cut, &on[i]);
		if(on[i].last_before != INT64_MIN &&
		   (in_force == n || on[i].last_before > on[in_force].last_before))
			in_force = i;
	}
	for(i = 0; i < n; i++) {
		if(on[i].after || i == in_force) {
			widen_until(obs[i]);
			continue;
		}
		icalcomponent_remove_component(tz, obs[i]);
		icalcomponent_free(obs[i]);
	}
	free(obs);
	free(on);
}

enum otd_status tzload_vtimezone(const char *name, char **out, struct otd_error *err)
{
	*out = NULL;
	if(!name || !name_ok(name))
		return otd_error_set(
		    err, OTD_EINVAL, "unknown_time_zone", "timezone",
		    "The time zone name is not an IANA name such as Europe/London.");
	icalcomponent *tz;
	if(strcmp(name, "UTC") == 0) {
		tz = utc_vtimezone();
	} else {
		icaltimezone *zone = icaltimezone_get_builtin_timezone(name);
		icalcomponent *comp = zone ? icaltimezone_get_component(zone) : NULL;
		if(!comp)
			return otd_error_set(err, OTD_EINVAL, "unknown_time_zone", "timezone",
			                     "Unknown time zone \"%s\": give an IANA name such as "
			                     "Europe/London. If the name is right, the tzdata "
			                     "package (/usr/share/zoneinfo) may be missing.",
			                     name);
		tz = icalcomponent_new_clone(comp);
		/* libical names its zones "/freeassociation.sourceforge.net/NAME"
		 * and adds X-LIC-LOCATION; calendars know the IANA name. */
		icalproperty *p = icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY);
		if(p)
			icalproperty_set_tzid(p, name);
		else
			icalcomponent_add_property(tz, icalproperty_new_tzid(name));
		icalproperty *next;
		for(p = icalcomponent_get_first_property(tz, ICAL_X_PROPERTY); p; p = next) {
			next = icalcomponent_get_next_property(tz, ICAL_X_PROPERTY);
			const char *x = icalproperty_get_x_name(p);
			if(x && strcmp(x, "X-LIC-LOCATION") == 0) {
				icalcomponent_remove_property(tz, p);
				icalproperty_free(p);
			}
		}
		trim_observances(tz);
	}
	char *text = icalcomponent_as_ical_string_r(tz);
	icalcomponent_free(tz);
	if(!text)
		return otd_error_set(err, OTD_EINTERNAL, "bad_time_zone_table", "timezone",
		                     "libical could not write the time zone \"%s\".", name);
	*out = text;
	return OTD_OK;
}

void tzload_shutdown(void)
{
	icaltimezone_free_builtin_timezones();
}
