/* Unit tests: the offset table (core/tz.c) built from tzdata by
 * app/tzload.c, on the days the clocks change. Expected instants were
 * checked against zdump(8) from the same tzdata. */
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/tz.h"
#include "testutil.h"

/* Built once in the parent (unchecked fixture) before check forks. */
static struct otd_tz *london, *new_york, *lord_howe, *utc;

static struct otd_tz *load(const char *name)
{
	struct otd_tz *tz = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = tzload_build(name, TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &tz, &e);
	ck_assert_msg(st == OTD_OK, "%s: %s", name, e.message);
	ck_assert_str_eq(otd_tz_name(tz), name);
	return tz;
}

static void zones_setup(void)
{
	london = load("Europe/London");
	new_york = load("America/New_York");
	lord_howe = load("Australia/Lord_Howe");
	utc = load("UTC");
}

static void zones_teardown(void)
{
	otd_tz_free(london);
	otd_tz_free(new_york);
	otd_tz_free(lord_howe);
	otd_tz_free(utc);
	tzload_shutdown();
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s: %s", s, e.message);
	return t;
}

static struct otd_civil civil(int y, int mo, int d, int h, int mi, int s)
{
	struct otd_civil c = {y, mo, d, h, mi, s};
	return c;
}

static void assert_local(const struct otd_tz *tz, int64_t utc_t, const char *want)
{
	char buf[OTD_TZ_LOCAL_SIZE];
	ck_assert_uint_eq(otd_tz_format_local(tz, utc_t, buf, sizeof(buf)), strlen(want));
	ck_assert_str_eq(buf, want);
}

START_TEST(table_rejects_bad_input_and_handles_fixed_offsets)
{
	int64_t at_ok[] = {100, 200};
	int64_t at_bad[] = {200, 200};
	int32_t off[] = {3600, 0};
	ck_assert_ptr_null(otd_tz_new("X", 0, at_bad, off, 2));
	ck_assert_ptr_null(otd_tz_new(NULL, 0, at_ok, off, 2));
	int32_t huge[] = {27 * 3600, 0};
	ck_assert_ptr_null(otd_tz_new("X", 0, at_ok, huge, 2));

	struct otd_tz *tz = otd_tz_new("X", -1800, at_ok, off, 2);
	ck_assert_ptr_nonnull(tz);
	ck_assert_uint_eq(otd_tz_transition_count(tz), 2);
	ck_assert_int_eq(otd_tz_offset_at(tz, 99), -1800);
	ck_assert_int_eq(otd_tz_offset_at(tz, 100), 3600);
	ck_assert_int_eq(otd_tz_offset_at(tz, 199), 3600);
	ck_assert_int_eq(otd_tz_offset_at(tz, 200), 0);
	ck_assert_int_eq(otd_tz_offset_at(tz, INT64_MAX / 2), 0);
	otd_tz_free(tz);

	tz = otd_tz_new("Fixed+0530", 19800, NULL, NULL, 0);
	ck_assert_ptr_nonnull(tz);
	ck_assert_int_eq(otd_tz_offset_at(tz, 0), 19800);
	ck_assert_int_eq(otd_tz_day_length(tz, 2026, 3, 29), 86400);
	ck_assert_int_eq(otd_tz_day_start(tz, 2026, 3, 29), at("2026-03-28T18:30:00Z"));
	assert_local(tz, at("2026-03-03T10:00:00Z"), "2026-03-03T15:30:00+05:30");
	otd_tz_free(tz);
	otd_tz_free(NULL);
}
END_TEST

