/* Unit tests: shift rules (RRULE + EXDATE) expanded into UTC intervals.
 *
 * The zone is a hand-built Europe/London table for 2025..2027 (transitions
 * as zdump prints them), so these tests need neither tzdata nor libical's
 * zone code, like core itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/shift.h"
#include "onthedot/tz.h"
#include "testutil.h"

static struct otd_tz *london;

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s: %s", s, e.message);
	return t;
}

static void london_setup(void)
{
	const char *changes[] = {
	    "2025-03-30T01:00:00Z", "2025-10-26T01:00:00Z", "2026-03-29T01:00:00Z",
	    "2026-10-25T01:00:00Z", "2027-03-28T01:00:00Z", "2027-10-31T01:00:00Z",
	};
	int64_t ts[6];
	int32_t offs[6];
	for(int i = 0; i < 6; i++) {
		ts[i] = at(changes[i]);
		offs[i] = i % 2 == 0 ? 3600 : 0;
	}
	london = otd_tz_new("Europe/London", 0, ts, offs, 6);
}

static void london_teardown(void)
{
	otd_tz_free(london);
}

static struct otd_shift_rule rule(const char *dtstart, int minutes, const char *rrule)
{
	struct otd_shift_rule r;
	struct otd_error e;
	memset(&r, 0, sizeof(r));
	ck_assert_msg(otd_local_parse(dtstart, &r.dtstart, &e) == OTD_OK, "%s", e.message);
	r.duration_min = minutes;
	snprintf(r.rrule, sizeof(r.rrule), "%s", rrule);
	return r;
}

/* Expands r over [from, to) and fails the test on an error. */
static struct otd_interval *expand(const struct otd_shift_rule *r, const char *from, const char *to,
                                   size_t *n)
{
	struct otd_interval *v = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_shift_expand(r, london, at(from), at(to), &v, n, &e);
	ck_assert_msg(st == OTD_OK, "%s: %s", r->rrule, e.message);
	return v;
}

static bool has_start(const struct otd_interval *v, size_t n, const char *start)
{
	int64_t t = at(start);
	for(size_t i = 0; i < n; i++) {
		if(v[i].start == t)
			return true;
	}
	return false;
}

