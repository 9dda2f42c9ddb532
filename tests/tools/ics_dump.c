/* ics_dump DIR: writes sample calendar invites into DIR, one file each, for
 * the independent validators (python3-icalendar, python3-vobject) in
 * tests/integration/test_ics_validate.py. The samples are fixed: that test
 * holds the same table of UIDs, methods, sequences, names, texts and UTC
 * instants, and checks that each parser reads them back.
 *
 *   publish.ics          the "add to calendar" download, no attendee
 *   request-seq1.ics     booked on the spring change day (29 March 2026)
 *   request-seq3.ics     rescheduled to the autumn change day (25 October)
 *   cancel.ics           the same UID, SEQUENCE 4, STATUS:CANCELLED
 *   request-gap.ics      a window across the missing hour
 *   request-overlap.ics  a window inside the repeated hour (UTC times)
 *   tz-ZONE.ics          a PUBLISH in other zones, to check the VTIMEZONE
 *
 * Exit status 0 when every file was written. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/ics.h"
#include "onthedot/tz.h"

#define ZOE "Zo\xc3\xab O'Brien-Nguy\xe1\xbb\x85n"
#define HOSTILE "<img src=x onerror=alert(1)>"
#define UID "appt-42@onthedot.example"

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	if(otd_rfc3339_parse(s, &t, &e) != OTD_OK) {
		fprintf(stderr, "ics_dump: %s: %s\n", s, e.message);
		exit(1);
	}
	return t;
}

static int write_one(const char *dir, const char *name, const struct otd_ics_event *ev,
                     enum otd_ics_method m, const struct otd_tz *tz, const char *vtz)
{
	char *text = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	if(otd_ics_render(ev, m, tz, vtz, &text, &e) != OTD_OK) {
		fprintf(stderr, "ics_dump: %s: %s (%s)\n", name, e.message, e.field);
		return 1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	int rc = 0;
	if(!f || fputs(text, f) == EOF || fclose(f) != 0) {
		fprintf(stderr, "ics_dump: cannot write %s: %s\n", path, strerror(errno));
		rc = 1;
	} else {
		printf("%s\n", path);
	}
	free(text);
	return rc;
}

static const struct otd_ics_event base = {
    .uid = UID,
    .sequence = 1,
    .summary = "Planning visit: extension, rear; 2 storeys",
    .location = "Flat 2\n12 High Street, Leeds LS1 4AB",
    .url = "https://onthedot.example/a/Tok3n-x_9",
    .organizer_name = "Sam Ortiz, Planning",
    .organizer_email = "dispatch@council.example",
    .attendee_name = ZOE,
    .attendee_email = "zoe@example.org",
};

#define DESCRIPTION                                                                                \
	"Priya, your planning officer, will visit; she brings ID.\n"                               \
	"Access: side gate \\ code 1234.\n"                                                        \
	"Manage or move your visit: https://onthedot.example/a/Tok3n-x_9\n"                        \
	"Nous vous pr\xc3\xa9venons si elle est en retard \xe2\x80\x94 "                           \
	"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9"     \
	"\xe3\x83\x88 \xf0\x9f\x99\x82 " ZOE

static int london_samples(const char *dir)
{
	struct otd_tz *tz = NULL;
	char *vtz = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	if(tzload_build("Europe/London", TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &tz, &e) != OTD_OK ||
	   tzload_vtimezone("Europe/London", &vtz, &e) != OTD_OK) {
		fprintf(stderr, "ics_dump: Europe/London: %s\n", e.message);
		otd_tz_free(tz);
		return 1;
	}
	int rc = 0;
	struct otd_ics_event ev = base;

	ev.sequence = 0;
	ev.dtstamp = at("2026-03-02T09:00:00Z");
	ev.start = at("2026-03-03T10:00:00Z");
	ev.end = at("2026-03-03T11:00:00Z");
	ev.description = "Priya, your planning officer, will visit.";
	ev.attendee_name = NULL;
	ev.attendee_email = NULL;
	rc |= write_one(dir, "publish.ics", &ev, OTD_ICS_PUBLISH, tz, vtz);

	ev = base;
	ev.sequence = 1;
	ev.dtstamp = at("2026-03-20T16:45:10Z");
	ev.start = at("2026-03-29T09:00:00Z"); /* 10:00 BST, the first day of summer time */
	ev.end = at("2026-03-29T10:00:00Z");
	ev.description = DESCRIPTION;
	rc |= write_one(dir, "request-seq1.ics", &ev, OTD_ICS_REQUEST, tz, vtz);

	ev = base;
	ev.sequence = 3;
	ev.dtstamp = at("2026-10-20T08:00:00Z");
	ev.start = at("2026-10-25T10:00:00Z"); /* 10:00 GMT, the first day of winter time */
	ev.end = at("2026-10-25T11:00:00Z");
	ev.description = DESCRIPTION;
	ev.attendee_name = HOSTILE;
	ev.organizer_name = ZOE;
	rc |= write_one(dir, "request-seq3.ics", &ev, OTD_ICS_REQUEST, tz, vtz);

	ev.sequence = 4;
	ev.dtstamp = at("2026-10-21T08:00:00Z");
	rc |= write_one(dir, "cancel.ics", &ev, OTD_ICS_CANCEL, tz, vtz);

	ev = base;
	ev.uid = "appt-43@onthedot.example";
	ev.sequence = 1;
	ev.dtstamp = at("2026-03-20T16:45:10Z");
	ev.start = at("2026-03-29T00:30:00Z"); /* 00:30 GMT */
	ev.end = at("2026-03-29T01:30:00Z");   /* 02:30 BST */
	ev.description = "Across the missing hour.";
	rc |= write_one(dir, "request-gap.ics", &ev, OTD_ICS_REQUEST, tz, vtz);

	ev.uid = "appt-44@onthedot.example";
	ev.dtstamp = at("2026-10-20T08:00:00Z");
	ev.start = at("2026-10-25T00:30:00Z"); /* 01:30 BST */
	ev.end = at("2026-10-25T01:30:00Z");   /* 01:30 GMT */
	ev.description = "Inside the repeated hour.";
	rc |= write_one(dir, "request-overlap.ics", &ev, OTD_ICS_REQUEST, tz, vtz);

	free(vtz);
	otd_tz_free(tz);
	return rc;
}

