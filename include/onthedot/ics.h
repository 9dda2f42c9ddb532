/* onthedot: calendar invites, one appointment as an iCalendar object.
 *
 * DESIGN.md (Messaging): the email carries an ICS with METHOD:REQUEST (or
 * CANCEL, same UID) and SEQUENCE = the promise version; the "add to
 * calendar" download is METHOD:PUBLISH. Built and serialised with libical
 * (RFC 5545, iTIP RFC 5546), pure and thread-safe: no zone is loaded or
 * looked up here. Local times come from the organisation's offset table
 * (onthedot/tz.h); the VTIMEZONE that names them is text made once at
 * start by tzload_vtimezone (src/app/tzload.h). */
#ifndef ONTHEDOT_ICS_H
#define ONTHEDOT_ICS_H

#include <stdint.h>

#include "onthedot/status.h"
#include "onthedot/tz.h"

/* Longest text a field may have, in bytes (DESCRIPTION included). */
#define OTD_ICS_TEXT_MAX 8192
/* Longest VTIMEZONE text accepted. */
#define OTD_ICS_VTIMEZONE_MAX (256 * 1024)

/* One appointment. Strings are UTF-8; every optional one is NULL (or "")
 * when there is none. */
struct otd_ics_event {
	const char *uid;     /* required; stable per appointment */
	int sequence;        /* >= 0: the promise version */
	int64_t dtstamp;     /* UTC instant the message was made */
	int64_t start, end;  /* UTC instants, start < end: the window */
	const char *summary; /* required */
	const char *location, *description, *url;
	const char *organizer_name, *organizer_email; /* email: REQUEST, CANCEL */
	const char *attendee_name, *attendee_email;   /* email: REQUEST, CANCEL */
};

enum otd_ics_method {
	OTD_ICS_PUBLISH, /* a download: no reply expected, attendee optional */
	OTD_ICS_REQUEST, /* an invite or an update (higher SEQUENCE) */
	OTD_ICS_CANCEL,  /* the appointment is off: same UID, STATUS:CANCELLED */
};

/* Renders ev as a VCALENDAR (VERSION 2.0, PRODID, METHOD, CALSCALE) holding
 * vtimezone (the VTIMEZONE text of tz's zone, whose TZID must be
 * otd_tz_name(tz); any line ends, folded or not) and one VEVENT: UID,
 * SEQUENCE, DTSTAMP in UTC, DTSTART and DTEND;TZID=zone as local wall times
 * from otd_tz_to_local, SUMMARY, LOCATION, DESCRIPTION, URL, ORGANIZER and
 * ATTENDEE (CN, RSVP=FALSE, ROLE=REQ-PARTICIPANT, PARTSTAT=NEEDS-ACTION),
 * STATUS (CONFIRMED, or CANCELLED for CANCEL), TRANSP:OPAQUE.
 *
 * A wall time that the zone shows twice (the hour after the clocks go
 * back) is written in UTC instead ("20261025T013000Z"): RFC 5545 3.3.5
 * reads such a local time as its first occurrence, and calendars disagree
 * on it. Text is escaped as RFC 5545 3.3.11 says (backslash, semicolon,
 * comma, newline; a CR LF or lone CR in text becomes a newline); a CN is
 * quoted when it holds ';', ':' or ',' and RFC 6868-encodes '"' and '^'.
 * Lines end in CR LF and are folded at 75 octets, never inside a UTF-8
 * character or an escape pair.
 *
 * On success *out is a NUL-terminated heap string the caller frees. Fails
 * with OTD_EINVAL (err code "bad_invite", field naming the member:
 * "attendee_email") when a required member is missing, start >= end, a
 * date is outside OTD_YEAR_MIN..OTD_YEAR_MAX, text is not UTF-8 or holds
 * a control character (tab is fine; line breaks only in location and
 * description), an email or URL holds a space, '"', '<' or '>' (an email
 * also needs exactly one '@'), or vtimezone is not a VTIMEZONE for tz;
 * OTD_ETOOBIG when a field exceeds OTD_ICS_TEXT_MAX or vtimezone
 * OTD_ICS_VTIMEZONE_MAX. Thread-safe: libical's serialiser keeps its
 * scratch memory per thread, and the UTC zone it consults is static. */
enum otd_status otd_ics_render(const struct otd_ics_event *ev, enum otd_ics_method method,
                               const struct otd_tz *tz, const char *vtimezone, char **out,
                               struct otd_error *err);

/* "PUBLISH", "REQUEST", "CANCEL". */
const char *otd_ics_method_name(enum otd_ics_method method);

#endif
