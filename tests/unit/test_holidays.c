/* Unit tests: bank holidays. The parser (core/holidays.c) on the example
 * file and on every rule in onthedot/holidays.h (dates, DATE-TIME at
 * midnight, multi-day events, yearly RRULEs with EXDATE and RDATE, names,
 * duplicates, limits, and the problems it must name); then the store and
 * the app over a temporary database: the import replaces the whole set,
 * is all or nothing and audited, and dates read back by range. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/holidays.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/holidays.h"
#include "onthedot/mem.h"
#include "store/holidays.h"
#include "store/store.h"
#include "testutil.h"

/* ---- parser ------------------------------------------------------------ */

static char *example(size_t *len)
{
	const char *src = getenv("OTD_SOURCE_DIR");
	char *path = xasprintf("%s/contrib/examples/bank-holidays-england-wales.ics",
	                       src && *src ? src : ".");
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f, "cannot open %s", path);
	free(path);
	char *data = xmalloc(65536);
	*len = fread(data, 1, 65535, f);
	fclose(f);
	data[*len] = '\0';
	return data;
}

/* A calendar around the given VEVENT lines (LF line ends; libical takes
 * both). */
static char *cal(const char *events)
{
	return xasprintf("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n%sEND:VCALENDAR\n",
	                 events);
}

static struct otd_holiday *parse_ok(const char *text, size_t *n)
{
	struct otd_holiday *h = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_holidays_parse(text, strlen(text), &h, n, &e);
	ck_assert_msg(st == OTD_OK, "%s", e.message);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_ge(*n, 1);
	return h;
}

/* Parses text and expects failure st with a message holding want. */
static void parse_fails(const char *text, enum otd_status st, const char *want)
{
	struct otd_holiday *h = (struct otd_holiday *)1;
	size_t n = 99;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_holidays_parse(text, strlen(text), &h, &n, &e), st);
	ck_assert_ptr_null(h);
	ck_assert_uint_eq(n, 0);
	ck_assert_msg(strstr(e.message, want), "want \"%s\" in: %s", want, e.message);
	ck_assert_str_eq(e.code, st == OTD_ETOOBIG ? "too_many_holidays" : "bad_holidays");
	ck_assert_str_eq(e.field, "");
}

/* The dates of text joined by ' ', for compact expectations. */
static char *dates_of(const char *events)
{
	char *text = cal(events);
	size_t n;
	struct otd_holiday *h = parse_ok(text, &n);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	for(size_t i = 0; i < n; i++)
		otd_buf_printf(&b, "%s%s", i ? " " : "", h[i].date);
	free(h);
	free(text);
	return otd_buf_steal(&b);
}

