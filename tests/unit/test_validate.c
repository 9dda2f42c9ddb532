/* Unit tests: validation of what people type (core/validate.c): phone
 * numbers, email addresses, codes, free text, whole visitor and visit type
 * records, and whether a window lies inside a visitor's shifts across the
 * changes of the clocks (with the real Europe/London table). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "onthedot/validate.h"
#include "testutil.h"

/* Built once in the parent (unchecked fixture) before check forks: no
 * SQLite and no threads are involved. */
static struct otd_tz *london;

static void zone_setup(void)
{
	struct otd_error e;
	otd_error_clear(&e);
	if(tzload_build("Europe/London", TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &london, &e) != OTD_OK)
		abort();
}

static void zone_teardown(void)
{
	otd_tz_free(london);
	tzload_shutdown();
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s: %s", s, e.message);
	return t;
}

/* ---- phone numbers ------------------------------------------------------ */

static void phone_ok(const char *in, const char *want)
{
	char out[17];
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_phone_normalise(in, "44", out, sizeof(out), "phone", &e);
	ck_assert_msg(st == OTD_OK, "\"%s\" refused: %s", in, e.message);
	ck_assert_str_eq(out, want);
}

static void phone_bad(const char *in)
{
	char out[17] = "unchanged";
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_phone_normalise(in, "44", out, sizeof(out), "contact.phone", &e);
	ck_assert_msg(st == OTD_EINVAL, "\"%s\" accepted as %s", in, out);
	ck_assert_int_eq(e.status, OTD_EINVAL);
	ck_assert_str_eq(e.code, "invalid_phone");
	ck_assert_str_eq(e.field, "contact.phone");
	ck_assert_str_eq(out, "unchanged");
}

START_TEST(phone_forms_normalise_to_e164)
{
	phone_ok("+441632960001", "+441632960001");
	phone_ok("+44 1632 960001", "+441632960001");
	phone_ok("  +44 (0)1632-960.001", "+441632960001"); /* "(0)": dropped abroad */
	phone_ok("0044 (0) 1632 960001", "+441632960001");
	phone_ok("+39 06 1234 5678", "+390612345678"); /* a 0 that belongs to the number */
	phone_ok("(0)1632 960001", "+441632960001");
	phone_ok("01632 960001", "+441632960001"); /* national, default 44 */
	phone_ok("(01632) 960-001", "+441632960001");
	phone_ok("0044 1632 960001", "+441632960001"); /* international prefix */
	phone_ok("001 212 555 0100", "+12125550100");
	phone_ok("+1.212.555.0100", "+12125550100");
	/* 8 and 15 digits are the limits. */
	phone_ok("+12345678", "+12345678");
	phone_ok("+123456789012345", "+123456789012345");
	/* Another default country code. */
	char out[17];
	struct otd_error e;
	ck_assert_int_eq(otd_phone_normalise("030 1234567", "49", out, sizeof(out), "phone", &e),
	                 OTD_OK);
	ck_assert_str_eq(out, "+49301234567");
}
END_TEST

START_TEST(phone_junk_is_refused)
{
	phone_bad("");
	phone_bad("   ");
	phone_bad("abc");
	phone_bad("1632960001");        /* neither 0 nor + nor 00 */
	phone_bad("+44 16x2 960001");   /* a letter */
	phone_bad("+44\t1632960001");   /* a tab */
	phone_bad("++441632960001");    /* a second plus */
	phone_bad("01632+960001");      /* a plus inside */
	phone_bad("+1234567");          /* 7 digits */
	phone_bad("+1234567890123456"); /* 16 digits */
	phone_bad("+0441632960001");    /* a country code cannot start with 0 */
	phone_bad("000441632960001");   /* "00" then a 0 */
	phone_bad("0");
	phone_bad("00");
	phone_bad("+");
	phone_bad("012345678901234567890123456789012"); /* more digits than fit anywhere */
	/* Valid, but the output buffer is one byte short. */
	char out[14] = "unchanged";
	struct otd_error e;
	ck_assert_int_eq(otd_phone_normalise("+441632960001", "44", out, 13, "phone", &e),
	                 OTD_EINVAL);
	ck_assert_int_eq(otd_phone_normalise("+441632960001", "44", out, 14, "phone", &e), OTD_OK);
	ck_assert_str_eq(out, "+441632960001");
}
END_TEST

/* ---- email ---------------------------------------------------------------- */

