/* onthedot: loading the organisation's time zone with libical.
 *
 * The only file that calls libical's zone functions (DESIGN.md, Time zones;
 * TRAPS.md: libical's built-in zone loading races between threads). It
 * runs once at start, before any thread, and hands core an immutable
 * struct otd_tz that every thread may then use freely. */
#ifndef OTD_APP_TZLOAD_H
#define OTD_APP_TZLOAD_H

#include "onthedot/status.h"

struct otd_tz;

/* The years callers normally ask for. */
#define TZLOAD_FROM_YEAR 1990
#define TZLOAD_TO_YEAR 2100

/* Builds the transition table of IANA zone `name` ("Europe/London", "UTC")
 * covering local years from_year..to_year (OTD_YEAR_MIN <= from_year <=
 * to_year <= OTD_YEAR_MAX), reading the system's tzdata through libical.
 * Offset changes are found to the exact second (a search every 6 hours,
 * then bisection), so two changes less than 6 hours apart would be missed;
 * no zone has had such a pair since 1970. On success *out is a zone the
 * caller frees with otd_tz_free. Fails with OTD_EINVAL, err code
 * "unknown_time_zone" and field "timezone", naming the zone, when the name
 * is malformed or unknown (the tzdata package may be missing); with
 * OTD_EINVAL "bad_years" for a bad year range. NOT thread-safe: call before
 * starting threads, or with no other libical zone user running. */
enum otd_status tzload_build(const char *name, int from_year, int to_year, struct otd_tz **out,
                             struct otd_error *err);

/* The first year tzload_vtimezone's VTIMEZONE describes. */
#define TZLOAD_VTIMEZONE_FROM_YEAR 2020

/* The VTIMEZONE component (RFC 5545 3.6.5) of IANA zone `name`, as text
 * with CR LF line ends, for invites (onthedot/ics.h): libical's built-in
 * component from the system's tzdata, with TZID set to `name` (libical's
 * own "/freeassociation.sourceforge.net/" prefix and X-LIC-LOCATION left
 * out) and trimmed to the STANDARD and DAYLIGHT observances calendars need
 * from TZLOAD_VTIMEZONE_FROM_YEAR on: those with an onset after its start,
 * and the one in force at its start. "UTC" gets a one-observance zone.
 * On success *out is a heap string the caller frees. Fails like
 * tzload_build (OTD_EINVAL "unknown_time_zone", field "timezone"). NOT
 * thread-safe: call once at start, before threads, and keep the text. */
enum otd_status tzload_vtimezone(const char *name, char **out, struct otd_error *err);

/* Frees libical's built-in zones (TRAPS.md: keeps LeakSanitizer quiet).
 * Zones built by tzload_build stay valid. Call once at exit, after the
 * threads have stopped. */
void tzload_shutdown(void);

#endif
