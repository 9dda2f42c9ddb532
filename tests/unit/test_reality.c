/* Unit tests: the simulator's random numbers and its model of reality
 * (core/reality.c). The generators are checked against the reference
 * code's outputs; the distributions statistically, over many draws from
 * fixed seeds, so every run draws the same numbers and a bound that holds
 * once holds always (each bound is several standard errors wide). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/reality.h"
#include "testutil.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Mean and standard deviation of v[0..n). */
static void mean_sd(const double *v, size_t n, double *mean, double *sd)
{
	double s = 0, ss = 0;
	for(size_t i = 0; i < n; i++)
		s += v[i];
	double m = s / (double)n;
	for(size_t i = 0; i < n; i++)
		ss += (v[i] - m) * (v[i] - m);
	*mean = m;
	*sd = sqrt(ss / (double)(n - 1));
}

/* Two generators are in the same place of the same stream. */
static void assert_in_step(struct otd_rng *a, struct otd_rng *b)
{
	ck_assert_int_eq(memcmp(a->s, b->s, sizeof(a->s)), 0);
	ck_assert_uint_eq(otd_rng_next(a), otd_rng_next(b));
}

/* g moved on n values from a generator seeded with seed. */
static void assert_took(struct otd_rng *g, uint64_t seed, int n)
{
	struct otd_rng ref;
	otd_rng_seed(&ref, seed);
	for(int i = 0; i < n; i++)
		otd_rng_next(&ref);
	assert_in_step(g, &ref);
}

/* ---- generators ---------------------------------------------------------- */

START_TEST(xoshiro_and_splitmix_match_the_reference_outputs)
{
	/* xoshiro256** from state {1, 2, 3, 4}: the reference code's first
	 * outputs (the same vector rand_xoshiro tests). */
	static const uint64_t want[] = {11520u,
	                                0u,
	                                1509978240u,
	                                1215971899390074240u,
	                                1216172134540287360u,
	                                607988272756665600u,
	                                16172922978634559625u,
	                                8476171486693032832u,
	                                10595114339597558777u,
	                                2904607092377533576u};
	struct otd_rng r = {{1, 2, 3, 4}};
	for(size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_uint_eq(otd_rng_next(&r), want[i]);
	/* Seeding runs splitmix64 from the seed: seed 0 gives its known
	 * first outputs as the state. */
	otd_rng_seed(&r, 0);
	ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafu);
	ck_assert_uint_eq(r.s[1], 0x6e789e6aa1b965f4u);
	ck_assert_uint_eq(r.s[2], 0x06c45d188009454fu);
}
END_TEST

START_TEST(same_seed_same_stream_other_seed_other_stream)
{
	struct otd_rng a, b, c;
	otd_rng_seed(&a, 7);
	otd_rng_seed(&b, 7);
	otd_rng_seed(&c, 8);
	/* (Counted, not asserted, in the loops: each check assertion costs a
	 * write to the parent in fork mode.) */
	int same_as_b = 0, same_as_c = 0;
	for(int i = 0; i < 10000; i++) {
		uint64_t x = otd_rng_next(&a);
		same_as_b += x == otd_rng_next(&b);
		same_as_c += x == otd_rng_next(&c);
	}
	ck_assert_int_eq(same_as_b, 10000);
	ck_assert_int_eq(same_as_c, 0);
}
END_TEST

