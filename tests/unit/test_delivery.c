/* Unit tests: delivery timing (core/delivery.c). Backoff: the ceiling
 * doubling to the cap, full jitter from the caller's u, at least a second,
 * no overflow however many attempts. Quiet hours in Europe/London, built
 * here as an offset table for 2025-2027 (the last Sundays of March and
 * October at 01:00 UTC, as zdump(8) shows), on both 2026 changes of the
 * clocks: exact answers for the cases a person would check, then a brute
 * force oracle (the wall clock read second by second through
 * otd_tz_to_local) over the days around each change for several periods. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/delivery.h"
#include "onthedot/tz.h"
#include "testutil.h"

static struct otd_tz *london;

static void setup(void)
{
	static const int64_t at[] = {1743296400, 1761440400, 1774746000,
	                             1792890000, 1806195600, 1824944400};
	static const int32_t off[] = {3600, 0, 3600, 0, 3600, 0};
	london = otd_tz_new("Europe/London", 0, at, off, 6);
	ck_assert_ptr_nonnull(london);
}

static void teardown(void)
{
	otd_tz_free(london);
	london = NULL;
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s: %s", s, e.message);
	return t;
}

/* The release for t given in RFC 3339, as London local RFC 3339. */
static void assert_release(const char *t, int start, int end, const char *want)
{
	char got[OTD_TZ_LOCAL_SIZE];
	otd_tz_format_local(london, otd_quiet_release(london, at(t), start, end), got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "%s quiet %d-%d: got %s, want %s", t, start, end, got,
	              want);
}

#define HM(h, m) ((h)*60 + (m))

START_TEST(backoff_doubles_to_the_cap)
{
	/* u = 0.5: half the ceiling 30, 60, 120, ... capped at 3600. */
	const int64_t want[] = {15, 30, 60, 120, 240, 480, 960, 1800, 1800, 1800};
	for(int a = 1; a <= 10; a++)
		ck_assert_int_eq(otd_backoff_seconds(a, 30, 3600, 0.5), want[a - 1]);
	/* Rounded up, and never below a second. */
	ck_assert_int_eq(otd_backoff_seconds(1, 30, 3600, 0.0), 1);
	ck_assert_int_eq(otd_backoff_seconds(1, 30, 3600, 0.0001), 1);
	ck_assert_int_eq(otd_backoff_seconds(1, 30, 3600, 0.34), 11);
	ck_assert_int_eq(otd_backoff_seconds(1, 30, 3600, 0.999), 30);
	ck_assert_int_eq(otd_backoff_seconds(3, 30, 3600, 1.0 - DBL_EPSILON), 120);
	/* The cap binds exactly where base * 2^(a-1) passes it. */
	ck_assert_int_eq(otd_backoff_seconds(7, 30, 1920, 1.0 - DBL_EPSILON), 1920);
	ck_assert_int_eq(otd_backoff_seconds(8, 30, 1920, 1.0 - DBL_EPSILON), 1920);
	ck_assert_int_eq(otd_backoff_seconds(6, 30, 1920, 1.0 - DBL_EPSILON), 960);
}
END_TEST

