/* Unit tests: risk states with hysteresis (core/risk.c). */
#include <string.h>

#include "onthedot/risk.h"
#include "testutil.h"

static struct otd_risk_thresholds t;

static void setup(void)
{
	otd_risk_thresholds_default(&t);
}

START_TEST(entering_happens_at_the_thresholds)
{
	ck_assert_int_eq(otd_risk_next(OTD_RISK_OK, 0.0, false, false, &t), OTD_RISK_OK);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_OK, 0.1999, false, false, &t), OTD_RISK_OK);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_OK, 0.2, false, false, &t), OTD_RISK_WATCH);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_OK, 0.4999, false, false, &t), OTD_RISK_WATCH);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_OK, 0.5, false, false, &t), OTD_RISK_AT_RISK);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_WATCH, 0.5, false, false, &t), OTD_RISK_AT_RISK);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_WATCH, 1.0, false, false, &t), OTD_RISK_AT_RISK);
}
END_TEST

START_TEST(leaving_needs_the_lower_exit_threshold)
{
	/* at_risk holds down to 0.35, then drops to the level p still holds. */
	ck_assert_int_eq(otd_risk_next(OTD_RISK_AT_RISK, 0.35, false, false, &t), OTD_RISK_AT_RISK);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_AT_RISK, 0.3499, false, false, &t), OTD_RISK_WATCH);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_AT_RISK, 0.15, false, false, &t), OTD_RISK_WATCH);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_AT_RISK, 0.0999, false, false, &t), OTD_RISK_OK);
	/* watch holds down to 0.1. */
	ck_assert_int_eq(otd_risk_next(OTD_RISK_WATCH, 0.1, false, false, &t), OTD_RISK_WATCH);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_WATCH, 0.0999, false, false, &t), OTD_RISK_OK);
}
END_TEST

START_TEST(a_probability_hovering_at_a_threshold_does_not_flap)
{
	enum otd_risk r = OTD_RISK_OK;
	int changes = 0;
	for(int i = 0; i < 200; i++) {
		double p = 0.5 + ((i % 2) ? 0.04 : -0.04); /* 0.46 .. 0.54 */
		enum otd_risk next = otd_risk_next(r, p, false, false, &t);
		changes += next != r;
		r = next;
	}
	ck_assert_int_eq(changes, 2); /* ok -> watch (0.46), watch -> at_risk (0.54), then none */
	ck_assert_int_eq(r, OTD_RISK_AT_RISK);
}
END_TEST

START_TEST(forced_and_broken)
{
	ck_assert_int_eq(otd_risk_next(OTD_RISK_OK, 0.0, true, false, &t), OTD_RISK_AT_RISK);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_AT_RISK, 0.0, true, false, &t), OTD_RISK_AT_RISK);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_OK, 0.0, false, true, &t), OTD_RISK_BROKEN);
	ck_assert_int_eq(otd_risk_next(OTD_RISK_AT_RISK, 0.0, true, true, &t), OTD_RISK_BROKEN);
	/* broken is final. */
	ck_assert_int_eq(otd_risk_next(OTD_RISK_BROKEN, 0.0, false, false, &t), OTD_RISK_BROKEN);
}
END_TEST

START_TEST(names_and_validation)
{
	enum otd_risk r;
	const char *all[] = {"ok", "watch", "at_risk", "broken"};
	for(int i = 0; i < 4; i++) {
		ck_assert(otd_risk_parse(all[i], &r));
		ck_assert_int_eq(r, i);
		ck_assert_str_eq(otd_risk_name(r), all[i]);
	}
	ck_assert(!otd_risk_parse("late", &r));
	ck_assert(otd_risk_thresholds_valid(&t));
	struct otd_risk_thresholds bad = t;
	bad.watch_exit = 0.3; /* above its enter */
	ck_assert(!otd_risk_thresholds_valid(&bad));
	bad = t;
	bad.watch_enter = 0.6; /* above at_risk's */
	ck_assert(!otd_risk_thresholds_valid(&bad));
	bad = t;
	bad.at_risk_enter = 1.5;
	ck_assert(!otd_risk_thresholds_valid(&bad));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("risk");
	TCase *tc = tcase_create("hysteresis");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, entering_happens_at_the_thresholds);
	tcase_add_test(tc, leaving_needs_the_lower_exit_threshold);
	tcase_add_test(tc, a_probability_hovering_at_a_threshold_does_not_flap);
	tcase_add_test(tc, forced_and_broken);
	tcase_add_test(tc, names_and_validation);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
