/* Unit tests: the trust figures' arithmetic (core/trust.c): percentages
 * rounded down (100 only when all were kept), medians rounded down,
 * notice in whole minutes rounded down (negative after the window
 * opened), and promises kept by window width (sorted, summed, capped). */
#include <stdint.h>
#include <string.h>

#include "onthedot/trust.h"
#include "testutil.h"

START_TEST(percent_rounds_down)
{
	ck_assert_int_eq(otd_trust_percent(0, 0), -1);
	ck_assert_int_eq(otd_trust_percent(5, 0), -1);
	ck_assert_int_eq(otd_trust_percent(0, 7), 0);
	ck_assert_int_eq(otd_trust_percent(1, 3), 33);
	ck_assert_int_eq(otd_trust_percent(2, 3), 66);
	ck_assert_int_eq(otd_trust_percent(999, 1000), 99);
	ck_assert_int_eq(otd_trust_percent(1000, 1000), 100);
	ck_assert_int_eq(otd_trust_percent(1, 1000), 0);
	ck_assert_int_eq(otd_trust_percent(12, 10), 100); /* clamped */
	ck_assert_int_eq(otd_trust_percent(-3, 10), 0);
	ck_assert_int_eq(otd_trust_percent(INT64_C(1) << 50, INT64_C(1) << 51), 50);
}
END_TEST

START_TEST(median)
{
	int64_t out = 12345;
	ck_assert(!otd_trust_median(NULL, 0, &out));
	ck_assert_int_eq(out, 12345);
	int64_t one[] = {42};
	ck_assert(otd_trust_median(one, 1, &out));
	ck_assert_int_eq(out, 42);
	int64_t odd[] = {90, -5, 30, 10, 600};
	ck_assert(otd_trust_median(odd, 5, &out));
	ck_assert_int_eq(out, 30);
	ck_assert_int_eq(odd[0], -5); /* sorted in place */
	ck_assert_int_eq(odd[4], 600);
	int64_t even[] = {10, 20, 31, 40};
	ck_assert(otd_trust_median(even, 4, &out));
	ck_assert_int_eq(out, 25); /* (20 + 31) / 2 = 25.5, rounded down */
	int64_t neg[] = {-3, -2};
	ck_assert(otd_trust_median(neg, 2, &out));
	ck_assert_int_eq(out, -3); /* -2.5 rounded towards minus infinity */
	int64_t odds[] = {-3, 5};
	ck_assert(otd_trust_median(odds, 2, &out));
	ck_assert_int_eq(out, 1);
	int64_t both_odd_neg[] = {-3, -5};
	ck_assert(otd_trust_median(both_odd_neg, 2, &out));
	ck_assert_int_eq(out, -4);
	int64_t big[] = {INT64_MAX, INT64_MAX - 2};
	ck_assert(otd_trust_median(big, 2, &out));
	ck_assert(out == INT64_MAX - 1); /* no overflow */
}
END_TEST

START_TEST(notice_minutes)
{
	int64_t ws = 1772528400; /* 2026-03-03 09:00Z */
	ck_assert_int_eq(otd_trust_notice_minutes(ws, ws), 0);
	ck_assert_int_eq(otd_trust_notice_minutes(ws, ws - 59), 0);
	ck_assert_int_eq(otd_trust_notice_minutes(ws, ws - 60), 1);
	ck_assert_int_eq(otd_trust_notice_minutes(ws, ws - 3 * 3600 - 30), 180);
	ck_assert_int_eq(otd_trust_notice_minutes(ws, ws + 1), -1);
	ck_assert_int_eq(otd_trust_notice_minutes(ws, ws + 60), -1);
	ck_assert_int_eq(otd_trust_notice_minutes(ws, ws + 61), -2);
}
END_TEST

