/* Calendar invites: one appointment as a VCALENDAR, built with libical. */
#include "onthedot/ics.h"

#include <libical/ical.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/version.h"
#include "onthedot/utf8.h"

#define PRODID "-//onthedot//onthedot " OTD_VERSION "//EN"
#define EMAIL_MAX 254
#define FOLD_OCTETS 75 /* RFC 5545 3.1: lines SHOULD NOT exceed 75 octets */

const char *otd_ics_method_name(enum otd_ics_method method)
{
	switch(method) {
	case OTD_ICS_PUBLISH: return "PUBLISH";
	case OTD_ICS_REQUEST: return "REQUEST";
	case OTD_ICS_CANCEL: return "CANCEL";
	}
	return "?";
}

static enum otd_status bad(struct otd_error *err, const char *field, const char *why)
{
	return otd_error_set(err, OTD_EINVAL, "bad_invite", field, "The calendar invite's %s %s.",
	                     field, why);
}

static bool present(const char *s)
{
	return s && *s;
}


enum text_kind {
	TEXT_LINE,  /* one line: tab allowed, no other control character */
	TEXT_LINES, /* newlines (LF, CR LF, CR) and tabs allowed */
	TEXT_URI,   /* printable, no space, no '"', '<', '>' */
};

/* Checks s for field and, for TEXT_LINES, copies it with every CR LF and
 * lone CR turned into LF (libical escapes LF as "\n"). *copy is NULL when
 * s can be used as it is. */
static enum otd_status check_text(const char *s, const char *field, enum text_kind kind,
                                  char **copy, struct otd_error *err)
{
	size_t n = strlen(s);
	*copy = NULL;
	if(n > OTD_ICS_TEXT_MAX)
		return otd_error_set(err, OTD_ETOOBIG, "bad_invite", field,
		                     "The calendar invite's %s is longer than %d bytes.", field,
		                     OTD_ICS_TEXT_MAX);
	bool has_cr = false;
	for(size_t i = 0; i < n;) {
		const unsigned char *p = (const unsigned char *)s + i;
		size_t k = otd_utf8_char(p, n - i);
		if(k == 0)
			return bad(err, field, "is not valid UTF-8");
		unsigned c = p[0];
		if(k == 1 && (c < 0x20 || c == 0x7F)) {
			bool ok = (c == '\t' && kind != TEXT_URI) ||
			          (kind == TEXT_LINES && (c == '\n' || c == '\r'));
			if(!ok)
				return bad(err, field, "holds a control character");
			has_cr |= c == '\r';
		}
		if(kind == TEXT_URI && (c == ' ' || c == '"' || c == '<' || c == '>'))
			return bad(err, field, "holds a space, '\"', '<' or '>'");
		i += k;
	}
	if(has_cr) {
		char *t = xmalloc(n + 1);
		size_t j = 0;
		for(size_t i = 0; i < n; i++) {
			if(s[i] != '\r')
				t[j++] = s[i];
			else if(s[i + 1] != '\n')
				t[j++] = '\n';
		}
		t[j] = '\0';
		*copy = t;
	}
	return OTD_OK;
}

/* A plain address for "mailto:": one '@' with text either side, no
 * characters that would end or split the URI. */
static enum otd_status check_email(const char *email, const char *field, struct otd_error *err)
{
	char *copy;
	enum otd_status st = check_text(email, field, TEXT_URI, &copy, err);
	if(st)
		return st;
	const char *at = strchr(email, '@');
	size_t n = strlen(email);
	if(n > EMAIL_MAX || !at || at == email || !at[1] || strchr(at + 1, '@') ||
	   strpbrk(email, ",;:()[]\\"))
		return bad(err, field, "is not an email address such as sam@example.org");
	return OTD_OK;
}

/* RFC 6868: libical 3.0 encodes '"' and a newline in a parameter value but
 * leaves '^' alone, so a name holding "^'" would read back as '"'. Doubling
 * '^' first makes the encoding complete. (tests/unit/test_ics.c pins this
 * behaviour of libical.) */
static char *caret_escaped(const char *s)
{
	size_t extra = 0;
	for(const char *p = s; *p; p++)
		extra += *p == '^';
	if(!extra)
		return NULL;
	char *t = xmalloc(strlen(s) + extra + 1);
	char *q = t;
	for(const char *p = s; *p; p++) {
		*q++ = *p;
		if(*p == '^')
			*q++ = '^';
	}
	*q = '\0';
	return t;
}

static bool civil_in_range(const struct otd_civil *c)
{
	return otd_date_valid(c->year, c->month, c->day);
}