START_TEST(derive_separates_streams)
{
	/* Different labels, different seeds; each label and the seed count. */
	uint64_t base = otd_rng_derive(7, 1, 0);
	ck_assert_uint_ne(base, otd_rng_derive(7, 2, 0));
	ck_assert_uint_ne(base, otd_rng_derive(7, 1, 1));
	ck_assert_uint_ne(base, otd_rng_derive(8, 1, 0));
	ck_assert_uint_ne(otd_rng_derive(7, 1, 2), otd_rng_derive(7, 2, 1));
	ck_assert_uint_eq(base, otd_rng_derive(7, 1, 0));

	/* 1000 streams for consecutive object ids start at 1000 different
	 * places. */
	enum { N = 1000 };
	static uint64_t first[N];
	int clashes = 0;
	for(uint64_t k = 0; k < N; k++) {
		struct otd_rng r;
		otd_rng_seed(&r, otd_rng_derive(7, 3, k));
		first[k] = otd_rng_next(&r);
		for(uint64_t j = 0; j < k; j++)
			clashes += first[j] == first[k];
	}
	ck_assert_int_eq(clashes, 0);

	/* Streams for neighbouring labels do not move together: the
	 * correlation of 100k uniforms is near 0 (standard error 0.003). */
	struct otd_rng x, y;
	otd_rng_seed(&x, otd_rng_derive(7, 4, 1));
	otd_rng_seed(&y, otd_rng_derive(7, 4, 2));
	double sxy = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
	const int n = 100000;
	for(int i = 0; i < n; i++) {
		double u = otd_rng_uniform(&x), v = otd_rng_uniform(&y);
		sx += u;
		sy += v;
		sxy += u * v;
		sxx += u * u;
		syy += v * v;
	}
	double cov = sxy / n - (sx / n) * (sy / n);
	double corr = cov / sqrt((sxx / n - (sx / n) * (sx / n)) * (syy / n - (sy / n) * (sy / n)));
	ck_assert_msg(fabs(corr) < 0.015, "correlation %f", corr);
}
END_TEST

START_TEST(uniform_lies_in_zero_one)
{
	struct otd_rng r;
	otd_rng_seed(&r, 11);
	double lo = 1, hi = 0, sum = 0;
	const int n = 1000000;
	int outside = 0;
	for(int i = 0; i < n; i++) {
		double u = otd_rng_uniform(&r);
		outside += !(u >= 0.0 && u < 1.0);
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		sum += u;
	}
	ck_assert_int_eq(outside, 0);
	ck_assert(lo < 1e-4 && hi > 1 - 1e-4);
	ck_assert_msg(fabs(sum / n - 0.5) < 0.002, "mean %f", sum / n); /* se 0.0003 */
}
END_TEST

START_TEST(range_stays_in_bounds_and_is_uniform)
{
	struct otd_rng r;
	otd_rng_seed(&r, 12);
	enum { K = 10 };
	int counts[K] = {0}, outside = 0;
	const int n = 100000;
	for(int i = 0; i < n; i++) {
		int64_t v = otd_rng_range(&r, -3, 6);
		if(v >= -3 && v <= 6)
			counts[v + 3]++;
		else
			outside++;
	}
	ck_assert_int_eq(outside, 0);
	/* Chi-square with 9 degrees of freedom: 27.9 is its 0.999 point. */
	double chi = 0, e = (double)n / K;
	for(int k = 0; k < K; k++)
		chi += (counts[k] - e) * (counts[k] - e) / e;
	ck_assert_msg(chi < 27.9, "chi-square %f", chi);

	ck_assert_int_eq(otd_rng_range(&r, 5, 5), 5);
	ck_assert_int_eq(otd_rng_range(&r, INT64_MAX, INT64_MAX), INT64_MAX);
	(void)otd_rng_range(&r, INT64_MIN, INT64_MAX); /* the whole range */
	for(int i = 0; i < 1000; i++) {
		int64_t v = otd_rng_range(&r, INT64_MAX - 2, INT64_MAX);
		ck_assert(v >= INT64_MAX - 2);
		v = otd_rng_range(&r, INT64_MIN, INT64_MIN + 1);
		ck_assert(v <= INT64_MIN + 1);
	}

	/* No modulo bias: over a span of 3 x 2^62 values a plain x % span
	 * would land in the lowest 2^62 half the time, not a third. */
	int low = 0;
	const int m = 30000;
	const uint64_t quarter = UINT64_C(1) << 62;
	const int64_t top = (int64_t)((uint64_t)INT64_MIN + 3 * quarter - 1);
	for(int i = 0; i < m; i++) {
		int64_t v = otd_rng_range(&r, INT64_MIN, top);
		outside += v > top;
		low += (uint64_t)v - (uint64_t)INT64_MIN < quarter;
	}
	ck_assert_int_eq(outside, 0);
	ck_assert_msg(fabs((double)low / m - 1.0 / 3.0) < 0.012, "low share %f",
	              (double)low / m); /* se 0.0027 */
}
END_TEST