static void email_bad(const char *in)
{
	char out[300];
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_msg(otd_email_normalise(in, out, sizeof(out), "email", &e) == OTD_EINVAL,
	              "accepted: \"%s\"", in);
	ck_assert_str_eq(e.code, "invalid_email");
	ck_assert_str_eq(e.field, "email");
}

START_TEST(email_domain_is_lower_cased_and_junk_refused)
{
	char out[300];
	struct otd_error e;
	ck_assert_int_eq(
	    otd_email_normalise("Ann.Smith@Example.ORG", out, sizeof(out), "email", &e), OTD_OK);
	ck_assert_str_eq(out, "Ann.Smith@example.org"); /* the local part keeps its case */
	ck_assert_int_eq(otd_email_normalise("a@b.c", out, sizeof(out), "email", &e), OTD_OK);
	ck_assert_str_eq(out, "a@b.c");
	ck_assert_int_eq(
	    otd_email_normalise("o'brien+tag@mail.example.co.uk", out, sizeof(out), "email", &e),
	    OTD_OK);
	ck_assert_str_eq(out, "o'brien+tag@mail.example.co.uk");
	email_bad("");
	email_bad("ab");
	email_bad("ann.example.org"); /* no @ */
	email_bad("@example.org");    /* nothing before it */
	email_bad("ann@example");     /* no dot in the domain */
	email_bad("ann@.example.org");
	email_bad("ann@example.org.");
	email_bad("ann@@example.org");
	email_bad("ann@ex@ample.org");
	email_bad("ann smith@example.org");
	email_bad("ann@example.org ");
	email_bad("<ann@example.org>");
	email_bad("ann@example.org,bob@example.org");
	email_bad("ann;x@example.org");
	email_bad("\"ann\"@example.org");
	email_bad("ann\\x@example.org");
	email_bad("ann\x01@example.org");
	email_bad("ann\x7f@example.org");
	/* 254 bytes is the longest. */
	char long_ok[256];
	memset(long_ok, 'a', 254);
	memcpy(long_ok + 254 - 12, "@example.org", 12);
	long_ok[254] = '\0';
	ck_assert_int_eq(otd_email_normalise(long_ok, out, sizeof(out), "email", &e), OTD_OK);
	ck_assert_str_eq(out, long_ok);
	char too_long[257];
	memset(too_long, 'a', 255);
	memcpy(too_long + 255 - 12, "@example.org", 12);
	too_long[255] = '\0';
	email_bad(too_long);
	/* The output must hold it. */
	ck_assert_int_eq(otd_email_normalise("a@b.c", out, 5, "email", &e), OTD_EINVAL);
	ck_assert_int_eq(otd_email_normalise("a@b.c", out, 6, "email", &e), OTD_OK);
}
END_TEST

/* ---- codes and text ------------------------------------------------------- */

START_TEST(codes_are_lower_case_ascii_words)
{
	struct otd_error e;
	ck_assert_int_eq(otd_code_validate("gas", "skill", &e), OTD_OK);
	ck_assert_int_eq(otd_code_validate("boiler-repair_2", "skill", &e), OTD_OK);
	ck_assert_int_eq(otd_code_validate("a", "skill", &e), OTD_OK);
	char c64[66];
	memset(c64, 'x', 64);
	c64[64] = '\0';
	ck_assert_int_eq(otd_code_validate(c64, "skill", &e), OTD_OK);
	c64[64] = 'x';
	c64[65] = '\0';
	static const char *const bad[] = {"",     "Gas",   "gas water", "gås",
	                                  "gas.", "gas/1", " gas",      NULL};
	for(size_t i = 0; bad[i]; i++) {
		otd_error_clear(&e);
		ck_assert_msg(otd_code_validate(bad[i], "skills[3]", &e) == OTD_EINVAL,
		              "accepted %s", bad[i]);
		ck_assert_str_eq(e.code, "invalid_code");
		ck_assert_str_eq(e.field, "skills[3]");
	}
	ck_assert_int_eq(otd_code_validate(c64, "code", &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "code");
}
END_TEST

static void text_err(const char *s, size_t min, size_t max, bool multiline, const char *code)
{
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_msg(otd_text_validate(s, min, max, multiline, "note", &e) == OTD_EINVAL,
	              "accepted \"%s\"", s);
	ck_assert_str_eq(e.code, code);
	ck_assert_str_eq(e.field, "note");
}

START_TEST(text_length_counts_characters_not_bytes)
{
	struct otd_error e;
	ck_assert_int_eq(otd_text_validate("héllo", 1, 5, false, "note", &e), OTD_OK);
	ck_assert_int_eq(otd_text_validate("日本語", 3, 3, false, "note", &e),
	                 OTD_OK); /* 9 bytes */
	ck_assert_int_eq(otd_text_validate("\xf0\x9f\x98\x80", 1, 1, false, "note", &e), OTD_OK);
	ck_assert_int_eq(otd_text_validate("", 0, 5, false, "note", &e), OTD_OK);
	text_err("héllo!", 1, 5, false, "too_long");
	otd_error_clear(&e);
	ck_assert_int_eq(otd_text_validate("héllo!", 1, 5, false, "note", &e), OTD_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.message, "at most 5 characters"));
	text_err("", 1, 5, false, "empty");
	text_err("a", 2, 5, false, "too_short");
	text_err("日本", 3, 5, false, "too_short");
}
END_TEST