/* An icaltimetype read back from its text: how libical tags a time UTC
 * without our calling a zone function (it consults its own static UTC
 * zone, which needs no loading). */
static struct icaltimetype utc_time(int64_t t)
{
	struct otd_civil c;
	char text[20];
	otd_civil_from_seconds(t, &c);
	snprintf(text, sizeof(text), "%04d%02d%02dT%02d%02d%02dZ", c.year, c.month, c.day, c.hour,
	         c.minute, c.second);
	return icaltime_from_string(text);
}

/* DTSTART or DTEND for instant t: the local wall time with TZID, or UTC
 * when that wall time occurs twice (see ics.h). */
static enum otd_status add_time(icalcomponent *ev, icalproperty_kind kind, int64_t t,
                                const struct otd_tz *tz, const char *field, struct otd_error *err)
{
	struct otd_local loc;
	otd_tz_to_local(tz, t, &loc);
	struct otd_civil utc;
	otd_civil_from_seconds(t, &utc);
	if(!civil_in_range(&loc.c) || !civil_in_range(&utc))
		return bad(err, field, "is outside the years onthedot handles");
	icalproperty *p;
	if(otd_tz_from_local(tz, &loc.c, NULL, NULL) == OTD_LOCAL_UNIQUE) {
		struct icaltimetype tt = icaltime_null_time();
		tt.year = loc.c.year;
		tt.month = loc.c.month;
		tt.day = loc.c.day;
		tt.hour = loc.c.hour;
		tt.minute = loc.c.minute;
		tt.second = loc.c.second;
		tt.is_date = 0;
		tt.zone = NULL; /* floating; the TZID parameter names the zone */
		p = kind == ICAL_DTSTART_PROPERTY ? icalproperty_new_dtstart(tt)
		                                  : icalproperty_new_dtend(tt);
		icalproperty_add_parameter(p, icalparameter_new_tzid(otd_tz_name(tz)));
	} else {
		struct icaltimetype tt = utc_time(t);
		p = kind == ICAL_DTSTART_PROPERTY ? icalproperty_new_dtstart(tt)
		                                  : icalproperty_new_dtend(tt);
	}
	icalcomponent_add_property(ev, p);
	return OTD_OK;
}

/* Adds a text property made by make(value), checking value first. */
static enum otd_status add_text(icalcomponent *ev, icalproperty *(*make)(const char *),
                                const char *value, const char *field, enum text_kind kind,
                                struct otd_error *err)
{
	char *copy;
	enum otd_status st = check_text(value, field, kind, &copy, err);
	if(st)
		return st;
	icalcomponent_add_property(ev, make(copy ? copy : value));
	free(copy);
	return OTD_OK;
}