START_TEST(london_offsets_change_at_the_exact_second)
{
	int64_t spring = at("2026-03-29T01:00:00Z");
	int64_t autumn = at("2026-10-25T01:00:00Z");
	ck_assert_int_eq(otd_tz_offset_at(london, spring - 1), 0);
	ck_assert_int_eq(otd_tz_offset_at(london, spring), 3600);
	ck_assert_int_eq(otd_tz_offset_at(london, autumn - 1), 3600);
	ck_assert_int_eq(otd_tz_offset_at(london, autumn), 0);
	/* A few more years, including the far end of the table. */
	ck_assert_int_eq(otd_tz_offset_at(london, at("1990-03-25T00:59:59Z")), 0);
	ck_assert_int_eq(otd_tz_offset_at(london, at("1990-03-25T01:00:00Z")), 3600);
	ck_assert_int_eq(otd_tz_offset_at(london, at("2050-03-27T00:59:59Z")), 0);
	ck_assert_int_eq(otd_tz_offset_at(london, at("2050-03-27T01:00:00Z")), 3600);
	ck_assert_int_eq(otd_tz_offset_at(london, at("2100-10-31T00:59:59Z")), 3600);
	ck_assert_int_eq(otd_tz_offset_at(london, at("2100-10-31T01:00:00Z")), 0);
	/* Two changes a year, 1990..2100. */
	ck_assert_uint_eq(otd_tz_transition_count(london), 2 * 111);
}
END_TEST

START_TEST(london_to_local_across_both_changes)
{
	struct otd_local l;
	otd_tz_to_local(london, at("2026-03-29T00:59:59Z"), &l);
	ck_assert_int_eq(l.c.hour, 0);
	ck_assert_int_eq(l.c.minute, 59);
	ck_assert_int_eq(l.offset, 0);
	ck_assert_int_eq(l.weekday, 6);
	otd_tz_to_local(london, at("2026-03-29T01:00:00Z"), &l);
	ck_assert_int_eq(l.c.day, 29);
	ck_assert_int_eq(l.c.hour, 2);
	ck_assert_int_eq(l.c.minute, 0);
	ck_assert_int_eq(l.offset, 3600);
	otd_tz_to_local(london, at("2026-10-24T23:30:00Z"), &l);
	ck_assert_int_eq(l.c.day, 25);
	ck_assert_int_eq(l.c.hour, 0);
	ck_assert_int_eq(l.weekday, 6);
	otd_tz_to_local(london, at("2026-10-25T01:00:00Z"), &l);
	ck_assert_int_eq(l.c.hour, 1);
	ck_assert_int_eq(l.offset, 0);
}
END_TEST

START_TEST(london_day_lengths_and_starts)
{
	ck_assert_int_eq(otd_tz_day_length(london, 2026, 3, 28), 86400);
	ck_assert_int_eq(otd_tz_day_length(london, 2026, 3, 29), 23 * 3600);
	ck_assert_int_eq(otd_tz_day_length(london, 2026, 3, 30), 86400);
	ck_assert_int_eq(otd_tz_day_length(london, 2026, 7, 1), 86400);
	ck_assert_int_eq(otd_tz_day_length(london, 2026, 10, 24), 86400);
	ck_assert_int_eq(otd_tz_day_length(london, 2026, 10, 25), 25 * 3600);
	ck_assert_int_eq(otd_tz_day_length(london, 2026, 10, 26), 86400);
	ck_assert_int_eq(otd_tz_day_start(london, 2026, 3, 29), at("2026-03-29T00:00:00Z"));
	ck_assert_int_eq(otd_tz_day_start(london, 2026, 3, 30), at("2026-03-29T23:00:00Z"));
	ck_assert_int_eq(otd_tz_day_start(london, 2026, 10, 25), at("2026-10-24T23:00:00Z"));
	ck_assert_int_eq(otd_tz_day_start(london, 2026, 10, 26), at("2026-10-26T00:00:00Z"));
	/* Over a whole year the days add up to the year. */
	int64_t sum = 0;
	for(int64_t d = otd_days_from_civil(2026, 1, 1); d < otd_days_from_civil(2027, 1, 1); d++) {
		int y, m, dd;
		otd_civil_from_days(d, &y, &m, &dd);
		sum += otd_tz_day_length(london, y, m, dd);
	}
	ck_assert_int_eq(sum, 365 * 86400);
}
END_TEST