START_TEST(backoff_never_overflows_or_leaves_its_range)
{
	ck_assert_int_eq(otd_backoff_seconds(INT_MAX, 30, 3600, 0.5), 1800);
	ck_assert_int_eq(otd_backoff_seconds(INT_MAX, 30, 3600, 1.0 - DBL_EPSILON), 3600);
	ck_assert_int_eq(otd_backoff_seconds(INT_MAX, 1, INT_MAX, 1.0 - DBL_EPSILON), INT_MAX);
	ck_assert_int_eq(otd_backoff_seconds(INT_MAX, INT_MAX, INT_MAX, 0.5), 1073741824);
	ck_assert_int_eq(otd_backoff_seconds(40, 1, INT_MAX, 0.5), 1073741824);
	/* Out-of-range arguments land on the nearest sensible value. */
	ck_assert_int_eq(otd_backoff_seconds(0, 30, 3600, 0.5), 15);
	ck_assert_int_eq(otd_backoff_seconds(INT_MIN, 30, 3600, 0.5), 15);
	ck_assert_int_eq(otd_backoff_seconds(1, 0, 3600, 0.5), 1);
	ck_assert_int_eq(otd_backoff_seconds(1, -5, 3600, 0.99), 1);
	ck_assert_int_eq(otd_backoff_seconds(5, 30, 0, 0.99), 1);
	ck_assert_int_eq(otd_backoff_seconds(5, 30, 10, 0.99), 10);
	ck_assert_int_eq(otd_backoff_seconds(5, 30, 3600, -0.5), 1);
	ck_assert_int_eq(otd_backoff_seconds(5, 30, 3600, NAN), 1);
	ck_assert_int_eq(otd_backoff_seconds(5, 30, 3600, 1.0), 480);
	ck_assert_int_eq(otd_backoff_seconds(5, 30, 3600, 7.0), 480);
	ck_assert_int_eq(otd_backoff_seconds(5, 30, 3600, INFINITY), 480);
	/* Full jitter: every value from 1 to the ceiling, growing with u. */
	for(int a = 1; a <= 40; a++) {
		int64_t prev = 0, ceiling = a > 7 ? 3600 : 30LL << (a - 1);
		if(ceiling > 3600)
			ceiling = 3600;
		for(int k = 0; k < 1000; k++) {
			int64_t d = otd_backoff_seconds(a, 30, 3600, k / 1000.0);
			ck_assert_int_ge(d, 1);
			ck_assert_int_le(d, ceiling);
			ck_assert_int_ge(d, prev);
			prev = d;
		}
		ck_assert_int_ge(prev, ceiling - ceiling / 1000 - 1);
	}
}
END_TEST

START_TEST(quiet_hours_outside_and_inside)
{
	const int s = HM(21, 0), e = HM(8, 0);
	/* Outside: t itself, to the second. */
	assert_release("2026-03-03T12:00:00Z", s, e, "2026-03-03T12:00:00+00:00");
	assert_release("2026-03-03T20:59:59Z", s, e, "2026-03-03T20:59:59+00:00");
	assert_release("2026-03-03T08:00:00Z", s, e, "2026-03-03T08:00:00+00:00");
	/* Inside, before and after midnight. */
	assert_release("2026-03-03T21:00:00Z", s, e, "2026-03-04T08:00:00+00:00");
	assert_release("2026-03-03T23:59:59Z", s, e, "2026-03-04T08:00:00+00:00");
	assert_release("2026-03-04T00:00:00Z", s, e, "2026-03-04T08:00:00+00:00");
	assert_release("2026-03-04T07:59:59Z", s, e, "2026-03-04T08:00:00+00:00");
	/* In summer time the same wall clock: 21:00 BST is 20:00Z. */
	assert_release("2026-07-01T19:59:59Z", s, e, "2026-07-01T20:59:59+01:00");
	assert_release("2026-07-01T20:00:00Z", s, e, "2026-07-02T08:00:00+01:00");
	/* A period that does not cross midnight. */
	assert_release("2026-03-03T12:30:00Z", HM(12, 0), HM(14, 0), "2026-03-03T14:00:00+00:00");
	assert_release("2026-03-03T11:59:00Z", HM(12, 0), HM(14, 0), "2026-03-03T11:59:00+00:00");
	assert_release("2026-03-03T14:00:00Z", HM(12, 0), HM(14, 0), "2026-03-03T14:00:00+00:00");
	/* No quiet hours: equal bounds, or bounds out of range. */
	assert_release("2026-03-03T23:00:00Z", s, s, "2026-03-03T23:00:00+00:00");
	assert_release("2026-03-03T23:00:00Z", -1, e, "2026-03-03T23:00:00+00:00");
	assert_release("2026-03-03T23:00:00Z", s, OTD_DAY_MINUTES, "2026-03-03T23:00:00+00:00");
	/* Almost the whole day. */
	assert_release("2026-03-03T10:00:00Z", HM(8, 1), HM(8, 0), "2026-03-04T08:00:00+00:00");
}
END_TEST

