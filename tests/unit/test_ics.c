/* Unit tests: calendar invites (core/ics.c) and the VTIMEZONE text
 * (app/tzload.c). What a calendar reads: the structure and order, the
 * methods and their iTIP members, RFC 5545 escaping of names and text,
 * CR LF everywhere, folding at 75 octets without splitting a UTF-8
 * character or an escape, and local times in Europe/London on the days the
 * clocks change (expected values checked against zdump(8)). The files an
 * independent parser reads are made by tests/tools/ics_dump.c and checked
 * by tests/integration/test_ics_validate.py. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/ics.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "testutil.h"

#define ZOE "Zo\xc3\xab O'Brien-Nguy\xe1\xbb\x85n" /* Zoë O'Brien-Nguyễn */
#define HOSTILE "<img src=x onerror=alert(1)>"

/* Built once in the parent (unchecked fixture) before check forks. */
static struct otd_tz *london, *new_york;
static char *london_vtz, *new_york_vtz;

static void zones_setup(void)
{
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(
	    tzload_build("Europe/London", TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &london, &e), OTD_OK);
	ck_assert_int_eq(
	    tzload_build("America/New_York", TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &new_york, &e),
	    OTD_OK);
	ck_assert_int_eq(tzload_vtimezone("Europe/London", &london_vtz, &e), OTD_OK);
	ck_assert_int_eq(tzload_vtimezone("America/New_York", &new_york_vtz, &e), OTD_OK);
}

static void zones_teardown(void)
{
	otd_tz_free(london);
	otd_tz_free(new_york);
	free(london_vtz);
	free(new_york_vtz);
	tzload_shutdown();
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s: %s", s, e.message);
	return t;
}

/* A typical booking: 10:00 to 11:00 GMT on Tuesday 3 March 2026. */
static struct otd_ics_event sample(void)
{
	struct otd_ics_event ev = {
	    .uid = "appt-42@onthedot.example",
	    .sequence = 1,
	    .dtstamp = at("2026-03-02T09:00:00Z"),
	    .start = at("2026-03-03T10:00:00Z"),
	    .end = at("2026-03-03T11:00:00Z"),
	    .summary = "Planning visit",
	    .location = "12 High Street, Leeds LS1 4AB",
	    .description = "Priya, your planning officer, will visit.",
	    .url = "https://onthedot.example/a/Tok3n",
	    .organizer_name = "Sam Ortiz",
	    .organizer_email = "dispatch@council.example",
	    .attendee_name = ZOE,
	    .attendee_email = "zoe@example.org",
	};
	return ev;
}

static char *render(const struct otd_ics_event *ev, enum otd_ics_method m)
{
	char *out = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_ics_render(ev, m, london, london_vtz, &out, &e);
	ck_assert_msg(st == OTD_OK, "%s: %s", e.field, e.message);
	ck_assert_ptr_nonnull(out);
	return out;
}

static enum otd_status render_fails(const struct otd_ics_event *ev, enum otd_ics_method m,
                                    const char *field)
{
	char *out = (char *)"not touched";
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_ics_render(ev, m, london, london_vtz, &out, &e);
	ck_assert_msg(st != OTD_OK, "expected a failure on %s", field);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(e.field, field);
	ck_assert_str_eq(e.code, "bad_invite");
	return st;
}

/* The content lines of text, unfolded (RFC 5545 3.1). Checks on the way
 * that every physical line ends in CR LF, has at most 75 octets, is valid
 * UTF-8 on its own (no character split) and does not end inside an escape
 * pair. The caller frees the array and its strings. */