START_TEST(normal_has_mean_zero_and_sd_one)
{
	struct otd_rng r;
	otd_rng_seed(&r, 13);
	enum { N = 100000 };
	static double v[N];
	int inside = 0, infinite = 0;
	for(int i = 0; i < N; i++) {
		v[i] = otd_rng_normal(&r);
		infinite += !isfinite(v[i]);
		inside += fabs(v[i]) < 1.959964;
	}
	ck_assert_int_eq(infinite, 0);
	double m, sd;
	mean_sd(v, N, &m, &sd);
	ck_assert_msg(fabs(m) < 0.015, "mean %f", m);     /* se 0.0032 */
	ck_assert_msg(fabs(sd - 1) < 0.012, "sd %f", sd); /* se 0.0022 */
	ck_assert_msg(fabs((double)inside / N - 0.95) < 0.004, "within 1.96: %f",
	              (double)inside / N); /* se 0.0007 */
	/* Two values per call, whatever they were. */
	struct otd_rng a;
	otd_rng_seed(&a, 14);
	for(int i = 0; i < 5; i++)
		otd_rng_normal(&a);
	assert_took(&a, 14, 10);
}
END_TEST

START_TEST(lognormal_has_median_one)
{
	struct otd_rng r;
	otd_rng_seed(&r, 15);
	enum { N = 20001 };
	static double v[N];
	int not_positive = 0;
	for(int i = 0; i < N; i++) {
		v[i] = otd_rng_lognormal(&r, 0.5);
		not_positive += !(v[i] > 0);
	}
	ck_assert_int_eq(not_positive, 0);
	/* The median's standard error is about 1.25 x 0.5 / sqrt(N) = 0.0044. */
	double med = median_of(v, N);
	ck_assert_msg(fabs(med - 1) < 0.02, "median %f", med);
	for(int i = 0; i < N; i++)
		v[i] = log(v[i]);
	double m, sd;
	mean_sd(v, N, &m, &sd);
	ck_assert_msg(fabs(sd - 0.5) < 0.015, "log sd %f", sd);

	/* sigma 0 is exactly 1 and still takes its two values. */
	struct otd_rng a;
	otd_rng_seed(&a, 16);
	for(int i = 0; i < 3; i++)
		ck_assert(otd_rng_lognormal(&a, 0.0) == 1.0);
	assert_took(&a, 16, 6);
}
END_TEST

/* ---- reality --------------------------------------------------------------- */

START_TEST(duration_median_and_spread_follow_the_reality)
{
	struct otd_reality re;
	otd_reality_default(&re);
	re.duration_factor = 1.10;
	re.duration_spread = 0.35;
	re.overrun_share = 0;
	ck_assert_ptr_null(otd_reality_check(&re));
	struct otd_rng g;
	otd_rng_seed(&g, 21);
	enum { N = 20000 };
	static double v[N];
	for(int i = 0; i < N; i++)
		v[i] = otd_reality_duration_s(&re, 3600, &g);
	/* The median's standard error is 1.25 x 0.35 / sqrt(N) = 0.3%. */
	double med = median_of(v, N);
	ck_assert_msg(fabs(med / (3600 * 1.10) - 1) < 0.03, "median %f", med);
	for(int i = 0; i < N; i++)
		v[i] = log(v[i]);
	double m, sd;
	mean_sd(v, N, &m, &sd);
	ck_assert_msg(fabs(sd / 0.35 - 1) < 0.05, "log sd %f", sd); /* se 0.5% */

	/* Without spread the duration is exactly the scaled median. */
	re.duration_spread = 0;
	ck_assert(fabs(otd_reality_duration_s(&re, 3600, &g) - 3960) < 1e-9);
	/* Never under a minute. */
	re.duration_spread = 2.0;
	for(int i = 0; i < 1000; i++)
		ck_assert(otd_reality_duration_s(&re, 30, &g) >= 60.0);
	ck_assert(otd_reality_duration_s(&re, 0, &g) >= 60.0);
}
END_TEST