START_TEST(quiet_hours_over_the_spring_change)
{
	/* Sunday 29 March 2026: 01:00 GMT becomes 02:00 BST; the night is an
	 * hour shorter but still ends at 08:00 on the clock. */
	const int s = HM(21, 0), e = HM(8, 0);
	assert_release("2026-03-28T21:00:00Z", s, e, "2026-03-29T08:00:00+01:00");
	assert_release("2026-03-29T00:59:59Z", s, e, "2026-03-29T08:00:00+01:00");
	assert_release("2026-03-29T01:00:00Z", s, e, "2026-03-29T08:00:00+01:00");
	assert_release("2026-03-29T06:59:59Z", s, e, "2026-03-29T08:00:00+01:00");
	assert_release("2026-03-29T07:00:00Z", s, e, "2026-03-29T08:00:00+01:00");
	assert_release("2026-03-29T20:00:00Z", s, e, "2026-03-30T08:00:00+01:00");
	assert_release("2026-03-29T19:59:59Z", s, e, "2026-03-29T20:59:59+01:00");
	/* A period ending at 01:30, which does not exist that night: it ends
	 * when the clocks jump past it, 01:00Z (02:00 BST). */
	assert_release("2026-03-28T23:00:00Z", HM(22, 0), HM(1, 30), "2026-03-29T02:00:00+01:00");
	assert_release("2026-03-29T00:59:59Z", HM(22, 0), HM(1, 30), "2026-03-29T02:00:00+01:00");
	/* A period starting at 01:30: it starts with the jump. */
	assert_release("2026-03-29T00:59:59Z", HM(1, 30), HM(7, 0), "2026-03-29T00:59:59+00:00");
	assert_release("2026-03-29T01:00:00Z", HM(1, 30), HM(7, 0), "2026-03-29T07:00:00+01:00");
	/* A period wholly inside the missing hour never happens that night. */
	assert_release("2026-03-29T00:30:00Z", HM(1, 10), HM(1, 50), "2026-03-29T00:30:00+00:00");
	assert_release("2026-03-29T01:00:00Z", HM(1, 10), HM(1, 50), "2026-03-29T02:00:00+01:00");
}
END_TEST

START_TEST(quiet_hours_over_the_autumn_change)
{
	/* Sunday 25 October 2026: 02:00 BST becomes 01:00 GMT; the night is
	 * an hour longer and still ends at 08:00 on the clock. */
	const int s = HM(21, 0), e = HM(8, 0);
	assert_release("2026-10-24T20:00:00Z", s, e, "2026-10-25T08:00:00+00:00");
	assert_release("2026-10-24T19:59:59Z", s, e, "2026-10-24T20:59:59+01:00");
	assert_release("2026-10-25T00:59:59Z", s, e, "2026-10-25T08:00:00+00:00");
	assert_release("2026-10-25T01:00:00Z", s, e, "2026-10-25T08:00:00+00:00");
	assert_release("2026-10-25T07:59:59Z", s, e, "2026-10-25T08:00:00+00:00");
	assert_release("2026-10-25T21:00:00Z", s, e, "2026-10-26T08:00:00+00:00");
	/* A period ending at 01:30, which shows twice: the first showing at
	 * or after t. */
	assert_release("2026-10-24T22:30:00Z", HM(23, 0), HM(1, 30), "2026-10-25T01:30:00+01:00");
	assert_release("2026-10-25T00:29:59Z", HM(23, 0), HM(1, 30), "2026-10-25T01:30:00+01:00");
	assert_release("2026-10-25T00:30:00Z", HM(23, 0), HM(1, 30), "2026-10-25T01:30:00+01:00");
	/* 01:10 GMT, the second time round: quiet again until 01:30 GMT. */
	assert_release("2026-10-25T01:10:00Z", HM(23, 0), HM(1, 30), "2026-10-25T01:30:00+00:00");
	/* 01:45 BST in a period from 01:30 to 03:00: at 02:00 BST the clocks
	 * go back to 01:00 GMT, outside the period, until 01:30 GMT. */
	assert_release("2026-10-25T00:45:00Z", HM(1, 30), HM(3, 0), "2026-10-25T01:00:00+00:00");
	assert_release("2026-10-25T01:30:00Z", HM(1, 30), HM(3, 0), "2026-10-25T03:00:00+00:00");
}
END_TEST