START_TEST(london_missing_hour_is_a_gap)
{
	int64_t e = 0, l = 0;
	struct otd_civil c = civil(2026, 3, 29, 1, 30, 0);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_GAP);
	ck_assert_int_eq(e, at("2026-03-29T01:30:00Z")); /* 01:30 GMT, which reads 02:30 BST */
	ck_assert_int_eq(l, at("2026-03-29T00:30:00Z")); /* 01:30 BST, which reads 00:30 GMT */
	assert_local(london, e, "2026-03-29T02:30:00+01:00");
	assert_local(london, l, "2026-03-29T00:30:00+00:00");
	/* The gap is [01:00:00, 02:00:00) local, to the second. */
	c = civil(2026, 3, 29, 1, 0, 0);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_GAP);
	c = civil(2026, 3, 29, 1, 59, 59);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_GAP);
	c = civil(2026, 3, 29, 0, 59, 59);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_UNIQUE);
	ck_assert_int_eq(e, at("2026-03-29T00:59:59Z"));
	ck_assert_int_eq(l, e);
	c = civil(2026, 3, 29, 2, 0, 0);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_UNIQUE);
	ck_assert_int_eq(e, at("2026-03-29T01:00:00Z"));
	ck_assert_int_eq(otd_tz_from_local(london, &c, NULL, NULL), OTD_LOCAL_UNIQUE);
}
END_TEST

START_TEST(london_repeated_hour_is_an_overlap)
{
	int64_t e = 0, l = 0;
	struct otd_civil c = civil(2026, 10, 25, 1, 30, 0);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_OVERLAP);
	ck_assert_int_eq(e, at("2026-10-25T00:30:00Z"));
	ck_assert_int_eq(l, at("2026-10-25T01:30:00Z"));
	assert_local(london, e, "2026-10-25T01:30:00+01:00");
	assert_local(london, l, "2026-10-25T01:30:00+00:00");
	/* The repeated hour is [01:00:00, 02:00:00) local. */
	c = civil(2026, 10, 25, 1, 0, 0);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_OVERLAP);
	ck_assert_int_eq(e, at("2026-10-25T00:00:00Z"));
	ck_assert_int_eq(l, at("2026-10-25T01:00:00Z"));
	c = civil(2026, 10, 25, 0, 59, 59);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_UNIQUE);
	ck_assert_int_eq(e, at("2026-10-24T23:59:59Z"));
	c = civil(2026, 10, 25, 2, 0, 0);
	ck_assert_int_eq(otd_tz_from_local(london, &c, &e, &l), OTD_LOCAL_UNIQUE);
	ck_assert_int_eq(e, at("2026-10-25T02:00:00Z"));
}
END_TEST

START_TEST(london_format_local_across_both_changes)
{
	assert_local(london, at("2026-03-29T00:59:59Z"), "2026-03-29T00:59:59+00:00");
	assert_local(london, at("2026-03-29T01:00:00Z"), "2026-03-29T02:00:00+01:00");
	assert_local(london, at("2026-03-29T02:00:00Z"), "2026-03-29T03:00:00+01:00");
	assert_local(london, at("2026-10-25T00:59:59Z"), "2026-10-25T01:59:59+01:00");
	assert_local(london, at("2026-10-25T01:00:00Z"), "2026-10-25T01:00:00+00:00");
	assert_local(london, at("2026-03-03T10:00:00Z"), "2026-03-03T10:00:00+00:00");
	/* The local form is a valid RFC 3339 instant for the same moment. */
	char buf[OTD_TZ_LOCAL_SIZE];
	for(int64_t t = at("2026-03-28T00:00:00Z"); t < at("2026-03-30T00:00:00Z"); t += 600) {
		otd_tz_format_local(london, t, buf, sizeof(buf));
		ck_assert_int_eq(at(buf), t);
	}
	char small[25];
	ck_assert_uint_eq(otd_tz_format_local(london, 0, small, sizeof(small)), 0);
	ck_assert_str_eq(small, "");
}
END_TEST

/* Every instant of a year read as local time converts back to itself (as
 * one of the two readings in the repeated hour). */