START_TEST(weekdays_at_eight_stay_at_eight_across_both_changes)
{
	struct otd_shift_rule r =
	    rule("2026-03-02T08:00", 9 * 60, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	ck_assert_int_eq(otd_shift_validate(&r, NULL), OTD_OK);
	size_t n = 0;
	struct otd_interval *v = expand(&r, "2026-03-23T00:00:00Z", "2026-11-02T00:00:00Z", &n);

	/* 2026-03-23 (Mon) .. 2026-10-30 (Fri): 32 weeks, 5 days each. */
	ck_assert_uint_eq(n, 32 * 5);
	for(size_t i = 0; i < n; i++) {
		struct otd_local l;
		otd_tz_to_local(london, v[i].start, &l);
		ck_assert_int_eq(l.c.hour, 8);
		ck_assert_int_eq(l.c.minute, 0);
		ck_assert_int_lt(l.weekday, 5);
		ck_assert_int_eq(v[i].end - v[i].start, 9 * 3600);
		if(i > 0)
			ck_assert_int_lt(v[i - 1].start, v[i].start);
		/* 07:00Z while London keeps BST, 08:00Z in GMT. */
		struct otd_civil u;
		otd_civil_from_seconds(v[i].start, &u);
		ck_assert_int_eq(u.hour, l.offset == 3600 ? 7 : 8);
	}
	ck_assert(has_start(v, n, "2026-03-27T08:00:00Z")); /* Friday before: GMT */
	ck_assert(has_start(v, n, "2026-03-30T07:00:00Z")); /* Monday after: BST */
	ck_assert(has_start(v, n, "2026-10-23T07:00:00Z")); /* Friday before: BST */
	ck_assert(has_start(v, n, "2026-10-26T08:00:00Z")); /* Monday after: GMT */
	ck_assert(!has_start(v, n, "2026-03-28T08:00:00Z"));
	free(v);
}
END_TEST

START_TEST(exdate_drops_that_day_only)
{
	struct otd_shift_rule r =
	    rule("2026-03-02T08:00", 9 * 60, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
	struct otd_civil ex[] = {{2026, 3, 31, 0, 0, 0}, {2026, 3, 3, 23, 0, 0}};
	r.exdates = ex;
	r.n_exdates = 2;
	size_t n = 0;
	struct otd_interval *v = expand(&r, "2026-03-02T00:00:00Z", "2026-04-04T00:00:00Z", &n);
	ck_assert_uint_eq(n, 5 * 5 - 2);
	ck_assert(has_start(v, n, "2026-03-30T07:00:00Z"));
	ck_assert(!has_start(v, n, "2026-03-31T07:00:00Z"));
	ck_assert(has_start(v, n, "2026-04-01T07:00:00Z"));
	ck_assert(has_start(v, n, "2026-03-02T08:00:00Z"));
	ck_assert(!has_start(v, n, "2026-03-03T08:00:00Z")); /* the time part is ignored */
	free(v);
}
END_TEST

START_TEST(count_counts_from_dtstart_and_includes_exdates)
{
	struct otd_shift_rule r = rule("2026-03-27T08:00", 60, "FREQ=DAILY;COUNT=5");
	size_t n = 0;
	struct otd_interval *v = expand(&r, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(v[0].start, at("2026-03-27T08:00:00Z"));
	ck_assert_int_eq(v[2].start, at("2026-03-29T07:00:00Z"));
	ck_assert_int_eq(v[4].start, at("2026-03-31T07:00:00Z"));
	free(v);

	/* RFC 5545: EXDATE removes from the set COUNT generated. */
	struct otd_civil ex[] = {{2026, 3, 28, 0, 0, 0}};
	r.exdates = ex;
	r.n_exdates = 1;
	v = expand(&r, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", &n);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(v[3].start, at("2026-03-31T07:00:00Z"));
	free(v);

	/* A window late in a COUNT rule still sees only the counted ones. */
	r.n_exdates = 0;
	v = expand(&r, "2026-03-30T00:00:00Z", "2026-04-30T00:00:00Z", &n);
	ck_assert_uint_eq(n, 2);
	free(v);
}
END_TEST

START_TEST(until_in_each_form_includes_its_own_shift)
{
	static const struct {
		const char *rrule;
		size_t n;
	} cases[] = {
	    {"FREQ=WEEKLY;BYDAY=MO;UNTIL=20260420", 4},        /* date: that day's shift too */
	    {"FREQ=WEEKLY;BYDAY=MO;UNTIL=20260420T080000", 4}, /* floating local */
	    {"FREQ=WEEKLY;BYDAY=MO;UNTIL=20260420T075959", 3},
	    {"FREQ=WEEKLY;BYDAY=MO;UNTIL=20260420T070000Z", 4}, /* UTC: 08:00 BST */
	    {"FREQ=WEEKLY;BYDAY=MO;UNTIL=20260420T065959Z", 3},
	    {"FREQ=WEEKLY;BYDAY=MO;UNTIL=20260419", 3},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct otd_shift_rule r = rule("2026-03-30T08:00", 480, cases[i].rrule);
		ck_assert_int_eq(otd_shift_validate(&r, NULL), OTD_OK);
		size_t n = 0;
		struct otd_interval *v =
		    expand(&r, "2026-03-01T00:00:00Z", "2026-06-01T00:00:00Z", &n);
		ck_assert_msg(n == cases[i].n, "%s: %zu shifts", cases[i].rrule, n);
		ck_assert_int_eq(v[0].start, at("2026-03-30T07:00:00Z"));
		free(v);
	}
}
END_TEST

START_TEST(start_in_the_missing_hour_uses_the_offset_before_the_gap)
{
	struct otd_shift_rule r = rule("2026-03-27T01:30", 60, "FREQ=DAILY");
	size_t n = 0;
	struct otd_interval *v = expand(&r, "2026-03-29T00:00:00Z", "2026-03-29T12:00:00Z", &n);
	ck_assert_uint_eq(n, 1);
	/* 01:30 does not exist: RFC 5545 3.3.5 reads it as 01:30 GMT = 02:30 BST. */
	ck_assert_int_eq(v[0].start, at("2026-03-29T01:30:00Z"));
	ck_assert_int_eq(v[0].end, at("2026-03-29T02:30:00Z"));
	free(v);

	/* The repeated 01:30 in October is the first one, BST. */
	r = rule("2026-10-20T01:30", 60, "FREQ=DAILY");
	v = expand(&r, "2026-10-25T00:00:00Z", "2026-10-25T12:00:00Z", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].start, at("2026-10-25T00:30:00Z"));
	free(v);
}
END_TEST

START_TEST(night_shift_over_the_change_lasts_its_real_length)
{
	struct otd_shift_rule r = rule("2026-03-26T22:00", 600, "FREQ=DAILY");
	size_t n = 0;
	struct otd_interval *v = expand(&r, "2026-03-28T12:00:00Z", "2026-03-29T12:00:00Z", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].start, at("2026-03-28T22:00:00Z"));
	ck_assert_int_eq(v[0].end, at("2026-03-29T08:00:00Z")); /* 09:00 BST on the clock */
	free(v);
}
END_TEST

START_TEST(overlap_not_containment_decides_inclusion)
{
	struct otd_shift_rule r = rule("2026-06-01T08:00", 9 * 60, "FREQ=DAILY");
	size_t n = 0;
	/* In June the shift is 07:00Z..16:00Z (08:00..17:00 BST). */
	struct otd_interval *v = expand(&r, "2026-06-10T15:59:59Z", "2026-06-10T16:00:01Z", &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(v[0].start, at("2026-06-10T07:00:00Z"));
	free(v);
	v = expand(&r, "2026-06-10T16:00:00Z", "2026-06-11T07:00:00Z", &n); /* [end, next start) */
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	v = expand(&r, "2026-06-10T16:00:00Z", "2026-06-10T16:00:00Z", &n); /* empty range */
	ck_assert_uint_eq(n, 0);
	v = expand(&r, "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", &n); /* before DTSTART */
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* Rules without COUNT start libical's iterator near the range asked
 * (icalrecur_iterator_set_start); windows must match a full expansion. */
START_TEST(window_expansion_matches_full_expansion)
{
	static const char *const rules[] = {
	    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
	    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE",
	    "FREQ=WEEKLY;INTERVAL=3;BYDAY=SA,SU;WKST=SU",
	    "FREQ=DAILY;INTERVAL=3",
	    "FREQ=DAILY;BYMONTH=1,2,12",
	    "FREQ=MONTHLY;BYDAY=-1FR",
	    "FREQ=MONTHLY;INTERVAL=5;BYMONTHDAY=15,31",
	    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
	    "FREQ=MONTHLY;BYDAY=2TU;UNTIL=20270101",
	};
	for(size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct otd_shift_rule r = rule("2025-01-06T08:00", 9 * 60, rules[i]);
		size_t nfull = 0;
		struct otd_interval *full =
		    expand(&r, "2025-01-01T00:00:00Z", "2027-12-31T00:00:00Z", &nfull);
		ck_assert_uint_gt(nfull, 5);
		int64_t lo = at("2025-02-01T12:00:00Z"), hi = at("2027-11-01T00:00:00Z");
		for(int64_t from = lo; from < hi; from += 23 * 86400 + 3 * 3600) {
			int64_t to = from + 40 * 86400;
			struct otd_interval *v = NULL;
			size_t n = 0;
			ck_assert_int_eq(otd_shift_expand(&r, london, from, to, &v, &n, NULL),
			                 OTD_OK);
			size_t j = 0;
			for(size_t k = 0; k < nfull; k++) {
				if(full[k].start >= to || full[k].end <= from)
					continue;
				if(j >= n || v[j].start != full[k].start)
					ck_abort_msg("%s: window at %lld differs at %zu", rules[i],
					             (long long)from, j);
				j++;
			}
			ck_assert_msg(j == n, "%s: window has %zu extra", rules[i], n - j);
			free(v);
		}
		free(full);
	}
}
END_TEST

START_TEST(range_too_large_is_an_error)
{
	struct otd_shift_rule r = rule("2026-01-01T08:00", 60, "FREQ=DAILY");
	struct otd_interval *v = (struct otd_interval *)1;
	size_t n = 99;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_shift_expand(&r, london, at("2026-01-01T00:00:00Z"),
	                                  at("2060-01-01T00:00:00Z"), &v, &n, &e),
	                 OTD_ETOOBIG);
	ck_assert_str_eq(e.code, "range_too_large");
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	/* Far from DTSTART is fine when the range itself is small. */
	v = expand(&r, "2500-01-01T00:00:00Z", "2500-02-01T00:00:00Z", &n);
	ck_assert_uint_eq(n, 31);
	free(v);
	/* libical expands nothing after OTD_SHIFT_YEAR_MAX; neither do we. */
	v = expand(&r, "2582-12-30T00:00:00Z", "2583-02-01T00:00:00Z", &n);
	ck_assert_uint_eq(n, 2);
	free(v);
	v = expand(&r, "2900-01-01T00:00:00Z", "2900-02-01T00:00:00Z", &n);
	ck_assert_uint_eq(n, 0);
	/* Instants beyond the calendar are clamped, not overflowed. */
	ck_assert_int_eq(otd_shift_expand(&r, london, INT64_MIN, INT64_MIN + 5, &v, &n, &e),
	                 OTD_OK);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(bad_rrules_are_rejected_naming_the_field)
{
	static const char *const bad[] = {
	    "",
	    "garbage",
	    "RRULE:FREQ=WEEKLY;BYDAY=MO",
	    "BYDAY=MO",
	    "FREQ=HOURLY",
	    "FREQ=MINUTELY",
	    "FREQ=SECONDLY",
	    "FREQ=YEARLY",
	    "FREQ=FORTNIGHTLY",
	    "FREQ=WEEKLY;BYHOUR=8",
	    "FREQ=DAILY;BYMINUTE=0,30",
	    "FREQ=DAILY;BYSECOND=0",
	    "FREQ=WEEKLY;FOO=BAR",
	    "FREQ=WEEKLY;X-NAME=1",
	    "FREQ=WEEKLY;;BYDAY=MO",
	    "FREQ=WEEKLY;",
	    "FREQ=WEEKLY;BYDAY",
	    "FREQ=WEEKLY;BYDAY=",
	    "FREQ=WEEKLY;BYDAY=XX",
	    "FREQ=WEEKLY;BYDAY=1MO",
	    "FREQ=DAILY;BYDAY=-1FR",
	    "FREQ=WEEKLY;BYMONTHDAY=3",
	    "FREQ=MONTHLY;BYMONTHDAY=32",
	    "FREQ=WEEKLY;BYYEARDAY=10",
	    "FREQ=WEEKLY;BYWEEKNO=10",
	    "FREQ=WEEKLY;COUNT=3;UNTIL=20260101",
	    "FREQ=WEEKLY;UNTIL=2026",
	    "FREQ=WEEKLY;UNTIL=20260230",
	    "FREQ=WEEKLY;UNTIL=20260101T250000Z",
	    "FREQ=WEEKLY;UNTIL=20260101X080000",
	    "FREQ=WEEKLY;INTERVAL=0",
	    "FREQ=WEEKLY;COUNT=0",
	    "FREQ=DAILY;COUNT=10001",
	    "FREQ=WEEKLY;FREQ=DAILY",
	    "FREQ=WEEKLY;BYDAY=MO;BYDAY=TU",
	    "FREQ=DAILY;RSCALE=GREGORIAN",
	    "FREQ=DAILY;SKIP=FORWARD",
	    "FREQ=WEEKLY BYDAY=MO",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct otd_shift_rule r = rule("2026-03-02T08:00", 480, bad[i]);
		struct otd_error e;
		otd_error_clear(&e);
		ck_assert_msg(otd_shift_validate(&r, &e) == OTD_EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_str_eq(e.code, "bad_rrule");
		ck_assert_str_eq(e.field, "rrule");
		ck_assert_ptr_nonnull(strstr(e.message, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"));
		/* Expansion validates too. */
		struct otd_interval *v = (struct otd_interval *)1;
		size_t n = 7;
		ck_assert_int_eq(otd_shift_expand(&r, london, 0, 1, &v, &n, &e), OTD_EINVAL);
		ck_assert_ptr_null(v);
		ck_assert_uint_eq(n, 0);
	}
	/* An RRULE that fills the whole buffer without its NUL. */
	struct otd_shift_rule r = rule("2026-03-02T08:00", 480, "FREQ=DAILY");
	memset(r.rrule, 'A', sizeof(r.rrule));
	struct otd_error e;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "rrule");
}
END_TEST

START_TEST(good_rrules_are_accepted)
{
	static const char *const good[] = {
	    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
	    "freq=weekly;byday=mo",
	    "FREQ=DAILY",
	    "FREQ=DAILY;INTERVAL=2;COUNT=10",
	    "FREQ=MONTHLY;BYDAY=1MO",
	    "FREQ=MONTHLY;BYMONTHDAY=-1",
	    "FREQ=WEEKLY;WKST=SU;BYDAY=SA,SU;UNTIL=20261231T235959Z",
	    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
	    "FREQ=DAILY;BYMONTH=6,7,8",
	    "FREQ=DAILY;COUNT=10000",
	};
	for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct otd_shift_rule r = rule("2026-03-02T08:00", 480, good[i]);
		struct otd_error e;
		otd_error_clear(&e);
		ck_assert_msg(otd_shift_validate(&r, &e) == OTD_OK, "%s: %s", good[i], e.message);
	}
}
END_TEST

START_TEST(other_fields_are_checked_and_named)
{
	struct otd_error e;
	struct otd_shift_rule r = rule("2026-03-02T08:00", 0, "FREQ=DAILY");
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "duration_minutes");
	ck_assert_str_eq(e.code, "bad_duration");
	r.duration_min = 1441;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "duration_minutes");
	r.duration_min = 1440;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_OK);
	r.duration_min = 1;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_OK);

	r.dtstart.day = 30;
	r.dtstart.month = 2;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "dtstart");
	ck_assert_str_eq(e.code, "bad_dtstart");
	r = rule("2583-01-01T08:00", 60, "FREQ=DAILY");
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "dtstart");
	r = rule("2026-03-02T08:00", 60, "FREQ=DAILY");
	r.dtstart.hour = 24;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "dtstart");

	r = rule("2026-03-02T08:00", 60, "FREQ=DAILY");
	struct otd_civil ex[] = {{2026, 3, 3, 0, 0, 0}, {2026, 2, 29, 0, 0, 0}};
	r.exdates = ex;
	r.n_exdates = 2;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "exdates");
	ck_assert_str_eq(e.code, "bad_exdate");
	ck_assert_ptr_nonnull(strstr(e.message, "number 2"));
	r.exdates = NULL;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_EINVAL);
	ck_assert_str_eq(e.field, "exdates");
	r.n_exdates = OTD_SHIFT_EXDATES_MAX + 1;
	ck_assert_int_eq(otd_shift_validate(&r, &e), OTD_ETOOBIG);
	ck_assert_str_eq(e.field, "exdates");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shift");
	TCase *tc = tcase_create("shift");
	tcase_add_unchecked_fixture(tc, london_setup, london_teardown);
	/* The window comparison expands a few hundred ranges; ASan is slow. */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, weekdays_at_eight_stay_at_eight_across_both_changes);
	tcase_add_test(tc, exdate_drops_that_day_only);
	tcase_add_test(tc, count_counts_from_dtstart_and_includes_exdates);
	tcase_add_test(tc, until_in_each_form_includes_its_own_shift);
	tcase_add_test(tc, start_in_the_missing_hour_uses_the_offset_before_the_gap);
	tcase_add_test(tc, night_shift_over_the_change_lasts_its_real_length);
	tcase_add_test(tc, overlap_not_containment_decides_inclusion);
	tcase_add_test(tc, window_expansion_matches_full_expansion);
	tcase_add_test(tc, range_too_large_is_an_error);
	tcase_add_test(tc, bad_rrules_are_rejected_naming_the_field);
	tcase_add_test(tc, good_rrules_are_accepted);
	tcase_add_test(tc, other_fields_are_checked_and_named);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