#define ASSERT_DATES(events, want)                                                                 \
	do {                                                                                       \
		char *got_ = dates_of(events);                                                     \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

#define EV(body) "BEGIN:VEVENT\nUID:x@test\n" body "END:VEVENT\n"

START_TEST(example_file_has_the_2026_and_2027_bank_holidays)
{
	size_t len, n;
	char *data = example(&len);
	struct otd_holiday *h = NULL;
	struct otd_error e;
	ck_assert_int_eq(otd_holidays_parse(data, len, &h, &n, &e), OTD_OK);
	static const char *const want[][2] = {
	    {"2026-01-01", "New Year\xe2\x80\x99s Day"},
	    {"2026-04-03", "Good Friday"},
	    {"2026-04-06", "Easter Monday"},
	    {"2026-05-04", "Early May bank holiday"},
	    {"2026-05-25", "Spring bank holiday"},
	    {"2026-08-31", "Summer bank holiday"},
	    {"2026-12-25", "Christmas Day"},
	    {"2026-12-28", "Boxing Day (substitute day)"},
	    {"2027-01-01", "New Year\xe2\x80\x99s Day"},
	    {"2027-03-26", "Good Friday"},
	    {"2027-03-29", "Easter Monday"},
	    {"2027-05-03", "Early May bank holiday"},
	    {"2027-05-31", "Spring bank holiday"},
	    {"2027-08-30", "Summer bank holiday"},
	    {"2027-12-27", "Christmas Day (substitute day)"},
	    {"2027-12-28", "Boxing Day (substitute day)"},
	};
	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
	for(size_t i = 0; i < n; i++) {
		ck_assert_str_eq(h[i].date, want[i][0]);
		ck_assert_str_eq(h[i].name, want[i][1]);
	}
	free(h);
	free(data);
}
END_TEST

START_TEST(plain_dates_line_ends_folds_and_bom)
{
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20261225\nSUMMARY:Christmas Day\n"), "2026-12-25");
	/* VALUE=DATE may be left out; DTEND the next day is one day. */
	ASSERT_DATES(EV("DTSTART:20261225\nDTEND:20261226\n"), "2026-12-25");
	/* CR LF, a folded SUMMARY and a byte order mark. */
	size_t n;
	struct otd_holiday *h =
	    parse_ok("\xEF\xBB\xBF"
	             "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a\r\n"
	             "DTSTART;VALUE=DATE:20260101\r\nSUMMARY:New Year\r\n \xe2\x80\x99s Day\r\n"
	             "END:VEVENT\r\nEND:VCALENDAR\r\n",
	             &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(h[0].name, "New Year\xe2\x80\x99s Day");
	free(h);
}
END_TEST

START_TEST(names_are_cleaned_and_defaulted)
{
	size_t n;
	/* clang-format off */
	static const char events[] =
	    EV("DTSTART;VALUE=DATE:20260101\nSUMMARY:  Line\\none\\, two\t \n")
	    EV("DTSTART;VALUE=DATE:20260102\n")
	    EV("DTSTART;VALUE=DATE:20260103\nSUMMARY:\n");
	/* clang-format on */
	char *text = cal(events);
	struct otd_holiday *h = parse_ok(text, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(h[0].name, "Line one, two");
	ck_assert_str_eq(h[1].name, "Holiday");
	ck_assert_str_eq(h[2].name, "Holiday");
	free(h);
	free(text);

	char name[260];
	memset(name, 'n', sizeof(name));
	name[200] = '\0';
	char *ev = xasprintf(EV("DTSTART;VALUE=DATE:20260101\nSUMMARY:%s\n"), name);
	text = cal(ev);
	h = parse_ok(text, &n);
	ck_assert_uint_eq(strlen(h[0].name), 200);
	free(h);
	free(text);
	free(ev);
	name[200] = 'n';
	name[201] = '\0';
	ev = xasprintf(EV("DTSTART;VALUE=DATE:20260101\nSUMMARY:%s\n"), name);
	text = cal(ev);
	parse_fails(text, OTD_EINVAL, "SUMMARY is longer than 200 bytes");
	free(text);
	free(ev);
	text = cal(EV("DTSTART;VALUE=DATE:20260101\nSUMMARY:Zo\xc3 bad\n"));
	parse_fails(text, OTD_EINVAL, "not valid UTF-8");
	free(text);
}
END_TEST

START_TEST(midnight_date_times_count_utc_and_other_times_do_not)
{
	ASSERT_DATES(EV("DTSTART:20261225T000000\nDTEND:20261227T000000\n"),
	             "2026-12-25 2026-12-26");
	ASSERT_DATES(EV("DTSTART;TZID=Europe/London:20261225T000000\n"), "2026-12-25");
	char *text = cal(EV("DTSTART:20261225T000000Z\n"));
	parse_fails(text, OTD_EINVAL, "DTSTART is a UTC time");
	free(text);
	text = cal(EV("DTSTART;TZID=Europe/London:20261225T090000\n"));
	parse_fails(text, OTD_EINVAL, "not midnight");
	free(text);
	text = cal(EV("DTSTART;VALUE=DATE:20261225\nDTEND:20261226T120000\n"));
	parse_fails(text, OTD_EINVAL, "DTEND is at 12:00:00");
	free(text);
}
END_TEST

START_TEST(multi_day_events_cover_each_date)
{
	/* DTEND is exclusive: the 24th to the 28th. */
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261229\n"),
	             "2026-12-24 2026-12-25 2026-12-26 2026-12-27 2026-12-28");
	/* Across a year end, and a month end in a leap year. */
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20261231\nDURATION:P2D\n"), "2026-12-31 2027-01-01");
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20280228\nDURATION:P2D\n"), "2028-02-28 2028-02-29");
	char *got = dates_of(EV("DTSTART;VALUE=DATE:20260803\nDURATION:P1W\n"));
	ck_assert_str_eq(got, "2026-08-03 2026-08-04 2026-08-05 2026-08-06 2026-08-07 "
	                      "2026-08-08 2026-08-09");
	free(got);

	static const struct {
		const char *events, *want;
	} bad[] = {
	    {EV("DTSTART;VALUE=DATE:20261225\nDTEND;VALUE=DATE:20261225\n"),
	     "DTEND 2026-12-25 is not after DTSTART 2026-12-25"},
	    {EV("DTSTART;VALUE=DATE:20261225\nDTEND;VALUE=DATE:20261220\n"), "is not after"},
	    {EV("DTSTART;VALUE=DATE:20260101\nDTEND;VALUE=DATE:20260301\n"),
	     "lasts 59 days; one event may cover at most 31"},
	    {EV("DTSTART;VALUE=DATE:20261225\nDURATION:PT24H\n"), "DURATION must be whole days"},
	    {EV("DTSTART;VALUE=DATE:20261225\nDTEND;VALUE=DATE:20261226\nDURATION:P1D\n"),
	     "both DTEND and DURATION"},
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = cal(bad[i].events);
		parse_fails(text, OTD_EINVAL, bad[i].want);
		free(text);
	}
}
END_TEST

START_TEST(yearly_rules_expand_with_exdate_and_rdate)
{
	/* The spring bank holiday: the last Monday of May. */
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20260525\nRRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO;"
	                "COUNT=3\n"),
	             "2026-05-25 2027-05-31 2028-05-29");
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20260525\nRRULE:FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO;"
	                "UNTIL=20280101\n"),
	             "2026-05-25 2027-05-31");
	/* UNTIL as a UTC time counts by its date. */
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20261225\nRRULE:FREQ=YEARLY;UNTIL=20271225T000000Z\n"),
	             "2026-12-25 2027-12-25");
	/* EXDATE removes, RDATE adds (libical's iterator does neither). */
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20261225\nRRULE:FREQ=YEARLY;COUNT=4\n"
	                "EXDATE;VALUE=DATE:20271225,20281225\nRDATE;VALUE=DATE:20300101\n"),
	             "2026-12-25 2029-12-25 2030-01-01");
	/* Multi-day occurrences; INTERVAL. */
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261226\n"
	                "RRULE:FREQ=YEARLY;INTERVAL=2;COUNT=2\n"),
	             "2026-12-24 2026-12-25 2028-12-24 2028-12-25");
	/* Open-ended: every year through 2100, no further. */
	size_t n;
	char *text = cal(EV("DTSTART;VALUE=DATE:20261225\nRRULE:FREQ=YEARLY\n"));
	struct otd_holiday *h = parse_ok(text, &n);
	ck_assert_uint_eq(n, 2100 - 2026 + 1);
	ck_assert_str_eq(h[n - 1].date, "2100-12-25");
	free(h);
	free(text);

	static const struct {
		const char *events, *want;
	} bad[] = {
	    {EV("DTSTART;VALUE=DATE:20260105\nRRULE:FREQ=WEEKLY;BYDAY=MO\n"),
	     "RRULE must be FREQ=YEARLY"},
	    {EV("DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30\n"),
	     "name no real day"},
	    {EV("DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY;BYMONTH=4,6;BYMONTHDAY=31\n"),
	     "name no real day"},
	    {EV("DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY;BYDAY=MO;BYSETPOS=1\n"),
	     "RRULE may use only"},
	    {EV("DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY;BYMONTH=1;BYDAY=6MO\n"),
	     "BYDAY position out of range"},
	    {EV("DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY\nRRULE:FREQ=YEARLY;BYMONTH=2\n"),
	     "more than one RRULE"},
	    {EV("DTSTART;VALUE=DATE:20260101\nRECURRENCE-ID;VALUE=DATE:20260101\n"),
	     "RECURRENCE-ID"},
	    {EV("DTSTART;VALUE=DATE:20260101\nRRULE:FREQ=YEARLY\n"
	        "EXDATE;VALUE=DATE:20261301\n"),
	     "EXDATE"},
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text = cal(bad[i].events);
		parse_fails(text, OTD_EINVAL, bad[i].want);
		free(text);
	}
}
END_TEST