START_TEST(local_round_trip_every_ten_minutes)
{
	const struct otd_tz *zones[] = {london, new_york, lord_howe, utc};
	for(size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		for(int64_t t = at("2026-01-01T00:00:00Z"); t < at("2027-01-01T00:00:00Z");
		    t += 600) {
			struct otd_local l;
			int64_t e, lt;
			otd_tz_to_local(zones[z], t, &l);
			enum otd_local_kind k = otd_tz_from_local(zones[z], &l.c, &e, &lt);
			if(k == OTD_LOCAL_GAP || (e != t && lt != t))
				ck_abort_msg("%s at %lld", otd_tz_name(zones[z]), (long long)t);
		}
	}
}
END_TEST

START_TEST(new_york_spot_checks)
{
	ck_assert_int_eq(otd_tz_offset_at(new_york, at("2026-03-08T06:59:59Z")), -5 * 3600);
	ck_assert_int_eq(otd_tz_offset_at(new_york, at("2026-03-08T07:00:00Z")), -4 * 3600);
	ck_assert_int_eq(otd_tz_offset_at(new_york, at("2026-11-01T05:59:59Z")), -4 * 3600);
	ck_assert_int_eq(otd_tz_offset_at(new_york, at("2026-11-01T06:00:00Z")), -5 * 3600);
	ck_assert_int_eq(otd_tz_day_length(new_york, 2026, 3, 8), 23 * 3600);
	ck_assert_int_eq(otd_tz_day_length(new_york, 2026, 11, 1), 25 * 3600);
	ck_assert_int_eq(otd_tz_day_start(new_york, 2026, 3, 8), at("2026-03-08T05:00:00Z"));
	int64_t e, l;
	struct otd_civil c = civil(2026, 3, 8, 2, 30, 0);
	ck_assert_int_eq(otd_tz_from_local(new_york, &c, &e, &l), OTD_LOCAL_GAP);
	/* RFC 5545 section 3.3.5's own example: 02:30 EST, i.e. 03:30 EDT. */
	assert_local(new_york, e, "2026-03-08T03:30:00-04:00");
	c = civil(2026, 11, 1, 1, 30, 0);
	ck_assert_int_eq(otd_tz_from_local(new_york, &c, &e, &l), OTD_LOCAL_OVERLAP);
	assert_local(new_york, e, "2026-11-01T01:30:00-04:00");
	assert_local(new_york, l, "2026-11-01T01:30:00-05:00");
	assert_local(new_york, at("2026-07-04T16:00:00Z"), "2026-07-04T12:00:00-04:00");
}
END_TEST

/* Lord Howe Island moves its clocks by 30 minutes, at 02:00 local. */
START_TEST(lord_howe_half_hour_dst)
{
	ck_assert_int_eq(otd_tz_offset_at(lord_howe, at("2026-04-04T14:59:59Z")), 39600);
	ck_assert_int_eq(otd_tz_offset_at(lord_howe, at("2026-04-04T15:00:00Z")), 37800);
	ck_assert_int_eq(otd_tz_offset_at(lord_howe, at("2026-10-03T15:29:59Z")), 37800);
	ck_assert_int_eq(otd_tz_offset_at(lord_howe, at("2026-10-03T15:30:00Z")), 39600);
	ck_assert_int_eq(otd_tz_day_length(lord_howe, 2026, 4, 5), 86400 + 1800);
	ck_assert_int_eq(otd_tz_day_length(lord_howe, 2026, 10, 4), 86400 - 1800);
	ck_assert_int_eq(otd_tz_day_start(lord_howe, 2026, 4, 5), at("2026-04-04T13:00:00Z"));
	int64_t e, l;
	struct otd_civil c = civil(2026, 10, 4, 2, 15, 0);
	ck_assert_int_eq(otd_tz_from_local(lord_howe, &c, &e, &l), OTD_LOCAL_GAP);
	ck_assert_int_eq(e - l, 1800);
	assert_local(lord_howe, e, "2026-10-04T02:45:00+11:00");
	c = civil(2026, 4, 5, 1, 45, 0);
	ck_assert_int_eq(otd_tz_from_local(lord_howe, &c, &e, &l), OTD_LOCAL_OVERLAP);
	assert_local(lord_howe, e, "2026-04-05T01:45:00+11:00");
	assert_local(lord_howe, l, "2026-04-05T01:45:00+10:30");
}
END_TEST

