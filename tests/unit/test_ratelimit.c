/* Unit tests: token buckets (core/ratelimit.c), driven by given times. */
#include "onthedot/ratelimit.h"
#include "testutil.h"

#define T0 1000000 /* any time but 0, which means "never used" */

START_TEST(a_new_bucket_allows_a_full_burst_then_refuses)
{
	struct otd_bucket b = {0};
	int retry = -1;
	for(int i = 0; i < 3; i++)
		ck_assert_msg(otd_bucket_take(&b, 1.0, 3, T0, &retry), "take %d", i);
	ck_assert_int_eq(retry, -1); /* untouched while allowed */
	ck_assert(!otd_bucket_take(&b, 1.0, 3, T0, &retry));
	ck_assert_int_eq(retry, 1);
	/* Refusals take nothing and can be repeated. */
	ck_assert(!otd_bucket_take(&b, 1.0, 3, T0, &retry));
	ck_assert_int_eq(retry, 1);
	/* retry_after may be NULL. */
	ck_assert(!otd_bucket_take(&b, 1.0, 3, T0, NULL));
}
END_TEST

START_TEST(refill_follows_the_rate_to_the_millisecond)
{
	struct otd_bucket b = {0};
	int retry = 0;
	/* 0.25 tokens a second: one token every 4 s. */
	ck_assert(otd_bucket_take(&b, 0.25, 1, T0, &retry));
	ck_assert(!otd_bucket_take(&b, 0.25, 1, T0, &retry));
	ck_assert_int_eq(retry, 4);
	/* Half a token after 2 s: still refused, 2 s to go. */
	ck_assert(!otd_bucket_take(&b, 0.25, 1, T0 + 2000, &retry));
	ck_assert_int_eq(retry, 2);
	/* The refusal kept the half token: at 3999 ms not yet, at 4000 ms yes. */
	struct otd_bucket early = b;
	ck_assert(!otd_bucket_take(&early, 0.25, 1, T0 + 3999, &retry));
	ck_assert_int_eq(retry, 1);
	ck_assert(otd_bucket_take(&b, 0.25, 1, T0 + 4000, &retry));
	ck_assert(!otd_bucket_take(&b, 0.25, 1, T0 + 4000, &retry));
	ck_assert_int_eq(retry, 4);
}
END_TEST

START_TEST(refill_stops_at_the_burst)
{
	struct otd_bucket b = {0};
	for(int i = 0; i < 3; i++)
		ck_assert(otd_bucket_take(&b, 1.0, 3, T0, NULL));
	/* An hour later there are 3 tokens, not 3600. */
	int64_t later = T0 + 3600 * 1000;
	for(int i = 0; i < 3; i++)
		ck_assert(otd_bucket_take(&b, 1.0, 3, later, NULL));
	ck_assert(!otd_bucket_take(&b, 1.0, 3, later, NULL));
}
END_TEST

START_TEST(retry_after_rounds_up_to_whole_seconds)
{
	struct otd_bucket b = {0};
	int retry = 0;
	/* 10 a minute: a token every 6 s. */
	double rate = 10.0 / 60.0;
	ck_assert(otd_bucket_take(&b, rate, 2, T0, &retry));
	ck_assert(otd_bucket_take(&b, rate, 2, T0, &retry));
	ck_assert(!otd_bucket_take(&b, rate, 2, T0, &retry));
	ck_assert_int_eq(retry, 6);
	/* 100 ms later: 5.9 s to go, said as 6. */
	ck_assert(!otd_bucket_take(&b, rate, 2, T0 + 100, &retry));
	ck_assert_int_eq(retry, 6);
	/* A very slow rate: one a minute. */
	struct otd_bucket slow = {0};
	ck_assert(otd_bucket_take(&slow, 1.0 / 60.0, 1, T0, &retry));
	ck_assert(!otd_bucket_take(&slow, 1.0 / 60.0, 1, T0, &retry));
	ck_assert_int_eq(retry, 60);
}
END_TEST

START_TEST(a_clock_going_backwards_refills_nothing)
{
	struct otd_bucket b = {0};
	int retry = 0;
	ck_assert(otd_bucket_take(&b, 1.0, 1, T0 + 10000, &retry));
	/* The clock steps back 5 s: no tokens appear from the negative gap. */
	ck_assert(!otd_bucket_take(&b, 1.0, 1, T0 + 5000, &retry));
	ck_assert_int_eq(retry, 1);
	ck_assert(!otd_bucket_take(&b, 1.0, 1, T0 + 5000, &retry));
	/* From there time counts forward again as usual. */
	ck_assert(!otd_bucket_take(&b, 1.0, 1, T0 + 5999, &retry));
	ck_assert(otd_bucket_take(&b, 1.0, 1, T0 + 6999, &retry));
	ck_assert(!otd_bucket_take(&b, 1.0, 1, T0 + 6999, &retry));
}
END_TEST

START_TEST(idle_means_full)
{
	struct otd_bucket b = {0};
	ck_assert(otd_bucket_idle(&b, 1.0, 2, T0)); /* never used */
	ck_assert(otd_bucket_take(&b, 1.0, 2, T0, NULL));
	ck_assert(!otd_bucket_idle(&b, 1.0, 2, T0));
	ck_assert(!otd_bucket_idle(&b, 1.0, 2, T0 + 999));
	ck_assert(otd_bucket_idle(&b, 1.0, 2, T0 + 1000));
	/* Backwards is not idle either. */
	ck_assert(!otd_bucket_idle(&b, 1.0, 2, T0 - 5000));
	/* idle only looks: the bucket is unchanged. */
	ck_assert(otd_bucket_take(&b, 1.0, 2, T0 + 1000, NULL));
	ck_assert(otd_bucket_take(&b, 1.0, 2, T0 + 1000, NULL));
	ck_assert(!otd_bucket_take(&b, 1.0, 2, T0 + 1000, NULL));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("bucket");
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, a_new_bucket_allows_a_full_burst_then_refuses);
	tcase_add_test(tc, refill_follows_the_rate_to_the_millisecond);
	tcase_add_test(tc, refill_stops_at_the_burst);
	tcase_add_test(tc, retry_after_rounds_up_to_whole_seconds);
	tcase_add_test(tc, a_clock_going_backwards_refills_nothing);
	tcase_add_test(tc, idle_means_full);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