/* ORGANIZER or ATTENDEE: mailto:email with CN=name when there is one. */
static enum otd_status add_person(icalcomponent *ev, bool attendee, const char *name,
                                  const char *email, struct otd_error *err)
{
	const char *name_field = attendee ? "attendee_name" : "organizer_name";
	const char *email_field = attendee ? "attendee_email" : "organizer_email";
	enum otd_status st = check_email(email, email_field, err);
	if(st)
		return st;
	char *copy = NULL;
	if(present(name)) {
		st = check_text(name, name_field, TEXT_LINE, &copy, err);
		if(st)
			return st;
	}
	char *uri = xasprintf("mailto:%s", email);
	icalproperty *p =
	    attendee ? icalproperty_new_attendee(uri) : icalproperty_new_organizer(uri);
	free(uri);
	if(present(name)) {
		char *cn = caret_escaped(name);
		icalproperty_add_parameter(p, icalparameter_new_cn(cn ? cn : name));
		free(cn);
	}
	if(attendee) {
		icalproperty_add_parameter(p, icalparameter_new_rsvp(ICAL_RSVP_FALSE));
		icalproperty_add_parameter(p, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
		icalproperty_add_parameter(p,
		                           icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
	}
	icalcomponent_add_property(ev, p);
	return OTD_OK;
}

/* Everything but the times and the people. */
static enum otd_status check_event(const struct otd_ics_event *ev, enum otd_ics_method method,
                                   struct otd_error *err)
{
	if(method != OTD_ICS_PUBLISH && method != OTD_ICS_REQUEST && method != OTD_ICS_CANCEL)
		return bad(err, "method", "is not PUBLISH, REQUEST or CANCEL");
	if(!present(ev->uid))
		return bad(err, "uid", "is missing");
	if(!present(ev->summary))
		return bad(err, "summary", "is missing");
	if(ev->sequence < 0)
		return bad(err, "sequence", "is negative");
	if(ev->start >= ev->end)
		return bad(err, "end", "is not after its start");
	if(method != OTD_ICS_PUBLISH) {
		if(!present(ev->organizer_email))
			return bad(err, "organizer_email",
			           "is missing (REQUEST and CANCEL need it)");
		if(!present(ev->attendee_email))
			return bad(err, "attendee_email",
			           "is missing (REQUEST and CANCEL need it)");
	}
	return OTD_OK;
}

/* The VEVENT, in the order calendars and people read it. */
static enum otd_status build_event(icalcomponent *vev, const struct otd_ics_event *ev,
                                   enum otd_ics_method method, const struct otd_tz *tz,
                                   struct otd_error *err)
{
	enum otd_status st = add_text(vev, icalproperty_new_uid, ev->uid, "uid", TEXT_LINE, err);
	if(st)
		return st;
	icalcomponent_add_property(vev, icalproperty_new_sequence(ev->sequence));
	struct otd_civil stamp;
	otd_civil_from_seconds(ev->dtstamp, &stamp);
	if(!civil_in_range(&stamp))
		return bad(err, "dtstamp", "is outside the years onthedot handles");
	icalcomponent_add_property(vev, icalproperty_new_dtstamp(utc_time(ev->dtstamp)));
	st = add_time(vev, ICAL_DTSTART_PROPERTY, ev->start, tz, "start", err);
	if(st == OTD_OK)
		st = add_time(vev, ICAL_DTEND_PROPERTY, ev->end, tz, "end", err);
	if(st == OTD_OK)
		st =
		    add_text(vev, icalproperty_new_summary, ev->summary, "summary", TEXT_LINE, err);
	if(st == OTD_OK && present(ev->location))
		st = add_text(vev, icalproperty_new_location, ev->location, "location", TEXT_LINES,
		              err);
	if(st == OTD_OK && present(ev->description))
		st = add_text(vev, icalproperty_new_description, ev->description, "description",
		              TEXT_LINES, err);
	if(st == OTD_OK && present(ev->url))
		st = add_text(vev, icalproperty_new_url, ev->url, "url", TEXT_URI, err);
	if(st == OTD_OK && present(ev->organizer_email))
		st = add_person(vev, false, ev->organizer_name, ev->organizer_email, err);
	if(st == OTD_OK && present(ev->attendee_email))
		st = add_person(vev, true, ev->attendee_name, ev->attendee_email, err);
	if(st)
		return st;
	icalcomponent_add_property(vev, icalproperty_new_status(method == OTD_ICS_CANCEL
	                                                            ? ICAL_STATUS_CANCELLED
	                                                            : ICAL_STATUS_CONFIRMED));
	icalcomponent_add_property(vev, icalproperty_new_transp(ICAL_TRANSP_OPAQUE));
	return OTD_OK;
}

/* Checks that text (vtimezone) is one VTIMEZONE component whose TZID is
 * name: first line BEGIN:VTIMEZONE, last END:VTIMEZONE, a "TZID:name"
 * line, no NUL and no other BEGIN:VCALENDAR/VEVENT. */
static enum otd_status check_vtimezone(const char *text, const char *name, struct otd_error *err)
{
	if(!text)
		return bad(err, "vtimezone", "is missing");
	size_t n = strnlen(text, OTD_ICS_VTIMEZONE_MAX + 1);
	if(n > OTD_ICS_VTIMEZONE_MAX)
		return otd_error_set(err, OTD_ETOOBIG, "bad_invite", "vtimezone",
		                     "The VTIMEZONE text is longer than %d bytes.",
		                     OTD_ICS_VTIMEZONE_MAX);
	while(n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	static const char begin[] = "BEGIN:VTIMEZONE", end[] = "END:VTIMEZONE";
	if(strncmp(text, begin, sizeof(begin) - 1) != 0 ||
	   (text[sizeof(begin) - 1] != '\r' && text[sizeof(begin) - 1] != '\n'))
		return bad(err, "vtimezone", "does not start with BEGIN:VTIMEZONE");
	if(n < sizeof(end) || strncmp(text + n - (sizeof(end) - 1), end, sizeof(end) - 1) != 0 ||
	   (text[n - sizeof(end)] != '\n'))
		return bad(err, "vtimezone", "does not end with END:VTIMEZONE");
	bool tzid = false;
	for(const char *line = text; line && line < text + n;) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		if(len && line[len - 1] == '\r')
			len--;
		if(len > 5 && strncmp(line, "TZID:", 5) == 0 && len - 5 == strlen(name) &&
		   strncmp(line + 5, name, len - 5) == 0)
			tzid = true;
		if(strncmp(line, "BEGIN:", 6) == 0 && strncmp(line, "BEGIN:VTIMEZONE", 15) != 0 &&
		   strncmp(line, "BEGIN:STANDARD", 14) != 0 &&
		   strncmp(line, "BEGIN:DAYLIGHT", 14) != 0)
			return bad(err, "vtimezone", "holds a component other than a time zone's");
		line = eol ? eol + 1 : NULL;
	}
	if(!tzid)
		return bad(err, "vtimezone", "does not define the organisation's TZID");
	return OTD_OK;
}

/* Bytes of a fold's first piece of line[pos..n): at most room octets,
 * ending neither inside a UTF-8 character nor between a backslash and
 * the character it escapes (RFC 5545 allows both; some readers do not). */
static size_t fold_piece(const char *line, size_t pos, size_t n, size_t room)
{
	if(n - pos <= room)
		return n - pos;
	size_t cut = pos + room;
	while(cut > pos + 1 && ((unsigned char)line[cut] & 0xC0) == 0x80)
		cut--;
	size_t slashes = 0;
	while(cut - slashes > 0 && line[cut - slashes - 1] == '\\')
		slashes++;
	if(slashes % 2 == 1 && cut - 1 > pos)
		cut--;
	return cut - pos;
}

/* Appends text to b as content lines ending in CR LF, folded at
 * FOLD_OCTETS: folds already in text (a line end followed by a space or
 * tab) are undone first, and empty lines dropped. */
static void append_folded(struct otd_buf *b, const char *text, size_t len)
{
	char *logical = xmalloc(len + 1);
	size_t i = 0;
	while(i < len) {
		size_t n = 0;
		while(i < len) {
			size_t brk = 0;
			if(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
				brk = 2;
			else if(text[i] == '\n' || text[i] == '\r')
				brk = 1;
			if(!brk) {
				logical[n++] = text[i++];
				continue;
			}
			i += brk;
			if(i < len && (text[i] == ' ' || text[i] == '\t')) {
				i++; /* a fold: the line goes on */
				continue;
			}
			break;
		}
		if(n == 0)
			continue;
		size_t pos = 0;
		bool first = true;
		while(pos < n) {
			size_t room = first ? FOLD_OCTETS : FOLD_OCTETS - 1;
			size_t k = fold_piece(logical, pos, n, room);
			if(!first)
				otd_buf_append(b, " ", 1);
			otd_buf_append(b, logical + pos, k);
			otd_buf_append(b, "\r\n", 2);
			pos += k;
			first = false;
		}
	}
	free(logical);
}

enum otd_status otd_ics_render(const struct otd_ics_event *ev, enum otd_ics_method method,
                               const struct otd_tz *tz, const char *vtimezone, char **out,
                               struct otd_error *err)
{
	enum otd_status result;
	icalcomponent *cal = NULL;
	char *raw = NULL;

	*out = NULL;
	result = check_event(ev, method, err);
	if(result == OTD_OK)
		result = check_vtimezone(vtimezone, otd_tz_name(tz), err);
	if(result)
		return result;

	cal = icalcomponent_new_vcalendar();
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_prodid(PRODID));
	icalcomponent_add_property(
	    cal, icalproperty_new_method(method == OTD_ICS_PUBLISH   ? ICAL_METHOD_PUBLISH
	                                 : method == OTD_ICS_REQUEST ? ICAL_METHOD_REQUEST
	                                                             : ICAL_METHOD_CANCEL));
	icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent *vev = icalcomponent_new_vevent();
	icalcomponent_add_component(cal, vev);
	result = build_event(vev, ev, method, tz, err);
	if(result)
		goto out;

	/* The VTIMEZONE goes before the VEVENT, which is the calendar's only
	 * component; libical ends lines with CR LF. */
	raw = icalcomponent_as_ical_string_r(cal);
	const char *vevent_at = raw ? strstr(raw, "\r\nBEGIN:VEVENT\r\n") : NULL;
	if(!vevent_at) {
		result = otd_error_set(err, OTD_EINTERNAL, "ics_failed", NULL,
		                       "libical did not serialise the calendar invite.");
		goto out;
	}
	size_t head = (size_t)(vevent_at - raw) + 2;
	struct otd_buf b;
	otd_buf_init(&b, 0);
	append_folded(&b, raw, head);
	append_folded(&b, vtimezone, strlen(vtimezone));
	append_folded(&b, raw + head, strlen(raw + head));
	*out = otd_buf_steal(&b);
out:
	free(raw);
	icalcomponent_free(cal);
	return result;
}