START_TEST(overruns_come_as_often_and_as_long_as_set)
{
	struct otd_reality re;
	otd_reality_default(&re);
	re.overrun_share = 0.05;
	re.overrun_min_s = 30 * 60;
	re.overrun_max_s = 90 * 60;
	struct otd_rng g;
	otd_rng_seed(&g, 22);
	const int n = 20000;
	int overruns = 0;
	double lo = 1e9, hi = 0, sum = 0;
	for(int i = 0; i < n; i++) {
		double extra = otd_reality_duration_s(&re, 2400, &g) - 2400;
		ck_assert(extra > -1e-9);
		if(extra < 1e-9)
			continue;
		overruns++;
		ck_assert(extra >= 1800 && extra <= 5400);
		lo = extra < lo ? extra : lo;
		hi = extra > hi ? extra : hi;
		sum += extra;
	}
	double share = (double)overruns / n; /* se 0.0015 */
	ck_assert_msg(fabs(share - 0.05) < 0.006, "overrun share %f", share);
	ck_assert(lo < 1800 + 120 && hi > 5400 - 120);
	ck_assert_msg(fabs(sum / overruns - 3600) < 150, "mean overrun %f", sum / overruns);

	/* Every visit overruns at share 1; none at 0. */
	re.overrun_share = 1;
	for(int i = 0; i < 100; i++)
		ck_assert(otd_reality_duration_s(&re, 2400, &g) >= 2400 + 1800);
	re.overrun_share = 0;
	for(int i = 0; i < 100; i++)
		ck_assert(otd_reality_duration_s(&re, 2400, &g) == 2400);
}
END_TEST

START_TEST(travel_takes_factor_band_and_weather)
{
	struct otd_reality re;
	otd_reality_default(&re);
	re.travel_factor = 1.15;
	re.weather_factor = 1.5;
	re.traffic[0] = (struct otd_traffic_band){7 * 60 + 30, 9 * 60 + 30, 1.25};
	re.traffic[1] = (struct otd_traffic_band){16 * 60, 18 * 60, 1.4};
	re.traffic[2] = (struct otd_traffic_band){17 * 60, 19 * 60, 3.0}; /* overlaps: first wins */
	re.n_traffic = 3;
	ck_assert_ptr_null(otd_reality_check(&re));
	struct otd_rng g;
	otd_rng_seed(&g, 23);
	const double base = 600 * 1.15 * 1.5;
	static const struct {
		int minute;
		double band;
	} cases[] = {
	    {0, 1.0},    {449, 1.0},  {450, 1.25}, {569, 1.25}, {570, 1.0},
	    {959, 1.0},  {960, 1.4},  {1050, 1.4}, {1079, 1.4}, {1080, 3.0},
	    {1139, 3.0}, {1140, 1.0}, {1439, 1.0}, {-5, 1.0},   {2000, 1.0},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double t = otd_reality_travel_s(&re, 600, cases[i].minute, &g);
		ck_assert_msg(fabs(t - base * cases[i].band) < 1e-9, "minute %d: %f",
		              cases[i].minute, t);
	}
	/* No journey, no time; a short one takes at least a second. */
	ck_assert(otd_reality_travel_s(&re, 0, 480, &g) == 0.0);
	ck_assert(otd_reality_travel_s(&re, -3, 480, &g) == 0.0);
	ck_assert(otd_reality_travel_s(&re, 0.01, 480, &g) == 1.0);

	/* The spread: median the scaled mean, log sd travel_spread. */
	re.travel_spread = 0.25;
	re.n_traffic = 0;
	re.weather_factor = 1;
	enum { N = 20000 };
	static double v[N];
	for(int i = 0; i < N; i++)
		v[i] = otd_reality_travel_s(&re, 900, 600, &g);
	double med = median_of(v, N);
	ck_assert_msg(fabs(med / (900 * 1.15) - 1) < 0.02, "median %f", med);
	for(int i = 0; i < N; i++)
		v[i] = log(v[i]);
	double m, sd;
	mean_sd(v, N, &m, &sd);
	ck_assert_msg(fabs(sd / 0.25 - 1) < 0.05, "log sd %f", sd);
}
END_TEST