START_TEST(text_refuses_control_characters_and_bad_utf8)
{
	struct otd_error e;
	/* Newline, tab and CR only in multi-line text. */
	ck_assert_int_eq(otd_text_validate("a\nb\tc\r\n", 1, 50, true, "note", &e), OTD_OK);
	text_err("a\nb", 1, 50, false, "invalid_text");
	text_err("a\tb", 1, 50, false, "invalid_text");
	text_err("a\x01"
	         "b",
	         1, 50, true, "invalid_text");
	text_err("a\x1b[31m", 1, 50, true, "invalid_text");
	text_err("a\x7f", 1, 50, true, "invalid_text");
	text_err("a\xc2\x85", 1, 50, true, "invalid_text"); /* U+0085, a C1 control */
	ck_assert_int_eq(otd_text_validate("\xc2\xa0", 1, 50, false, "note", &e),
	                 OTD_OK); /* U+00A0 */
	/* Invalid UTF-8. */
	text_err("\xff", 0, 50, false, "invalid_text");
	text_err("a\x80", 0, 50, false, "invalid_text");         /* lone continuation */
	text_err("a\xc3", 0, 50, false, "invalid_text");         /* truncated 2-byte */
	text_err("a\xe6\x97", 0, 50, false, "invalid_text");     /* truncated 3-byte */
	text_err("a\xf0\x9f\x98", 0, 50, false, "invalid_text"); /* truncated 4-byte */
	text_err("\xc3(", 0, 50, false, "invalid_text");         /* bad continuation */
	/* Overlong forms of '/' and of U+0800 / U+10000 limits. */
	text_err("\xc0\xaf", 0, 50, false, "invalid_text");
	text_err("\xc1\xbf", 0, 50, false, "invalid_text");
	text_err("\xe0\x80\xaf", 0, 50, false, "invalid_text");
	text_err("\xe0\x9f\xbf", 0, 50, false, "invalid_text");
	text_err("\xf0\x80\x80\xaf", 0, 50, false, "invalid_text");
	text_err("\xf0\x8f\xbf\xbf", 0, 50, false, "invalid_text");
	/* Surrogates and beyond U+10FFFF. */
	text_err("\xed\xa0\x80", 0, 50, false, "invalid_text");
	text_err("\xed\xbf\xbf", 0, 50, false, "invalid_text");
	text_err("\xf4\x90\x80\x80", 0, 50, false, "invalid_text");
	text_err("\xf8\x88\x80\x80\x80", 0, 50, false, "invalid_text");
	/* The edges that are fine. */
	ck_assert_int_eq(otd_text_validate("\xe0\xa0\x80", 1, 1, false, "note", &e), OTD_OK);
	ck_assert_int_eq(otd_text_validate("\xed\x9f\xbf", 1, 1, false, "note", &e), OTD_OK);
	ck_assert_int_eq(otd_text_validate("\xee\x80\x80", 1, 1, false, "note", &e), OTD_OK);
	ck_assert_int_eq(otd_text_validate("\xf4\x8f\xbf\xbf", 1, 1, false, "note", &e), OTD_OK);
}
END_TEST

/* ---- visitor records ------------------------------------------------------ */

