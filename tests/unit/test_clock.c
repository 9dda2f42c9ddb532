/* Unit tests: real and virtual clocks (app/clock.c). */
#include <pthread.h>
#include <time.h>

#include "onthedot/clock.h"
#include "testutil.h"

START_TEST(virtual_clock_stands_still_until_moved)
{
	struct otd_clock *c = otd_clock_new_virtual(1772442000); /* 2026-03-02T09:00:00Z */
	ck_assert(otd_clock_is_virtual(c));
	ck_assert_int_eq(otd_clock_now(c), 1772442000);
	ck_assert_int_eq(otd_clock_now_ms(c), 1772442000000LL);
	ck_assert_int_eq(otd_clock_now(c), 1772442000);
	ck_assert(otd_clock_advance(c, 60));
	ck_assert_int_eq(otd_clock_now(c), 1772442060);
	ck_assert_int_eq(otd_clock_now_ms(c), 1772442060000LL);
	ck_assert(otd_clock_advance(c, 0));
	ck_assert_int_eq(otd_clock_now(c), 1772442060);
	otd_clock_free(c);
}
END_TEST

START_TEST(virtual_clock_never_goes_backwards)
{
	struct otd_clock *c = otd_clock_new_virtual(1000);
	ck_assert(!otd_clock_advance(c, -1));
	ck_assert_int_eq(otd_clock_now(c), 1000);
	ck_assert(otd_clock_set(c, 5000));
	ck_assert_int_eq(otd_clock_now(c), 5000);
	ck_assert(!otd_clock_set(c, 4999));
	ck_assert_int_eq(otd_clock_now(c), 5000);
	ck_assert(otd_clock_set(c, 5000)); /* standing still is allowed */
	ck_assert_int_eq(otd_clock_now(c), 5000);
	ck_assert(!otd_clock_set(c, 0));
	ck_assert_int_eq(otd_clock_now(c), 5000);
	otd_clock_free(c);
}
END_TEST

START_TEST(real_clock_is_sane_and_cannot_be_moved)
{
	struct otd_clock *c = otd_clock_new_real();
	ck_assert(!otd_clock_is_virtual(c));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = otd_clock_now(c);
	ck_assert_int_ge(now, (int64_t)ts.tv_sec);
	ck_assert_int_le(now, (int64_t)ts.tv_sec + 2);
	ck_assert_int_gt(now, 1767225600); /* after 2026-01-01 */
	int64_t ms = otd_clock_now_ms(c);
	ck_assert_int_ge(ms / 1000, now);
	ck_assert_int_le(ms / 1000, now + 2);
	ck_assert(!otd_clock_advance(c, 10));
	ck_assert(!otd_clock_set(c, now + 3600));
	ck_assert_int_le(otd_clock_now(c), now + 2);
	otd_clock_free(c);
}
END_TEST

static void *advance_many(void *p)
{
	for(int i = 0; i < 10000; i++)
		otd_clock_advance(p, 1);
	return NULL;
}

static void *set_forward(void *p)
{
	for(int64_t t = 0; t < 10000; t++)
		otd_clock_set(p, t);
	return NULL;
}

START_TEST(moves_from_many_threads_are_not_lost)
{
	struct otd_clock *c = otd_clock_new_virtual(0);
	pthread_t t[4];
	for(int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, advance_many, c), 0);
	for(int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(otd_clock_now(c), 40000);
	/* Setters racing forward never pull the clock back. */
	for(int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, set_forward, c), 0);
	for(int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(otd_clock_now(c), 40000);
	otd_clock_free(c);
	c = otd_clock_new_virtual(0);
	for(int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, set_forward, c), 0);
	for(int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(otd_clock_now(c), 9999);
	otd_clock_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, virtual_clock_stands_still_until_moved);
	tcase_add_test(tc, virtual_clock_never_goes_backwards);
	tcase_add_test(tc, real_clock_is_sane_and_cannot_be_moved);
	tcase_add_test(tc, moves_from_many_threads_are_not_lost);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
