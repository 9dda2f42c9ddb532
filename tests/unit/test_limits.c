/* Unit tests: the keyed limiter (app/limits.c): keys are independent, a
 * full table prunes idle keys and keeps working, and when every key is
 * busy it fails open rather than growing. */
#include <pthread.h>
#include <stdio.h>

#include "app/limits.h"
#include "testutil.h"

#define T0 5000000

START_TEST(keys_are_independent)
{
	struct otd_limiter *l = limiter_new(60, 2, 100); /* one a second, burst 2 */
	int retry = 0;
	ck_assert(limiter_take(l, "192.0.2.1", T0, &retry));
	ck_assert(limiter_take(l, "192.0.2.1", T0, &retry));
	ck_assert(!limiter_take(l, "192.0.2.1", T0, &retry));
	ck_assert_int_eq(retry, 1);
	/* Another key has its own bucket. */
	ck_assert(limiter_take(l, "192.0.2.2", T0, &retry));
	ck_assert(limiter_take(l, "192.0.2.2", T0, &retry));
	ck_assert(!limiter_take(l, "192.0.2.2", T0, &retry));
	/* Keys are compared whole: a prefix or a longer key is another key. */
	ck_assert(limiter_take(l, "192.0.2.", T0, &retry));
	ck_assert(limiter_take(l, "192.0.2.10", T0, &retry));
	ck_assert(limiter_take(l, "", T0, &retry));
	/* A second later the first key has one token again, and one only. */
	ck_assert(limiter_take(l, "192.0.2.1", T0 + 1000, &retry));
	ck_assert(!limiter_take(l, "192.0.2.1", T0 + 1000, &retry));
	limiter_free(l);
	limiter_free(NULL);
}
END_TEST

START_TEST(rate_is_per_minute)
{
	struct otd_limiter *l = limiter_new(5, 1, 16); /* one every 12 s */
	int retry = 0;
	ck_assert(limiter_take(l, "ann", T0, &retry));
	ck_assert(!limiter_take(l, "ann", T0, &retry));
	ck_assert_int_eq(retry, 12);
	ck_assert(limiter_take(l, "ann", T0 + 12000, &retry));
	ck_assert(!limiter_take(l, "ann", T0 + 12000, &retry));
	/* The same on another key, a millisecond early. */
	ck_assert(limiter_take(l, "bob", T0, &retry));
	ck_assert(!limiter_take(l, "bob", T0 + 11999, &retry));
	ck_assert_int_eq(retry, 1);
	limiter_free(l);
}
END_TEST

START_TEST(a_full_table_prunes_idle_keys_and_keeps_limiting)
{
	/* 16 keys at most (the smallest table). */
	struct otd_limiter *l = limiter_new(60, 2, 16);
	char key[32];
	/* 15 keys take one token each; "hot" takes both of its. */
	for(int i = 0; i < 15; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ck_assert(limiter_take(l, key, T0, NULL));
	}
	ck_assert(limiter_take(l, "hot", T0, NULL));
	ck_assert(limiter_take(l, "hot", T0, NULL));
	ck_assert(!limiter_take(l, "hot", T0, NULL));
	/* A second later the 15 are full again (idle); "hot" has one token. A
	 * new key makes the table prune: the idle ones go, "hot" stays. */
	ck_assert(limiter_take(l, "new", T0 + 1000, NULL));
	ck_assert(limiter_take(l, "new", T0 + 1000, NULL));
	ck_assert(!limiter_take(l, "new", T0 + 1000, NULL)); /* tracked, so limited */
	ck_assert(limiter_take(l, "hot", T0 + 1000, NULL));
	ck_assert(!limiter_take(l, "hot", T0 + 1000, NULL)); /* kept its state */
	/* The freed room takes new keys, each limited. */
	for(int i = 0; i < 14; i++) {
		snprintf(key, sizeof(key), "m%d", i);
		ck_assert(limiter_take(l, key, T0 + 1000, NULL));
		ck_assert(limiter_take(l, key, T0 + 1000, NULL));
		ck_assert_msg(!limiter_take(l, key, T0 + 1000, NULL), "%s not limited", key);
	}
	limiter_free(l);
}
END_TEST

START_TEST(fails_open_when_every_key_is_busy)
{
	struct otd_limiter *l = limiter_new(60, 1, 16);
	char key[32];
	for(int i = 0; i < 16; i++) {
		snprintf(key, sizeof(key), "busy%d", i);
		ck_assert(limiter_take(l, key, T0, NULL));
		ck_assert(!limiter_take(l, key, T0, NULL));
	}
	/* No room and nothing idle: a new key is let through every time
	 * rather than tracked. */
	for(int i = 0; i < 10; i++)
		ck_assert(limiter_take(l, "stranger", T0, NULL));
	/* The tracked keys are still limited. */
	ck_assert(!limiter_take(l, "busy3", T0, NULL));
	/* Once they are idle the stranger is tracked and limited. */
	ck_assert(limiter_take(l, "stranger", T0 + 1000, NULL));
	ck_assert(!limiter_take(l, "stranger", T0 + 1000, NULL));
	limiter_free(l);
}
END_TEST

START_TEST(many_keys_with_a_large_table)
{
	struct otd_limiter *l = limiter_new(1, 3, 5000);
	char key[32];
	for(int round = 0; round < 3; round++)
		for(int i = 0; i < 5000; i++) {
			snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
			ck_assert(limiter_take(l, key, T0, NULL));
		}
	for(int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "10.0.%d.%d", i / 256, i % 256);
		ck_assert_msg(!limiter_take(l, key, T0, NULL), "%s", key);
	}
	limiter_free(l);
}
END_TEST

struct hammer {
	struct otd_limiter *l;
	int allowed;
};

static void *hammer_main(void *p)
{
	struct hammer *h = p;
	for(int i = 0; i < 2000; i++)
		if(limiter_take(h->l, "shared", T0, NULL))
			h->allowed++;
	return NULL;
}

START_TEST(threads_share_one_bucket_exactly)
{
	struct otd_limiter *l = limiter_new(1, 100, 16);
	pthread_t t[8];
	struct hammer h[8];
	for(int i = 0; i < 8; i++) {
		h[i] = (struct hammer){l, 0};
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	}
	int total = 0;
	for(int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += h[i].allowed;
	}
	ck_assert_int_eq(total, 100);
	limiter_free(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("limits");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, keys_are_independent);
	tcase_add_test(tc, rate_is_per_minute);
	tcase_add_test(tc, a_full_table_prunes_idle_keys_and_keeps_limiting);
	tcase_add_test(tc, fails_open_when_every_key_is_busy);
	tcase_add_test(tc, many_keys_with_a_large_table);
	tcase_add_test(tc, threads_share_one_bucket_exactly);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