static void add_shift(struct otd_visitor *v, const char *start, int minutes, const char *rrule)
{
	v->shifts = xrealloc(v->shifts, (v->n_shifts + 1) * sizeof(*v->shifts));
	struct otd_shift *s = &v->shifts[v->n_shifts++];
	memset(s, 0, sizeof(*s));
	snprintf(s->start, sizeof(s->start), "%s", start);
	s->duration_min = minutes;
	snprintf(s->rrule, sizeof(s->rrule), "%s", rrule);
	snprintf(s->tzid, sizeof(s->tzid), "Europe/London");
}

static void add_exdate(struct otd_shift *s, const char *date)
{
	s->exdates = xrealloc(s->exdates, (s->n_exdates + 1) * sizeof(*s->exdates));
	snprintf(s->exdates[s->n_exdates++], 11, "%s", date);
}

static void add_skill(struct otd_visitor *v, const char *code)
{
	v->skills = xrealloc(v->skills, (v->n_skills + 1) * sizeof(char *));
	v->skills[v->n_skills++] = xstrdup(code);
}

/* A valid visitor: two skills, two weekday shift rules. */
static void good_visitor(struct otd_visitor *v)
{
	memset(v, 0, sizeof(*v));
	v->name = xstrdup("Zoë O'Brien");
	v->role_title = xstrdup("Gas engineer");
	v->phone = xstrdup("");
	v->base_lat = 52.2;
	v->base_lon = -1.5;
	add_skill(v, "gas");
	add_skill(v, "metering");
	add_shift(v, "2026-03-02T08:00:00", 480, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	add_shift(v, "2026-03-07T09:00:00", 240, "FREQ=WEEKLY;BYDAY=SA");
	v->active = true;
}

/* Validates v, expecting field and code; cleans v up. */
static void visitor_err(struct otd_visitor *v, const char *field, const char *code)
{
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_visitor_validate(v, london, &e);
	ck_assert_msg(st != OTD_OK, "accepted; expected %s", field);
	ck_assert_str_eq(e.field, field);
	ck_assert_str_eq(e.code, code);
	otd_visitor_cleanup(v);
}

START_TEST(a_good_visitor_passes)
{
	struct otd_visitor v;
	good_visitor(&v);
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_msg(otd_visitor_validate(&v, london, &e) == OTD_OK, "%s: %s", e.field, e.message);
	/* No skills and no shifts are fine too. */
	otd_visitor_cleanup(&v);
	v.name = xstrdup("A");
	v.role_title = xstrdup("B");
	ck_assert_int_eq(otd_visitor_validate(&v, london, &e), OTD_OK);
	otd_visitor_cleanup(&v);
	ck_assert_ptr_null(v.name); /* cleanup zeroes */
	otd_visitor_cleanup(&v);    /* and may run twice */
}
END_TEST

START_TEST(visitor_errors_name_the_api_field)
{
	struct otd_visitor v;

	good_visitor(&v);
	free(v.name);
	v.name = NULL;
	visitor_err(&v, "name", "empty");

	good_visitor(&v);
	free(v.name);
	v.name = xmalloc(202);
	memset(v.name, 'n', 201);
	v.name[201] = '\0';
	visitor_err(&v, "name", "too_long");

	good_visitor(&v);
	free(v.role_title);
	v.role_title = xstrdup("");
	visitor_err(&v, "role_title", "empty");

	good_visitor(&v);
	v.base_lat = 90.5;
	visitor_err(&v, "base.lat", "out_of_range");

	good_visitor(&v);
	v.base_lat = NAN;
	visitor_err(&v, "base.lat", "out_of_range");

	good_visitor(&v);
	v.base_lon = -180.01;
	visitor_err(&v, "base.lon", "out_of_range");

	good_visitor(&v);
	v.base_lon = INFINITY;
	visitor_err(&v, "base.lon", "out_of_range");

	good_visitor(&v);
	free(v.skills[1]);
	v.skills[1] = xstrdup("Metering");
	visitor_err(&v, "skills[1]", "invalid_code");

	good_visitor(&v);
	while(v.n_skills <= OTD_SKILLS_MAX)
		add_skill(&v, "x");
	visitor_err(&v, "skills", "too_many");

	good_visitor(&v);
	while(v.n_shifts <= OTD_SHIFTS_MAX)
		add_shift(&v, "2026-03-02T08:00:00", 60, "FREQ=DAILY");
	visitor_err(&v, "shifts", "too_many");
}
END_TEST

START_TEST(shift_errors_are_prefixed_with_their_index)
{
	struct otd_visitor v;

	good_visitor(&v);
	snprintf(v.shifts[1].rrule, sizeof(v.shifts[1].rrule), "FREQ=HOURLY");
	visitor_err(&v, "shifts[1].rrule", "bad_rrule");

	good_visitor(&v);
	snprintf(v.shifts[1].rrule, sizeof(v.shifts[1].rrule), "FREQ=DAILY;BYHOUR=9");
	visitor_err(&v, "shifts[1].rrule", "bad_rrule");

	good_visitor(&v);
	snprintf(v.shifts[0].tzid, sizeof(v.shifts[0].tzid), "America/New_York");
	visitor_err(&v, "shifts[0].tzid", "unsupported_timezone");

	good_visitor(&v);
	snprintf(v.shifts[1].start, sizeof(v.shifts[1].start), "2026-02-30T08:00:00");
	visitor_err(&v, "shifts[1].start", "bad_local_time");

	good_visitor(&v);
	snprintf(v.shifts[0].start, sizeof(v.shifts[0].start), "1850-01-01T08:00:00");
	visitor_err(&v, "shifts[0].start", "bad_local_time");

	good_visitor(&v);
	v.shifts[0].duration_min = 0;
	visitor_err(&v, "shifts[0].duration_minutes", "bad_duration");

	good_visitor(&v);
	v.shifts[1].duration_min = 1441;
	visitor_err(&v, "shifts[1].duration_minutes", "bad_duration");

	good_visitor(&v);
	add_exdate(&v.shifts[1], "2026-03-14");
	add_exdate(&v.shifts[1], "2026-13-01");
	visitor_err(&v, "shifts[1].exdates", "bad_date");

	/* The exdates that are fine pass. */
	good_visitor(&v);
	add_exdate(&v.shifts[0], "2026-03-04");
	struct otd_error e;
	ck_assert_int_eq(otd_visitor_validate(&v, london, &e), OTD_OK);
	otd_visitor_cleanup(&v);
}
END_TEST

/* ---- visit types ---------------------------------------------------------- */

static void good_type(struct otd_visit_type *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->code, sizeof(t->code), "boiler-repair");
	t->name = xstrdup("Boiler repair");
	snprintf(t->skill, sizeof(t->skill), "gas");
	t->duration_median_min = 75;
	t->duration_spread = 0.4;
	t->window_min = 120;
}