static char **lines_of(const char *text, size_t *n)
{
	size_t cap = 16, count = 0;
	char **v = xcalloc(cap, sizeof(*v));
	const char *p = text;
	ck_assert_msg(*p, "empty output");
	while(*p) {
		const char *crlf = strstr(p, "\r\n");
		ck_assert_msg(crlf, "a line without CR LF at the end: %.40s", p);
		size_t len = (size_t)(crlf - p);
		ck_assert_msg(!memchr(p, '\n', len) && !memchr(p, '\r', len),
		              "a bare CR or LF in: %.*s", (int)len, p);
		ck_assert_msg(len <= 75, "line of %zu octets: %.*s", len, (int)len, p);
		ck_assert_msg(len > 0, "an empty line");
		/* No character split: the piece starts and ends on boundaries. */
		const unsigned char *u = (const unsigned char *)p;
		ck_assert_msg((u[0] & 0xC0) != 0x80, "starts mid-character");
		if(p[0] == ' ')
			ck_assert_msg(len == 1 || (u[1] & 0xC0) != 0x80, "continues mid-character");
		size_t k = len;
		while(k > 0 && (u[k - 1] & 0xC0) == 0x80)
			k--;
		if(k > 0 && u[k - 1] >= 0xC0) {
			size_t need = u[k - 1] >= 0xF0 ? 4 : u[k - 1] >= 0xE0 ? 3 : 2;
			ck_assert_msg(len - (k - 1) == need, "ends mid-character: %.*s", (int)len,
			              p);
		}
		size_t slashes = 0;
		while(slashes < len && p[len - 1 - slashes] == '\\')
			slashes++;
		bool continued = crlf[2] == ' ';
		if(continued)
			ck_assert_msg(slashes % 2 == 0, "an escape split across lines: %.*s",
			              (int)len, p);
		if(p[0] == ' ') {
			ck_assert_msg(count > 0, "the first line is a continuation");
			char *prev = v[count - 1];
			char *joined = xasprintf("%s%.*s", prev, (int)len - 1, p + 1);
			free(prev);
			v[count - 1] = joined;
		} else {
			if(count == cap) {
				cap *= 2;
				v = xrealloc(v, cap * sizeof(*v));
			}
			v[count++] = xstrndup(p, len);
		}
		p = crlf + 2;
	}
	*n = count;
	return v;
}