START_TEST(duplicates_keep_the_first_name_and_output_is_sorted)
{
	size_t n;
	/* clang-format off */
	static const char events[] =
	    EV("DTSTART;VALUE=DATE:20271225\nSUMMARY:Christmas 2027\n")
	    EV("DTSTART;VALUE=DATE:20261225\nSUMMARY:Christmas Day\n")
	    EV("DTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261227\nSUMMARY:Office closed\n")
	    EV("DTSTART;VALUE=DATE:20261230\nSTATUS:CANCELLED\nSUMMARY:Off\n");
	/* clang-format on */
	char *text = cal(events);
	struct otd_holiday *h = parse_ok(text, &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(h[0].date, "2026-12-24");
	ck_assert_str_eq(h[0].name, "Office closed");
	ck_assert_str_eq(h[1].date, "2026-12-25");
	ck_assert_str_eq(h[1].name, "Christmas Day");
	ck_assert_str_eq(h[2].date, "2026-12-26");
	ck_assert_str_eq(h[2].name, "Office closed");
	ck_assert_str_eq(h[3].date, "2027-12-25");
	free(h);
	free(text);
}
END_TEST

START_TEST(problems_name_the_event_and_count_the_rest)
{
	char *text =
	    cal("BEGIN:VEVENT\nUID:a@x\nDTSTART;VALUE=DATE:20260101\nSUMMARY:A\nEND:VEVENT\n"
	        "BEGIN:VEVENT\nUID:b@x\nSUMMARY:Boxing Day\nEND:VEVENT\n"
	        "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261301\nSUMMARY:Bad\nEND:VEVENT\n"
	        "BEGIN:VEVENT\nUID:c@x\nDTSTART;VALUE=DATE:2026123\nEND:VEVENT\n");
	parse_fails(text, OTD_EINVAL,
	            "event 2 (UID b@x, \"Boxing Day\"): has no DTSTART (the holiday's date) "
	            "(and 2 more problems).");
	free(text);
	text = cal(EV("DTSTART;VALUE=DATE:20261301\nSUMMARY:Bad\n"));
	parse_fails(text, OTD_EINVAL,
	            "event 1 (UID x@test, \"Bad\"): DTSTART 2026-13-01 is not a real date");
	free(text);
	text = cal("BEGIN:VEVENT\nDTSTART;VALUE=DATE:2026123\nEND:VEVENT\n");
	parse_fails(text, OTD_EINVAL, "event 1: libical cannot read a line of it");
	free(text);
	text = cal(EV("DTSTART;VALUE=DATE:20260101\nthis is not a property\n"));
	parse_fails(text, OTD_EINVAL, "libical cannot read a line");
	free(text);
	text = cal(EV("DTSTART;VALUE=DATE:20260101\nDTSTART;VALUE=DATE:20260102\n"));
	parse_fails(text, OTD_EINVAL, "more than one DTSTART");
	free(text);
	/* A property libical does not know is allowed (RFC 5545 3.8.8.2). */
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20260101\nCOLOUR-OF-DAY:red\n"), "2026-01-01");
	/* So is an empty value (Outlook writes "LOCATION:"), but not an
	 * empty DTSTART. */
	ASSERT_DATES(EV("DTSTART;VALUE=DATE:20260101\nLOCATION:\nDESCRIPTION:\n"), "2026-01-01");
	text = cal(EV("DTSTART:\n"));
	parse_fails(text, OTD_EINVAL, "has no DTSTART");
	free(text);
}
END_TEST

START_TEST(files_that_are_not_one_calendar_are_refused)
{
	parse_fails("", OTD_EINVAL, "not an iCalendar file");
	parse_fails("Date,Name\n2026-12-25,Christmas\n", OTD_EINVAL, "not an iCalendar file");
	parse_fails("BEGIN:VEVENT\nDTSTART:20261225\nEND:VEVENT\n", OTD_EINVAL,
	            "not an iCalendar file");
	parse_fails("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261225\nEND:VEVENT\n", OTD_EINVAL,
	            "not an iCalendar file");
	parse_fails("BEGIN:VCALENDAR\nEND:VCALENDAR\nBEGIN:VCALENDAR\nEND:VCALENDAR\n", OTD_EINVAL,
	            "more than one calendar");
	parse_fails("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", OTD_EINVAL, "no events");
	char *text = cal(EV("DTSTART;VALUE=DATE:20260101\nSTATUS:CANCELLED\n"));
	parse_fails(text, OTD_EINVAL, "lists no holiday dates");
	free(text);
	static const char nul[] = "BEGIN:VCALENDAR\n\0END:VCALENDAR\n";
	struct otd_holiday *h;
	size_t n;
	struct otd_error e;
	ck_assert_int_eq(otd_holidays_parse(nul, sizeof(nul) - 1, &h, &n, &e), OTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.message, "NUL byte"));
	char *big = xmalloc(OTD_HOLIDAYS_MAX_BYTES + 1);
	memset(big, ' ', OTD_HOLIDAYS_MAX_BYTES + 1);
	ck_assert_int_eq(otd_holidays_parse(big, OTD_HOLIDAYS_MAX_BYTES + 1, &h, &n, &e),
	                 OTD_ETOOBIG);
	free(big);
}
END_TEST