static void type_field(struct otd_visit_type *t, enum otd_status want, const char *field)
{
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_visit_type_validate(t, &e);
	ck_assert_int_eq(st, want);
	if(want != OTD_OK)
		ck_assert_str_eq(e.field, field);
	otd_visit_type_cleanup(t);
}

START_TEST(visit_types_check_every_field_at_its_edges)
{
	struct otd_visit_type t;
	good_type(&t);
	type_field(&t, OTD_OK, NULL);

	good_type(&t);
	snprintf(t.code, sizeof(t.code), "Boiler");
	type_field(&t, OTD_EINVAL, "code");

	good_type(&t);
	free(t.name);
	t.name = xstrdup("");
	type_field(&t, OTD_EINVAL, "name");

	good_type(&t);
	free(t.name);
	t.name = NULL;
	type_field(&t, OTD_EINVAL, "name");

	good_type(&t);
	t.skill[0] = '\0';
	type_field(&t, OTD_EINVAL, "skill");

	static const struct {
		double median, spread;
		int window;
		enum otd_status want;
		const char *field;
	} cases[] = {
	    {0, 0.4, 120, OTD_EINVAL, "duration_median_minutes"},
	    {-5, 0.4, 120, OTD_EINVAL, "duration_median_minutes"},
	    {0.01, 0.4, 120, OTD_OK, NULL},
	    {720, 0.4, 120, OTD_OK, NULL},
	    {720.5, 0.4, 120, OTD_EINVAL, "duration_median_minutes"},
	    {75, 0, 120, OTD_OK, NULL},
	    {75, 3, 120, OTD_OK, NULL},
	    {75, -0.01, 120, OTD_EINVAL, "duration_spread"},
	    {75, 3.01, 120, OTD_EINVAL, "duration_spread"},
	    {75, 0.4, 15, OTD_OK, NULL},
	    {75, 0.4, 720, OTD_OK, NULL},
	    {75, 0.4, 10, OTD_EINVAL, "window_minutes"},
	    {75, 0.4, 17, OTD_EINVAL, "window_minutes"},
	    {75, 0.4, 725, OTD_EINVAL, "window_minutes"},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		good_type(&t);
		t.duration_median_min = cases[i].median;
		t.duration_spread = cases[i].spread;
		t.window_min = cases[i].window;
		type_field(&t, cases[i].want, cases[i].field);
	}
	good_type(&t);
	t.duration_median_min = NAN;
	type_field(&t, OTD_EINVAL, "duration_median_minutes");
	good_type(&t);
	t.duration_spread = NAN;
	type_field(&t, OTD_EINVAL, "duration_spread");
}
END_TEST