static void free_lines(char **v, size_t n)
{
	for(size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Index of the first unfolded line equal to want (or starting with it,
 * when prefix), else -1. */
static long find_line(char **v, size_t n, const char *want, bool prefix)
{
	for(size_t i = 0; i < n; i++) {
		if(prefix ? strncmp(v[i], want, strlen(want)) == 0 : strcmp(v[i], want) == 0)
			return (long)i;
	}
	return -1;
}

static size_t count_prefix(char **v, size_t n, const char *prefix)
{
	size_t c = 0;
	for(size_t i = 0; i < n; i++)
		c += strncmp(v[i], prefix, strlen(prefix)) == 0;
	return c;
}

#define HAS(v, n, s) ck_assert_msg(find_line(v, n, s, false) >= 0, "missing line: %s", s)

START_TEST(request_has_every_member_in_order)
{
	struct otd_ics_event ev = sample();
	char *out = render(&ev, OTD_ICS_REQUEST);
	size_t n;
	char **v = lines_of(out, &n);
	static const char *const order[] = {
	    "BEGIN:VCALENDAR",
	    "VERSION:2.0",
	    "PRODID:-//onthedot//onthedot ",
	    "METHOD:REQUEST",
	    "CALSCALE:GREGORIAN",
	    "BEGIN:VTIMEZONE",
	    "TZID:Europe/London",
	    "END:VTIMEZONE",
	    "BEGIN:VEVENT",
	    "UID:appt-42@onthedot.example",
	    "SEQUENCE:1",
	    "DTSTAMP:20260302T090000Z",
	    "DTSTART;TZID=Europe/London:20260303T100000",
	    "DTEND;TZID=Europe/London:20260303T110000",
	    "SUMMARY:Planning visit",
	    "LOCATION:12 High Street\\, Leeds LS1 4AB",
	    "DESCRIPTION:Priya\\, your planning officer\\, will visit.",
	    "URL:https://onthedot.example/a/Tok3n",
	    "ORGANIZER;CN=Sam Ortiz:mailto:dispatch@council.example",
	    "ATTENDEE;CN=" ZOE ";RSVP=FALSE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:"
	    "mailto:zoe@example.org",
	    "STATUS:CONFIRMED",
	    "TRANSP:OPAQUE",
	    "END:VEVENT",
	    "END:VCALENDAR",
	};
	long prev = -1;
	for(size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		bool prefix = strncmp(order[i], "PRODID", 6) == 0;
		long k = find_line(v, n, order[i], prefix);
		ck_assert_msg(k > prev, "\"%s\" missing or out of order (at %ld, after %ld)",
		              order[i], k, prev);
		prev = k;
	}
	ck_assert_str_eq(v[0], "BEGIN:VCALENDAR");
	ck_assert_str_eq(v[n - 1], "END:VCALENDAR");
	ck_assert_uint_eq(count_prefix(v, n, "BEGIN:VEVENT"), 1);
	ck_assert_uint_eq(count_prefix(v, n, "BEGIN:VTIMEZONE"), 1);
	ck_assert_uint_eq(count_prefix(v, n, "METHOD:"), 1);
	ck_assert_uint_eq(count_prefix(v, n, "ATTENDEE"), 1);
	/* The output ends with CR LF and holds no NUL before its end. */
	size_t len = strlen(out);
	ck_assert(len > 2 && strcmp(out + len - 2, "\r\n") == 0);
	free_lines(v, n);
	free(out);
}
END_TEST

START_TEST(methods_sequence_uid_and_status)
{
	struct otd_ics_event ev = sample();
	/* PUBLISH: the "add to calendar" download, no attendee needed. */
	ev.attendee_email = NULL;
	ev.attendee_name = NULL;
	ev.sequence = 0;
	char *out = render(&ev, OTD_ICS_PUBLISH);
	size_t n;
	char **v = lines_of(out, &n);
	HAS(v, n, "METHOD:PUBLISH");
	HAS(v, n, "SEQUENCE:0");
	HAS(v, n, "STATUS:CONFIRMED");
	ck_assert_uint_eq(count_prefix(v, n, "ATTENDEE"), 0);
	ck_assert_uint_eq(count_prefix(v, n, "ORGANIZER"), 1);
	free_lines(v, n);
	free(out);
	/* PUBLISH without an organizer either. */
	ev.organizer_email = NULL;
	out = render(&ev, OTD_ICS_PUBLISH);
	v = lines_of(out, &n);
	ck_assert_uint_eq(count_prefix(v, n, "ORGANIZER"), 0);
	free_lines(v, n);
	free(out);

	/* REQUEST with SEQUENCE 1, then a reschedule with SEQUENCE 3. */
	for(int seq = 1; seq <= 3; seq += 2) {
		ev = sample();
		ev.sequence = seq;
		out = render(&ev, OTD_ICS_REQUEST);
		v = lines_of(out, &n);
		HAS(v, n, "METHOD:REQUEST");
		HAS(v, n, "UID:appt-42@onthedot.example");
		char want[32];
		snprintf(want, sizeof(want), "SEQUENCE:%d", seq);
		HAS(v, n, want);
		HAS(v, n, "STATUS:CONFIRMED");
		free_lines(v, n);
		free(out);
	}

	/* CANCEL: the same UID, the SEQUENCE given, STATUS:CANCELLED. */
	ev = sample();
	ev.sequence = 4;
	out = render(&ev, OTD_ICS_CANCEL);
	v = lines_of(out, &n);
	HAS(v, n, "METHOD:CANCEL");
	HAS(v, n, "UID:appt-42@onthedot.example");
	HAS(v, n, "SEQUENCE:4");
	HAS(v, n, "STATUS:CANCELLED");
	HAS(v, n, "TRANSP:OPAQUE");
	ck_assert_uint_eq(count_prefix(v, n, "ATTENDEE;CN="), 1);
	ck_assert_uint_eq(count_prefix(v, n, "ORGANIZER;CN="), 1);
	ck_assert_uint_eq(count_prefix(v, n, "STATUS:"), 1);
	free_lines(v, n);
	free(out);

	ck_assert_str_eq(otd_ics_method_name(OTD_ICS_PUBLISH), "PUBLISH");
	ck_assert_str_eq(otd_ics_method_name(OTD_ICS_REQUEST), "REQUEST");
	ck_assert_str_eq(otd_ics_method_name(OTD_ICS_CANCEL), "CANCEL");
}
END_TEST

START_TEST(request_and_cancel_need_organizer_and_attendee)
{
	struct otd_ics_event ev = sample();
	ev.attendee_email = NULL;
	render_fails(&ev, OTD_ICS_REQUEST, "attendee_email");
	render_fails(&ev, OTD_ICS_CANCEL, "attendee_email");
	ev = sample();
	ev.organizer_email = "";
	render_fails(&ev, OTD_ICS_REQUEST, "organizer_email");
	render_fails(&ev, OTD_ICS_CANCEL, "organizer_email");
	ev = sample();
	ev.uid = NULL;
	render_fails(&ev, OTD_ICS_PUBLISH, "uid");
	ev = sample();
	ev.summary = "";
	render_fails(&ev, OTD_ICS_PUBLISH, "summary");
	ev = sample();
	ev.sequence = -1;
	render_fails(&ev, OTD_ICS_REQUEST, "sequence");
	ev = sample();
	ev.end = ev.start;
	render_fails(&ev, OTD_ICS_REQUEST, "end");
	ev = sample();
	render_fails(&ev, (enum otd_ics_method)7, "method");
	ev = sample();
	ev.start = -5000000000; /* 1811 */
	render_fails(&ev, OTD_ICS_REQUEST, "start");
}
END_TEST

START_TEST(text_is_escaped_and_names_stay_as_typed)
{
	struct otd_ics_event ev = sample();
	ev.summary = "Boiler; annual, check \\ gas";
	ev.location = "Flat 2\r\n12 High St, Leeds\rLS1";
	ev.description = "Line one\nLine two; with, commas \\ and a \"quote\"\tand a tab";
	ev.attendee_name = HOSTILE;
	ev.organizer_name = ZOE;
	char *out = render(&ev, OTD_ICS_REQUEST);
	size_t n;
	char **v = lines_of(out, &n);
	HAS(v, n, "SUMMARY:Boiler\\; annual\\, check \\\\ gas");
	HAS(v, n, "LOCATION:Flat 2\\n12 High St\\, Leeds\\nLS1");
	HAS(v, n,
	    "DESCRIPTION:Line one\\nLine two\\; with\\, commas \\\\ and a \"quote\"\tand a tab");
	HAS(v, n, "ORGANIZER;CN=" ZOE ":mailto:dispatch@council.example");
	HAS(v, n,
	    "ATTENDEE;CN=" HOSTILE ";RSVP=FALSE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:"
	    "mailto:zoe@example.org");
	free_lines(v, n);
	free(out);

	/* A CN with ';', ':' or ',' is quoted; '"' and '^' are RFC 6868
	 * encoded (libical 3.0 does '"', ics.c adds '^'). */
	ev = sample();
	ev.attendee_name = "O'Brien; Zo\xc3\xab: Dr, \"Z\" ^ ^'";
	out = render(&ev, OTD_ICS_REQUEST);
	v = lines_of(out, &n);
	HAS(v, n,
	    "ATTENDEE;CN=\"O'Brien; Zo\xc3\xab: Dr, ^'Z^' ^^ ^^'\";RSVP=FALSE;"
	    "ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:zoe@example.org");
	free_lines(v, n);
	free(out);
}
END_TEST

START_TEST(bad_text_and_addresses_are_refused)
{
	struct otd_ics_event ev = sample();
	/* A line break in a one-line value would start a new property. */
	ev.uid = "x\r\nATTENDEE:mailto:evil@example.org";
	render_fails(&ev, OTD_ICS_REQUEST, "uid");
	ev = sample();
	ev.attendee_name = "Zo\xc3 O'Brien"; /* cut UTF-8 */
	render_fails(&ev, OTD_ICS_REQUEST, "attendee_name");
	ev = sample();
	ev.organizer_name = "Sam\nOrtiz";
	render_fails(&ev, OTD_ICS_REQUEST, "organizer_name");
	ev = sample();
	ev.summary = "Visit\x01";
	render_fails(&ev, OTD_ICS_REQUEST, "summary");
	ev = sample();
	ev.description = "\xed\xa0\x80 surrogate";
	render_fails(&ev, OTD_ICS_REQUEST, "description");
	static const char *const bad_emails[] = {"zoe",
	                                         "@example.org",
	                                         "zoe@",
	                                         "zoe@@example.org",
	                                         "zoe @example.org",
	                                         "zoe@example.org\r\nX:1",
	                                         "zoe@example.org;RSVP=TRUE",
	                                         "\"zoe\"@example.org",
	                                         "zoe@example.org>"};
	for(size_t i = 0; i < sizeof(bad_emails) / sizeof(bad_emails[0]); i++) {
		ev = sample();
		ev.attendee_email = bad_emails[i];
		render_fails(&ev, OTD_ICS_REQUEST, "attendee_email");
	}
	ev = sample();
	ev.url = "https://x.example/a b";
	render_fails(&ev, OTD_ICS_REQUEST, "url");
	/* Too long: an error, never a cut. */
	char *big = xmalloc(OTD_ICS_TEXT_MAX + 2);
	memset(big, 'a', OTD_ICS_TEXT_MAX + 1);
	big[OTD_ICS_TEXT_MAX + 1] = '\0';
	ev = sample();
	ev.description = big;
	ck_assert_int_eq(render_fails(&ev, OTD_ICS_REQUEST, "description"), OTD_ETOOBIG);
	big[OTD_ICS_TEXT_MAX] = '\0';
	char *out = render(&ev, OTD_ICS_REQUEST);
	free(out);
	free(big);
}
END_TEST

/* Every split position: a description whose escapes and multi-byte
 * characters fall on the 75th octet at some prefix length. lines_of checks
 * the folding; the unfolded line must be the exact escaped text. */
START_TEST(folding_never_splits_a_character_or_an_escape)
{
	static const char *const pieces[] = {
	    "\xc3\xab", "\xe1\xbb\x85", "\xf0\x9f\x99\x82", "\\", ",", ";", "\n", "a"};
	static const char *const escaped[] = {
	    "\xc3\xab", "\xe1\xbb\x85", "\xf0\x9f\x99\x82", "\\\\", "\\,", "\\;", "\\n", "a"};
	for(size_t pad = 0; pad < 80; pad++) {
		for(size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			struct otd_buf d, want;
			otd_buf_init(&d, 0);
			otd_buf_init(&want, 0);
			otd_buf_puts(&want, "DESCRIPTION:");
			for(size_t i = 0; i < pad; i++) {
				otd_buf_puts(&d, "x");
				otd_buf_puts(&want, "x");
			}
			for(int rep = 0; rep < 60; rep++) {
				otd_buf_puts(&d, pieces[k]);
				otd_buf_puts(&want, escaped[k]);
			}
			struct otd_ics_event ev = sample();
			ev.description = d.data;
			char *out = render(&ev, OTD_ICS_REQUEST);
			size_t n;
			char **v = lines_of(out, &n);
			ck_assert_msg(find_line(v, n, want.data, false) >= 0,
			              "pad %zu piece %zu: the unfolded DESCRIPTION differs", pad,
			              k);
			free_lines(v, n);
			free(out);
			otd_buf_cleanup(&d);
			otd_buf_cleanup(&want);
		}
	}
	/* A line of exactly 75 octets is not folded; 76 is. */
	struct otd_ics_event ev = sample();
	char s75[80];
	memset(s75, 'y', sizeof(s75));
	s75[75 - strlen("SUMMARY:")] = '\0';
	ev.summary = s75;
	char *out = render(&ev, OTD_ICS_REQUEST);
	char *line = strstr(out, "\r\nSUMMARY:");
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(strchr(line + 2, '\r') - (line + 2), 75);
	ck_assert_int_ne(line[2 + 75 + 2], ' ');
	free(out);
	s75[75 - strlen("SUMMARY:")] = 'y';
	s75[76 - strlen("SUMMARY:")] = '\0';
	out = render(&ev, OTD_ICS_REQUEST);
	line = strstr(out, "\r\nSUMMARY:");
	ck_assert(strncmp(line + 2 + 75, "\r\n y\r\n", 6) == 0);
	free(out);
}
END_TEST

static void assert_times(int64_t start, int64_t end, const char *dtstart, const char *dtend)
{
	struct otd_ics_event ev = sample();
	ev.start = start;
	ev.end = end;
	char *out = render(&ev, OTD_ICS_REQUEST);
	size_t n;
	char **v = lines_of(out, &n);
	ck_assert_msg(find_line(v, n, dtstart, false) >= 0, "want %s in\n%s", dtstart, out);
	ck_assert_msg(find_line(v, n, dtend, false) >= 0, "want %s in\n%s", dtend, out);
	long vevent = find_line(v, n, "BEGIN:VEVENT", false);
	ck_assert_int_ge(vevent, 0);
	ck_assert_uint_eq(count_prefix(v + vevent, n - (size_t)vevent, "DTSTART"), 1);
	ck_assert_uint_eq(count_prefix(v + vevent, n - (size_t)vevent, "DTEND"), 1);
	free_lines(v, n);
	free(out);
}

START_TEST(local_times_across_the_spring_change)
{
	/* Sunday 29 March 2026: 01:00 GMT becomes 02:00 BST. */
	assert_times(at("2026-03-28T10:00:00Z"), at("2026-03-28T11:00:00Z"),
	             "DTSTART;TZID=Europe/London:20260328T100000",
	             "DTEND;TZID=Europe/London:20260328T110000");
	assert_times(at("2026-03-29T00:30:00Z"), at("2026-03-29T01:30:00Z"),
	             "DTSTART;TZID=Europe/London:20260329T003000",
	             "DTEND;TZID=Europe/London:20260329T023000");
	assert_times(at("2026-03-29T09:00:00Z"), at("2026-03-29T10:00:00Z"),
	             "DTSTART;TZID=Europe/London:20260329T100000",
	             "DTEND;TZID=Europe/London:20260329T110000");
	assert_times(at("2026-03-30T09:00:00Z"), at("2026-03-30T10:00:00Z"),
	             "DTSTART;TZID=Europe/London:20260330T100000",
	             "DTEND;TZID=Europe/London:20260330T110000");
}
END_TEST

START_TEST(local_times_across_the_autumn_change)
{
	/* Sunday 25 October 2026: 02:00 BST becomes 01:00 GMT; 01:00 to
	 * 01:59:59 happen twice and are written in UTC. */
	assert_times(at("2026-10-24T09:00:00Z"), at("2026-10-24T10:00:00Z"),
	             "DTSTART;TZID=Europe/London:20261024T100000",
	             "DTEND;TZID=Europe/London:20261024T110000");
	assert_times(at("2026-10-24T23:30:00Z"), at("2026-10-25T00:00:00Z"),
	             "DTSTART;TZID=Europe/London:20261025T003000", "DTEND:20261025T000000Z");
	assert_times(at("2026-10-25T00:30:00Z"), at("2026-10-25T01:30:00Z"),
	             "DTSTART:20261025T003000Z", "DTEND:20261025T013000Z");
	assert_times(at("2026-10-25T01:30:00Z"), at("2026-10-25T02:00:00Z"),
	             "DTSTART:20261025T013000Z", "DTEND;TZID=Europe/London:20261025T020000");
	assert_times(at("2026-10-25T10:00:00Z"), at("2026-10-25T11:00:00Z"),
	             "DTSTART;TZID=Europe/London:20261025T100000",
	             "DTEND;TZID=Europe/London:20261025T110000");
}
END_TEST

START_TEST(vtimezone_must_match_the_zone)
{
	struct otd_ics_event ev = sample();
	char *out = (char *)"x";
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_ics_render(&ev, OTD_ICS_REQUEST, london, new_york_vtz, &out, &e),
	                 OTD_EINVAL);
	ck_assert_str_eq(e.field, "vtimezone");
	ck_assert_ptr_null(out);
	ck_assert_int_eq(otd_ics_render(&ev, OTD_ICS_REQUEST, london, NULL, &out, &e), OTD_EINVAL);
	ck_assert_int_eq(
	    otd_ics_render(&ev, OTD_ICS_REQUEST, london, "TZID:Europe/London", &out, &e),
	    OTD_EINVAL);
	ck_assert_int_eq(otd_ics_render(&ev, OTD_ICS_REQUEST, london,
	                                "BEGIN:VTIMEZONE\nTZID:Europe/London\nBEGIN:VEVENT\n"
	                                "END:VEVENT\nEND:VTIMEZONE\n",
	                                &out, &e),
	                 OTD_EINVAL);
	/* LF-only and folded text is accepted and comes out in CR LF. */
	ck_assert_int_eq(otd_ics_render(&ev, OTD_ICS_REQUEST, london,
	                                "BEGIN:VTIMEZONE\nTZID:Europe/London\nBEGIN:STANDARD\n"
	                                "TZOFFSETFROM:+0000\nTZOFFSETTO:+0000\nDTSTART:1970\n"
	                                " 0101T000000\nEND:STANDARD\nEND:VTIMEZONE\n",
	                                &out, &e),
	                 OTD_OK);
	ck_assert_ptr_nonnull(strstr(out, "\r\nDTSTART:19700101T000000\r\nEND:STANDARD\r\n"));
	free(out);
	/* New York's own zone and text go together. */
	ck_assert_int_eq(otd_ics_render(&ev, OTD_ICS_REQUEST, new_york, new_york_vtz, &out, &e),
	                 OTD_OK);
	ck_assert_ptr_nonnull(strstr(out, "\r\nDTSTART;TZID=America/New_York:20260303T050000\r\n"));
	free(out);
}
END_TEST

START_TEST(vtimezone_text_is_trimmed_and_named)
{
	ck_assert_ptr_nonnull(strstr(london_vtz, "BEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n"));
	ck_assert_ptr_null(strstr(london_vtz, "freeassociation"));
	ck_assert_ptr_null(strstr(london_vtz, "X-LIC-LOCATION"));
	ck_assert_ptr_null(strstr(london_vtz, "DTSTART:1916"));
	ck_assert_ptr_null(strstr(london_vtz, "BDST"));
	/* The rules in force now: last Sunday of March and of October. */
	ck_assert_ptr_nonnull(strstr(london_vtz, "BYDAY=-1SU;BYMONTH=3"));
	ck_assert_ptr_nonnull(strstr(london_vtz, "BYDAY=-1SU;BYMONTH=10"));
	ck_assert_ptr_nonnull(strstr(london_vtz, "TZOFFSETTO:+0100"));
	ck_assert_uint_lt(strlen(london_vtz), 2000);

	struct otd_error e;
	char *text = NULL;
	ck_assert_int_eq(tzload_vtimezone("UTC", &text, &e), OTD_OK);
	ck_assert_ptr_nonnull(strstr(text, "TZID:UTC\r\n"));
	ck_assert_ptr_nonnull(strstr(text, "TZOFFSETTO:+0000\r\n"));
	free(text);
	/* No DST since 1951: one observance, the one in force. */
	ck_assert_int_eq(tzload_vtimezone("Asia/Tokyo", &text, &e), OTD_OK);
	ck_assert_ptr_nonnull(strstr(text, "TZID:Asia/Tokyo\r\n"));
	const char *obs = strstr(text, "BEGIN:STANDARD");
	ck_assert_ptr_nonnull(obs);
	ck_assert_ptr_null(strstr(obs + 1, "BEGIN:STANDARD"));
	ck_assert_ptr_null(strstr(text, "BEGIN:DAYLIGHT"));
	ck_assert_ptr_nonnull(strstr(text, "TZOFFSETTO:+0900\r\n"));
	free(text);
	ck_assert_int_eq(tzload_vtimezone("Mars/Olympus_Mons", &text, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "unknown_time_zone");
	ck_assert_ptr_null(text);
	ck_assert_int_eq(tzload_vtimezone("../etc/passwd", &text, &e), OTD_EINVAL);
}
END_TEST

/* Several threads render at once (as request threads will) and get what
 * one thread gets. */
struct worker {
	const char *want;
	int failures;
};

static void *render_many(void *arg)
{
	struct worker *w = arg;
	for(int i = 0; i < 200; i++) {
		struct otd_ics_event ev = sample();
		ev.attendee_name = i % 2 ? ZOE : HOSTILE;
		char *out = NULL;
		struct otd_error e;
		if(otd_ics_render(&ev, OTD_ICS_REQUEST, london, london_vtz, &out, &e) != OTD_OK ||
		   (i % 2 && strcmp(out, w->want) != 0))
			w->failures++;
		free(out);
	}
	return NULL;
}

START_TEST(rendering_is_thread_safe)
{
	struct otd_ics_event ev = sample();
	char *want = render(&ev, OTD_ICS_REQUEST);
	pthread_t t[4];
	struct worker w[4];
	for(int i = 0; i < 4; i++) {
		w[i] = (struct worker){want, 0};
		ck_assert_int_eq(pthread_create(&t[i], NULL, render_many, &w[i]), 0);
	}
	for(int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].failures, 0);
	}
	free(want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ics");
	TCase *tc = tcase_create("ics");
	tcase_add_unchecked_fixture(tc, zones_setup, zones_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, request_has_every_member_in_order);
	tcase_add_test(tc, methods_sequence_uid_and_status);
	tcase_add_test(tc, request_and_cancel_need_organizer_and_attendee);
	tcase_add_test(tc, text_is_escaped_and_names_stay_as_typed);
	tcase_add_test(tc, bad_text_and_addresses_are_refused);
	tcase_add_test(tc, folding_never_splits_a_character_or_an_escape);
	tcase_add_test(tc, local_times_across_the_spring_change);
	tcase_add_test(tc, local_times_across_the_autumn_change);
	tcase_add_test(tc, vtimezone_must_match_the_zone);
	tcase_add_test(tc, vtimezone_text_is_trimmed_and_named);
	tcase_add_test(tc, rendering_is_thread_safe);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