/* n one-day events from 2026-01-01 on. */
static char *many(size_t count)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "BEGIN:VCALENDAR\nVERSION:2.0\n");
	int64_t base = otd_days_from_civil(2026, 1, 1);
	for(size_t i = 0; i < count; i++) {
		int y, m, d;
		otd_civil_from_days(base + (int64_t)i, &y, &m, &d);
		otd_buf_printf(
		    &b, "BEGIN:VEVENT\nUID:%zu\nDTSTART;VALUE=DATE:%04d%02d%02d\nEND:VEVENT\n", i,
		    y, m, d);
	}
	otd_buf_puts(&b, "END:VCALENDAR\n");
	return otd_buf_steal(&b);
}

START_TEST(at_most_5000_dates)
{
	size_t n;
	char *text = many(OTD_HOLIDAYS_MAX_DATES);
	struct otd_holiday *h = parse_ok(text, &n);
	ck_assert_uint_eq(n, OTD_HOLIDAYS_MAX_DATES);
	free(h);
	free(text);
	text = many(OTD_HOLIDAYS_MAX_DATES + 1);
	parse_fails(text, OTD_ETOOBIG, "event 5001 (UID 5000): brings the file over 5000");
	free(text);
	/* A rule that would list every Monday to 2100 (3,900 dates) twice. */
	text = cal(EV("DTSTART;VALUE=DATE:20260105\nRRULE:FREQ=YEARLY;BYDAY=MO\n")
	               EV("DTSTART;VALUE=DATE:20260106\nRRULE:FREQ=YEARLY;BYDAY=TU\n"));
	parse_fails(text, OTD_ETOOBIG, "event 2 (UID x@test): brings the file over 5000");
	free(text);
}
END_TEST