/* ---- windows inside shifts ----------------------------------------------- */

static bool in_shifts(const struct otd_visitor *v, const char *from, const char *to)
{
	return otd_window_in_shifts(v->shifts, v->n_shifts, london, at(from), at(to));
}

START_TEST(window_in_shifts_follows_local_time_across_spring_forward)
{
	/* Every day 08:00-16:00 local, from Friday 27 March 2026. */
	struct otd_visitor v = {0};
	add_shift(&v, "2026-03-27T08:00:00", 480, "FREQ=DAILY");
	/* Saturday 28th is GMT: the shift is 08:00Z-16:00Z. */
	ck_assert(in_shifts(&v, "2026-03-28T08:00:00Z", "2026-03-28T10:00:00Z"));
	ck_assert(!in_shifts(&v, "2026-03-28T07:00:00Z", "2026-03-28T09:00:00Z"));
	ck_assert(in_shifts(&v, "2026-03-28T14:00:00Z", "2026-03-28T16:00:00Z"));
	ck_assert(!in_shifts(&v, "2026-03-28T15:00:00Z", "2026-03-28T16:00:01Z"));
	/* Sunday 29th is BST: 08:00 local is 07:00Z, 16:00 is 15:00Z. */
	ck_assert(in_shifts(&v, "2026-03-29T07:00:00Z", "2026-03-29T08:00:00Z"));
	ck_assert(!in_shifts(&v, "2026-03-29T06:59:59Z", "2026-03-29T08:00:00Z"));
	ck_assert(in_shifts(&v, "2026-03-29T14:00:00Z", "2026-03-29T15:00:00Z"));
	ck_assert(!in_shifts(&v, "2026-03-29T14:30:00Z", "2026-03-29T15:30:00Z"));
	/* The same UTC window is in on one day and out on the other. */
	ck_assert(!in_shifts(&v, "2026-03-29T15:00:00Z", "2026-03-29T16:00:00Z"));
	ck_assert(in_shifts(&v, "2026-03-28T15:00:00Z", "2026-03-28T16:00:00Z"));
	/* A window across two shifts is in neither. */
	ck_assert(!in_shifts(&v, "2026-03-28T15:00:00Z", "2026-03-29T08:00:00Z"));
	/* Before the first shift there is nothing. */
	ck_assert(!in_shifts(&v, "2026-03-26T09:00:00Z", "2026-03-26T10:00:00Z"));
	/* An EXDATE drops that day only. */
	add_exdate(&v.shifts[0], "2026-03-29");
	ck_assert(!in_shifts(&v, "2026-03-29T07:00:00Z", "2026-03-29T08:00:00Z"));
	ck_assert(in_shifts(&v, "2026-03-30T07:00:00Z", "2026-03-30T08:00:00Z"));
	otd_visitor_cleanup(&v);
}
END_TEST

START_TEST(window_in_shifts_follows_local_time_across_fall_back)
{
	struct otd_visitor v = {0};
	add_shift(&v, "2026-10-17T08:00:00", 480, "FREQ=WEEKLY;BYDAY=SA,SU");
	/* Saturday 24 October is BST: 07:00Z-15:00Z. */
	ck_assert(in_shifts(&v, "2026-10-24T07:00:00Z", "2026-10-24T08:00:00Z"));
	ck_assert(!in_shifts(&v, "2026-10-24T15:00:00Z", "2026-10-24T15:30:00Z"));
	/* Sunday 25th is GMT again: 08:00Z-16:00Z. */
	ck_assert(!in_shifts(&v, "2026-10-25T07:00:00Z", "2026-10-25T08:00:00Z"));
	ck_assert(in_shifts(&v, "2026-10-25T08:00:00Z", "2026-10-25T09:00:00Z"));
	ck_assert(in_shifts(&v, "2026-10-25T15:00:00Z", "2026-10-25T16:00:00Z"));
	/* Monday has no shift. */
	ck_assert(!in_shifts(&v, "2026-10-26T09:00:00Z", "2026-10-26T10:00:00Z"));
	otd_visitor_cleanup(&v);
}
END_TEST