static int zone_sample(const char *dir, const char *zone)
{
	struct otd_tz *tz = NULL;
	char *vtz = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	if(tzload_build(zone, TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &tz, &e) != OTD_OK ||
	   tzload_vtimezone(zone, &vtz, &e) != OTD_OK) {
		fprintf(stderr, "ics_dump: %s: %s\n", zone, e.message);
		otd_tz_free(tz);
		return 1;
	}
	char name[128];
	snprintf(name, sizeof(name), "tz-%s.ics", zone);
	for(char *p = name; *p; p++)
		if(*p == '/')
			*p = '_';
	struct otd_ics_event ev = base;
	ev.uid = "zone-sample@onthedot.example";
	ev.sequence = 0;
	ev.dtstamp = at("2026-03-01T00:00:00Z");
	ev.start = at("2026-07-01T09:00:00Z");
	ev.end = at("2026-07-01T10:00:00Z");
	ev.description = NULL;
	int rc = write_one(dir, name, &ev, OTD_ICS_PUBLISH, tz, vtz);
	free(vtz);
	otd_tz_free(tz);
	return rc;
}

int main(int argc, char **argv)
{
	if(argc != 2) {
		fprintf(stderr, "usage: ics_dump DIR\n");
		return 2;
	}
	static const char *const zones[] = {"Europe/London",       "America/New_York",
	                                    "Australia/Lord_Howe", "Asia/Tokyo",
	                                    "America/Sao_Paulo",   "UTC"};
	int rc = london_samples(argv[1]);
	for(size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		rc |= zone_sample(argv[1], zones[i]);
	tzload_shutdown();
	return rc ? 1 : 0;
}