/* ---- store and app ----------------------------------------------------- */

#define START "2026-03-02T09:00:00Z"

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_principal cli;

static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/holidays-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	app_principal_cli(&cli);
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static long long sql_int(const char *sql)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sql);
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static size_t import_ok(const char *name, const char *text, size_t len)
{
	size_t count = 99;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_msg(app_import_holidays(&app, &cli, name, text, len, &count, &e) == OTD_OK, "%s",
	              e.message);
	return count;
}

static char *between(const char *from, const char *to)
{
	char(*dates)[11] = NULL;
	size_t n = 0;
	struct otd_error e;
	ck_assert_int_eq(app_holidays_between(&app, from, to, &dates, &n, &e), OTD_OK);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	for(size_t i = 0; i < n; i++)
		otd_buf_printf(&b, "%s%s", i ? " " : "", dates[i]);
	free(dates);
	return otd_buf_steal(&b);
}

struct is_job {
	const char *date;
	bool holiday;
};

static enum otd_status is_job(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct is_job *j = arg;
	return store_is_holiday(c, j->date, &j->holiday, err);
}

static bool is_holiday(const char *date)
{
	struct is_job j = {date, false};
	struct otd_error e;
	ck_assert_int_eq(store_read(app.store, is_job, &j, &e), OTD_OK);
	return j.holiday;
}

