/* Unit tests: robust log-normal learning with shrinkage (core/learn.c).
 * Expected values are worked out by hand from the rule in
 * onthedot/learn.h. */
#include <math.h>

#include "onthedot/learn.h"
#include "testutil.h"

START_TEST(nothing_learned_gives_the_prior)
{
	struct otd_lognormal_fit f;
	otd_learn_lognormal(NULL, 0, 1800, 0.4, OTD_LEARN_FULL_N, &f);
	ck_assert_double_eq(f.median, 1800);
	ck_assert_double_eq(f.sigma, 0.4);
	ck_assert_uint_eq(f.n, 0);
	double junk[] = {0, -5, NAN, INFINITY};
	otd_learn_lognormal(junk, 4, 1800, 0.4, OTD_LEARN_FULL_N, &f);
	ck_assert_double_eq(f.median, 1800);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_uint_eq(f.dropped, 4);
}
END_TEST

START_TEST(twenty_equal_values_are_learned_fully)
{
	double x[20];
	for(int i = 0; i < 20; i++)
		x[i] = 2400;
	struct otd_lognormal_fit f;
	otd_learn_lognormal(x, 20, 1800, 0.4, OTD_LEARN_FULL_N, &f);
	ck_assert_double_eq_tol(f.median, 2400, 1e-9);
	ck_assert_double_eq_tol(f.sigma, 0.0, 1e-12);
	ck_assert_uint_eq(f.n, 20);
}
END_TEST

START_TEST(few_values_shrink_toward_the_prior)
{
	double x[5] = {3600, 3600, 3600, 3600, 3600};
	struct otd_lognormal_fit f;
	otd_learn_lognormal(x, 5, 1800, 0.4, 20, &f);
	/* w = 5/20: log median = 0.25 ln 3600 + 0.75 ln 1800; sigma 0.75 * 0.4. */
	ck_assert_double_eq_tol(f.median, exp(0.25 * log(3600) + 0.75 * log(1800)), 1e-6);
	ck_assert_double_eq_tol(f.sigma, 0.3, 1e-12);
}
END_TEST

START_TEST(a_forgotten_done_tap_does_not_move_the_estimate)
{
	/* 19 visits of about 30 min and one "done" tapped at the end of the day. */
	double x[20];
	for(int i = 0; i < 19; i++)
		x[i] = 1800 * exp(0.1 * ((i % 5) - 2)); /* 0.82 .. 1.22 of 30 min */
	x[19] = 9 * 3600;
	struct otd_lognormal_fit f;
	otd_learn_lognormal(x, 20, 1200, 0.5, 19, &f);
	ck_assert_uint_eq(f.dropped, 1);
	ck_assert_uint_eq(f.n, 19);
	ck_assert_double_eq_tol(f.median, 1800, 1e-6); /* the median of the 19 */
	/* Deviations in the log: 0 (x4), 0.1 (x8), 0.2 (x7): MAD 0.1. */
	ck_assert_double_eq_tol(f.sigma, 0.14826, 1e-9);
}
END_TEST

START_TEST(the_spread_of_a_log_normal_sample_is_found)
{
	/* Deterministic quantiles of a log-normal (median 1000, sigma 0.3). */
	enum { N = 999 };
	static double x[N];
	for(int i = 0; i < N; i++) {
		double u = (i + 0.5) / N;
		/* Inverse of the normal cdf by bisection on erfc. */
		double lo = -10, hi = 10;
		for(int k = 0; k < 100; k++) {
			double mid = 0.5 * (lo + hi);
			if(0.5 * erfc(-mid / sqrt(2.0)) < u)
				lo = mid;
			else
				hi = mid;
		}
		x[i] = 1000 * exp(0.3 * lo);
	}
	struct otd_lognormal_fit f;
	otd_learn_lognormal(x, N, 50, 1.0, OTD_LEARN_FULL_N, &f);
	ck_assert_double_eq_tol(f.median, 1000, 1e-6);
	ck_assert_double_eq_tol(f.sigma, 0.3, 0.005);
	ck_assert_uint_eq(f.dropped, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("learn");
	TCase *tc = tcase_create("lognormal");
	tcase_add_test(tc, nothing_learned_gives_the_prior);
	tcase_add_test(tc, twenty_equal_values_are_learned_fully);
	tcase_add_test(tc, few_values_shrink_toward_the_prior);
	tcase_add_test(tc, a_forgotten_done_tap_does_not_move_the_estimate);
	tcase_add_test(tc, the_spread_of_a_log_normal_sample_is_found);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