START_TEST(taps_are_late_or_forgotten_as_often_as_set)
{
	struct otd_reality re;
	otd_reality_default(&re);
	re.late_tap_share = 0.1;
	re.late_tap_max_s = 600;
	re.forgotten_tap_share = 0.03;
	struct otd_rng g;
	otd_rng_seed(&g, 24);
	const int n = 20000;
	int late = 0, forgotten = 0;
	for(int i = 0; i < n; i++) {
		int d = otd_reality_tap_delay_s(&re, &g);
		ck_assert(d >= 0 && d <= 600);
		late += d > 0;
		forgotten += otd_reality_tap_forgotten(&re, &g);
	}
	ck_assert_msg(fabs((double)late / n - 0.1) < 0.009, "late %d", late); /* se 0.002 */
	ck_assert_msg(fabs((double)forgotten / n - 0.03) < 0.005, "forgot %d",
	              forgotten); /* 0.0012 */

	/* Every delay from 1 to the maximum comes up. */
	re.late_tap_share = 1;
	re.late_tap_max_s = 3;
	int seen[4] = {0};
	for(int i = 0; i < 3000; i++) {
		int d = otd_reality_tap_delay_s(&re, &g);
		ck_assert(d >= 1 && d <= 3);
		seen[d]++;
	}
	ck_assert(seen[1] > 800 && seen[2] > 800 && seen[3] > 800);
	re.late_tap_max_s = 0;
	ck_assert_int_eq(otd_reality_tap_delay_s(&re, &g), 0);
	/* The default: every tap on time and none forgotten. */
	otd_reality_default(&re);
	for(int i = 0; i < 1000; i++) {
		ck_assert_int_eq(otd_reality_tap_delay_s(&re, &g), 0);
		ck_assert(!otd_reality_tap_forgotten(&re, &g));
	}
}
END_TEST

START_TEST(draw_counts_do_not_depend_on_outcomes)
{
	/* Two generators with the same seed, each call made with realities
	 * that give different outcomes: they stay in step, and each call
	 * takes the documented number of values. */
	struct otd_reality calm, wild;
	otd_reality_default(&calm);
	otd_reality_default(&wild);
	wild.duration_spread = 0.8;
	wild.overrun_share = 1;
	wild.travel_spread = 0.5;
	wild.late_tap_share = 1;
	wild.forgotten_tap_share = 1;
	wild.traffic[0] = (struct otd_traffic_band){0, 1440, 2.0};
	wild.n_traffic = 1;
	struct otd_rng a, b;
	otd_rng_seed(&a, 31);
	otd_rng_seed(&b, 31);
	int taken = 0;
	for(int i = 0; i < 200; i++) {
		otd_reality_duration_s(&calm, 1800, &a);
		otd_reality_duration_s(&wild, i % 3 ? 1800 : 0, &b);
		taken += 4;
		otd_reality_travel_s(&calm, i % 2 ? 0 : 600, 480, &a);
		otd_reality_travel_s(&wild, 600, 480, &b);
		taken += 2;
		otd_reality_tap_delay_s(&calm, &a);
		otd_reality_tap_delay_s(&wild, &b);
		taken += 2;
		ck_assert(!otd_reality_tap_forgotten(&calm, &a));
		ck_assert(otd_reality_tap_forgotten(&wild, &b));
		taken += 1;
		ck_assert_int_eq(memcmp(a.s, b.s, sizeof(a.s)), 0);
	}
	assert_took(&a, 31, taken);
	assert_took(&b, 31, taken);
}
END_TEST

