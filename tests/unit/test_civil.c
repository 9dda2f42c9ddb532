/* Unit tests: civil dates, RFC 3339 instants, dates and floating local times. */
#include <string.h>

#include "onthedot/civil.h"
#include "testutil.h"

START_TEST(days_from_civil_known_dates)
{
	ck_assert_int_eq(otd_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(otd_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(otd_days_from_civil(2026, 3, 3), 20515);
	ck_assert_int_eq(otd_days_from_civil(1900, 1, 1), -25567);
	ck_assert_int_eq(otd_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(otd_days_from_civil(2999, 12, 31), 376199);
	/* The leap day of a year divisible by 400 exists; of 1900 and 2100 not. */
	ck_assert_int_eq(otd_days_from_civil(2000, 3, 1) - otd_days_from_civil(2000, 2, 28), 2);
	ck_assert_int_eq(otd_days_from_civil(2100, 3, 1) - otd_days_from_civil(2100, 2, 28), 1);
	ck_assert_int_eq(otd_days_from_civil(1900, 3, 1) - otd_days_from_civil(1900, 2, 28), 1);
}
END_TEST

/* check records every assertion (a write to its pipe), so the sweeps test
 * plainly and assert only on a failure. */
#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if(!(cond))                                                                        \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while(0)

START_TEST(every_day_1900_to_2999_round_trips)
{
	int64_t first = otd_days_from_civil(1900, 1, 1);
	int64_t last = otd_days_from_civil(2999, 12, 31);
	int py = 1899, pm = 12, pd = 31;
	int count = 0;
	for(int64_t days = first; days <= last; days++) {
		int y, m, d;
		otd_civil_from_days(days, &y, &m, &d);
		REQUIRE(otd_days_from_civil(y, m, d) == days, "day %lld", (long long)days);
		REQUIRE(otd_date_valid(y, m, d), "%d-%d-%d", y, m, d);
		/* Consecutive day numbers are consecutive calendar days. */
		if(d == 1) {
			REQUIRE(pd == otd_days_in_month(py, pm), "%d-%d ended on %d", py, pm, pd);
			REQUIRE(m == pm + 1 || (m == 1 && pm == 12 && y == py + 1), "%d-%d", y, m);
		} else {
			REQUIRE(d == pd + 1 && m == pm && y == py, "%d-%d-%d", y, m, d);
		}
		REQUIRE(otd_weekday(days) == (otd_weekday(days - 1) + 1) % 7, "%d-%d-%d", y, m, d);
		py = y, pm = m, pd = d;
		count++;
	}
	/* 1100 years: 267 leap years (every 4th, less 1900, 2100, 2200, 2300,
	 * 2500, 2600, 2700, 2900). */
	ck_assert_int_eq(count, 1100 * 365 + 267);
	ck_assert_int_eq(py, 2999);
	ck_assert_int_eq(pm, 12);
	ck_assert_int_eq(pd, 31);
}
END_TEST

START_TEST(days_far_outside_the_range_round_trip)
{
	for(int64_t days = -800000; days <= 800000; days += 997) {
		int y, m, d;
		otd_civil_from_days(days, &y, &m, &d);
		REQUIRE(otd_days_from_civil(y, m, d) == days, "day %lld", (long long)days);
	}
}
END_TEST

START_TEST(weekday_of_known_dates)
{
	ck_assert_int_eq(otd_weekday(otd_days_from_civil(1970, 1, 1)), 3);  /* Thursday */
	ck_assert_int_eq(otd_weekday(otd_days_from_civil(1900, 1, 1)), 0);  /* Monday */
	ck_assert_int_eq(otd_weekday(otd_days_from_civil(2000, 1, 1)), 5);  /* Saturday */
	ck_assert_int_eq(otd_weekday(otd_days_from_civil(2026, 3, 3)), 1);  /* Tuesday */
	ck_assert_int_eq(otd_weekday(otd_days_from_civil(2026, 3, 29)), 6); /* Sunday */
	ck_assert_int_eq(otd_weekday(otd_days_from_civil(1969, 12, 29)), 0);
	ck_assert_int_eq(otd_weekday(otd_days_from_civil(2999, 12, 31)), 1); /* Tuesday */
}
END_TEST

START_TEST(date_valid_checks_ranges_and_leap_years)
{
	ck_assert(otd_date_valid(2024, 2, 29));
	ck_assert(!otd_date_valid(2026, 2, 29));
	ck_assert(otd_date_valid(2000, 2, 29));
	ck_assert(!otd_date_valid(1900, 2, 29));
	ck_assert(!otd_date_valid(2100, 2, 29));
	ck_assert(!otd_date_valid(2026, 4, 31));
	ck_assert(!otd_date_valid(2026, 13, 1));
	ck_assert(!otd_date_valid(2026, 0, 1));
	ck_assert(!otd_date_valid(2026, 1, 0));
	ck_assert(otd_date_valid(1900, 1, 1));
	ck_assert(!otd_date_valid(1899, 12, 31));
	ck_assert(otd_date_valid(2999, 12, 31));
	ck_assert(!otd_date_valid(3000, 1, 1));
	ck_assert_int_eq(otd_days_in_month(2026, 0), 0);
	ck_assert_int_eq(otd_days_in_month(2026, 13), 0);
}
END_TEST

START_TEST(civil_seconds_convert_both_ways)
{
	struct otd_civil c;
	otd_civil_from_seconds(-1, &c);
	ck_assert_int_eq(c.year, 1969);
	ck_assert_int_eq(c.month, 12);
	ck_assert_int_eq(c.day, 31);
	ck_assert_int_eq(c.hour, 23);
	ck_assert_int_eq(c.minute, 59);
	ck_assert_int_eq(c.second, 59);
	ck_assert_int_eq(otd_civil_to_seconds(&c), -1);
	for(int64_t t = -2300000000LL; t < 33000000000LL; t += 7777777) {
		otd_civil_from_seconds(t, &c);
		REQUIRE(otd_civil_to_seconds(&c) == t, "t %lld", (long long)t);
	}
	struct otd_civil a = {2026, 3, 29, 1, 30, 0}, b = {2026, 3, 29, 1, 30, 1};
	ck_assert_int_eq(otd_civil_cmp(&a, &b), -1);
	ck_assert_int_eq(otd_civil_cmp(&b, &a), 1);
	ck_assert_int_eq(otd_civil_cmp(&a, &a), 0);
}
END_TEST

static int64_t must_parse(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	otd_error_clear(&e);
	enum otd_status st = otd_rfc3339_parse(s, &t, &e);
	ck_assert_msg(st == OTD_OK, "%s: %s", s, e.message);
	return t;
}

START_TEST(rfc3339_parses_good_instants)
{
	static const struct {
		const char *s;
		int64_t t;
	} good[] = {
	    {"2026-03-03T10:00:00Z", 1772532000},
	    {"2026-03-03T11:00:00+01:00", 1772532000},
	    {"2026-03-03T04:30:00-05:30", 1772532000},
	    {"2026-03-03T10:00:00.5Z", 1772532000},
	    {"2026-03-03T10:00:00.999999999Z", 1772532000},
	    {"2026-03-03T10:00:00.000+00:00", 1772532000},
	    {"2026-03-03T10:00:00-00:00", 1772532000},
	    {"2026-03-03t10:00:00z", 1772532000},
	    {"1970-01-01T00:00:00Z", 0},
	    {"1969-12-31T23:59:59Z", -1},
	    {"1970-01-01T00:59:59+01:00", -1},
	    {"1900-01-01T00:00:00Z", -25567LL * 86400},
	    {"2024-02-29T23:59:59Z", 1709251199},
	    {"2999-12-31T23:59:59Z", 376200LL * 86400 - 1},
	    {"2026-03-03T23:59:59+23:59", 1772582399 - 86340},
	};
	for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(must_parse(good[i].s) == good[i].t, "%s", good[i].s);
}
END_TEST

START_TEST(rfc3339_rejects_bad_instants_saying_why)
{
	static const char *const bad[] = {
	    "",
	    "2026-03-03",
	    "2026-03-03T10:00Z",
	    "2026-03-03T10:00",
	    "2026-03-03 10:00:00Z",
	    "2026-03-03T10:00:00",
	    "2026-03-03T10:00:60Z",
	    "2026-03-03T24:00:00Z",
	    "2026-03-03T10:60:00Z",
	    "2026-13-03T10:00:00Z",
	    "2026-00-03T10:00:00Z",
	    "2026-03-00T10:00:00Z",
	    "2026-02-29T10:00:00Z",
	    "2026-04-31T10:00:00Z",
	    "2026-3-03T10:00:00Z",
	    "26-03-03T10:00:00Z",
	    "+2026-03-03T10:00:00Z",
	    "2026-03-03T1:00:00Z",
	    "2026-03-03T10:00:00+0100",
	    "2026-03-03T10:00:00+01",
	    "2026-03-03T10:00:00+24:00",
	    "2026-03-03T10:00:00+01:60",
	    "2026-03-03T10:00:00.Z",
	    "2026-03-03T10:00:00,5Z",
	    "2026-03-03T10:00:00ZZ",
	    "2026-03-03T10:00:00Z ",
	    " 2026-03-03T10:00:00Z",
	    "2026-03-03T10:00:00UTC",
	    "2026-03-03T10:00:00GMT+1",
	    "1899-12-31T23:59:59Z",
	    "3000-01-01T00:00:00Z",
	    "2026/03/03T10:00:00Z",
	    "2026-03-03T10-00-00Z",
	    "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x96-03-03T10:00:00Z", /* full-width digits
	                                                                         */
	    "2026-03-03T10:00:00Z\n",
	    "2026-03-03T10:00:0aZ",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct otd_error e;
		otd_error_clear(&e);
		int64_t t = 12345;
		enum otd_status st = otd_rfc3339_parse(bad[i], &t, &e);
		ck_assert_msg(st == OTD_EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_int_eq(e.status, OTD_EINVAL);
		ck_assert_str_eq(e.code, "bad_time");
		ck_assert_str_eq(e.field, "");
		ck_assert_msg(strstr(e.message, "2026-03-03T10:00:00Z") != NULL, "%s", e.message);
		ck_assert_int_eq(t, 12345); /* untouched on failure */
	}
	struct otd_error e;
	int64_t t;
	ck_assert_int_eq(otd_rfc3339_parse(NULL, &t, &e), OTD_EINVAL);
	otd_rfc3339_parse("2026-03-03T10:00:60Z", &t, &e);
	ck_assert_ptr_nonnull(strstr(e.message, "leap seconds"));
	otd_rfc3339_parse("2026-03-03T10:00Z", &t, &e);
	ck_assert_ptr_nonnull(strstr(e.message, "seconds are required"));
	otd_rfc3339_parse("2026-02-29T10:00:00Z", &t, &e);
	ck_assert_ptr_nonnull(strstr(e.message, "01 to 28 for 2026-02"));
	otd_rfc3339_parse("2026-03-03 10:00:00Z", &t, &e);
	ck_assert_ptr_nonnull(strstr(e.message, "'T'"));
	ck_assert_int_eq(otd_rfc3339_parse("2026-03-03T10:00:00", &t, NULL), OTD_EINVAL);
}
END_TEST

START_TEST(rfc3339_format_round_trips)
{
	char buf[OTD_RFC3339_SIZE];
	ck_assert_uint_eq(otd_rfc3339_format(0, buf, sizeof(buf)), 20);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	otd_rfc3339_format(1772532000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2026-03-03T10:00:00Z");
	otd_rfc3339_format(-1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	int64_t lo = otd_days_from_civil(1900, 1, 1) * 86400;
	int64_t hi = otd_days_from_civil(3000, 1, 1) * 86400;
	for(int64_t t = lo; t < hi; t += 86400 * 37 + 3607) {
		int64_t back = 0;
		REQUIRE(otd_rfc3339_format(t, buf, sizeof(buf)) == 20, "t %lld", (long long)t);
		REQUIRE(otd_rfc3339_parse(buf, &back, NULL) == OTD_OK && back == t, "%s", buf);
	}
	char small[20];
	ck_assert_uint_eq(otd_rfc3339_format(0, small, sizeof(small)), 0);
	ck_assert_str_eq(small, "");
	ck_assert_uint_eq(otd_rfc3339_format(0, NULL, 0), 0);
}
END_TEST

START_TEST(date_parse_and_format)
{
	int y, m, d;
	struct otd_error e;
	ck_assert_int_eq(otd_date_parse("2026-03-03", &y, &m, &d, &e), OTD_OK);
	ck_assert_int_eq(y, 2026);
	ck_assert_int_eq(m, 3);
	ck_assert_int_eq(d, 3);
	ck_assert_int_eq(otd_date_parse("2024-02-29", &y, &m, &d, &e), OTD_OK);
	static const char *const bad[] = {
	    "",           "2026-3-3",         "2026-03-3",   "20260303",
	    "2026-02-29", "2026-03-03T00:00", "2026-03-03 ", "1899-12-31",
	    "3000-01-01", "2026-13-01",       "2026-00-10",  "2026-03-32",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		y = m = d = -1;
		otd_error_clear(&e);
		ck_assert_msg(otd_date_parse(bad[i], &y, &m, &d, &e) == OTD_EINVAL, "%s", bad[i]);
		ck_assert_str_eq(e.code, "bad_date");
		ck_assert_str_eq(e.field, "");
		ck_assert_int_eq(y, -1);
	}
	char buf[11];
	otd_date_format(2026, 3, 3, buf);
	ck_assert_str_eq(buf, "2026-03-03");
	otd_date_format(900, 12, 31, buf);
	ck_assert_str_eq(buf, "0900-12-31");
	otd_date_format(2026, 13, 1, buf);
	ck_assert_str_eq(buf, "0000-00-00");
	otd_date_format(12026, 1, 1, buf);
	ck_assert_str_eq(buf, "0000-00-00");
}
END_TEST

START_TEST(local_parse_takes_floating_times_only)
{
	struct otd_civil c;
	struct otd_error e;
	ck_assert_int_eq(otd_local_parse("2026-03-29T01:30", &c, &e), OTD_OK);
	ck_assert_int_eq(c.year, 2026);
	ck_assert_int_eq(c.month, 3);
	ck_assert_int_eq(c.day, 29);
	ck_assert_int_eq(c.hour, 1);
	ck_assert_int_eq(c.minute, 30);
	ck_assert_int_eq(c.second, 0);
	ck_assert_int_eq(otd_local_parse("2026-10-25T01:30:45", &c, &e), OTD_OK);
	ck_assert_int_eq(c.second, 45);
	static const char *const bad[] = {
	    "",
	    "2026-03-29",
	    "2026-03-29T01",
	    "2026-03-29T01:30Z",
	    "2026-03-29T01:30:00Z",
	    "2026-03-29T01:30+01:00",
	    "2026-03-29T01:30:00.5",
	    "2026-03-29T24:00",
	    "2026-03-29T01:30:60",
	    "2026-03-29 01:30",
	    "2026-02-30T01:30",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		otd_error_clear(&e);
		ck_assert_msg(otd_local_parse(bad[i], &c, &e) == OTD_EINVAL, "%s", bad[i]);
		ck_assert_str_eq(e.code, "bad_local_time");
		ck_assert_str_eq(e.field, "");
	}
	otd_local_parse("2026-03-29T01:30Z", &c, &e);
	ck_assert_ptr_nonnull(strstr(e.message, "no offset"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("civil");
	TCase *tc = tcase_create("civil");
	/* The 1100-year sweep takes a while under ASan. */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, days_from_civil_known_dates);
	tcase_add_test(tc, every_day_1900_to_2999_round_trips);
	tcase_add_test(tc, days_far_outside_the_range_round_trip);
	tcase_add_test(tc, weekday_of_known_dates);
	tcase_add_test(tc, date_valid_checks_ranges_and_leap_years);
	tcase_add_test(tc, civil_seconds_convert_both_ways);
	tcase_add_test(tc, rfc3339_parses_good_instants);
	tcase_add_test(tc, rfc3339_rejects_bad_instants_saying_why);
	tcase_add_test(tc, rfc3339_format_round_trips);
	tcase_add_test(tc, date_parse_and_format);
	tcase_add_test(tc, local_parse_takes_floating_times_only);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