START_TEST(import_replaces_the_set_and_is_audited)
{
	size_t len;
	char *data = example(&len);
	ck_assert_uint_eq(import_ok("england-and-wales.ics", data, len), 16);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holidays"), 16);
	char *got = between("2026-12-01", "2027-01-31");
	ck_assert_str_eq(got, "2026-12-25 2026-12-28 2027-01-01");
	free(got);
	got = between("2026-04-03", "2026-04-03");
	ck_assert_str_eq(got, "2026-04-03");
	free(got);
	got = between("2026-06-01", "2026-06-30");
	ck_assert_str_eq(got, "");
	free(got);
	ck_assert(is_holiday("2026-12-28"));
	ck_assert(!is_holiday("2026-12-26"));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE action = 'import.holidays' "
	                         "AND actor_kind = 'cli' AND json_extract(detail, '$.dates') = 16 "
	                         "AND json_extract(detail, '$.first') = '2026-01-01' AND "
	                         "json_extract(detail, '$.last') = '2027-12-28' AND "
	                         "json_extract(detail, '$.replaced') = 0"),
	                 1);

	/* A second file replaces the whole set. */
	char *text = cal(EV("DTSTART;VALUE=DATE:20270101\nSUMMARY:New Year\n"));
	ck_assert_uint_eq(import_ok("2027.ics", text, strlen(text)), 1);
	free(text);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holidays"), 1);
	ck_assert(!is_holiday("2026-12-28"));
	ck_assert_int_eq(sql_int("SELECT json_extract(detail, '$.replaced') FROM audit_log WHERE "
	                         "action = 'import.holidays' ORDER BY id DESC LIMIT 1"),
	                 16);

	/* A bad file changes nothing and says so. */
	ck_assert_uint_eq(import_ok("england-and-wales.ics", data, len), 16);
	text = cal(EV("DTSTART;VALUE=DATE:20270101\n") "BEGIN:VEVENT\nUID:b\nEND:VEVENT\n");
	size_t count = 99;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(app_import_holidays(&app, &cli, "bad.ics", text, strlen(text), &count, &e),
	                 OTD_EINVAL);
	ck_assert_uint_eq(count, 0);
	ck_assert_str_eq(e.code, "bad_holidays");
	ck_assert_msg(strncmp(e.message, "bad.ics: event 2 (UID b): has no DTSTART", 40) == 0, "%s",
	              e.message);
	ck_assert_ptr_nonnull(strstr(e.message, "Nothing was imported."));
	free(text);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holidays"), 16);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM audit_log WHERE action = 'import.holidays'"),
	                 3);
	free(data);
}
END_TEST

START_TEST(between_checks_its_dates)
{
	char(*dates)[11] = (char(*)[11])1;
	size_t n = 9;
	struct otd_error e;
	ck_assert_int_eq(app_holidays_between(&app, "2026-13-01", "2026-12-31", &dates, &n, &e),
	                 OTD_EINVAL);
	ck_assert_str_eq(e.field, "from");
	ck_assert_ptr_null(dates);
	ck_assert_int_eq(app_holidays_between(&app, "2026-01-01", "31/12/2026", &dates, &n, &e),
	                 OTD_EINVAL);
	ck_assert_str_eq(e.field, "to");
	ck_assert_int_eq(app_holidays_between(&app, "2026-12-31", "2026-01-01", &dates, &n, &e),
	                 OTD_EINVAL);
	ck_assert_str_eq(e.field, "to");
	ck_assert_int_eq(app_holidays_between(&app, "2026-01-01", "2026-12-31", &dates, &n, &e),
	                 OTD_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(dates);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("holidays");
	TCase *tp = tcase_create("parser");
	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, example_file_has_the_2026_and_2027_bank_holidays);
	tcase_add_test(tp, plain_dates_line_ends_folds_and_bom);
	tcase_add_test(tp, names_are_cleaned_and_defaulted);
	tcase_add_test(tp, midnight_date_times_count_utc_and_other_times_do_not);
	tcase_add_test(tp, multi_day_events_cover_each_date);
	tcase_add_test(tp, yearly_rules_expand_with_exdate_and_rdate);
	tcase_add_test(tp, duplicates_keep_the_first_name_and_output_is_sorted);
	tcase_add_test(tp, problems_name_the_event_and_count_the_rest);
	tcase_add_test(tp, files_that_are_not_one_calendar_are_refused);
	tcase_add_test(tp, at_most_5000_dates);
	suite_add_tcase(s, tp);
	TCase *ta = tcase_create("store and app");
	tcase_add_checked_fixture(ta, setup, teardown);
	tcase_set_timeout(ta, 60);
	tcase_add_test(ta, import_replaces_the_set_and_is_audited);
	tcase_add_test(ta, between_checks_its_dates);
	suite_add_tcase(s, ta);
	return testutil_run(s);
}