/* Quiet at utc by the wall clock, read the slow way. */
static bool oracle_quiet(int64_t utc, int start, int end)
{
	struct otd_local l;
	otd_tz_to_local(london, utc, &l);
	int sod = l.c.hour * 3600 + l.c.minute * 60 + l.c.second;
	int qs = start * 60, qe = end * 60;
	return qs < qe ? sod >= qs && sod < qe : sod >= qs || sod < qe;
}

START_TEST(quiet_hours_agree_with_the_wall_clock)
{
	const int periods[][2] = {
	    {HM(21, 0), HM(8, 0)},  {HM(22, 0), HM(1, 30)}, {HM(23, 0), HM(1, 30)},
	    {HM(1, 30), HM(3, 0)},  {HM(0, 30), HM(2, 30)}, {HM(1, 10), HM(1, 50)},
	    {HM(12, 0), HM(14, 0)}, {HM(2, 0), HM(1, 0)},   {HM(0, 0), HM(1, 0)},
	};
	const char *days[] = {"2026-03-28T12:00:00Z", "2026-10-24T12:00:00Z"};
	for(size_t d = 0; d < 2; d++) {
		int64_t from = at(days[d]);
		for(size_t p = 0; p < sizeof(periods) / sizeof(periods[0]); p++) {
			int s = periods[p][0], e = periods[p][1];
			/* Every 13 minutes and 17 seconds over two days. */
			for(int64_t t = from; t < from + 2 * 86400; t += 797) {
				int64_t r = otd_quiet_release(london, t, s, e);
				ck_assert_int_ge(r, t);
				ck_assert_msg(!oracle_quiet(r, s, e),
				              "t=%lld period %d: %lld is quiet", (long long)t,
				              (int)p, (long long)r);
				/* Every second before r is quiet (checked per second near
				 * r and each minute further back). */
				for(int64_t q = r - 1; q >= t; q -= (r - q < 120 ? 1 : 60))
					ck_assert_msg(oracle_quiet(q, s, e),
					              "t=%lld period %d: %lld not quiet",
					              (long long)t, (int)p, (long long)q);
			}
		}
	}
}
END_TEST

START_TEST(quiet_hours_in_a_fixed_zone_and_far_instants)
{
	struct otd_tz *utc = otd_tz_new("UTC", 0, NULL, NULL, 0);
	ck_assert_ptr_nonnull(utc);
	int64_t t = at("2026-03-03T22:15:30Z");
	ck_assert_int_eq(otd_quiet_release(utc, t, HM(21, 0), HM(8, 0)),
	                 at("2026-03-04T08:00:00Z"));
	/* Before 1970: floor arithmetic, not truncation. */
	t = at("1969-12-31T23:00:00Z");
	ck_assert_int_eq(otd_quiet_release(utc, t, HM(21, 0), HM(8, 0)),
	                 at("1970-01-01T08:00:00Z"));
	ck_assert_int_eq(otd_quiet_release(utc, INT64_MAX, HM(21, 0), HM(8, 0)), INT64_MAX);
	ck_assert_int_eq(otd_quiet_release(utc, INT64_MIN, HM(21, 0), HM(8, 0)), INT64_MIN);
	otd_tz_free(utc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("delivery");
	TCase *tc = tcase_create("delivery");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, backoff_doubles_to_the_cap);
	tcase_add_test(tc, backoff_never_overflows_or_leaves_its_range);
	tcase_add_test(tc, quiet_hours_outside_and_inside);
	tcase_add_test(tc, quiet_hours_over_the_spring_change);
	tcase_add_test(tc, quiet_hours_over_the_autumn_change);
	tcase_add_test(tc, quiet_hours_agree_with_the_wall_clock);
	tcase_add_test(tc, quiet_hours_in_a_fixed_zone_and_far_instants);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