START_TEST(utc_has_no_transitions)
{
	ck_assert_uint_eq(otd_tz_transition_count(utc), 0);
	ck_assert_int_eq(otd_tz_offset_at(utc, at("2026-07-01T12:00:00Z")), 0);
	ck_assert_int_eq(otd_tz_day_length(utc, 2026, 3, 29), 86400);
	assert_local(utc, at("2026-03-29T01:30:00Z"), "2026-03-29T01:30:00+00:00");
}
END_TEST

/* A zone whose midnight is skipped: the day starts when the clocks land. */
START_TEST(skipped_midnight_starts_the_day_at_the_transition)
{
	int64_t t = at("2026-10-18T03:00:00Z"); /* 00:00 at -03:00 becomes 01:00 at -02:00 */
	int64_t ats[] = {t};
	int32_t offs[] = {-7200};
	struct otd_tz *tz = otd_tz_new("Test/Sao_Paulo_2018_rules", -10800, ats, offs, 1);
	ck_assert_int_eq(otd_tz_day_start(tz, 2026, 10, 18), t);
	ck_assert_int_eq(otd_tz_day_length(tz, 2026, 10, 18), 23 * 3600);
	ck_assert_int_eq(otd_tz_day_length(tz, 2026, 10, 17), 86400);
	otd_tz_free(tz);
}
END_TEST

START_TEST(unknown_zone_is_an_error_naming_it)
{
	struct otd_tz *tz = (struct otd_tz *)1;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(tzload_build("Mars/Olympus_Mons", 1990, 2100, &tz, &e), OTD_EINVAL);
	ck_assert_ptr_null(tz);
	ck_assert_str_eq(e.code, "unknown_time_zone");
	ck_assert_str_eq(e.field, "timezone");
	ck_assert_ptr_nonnull(strstr(e.message, "Mars/Olympus_Mons"));
	ck_assert_ptr_nonnull(strstr(e.message, "tzdata"));
	static const char *const bad_names[] = {"", "../../etc/passwd", "/etc/localtime",
	                                        "Europe/London ", "Europe/Lon\"don"};
	for(size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		otd_error_clear(&e);
		ck_assert_int_eq(tzload_build(bad_names[i], 1990, 2100, &tz, &e), OTD_EINVAL);
		ck_assert_str_eq(e.code, "unknown_time_zone");
	}
	ck_assert_int_eq(tzload_build(NULL, 1990, 2100, &tz, &e), OTD_EINVAL);
	ck_assert_int_eq(tzload_build("Europe/London", 2100, 1990, &tz, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "bad_years");
	ck_assert_int_eq(tzload_build("Europe/London", 1800, 1990, &tz, &e), OTD_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tz");
	TCase *tc = tcase_create("tz");
	tcase_add_unchecked_fixture(tc, zones_setup, zones_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, table_rejects_bad_input_and_handles_fixed_offsets);
	tcase_add_test(tc, london_offsets_change_at_the_exact_second);
	tcase_add_test(tc, london_to_local_across_both_changes);
	tcase_add_test(tc, london_day_lengths_and_starts);
	tcase_add_test(tc, london_missing_hour_is_a_gap);
	tcase_add_test(tc, london_repeated_hour_is_an_overlap);
	tcase_add_test(tc, london_format_local_across_both_changes);
	tcase_add_test(tc, local_round_trip_every_ten_minutes);
	tcase_add_test(tc, new_york_spot_checks);
	tcase_add_test(tc, lord_howe_half_hour_dst);
	tcase_add_test(tc, utc_has_no_transitions);
	tcase_add_test(tc, skipped_midnight_starts_the_day_at_the_transition);
	tcase_add_test(tc, unknown_zone_is_an_error_naming_it);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