START_TEST(period_init)
{
	struct otd_trust_period p;
	memset(&p, 0x5a, sizeof(p));
	otd_trust_period_init(&p, 30, 1772528400);
	ck_assert_int_eq(p.days, 30);
	ck_assert_int_eq(p.to, 1772528400);
	ck_assert_int_eq(p.from, 1772528400 - 30 * 86400);
	ck_assert_int_eq(p.overall.due, 0);
	ck_assert_int_eq(p.overall.percent, -1);
	ck_assert_uint_eq(p.n_widths, 0);
	ck_assert(!p.widths_truncated && !p.has_median);
	ck_assert_int_eq(p.delays, 0);
	ck_assert_str_eq(p.currency, "");
}
END_TEST

START_TEST(kept_by_width)
{
	struct otd_trust_period p;
	otd_trust_period_init(&p, 90, 0);
	otd_trust_add_kept(&p, 120, 10, 9, 2);
	otd_trust_add_kept(&p, 60, 4, 4, 0);
	otd_trust_add_kept(&p, 240, 3, 1, 0);
	otd_trust_add_kept(&p, 120, 10, 8, 1); /* the same width again: summed */
	otd_trust_add_kept(&p, 0, 1, 0, 0);    /* no width: overall only */
	ck_assert_uint_eq(p.n_widths, 3);
	ck_assert_int_eq(p.widths[0].width_min, 60);
	ck_assert_int_eq(p.widths[1].width_min, 120);
	ck_assert_int_eq(p.widths[2].width_min, 240);
	ck_assert_int_eq(p.widths[1].due, 20);
	ck_assert_int_eq(p.widths[1].kept, 17);
	ck_assert_int_eq(p.widths[1].early, 3);
	ck_assert_int_eq(p.widths[1].percent, 85);
	ck_assert_int_eq(p.widths[0].percent, 100);
	ck_assert_int_eq(p.widths[2].percent, 33);
	ck_assert_int_eq(p.overall.width_min, 0);
	ck_assert_int_eq(p.overall.due, 28);
	ck_assert_int_eq(p.overall.kept, 22);
	ck_assert_int_eq(p.overall.early, 3);
	ck_assert_int_eq(p.overall.percent, 78); /* 78.57 */
	ck_assert(!p.widths_truncated);
	ck_assert_ptr_eq(otd_trust_width(&p, 120), &p.widths[1]);
	ck_assert_ptr_null(otd_trust_width(&p, 90));
	/* A width with nothing due is as good as none. */
	otd_trust_add_kept(&p, 90, 0, 0, 0);
	ck_assert_ptr_null(otd_trust_width(&p, 90));
	ck_assert_int_eq(p.widths[1].width_min, 90);
	ck_assert_int_eq(p.widths[1].percent, -1);
}
END_TEST

START_TEST(widths_beyond_the_list_count_overall)
{
	struct otd_trust_period p;
	otd_trust_period_init(&p, 30, 0);
	for(int w = 1; w <= OTD_TRUST_WIDTHS_MAX + 3; w++)
		otd_trust_add_kept(&p, 15 * w, 1, 1, 0);
	ck_assert_uint_eq(p.n_widths, OTD_TRUST_WIDTHS_MAX);
	ck_assert(p.widths_truncated);
	ck_assert_int_eq(p.widths[OTD_TRUST_WIDTHS_MAX - 1].width_min, 15 * OTD_TRUST_WIDTHS_MAX);
	ck_assert_int_eq(p.overall.due, OTD_TRUST_WIDTHS_MAX + 3);
	ck_assert_int_eq(p.overall.percent, 100);
	/* A width already listed still adds up. */
	otd_trust_add_kept(&p, 15, 1, 0, 0);
	ck_assert_int_eq(p.widths[0].due, 2);
	ck_assert_int_eq(p.widths[0].percent, 50);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trust");
	TCase *tc = tcase_create("trust");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, percent_rounds_down);
	tcase_add_test(tc, median);
	tcase_add_test(tc, notice_minutes);
	tcase_add_test(tc, period_init);
	tcase_add_test(tc, kept_by_width);
	tcase_add_test(tc, widths_beyond_the_list_count_overall);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