START_TEST(window_in_shifts_needs_one_occurrence_of_one_rule)
{
	struct otd_visitor v = {0};
	/* Mondays 08:00-12:00 and 12:00-16:00, as two rules. */
	add_shift(&v, "2026-03-02T08:00:00", 240, "FREQ=WEEKLY;BYDAY=MO");
	add_shift(&v, "2026-03-02T12:00:00", 240, "FREQ=WEEKLY;BYDAY=MO");
	ck_assert(in_shifts(&v, "2026-03-09T09:00:00Z", "2026-03-09T11:00:00Z"));
	ck_assert(in_shifts(&v, "2026-03-09T13:00:00Z", "2026-03-09T15:00:00Z"));
	ck_assert(!in_shifts(&v, "2026-03-09T11:00:00Z", "2026-03-09T13:00:00Z"));
	/* No shifts: nothing is inside. */
	ck_assert(!otd_window_in_shifts(v.shifts, 0, london, at("2026-03-09T09:00:00Z"),
	                                at("2026-03-09T10:00:00Z")));
	/* A rule that does not parse is skipped, not fatal. */
	snprintf(v.shifts[0].rrule, sizeof(v.shifts[0].rrule), "FREQ=NONSENSE");
	ck_assert(!in_shifts(&v, "2026-03-09T09:00:00Z", "2026-03-09T11:00:00Z"));
	ck_assert(in_shifts(&v, "2026-03-09T13:00:00Z", "2026-03-09T15:00:00Z"));
	otd_visitor_cleanup(&v);
}
END_TEST

START_TEST(shift_to_rule_converts_start_and_exdates)
{
	struct otd_visitor v = {0};
	add_shift(&v, "2026-03-02T08:30:00", 450, "FREQ=WEEKLY;BYDAY=MO");
	add_exdate(&v.shifts[0], "2026-03-09");
	struct otd_civil ex[1];
	struct otd_shift_rule rule;
	struct otd_error e;
	ck_assert_int_eq(otd_shift_to_rule(&v.shifts[0], &rule, ex, &e), OTD_OK);
	ck_assert_int_eq(rule.dtstart.year, 2026);
	ck_assert_int_eq(rule.dtstart.month, 3);
	ck_assert_int_eq(rule.dtstart.day, 2);
	ck_assert_int_eq(rule.dtstart.hour, 8);
	ck_assert_int_eq(rule.dtstart.minute, 30);
	ck_assert_int_eq(rule.duration_min, 450);
	ck_assert_str_eq(rule.rrule, "FREQ=WEEKLY;BYDAY=MO");
	ck_assert_uint_eq(rule.n_exdates, 1);
	ck_assert_ptr_eq(rule.exdates, ex);
	ck_assert_int_eq(ex[0].day, 9);
	otd_visitor_cleanup(&v);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("input");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, phone_forms_normalise_to_e164);
	tcase_add_test(tc, phone_junk_is_refused);
	tcase_add_test(tc, email_domain_is_lower_cased_and_junk_refused);
	tcase_add_test(tc, codes_are_lower_case_ascii_words);
	tcase_add_test(tc, text_length_counts_characters_not_bytes);
	tcase_add_test(tc, text_refuses_control_characters_and_bad_utf8);
	suite_add_tcase(s, tc);
	TCase *tr = tcase_create("records");
	tcase_add_unchecked_fixture(tr, zone_setup, zone_teardown);
	tcase_set_timeout(tr, 60);
	tcase_add_test(tr, a_good_visitor_passes);
	tcase_add_test(tr, visitor_errors_name_the_api_field);
	tcase_add_test(tr, shift_errors_are_prefixed_with_their_index);
	tcase_add_test(tr, visit_types_check_every_field_at_its_edges);
	tcase_add_test(tr, window_in_shifts_follows_local_time_across_spring_forward);
	tcase_add_test(tr, window_in_shifts_follows_local_time_across_fall_back);
	tcase_add_test(tr, window_in_shifts_needs_one_occurrence_of_one_rule);
	tcase_add_test(tr, shift_to_rule_converts_start_and_exdates);
	suite_add_tcase(s, tr);
	return testutil_run(s);
}