START_TEST(check_names_the_first_bad_member)
{
	struct otd_reality good;
	otd_reality_default(&good);
	ck_assert_ptr_null(otd_reality_check(&good));
	good.traffic[0] = (struct otd_traffic_band){0, 1440, 0.5};
	good.n_traffic = 1;
	good.overrun_min_s = good.overrun_max_s = 0;
	good.duration_spread = good.travel_spread = 2;
	good.overrun_share = good.late_tap_share = good.forgotten_tap_share = 1;
	good.late_tap_max_s = 0;
	ck_assert_ptr_null(otd_reality_check(&good));

	struct otd_reality r;
#define BAD(expr, name)                                                                            \
	do {                                                                                       \
		r = good;                                                                          \
		expr;                                                                              \
		const char *got = otd_reality_check(&r);                                           \
		ck_assert_msg(got &&strcmp(got, name) == 0, "%s: got %s", #expr,                   \
		              got ? got : "NULL");                                                 \
	} while(0)
	BAD(r.duration_factor = 0, "duration_factor");
	BAD(r.duration_factor = -1, "duration_factor");
	BAD(r.duration_factor = NAN, "duration_factor");
	BAD(r.duration_factor = INFINITY, "duration_factor");
	BAD(r.duration_spread = -0.01, "duration_spread");
	BAD(r.duration_spread = 2.01, "duration_spread");
	BAD(r.duration_spread = NAN, "duration_spread");
	BAD(r.overrun_share = 1.01, "overrun_share");
	BAD(r.overrun_share = -0.01, "overrun_share");
	BAD(r.overrun_min_s = -1, "overrun_min_s");
	BAD((r.overrun_min_s = 600, r.overrun_max_s = 599), "overrun_max_s");
	BAD(r.overrun_max_s = 86401, "overrun_max_s");
	BAD(r.travel_factor = 0, "travel_factor");
	BAD(r.travel_spread = 3, "travel_spread");
	BAD(r.weather_factor = 0, "weather_factor");
	BAD(r.weather_factor = NAN, "weather_factor");
	BAD(r.n_traffic = OTD_REALITY_TRAFFIC_MAX + 1, "n_traffic");
	BAD(r.traffic[0].from_minute = -1, "traffic[0].from_minute");
	BAD(r.traffic[0].from_minute = 1440, "traffic[0].from_minute");
	BAD(r.traffic[0].to_minute = 1441, "traffic[0].to_minute");
	BAD((r.traffic[0].from_minute = 600, r.traffic[0].to_minute = 600), "traffic[0].to_minute");
	BAD(r.traffic[0].factor = 0, "traffic[0].factor");
	BAD((r.n_traffic = 3, r.traffic[1] = r.traffic[0], r.traffic[2] = r.traffic[0],
	     r.traffic[2].factor = -2),
	    "traffic[2].factor");
	BAD(r.late_tap_share = 2, "late_tap_share");
	BAD(r.late_tap_max_s = -1, "late_tap_max_s");
	BAD(r.forgotten_tap_share = -1, "forgotten_tap_share");
	/* Two bad members: the first in declaration order is named. */
	BAD((r.travel_factor = 0, r.duration_spread = -1), "duration_spread");
#undef BAD
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reality");
	TCase *tr = tcase_create("rng");
	tcase_set_timeout(tr, 60);
	tcase_add_test(tr, xoshiro_and_splitmix_match_the_reference_outputs);
	tcase_add_test(tr, same_seed_same_stream_other_seed_other_stream);
	tcase_add_test(tr, derive_separates_streams);
	tcase_add_test(tr, uniform_lies_in_zero_one);
	tcase_add_test(tr, range_stays_in_bounds_and_is_uniform);
	tcase_add_test(tr, normal_has_mean_zero_and_sd_one);
	tcase_add_test(tr, lognormal_has_median_one);
	suite_add_tcase(s, tr);
	TCase *tm = tcase_create("reality");
	tcase_set_timeout(tm, 60);
	tcase_add_test(tm, duration_median_and_spread_follow_the_reality);
	tcase_add_test(tm, overruns_come_as_often_and_as_long_as_set);
	tcase_add_test(tm, travel_takes_factor_band_and_weather);
	tcase_add_test(tm, taps_are_late_or_forgotten_as_often_as_set);
	tcase_add_test(tm, draw_counts_do_not_depend_on_outcomes);
	tcase_add_test(tm, check_names_the_first_bad_member);
	suite_add_tcase(s, tm);
	return testutil_run(s);
}
